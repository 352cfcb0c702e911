// The ledger on a SimEnv: transfers acknowledged before a simulated power loss survive it,
// and the balances replayed afterwards add up to zero, for several seeds.
#include "ledger.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/ironwal.h"

namespace {

TEST(LedgerTest, AcknowledgedTransfersSurviveACrash) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    ironwal::SimEnvOptions sim;
    sim.seed = seed;
    ironwal::SimEnv env(sim);
    ironwal::WalOptions options;
    options.env = &env;
    options.root = "/ledger";
    options.sync_mode = ironwal::SyncMode::kBatchOnly;
    options.max_segment_size = 1024;  // several segments

    auto wal = ironwal::Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (int i = 0; i < 30; ++i) {
      auto id = monorepo::Transfer(**wal, absl::StrCat("acct", i % 3),
                                   absl::StrCat("acct", (i + 1) % 3), i);
      ASSERT_TRUE(id.ok()) << id.status();
      ASSERT_EQ(*id, static_cast<uint64_t>(i));
    }

    env.SetPowerCutAt(env.mutating_ops());  // the power fails: nothing more is written
    wal->reset();                           // the process dies (its last writes fail)
    ironwal::CrashOptions crash;
    crash.mode = ironwal::CrashMode::kKeepRandomBlocks;
    env.Crash(crash);
    wal = ironwal::Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();

    auto balances = monorepo::Balances(**wal);
    ASSERT_TRUE(balances.ok()) << balances.status();
    int64_t sum = 0;
    for (const auto& [account, balance] : *balances) sum += balance;
    EXPECT_EQ(sum, 0);
    // acct0 pays i for i = 0, 3, ..., 27 and receives i for i = 2, 5, ..., 29.
    EXPECT_EQ((*balances)["acct0"], (2 + 29) * 10 / 2 - (0 + 27) * 10 / 2);
  }
}

}  // namespace
