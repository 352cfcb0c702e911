// The group-commit rules of WriteQueue, with a GroupWriter that writes nothing (one "sync"
// per group) and a clock that moves only when read: leader election, followers riding
// the next sync, the linger bounded by the clock, errors reaching exactly the writers of
// the failed group, and writes never split across groups. (On a Stream, a write after a
// poison failing at once: group_commit_test.cc.)
#include "ironwal/stream/write_queue.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using State = QueuedWrite::State;

// Writes groups into a list (each write named by its first entry), one sync per group.
// The gate, when closed, holds a leader inside WriteGroup.
class FakeGroupWriter : public WriteQueue::GroupWriter {
 public:
  absl::Status WriteGroup(absl::Span<QueuedWrite* const> group) override {
    std::unique_lock<std::mutex> l(mu_);
    std::vector<std::string> names;
    for (QueuedWrite* w : group) names.emplace_back(w->entries()[0]);
    groups_.push_back(names);
    cv_.notify_all();
    cv_.wait(l, [&] { return open_; });
    const absl::Status result =
        fail_group_ == groups_.size() ? absl::DataLossError("boom") : absl::OkStatus();
    for (QueuedWrite* w : group) {
      if (w->entries()[0] == refuse_) {
        w->SetFailed(absl::InvalidArgumentError("refused"));
      } else if (result.ok() || w->entries()[0] == settle_before_failing_) {
        w->SetWritten(next_id_);
        next_id_ += w->entries().size();
      }
    }
    ++syncs_;
    return result;
  }

  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks until `n` groups have reached WriteGroup.
  void AwaitGroups(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return groups_.size() >= n; });
  }
  std::vector<std::vector<std::string>> groups() {
    std::lock_guard<std::mutex> l(mu_);
    return groups_;
  }
  int syncs() {
    std::lock_guard<std::mutex> l(mu_);
    return syncs_;
  }

  // The nth group (1-based) fails; within it, the write named settle_before_failing_ is
  // settled first (as one written before a rotation), and refuse_ is refused on its own.
  size_t fail_group_ = 0;
  std::string settle_before_failing_;
  std::string refuse_;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  std::vector<std::vector<std::string>> groups_;
  int syncs_ = 0;
  uint64_t next_id_ = 0;
};

// A clock that moves by `step` on every read, and counts the reads.
class StepClock : public MemEnv {
 public:
  uint64_t NowMicros() override {
    std::lock_guard<std::mutex> l(mu_);
    ++reads_;
    now_ += step_;
    return now_;
  }
  void set_step(uint64_t step) {
    std::lock_guard<std::mutex> l(mu_);
    step_ = step;
  }
  uint64_t reads() {
    std::lock_guard<std::mutex> l(mu_);
    return reads_;
  }

 private:
  std::mutex mu_;
  uint64_t step_ = 1;
  uint64_t now_ = 0;
  uint64_t reads_ = 0;
};

// One write and its entries, submitted from a thread of its own.
class Writer {
 public:
  Writer(std::string name, uint64_t bytes, size_t entries = 1)
      : name_(std::move(name)), entries_(entries, name_), write_(entries_, false, bytes) {}
  void Start(WriteQueue* queue) {
    thread_ = std::thread([this, queue] { queue->Submit(&write_); });
  }
  const QueuedWrite& Join() {
    if (thread_.joinable()) thread_.join();
    return write_;
  }

 private:
  const std::string name_;
  const std::vector<absl::string_view> entries_;
  QueuedWrite write_;
  std::thread thread_;
};

// Options for a lingering queue on `clock`, bounded by `spins`.
WriteQueue::Options Lingering(StepClock* clock, int spins) {
  WriteQueue::Options options;
  options.linger = true;
  options.linger_micros = 100;
  options.max_linger_spins = spins;
  options.clock = clock;
  return options;
}

// `n` writers of 10 bytes named prefix0, prefix1, ..., and pointers to them in that order.
struct Writers {
  Writers(absl::string_view prefix, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      owned.push_back(std::make_unique<Writer>(absl::StrCat(prefix, i), 10));
      in_order.push_back(owned.back().get());
    }
  }
  std::vector<std::unique_ptr<Writer>> owned;
  std::vector<Writer*> in_order;
};

struct Harness {
  explicit Harness(WriteQueue::Options options = WriteQueue::Options()) : queue(options, &writer) {}
  // Holds `first` inside WriteGroup, then queues `rest` behind it one by one (so their
  // order in the queue is the order given).
  void HoldAndQueue(Writer* first, const std::vector<Writer*>& rest) {
    writer.Close();
    const size_t groups = writer.groups().size();
    first->Start(&queue);
    writer.AwaitGroups(groups + 1);
    for (Writer* w : rest) {
      const size_t before = queue.size();
      w->Start(&queue);
      while (queue.size() == before) std::this_thread::yield();
    }
  }
  // Runs one group of `n` writers after a leader of its own, so that a lingering leader
  // next waits for `n`.
  void GroupOf(int n) {
    Writer leader("leader", 10);
    Writers rest("f", static_cast<size_t>(n));
    const std::vector<Writer*>& queued = rest.in_order;
    HoldAndQueue(&leader, queued);
    writer.Open();
    leader.Join();
    for (Writer* w : queued) w->Join();
  }
  FakeGroupWriter writer;
  WriteQueue queue;
};

TEST(WriteQueueTest, TheFirstWriterLeadsAloneOnItsOwnThread) {
  Harness h;
  std::vector<absl::string_view> entries = {"a", "b"};
  QueuedWrite w(entries, /*batch=*/true, 10);
  h.queue.Submit(&w);  // returns: this thread was the leader
  EXPECT_EQ(w.state(), State::kWritten);
  EXPECT_EQ(w.first_id(), 0u);
  EXPECT_THAT(h.writer.groups(), ElementsAre(ElementsAre("a")));
  EXPECT_EQ(h.queue.size(), 0u);
}

TEST(WriteQueueTest, FollowersQueuedBehindALeadersSyncShareTheNextOne) {
  Harness h;
  Writer leader("leader", 10), f1("f1", 10), f2("f2", 10), f3("f3", 10);
  h.HoldAndQueue(&leader, {&f1, &f2, &f3});
  EXPECT_EQ(h.queue.size(), 4u) << "the leader's group counts until it is released";
  h.writer.Open();
  for (Writer* w : {&leader, &f1, &f2, &f3}) EXPECT_EQ(w->Join().state(), State::kWritten);
  EXPECT_THAT(h.writer.groups(), ElementsAre(ElementsAre("leader"), ElementsAre("f1", "f2", "f3")));
  EXPECT_EQ(h.writer.syncs(), 2);
  EXPECT_EQ(f3.Join().first_id(), 3u);
}

TEST(WriteQueueTest, WritesAreNeverSplitAndAGroupStaysUnderTheByteLimit) {
  WriteQueue::Options options;
  options.max_group_bytes = 100;
  Harness h(options);
  Writer leader("leader", 10), a("a", 40, 3), b("b", 60, 5), big("big", 150, 7), c("c", 10);
  h.HoldAndQueue(&leader, {&a, &b, &big, &c});
  h.writer.Open();
  EXPECT_EQ(a.Join().first_id(), 1u);
  EXPECT_EQ(b.Join().first_id(), 4u);
  EXPECT_EQ(big.Join().first_id(), 9u) << "a write larger than the limit goes alone, whole";
  EXPECT_EQ(c.Join().first_id(), 16u);
  leader.Join();
  EXPECT_THAT(h.writer.groups(), ElementsAre(ElementsAre("leader"), ElementsAre("a", "b"),
                                             ElementsAre("big"), ElementsAre("c")));
}

// A long queue released a group at a time keeps its order: the front moves past each
// group, and the slots before it are given back once they are most of the queue (twice
// here: after some 150 writers, then some 75), without losing or reordering a writer
// still queued behind.
TEST(WriteQueueTest, ALongQueueKeepsItsOrderAsGroupsLeaveIt) {
  WriteQueue::Options options;
  options.max_group_bytes = 30;  // three writers a group
  Harness h(options);
  constexpr size_t kWriters = 300;
  Writer leader("leader", 10);
  Writers rest("w", kWriters);
  const std::vector<Writer*>& queued = rest.in_order;
  h.HoldAndQueue(&leader, queued);
  EXPECT_EQ(h.queue.size(), kWriters + 1);
  h.writer.Open();
  EXPECT_EQ(leader.Join().first_id(), 0u);
  for (size_t i = 0; i < kWriters; ++i) {
    const QueuedWrite& w = queued[i]->Join();
    ASSERT_EQ(w.state(), State::kWritten) << i;
    ASSERT_EQ(w.first_id(), i + 1) << i;
  }
  const std::vector<std::vector<std::string>> groups = h.writer.groups();
  ASSERT_EQ(groups.size(), 1 + kWriters / 3);
  for (size_t g = 1; g < groups.size(); ++g) {
    const size_t first = 3 * (g - 1);
    ASSERT_THAT(groups[g], ElementsAre(absl::StrCat("w", first), absl::StrCat("w", first + 1),
                                       absl::StrCat("w", first + 2)))
        << g;
  }
  EXPECT_EQ(h.queue.size(), 0u);
  std::vector<absl::string_view> entries = {"after"};
  QueuedWrite after(entries, false, 10);
  h.queue.Submit(&after);
  EXPECT_EQ(after.first_id(), kWriters + 1);
}

TEST(WriteQueueTest, AnErrorReachesExactlyTheWritersOfTheFailedGroup) {
  Harness h;
  h.writer.fail_group_ = 2;
  h.writer.settle_before_failing_ = "f1";  // written before the failure (say, a rotation)
  h.writer.refuse_ = "f3";                 // refused on its own
  Writer leader("leader", 10), f1("f1", 10), f2("f2", 10), f3("f3", 10), f4("f4", 10);
  h.HoldAndQueue(&leader, {&f1, &f2, &f3, &f4});
  h.writer.Open();
  EXPECT_EQ(leader.Join().state(), State::kWritten);
  EXPECT_EQ(f1.Join().state(), State::kWritten);
  EXPECT_THAT(f2.Join().error(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("boom")));
  EXPECT_THAT(f3.Join().error(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(f4.Join().error(), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_EQ(h.writer.groups().size(), 2u);

  // The next group is not touched by the earlier failure.
  std::vector<absl::string_view> entries = {"after"};
  QueuedWrite after(entries, false, 10);
  h.queue.Submit(&after);
  EXPECT_EQ(after.state(), State::kWritten);
}

// After a group of three, a lingering leader waits for three; the clock ends the wait after
// linger_micros of it, and the next leader expects only as many as came.
TEST(WriteQueueTest, TheLingerIsBoundedByTheClock) {
  StepClock clock;
  Harness h(Lingering(&clock, 1 << 30));
  h.GroupOf(3);
  EXPECT_EQ(clock.reads(), 0u) << "no linger before a group of several";

  std::vector<absl::string_view> entries = {"alone"};
  QueuedWrite alone(entries, false, 10);
  h.queue.Submit(&alone);
  EXPECT_EQ(alone.state(), State::kWritten);
  // One read for the deadline, then one per check until the clock reaches it.
  EXPECT_EQ(clock.reads(), 1u + 100u);

  QueuedWrite next(entries, false, 10);
  h.queue.Submit(&next);
  EXPECT_EQ(clock.reads(), 101u) << "the target fell to the one writer that came";
}

TEST(WriteQueueTest, TheLingerIsBoundedBySpinsWhenTheClockStandsStill) {
  StepClock clock;
  Harness h(Lingering(&clock, 50));
  h.GroupOf(2);
  clock.set_step(0);
  std::vector<absl::string_view> entries = {"alone"};
  QueuedWrite alone(entries, false, 10);
  h.queue.Submit(&alone);
  EXPECT_EQ(alone.state(), State::kWritten);
  // One read for the deadline, one per spin, and the one that the spin count then stops.
  EXPECT_EQ(clock.reads(), 1u + 50u + 1u);
}

// A lingering leader takes the writers that come while it waits into its group.
TEST(WriteQueueTest, ALingeringLeaderTakesTheWritersThatCome) {
  StepClock clock;
  Harness h(Lingering(&clock, 1 << 30));
  h.GroupOf(2);
  clock.set_step(0);  // the deadline never comes: only the writers end the wait
  Writer a("a", 10), b("b", 10);
  a.Start(&h.queue);
  while (clock.reads() == 0) std::this_thread::yield();  // a lingers
  b.Start(&h.queue);
  a.Join();
  b.Join();
  EXPECT_THAT(h.writer.groups().back(), ElementsAre("a", "b"));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
