// Parity with ironwal 0.6.3's tests/sharded/concurrency.rs (kBatchOnly, threads), plus the
// races 0.6 got wrong: concurrent checkpoints (S3), compaction racing creates (S4) and
// loads (S16), watermarks never going back (S6). Run under TSan by CI.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/sharded/sharded_wal.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace sharded {
namespace {

using ::ironwal::sharded::testing::MemOptions;
using ::ironwal::sharded::testing::ReadShard;

class ConcurrencyTest : public ::testing::Test {
 protected:
  std::unique_ptr<ShardedWal> Open(uint32_t shards, uint64_t segment_size = 64 << 20) {
    WalOptions options = MemOptions(&env_);
    options.sync_mode = SyncMode::kBatchOnly;
    options.max_segment_size = segment_size;
    absl::StatusOr<std::unique_ptr<ShardedWal>> wal = ShardedWal::Open(options, shards);
    EXPECT_OK(wal.status());
    return wal.ok() ? *std::move(wal) : nullptr;
  }
  uint64_t CountAll(ShardedWal* wal) {
    uint64_t n = 0;
    for (uint32_t s = 0; s < wal->shard_count(); ++s) {
      absl::StatusOr<std::map<uint64_t, std::string>> entries = ReadShard(wal, s, 0);
      EXPECT_OK(entries.status());
      if (entries.ok()) n += entries->size();
    }
    return n;
  }
  MemEnv env_;
};

void RunThreads(int n, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(body, t);
  for (std::thread& t : threads) t.join();
}

TEST_F(ConcurrencyTest, ConcurrentAppends) {
  auto wal = Open(16);
  RunThreads(10, [&](int t) {
    for (int i = 0; i < 100; ++i) {
      EXPECT_OK(wal->Append(absl::StrCat("t", t, "-", i), "v").status());
    }
  });
  EXPECT_EQ(CountAll(wal.get()), 1000u);
}

TEST_F(ConcurrencyTest, ConcurrentBatchAppends) {
  auto wal = Open(16);
  RunThreads(5, [&](int t) {
    for (int b = 0; b < 20; ++b) {
      std::vector<std::string> keys;
      for (int i = 0; i < 10; ++i) keys.push_back(absl::StrCat(t, "-", b, "-", i));
      std::vector<KeyValue> batch;
      for (const std::string& k : keys) batch.push_back({k, k});
      EXPECT_OK(wal->AppendBatch(batch).status());
    }
  });
  EXPECT_EQ(CountAll(wal.get()), 1000u);
}

// Also S6: checkpoints taken while writers run never go back, shard by shard.
TEST_F(ConcurrencyTest, WritesAndCheckpointsCheckpointsNeverGoBack) {
  auto wal = Open(4);
  std::vector<CheckpointData> made;
  std::thread writer([&] {
    for (int i = 0; i < 500; ++i) EXPECT_OK(wal->Append(absl::StrCat("k", i % 7), "v").status());
  });
  for (int c = 0; c < 10; ++c) {
    ASSERT_OK_AND_ASSIGN(CheckpointData data, wal->CreateCheckpoint(absl::StrCat("c", c)));
    made.push_back(data);
  }
  writer.join();
  for (int c = 0; c < 10; ++c) {
    ASSERT_OK_AND_ASSIGN(const CheckpointData data, wal->LoadCheckpoint(absl::StrCat("c", c)));
    EXPECT_EQ(data, made[c]);
    if (c > 0) {
      for (uint32_t s = 0; s < 4; ++s) EXPECT_GE(data.offsets[s], made[c - 1].offsets[s]);
    }
  }
}

// S6: many appenders on one shard; every checkpoint covers at least what was
// acknowledged before it was called, and the watermark never goes back.
TEST_F(ConcurrencyTest, WatermarksNeverGoBackUnderRacingAppenders) {
  auto wal = Open(1);
  std::atomic<bool> done{false};
  RunThreads(5, [&](int t) {
    if (t == 4) {
      uint64_t last = 0;
      for (int c = 0; c < 50; ++c) {
        ASSERT_OK_AND_ASSIGN(const CheckpointData d, wal->CreateCheckpoint("c"));
        EXPECT_GE(d.offsets[0], last);
        last = d.offsets[0];
      }
      done = true;
      return;
    }
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK_AND_ASSIGN(const ShardedId at, wal->Append("k", "v"));
      ASSERT_OK_AND_ASSIGN(const CheckpointData d, wal->CreateCheckpoint(absl::StrCat("t", t)));
      EXPECT_GT(d.offsets[0], at.id);  // covers this thread's acknowledged append
    }
  });
  ASSERT_TRUE(done);
}

// S3: concurrent creates never fail, and HEAD names the last one in the log.
TEST_F(ConcurrencyTest, ConcurrentCreatesAreSerialized) {
  {
    auto wal = Open(4);
    RunThreads(8, [&](int t) {
      for (int c = 0; c < 20; ++c) {
        EXPECT_OK(wal->CreateCheckpoint(absl::StrCat("t", t, "-", c)).status());
      }
    });
    EXPECT_EQ(wal->checkpoint_count(), 160u);
  }
  auto wal = Open(4);
  EXPECT_EQ(wal->checkpoint_count(), 160u);
  EXPECT_EQ(wal->checkpoint_log_report().torn_tail_bytes, 0u);
  ASSERT_OK_AND_ASSIGN(const NamedCheckpoint latest, wal->LoadLatestCheckpoint());
  ASSERT_OK_AND_ASSIGN(const std::string head, ReadFileToString(&env_, "/wal/HEAD"));
  EXPECT_EQ(head.substr(2), latest.user_id);
}

TEST_F(ConcurrencyTest, ConcurrentCheckpointLoads) {
  auto wal = Open(4);
  for (int c = 0; c < 10; ++c) ASSERT_OK(wal->CreateCheckpoint(absl::StrCat("c", c)).status());
  RunThreads(10, [&](int t) {
    for (int i = 0; i < 100; ++i)
      EXPECT_OK(wal->LoadCheckpoint(absl::StrCat("c", (t + i) % 10)).status());
  });
}

TEST_F(ConcurrencyTest, ConcurrentWritesAndPrune) {
  auto wal = Open(4, 2048);
  for (int i = 0; i < 200; ++i)
    ASSERT_OK(wal->Append(absl::StrCat("k", i), std::string(100, 'x')).status());
  ASSERT_OK_AND_ASSIGN(const CheckpointData cut, wal->CreateCheckpoint("cut"));
  std::thread writer([&] {
    for (int i = 0; i < 300; ++i) EXPECT_OK(wal->Append(absl::StrCat("k", i), "y").status());
  });
  ASSERT_OK(wal->PruneBeforeCheckpoint("cut").status());
  writer.join();
  for (uint32_t s = 0; s < 4; ++s) EXPECT_OK(ReadShard(wal.get(), s, cut.offsets[s]).status());
}

// S4 + S16: creates and loads racing a compaction lose no acknowledged checkpoint and
// never see a wrong one.
TEST_F(ConcurrencyTest, CompactionRacingCreatesAndLoadsLosesNothing) {
  std::set<std::string> acknowledged;
  {
    auto wal = Open(4);
    for (int c = 0; c < 20; ++c) ASSERT_OK(wal->CreateCheckpoint(absl::StrCat("old", c)).status());
    std::mutex mu;
    RunThreads(4, [&](int t) {
      for (int c = 0; c < 25; ++c) {
        if (t == 0) {
          EXPECT_OK(wal->CompactCheckpoints(10).status());
        } else if (t == 1) {
          absl::StatusOr<NamedCheckpoint> latest = wal->LoadLatestCheckpoint();
          EXPECT_OK(latest.status());
        } else {
          const std::string id = absl::StrCat("new", t, "-", c);
          ASSERT_OK(wal->CreateCheckpoint(id).status());
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(id);
        }
      }
    });
    // Whatever compaction kept includes the newest, and each listed one loads.
    for (const CheckpointInfo& c : wal->ListCheckpoints())
      EXPECT_OK(wal->LoadCheckpoint(c.user_id).status());
  }
  auto wal = Open(4);
  ASSERT_OK_AND_ASSIGN(const NamedCheckpoint latest, wal->LoadLatestCheckpoint());
  EXPECT_TRUE(acknowledged.count(latest.user_id)) << latest.user_id;
  for (const CheckpointInfo& c : wal->ListCheckpoints())
    EXPECT_OK(wal->LoadCheckpoint(c.user_id).status());
  // After the last compaction (keep 10) only creates can have added entries.
  EXPECT_GE(wal->checkpoint_count(), 10u);
}

TEST_F(ConcurrencyTest, ManyConcurrentReaders) {
  auto wal = Open(8);
  for (int i = 0; i < 1000; ++i) ASSERT_OK(wal->Append(absl::StrCat("k", i), "v").status());
  RunThreads(20, [&](int) {
    uint64_t n = 0;
    for (uint32_t s = 0; s < 8; ++s) {
      absl::StatusOr<std::map<uint64_t, std::string>> entries = ReadShard(wal.get(), s, 0);
      EXPECT_OK(entries.status());
      if (entries.ok()) n += entries->size();
    }
    EXPECT_EQ(n, 1000u);
  });
}

}  // namespace
}  // namespace sharded
}  // namespace ironwal
