// Faults on SimEnv, one scenario each, written out: poisoning after a failed write or
// fsync (promise 6), a full disk (promise 7), and the regressions the simulation found
// (tests/sim), kept here as explicit cases so they do not depend on the workload
// generator.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

std::string E(uint64_t i) { return "entry-" + std::to_string(i); }

struct SimEnvHolder {
  SimEnv sim_env_;
};

class WalFaultTest : public ::testing::Test,
                     protected SimEnvHolder,
                     public ::ironwal::testing::WalTestBase {
 public:
  WalFaultTest() : WalTestBase(&sim_env_) {}

 protected:
  int Fail(SimOp op, SimFault fault, const std::string& pattern = "*", uint64_t nth = 1) {
    FaultRule rule;
    rule.op = op;
    rule.fault = fault;
    rule.path_pattern = pattern;
    rule.nth = nth;
    rule.max_fires = 1;
    return sim_env_.AddFaultRule(rule);
  }
  // A power loss: unsynced data and unsynced names are gone.
  absl::Status CrashAndOpen(CrashMode mode = CrashMode::kDropUnsynced) {
    CrashOptions crash;
    crash.mode = mode;
    sim_env_.Crash(crash);
    sim_env_.ClearFaultRules();
    wal_.reset();
    return Open();
  }
};

// Promise 6: after a failed fsync the stream acknowledges nothing until reopened.
TEST_F(WalFaultTest, FailedSyncPoisonsTheStreamUntilReopen) {
  ASSERT_OK(Open());
  ASSERT_THAT(wal_->Append("s", "durable"), IsOkAndHolds(0u));
  Fail(SimOp::kSync, SimFault::kIoError, "*.wal");
  EXPECT_THAT(wal_->Append("s", "lost"), StatusIs(absl::StatusCode::kInternal, HasSubstr("EIO")));
  EXPECT_THAT(wal_->Append("s", "refused"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("poisoned")));
  EXPECT_THAT(wal_->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds("durable"));
  EXPECT_THAT(wal_->Get("s", 1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(wal_->Append("other", "unaffected"), IsOkAndHolds(0u));
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds("durable"));
  EXPECT_THAT(wal_->Append("s", "again"), IsOkAndHolds(1u));
}

// Promise 6: a failed write (EIO) poisons too, and leaves no partial frame behind it.
TEST_F(WalFaultTest, ShortWritePoisonsAndLeavesNoFrameForLaterOnes) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  Fail(SimOp::kAppend, SimFault::kShortWrite, "*.wal");
  EXPECT_THAT(wal_->Append("s", std::string(500, 'x')), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(wal_->Append("s", "b"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(CrashAndOpen(CrashMode::kKeepPrefix));
  EXPECT_THAT(wal_->GetStreamInfo("s"), IsOkAndHolds(::testing::Field(&StreamInfo::next_id, 1u)));
  EXPECT_THAT(wal_->Append("s", "b"), IsOkAndHolds(1u));
}

// Promise 7: a full disk is ResourceExhausted, loses nothing acknowledged, and the stream
// works again once space is freed, without a reopen.
TEST_F(WalFaultTest, FullDiskIsResourceExhaustedAndRecoversWhenSpaceIsFreed) {
  for (SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync}) {
    SCOPED_TRACE(static_cast<int>(mode));
    options_.sync_mode = mode;
    options_.root = "/wal" + std::to_string(static_cast<int>(mode));
    options_.write_buffer_size = 0;
    ASSERT_OK(Open());
    ASSERT_OK(wal_->Append("s", "before"));
    sim_env_.SetCapacity(sim_env_.UsedBytes() + 10);
    EXPECT_THAT(wal_->Append("s", std::string(300, 'x')),
                StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("ENOSPC")));
    if (mode == SyncMode::kAsync) {
      // "before" is still in the buffer: reading it needs a write, which waits for space.
      EXPECT_THAT(wal_->Get("s", 0), StatusIs(absl::StatusCode::kResourceExhausted));
    } else {
      EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds("before"));
    }
    sim_env_.SetCapacity(UINT64_MAX);
    EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds("before"));
    EXPECT_THAT(wal_->Append("s", "after"), IsOkAndHolds(1u));
    ASSERT_OK(wal_->Sync());
    ASSERT_OK(CrashAndOpen());
    EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("after"));
  }
}

// kAsync: frames acknowledged into the buffer survive a flush that meets a full disk
// (simulation seed 22).
TEST_F(WalFaultTest, AsyncBufferSurvivesAFlushOnAFullDisk) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {"a", "b", "c"}));
  sim_env_.SetCapacity(sim_env_.UsedBytes() + 5);
  EXPECT_THAT(wal_->Get("s", 1), StatusIs(absl::StatusCode::kResourceExhausted));
  sim_env_.SetCapacity(UINT64_MAX);
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("b"));
  ASSERT_OK(wal_->Sync());
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(wal_->Get("s", 2), IsOkAndHolds("c"));
}

// A new segment whose directory sync failed must not take appends: its name might not
// survive (simulation seed 38).
TEST_F(WalFaultTest, NoAppendIntoASegmentWhoseNameIsNotDurable) {
  ASSERT_OK(Open());
  Fail(SimOp::kSyncDir, SimFault::kIoError, "/wal/s", /*nth=*/4);  // after the key, idx, pos
  EXPECT_THAT(wal_->Append("s", "x"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(wal_->Append("s", "y"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// The same failure, then a clean reopen: the next process appends into the file the first
// one created, and must make its name durable before acknowledging anything (simulation
// seed 36216).
TEST_F(WalFaultTest, FirstWriteAfterReopenMakesEarlierNamesDurable) {
  options_.sync_mode = SyncMode::kStrict;
  ASSERT_OK(Open());
  Fail(SimOp::kSyncDir, SimFault::kIoError, "/wal/s", /*nth=*/4);
  EXPECT_THAT(wal_->Append("s", "x"), StatusIs(absl::StatusCode::kInternal));
  sim_env_.ClearFaultRules();
  ASSERT_OK(Reopen());
  ASSERT_THAT(wal_->Append("s", "acknowledged"), IsOkAndHolds(0u));
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds("acknowledged"));
}

// Linux's fsync failure: the dirty pages of published, unsynced single appends (kBatchOnly)
// are marked clean without reaching the disk. After a reopen they must be written again,
// or frames acknowledged later would follow a hole after a power loss.
TEST_F(WalFaultTest, PagesDroppedByAFailedFsyncAreWrittenAgainAtReopen) {
  options_.sync_mode = SyncMode::kBatchOnly;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {"synced"}));
  ASSERT_OK(wal_->Append("s", "written, never synced"));
  Fail(SimOp::kSync, SimFault::kIoError, "*.wal");
  EXPECT_THAT(wal_->AppendBatch("s", {"batch"}), StatusIs(absl::StatusCode::kInternal));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("written, never synced"));
  ASSERT_THAT(wal_->AppendBatch("s", {"durable batch"}), IsOkAndHolds(IdRange{2, 3}));
  ASSERT_OK(CrashAndOpen(CrashMode::kDropUnsynced));
  EXPECT_THAT(wal_->Get("s", 2), IsOkAndHolds("durable batch"));
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("written, never synced"));
}

// W11/W12: ironwal 0.6 walked a segment's headers from byte 0 (opening the file again) on
// every Get. Here a Get of any ID reads one frame: one read, however many frames precede it.
// A suffix truncation that fails half way (its log.intent written, a later segment's
// removal failing) poisons the stream, and the operation is finished at the next open. Until
// then the stream's segments in memory are the old ones: a truncation of the front then
// removed segments by that old list, among them the one the intent makes the active
// segment, and the next open could not finish the intent (DataLoss: the active segment is
// missing). A poisoned stream refuses Truncate as it refuses every other write.
TEST_F(WalFaultTest, APoisonedStreamRefusesTruncateAndTheNextOpenFinishesTheIntent) {
  options_.max_segment_size = 300;
  ASSERT_OK(Open());
  for (uint64_t i = 0; i < 40; ++i) ASSERT_THAT(wal_->Append("s", E(i)), IsOkAndHolds(i));
  ASSERT_OK_AND_ASSIGN(StreamInfo info, wal_->GetStreamInfo("s"));
  ASSERT_GE(info.segment_count, 3u);
  const uint64_t cut = 2;  // inside the first segment, which becomes the active one
  Fail(SimOp::kRemoveFile, SimFault::kIoError, "*.wal");
  EXPECT_THAT(wal_->TruncateSuffix("s", cut),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("EIO")));
  EXPECT_THAT(wal_->Truncate("s", info.next_id - 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("poisoned")));
  ASSERT_OK(CrashAndOpen());
  ASSERT_OK_AND_ASSIGN(info, wal_->GetStreamInfo("s"));
  EXPECT_EQ(info.first_id, 0u);
  EXPECT_EQ(info.next_id, cut);
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds(E(1)));
  EXPECT_THAT(wal_->Append("s", "next"), IsOkAndHolds(cut));
}

TEST_F(WalFaultTest, GetReadsOneFrameWhateverItsPlaceInTheSegment) {
  options_.max_segment_size = 1 << 20;
  ASSERT_OK(Open());
  for (int i = 0; i < 2000; ++i) ASSERT_OK(wal_->Append("s", "entry " + std::to_string(i)));
  ASSERT_OK(Reopen());
  ASSERT_THAT(wal_->Get("s", 0), IsOkAndHolds("entry 0"));  // opens the reader once
  const auto reads = [&] {
    uint64_t n = 0;
    for (const TraceRecord& r : sim_env_.Trace()) n += r.op == SimOp::kRead;
    return n;
  };
  for (uint64_t id : {1999u, 1000u, 1u, 1998u}) {
    sim_env_.ClearTrace();
    ASSERT_THAT(wal_->Get("s", id), IsOkAndHolds("entry " + std::to_string(id)));
    EXPECT_EQ(reads(), 1u) << "Get(" << id << ")";
  }
}

// Promise 8: a root locked by another opener is refused, changing nothing.
TEST_F(WalFaultTest, SecondOpenerIsRefusedAndChangesNothing) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "x"));
  EXPECT_THAT(Wal::Open(options_), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->Append("s", "y"), IsOkAndHolds(1u));
}

// The README's SimEnv snippet leaves options.root at its default, the relative
// "./wal_data": it opens, crashes and reopens like an absolute root.
TEST(WalOnSimEnvTest, DefaultRelativeRootWorksInSimulation) {
  SimEnv env;
  WalOptions options;
  options.env = &env;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  ASSERT_THAT(wal->Append("s", "kept"), IsOkAndHolds(0u));
  CrashOptions crash;
  crash.mode = CrashMode::kDropUnsynced;
  env.Crash(crash);
  wal.reset();
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(options));
  EXPECT_THAT(wal->Get("s", 0), IsOkAndHolds("kept"));
  EXPECT_OK(env.GetFileSize("/wal_data/s/00000000000000000000.wal"));
}

}  // namespace
}  // namespace ironwal
