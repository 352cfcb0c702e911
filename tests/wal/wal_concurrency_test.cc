// Concurrency: many writers on one stream (group commit), writers on many streams, readers
// and iterators racing writers, truncation racing readers. Each test checks its history
// against what a sequential log must look like: every returned ID unique and gap-free,
// every ID's bytes the bytes its writer wrote. Run under --config=tsan in CI.
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/base/test_point.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

// Stops and joins a thread when the test leaves the scope (also through a failed ASSERT).
class Joiner {
 public:
  Joiner(std::atomic<bool>* done, std::thread* thread) : done_(done), thread_(thread) {}
  ~Joiner() {
    *done_ = true;
    thread_->join();
  }

 private:
  std::atomic<bool>* const done_;
  std::thread* const thread_;
};

class WalConcurrencyTest : public ::ironwal::testing::MemWalTest,
                           public ::testing::WithParamInterface<SyncMode> {
 protected:
  void SetUp() override {
    options_.sync_mode = GetParam();
    options_.max_segment_size = 4096;  // rotate often while threads race
    ASSERT_OK(Open());
  }
};

// 0.6 test_concurrent_appends, and the group-commit contract: IDs are unique, dense, and
// each holds what its writer wrote.
TEST_P(WalConcurrencyTest, ManyWritersOnOneStreamGetDenseUniqueIds) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string entry = absl::StrCat("t", t, "-", i);
        if (i % 10 == 0) {
          absl::StatusOr<IdRange> ids =
              wal_->AppendBatch("s", std::vector<std::string>{entry, entry + "b"});
          ASSERT_TRUE(ids.ok()) << ids.status();
          got[t].emplace_back(ids->first, entry);
          got[t].emplace_back(ids->first + 1, entry + "b");
        } else {
          absl::StatusOr<uint64_t> id = wal_->Append("s", entry);
          ASSERT_TRUE(id.ok()) << id.status();
          got[t].emplace_back(*id, entry);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::map<uint64_t, std::string> by_id;
  for (const auto& v : got) {
    for (const auto& [id, entry] : v) ASSERT_TRUE(by_id.emplace(id, entry).second) << id;
    // Each thread's IDs increase: its writes were ordered.
    for (size_t i = 1; i < v.size(); ++i) ASSERT_LT(v[i - 1].first, v[i].first);
  }
  const uint64_t total = kThreads * (kPerThread + kPerThread / 10);
  ASSERT_EQ(by_id.size(), total);
  EXPECT_EQ(by_id.rbegin()->first, total - 1);
  const std::vector<std::string> all = IterateAll("s", 0);
  ASSERT_EQ(all.size(), total);
  for (const auto& [id, entry] : by_id) ASSERT_EQ(all[id], entry) << "id " << id;
}

// W10: different streams never block each other, and keep separate ID sequences.
TEST_P(WalConcurrencyTest, WritersOnDifferentStreamsKeepTheirOwnSequences) {
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = absl::StrCat("stream-", t);
      for (int i = 0; i < 300; ++i) {
        absl::StatusOr<uint64_t> id = wal_->Append(stream, absl::StrCat(i));
        ASSERT_TRUE(id.ok()) << id.status();
        ASSERT_EQ(*id, static_cast<uint64_t>(i));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK(Reopen());
  for (int t = 0; t < kThreads; ++t) {
    const std::vector<std::string> all = IterateAll(absl::StrCat("stream-", t), 0);
    ASSERT_EQ(all.size(), 300u);
    EXPECT_EQ(all[299], "299");
  }
}

// 0.6 test_concurrent_read_write: readers see only whole, published entries, and every
// ID a reader sees below next_id reads back exactly.
TEST_P(WalConcurrencyTest, ReadersAndIteratorsRaceWriters) {
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 1500; ++i) {
      absl::StatusOr<uint64_t> id = wal_->Append("s", absl::StrCat("v", i));
      ASSERT_TRUE(id.ok()) << id.status();
    }
    done = true;
  });
  std::thread getter([&] {
    uint64_t checked = 0;
    while (!done || checked < 1500) {
      absl::StatusOr<StreamInfo> info = wal_->GetStreamInfo("s");
      if (!info.ok()) continue;  // not created yet
      for (; checked < info->next_id; ++checked) {
        ASSERT_THAT(wal_->Get("s", checked), IsOkAndHolds(absl::StrCat("v", checked)));
      }
    }
  });
  std::thread iterating([&] {
    uint64_t next = 0;
    while (!done || next < 1500) {
      absl::StatusOr<std::unique_ptr<Iterator>> it = wal_->NewIterator("s", next);
      if (!it.ok()) continue;
      for (; (*it)->Valid(); (*it)->Next()) {
        ASSERT_EQ((*it)->id(), next);
        ASSERT_EQ((*it)->value(), absl::StrCat("v", next));
        ++next;
      }
      ASSERT_TRUE((*it)->status().ok()) << (*it)->status();
    }
  });
  writer.join();
  getter.join();
  iterating.join();
}

TEST_P(WalConcurrencyTest, TruncationRacesReadersWithoutWrongAnswers) {
  for (int i = 0; i < 400; ++i) ASSERT_OK(wal_->Append("s", absl::StrCat("v", i)));
  std::atomic<bool> done{false};
  std::thread truncator([&] {
    for (uint64_t keep = 0; keep <= 400; keep += 20) {
      ASSERT_OK(wal_->Truncate("s", keep));
    }
    done = true;
  });
  std::thread reader([&] {
    for (uint64_t round = 0; !done; ++round) {
      const uint64_t id = (round * 37) % 400;
      absl::StatusOr<std::string> got = wal_->Get("s", id);
      if (got.ok()) {
        ASSERT_EQ(*got, absl::StrCat("v", id));
      } else {
        ASSERT_EQ(got.status().code(), absl::StatusCode::kNotFound) << got.status();
      }
    }
  });
  truncator.join();
  reader.join();
}

// A tailing iterator never runs ahead of next_id(): the documented follow-up Seek(last + 1)
// after it stops is always valid. The iterator here runs while the writer has published a
// new frame to the offset index but not yet advanced next_id(); it used to return that
// frame's ID, and then Seek(last + 1) failed for good ("ID 2 is past the next ID 1").
TEST_P(WalConcurrencyTest, TailingIteratorNeverRunsAheadOfNextId) {
  if (GetParam() == SyncMode::kAsync) {
    GTEST_SKIP() << "kAsync publishes before writing: a read at the test point would flush, "
                    "taking the lock its own thread holds";
  }
  ASSERT_OK(wal_->Append("s", "v0"));
  absl::StatusOr<std::unique_ptr<Iterator>> made = wal_->NewIterator("s", 0);
  ASSERT_OK(made.status());
  Iterator& it = **made;
  uint64_t next = 0;
  // The tailing loop: read to the end, then Seek(next) to wait for more.
  const auto tail = [&] {
    it.Seek(next);
    for (; it.Valid(); it.Next()) {
      EXPECT_EQ(it.id(), next);
      EXPECT_EQ(it.value(), absl::StrCat("v", it.id()));
      ++next;
    }
    EXPECT_OK(it.status());
    it.Seek(next);
    EXPECT_OK(it.status());
  };
  int reached = 0;
  {
    ScopedTestPoint at("stream.publish.indexed", [&] {
      ++reached;
      tail();
      EXPECT_EQ(next, 1u) << "the iterator returned an ID at or past next_id() (1)";
    });
    ASSERT_OK(wal_->Append("s", "v1"));
  }
  EXPECT_EQ(reached, 1);
  tail();
  EXPECT_EQ(next, 2u);
}

// An empty batch (and an empty transaction) returns an empty range at the next ID, even
// while another thread appends: it used to read next_id() twice and could return [n, n+1).
TEST_P(WalConcurrencyTest, EmptyBatchIsEmptyWhileOthersAppend) {
  ASSERT_OK(wal_->Append("s", "first"));
  std::atomic<bool> done{false};
  std::thread appender([&] {
    for (int i = 0; !done; ++i) ASSERT_OK(wal_->Append("s", absl::StrCat(i)));
  });
  const Joiner join_appender(&done, &appender);
  uint64_t previous = 0;
  for (int i = 0; i < 100000; ++i) {
    absl::StatusOr<IdRange> ids;
    if (i % 2 == 0) {
      ids = wal_->AppendBatch("s", std::vector<std::string>{});
    } else {
      ids = wal_->NewTransaction("s").Commit();
    }
    ASSERT_OK(ids.status());
    ASSERT_TRUE(ids->empty()) << "round " << i << ": [" << ids->first << ", " << ids->end << ")";
    ASSERT_GE(ids->first, previous);
    previous = ids->first;
  }
}

// Close finishes while other threads keep calling: new calls are refused at once and the
// ones in flight drain. It used to wait for an exclusive lock that a steady stream of
// readers, each holding it shared, never let go (glibc's rwlock favours readers). Each
// worker stops at its first FailedPrecondition or after kMaxOps calls; Close must come
// first for every one of them.
TEST_P(WalConcurrencyTest, CloseFinishesWhileOthersKeepCalling) {
  constexpr int kThreads = 4;
  constexpr int kMaxOps = 100000;
  for (int i = 0; i < 10; ++i) ASSERT_OK(wal_->Append("s", absl::StrCat("v", i)));
  std::vector<std::atomic<int>> ops(kThreads);
  std::vector<int> stopped_by_close(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMaxOps; ++i) {
        absl::Status status;
        if (t == 0 && i % 4 == 0) {
          status = wal_->Append("w", "x").status();
        } else {
          status = wal_->Get("s", i % 10).status();
        }
        ops[t].store(i + 1, std::memory_order_relaxed);
        if (absl::IsFailedPrecondition(status)) {
          EXPECT_THAT(status.message(), ::testing::HasSubstr("closed"));
          stopped_by_close[t] = 1;
          return;
        }
        ASSERT_OK(status);
      }
    });
  }
  for (int t = 0; t < kThreads; ++t) {
    while (ops[t].load(std::memory_order_relaxed) < 1000) std::this_thread::yield();
  }
  ASSERT_OK(wal_->Close());
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(stopped_by_close[t], 1)
        << "thread " << t << " finished " << ops[t] << " calls before Close returned";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, WalConcurrencyTest,
                         ::testing::Values(SyncMode::kStrict, SyncMode::kBatchOnly,
                                           SyncMode::kAsync),
                         ::ironwal::testing::SyncModeTestName);

}  // namespace
}  // namespace ironwal
