// The split scan of a large active segment (segment_scan.h, ScanOptions::env): whatever the
// bytes, a scan whose second half runs on another thread (or before, or after, the first
// half) returns what one walk returns: outcome, row, ends, reasons and every indexed frame.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/random.h"

#include "tests/segment/segment_test_util.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::AddFrame;
using ::ironwal::testing::OpenRead;
using ::ironwal::testing::WriteFileAtomicallyOrFail;

// When the function given to StartThread runs.
enum class When {
  kThread,   // on a thread of its own, concurrently with the first half
  kAtStart,  // at once, on the caller, before the first half
  kAtJoin,   // at Join, on the caller, after the first half
};

// A thread that runs its function at Join (When::kAtJoin), or has run it already.
class CallerThread final : public Env::Thread {
 public:
  explicit CallerThread(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~CallerThread() override { Join(); }
  void Join() override {
    if (fn_) std::exchange(fn_, nullptr)();
  }

 private:
  std::function<void()> fn_;
};

// MemEnv with a StartThread that runs work as `when` says, counting the threads started.
class ThreadingEnv final : public EnvWrapper {
 public:
  ThreadingEnv(Env* target, When when) : EnvWrapper(target), when_(when) {}

  std::unique_ptr<Thread> StartThread(std::function<void()> fn) override {
    ++started_;
    switch (when_) {
      case When::kThread:
        return Env::Default()->StartThread(std::move(fn));  // a std::thread
      case When::kAtStart:
        fn();
        return std::make_unique<CallerThread>(nullptr);
      case When::kAtJoin:
        return std::make_unique<CallerThread>(std::move(fn));
    }
    return nullptr;
  }
  int started() const { return started_; }

 private:
  const When when_;
  int started_ = 0;
};

constexpr When kAllWhens[] = {When::kThread, When::kAtStart, When::kAtJoin};

const char* WhenName(When when) {
  switch (when) {
    case When::kThread:
      return "thread";
    case When::kAtStart:
      return "at start";
    case When::kAtJoin:
      return "at join";
  }
  return "?";
}

// Frames of one entry each, of 0 to `max_payload` random bytes, from ID `start` until the
// segment holds at least `bytes` bytes. Returns the frames' offsets.
std::vector<uint64_t> AddRandomFrames(Random* rng, uint64_t start, uint64_t bytes,
                                      uint64_t max_payload, std::string* segment) {
  std::vector<uint64_t> offsets;
  for (uint64_t id = start; segment->size() < bytes; ++id) {
    const std::string payload = rng->Bytes(rng->Uniform(max_payload + 1));
    offsets.push_back(AddFrame(segment, id, {payload}));
  }
  return offsets;
}

struct ScanResult {
  SegmentScan scan;
  std::vector<FrameLocation> frames;
};

// Everything a scan returns, and its split point apart (compared only where asked).
void ExpectSameScan(const ScanResult& want, const ScanResult& got, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.scan.outcome, want.scan.outcome);
  EXPECT_EQ(got.scan.row, want.scan.row);
  EXPECT_EQ(got.scan.reason, want.scan.reason);
  EXPECT_EQ(got.scan.file_size, want.scan.file_size);
  EXPECT_EQ(got.scan.valid_end, want.scan.valid_end);
  EXPECT_EQ(got.scan.end_id, want.scan.end_id);
  EXPECT_EQ(got.scan.next_valid_offset, want.scan.next_valid_offset);
  EXPECT_EQ(got.scan.proven_frontier, want.scan.proven_frontier);
  EXPECT_EQ(got.scan.proving_frame_offset, want.scan.proving_frame_offset);
  EXPECT_EQ(got.scan.proving_frame_frontier, want.scan.proving_frame_frontier);
  ASSERT_EQ(got.frames.size(), want.frames.size());
  for (size_t i = 0; i < want.frames.size(); ++i) {
    ASSERT_EQ(got.frames[i].start_id, want.frames[i].start_id) << "frame " << i;
    ASSERT_EQ(got.frames[i].offset, want.frames[i].offset) << "frame " << i;
    ASSERT_EQ(got.frames[i].size, want.frames[i].size) << "frame " << i;
  }
}

class SegmentScanSplitTest : public ::testing::Test {
 protected:
  static constexpr char kPath[] = "/s/00000000000000000100.wal";

  void SetUp() override { ASSERT_TRUE(mem_.CreateDir("/s").ok()); }

  // Scans kPath (holding `bytes`, written first when not empty) as the active segment
  // starting at ID 100, splitting with `env` (nullptr: one walk).
  ScanResult Scan(Env* env, ScanOptions options = {}, bool mmap = false) {
    options.env = env;
    OffsetIndex index(100);
    auto file = OpenRead(&mem_, kPath, mmap);
    ScanResult result;
    absl::StatusOr<SegmentScan> scan = ScanActiveSegment(*file, 100, options, &index);
    EXPECT_TRUE(scan.ok()) << scan.status();
    if (scan.ok()) result.scan = *scan;
    index.ForEachFrame([&](const FrameLocation& frame) { result.frames.push_back(frame); });
    return result;
  }

  void Write(const std::string& bytes) { WriteFileAtomicallyOrFail(&mem_, kPath, bytes); }

  MemEnv mem_;
};

TEST_F(SegmentScanSplitTest, ACleanSegmentIsVerifiedInTwoHalvesWithTheSameResult) {
  Random rng(1);
  std::string segment;
  const std::vector<uint64_t> offsets =
      AddRandomFrames(&rng, 100, kSplitScanMinBytes + (1 << 20), 3000, &segment);
  Write(segment);
  const ScanResult one_walk = Scan(nullptr);
  ASSERT_EQ(one_walk.scan.outcome, ScanOutcome::kClean);
  ASSERT_EQ(one_walk.frames.size(), offsets.size());
  EXPECT_EQ(one_walk.scan.split_at, 0u);
  for (When when : kAllWhens) {
    for (bool mmap : {false, true}) {
      ThreadingEnv env(&mem_, when);
      const ScanResult split = Scan(&env, {}, mmap);
      const std::string what = absl::StrCat(WhenName(when), mmap ? ", mmap" : ", pread");
      ExpectSameScan(one_walk, split, what);
      EXPECT_EQ(env.started(), 1) << what;
      // The second walker began at the first frame past the middle, and its frames were
      // taken.
      const uint64_t middle = segment.size() / 2;
      const auto first_past = std::lower_bound(offsets.begin(), offsets.end(), middle);
      ASSERT_NE(first_past, offsets.end());
      EXPECT_EQ(split.scan.split_at, *first_past) << what;
    }
  }
}

TEST_F(SegmentScanSplitTest, ASmallSegmentIsOneWalk) {
  Random rng(2);
  std::string segment;
  AddRandomFrames(&rng, 100, kSplitScanMinBytes - (64 << 10), 3000, &segment);
  Write(segment);
  ThreadingEnv env(&mem_, When::kThread);
  const ScanResult scan = Scan(&env);
  EXPECT_EQ(scan.scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(env.started(), 0);
  EXPECT_EQ(scan.scan.split_at, 0u);
}

TEST_F(SegmentScanSplitTest, AnEnvThatRunsNothingConcurrentlyGivesOneWalk) {
  Random rng(3);
  std::string segment;
  AddRandomFrames(&rng, 100, kSplitScanMinBytes + (1 << 20), 3000, &segment);
  Write(segment);
  const ScanResult scan = Scan(&mem_);  // MemEnv::StartThread returns nullptr
  EXPECT_EQ(scan.scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.scan.split_at, 0u);
  EXPECT_EQ(scan.scan.valid_end, segment.size());
}

// A frame's bytes inside a payload, just past the middle, are where the second walker
// starts; the first walk passes over them inside the big frame, so the second walker's
// work is dropped and the first walk verifies the rest.
TEST_F(SegmentScanSplitTest, AFrameInsideAPayloadAtTheMiddleIsNotTakenForABoundary) {
  Random rng(4);
  std::string segment;
  AddRandomFrames(&rng, 100, 2 << 20, 500, &segment);
  Write(segment);
  const uint64_t next_id = Scan(nullptr).scan.end_id;
  // A frame of 5 MiB whose payload holds valid frames from its first MiB on (as a log of
  // logs stores them), each starting at the big frame's own ID (so where the first walk
  // stops, before the big frame, the IDs would continue): the segment's middle falls
  // among them.
  constexpr uint64_t kBigPayload = 5 << 20;
  std::string payload = rng.Bytes(1 << 20);
  while (payload.size() < kBigPayload) AddFrame(&payload, next_id, {rng.Bytes(100)});
  payload.resize(kBigPayload);
  AddFrame(&segment, next_id, {payload});
  AddRandomFrames(&rng, next_id + 1, segment.size() + 4096, 500, &segment);
  Write(segment);
  const ScanResult one_walk = Scan(nullptr);
  ASSERT_EQ(one_walk.scan.outcome, ScanOutcome::kClean);
  ASSERT_EQ(one_walk.scan.valid_end, segment.size());
  for (When when : kAllWhens) {
    ThreadingEnv env(&mem_, when);
    const ScanResult split = Scan(&env);
    ExpectSameScan(one_walk, split, WhenName(when));
    EXPECT_EQ(env.started(), 1) << WhenName(when);
    EXPECT_EQ(split.scan.split_at, 0u) << WhenName(when) << ": the inner frames were taken";
  }
}

// A gap in the IDs at the first frame past the middle (row F there, judged G): the first walk ends
// exactly where the second began, but the IDs do not continue, so the second walker's
// frames are not taken; the scan cuts at the gap as one walk does.
TEST_F(SegmentScanSplitTest, AGapInTheIdsAtTheMiddleIsJudgedAsByOneWalk) {
  Random rng(6);
  std::string segment;
  const std::vector<uint64_t> offsets =
      AddRandomFrames(&rng, 100, kSplitScanMinBytes + (1 << 20), 3000, &segment);
  const uint64_t middle = segment.size() / 2;
  const size_t gap = static_cast<size_t>(std::lower_bound(offsets.begin(), offsets.end(), middle) -
                                         offsets.begin());
  ASSERT_LT(gap, offsets.size());
  // The frames from `gap` on again, with IDs one higher.
  std::string rewritten = segment.substr(0, offsets[gap]);
  AddRandomFrames(&rng, 100 + gap + 1, segment.size(), 3000, &rewritten);
  Write(rewritten);
  const ScanResult one_walk = Scan(nullptr);
  // Row F with valid frames after and no known frontier: row G.
  ASSERT_EQ(one_walk.scan.row, 'G');
  ASSERT_EQ(one_walk.scan.valid_end, offsets[gap]);
  for (When when : kAllWhens) {
    ThreadingEnv env(&mem_, when);
    const ScanResult split = Scan(&env);
    ExpectSameScan(one_walk, split, WhenName(when));
    EXPECT_EQ(env.started(), 1) << WhenName(when);
    EXPECT_EQ(split.scan.split_at, 0u) << WhenName(when);
  }
}

// A read error in the search for the second walker's start, or in the second walker's
// own walk, leaves the scan to one walk: the same result, with nothing split.
TEST(SegmentScanSplitReadErrorTest, AFailedReadOfEitherSearchOrSecondWalkIsOneWalk) {
  Random rng(7);
  std::string segment;
  AddRandomFrames(&rng, 100, kSplitScanMinBytes + (1 << 20), 3000, &segment);
  const std::string path = "/00000000000000000100.wal";
  // The reads of a split scan, the second half run at once (When::kAtStart): 1 the
  // search window past the middle, 2 the candidate frame read again, 3 the second
  // walker's first read.
  struct Case {
    uint64_t nth;
    int threads;
  };
  for (const Case& c : {Case{1, 0}, Case{2, 0}, Case{3, 1}}) {
    SCOPED_TRACE(absl::StrCat("read ", c.nth, " fails"));
    SimEnv sim;
    WriteFileAtomicallyOrFail(&sim, path, segment);
    auto file = OpenRead(&sim, path);
    OffsetIndex one_walk_index(100);
    ASSERT_OK_AND_ASSIGN(const SegmentScan one_walk,
                         ScanActiveSegment(*file, 100, ScanOptions(), &one_walk_index));
    ASSERT_EQ(one_walk.valid_end, segment.size());
    FaultRule rule;
    rule.op = SimOp::kRead;
    rule.fault = SimFault::kIoError;
    rule.path_pattern = path;
    rule.nth = c.nth;
    const int fault = sim.AddFaultRule(rule);
    ThreadingEnv env(&sim, When::kAtStart);
    ScanOptions options;
    options.env = &env;
    OffsetIndex index(100);
    ASSERT_OK_AND_ASSIGN(const SegmentScan split, ScanActiveSegment(*file, 100, options, &index));
    EXPECT_EQ(sim.FaultFires(fault), 1u);
    EXPECT_EQ(env.started(), c.threads);
    EXPECT_EQ(split.split_at, 0u);
    EXPECT_EQ(split.outcome, ScanOutcome::kClean);
    EXPECT_EQ(split.valid_end, one_walk.valid_end);
    EXPECT_EQ(split.end_id, one_walk.end_id);
    EXPECT_EQ(index.frame_count(), one_walk_index.frame_count());
  }
}

// Seeded damage anywhere (a flipped byte, a cut, zeros or junk to the end), with and
// without a known durable frontier: the split scan returns what one walk returns.
TEST_F(SegmentScanSplitTest, DamageAnywhereGivesWhatOneWalkGives) {
  constexpr int kSeeds = 24;
  int split_taken = 0;
  int split_dropped = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    Random rng(1000 + static_cast<uint64_t>(seed));
    std::string segment;
    const std::vector<uint64_t> offsets =
        AddRandomFrames(&rng, 100, kSplitScanMinBytes + rng.Uniform(2 << 20), 2000, &segment);
    const uint64_t at = rng.Uniform(segment.size());
    std::string kind;
    switch (rng.Uniform(4)) {
      case 0:
        kind = "flip";
        segment[at] = static_cast<char>(segment[at] ^ (1 << rng.Uniform(8)));
        break;
      case 1:
        kind = "cut";
        segment.resize(at);
        break;
      case 2:
        kind = "zeros";
        std::fill(segment.begin() + static_cast<std::ptrdiff_t>(at), segment.end(), '\0');
        break;
      default:
        kind = "junk";
        segment.replace(at, segment.size() - at, rng.Bytes(segment.size() - at));
        break;
    }
    Write(segment);
    ScanOptions options;
    if (rng.Uniform(2) == 1) {
      options.durable_offset_known = true;
      options.durable_offset = rng.Uniform(segment.size() + 1);
    }
    const ScanResult one_walk = Scan(nullptr, options);
    for (When when : kAllWhens) {
      ThreadingEnv env(&mem_, when);
      const ScanResult split = Scan(&env, options);
      ExpectSameScan(
          one_walk, split,
          absl::StrCat(kind, " at byte ", at, " of ", segment.size(), ", ", WhenName(when),
                       ", frontier ",
                       options.durable_offset_known ? absl::StrCat(options.durable_offset)
                                                    : std::string("unknown")));
      if (split.scan.split_at > 0) {
        ++split_taken;
        // Taken only when the damage is past where the second walker began.
        EXPECT_GT(one_walk.scan.valid_end, split.scan.split_at);
      } else if (env.started() > 0) {
        ++split_dropped;
      }
    }
  }
  // Both ways were exercised (damage before and after the middle).
  EXPECT_GT(split_taken, 0);
  EXPECT_GT(split_dropped, 0);
}

// The two halves' stamps are tallied as one walk's: a segment written for another stream
// (row L) is found when the first half's frames carry no stamp and the second half's do.
TEST_F(SegmentScanSplitTest, StampsOfBothHalvesAreTalliedTogether) {
  std::string segment;
  uint64_t id = 100;
  Random rng(5);
  while (segment.size() < kSplitScanMinBytes) {
    AddFrame(&segment, id++, {rng.Bytes(1000)});
  }
  // Stamped for the stream tagged 0x5a: not this directory's stream.
  while (segment.size() < 2 * kSplitScanMinBytes) {
    ironwal::internal::FrameStamp stamp;
    stamp.frontier_distance = 0;
    stamp.stream_tag = 0x5a;
    const std::string e = rng.Bytes(1000);
    ASSERT_TRUE(AppendFrame(id++, {e}, FrameEncodeOptions(), stamp, &segment).ok());
  }
  Write(segment);
  ScanOptions options;
  options.stream_tag = 0x11;
  const ScanResult one_walk = Scan(nullptr, options);
  ASSERT_EQ(one_walk.scan.row, 'L');
  for (When when : kAllWhens) {
    ThreadingEnv env(&mem_, when);
    ExpectSameScan(one_walk, Scan(&env, options), WhenName(when));
  }
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
