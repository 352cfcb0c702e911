// Tests of ironwal/testing/seed_sweep.h on a toy workload whose "bug" is known exactly.
#include "ironwal/testing/seed_sweep.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Seed s gives 40 numbers in [0, 10) from a fixed generator.
std::vector<int> Generate(uint64_t seed) {
  std::vector<int> ops;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < 40; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ops.push_back(static_cast<int>(x % 10));
  }
  return ops;
}

// The "bug": a 3 followed, later, by a 7.
std::vector<std::string> RunToy(uint64_t, const std::vector<int>& ops) {
  bool three = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i] == 3) three = true;
    if (ops[i] == 7 && three) return {absl::StrCat("7 after 3 at ", i)};
  }
  return {};
}

std::string Describe(const int& op) { return absl::StrCat("op ", op); }

TEST(SeedSweepTest, FindsTheFirstFailingSeedAndShrinksItToTheCause) {
  SeedSweepOptions options;
  options.seeds = 50;
  options.replay_command = "tools/bazel test //x:y";
  const auto failure = RunSeedSweep<int>(options, Generate, RunToy, Describe);
  ASSERT_TRUE(failure.has_value());
  // No earlier seed fails.
  for (uint64_t seed = 0; seed < failure->seed; ++seed) {
    EXPECT_TRUE(RunToy(seed, Generate(seed)).empty()) << seed;
  }
  EXPECT_EQ(failure->ops, Generate(failure->seed));
  EXPECT_THAT(failure->shrunk, ElementsAre(3, 7));
  EXPECT_THAT(failure->violations, ElementsAre("7 after 3 at 1"));
  EXPECT_THAT(failure->report, HasSubstr(absl::StrCat("seed=", failure->seed, " fails")));
  EXPECT_THAT(failure->report, HasSubstr("shrunk from 40 to 2 operations"));
  EXPECT_THAT(failure->report, HasSubstr("operations:\n  op 3\n  op 7"));
  EXPECT_THAT(failure->report, HasSubstr(absl::StrCat("replay: IRONWAL_SEED=", failure->seed,
                                                      " tools/bazel test //x:y")));
}

TEST(SeedSweepTest, KeepLastKeepsTheFinalOperations) {
  const std::vector<int> ops = {1, 3, 2, 2, 7, 5, 8};
  const std::vector<int> shrunk = ShrinkOps<int>(
      ops, [](const std::vector<int>& c) { return !RunToy(0, c).empty(); }, 100, /*keep_last=*/2);
  EXPECT_THAT(shrunk, ElementsAre(3, 7, 5, 8));
}

TEST(SeedSweepTest, ShrinkingStopsAtTheRunBudget) {
  int runs = 0;
  const std::vector<int> ops(64, 3);
  ShrinkOps<int>(
      ops,
      [&runs](const std::vector<int>&) {
        ++runs;
        return false;
      },
      5);
  EXPECT_EQ(runs, 5);
}

TEST(SeedSweepTest, NoFailureWhenEverySeedPasses) {
  SeedSweepOptions options;
  options.seeds = 20;
  auto never = [](uint64_t, const std::vector<int>&) { return std::vector<std::string>(); };
  EXPECT_FALSE(RunSeedSweep<int>(options, Generate, never, Describe).has_value());
}

TEST(SeedSweepTest, FromEnvironmentReadsTheSeedKnobs) {
  ::unsetenv("IRONWAL_SEED");
  ::setenv("IRONWAL_SEED_START", "40", 1);
  ::setenv("IRONWAL_SEEDS", "7", 1);
  SeedSweepOptions sweep = SeedSweepOptions::FromEnvironment(100);
  EXPECT_EQ(sweep.first_seed, 40u);
  EXPECT_EQ(sweep.seeds, 7u);
  ::setenv("IRONWAL_SEED", "12", 1);
  sweep = SeedSweepOptions::FromEnvironment(100);
  EXPECT_EQ(sweep.first_seed, 12u);
  EXPECT_EQ(sweep.seeds, 1u);
  ::unsetenv("IRONWAL_SEED");
  ::unsetenv("IRONWAL_SEED_START");
  ::unsetenv("IRONWAL_SEEDS");
  EXPECT_EQ(SeedSweepOptions::FromEnvironment(100).seeds, 100u);
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
