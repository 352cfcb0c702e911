// The frame stamp (ironwal/format/frame.h) through the whole Wal, on SimEnv:
//  - issue 8 section 2: after a crash that left durable.pos behind, damage to a frame that
//    had been acknowledged durable (kStrict, a synced batch, anything before a returned
//    Sync()) is corruption (row K), not a torn tail; a torn tail in unsynced data stays
//    one;
//  - issue 8 section 7: a segment file swapped in from another stream written by this
//    library is refused (row L), active or sealed.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {

namespace format = internal::format;
using internal::DecodeDurablePos;
using internal::DurablePos;
using internal::EncodeDurablePos;

namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One entry "e<i>" padded to 20 bytes: every frame is 32 + 4 + 20 = 56 bytes.
constexpr uint64_t kFrame = 56;

std::string Entry(int i, const std::string& prefix = "e") {
  std::string e = prefix + std::to_string(i);
  e.resize(20, '.');
  return e;
}

struct SimEnvHolder {
  SimEnv sim_env_;
};

class WalFrameStampTest : public ::testing::Test,
                          protected SimEnvHolder,
                          public ::ironwal::testing::WalTestBase {
 public:
  WalFrameStampTest() : WalTestBase(&sim_env_) {}

 protected:
  void Fill(const std::string& stream, int from, int to, const std::string& prefix = "e") {
    for (int i = from; i < to; ++i) {
      ASSERT_THAT(wal_->Append(stream, Entry(i, prefix)), IsOkAndHolds(static_cast<uint64_t>(i)));
    }
  }
  // A power loss: what was not synced is gone. durable.pos moves only every 256 KiB, so
  // after a crash it is usually far behind what was acknowledged.
  void Crash() {
    CrashOptions crash;
    crash.mode = CrashMode::kDropUnsynced;
    sim_env_.Crash(crash);
    wal_.reset();
  }
  // The durable frontier as durable.pos says (segment start, offset).
  DurablePos Frontier(const std::string& stream) {
    absl::StatusOr<DurablePos> pos =
        DecodeDurablePos(ReadFile(JoinPath(StreamDir(stream), format::kDurablePosFileName)));
    EXPECT_TRUE(pos.ok()) << pos.status();
    return pos.ok() ? *pos : DurablePos();
  }
  void SwapFiles(const std::string& a, const std::string& b) {
    const std::string bytes_a = ReadFile(a);
    const std::string bytes_b = ReadFile(b);
    WriteFile(a, bytes_b);
    WriteFile(b, bytes_a);
  }
};

// The defect: 20 acknowledged kStrict entries, a crash, one flipped byte in frame 5. With
// durable.pos still at 0 the scan took it for a hole in unsynced data (row I), cut frames
// 5-19 and handed their IDs out again. Every frame after it proves that frame 5 was synced.
TEST_F(WalFrameStampTest, DamagedAcknowledgedStrictFrameAfterACrashIsCorruption) {
  ASSERT_OK(Open());
  Fill("s", 0, 20);
  Crash();
  ASSERT_EQ(Frontier("s").offset, 0u) << "the premise: durable.pos is stale";
  const std::string seg = SegmentPath("s", 0);
  FlipByte(seg, 5 * kFrame + 40);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr(absl::StrCat(seg, "@", 5 * kFrame)),
                                     HasSubstr("row K"), HasSubstr("synced"))));
  EXPECT_EQ(FileSize(seg), 20 * kFrame) << "nothing may change under kError";
  // Refused every time: no ID is handed out again.
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row K")));
}

// Every acknowledged frame, every field: with later frames behind it, damage is row K;
// only the last frame, which nothing after it vouches for, may still be cut as torn.
TEST_F(WalFrameStampTest, DamageToAnyAcknowledgedFrameWithFramesAfterItIsCorruption) {
  ASSERT_OK(Open());
  constexpr int kFrames = 8;
  Fill("s", 0, kFrames);
  Crash();
  const std::string seg = SegmentPath("s", 0);
  const std::string intact = ReadFile(seg);
  for (int j = 0; j < kFrames; ++j) {
    for (const uint64_t byte : {0, 4, 8, 16, 21, 36, 55}) {  // magic, crc, ids, count, size, data
      SCOPED_TRACE(absl::StrCat("frame ", j, " byte ", byte));
      WriteFile(seg, intact);
      FlipByte(seg, j * kFrame + byte);
      options_.on_corruption = CorruptionPolicy::kError;
      const absl::Status opened = Open();
      if (j + 1 < kFrames) {
        EXPECT_THAT(opened, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row K")));
        continue;
      }
      ASSERT_OK(opened);
      EXPECT_EQ(Report("s")->tail, ScanOutcome::kTorn);
      wal_.reset();
    }
  }
}

// The issue's worst case: a flip at byte 0 dropped the whole stream.
TEST_F(WalFrameStampTest, DamageAtByteZeroAfterACrashIsCorruption) {
  ASSERT_OK(Open());
  Fill("s", 0, 3);
  Crash();
  FlipByte(SegmentPath("s", 0), 0);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row K")));
}

// Under kTruncate the damaged frame and everything after it are kept in a quarantine file
// and reported as corruption.
TEST_F(WalFrameStampTest, DamagedAcknowledgedFrameIsQuarantinedUnderTruncate) {
  ASSERT_OK(Open());
  Fill("s", 0, 10);
  Crash();
  const std::string seg = SegmentPath("s", 0);
  std::string kept = ReadFile(seg).substr(4 * kFrame);
  kept[40] ^= 1;
  FlipByte(seg, 4 * kFrame + 40);
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK(Open());
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail, ScanOutcome::kCorrupt);
  EXPECT_EQ(report->tail_row, 'K');
  EXPECT_EQ(report->cut_offset, 4 * kFrame);
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), report->quarantine_file)), kept);
}

// kBatchOnly: a batch is synced, so the single appends after it prove it was.
TEST_F(WalFrameStampTest, DamagedSyncedBatchIsCorruption) {
  options_.sync_mode = SyncMode::kBatchOnly;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {Entry(0), Entry(1), Entry(2)}));
  Fill("s", 3, 6);
  ASSERT_OK(wal_->Sync());
  Crash();
  FlipByte(SegmentPath("s", 0), 40);  // inside the batch frame
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row K")));
}

// kAsync: what came before a returned Sync() was synced; damage after it, in data that
// was never synced when the frames behind it were written, is still a torn tail (row I).
TEST_F(WalFrameStampTest, SyncCallDecidesBetweenCorruptionAndTornTail) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  Fill("s", 0, 5);
  ASSERT_OK(wal_->Sync());
  Fill("s", 5, 10);
  ASSERT_OK(wal_->Sync());
  Crash();
  const std::string seg = SegmentPath("s", 0);
  const std::string intact = ReadFile(seg);
  ASSERT_EQ(intact.size(), 10 * kFrame);

  FlipByte(seg, 2 * kFrame + 40);  // before the first Sync(): frames 5-9 prove it
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row K")));

  WriteFile(seg, intact);
  FlipByte(seg, 6 * kFrame + 40);  // after it: frames 7-9 claim only the first five
  ASSERT_OK(Open());
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail, ScanOutcome::kTorn);
  EXPECT_EQ(report->tail_row, 'I');
  EXPECT_THAT(IterateAll("s", 0),
              ElementsAre(Entry(0), Entry(1), Entry(2), Entry(3), Entry(4), Entry(5)));
}

// A torn tail after a power loss stays a torn tail: frames written without a sync, whose
// pages reached the disk with a hole among them before durable.pos moved.
TEST_F(WalFrameStampTest, HoleInUnsyncedDataAfterPowerLossIsTorn) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  Fill("s", 0, 8);
  ASSERT_OK(wal_->Close());
  wal_.reset();
  DurablePos stale;
  WriteFile(JoinPath(StreamDir("s"), format::kDurablePosFileName), EncodeDurablePos(stale));
  const std::string seg = SegmentPath("s", 0);
  std::string contents = ReadFile(seg);
  std::fill(contents.begin() + kFrame, contents.begin() + 2 * kFrame, '\0');  // a hole
  WriteFile(seg, contents);
  ASSERT_OK(Open());
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail, ScanOutcome::kTorn);
  EXPECT_EQ(report->tail_row, 'I');
  EXPECT_THAT(wal_->Append("s", "next"), IsOkAndHolds(1u));
}

// Issue 8 section 7: two streams of this library, same layout, active segments swapped.
// Before the stamp each served the other's entries.
TEST_F(WalFrameStampTest, ActiveSegmentSwappedInFromAnotherStreamIsRefused) {
  ASSERT_OK(Open());
  Fill("a", 0, 5, "a");
  Fill("b", 0, 5, "b");
  ASSERT_OK(wal_->Close());
  wal_.reset();
  SwapFiles(SegmentPath("a", 0), SegmentPath("b", 0));
  for (CorruptionPolicy policy : {CorruptionPolicy::kError, CorruptionPolicy::kTruncate}) {
    options_.on_corruption = policy;
    EXPECT_THAT(Open(),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("belongs to another stream"), HasSubstr("row L"))));
  }
}

// The same for sealed segments: reads of the swapped segment are DataLoss, not the other
// stream's entries.
TEST_F(WalFrameStampTest, SealedSegmentSwappedInFromAnotherStreamIsDataLossOnRead) {
  options_.max_segment_size = 3 * kFrame;
  ASSERT_OK(Open());
  Fill("a", 0, 7, "a");
  Fill("b", 0, 7, "b");
  ASSERT_OK(wal_->Close());
  wal_.reset();
  ASSERT_THAT(SegmentStarts("a"), ElementsAre(0u, 3u, 6u));
  ASSERT_THAT(SegmentStarts("b"), ElementsAre(0u, 3u, 6u));
  SwapFiles(SegmentPath("a", 0), SegmentPath("b", 0));
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Get("a", 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("belongs to another stream")));
  EXPECT_THAT(wal_->Get("b", 0),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("belongs to another stream")));
  EXPECT_THAT(wal_->Get("a", 3), IsOkAndHolds(Entry(3, "a")));
}

}  // namespace
}  // namespace ironwal
