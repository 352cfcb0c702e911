// The randomized crash and fault simulation (issue: deterministic torture suite, part 1).
//
// Each seed generates a workload (ironwal/tests/sim/sim_workload.h): appends, batches,
// transactions, reads, iteration, truncation, syncs, reopens, crashes in every SimEnv
// mode, power cuts, fault rules (EIO on write/sync/read/rename/..., short writes, ENOSPC,
// bit flips on read, Linux fsync-failure semantics) and disk-full squeezes, over random
// options. A WalModel checks the promises listed in README.md after every recovery
// and every read. A failing seed is shrunk and printed with its operations, the SimEnv
// trace and the command that replays it.
//
//   IRONWAL_SEED=n          run only seed n (and print its whole log)
//   IRONWAL_SEEDS=n         run seeds 0..n-1 (default 2000, split across the test's shards)
//   IRONWAL_SEED_START=s    start at seed s
//   IRONWAL_SIM_OPS=n       operations per workload (default 120)
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

#include "ironwal/testing/test_knobs.h"

#include "tests/sim/sim_workload.h"

namespace ironwal {
namespace sim {
namespace {

using ::ironwal::testing::EnvNumber;

// The seeds are split into kParts parts by seed % kParts, one test each, so that Bazel's
// shards (which gtest distributes by test) each run one part.
constexpr uint64_t kParts = 2;

class SimTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(SimTest, EveryPromiseHoldsUnderCrashesAndFaults) {
  const bool one = std::getenv("IRONWAL_SEED") != nullptr;
  const uint64_t start = one ? EnvNumber("IRONWAL_SEED", 0) : EnvNumber("IRONWAL_SEED_START", 0);
  const uint64_t count = one ? 1 : EnvNumber("IRONWAL_SEEDS", 2000);
  const uint64_t ops = EnvNumber("IRONWAL_SIM_OPS", 120);
  const uint64_t part = GetParam();
  uint64_t seeds = 0;
  uint64_t recoveries = 0;
  for (uint64_t seed = start; seed < start + count; ++seed) {
    if (seed % kParts != part) continue;
    const Workload workload = Generate(seed, ops);
    const Outcome outcome = sim::Run(workload);
    ++seeds;
    recoveries += outcome.recoveries;
    if (one) std::cout << Describe(workload, outcome) << "\n";
    if (!outcome.violations.empty()) {
      const Workload shrunk = Shrink(workload, 400);
      ADD_FAILURE() << "seed=" << seed << " fails; shrunk from " << workload.ops.size() << " to "
                    << shrunk.ops.size() << " operations:\n"
                    << Describe(shrunk, sim::Run(shrunk));
      return;
    }
  }
  std::cout << "sim part " << part << ": " << seeds << " seeds, " << recoveries
            << " recoveries checked, no violation\n";
  RecordProperty("seeds", static_cast<int>(seeds));
  RecordProperty("recoveries", static_cast<int>(recoveries));
}

INSTANTIATE_TEST_SUITE_P(Parts, SimTest, ::testing::Range<uint64_t>(0, kParts));

// Seeds past the default range that once failed, run in every suite:
//   12633  the harness destroyed the crashed process's Wal after Crash(); its kAsync
//          writer's buffer (kept without a descriptor) was written into the post-crash
//          file, whose torn first block had the same length, and recovery saw zeros
//          followed by a valid frame (row G). sim_workload.cc now cuts the power first.
TEST(SimRegressionTest, SeedsThatOnceFailed) {
  for (const uint64_t seed : {12633}) {
    const Workload workload = Generate(seed, 120);
    const Outcome outcome = sim::Run(workload);
    EXPECT_TRUE(outcome.violations.empty())
        << "seed=" << seed << ":\n"
        << Describe(workload, outcome) << "\nreplay: IRONWAL_SEED=" << seed
        << " tools/bazel test //tests/sim:sim_test --test_output=all";
    EXPECT_GT(outcome.recoveries, 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace sim
}  // namespace ironwal
