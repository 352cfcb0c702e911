// Wal::ApproximateMemoryUsage: each holder it reports grows with what it holds and stays
// within the option that bounds it (README "Memory"), an index shared by a stream and a
// reader is counted once, truncation gives sealed indexes back, and a closed Wal holds
// nothing.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/format.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

namespace format = internal::format;

using ::ironwal::testing::IsOkAndHolds;

struct MemEnvHolder {
  MemEnv mem_env_;
};

class WalMemoryTest : public ::testing::Test,
                      protected MemEnvHolder,
                      public ::ironwal::testing::WalTestBase {
 public:
  WalMemoryTest() : WalTestBase(&mem_env_) {}
};

// One frame per append: the active index holds 8 bytes a frame, and about a quarter more
// in room for later frames (its chunks grow by a quarter of the slots so far and are never
// copied). A reader of the active segment shares that index: it is not counted again.
TEST_F(WalMemoryTest, TheActiveIndexGrowsWithItsFramesAndIsCountedOnce) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  EXPECT_EQ(wal_->ApproximateMemoryUsage().active_indexes, 0u);
  constexpr uint64_t kFrames = 1000;
  for (uint64_t i = 0; i < kFrames; ++i) ASSERT_THAT(wal_->Append("s", "entry"), IsOkAndHolds(i));
  ASSERT_OK(wal_->Flush());
  ASSERT_THAT(wal_->Get("s", 500), IsOkAndHolds("entry"));  // a reader of the active segment
  const MemoryUsage usage = wal_->ApproximateMemoryUsage();
  EXPECT_GE(usage.active_indexes, 8 * kFrames);
  // 1,001 slots in chunks of about 1,200 (a doubling index would hold 2,048 and keep the
  // 1,024 it outgrew), plus the chunk directory.
  EXPECT_LE(usage.active_indexes, 8 * kFrames * 5 / 4 + 4096);
  EXPECT_EQ(usage.sealed_indexes, 0u);
  EXPECT_EQ(usage.frame_cache, 0u);
  EXPECT_GT(usage.write_buffers, 0u);  // the open writer's buffer
  EXPECT_EQ(usage.evicted_write_buffers, 0u);
  EXPECT_EQ(usage.total(), usage.write_buffers + usage.active_indexes);
}

// Sealed segments' indexes (shelved by rotation, held by readers) are counted, and a
// truncation that removes the segments gives them back.
TEST_F(WalMemoryTest, SealedIndexesAreCountedAndTruncationGivesThemBack) {
  options_.max_segment_size = 1024;
  options_.max_open_read_segments = 4;
  ASSERT_OK(Open());
  const std::string entry(100, 'e');
  constexpr uint64_t kEntries = 400;  // about 9 a segment: some 45 segments
  for (uint64_t i = 0; i < kEntries; ++i) ASSERT_THAT(wal_->Append("s", entry), IsOkAndHolds(i));
  for (uint64_t i = 0; i < kEntries; i += 7) ASSERT_THAT(wal_->Get("s", i), IsOkAndHolds(entry));
  const MemoryUsage before = wal_->ApproximateMemoryUsage();
  // Each sealed segment's index holds its frames' slots: more than 8 bytes a frame.
  EXPECT_GT(before.sealed_indexes, 8 * (kEntries - 20));
  EXPECT_GT(before.active_indexes, 0u);
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo("s"));
  ASSERT_GT(info.segment_count, 20u);
  ASSERT_OK(wal_->Truncate("s", info.active_segment_start_id).status());
  const MemoryUsage after = wal_->ApproximateMemoryUsage();
  EXPECT_EQ(after.sealed_indexes, 0u);
  EXPECT_EQ(after.active_indexes, before.active_indexes);
}

// kAsync writers evicted without a flush keep their buffers, together near the limit of
// max_open_segments x write_buffer_size: the sum of their capacities stays within twice
// that (a string's capacity is at most twice what it holds) and a little per stream.
TEST_F(WalMemoryTest, EvictedBuffersStayNearTheirLimit) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 2;
  options_.write_buffer_size = 512;
  constexpr uint64_t kLimit = 2 * 512;
  ASSERT_OK(Open());
  constexpr int kStreams = 40;
  const std::string entry(50, 'p');
  const uint64_t frame = format::kFrameHeaderSize + format::kEntryLengthSize + entry.size();
  for (int round = 0; round < 5; ++round) {
    for (int s = 0; s < kStreams; ++s) {
      ASSERT_THAT(wal_->Append(absl::StrCat("s", s), entry),
                  IsOkAndHolds(static_cast<uint64_t>(round)));
    }
  }
  const MemoryUsage usage = wal_->ApproximateMemoryUsage();
  EXPECT_GT(usage.evicted_write_buffers, kLimit / 2);
  EXPECT_LE(usage.evicted_write_buffers, 2 * (kLimit + frame) + 32 * kStreams);
  EXPECT_GE(usage.write_buffers, usage.evicted_write_buffers);
  // Without the limit, 40 streams of 5 frames each would hold some 18,000 bytes.
  EXPECT_LT(usage.evicted_write_buffers, kStreams * 5 * frame);
}

TEST_F(WalMemoryTest, TheFrameCacheStaysWithinItsSize) {
  options_.block_cache_size = 4096;
  ASSERT_OK(Open());
  const std::string entry(100, 'c');
  for (uint64_t i = 0; i < 200; ++i) ASSERT_THAT(wal_->Append("s", entry), IsOkAndHolds(i));
  EXPECT_EQ(wal_->ApproximateMemoryUsage().frame_cache, 0u);
  for (uint64_t i = 0; i < 200; ++i) ASSERT_THAT(wal_->Get("s", i), IsOkAndHolds(entry));
  const MemoryUsage usage = wal_->ApproximateMemoryUsage();
  EXPECT_GT(usage.frame_cache, 0u);
  EXPECT_LE(usage.frame_cache, options_.block_cache_size);
}

// Asked while other threads append and read (ThreadSanitizer runs this in CI): every
// answer is within what the threads could have made the Wal hold.
TEST_F(WalMemoryTest, CanBeAskedWhileOthersAppendAndRead) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_segment_size = 4096;
  options_.max_open_segments = 2;
  options_.max_open_read_segments = 2;
  ASSERT_OK(Open());
  constexpr int kWriters = 3;
  constexpr uint64_t kAppends = 300;
  std::vector<absl::Status> failed(kWriters + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = absl::StrCat("s", t);
      for (uint64_t i = 0; i < kAppends && failed[t].ok(); ++i) {
        failed[t] = wal_->Append(key, "entry").status();
        if (failed[t].ok() && i % 10 == 9) failed[t] = wal_->Get(key, i / 2).status();
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200 && failed[kWriters].ok(); ++i) {
      const MemoryUsage usage = wal_->ApproximateMemoryUsage();
      if (usage.evicted_write_buffers > usage.write_buffers || usage.total() > (64u << 20)) {
        failed[kWriters] = absl::InternalError(absl::StrCat(
            "implausible usage: total ", usage.total(), ", write buffers ", usage.write_buffers));
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : failed) ASSERT_OK(status);
  EXPECT_GT(wal_->ApproximateMemoryUsage().total(), 0u);
}

// With defer_stream_recovery, asking recovers nothing: the streams still pending hold
// nothing yet, and one counts once a call has recovered it.
TEST_F(WalMemoryTest, PendingStreamsAreNotRecoveredToBeCounted) {
  ASSERT_OK(Open());
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_OK(wal_->Append("a", "entry").status());
    ASSERT_OK(wal_->Append("b", "entry").status());
  }
  options_.defer_stream_recovery = true;
  ASSERT_OK(Reopen());
  EXPECT_EQ(wal_->ApproximateMemoryUsage().active_indexes, 0u);
  ASSERT_THAT(wal_->Get("a", 7), IsOkAndHolds("entry"));  // recovers "a" only
  const uint64_t one = wal_->ApproximateMemoryUsage().active_indexes;
  EXPECT_GE(one, 8u * 100);
  ASSERT_OK(wal_->RecoverPendingStreams());
  EXPECT_GT(wal_->ApproximateMemoryUsage().active_indexes, one);  // and b
}

TEST_F(WalMemoryTest, AClosedWalHoldsNothing) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  for (uint64_t i = 0; i < 100; ++i) ASSERT_OK(wal_->Append("s", "x").status());
  EXPECT_GT(wal_->ApproximateMemoryUsage().total(), 0u);
  ASSERT_OK(wal_->Close());
  EXPECT_EQ(wal_->ApproximateMemoryUsage().total(), 0u);
}

}  // namespace
}  // namespace ironwal
