// File: ironwal/testing/seed_sweep.h
//
// A seed-sweep harness for downstream crash and fault tests: run a seeded workload over
// many seeds; on the first failure, shrink its operation list to a short one that still
// fails and report the seed, what failed, the shrunk operations and the command that
// replays it. It is what ironwal's own simulation (tests/sim) does, for your workload.
//
// You supply three functions over your own operation type `Op`:
//   generate(seed)     -> std::vector<Op>           the workload of one seed (pure)
//   run(seed, ops)     -> std::vector<std::string>  runs `ops` on a fresh SimEnv seeded
//                                                    with `seed`; the violations found,
//                                                    empty when every check held
//   describe(op)       -> std::string               one line for the report
//
// With yours named Generate, RunWorkload and Describe:
//
//   SeedSweepOptions options = SeedSweepOptions::FromEnvironment(/*default_seeds=*/500);
//   options.replay_command = "tools/bazel test //my:crash_test --test_output=all";
//   std::optional<SeedFailure<MyOp>> failure =
//       RunSeedSweep<MyOp>(options, Generate, RunWorkload, Describe);
//   if (failure.has_value()) ADD_FAILURE() << failure->report;
//
// (The names are in namespace ironwal::testing.) Inside a TEST body, a free function named
// Run is hidden by ::testing::Test::Run: give yours another name (RunLedger, RunWorkload).
//
// Shrinking removes chunks of operations (halving the chunk size, as ddmin does) while
// the run still reports a violation, trying at most max_shrink_runs candidates. Operations
// listed as `keep_last` stay at the end (a final crash + recover step, say). Everything
// is deterministic: the same seeds and functions give the same report.
//
// Thread-compatible; testonly.
#ifndef IRONWAL_TESTING_SEED_SWEEP_H_
#define IRONWAL_TESTING_SEED_SWEEP_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/testing/test_knobs.h"

namespace ironwal {
namespace testing {

struct SeedSweepOptions {
  // Seeds first_seed .. first_seed + seeds - 1. Default: 0 and 100.
  uint64_t first_seed = 0;
  uint64_t seeds = 100;
  // Candidates shrinking may run (0: no shrinking). Default: 400.
  int max_shrink_runs = 400;
  // Operations at the end of every workload that shrinking never removes. Default: 0.
  size_t keep_last = 0;
  // How to run a test again; the report prints "IRONWAL_SEED=<seed> " before it.
  // Default: empty (no replay line).
  std::string replay_command;

  // The sweep the environment asks for, as ironwal's own tests read it: IRONWAL_SEED=n
  // runs seed n alone; otherwise IRONWAL_SEED_START (default 0) and IRONWAL_SEEDS
  // (default `default_seeds`).
  static SeedSweepOptions FromEnvironment(uint64_t default_seeds) {
    SeedSweepOptions options;
    if (std::getenv("IRONWAL_SEED") != nullptr) {
      options.first_seed = EnvNumber("IRONWAL_SEED", 0);
      options.seeds = 1;
    } else {
      options.first_seed = EnvNumber("IRONWAL_SEED_START", 0);
      options.seeds = EnvNumber("IRONWAL_SEEDS", default_seeds);
    }
    return options;
  }
};

template <typename Op>
struct SeedFailure {
  uint64_t seed = 0;
  std::vector<Op> ops;                  // the generated workload
  std::vector<Op> shrunk;               // a shorter one that still fails
  std::vector<std::string> violations;  // what the shrunk workload violated
  std::string report;                   // all of the above, readable
};

// Removes chunks of `ops` (never the last `keep_last`) while `fails` still holds, trying
// at most `max_runs` candidates. Returns the shortest failing list found.
template <typename Op>
std::vector<Op> ShrinkOps(std::vector<Op> ops,
                          const std::function<bool(const std::vector<Op>&)>& fails, int max_runs,
                          size_t keep_last = 0) {
  int runs = 0;
  for (size_t chunk = std::max<size_t>(ops.size() / 2, 1); runs < max_runs;) {
    bool removed = false;
    for (size_t start = 0; runs < max_runs;) {
      const size_t removable = ops.size() > keep_last ? ops.size() - keep_last : 0;
      const size_t end = std::min(start + chunk, removable);
      if (end <= start) break;
      std::vector<Op> candidate;
      candidate.reserve(ops.size() - (end - start));
      candidate.insert(candidate.end(), ops.begin(), ops.begin() + start);
      candidate.insert(candidate.end(), ops.begin() + end, ops.end());
      ++runs;
      if (fails(candidate)) {
        ops = std::move(candidate);
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (!removed) {
      if (chunk == 1) break;
      chunk /= 2;
    }
  }
  return ops;
}

// Runs the sweep; nullopt when every seed passed, else the first failure, shrunk.
template <typename Op>
std::optional<SeedFailure<Op>> RunSeedSweep(
    const SeedSweepOptions& options, const std::function<std::vector<Op>(uint64_t)>& generate,
    const std::function<std::vector<std::string>(uint64_t, const std::vector<Op>&)>& run,
    const std::function<std::string(const Op&)>& describe) {
  for (uint64_t seed = options.first_seed; seed < options.first_seed + options.seeds; ++seed) {
    std::vector<Op> ops = generate(seed);
    std::vector<std::string> violations = run(seed, ops);
    if (violations.empty()) continue;
    SeedFailure<Op> failure;
    failure.seed = seed;
    failure.ops = ops;
    failure.shrunk = ShrinkOps<Op>(
        ops, [&](const std::vector<Op>& candidate) { return !run(seed, candidate).empty(); },
        options.max_shrink_runs, options.keep_last);
    failure.violations = run(seed, failure.shrunk);
    if (failure.violations.empty()) failure.violations = violations;  // A flaky check.
    std::vector<std::string> lines;
    for (const Op& op : failure.shrunk) lines.push_back(describe(op));
    failure.report = absl::StrCat("seed=", seed, " fails; shrunk from ", ops.size(), " to ",
                                  failure.shrunk.size(), " operations\nviolations:\n  ",
                                  absl::StrJoin(failure.violations, "\n  "), "\noperations:\n  ",
                                  absl::StrJoin(lines, "\n  "));
    if (!options.replay_command.empty()) {
      absl::StrAppend(&failure.report, "\nreplay: IRONWAL_SEED=", seed, " ",
                      options.replay_command);
    }
    return failure;
  }
  return std::nullopt;
}

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_SEED_SWEEP_H_
