// Crash plans for exhaustive crash tests: from the unsynced changes a SimEnv holds at a
// power cut (SimEnv::PendingChanges), every combination a power loss could keep (each
// unsynced block and length kept or lost; each directory keeping a prefix of its unsynced
// entries), each with a torn variant of its last kept block. When there are more than
// `max_states` combinations, a sample drawn from `rng` is taken that always includes
// "keep none" and "keep all" (and *sampled, if given, is set to whether that happened).
// Test-only; not thread-safe (the caller's Random).
#ifndef IRONWAL_TESTS_CRASH_CRASH_PLANS_H_
#define IRONWAL_TESTS_CRASH_CRASH_PLANS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ironwal/env/sim_env.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace testing {

std::vector<CrashPlan> CrashPlans(const std::vector<PendingChange>& pending,
                                  ironwal::internal::Random* rng, uint64_t max_states,
                                  bool* sampled = nullptr);

// The SimEnv the exhaustive suites run their workloads on: a fixed seed, no trace, and
// 512-byte blocks (a torn plan keeps the first 256 bytes of its block).
std::unique_ptr<SimEnv> NewCrashSuiteEnv();

// "kept {a; b} torn at N", for failure messages.
std::string DescribeCrashPlan(const CrashPlan& plan);

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTS_CRASH_CRASH_PLANS_H_
