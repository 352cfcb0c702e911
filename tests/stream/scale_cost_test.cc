// The costs that must not grow with the number of streams or the size of a segment
// (issue 17): what an evicted writer's close and reopen cost, and what a reader-cache
// miss on a sealed segment reads. Counted as operations in SimEnv's trace, never timed.
// The durability these shortcuts must keep is checked by power cuts (kDropUnsynced).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
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

}  // namespace
}  // namespace ironwal
