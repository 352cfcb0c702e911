// A downstream state machine tested the way ironwal tests itself: a seeded sweep of
// crash-and-fault runs on SimEnv, shrunk and printed with a replay command on failure
// (@ironwal//ironwal/testing:seed_sweep).
//
// The state machine is a ledger of account balances whose transfers are logged in one
// ironwal stream. Each seed gets a list of transfers; the run appends them (some alone,
// some as batches), with a power cut at a seeded write or sync of a segment file, then
// crashes, reopens and rebuilds the balances by replaying the log. Checked: every
// acknowledged transfer is there, in order, nothing else is, and money is conserved.
// A second test records one run's I/O with trace_for_replay, saves the trace as a file and
// replays it against a fresh SimEnv (ironwal/env/sim_trace.h): what to do with the trace
// of a failing seed.
//
//   IRONWAL_SEED=n     run seed n alone;   IRONWAL_SEEDS=n   run more seeds
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/env/sim_trace.h"
#include "ironwal/ironwal.h"
#include "ironwal/testing/seed_sweep.h"

namespace {

constexpr int kAccounts = 4;
int runs_with_a_power_cut = 0;  // so the sweep cannot pass by never cutting the power
constexpr int64_t kOpening = 1000;

struct Transfer {
  int from = 0;
  int to = 0;
  int64_t amount = 0;
  bool batch_end = false;  // this transfer ends a batch (it and the ones before it)

  std::string Encode() const {
    return std::to_string(from) + " " + std::to_string(to) + " " + std::to_string(amount);
  }
};

std::string Describe(const Transfer& t) { return t.Encode() + (t.batch_end ? " (batch end)" : ""); }

// 30 transfers between kAccounts accounts; the seed also decides where batches end.
std::vector<Transfer> Generate(uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 7;
  auto next = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  std::vector<Transfer> transfers(30);
  for (Transfer& t : transfers) {
    t.from = static_cast<int>(next(kAccounts));
    t.to = static_cast<int>((t.from + 1 + next(kAccounts - 1)) % kAccounts);
    t.amount = static_cast<int64_t>(1 + next(50));
    t.batch_end = next(3) == 0;
  }
  return transfers;
}

// Balances after applying `log` (each entry a Transfer::Encode()).
std::map<int, int64_t> Apply(const std::vector<std::string>& log) {
  std::map<int, int64_t> balances;
  for (int a = 0; a < kAccounts; ++a) balances[a] = kOpening;
  for (const std::string& entry : log) {
    int from = 0, to = 0;
    long long amount = 0;
    if (std::sscanf(entry.c_str(), "%d %d %lld", &from, &to, &amount) != 3) continue;
    balances[from] -= amount;
    balances[to] += amount;
  }
  return balances;
}

// One run on `env` (a fresh SimEnv seeded with `seed`); the violations found.
std::vector<std::string> RunLedgerOn(ironwal::SimEnv* env, uint64_t seed,
                                     const std::vector<Transfer>& transfers) {
  std::vector<std::string> violations;
  ironwal::WalOptions options;
  options.env = env;
  options.root = "/ledger";
  options.sync_mode = ironwal::SyncMode::kBatchOnly;
  options.max_segment_size = 1024;
  // The power goes out at a seeded write or sync of a segment file.
  ironwal::FaultRule cut;
  cut.op = seed % 2 == 0 ? ironwal::SimOp::kAppend : ironwal::SimOp::kSync;
  cut.fault = ironwal::SimFault::kPowerCut;
  cut.path_pattern = "/ledger/transfers/*.wal";
  cut.nth = 1 + seed % 17;
  const int cut_rule = env->AddFaultRule(cut);

  std::vector<std::string> acknowledged;  // durable once a batch returned
  std::vector<std::string> attempted;
  {
    auto wal = ironwal::Wal::Open(options);
    if (!wal.ok()) return {"open: " + wal.status().ToString()};
    std::vector<std::string> pending;
    for (const Transfer& t : transfers) {
      pending.push_back(t.Encode());
      if (!t.batch_end) continue;
      std::vector<absl::string_view> views(pending.begin(), pending.end());
      attempted.insert(attempted.end(), pending.begin(), pending.end());
      auto ids = (*wal)->AppendBatch("transfers", views);
      if (!ids.ok()) break;  // the power is out
      acknowledged.insert(acknowledged.end(), pending.begin(), pending.end());
      pending.clear();
    }
  }
  if (env->FaultFires(cut_rule) > 0) ++runs_with_a_power_cut;
  ironwal::CrashOptions crash;
  crash.mode = ironwal::CrashMode::kKeepRandomBlocks;
  env->Crash(crash);

  auto wal = ironwal::Wal::Open(options);
  if (!wal.ok()) return {"reopen: " + wal.status().ToString()};
  std::vector<std::string> log;
  if (auto it = (*wal)->NewIterator("transfers", 0); it.ok()) {
    for (; (*it)->Valid(); (*it)->Next()) log.emplace_back((*it)->value());
    if (!(*it)->status().ok()) violations.push_back("replay: " + (*it)->status().ToString());
  }
  if (log.size() < acknowledged.size()) {
    violations.push_back("lost acknowledged transfers: " + std::to_string(log.size()) + " of " +
                         std::to_string(acknowledged.size()) + " replayed");
  }
  for (size_t i = 0; i < log.size(); ++i) {
    if (i >= attempted.size() || log[i] != attempted[i]) {
      violations.push_back("entry " + std::to_string(i) + " is not what was written");
      break;
    }
  }
  int64_t total = 0;
  for (const auto& [account, balance] : Apply(log)) total += balance;
  if (total != kAccounts * kOpening) violations.push_back("money is not conserved");
  return violations;
}

std::vector<std::string> RunLedger(uint64_t seed, const std::vector<Transfer>& transfers) {
  ironwal::SimEnvOptions sim;
  sim.seed = seed;
  ironwal::SimEnv env(sim);
  return RunLedgerOn(&env, seed, transfers);
}

TEST(LedgerSweepTest, AcknowledgedTransfersSurvivePowerCutsAtEveryKindOfWrite) {
  ironwal::testing::SeedSweepOptions sweep =
      ironwal::testing::SeedSweepOptions::FromEnvironment(/*default_seeds=*/60);
  sweep.replay_command = "tools/bazel test //:ledger_sweep_test --test_output=all";
  auto failure = ironwal::testing::RunSeedSweep<Transfer>(sweep, Generate, RunLedger, Describe);
  if (failure.has_value()) ADD_FAILURE() << failure->report;
  if (sweep.seeds >= 10) EXPECT_GE(runs_with_a_power_cut, static_cast<int>(sweep.seeds / 2));
}

// A run's trace, saved to a file, loaded and replayed against a fresh SimEnv: every
// operation gives the recorded result again (the power cut and the crash included).
TEST(LedgerSweepTest, ARunsSavedTraceReplaysIdentically) {
  const uint64_t seed = 1;
  ironwal::SimEnvOptions sim;
  sim.seed = seed;
  sim.trace_for_replay = true;
  ironwal::SimEnv env(sim);
  EXPECT_TRUE(RunLedgerOn(&env, seed, Generate(seed)).empty());
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/ledger-1.trace";
  ASSERT_TRUE(ironwal::SaveTrace(ironwal::Env::Default(), path, env.Trace()).ok());

  auto trace = ironwal::LoadTrace(ironwal::Env::Default(), path);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ironwal::SimEnv fresh(sim);
  auto report = ironwal::ReplayTrace(*trace, &fresh);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->identical) << report->difference;
  EXPECT_EQ(report->replayed, trace->size());
  bool cut = false;
  for (const ironwal::TraceRecord& r : *trace) cut |= r.injected == "power cut";
  EXPECT_TRUE(cut) << "seed " << seed << " cuts no power";
}

}  // namespace
