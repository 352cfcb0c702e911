// Wal::GetStatistics against workloads with known counts (SimEnv): every
// counter and histogram count is checked exactly; ResetStatistics and
// WalOptions::statistics = false zero them.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/base/test_point.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {

namespace format = internal::format;

namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;

struct SimEnvHolder {
  SimEnv sim_env_;
};

class WalStatisticsTest : public ::testing::Test,
                          protected SimEnvHolder,
                          public ::ironwal::testing::WalTestBase {
 public:
  WalStatisticsTest() : WalTestBase(&sim_env_) {}

 protected:
  // A raw frame of `entries` entries of `size` bytes each.
  static uint64_t RawFrame(uint64_t entries, uint64_t size) {
    return format::kFrameHeaderSize + entries * (4 + size);
  }
  static void ExpectOrdered(const HistogramSnapshot& h) {
    EXPECT_LE(h.min, h.p50);
    EXPECT_LE(h.p50, h.p99);
    EXPECT_LE(h.p99, h.p999);
    EXPECT_LE(h.p999, h.max);
  }
};

TEST_F(WalStatisticsTest, WritesAreCountedExactly) {
  options_.max_entries_per_segment = 4;  // segments at 0, 4, 8: two rotations
  ASSERT_OK(Open());
  for (int i = 0; i < 10; ++i) ASSERT_OK(wal_->Append("s", "abc"));
  ASSERT_OK(wal_->AppendBatch("t", {"a", "bb"}));
  ASSERT_OK(wal_->AppendBatchIf("t", 2, {absl::string_view("ccc")}));
  EXPECT_THAT(wal_->AppendBatchIf("t", 0, {absl::string_view("no")}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  const Statistics s = wal_->GetStatistics();
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.appends, 12u);
  EXPECT_EQ(s.append_errors, 1u);
  EXPECT_EQ(s.entries_appended, 13u);
  EXPECT_EQ(s.logical_bytes_appended, 30u + 3u + 3u);
  EXPECT_EQ(s.frames_written, 12u);
  EXPECT_EQ(s.frames_raw, 12u);
  EXPECT_EQ(s.frames_lz4, 0u);
  EXPECT_EQ(s.frame_bytes_written, 10 * RawFrame(1, 3) + RawFrame(2, 1) + 1 + RawFrame(1, 3));
  EXPECT_EQ(s.write_groups, 13u);  // the refused conditional write is a group too
  EXPECT_EQ(s.rotations, 2u);
  // kStrict: one per write group (the refused conditional one too), and one ending each
  // full segment.
  EXPECT_EQ(s.fdatasyncs, 13u + 2u);
  EXPECT_EQ(s.fdatasync_micros.count, s.fdatasyncs);
  EXPECT_EQ(s.append_micros.count, 10u);
  EXPECT_EQ(s.append_batch_micros.count, 2u);
  EXPECT_EQ(s.group_size.count, 13u);
  EXPECT_EQ(s.group_size.max, 1u);
  ExpectOrdered(s.append_micros);
  ExpectOrdered(s.fdatasync_micros);
  EXPECT_EQ(s.gets + s.scans + s.bytes_read + s.poisonings, 0u);
  EXPECT_EQ(s.streams_recovered, 0u);  // a new root: nothing to recover
}

// Writes are counted by their stream, whichever thread led the group: with writers
// racing on two streams (groups of several writes, kStrict) and on two more in kAsync,
// the sums are exact whatever the interleaving.
TEST_F(WalStatisticsTest, ConcurrentWritersOnSeveralStreamsAreCountedExactly) {
  constexpr int kThreads = 4;
  constexpr int kAppends = 50;
  constexpr int kBatches = 5;  // of 3 entries
  ASSERT_OK(Open());           // kStrict (the fixture's default)
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      const std::string stream = absl::StrCat("s", t % 2);
      for (int i = 0; i < kAppends; ++i) ASSERT_OK(wal_->Append(stream, "abcd"));
      for (int i = 0; i < kBatches; ++i) ASSERT_OK(wal_->AppendBatch(stream, {"a", "bb", "c"}));
    });
  }
  for (std::thread& thread : threads) thread.join();
  const Statistics s = wal_->GetStatistics();
  const uint64_t writes = kThreads * (kAppends + kBatches);
  EXPECT_EQ(s.appends, writes);
  EXPECT_EQ(s.append_errors, 0u);
  EXPECT_EQ(s.entries_appended, kThreads * (kAppends + 3u * kBatches));
  EXPECT_EQ(s.logical_bytes_appended, kThreads * (4u * kAppends + 4u * kBatches));
  EXPECT_EQ(s.frames_written, writes);
  EXPECT_EQ(s.frame_bytes_written,
            kThreads * (kAppends * RawFrame(1, 4) + kBatches * (RawFrame(3, 1) + 1)));
  // Every write was in exactly one group.
  EXPECT_EQ(s.group_size.sum, writes);
  EXPECT_EQ(s.group_size.count, s.write_groups);
  EXPECT_LE(s.write_groups, writes);
  EXPECT_EQ(s.append_micros.count, kThreads * uint64_t{kAppends});
  EXPECT_EQ(s.append_batch_micros.count, kThreads * uint64_t{kBatches});
  wal_->ResetStatistics();
  EXPECT_EQ(wal_->GetStatistics().appends, 0u);
  EXPECT_EQ(wal_->GetStatistics().frame_bytes_written, 0u);
}

TEST_F(WalStatisticsTest, CompressedFramesAreCountedByCodec) {
  options_.compression = Compression::kLz4;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", std::string(4096, 'x')));  // compresses
  ASSERT_OK(wal_->Append("s", "tiny"));                  // under min_compression_size
  Statistics s = wal_->GetStatistics();
  EXPECT_EQ(s.frames_lz4, 1u);
  EXPECT_EQ(s.frames_raw, 1u);
  EXPECT_EQ(s.logical_bytes_appended, 4100u);
  EXPECT_LT(s.frame_bytes_written, RawFrame(1, 4096) + RawFrame(1, 4));
  // A compressed batch: the entries' bytes are those given, whatever the frame holds.
  const std::string big(2000, 'y');
  ASSERT_OK(wal_->AppendBatch("t", {big, big, "z"}));
  s = wal_->GetStatistics();
  EXPECT_EQ(s.frames_lz4, 2u);
  EXPECT_EQ(s.entries_appended, 5u);
  EXPECT_EQ(s.logical_bytes_appended, 4100u + 4001u);
  EXPECT_LT(s.frame_bytes_written, RawFrame(1, 4096) + RawFrame(1, 4) + RawFrame(3, 2000));
}

// kAsync times one append in 64 of each stream (its first, its 65th, ...), whichever
// thread makes them: a thread alternating between two streams has both timed.
TEST_F(WalStatisticsTest, AsyncAppendsAreTimedOneInSixtyFourOfEachStream) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  constexpr uint64_t kEvery = 64;  // StatsRecorder::kAsyncTimedEvery
  for (uint64_t i = 0; i < kEvery + 1; ++i) {
    ASSERT_OK(wal_->Append("a", "x"));
    ASSERT_OK(wal_->AppendBatch("b", {"y"}));
  }
  Statistics s = wal_->GetStatistics();
  EXPECT_EQ(s.appends, 2 * (kEvery + 1));
  EXPECT_EQ(s.append_micros.count, 2u);        // a's first and 65th
  EXPECT_EQ(s.append_batch_micros.count, 2u);  // b's
  EXPECT_EQ(s.append_async_micros.count, 4u);
  // Another thread goes on with the stream's count: a's 66th..128th are not timed, its
  // 129th is.
  std::thread([this] {
    for (uint64_t i = 0; i < kEvery - 1; ++i) ASSERT_OK(wal_->Append("a", "x"));
  }).join();
  EXPECT_EQ(wal_->GetStatistics().append_micros.count, 2u);
  ASSERT_OK(wal_->Append("a", "x"));
  EXPECT_EQ(wal_->GetStatistics().append_micros.count, 3u);
  // Reset starts the counts, and so the sampling, again.
  wal_->ResetStatistics();
  ASSERT_OK(wal_->Append("b", "y"));
  ASSERT_OK(wal_->Append("b", "y"));
  EXPECT_EQ(wal_->GetStatistics().append_micros.count, 1u);
}

TEST_F(WalStatisticsTest, ReadsAreCountedExactly) {
  options_.block_cache_size = 1 << 20;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {"aa", "bbb", "c"}));
  wal_->ResetStatistics();
  ASSERT_THAT(wal_->Get("s", 1), IsOkAndHolds("bbb"));  // a miss: the frame is read
  ASSERT_THAT(wal_->Get("s", 2), IsOkAndHolds("c"));    // the same frame: a hit
  EXPECT_THAT(wal_->Get("s", 9), StatusIs(absl::StatusCode::kOutOfRange));
  const std::vector<uint64_t> ids = {0, 2, 7};
  wal_->MultiGet("s", ids);
  ASSERT_OK(wal_->NewIterator("s", 0).status());
  ASSERT_OK(wal_->ReadRange("s", 0, 2, 100).status());
  const Statistics s = wal_->GetStatistics();
  EXPECT_EQ(s.gets, 6u);
  EXPECT_EQ(s.get_cache_hits, 1u);
  EXPECT_EQ(s.scans, 2u);
  // Get, Get, MultiGet (IDs 0 and 2), the iterator (stopped at ID 0), ReadRange (0, 1).
  EXPECT_EQ(s.bytes_read, 3u + 1u + (2u + 1u) + 2u + (2u + 3u));
  EXPECT_EQ(s.appends, 0u);  // reset before the reads
}

TEST_F(WalStatisticsTest, IteratorBytesAreCountedOncePerEntryItStopsAt) {
  options_.max_entries_per_segment = 2;  // the walk crosses segments
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {"a", "bb"}));
  ASSERT_OK(wal_->AppendBatch("s", {"ccc", "dddd"}));
  ASSERT_OK(wal_->Append("s", "eeeee"));
  wal_->ResetStatistics();
  EXPECT_EQ(IterateAll("s", 0).size(), 5u);
  EXPECT_EQ(wal_->GetStatistics().bytes_read, 15u);
  wal_->ResetStatistics();
  auto it = wal_->NewIterator("s", 1, /*end_id=*/3);  // stops at "bb" and "ccc" only
  ASSERT_OK(it.status());
  for (; (*it)->Valid(); (*it)->Next()) {
  }
  (*it)->Seek(1);  // a second visit counts again
  const Statistics s = wal_->GetStatistics();
  EXPECT_EQ(s.bytes_read, 2u + 3u + 2u);
  EXPECT_EQ(s.scans, 1u);
  EXPECT_EQ(s.gets, 0u);
}

class WalStatisticsBySyncModeTest : public WalStatisticsTest,
                                    public ::testing::WithParamInterface<SyncMode> {};

TEST_P(WalStatisticsBySyncModeTest, AppendLatencyGoesToTheModesHistogram) {
  options_.sync_mode = GetParam();
  ASSERT_OK(Open());
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "a"));
  ASSERT_OK(wal_->AppendBatch("s", {"b", "c"}));
  ASSERT_OK(wal_->AppendBatchIf("s", 5, {absl::string_view("d")}));
  const Statistics s = wal_->GetStatistics();
  // kAsync times the first append of every kAsyncTimedEvery (64) of a stream: the first
  // Append only.
  const bool async_mode = GetParam() == SyncMode::kAsync;
  const uint64_t timed = async_mode ? 1 : 5;
  const uint64_t strict = GetParam() == SyncMode::kStrict ? 5 : 0;
  const uint64_t batch_only = GetParam() == SyncMode::kBatchOnly ? 5 : 0;
  const uint64_t async = async_mode ? 1 : 0;
  EXPECT_EQ(s.appends, 5u);
  EXPECT_EQ(s.append_strict_micros.count, strict);
  EXPECT_EQ(s.append_batch_only_micros.count, batch_only);
  EXPECT_EQ(s.append_async_micros.count, async);
  EXPECT_EQ(s.append_micros.count, async_mode ? 1u : 3u);
  EXPECT_EQ(s.append_batch_micros.count, async_mode ? 0u : 2u);
  const HistogramSnapshot& mine = GetParam() == SyncMode::kStrict      ? s.append_strict_micros
                                  : GetParam() == SyncMode::kBatchOnly ? s.append_batch_only_micros
                                                                       : s.append_async_micros;
  EXPECT_EQ(mine.sum, s.append_micros.sum + s.append_batch_micros.sum);
  ExpectOrdered(mine);
  EXPECT_NE(s.ToString().find(absl::StrCat("append_",
                                           GetParam() == SyncMode::kStrict      ? "strict"
                                           : GetParam() == SyncMode::kBatchOnly ? "batch_only"
                                                                                : "async",
                                           "_micros count=", timed)),
            std::string::npos)
      << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(AllModes, WalStatisticsBySyncModeTest,
                         ::testing::Values(SyncMode::kStrict, SyncMode::kBatchOnly,
                                           SyncMode::kAsync),
                         ::ironwal::testing::SyncModeTestName);

TEST_F(WalStatisticsTest, PoisonRecoveryAndReopenAreCounted) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  ASSERT_OK(wal_->Append("t", "a"));
  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.path_pattern = StreamDir("s") + "/*.wal";
  rule.max_fires = 1;
  sim_env_.AddFaultRule(rule);
  EXPECT_THAT(wal_->Append("s", "b"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(wal_->Append("s", "c"), StatusIs(absl::StatusCode::kFailedPrecondition));
  Statistics s = wal_->GetStatistics();
  EXPECT_EQ(s.poisonings, 1u);
  EXPECT_EQ(s.append_errors, 2u);
  ASSERT_OK(wal_->RecoverStream("s").status());
  ASSERT_OK(wal_->RecoverStream("s").status());  // not poisoned any more: not counted
  s = wal_->GetStatistics();
  EXPECT_EQ(s.streams_unpoisoned, 1u);
  EXPECT_EQ(s.streams_recovered, 1u);

  // A torn tail: 10 bytes past the last synced frame of t.
  ASSERT_OK(wal_->Close());
  const std::string path = SegmentPath("t", 0);
  WriteFile(path, ReadFile(path) + std::string(10, 'x'));
  ASSERT_OK(Open());
  s = wal_->GetStatistics();
  EXPECT_EQ(s.streams_recovered, 2u);
  EXPECT_EQ(s.recoveries_not_clean, 1u);
  EXPECT_EQ(s.recovery_cut_bytes, 10u);
  EXPECT_EQ(s.recovery_lost_ids, 0u);
  EXPECT_EQ(s.appends, 0u);  // a new Wal starts from zero
}

TEST_F(WalStatisticsTest, OffRecordsNothing) {
  options_.statistics = false;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  ASSERT_OK(wal_->Get("s", 0).status());
  const Statistics s = wal_->GetStatistics();
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.appends + s.fdatasyncs + s.gets + s.frames_written, 0u);
  EXPECT_EQ(s.append_micros.count, 0u);
  wal_->ResetStatistics();  // a no-op
}

TEST_F(WalStatisticsTest, ResetZeroesEverything) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  wal_->ResetStatistics();
  Statistics s = wal_->GetStatistics();
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.appends + s.fdatasyncs + s.frames_written + s.write_groups, 0u);
  EXPECT_EQ(s.append_micros.count + s.fdatasync_micros.count + s.group_size.count, 0u);
  ASSERT_OK(wal_->Append("s", "b"));
  s = wal_->GetStatistics();
  EXPECT_EQ(s.appends, 1u);
  EXPECT_EQ(s.fdatasyncs, 1u);
}

// GetStatistics racing a writer: a snapshot sums counters the writers update one at a time
// (stats/recorder.h), and a stream counts a published group's appends and entries before
// its bytes (stream.cc), so a snapshot taken between the two sees the counts without the
// bytes. The entries' bytes are derived from both (bytes minus 32 per frame and 4 per
// entry) and must stop at 0 then, never wrap to nearly 2^64. The test point between the
// two updates takes that snapshot deterministically on every append: with entries of 3
// bytes, the n-th append (from 0) is seen as n x 39 bytes for n + 1 frames, so
// max(0, 3n - 36): 0 for the first 13, then below the truth (it is not the state of any
// moment: Statistics promises only that it does not wrap); once the append returns, the
// snapshot is exact again.
TEST_F(WalStatisticsTest, ASnapshotBetweenAGroupsCountsAndItsBytesNeverUnderflows) {
  constexpr int kAppends = 16;
  ASSERT_OK(Open());
  std::vector<Statistics> seen;
  {
    ScopedTestPoint at("stream.publish.counted", [&] { seen.push_back(wal_->GetStatistics()); });
    for (int n = 0; n < kAppends; ++n) {
      ASSERT_THAT(wal_->Append("s", "abc"), IsOkAndHolds(static_cast<uint64_t>(n)));
      const Statistics after = wal_->GetStatistics();
      EXPECT_EQ(after.logical_bytes_appended, 3u * (n + 1)) << "after append " << n;
    }
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kAppends));
  for (int n = 0; n < kAppends; ++n) {
    SCOPED_TRACE(absl::StrCat("snapshot inside append ", n));
    const Statistics& s = seen[n];
    EXPECT_EQ(s.appends, n + 1u);
    EXPECT_EQ(s.entries_appended, n + 1u);
    EXPECT_EQ(s.frame_bytes_written, n * RawFrame(1, 3));
    EXPECT_EQ(s.logical_bytes_appended, n >= 12 ? 3u * n - 36u : 0u);
    EXPECT_LE(s.logical_bytes_appended, s.frame_bytes_written);
    EXPECT_EQ(s.frames_raw, n + 1u);
  }
}

}  // namespace
}  // namespace ironwal
