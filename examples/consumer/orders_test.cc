// A downstream test of ironwal with @ironwal//ironwal/env:sim_env: acknowledged entries
// survive a simulated power loss, for many seeds.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/ironwal.h"

namespace {

std::string Order(uint64_t i) { return "order #" + std::to_string(i); }

// kBatchOnly: each batch is durable when it returns, with everything appended before it;
// the single appends after the last batch are only handed to the operating system.
TEST(OrdersTest, EverythingUpToTheLastBatchSurvivesACrash) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    ironwal::SimEnvOptions sim;
    sim.seed = seed;
    ironwal::SimEnv env(sim);
    ironwal::WalOptions options;
    options.env = &env;
    options.root = "/wal";
    options.sync_mode = ironwal::SyncMode::kBatchOnly;
    options.max_segment_size = 4096;  // several segments

    auto wal = ironwal::Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    uint64_t durable = 0;
    uint64_t written = 0;
    for (int round = 0; round < 10; ++round) {
      for (int i = 0; i < 5; ++i) {
        auto id = (*wal)->Append("orders", Order(written));
        ASSERT_TRUE(id.ok()) << id.status();
        ASSERT_EQ(*id, written++);
      }
      if (round % 3 == 2) continue;  // leave some singles unsynced
      auto ids = (*wal)->AppendBatch("orders", {Order(written), Order(written + 1)});
      ASSERT_TRUE(ids.ok()) << ids.status();
      written += 2;
      durable = written;
    }

    env.SetPowerCutAt(env.mutating_ops());  // the power fails: nothing more is written
    wal->reset();                           // the process dies (its last writes fail)
    ironwal::CrashOptions crash;
    crash.mode = ironwal::CrashMode::kKeepRandomBlocks;
    env.Crash(crash);
    wal = ironwal::Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();

    auto info = (*wal)->GetStreamInfo("orders");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_GE(info->next_id, durable);
    EXPECT_LE(info->next_id, written);
    for (uint64_t id = 0; id < info->next_id; ++id) {
      auto entry = (*wal)->Get("orders", id);
      ASSERT_TRUE(entry.ok()) << entry.status();
      EXPECT_EQ(*entry, Order(id));
    }
  }
}

}  // namespace
