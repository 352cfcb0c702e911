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

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

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

INSTANTIATE_TEST_SUITE_P(Modes, WalConcurrencyTest,
                         ::testing::Values(SyncMode::kStrict, SyncMode::kBatchOnly,
                                           SyncMode::kAsync),
                         [](const auto& info) {
                           std::string name = SyncModeName(info.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

}  // namespace
}  // namespace ironwal
