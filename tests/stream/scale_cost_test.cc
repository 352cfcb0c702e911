// The costs that must not grow with the number of streams or the size of a segment
// (issue 17): what an evicted writer's close and reopen cost, and what a reader-cache
// miss on a sealed segment reads. Counted as operations in SimEnv's trace, never timed.
// The durability these shortcuts must keep is checked by power cuts (kDropUnsynced).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

struct OpCounts {
  int syncs = 0;
  int dir_syncs = 0;
  int renames = 0;
  int opens_for_read = 0;
  int reads = 0;
  uint64_t bytes_read = 0;
};

OpCounts Count(const std::vector<TraceRecord>& trace) {
  OpCounts c;
  for (const TraceRecord& r : trace) {
    switch (r.op) {
      case SimOp::kSync:
        ++c.syncs;
        break;
      case SimOp::kSyncDir:
        ++c.dir_syncs;
        break;
      case SimOp::kRename:
        ++c.renames;
        break;
      case SimOp::kOpenRead:
        ++c.opens_for_read;
        break;
      case SimOp::kRead:
        ++c.reads;
        c.bytes_read += r.length;
        break;
      default:
        break;
    }
  }
  return c;
}

// Bytes written to segment files in `trace`.
uint64_t SegmentBytesWritten(const std::vector<TraceRecord>& trace) {
  uint64_t n = 0;
  for (const TraceRecord& r : trace) {
    const bool write = r.op == SimOp::kAppend || r.op == SimOp::kWriteAt;
    if (write && absl::EndsWith(r.path, ".wal")) n += r.length;
  }
  return n;
}

class ScaleCostTest : public ::testing::Test {
 protected:
  ScaleCostTest() {
    options_.env = &env_;
    options_.root = "/wal";
  }

  void Open() {
    wal_.reset();
    ASSERT_OK_AND_ASSIGN(wal_, Wal::Open(options_));
  }
  // kAsync with two open writers of 512-byte buffers: the evicted writers' buffers are
  // bounded together by kTinyLimit.
  static constexpr uint64_t kTinyLimit = 2 * 512;
  void OpenWithATinyAsyncBudget() {
    options_.sync_mode = SyncMode::kAsync;
    options_.max_open_segments = 2;
    options_.write_buffer_size = 512;
    Open();
  }
  // After `frames` frames of `frame` bytes each were appended, only the two open writers'
  // buffers (up to 512 bytes and a frame each) and kTinyLimit bytes of evicted ones may be
  // missing from the files.
  void ExpectAtMostTheBudgetUnwritten(uint64_t frames, uint64_t frame, int round) {
    const uint64_t written = SegmentBytesWritten(env_.Trace());
    EXPECT_GE(written + kTinyLimit + 2 * (512 + frame), frame * frames) << "round " << round;
  }

  // A power loss: what was not synced is gone.
  void CrashAndOpen() {
    env_.Crash(CrashOptions());
    wal_.reset();
    Open();
  }

  SimEnv env_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
};

// Two streams taking turns with room for one open writer: every append evicts the other
// stream's writer and reopens its own.
void AlternateAppends(Wal* wal, int rounds, int first_round) {
  for (int i = first_round; i < first_round + rounds; ++i) {
    for (const char* s : {"a", "b"}) {
      ASSERT_THAT(wal->Append(s, absl::StrCat(s, i)), IsOkAndHolds(static_cast<uint64_t>(i)));
    }
  }
}

class EvictionCostTest : public ScaleCostTest, public ::testing::WithParamInterface<SyncMode> {};

// Before issue 17 every eviction synced the file and rewrote durable.pos (two more syncs,
// a rename and a directory sync), and kAsync appends over more streams than
// max_open_segments ran at the speed of fsync.
TEST_P(EvictionCostTest, AnEvictionAndReopenSyncNothingUnpromisedAndReadNothing) {
  options_.sync_mode = GetParam();
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 1, 0);  // creates both streams
  env_.ClearTrace();
  constexpr int kRounds = 20;
  AlternateAppends(wal_.get(), kRounds, 1);
  const OpCounts c = Count(env_.Trace());
  // kStrict: one fdatasync per append and nothing else; kAsync: none at all.
  EXPECT_EQ(c.syncs, GetParam() == SyncMode::kStrict ? 2 * kRounds : 0);
  EXPECT_EQ(c.dir_syncs, 0);
  EXPECT_EQ(c.renames, 0);  // no durable.pos rewrite
  EXPECT_EQ(c.opens_for_read, 0);
  EXPECT_EQ(c.reads, 0);
}

// Close records the frontier an eviction left behind over synced bytes, so after kStrict
// the next open has no tail to make durable again (no sync, no durable.pos rewrite). Bytes
// an evicted kAsync writer left unsynced are synced by Close through another descriptor
// and verified (and claimed) by the next open.
TEST_P(EvictionCostTest, TheOpenAfterCloseFindsEverything) {
  options_.sync_mode = GetParam();
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 3, 0);
  ASSERT_OK(wal_->Close());
  wal_.reset();
  env_.ClearTrace();
  Open();
  const OpCounts c = Count(env_.Trace());
  if (GetParam() == SyncMode::kStrict) {
    EXPECT_EQ(c.syncs, 0);
    EXPECT_EQ(c.renames, 0);
  }
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) EXPECT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, EvictionCostTest,
                         ::testing::Values(SyncMode::kStrict, SyncMode::kAsync),
                         [](const ::testing::TestParamInfo<SyncMode>& info) {
                           return std::string(SyncModeName(info.param)) == "strict" ? "Strict"
                                                                                    : "Async";
                         });

// What an evicted writer left unsynced is made durable by Sync() ...
TEST_F(ScaleCostTest, SyncMakesAnEvictedWritersBytesDurable) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 3, 0);  // "a" was evicted last by "b"
  ASSERT_OK(wal_->Sync());
  CrashAndOpen();
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) EXPECT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
  }
}

// ... and by Close() ...
TEST_F(ScaleCostTest, CloseMakesAnEvictedWritersBytesDurable) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 3, 0);
  ASSERT_OK(wal_->Close());
  CrashAndOpen();
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) EXPECT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
  }
}

// ... and, in kBatchOnly, by the stream's next batch, with everything before it.
TEST_F(ScaleCostTest, ABatchMakesTheSingleAppendsBeforeItsEvictionDurable) {
  options_.sync_mode = SyncMode::kBatchOnly;
  options_.max_open_segments = 1;
  Open();
  ASSERT_THAT(wal_->Append("a", "single"), IsOkAndHolds(0u));
  ASSERT_THAT(wal_->Append("b", "evicts a"), IsOkAndHolds(0u));
  ASSERT_OK(wal_->AppendBatch("a", {"batch"}).status());
  CrashAndOpen();
  EXPECT_THAT(wal_->Get("a", 0), IsOkAndHolds("single"));
  EXPECT_THAT(wal_->Get("a", 1), IsOkAndHolds("batch"));
}

// Every file operation in `trace` (opens, writes, syncs, closes, truncations).
int FileOps(const std::vector<TraceRecord>& trace) {
  int n = 0;
  for (const TraceRecord& r : trace) {
    switch (r.op) {
      case SimOp::kOpenWritable:
      case SimOp::kAppend:
      case SimOp::kWriteAt:
      case SimOp::kSync:
      case SimOp::kTruncate:
      case SimOp::kClose:
        ++n;
        break;
      default:
        break;
    }
  }
  return n;
}

// kAsync: an evicted writer keeps its buffer in memory, without a descriptor, so appends
// to streams beyond max_open_segments make no system call at all (before, each one
// reopened its file and closed another: issue 17's W9 cliff).
TEST_F(ScaleCostTest, AsyncAppendsToEvictedStreamsTouchNoFile) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 1, 0);  // creates both streams; "a" is evicted
  env_.ClearTrace();
  constexpr int kRounds = 20;
  AlternateAppends(wal_.get(), kRounds, 1);
  EXPECT_EQ(FileOps(env_.Trace()), 0);
  // Read-your-writes: the buffered entries are readable (a read flushes them).
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i <= kRounds; ++i) {
      ASSERT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
    }
  }
  AlternateAppends(wal_.get(), 1, kRounds + 1);  // appends after the read go on
  ASSERT_OK(wal_->Sync());
  CrashAndOpen();
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i <= kRounds + 1; ++i) {
      ASSERT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
    }
  }
}

// The buffers of evicted writers are bounded together (max_open_segments times
// write_buffer_size): past that, the oldest are written, so what is still only in memory
// never exceeds the bound however many streams there are.
TEST_F(ScaleCostTest, EvictedBuffersAreBoundedTogether) {
  OpenWithATinyAsyncBudget();
  constexpr int kStreams = 40;
  constexpr int kRounds = 5;
  const std::string payload(50, 'p');
  // Every frame: a header and one entry (its length and 51 bytes).
  const uint64_t frame = format::kFrameHeaderSize + format::kEntryLengthSize + 51;
  for (int round = 0; round < kRounds; ++round) {
    for (int s = 0; s < kStreams; ++s) {
      const std::string key = absl::StrCat("s", s);
      ASSERT_THAT(wal_->Append(key, absl::StrCat(payload, round)),
                  IsOkAndHolds(static_cast<uint64_t>(round)));
    }
    ExpectAtMostTheBudgetUnwritten(kStreams * (round + 1), frame, round);
  }
  ASSERT_OK(wal_->Close());
  wal_.reset();
  Open();
  for (int s = 0; s < kStreams; ++s) {
    for (int round = 0; round < kRounds; ++round) {
      ASSERT_THAT(wal_->Get(absl::StrCat("s", s), round),
                  IsOkAndHolds(absl::StrCat(payload, round)));
    }
  }
}

// The same bound with four threads appending at once, each to streams of its own: a
// stream the budget names to one thread is flushed by it alone, while the others count
// its bytes as on their way out (WriterBudget::Released). Checked when the threads have
// finished each round, and every entry is read back after a reopen.
TEST_F(ScaleCostTest, EvictedBuffersAreBoundedTogetherUnderConcurrentAppends) {
  OpenWithATinyAsyncBudget();
  constexpr int kThreads = 4;
  constexpr int kStreamsEach = 20;
  constexpr int kRounds = 5;
  const std::string payload(50, 'p');
  const uint64_t frame = format::kFrameHeaderSize + format::kEntryLengthSize + 51;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<absl::Status> failed(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int s = 0; s < kStreamsEach && failed[t].ok(); ++s) {
          const absl::StatusOr<uint64_t> id =
              wal_->Append(absl::StrCat("t", t, "s", s), absl::StrCat(payload, round));
          if (!id.ok()) failed[t] = id.status();
          if (id.ok() && *id != static_cast<uint64_t>(round)) {
            failed[t] = absl::InternalError(absl::StrCat("round ", round, " got ID ", *id));
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const absl::Status& status : failed) ASSERT_OK(status);
    ExpectAtMostTheBudgetUnwritten(kThreads * kStreamsEach * (round + 1), frame, round);
  }
  ASSERT_OK(wal_->Close());
  wal_.reset();
  Open();
  for (int t = 0; t < kThreads; ++t) {
    for (int s = 0; s < kStreamsEach; ++s) {
      for (int round = 0; round < kRounds; ++round) {
        ASSERT_THAT(wal_->Get(absl::StrCat("t", t, "s", s), round),
                    IsOkAndHolds(absl::StrCat(payload, round)));
      }
    }
  }
}

// A full disk during an evicted writer's deferred write loses nothing: the frames stay
// buffered (and readable), the stream's next append tries again first and reports
// ResourceExhausted while the disk is full, and once there is space everything is written.
// Other streams are not affected.
TEST_F(ScaleCostTest, AFullDiskDuringADeferredWriteIsReportedAndLosesNothing) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 3, 0);  // "a" evicted with 3 buffered entries after "b" opened
  FaultRule full;
  full.op = SimOp::kAppend;
  full.fault = SimFault::kNoSpace;
  full.path_pattern = "/wal/a/*";
  env_.AddFaultRule(full);
  // A read of a buffered frame flushes it: the full disk is its error.
  EXPECT_TRUE(absl::IsResourceExhausted(wal_->Get("a", 2).status()));
  EXPECT_TRUE(absl::IsResourceExhausted(wal_->Append("a", "a3").status()));
  EXPECT_THAT(wal_->Append("b", "b3"), IsOkAndHolds(3u));  // other streams go on
  EXPECT_TRUE(absl::IsResourceExhausted(wal_->Sync()));
  env_.ClearFaultRules();
  EXPECT_THAT(wal_->Append("a", "a3"), IsOkAndHolds(3u));  // no ID was lost or skipped
  ASSERT_OK(wal_->Sync());
  CrashAndOpen();
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i < 4; ++i) EXPECT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
  }
}

// The budget names the oldest evicted buffer to be written; when that write finds the disk
// full, the stream is released (WriterBudget::Released) and named again by a later append
// past the limit, so once there is space its frames reach the file without the stream
// being touched. Other streams go on meanwhile.
TEST_F(ScaleCostTest, AnEvictedBufferWhoseWriteFoundTheDiskFullIsWrittenOnceThereIsSpace) {
  OpenWithATinyAsyncBudget();
  const std::string payload(50, 'p');
  const uint64_t frame = format::kFrameHeaderSize + format::kEntryLengthSize + payload.size();
  for (uint64_t i = 0; i < 3; ++i) ASSERT_THAT(wal_->Append("s0", payload), IsOkAndHolds(i));
  FaultRule full;
  full.op = SimOp::kAppend;
  full.fault = SimFault::kNoSpace;
  full.path_pattern = "/wal/s0/*";
  env_.AddFaultRule(full);
  constexpr int kStreams = 40;
  for (int s = 1; s < kStreams; ++s) {
    ASSERT_THAT(wal_->Append(absl::StrCat("s", s), payload), IsOkAndHolds(0u));
  }
  const std::string s0_segment = "/wal/s0/00000000000000000000.wal";
  ASSERT_OK_AND_ASSIGN(const uint64_t while_full, env_.GetFileSize(s0_segment));
  EXPECT_EQ(while_full, 0u);
  env_.ClearFaultRules();
  for (int s = 1; s < kStreams; ++s) {
    ASSERT_THAT(wal_->Append(absl::StrCat("s", s), payload), IsOkAndHolds(1u));
  }
  ASSERT_OK_AND_ASSIGN(const uint64_t with_space, env_.GetFileSize(s0_segment));
  EXPECT_EQ(with_space, 3 * frame);
  ASSERT_OK(wal_->Close());
  Open();
  for (uint64_t i = 0; i < 3; ++i) EXPECT_THAT(wal_->Get("s0", i), IsOkAndHolds(payload));
  for (int s = 1; s < kStreams; ++s) {
    EXPECT_THAT(wal_->Get(absl::StrCat("s", s), 1), IsOkAndHolds(payload));
  }
}

// Any other failure of a deferred write poisons that stream only, and its next call says so.
TEST_F(ScaleCostTest, AFailedDeferredWritePoisonsOnlyItsStream) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 3, 0);
  FaultRule eio;
  eio.op = SimOp::kAppend;
  eio.fault = SimFault::kIoError;
  eio.path_pattern = "/wal/a/*";
  env_.AddFaultRule(eio);
  EXPECT_FALSE(wal_->Flush().ok());
  env_.ClearFaultRules();
  const absl::Status next = wal_->Append("a", "a3").status();
  EXPECT_TRUE(absl::IsFailedPrecondition(next)) << next;
  EXPECT_THAT(std::string(next.message()), ::testing::HasSubstr("poisoned"));
  EXPECT_THAT(wal_->Append("b", "b3"), IsOkAndHolds(3u));
  ASSERT_OK(wal_->Sync("b"));
}

// After an open, a stream's names (root, stream directory) are synced before its first
// data sync, not at its first kAsync append, which promises no durability (before: two
// directory syncs for every stream the session wrote to).
TEST_F(ScaleCostTest, AsyncAppendsAfterAnOpenSyncNoDirectoryUntilSync) {
  options_.sync_mode = SyncMode::kAsync;
  Open();
  AlternateAppends(wal_.get(), 1, 0);
  ASSERT_OK(wal_->Close());
  Open();
  env_.ClearTrace();
  AlternateAppends(wal_.get(), 2, 1);
  OpCounts c = Count(env_.Trace());
  EXPECT_EQ(c.dir_syncs, 0);
  EXPECT_EQ(c.syncs, 0);
  env_.ClearTrace();
  ASSERT_OK(wal_->Sync());
  c = Count(env_.Trace());
  EXPECT_EQ(c.dir_syncs, 4);  // the root and its directory, for each stream
  EXPECT_EQ(c.syncs, 2);
  env_.ClearTrace();
  AlternateAppends(wal_.get(), 1, 3);
  ASSERT_OK(wal_->Sync());
  EXPECT_EQ(Count(env_.Trace()).dir_syncs, 0);  // once per session
  CrashAndOpen();
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i < 4; ++i) EXPECT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
  }
}

// Wal::Open of a root of streams that were closed cleanly costs a few operations per
// stream (issue 17: Open of 10,000 streams took seconds): the listing, its small files
// read once each (no stat for their sizes), and the active segment's scan.
TEST_F(ScaleCostTest, OpenCostsAFewOperationsPerStream) {
  options_.sync_mode = SyncMode::kAsync;
  Open();
  constexpr int kStreams = 20;
  for (int s = 0; s < kStreams; ++s) {
    ASSERT_THAT(wal_->Append(absl::StrCat("s", s), "x"), IsOkAndHolds(0u));
  }
  ASSERT_OK(wal_->Close());
  wal_.reset();
  env_.ClearTrace();
  Open();
  int stats = 0;
  const int all = static_cast<int>(env_.Trace().size());
  for (const TraceRecord& r : env_.Trace()) stats += r.op == SimOp::kGetFileSize ? 1 : 0;
  std::printf("open of %d streams: %d operations, %d stats\n", kStreams, all, stats);
  EXPECT_EQ(FileOps(env_.Trace()), 0);  // nothing written, synced or closed for writing
  EXPECT_LE(all, 18 * kStreams);        // 20 per stream before
  EXPECT_LE(stats, 9 * kStreams);       // 11 per stream before
}

// kAsync: a stream's first appends after an open make no system call (issue 17's W9: the
// first append to each stream after an open used to open its file and evict another
// stream's writer). The writer starts detached; what it buffers is durable after Sync
// and after Close, as any kAsync append's.
TEST_F(ScaleCostTest, AsyncFirstAppendsAfterAnOpenTouchNoFile) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 1, 0);
  ASSERT_OK(wal_->Close());
  Open();
  env_.ClearTrace();
  AlternateAppends(wal_.get(), 3, 1);
  EXPECT_EQ(FileOps(env_.Trace()), 0);
  for (const char* s : {"a", "b"}) EXPECT_THAT(wal_->Get(s, 3), IsOkAndHolds(absl::StrCat(s, 3)));
  ASSERT_OK(wal_->Sync("a"));
  AlternateAppends(wal_.get(), 1, 4);  // "a" after its Sync, "b" still never written
  ASSERT_OK(wal_->Close());
  Open();
  for (const char* s : {"a", "b"}) {
    for (int i = 0; i < 5; ++i) EXPECT_THAT(wal_->Get(s, i), IsOkAndHolds(absl::StrCat(s, i)));
  }
  // Close claimed what it synced: this open found a clean shutdown.
  EXPECT_TRUE(wal_->recovery_report().empty());
}

// A writer that starts detached takes a descriptor once its buffer fills, so a stream that
// keeps writing pays one open for the session, not one per buffer.
TEST_F(ScaleCostTest, AnAsyncWriterDetachedAtOpenKeepsItsFileOnceItsBufferFills) {
  options_.sync_mode = SyncMode::kAsync;
  options_.write_buffer_size = 256;
  Open();
  ASSERT_THAT(wal_->Append("s", "first"), IsOkAndHolds(0u));
  ASSERT_OK(wal_->Close());
  Open();
  env_.ClearTrace();
  constexpr int kAppends = 100;  // about 40 buffers of 256 bytes
  for (int i = 1; i <= kAppends; ++i) {
    ASSERT_THAT(wal_->Append("s", std::string(100, 'x')), IsOkAndHolds(static_cast<uint64_t>(i)));
  }
  int opens = 0;
  int appends = 0;
  for (const TraceRecord& r : env_.Trace()) {
    if (r.op == SimOp::kOpenWritable) ++opens;
    if (r.op == SimOp::kAppend) ++appends;
  }
  EXPECT_EQ(opens, 1);
  EXPECT_GE(appends, 30);
  ASSERT_OK(wal_->Sync());
  CrashAndOpen();
  EXPECT_THAT(wal_->Get("s", kAppends), IsOkAndHolds(std::string(100, 'x')));
}

// kStrict over evicted writers: each append costs its own fdatasync and the descriptor
// churn of one reopen and one close (the budget's eviction of another writer), nothing
// more.
TEST_F(ScaleCostTest, StrictAppendsToEvictedStreamsCostOneOpenAndOneClose) {
  options_.sync_mode = SyncMode::kStrict;
  options_.max_open_segments = 1;
  Open();
  AlternateAppends(wal_.get(), 1, 0);
  env_.ClearTrace();
  constexpr int kRounds = 10;
  AlternateAppends(wal_.get(), kRounds, 1);
  int opens = 0;
  int closes = 0;
  for (const TraceRecord& r : env_.Trace()) {
    if (r.op == SimOp::kOpenWritable) ++opens;
    if (r.op == SimOp::kClose) ++closes;
  }
  EXPECT_EQ(opens, 2 * kRounds);
  EXPECT_EQ(closes, 2 * kRounds);
}

// Segments of about 4 KiB holding 32 entries of 100 bytes each; one open reader.
class ReaderMissTest : public ScaleCostTest {
 protected:
  static constexpr int kPerSegment = 32;
  static constexpr int kSegments = 4;

  void SetUp() override {
    options_.max_entries_per_segment = kPerSegment;
    options_.max_open_read_segments = 1;
    Open();
    for (int i = 0; i < kPerSegment * kSegments; ++i) {
      ASSERT_THAT(wal_->Append("s", Value(i)), IsOkAndHolds(static_cast<uint64_t>(i)));
    }
  }
  static std::string Value(int i) { return absl::StrCat(i, ":", std::string(96, 'v')); }
  // What a Get of `id` costs, counted.
  OpCounts CostOfGet(uint64_t id, const std::string& expected) {
    env_.ClearTrace();
    EXPECT_THAT(wal_->Get("s", id), IsOkAndHolds(expected));
    return Count(env_.Trace());
  }
  // The most a Get that reads one frame may read (the frame, read twice at most).
  static constexpr uint64_t kOneFrame = 2 * 256;
};

// Before issue 17 a miss walked the whole segment again to rebuild its offset index.
TEST_F(ReaderMissTest, AMissOnAnIndexedSealedSegmentReadsOnlyItsFrame) {
  Open();                                               // a new process: nothing indexed yet
  EXPECT_GT(CostOfGet(5, Value(5)).bytes_read, 3000u);  // the first read walks segment 0
  CostOfGet(kPerSegment + 5, Value(kPerSegment + 5));   // evicts segment 0's reader
  const OpCounts miss = CostOfGet(7, Value(7));
  EXPECT_EQ(miss.opens_for_read, 1);
  EXPECT_LE(miss.bytes_read, kOneFrame);
}

// A segment sealed by this process was indexed by its writer: not even its first read walks.
TEST_F(ReaderMissTest, ASegmentSealedByRotationIsNeverWalked) {
  for (int seg = 0; seg < kSegments - 1; ++seg) {
    const uint64_t id = static_cast<uint64_t>(seg * kPerSegment + 3);
    EXPECT_LE(CostOfGet(id, Value(static_cast<int>(id))).bytes_read, kOneFrame)
        << "segment " << seg;
  }
}

// A shelved index is a hint: a frame damaged on disk since it was indexed is DataLoss,
// never other bytes, and its neighbours still read.
TEST_F(ReaderMissTest, ADamagedFrameUnderAShelvedIndexIsDataLoss) {
  Open();
  CostOfGet(5, Value(5));                              // indexes segment 0
  CostOfGet(kPerSegment + 5, Value(kPerSegment + 5));  // shelves it
  // IDs 0-9 are frames of 32 + 4 + 98 bytes: ID 7's payload starts at 7 * 134 + 36.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file,
                       env_.NewAppendableFile("/wal/s/00000000000000000000.wal"));
  ASSERT_OK(file->WriteAt(7 * 134 + 36 + 10, "X"));
  ASSERT_OK(file->Close());
  EXPECT_THAT(wal_->Get("s", 7), ::ironwal::testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(wal_->Get("s", 6), IsOkAndHolds(Value(6)));
  EXPECT_THAT(wal_->Get("s", 8), IsOkAndHolds(Value(8)));
}

// A suffix cut and a reset rewrite the files under shelved indexes: the reads after them
// return the new bytes.
TEST_F(ReaderMissTest, IndexesOfRewrittenSegmentsAreNotUsed) {
  for (int seg = 0; seg < kSegments - 1; ++seg) {
    CostOfGet(static_cast<uint64_t>(seg * kPerSegment), Value(seg * kPerSegment));
  }
  const uint64_t cut = kPerSegment + 10;
  ASSERT_OK(wal_->TruncateSuffix("s", cut));
  for (int i = 0; i < 3 * kPerSegment; ++i) {
    ASSERT_THAT(wal_->Append("s", absl::StrCat("new", i)), IsOkAndHolds(cut + i));
  }
  for (uint64_t id = 0; id < cut + 3 * kPerSegment; id += 5) {
    EXPECT_THAT(wal_->Get("s", id), IsOkAndHolds(id < cut ? Value(static_cast<int>(id))
                                                          : absl::StrCat("new", id - cut)))
        << "ID " << id;
  }
  ASSERT_OK(wal_->ResetStream("s", 0));
  for (int i = 0; i < 2 * kPerSegment; ++i) {
    ASSERT_THAT(wal_->Append("s", absl::StrCat("reset", i)), IsOkAndHolds(i));
  }
  for (int id = 0; id < 2 * kPerSegment; id += 3) {
    EXPECT_THAT(wal_->Get("s", id), IsOkAndHolds(absl::StrCat("reset", id))) << "ID " << id;
  }
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
