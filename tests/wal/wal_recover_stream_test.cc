// Wal::Flush(stream), Wal::Sync(stream) and Wal::RecoverStream on SimEnv: a failed fsync
// poisons one stream; the others keep working; once the fault is gone RecoverStream makes
// the stream writable with every acknowledged entry, as a reopen of the Wal would, and a
// crash afterwards loses nothing acknowledged.
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct SimEnvHolder {
  SimEnv sim_env_;
};

class RecoverStreamTest : public ::testing::Test,
                          protected SimEnvHolder,
                          public ::ironwal::testing::WalTestBase {
 public:
  RecoverStreamTest() : WalTestBase(&sim_env_) { options_.max_entries_per_segment = 2; }

 protected:
  // Fails the nth fsync of a segment file of stream `key` with EIO, once.
  void FailSyncOf(const std::string& key, uint64_t nth = 1) {
    FaultRule rule;
    rule.op = SimOp::kSync;
    rule.fault = SimFault::kIoError;
    rule.path_pattern = StreamDir(key) + "/*.wal";
    rule.nth = nth;
    rule.max_fires = 1;
    sim_env_.AddFaultRule(rule);
  }
  absl::Status CrashAndOpen() {
    CrashOptions crash;
    crash.mode = CrashMode::kDropUnsynced;
    sim_env_.Crash(crash);
    sim_env_.ClearFaultRules();
    wal_.reset();
    return Open();
  }
  void ExpectPoisoned(const std::string& key) {
    EXPECT_THAT(wal_->Append(key, "refused"),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("poisoned")));
    EXPECT_THAT(wal_->Sync(key), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
};

TEST_F(RecoverStreamTest, FailedSyncPoisonsOneStreamAndRecoverStreamRestoresIt) {
  ASSERT_OK(Open());
  for (int i = 0; i < 5; ++i) {  // across rotations (two entries per segment)
    ASSERT_THAT(wal_->Append("s", "s" + std::to_string(i)), IsOkAndHolds(i));
  }
  ASSERT_THAT(wal_->Append("other", "o0"), IsOkAndHolds(0u));
  FailSyncOf("s");
  EXPECT_THAT(wal_->Append("s", "never acknowledged"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("EIO")));
  ExpectPoisoned("s");
  EXPECT_OK(wal_->Flush("s"));  // nothing buffered: no error to report
  // The other stream never notices.
  EXPECT_THAT(wal_->Append("other", "o1"), IsOkAndHolds(1u));
  EXPECT_OK(wal_->Sync("other"));
  EXPECT_OK(wal_->Flush("other"));
  EXPECT_THAT(wal_->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));

  absl::StatusOr<StreamRecoveryReport> report = wal_->RecoverStream("s");
  ASSERT_OK(report.status());
  EXPECT_EQ(report->dir, "s");
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("s0", "s1", "s2", "s3", "s4"));
  EXPECT_THAT(wal_->Append("s", "s5"), IsOkAndHolds(5u));
  EXPECT_THAT(wal_->Append("s", "s6"), IsOkAndHolds(6u));  // rotates
  EXPECT_OK(wal_->Sync("s"));
  EXPECT_OK(wal_->Sync());
  EXPECT_THAT(wal_->Append("other", "o2"), IsOkAndHolds(2u));

  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("s0", "s1", "s2", "s3", "s4", "s5", "s6"));
  EXPECT_THAT(IterateAll("other", 0), ElementsAre("o0", "o1", "o2"));
  EXPECT_THAT(wal_->Append("s", "s7"), IsOkAndHolds(7u));
}

// Linux drops the dirty pages of a failed fsync: bytes acknowledged but unsynced
// (kBatchOnly single appends) are in the page cache only. RecoverStream writes them again,
// as a reopen does, so a crash after it keeps them.
TEST_F(RecoverStreamTest, RecoverStreamMakesPagesDroppedByAFailedFsyncDurable) {
  options_.sync_mode = SyncMode::kBatchOnly;
  options_.max_entries_per_segment = 100;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {"synced"}));
  // Whole blocks of it: a later write to the last block would sync only that block again.
  const std::string unsynced(5 * 4096, 'u');
  ASSERT_THAT(wal_->Append("s", unsynced), IsOkAndHolds(1u));
  FailSyncOf("s");
  EXPECT_THAT(wal_->AppendBatch("s", {"batch"}), StatusIs(absl::StatusCode::kInternal));
  ExpectPoisoned("s");
  ASSERT_OK(wal_->RecoverStream("s").status());
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds(unsynced));
  ASSERT_THAT(wal_->AppendBatch("s", {"durable batch"}), IsOkAndHolds(IdRange{2, 3}));
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("synced", unsynced, "durable batch"));
}

// A recovery that fails (the fault is still there) keeps the poison; the next one, after
// the cause is fixed, succeeds.
TEST_F(RecoverStreamTest, FailedRecoveryKeepsThePoison) {
  options_.sync_mode = SyncMode::kBatchOnly;
  options_.max_entries_per_segment = 100;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->AppendBatch("s", {"a"}));
  ASSERT_OK(wal_->Append("s", "b"));  // unsynced: recovery must write and sync it again
  FailSyncOf("s");
  EXPECT_THAT(wal_->AppendBatch("s", {"c"}), StatusIs(absl::StatusCode::kInternal));
  FailSyncOf("s");  // the disk still fails
  EXPECT_THAT(wal_->RecoverStream("s"), StatusIs(absl::StatusCode::kInternal, HasSubstr("EIO")));
  ExpectPoisoned("s");
  sim_env_.ClearFaultRules();
  ASSERT_OK(wal_->RecoverStream("s").status());
  EXPECT_THAT(wal_->AppendBatch("s", {"c"}), IsOkAndHolds(IdRange{2, 3}));
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("a", "b", "c"));
}

// Review finding 3: a RecoverStream that fails half way (an I/O error at each of its
// I/O operations in turn) left the stream's segment list half updated (no active index,
// the first ID of the first segment file rather than first.id's). Now the stream stays
// poisoned with what readers saw before, and a later RecoverStream succeeds.
TEST_F(RecoverStreamTest, AFailedRecoveryLeavesTheOldStateIntact) {
  ASSERT_OK(Open());
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {  // segments [0, 2), [2, 4), [4, 6), [6, ...)
    expected.push_back("s" + std::to_string(i));
    ASSERT_THAT(wal_->Append("s", expected.back()), IsOkAndHolds(i));
  }
  ASSERT_OK(wal_->TrimFront("s", 3).status());  // first.id inside segment [2, 4)
  expected.erase(expected.begin(), expected.begin() + 3);
  FailSyncOf("s");
  EXPECT_THAT(wal_->Append("s", "never acknowledged"), StatusIs(absl::StatusCode::kInternal));
  sim_env_.ClearFaultRules();
  ASSERT_OK_AND_ASSIGN(const StreamInfo before, wal_->GetStreamInfo("s"));
  ASSERT_EQ(before.first_id, 3u);
  ASSERT_EQ(before.next_id, 7u);

  const std::string dir = StreamDir("s") + "/";
  bool recovered = false;
  uint64_t k = 0;
  for (; k < 400 && !recovered; ++k) {
    SCOPED_TRACE(absl::StrCat("EIO at I/O ", k, " of the recovery"));
    auto seen = std::make_shared<uint64_t>(0);
    sim_env_.SetHook([seen, k, dir](const SimOpInfo& op) -> std::optional<SimFault> {
      // (Written without a conditional expression: GCC's -Wmaybe-uninitialized misfires on
      // one that mixes an optional<SimFault> and nullopt under ASan.)
      if (op.path.compare(0, dir.size(), dir) != 0 || (*seen)++ != k) return std::nullopt;
      return SimFault::kIoError;
    });
    absl::StatusOr<StreamRecoveryReport> report = wal_->RecoverStream("s");
    sim_env_.SetHook(nullptr);
    if (report.ok()) {
      // Done once the fault no longer fires; an error recovery ignores (an unreadable
      // stream.key) is poisoned again for the next step.
      recovered = *seen <= k;
      if (recovered) break;
      FailSyncOf("s");
      EXPECT_THAT(wal_->Append("s", "never acknowledged"), StatusIs(absl::StatusCode::kInternal));
      sim_env_.ClearFaultRules();
      continue;
    }
    ExpectPoisoned("s");
    ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo("s"));
    EXPECT_EQ(info.first_id, before.first_id);
    EXPECT_EQ(info.next_id, before.next_id);
    EXPECT_EQ(info.segment_count, before.segment_count);
    EXPECT_THAT(wal_->Get("s", 2), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(wal_->Get("s", 6), IsOkAndHolds("s6"));
    EXPECT_EQ(IterateAll("s", 3), expected);
    if (::testing::Test::HasFailure()) break;
  }
  ASSERT_TRUE(recovered) << "no recovery succeeded";
  // 28 operations since ReadFileToString reads a small file without a stat for its size.
  ASSERT_GT(k, 20u) << "the recovery made too few I/O operations to test anything";
  EXPECT_EQ(IterateAll("s", 3), expected);
  EXPECT_THAT(wal_->Append("s", "s7"), IsOkAndHolds(7u));
  ASSERT_OK(CrashAndOpen());
  expected.push_back("s7");
  EXPECT_EQ(IterateAll("s", 3), expected);
}

TEST_F(RecoverStreamTest, HealthyAndUnknownStreams) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  absl::StatusOr<StreamRecoveryReport> report = wal_->RecoverStream("s");
  ASSERT_OK(report.status());
  EXPECT_TRUE(report->clean()) << report->ToString();
  EXPECT_THAT(wal_->Append("s", "b"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->RecoverStream("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->Sync("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->Flush("nope"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(wal_->Close());
  EXPECT_THAT(wal_->RecoverStream("s"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->Sync("s"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// kAsync: Flush(stream) hands that stream's buffer to the file, and only that stream's.
TEST_F(RecoverStreamTest, FlushAndSyncOfOneStream) {
  options_.sync_mode = SyncMode::kAsync;
  options_.write_buffer_size = 1 << 20;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  ASSERT_OK(wal_->Append("t", "b"));
  const uint64_t t_size = FileSize(SegmentPath("t", 0));
  ASSERT_EQ(FileSize(SegmentPath("s", 0)), 0u);
  ASSERT_OK(wal_->Flush("s"));
  EXPECT_GT(FileSize(SegmentPath("s", 0)), 0u);
  EXPECT_EQ(FileSize(SegmentPath("t", 0)), t_size);
  ASSERT_OK(wal_->Sync("t"));
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(wal_->Get("t", 0), IsOkAndHolds("b"));
  EXPECT_THAT(wal_->Get("s", 0), StatusIs(absl::StatusCode::kOutOfRange));  // never synced
}

// Appends to other streams run while one stream recovers: they never wait for it.
TEST_F(RecoverStreamTest, OtherStreamsKeepWorkingDuringRecovery) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  FailSyncOf("s");
  EXPECT_THAT(wal_->Append("s", "b"), StatusIs(absl::StatusCode::kInternal));
  std::thread other([&] {
    for (uint64_t i = 0; i < 50; ++i) EXPECT_THAT(wal_->Append("other", "x"), IsOkAndHolds(i));
  });
  ASSERT_OK(wal_->RecoverStream("s").status());
  EXPECT_THAT(wal_->Append("s", "b"), IsOkAndHolds(1u));
  other.join();
  ASSERT_OK(CrashAndOpen());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("a", "b"));
  EXPECT_EQ(IterateAll("other", 0).size(), 50u);
}

}  // namespace
}  // namespace ironwal
