// Wal::WaitFor, the tailing wait: a tailer that waits and reads sees every entry in order
// exactly once while a writer appends across rotations and front truncations; kDurable
// needs a sync (kAsync: Sync or a rotation); Close, a delete, a suffix truncation and a
// poisoning end a blocked wait with their documented codes; deadlines run on the Env's
// clock (SimEnv's simulated one: no real time passes in these tests, nothing sleeps).
//
// A test that needs a waiter to be blocked before it acts waits for the Env's WaitUntil to
// be called (WaitCountingEnv): the waiter calls it holding the notifier's lock, which the
// action's wake-up needs, so the wake-up can only reach it once it is blocked.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kNoDeadline = Wal::kNoDeadline;

// Counts the waits that began, and lets a test block until some number of them has.
class WaitCountingEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;

  void WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                 uint64_t deadline_micros) override {
    {
      std::lock_guard<std::mutex> guard(mu_);
      ++waits_;
    }
    changed_.notify_all();
    EnvWrapper::WaitUntil(cv, lock, deadline_micros);
  }

  // Returns once `n` waits have begun.
  void AwaitWaits(int n) {
    std::unique_lock<std::mutex> guard(mu_);
    changed_.wait(guard, [&] { return waits_ >= n; });
  }
  int waits() {
    std::lock_guard<std::mutex> guard(mu_);
    return waits_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waits_ = 0;
};

SimEnvOptions StillClock() {
  SimEnvOptions options;
  options.micros_per_call = 0;  // the clock moves only by AdvanceClock
  return options;
}

class WaitForTest : public ::testing::Test {
 protected:
  WaitForTest() : sim_(StillClock()), env_(&sim_) {
    options_.env = &env_;
    options_.root = "/wal";
    options_.max_entries_per_segment = 2;
  }

  void Open() {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options_);
    ASSERT_TRUE(wal.ok()) << wal.status();
    wal_ = *std::move(wal);
  }

  // Runs WaitFor on a thread of its own; Result() joins it.
  void StartWaiter(const std::string& stream, uint64_t id, uint64_t deadline,
                   WaitCondition condition = WaitCondition::kVisible) {
    waits_before_ = env_.waits();
    waiter_ = std::thread([=] { result_ = wal_->WaitFor(stream, id, deadline, condition); });
  }
  // Returns once the waiter started above is blocked.
  void AwaitBlocked() { env_.AwaitWaits(waits_before_ + 1); }
  absl::Status Result() {
    waiter_.join();
    return result_;
  }

  SimEnv sim_;
  WaitCountingEnv env_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
  std::thread waiter_;
  absl::Status result_;
  int waits_before_ = 0;
};

TEST_F(WaitForTest, ReturnsAtOnceForAVisibleEntryAndTimesOutOnThePastDeadline) {
  Open();
  ASSERT_OK(wal_->Append("s", "a").status());
  sim_.AdvanceClock(100);
  EXPECT_OK(wal_->WaitFor("s", 0, /*deadline_micros=*/0));
  EXPECT_THAT(wal_->WaitFor("s", 1, 100),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("ID 1 of stream 's'")));
  EXPECT_EQ(env_.waits(), 0);  // neither blocked
}

TEST_F(WaitForTest, BlockedWaiterWakesOnAppendAndTimesOutOnlyWhenTheSimClockReachesIt) {
  Open();
  ASSERT_OK(wal_->Append("s", "a").status());
  StartWaiter("s", 1, /*deadline=*/1000);
  AwaitBlocked();
  sim_.AdvanceClock(999);  // not yet: the append below is what it returns for
  ASSERT_OK(wal_->Append("s", "b").status());
  EXPECT_OK(Result());

  StartWaiter("s", 2, /*deadline=*/2000);
  AwaitBlocked();
  sim_.AdvanceClock(1000);  // the clock is now 1999
  ASSERT_OK(wal_->PutStreamMetadata("s", "m"));
  sim_.AdvanceClock(1);  // 2000: the deadline
  EXPECT_THAT(Result(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(sim_.NowMicros(), 2000u);
}

TEST_F(WaitForTest, DurableUnderAsyncNeedsASyncOrARotation) {
  options_.sync_mode = SyncMode::kAsync;
  Open();
  ASSERT_OK(wal_->Append("s", "0").status());
  EXPECT_OK(wal_->WaitFor("s", 0, 0, WaitCondition::kVisible));
  EXPECT_THAT(wal_->WaitFor("s", 0, 0, WaitCondition::kDurable),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("durable")));
  // A blocked durable waiter is woken by the next append but keeps waiting; Sync ends it.
  StartWaiter("s", 1, kNoDeadline, WaitCondition::kDurable);
  AwaitBlocked();
  ASSERT_OK(wal_->Append("s", "1").status());
  env_.AwaitWaits(waits_before_ + 2);  // it checked again after the append, and waits again
  ASSERT_OK(wal_->Sync("s"));
  EXPECT_OK(Result());
  EXPECT_OK(wal_->WaitFor("s", 0, 0, WaitCondition::kDurable));
  // Two entries per segment: appending ID 2 rotates, which syncs the full segment (up to
  // ID 1, already durable) but not ID 2 itself; ID 3 fills it, and ID 4 rotates again.
  ASSERT_OK(wal_->Append("s", "2").status());
  EXPECT_THAT(wal_->WaitFor("s", 2, 0, WaitCondition::kDurable),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(wal_->Append("s", "3").status());
  ASSERT_OK(wal_->Append("s", "4").status());
  EXPECT_OK(wal_->WaitFor("s", 3, 0, WaitCondition::kDurable));
  EXPECT_THAT(wal_->WaitFor("s", 4, 0, WaitCondition::kDurable),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(WaitForTest, DurableUnderBatchOnlyNeedsABatch) {
  options_.sync_mode = SyncMode::kBatchOnly;
  options_.max_entries_per_segment = 100;
  Open();
  ASSERT_OK(wal_->Append("s", "0").status());
  EXPECT_THAT(wal_->WaitFor("s", 0, 0, WaitCondition::kDurable),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(wal_->AppendBatch("s", {"1", "2"}).status());
  EXPECT_OK(wal_->WaitFor("s", 2, 0, WaitCondition::kDurable));
}

TEST_F(WaitForTest, DurableUnderStrictIsVisible) {
  options_.sync_mode = SyncMode::kStrict;
  Open();
  ASSERT_OK(wal_->Append("s", "0").status());
  EXPECT_OK(wal_->WaitFor("s", 0, 0, WaitCondition::kDurable));
}

TEST_F(WaitForTest, CloseWakesABlockedWaiterWithCancelled) {
  Open();
  ASSERT_OK(wal_->CreateStream("s", 0));
  StartWaiter("s", 0, kNoDeadline);
  AwaitBlocked();
  ASSERT_OK(wal_->Close());  // returns only once the waiter left (it holds a call)
  EXPECT_THAT(Result(), StatusIs(absl::StatusCode::kCancelled, HasSubstr("closed")));
  EXPECT_THAT(wal_->WaitFor("s", 0, kNoDeadline), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(WaitForTest, SuffixTruncationDuringTheWaitIsAborted) {
  Open();
  for (int i = 0; i < 5; ++i) ASSERT_OK(wal_->Append("s", std::to_string(i)).status());
  StartWaiter("s", 5, kNoDeadline);
  AwaitBlocked();
  ASSERT_OK(wal_->TruncateSuffix("s", 3));  // IDs 3 and 4 will hold other entries
  EXPECT_THAT(Result(), StatusIs(absl::StatusCode::kAborted, HasSubstr("suffix-truncated")));
  // A wait that starts afterwards waits for the new ID 3.
  StartWaiter("s", 3, kNoDeadline);
  AwaitBlocked();
  ASSERT_OK(wal_->Append("s", "new 3").status());
  EXPECT_OK(Result());
}

TEST_F(WaitForTest, DeletedUnknownAndTrimmedAreNotFound) {
  Open();
  EXPECT_THAT(wal_->WaitFor("nope", 0, kNoDeadline), StatusIs(absl::StatusCode::kNotFound));
  for (int i = 0; i < 4; ++i) ASSERT_OK(wal_->Append("s", std::to_string(i)).status());
  ASSERT_OK(wal_->TrimFront("s", 3).status());
  EXPECT_THAT(wal_->WaitFor("s", 2, kNoDeadline),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("below the first")));
  StartWaiter("s", 4, kNoDeadline);
  AwaitBlocked();
  ASSERT_OK(wal_->DeleteStream("s"));
  EXPECT_THAT(Result(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("deleted")));
}

TEST_F(WaitForTest, APoisonedStreamEndsTheWaitWithFailedPrecondition) {
  options_.sync_mode = SyncMode::kStrict;
  Open();
  ASSERT_OK(wal_->Append("s", "0").status());
  StartWaiter("s", 1, kNoDeadline);
  AwaitBlocked();
  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.path_pattern = "/wal/s/*.wal";
  sim_.AddFaultRule(rule);
  EXPECT_FALSE(wal_->Append("s", "1").ok());
  EXPECT_THAT(Result(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("poisoned")));
  // An entry that is visible is still OK to wait for.
  EXPECT_OK(wal_->WaitFor("s", 0, kNoDeadline));
  sim_.ClearFaultRules();
  ASSERT_OK(wal_->RecoverStream("s").status());
  ASSERT_OK(wal_->Append("s", "1 again").status());
  EXPECT_OK(wal_->WaitFor("s", 1, kNoDeadline, WaitCondition::kDurable));
}

// A writer appends (single entries and batches) across many rotations, truncating the
// front behind the tailer, and syncs now and then; the tailer waits and reads, and must
// see every ID in order exactly once, with its own bytes.
void TailWhileWriting(SyncMode mode, WaitCondition condition) {
  SCOPED_TRACE(std::string(SyncModeName(mode)) +
               (condition == WaitCondition::kDurable ? " durable" : " visible"));
  MemEnv env;
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  options.sync_mode = mode;
  options.max_entries_per_segment = 3;
  std::unique_ptr<Wal> wal = Wal::Open(options).value();
  ASSERT_OK(wal->CreateStream("s", 0));
  constexpr uint64_t kTotal = 400;
  std::atomic<uint64_t> consumed{0};

  std::thread writer([&] {
    uint64_t next = 0;
    for (int round = 0; next < kTotal; ++round) {
      if (round % 7 == 0 && next + 3 <= kTotal) {
        const std::string a = std::to_string(next), b = std::to_string(next + 1),
                          c = std::to_string(next + 2);
        EXPECT_EQ(wal->AppendBatch("s", {a, b, c}).value().first, next);
        next += 3;
      } else {
        EXPECT_EQ(wal->Append("s", std::to_string(next)).value(), next);
        ++next;
      }
      if (round % 25 == 0) {
        EXPECT_OK(wal->Sync("s"));
      }
      if (round % 40 == 0) {
        EXPECT_OK(wal->Truncate("s", consumed.load() / 2).status());
      }
    }
    EXPECT_OK(wal->Sync("s"));
  });

  std::unique_ptr<Iterator> it = wal->NewIterator("s", 0).value();
  uint64_t next = 0;
  while (next < kTotal) {
    const absl::Status ready = wal->WaitFor("s", next, kNoDeadline, condition);
    ASSERT_TRUE(ready.ok()) << ready;
    if (condition == WaitCondition::kDurable) {
      ASSERT_EQ(wal->Get("s", next).value(), std::to_string(next));
      consumed.store(++next);
      continue;
    }
    const uint64_t before = next;
    for (it->Seek(next); it->Valid(); it->Next(), ++next) {
      ASSERT_EQ(it->id(), next);
      ASSERT_EQ(it->value(), std::to_string(next));
      consumed.store(next + 1);
    }
    ASSERT_TRUE(it->status().ok()) << it->status();
    ASSERT_GT(next, before);  // WaitFor said `before` is visible
  }
  writer.join();
  EXPECT_EQ(next, kTotal);
  EXPECT_GT(wal->GetStreamInfo("s").value().segment_count, 0u);
}

TEST(WaitForTailTest, TailerSeesEveryEntryInOrderAcrossRotationsAndTruncations) {
  for (SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync}) {
    TailWhileWriting(mode, WaitCondition::kVisible);
    TailWhileWriting(mode, WaitCondition::kDurable);
  }
}

}  // namespace
}  // namespace ironwal
