#include "tests/crash/crash_plans.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::Random;

std::vector<CrashPlan> CrashPlans(const std::vector<PendingChange>& pending, Random* rng,
                                  uint64_t max_states, bool* sampled) {
  std::vector<PendingChange> independent;                  // blocks and lengths
  std::map<std::string, std::vector<PendingChange>> dirs;  // dir ops, oldest first
  for (const PendingChange& c : pending) {
    if (c.kind == PendingChange::Kind::kDirOp) {
      dirs[c.path].push_back(c);
    } else {
      independent.push_back(c);
    }
  }
  // Each combination is a mixed-radix number: 2 per independent change, n+1 per dir.
  std::vector<uint64_t> radix(independent.size(), 2);
  std::vector<const std::vector<PendingChange>*> dir_list;
  for (const auto& [dir, ops] : dirs) {
    radix.push_back(ops.size() + 1);
    dir_list.push_back(&ops);
  }
  uint64_t total = 1;
  for (uint64_t r : radix) total = total > max_states * 1024 ? total : total * r;
  std::vector<uint64_t> picks;
  if (sampled != nullptr) *sampled = total > max_states;
  if (total <= max_states) {
    for (uint64_t i = 0; i < total; ++i) picks.push_back(i);
  } else {
    picks.push_back(0);           // keep none
    picks.push_back(UINT64_MAX);  // keep all
    while (picks.size() < max_states) picks.push_back(rng->Next() | 1);
  }
  std::vector<CrashPlan> plans;
  for (uint64_t pick : picks) {
    CrashPlan plan;
    uint64_t rest = pick;
    for (size_t i = 0; i < radix.size(); ++i) {
      const uint64_t digit = pick == UINT64_MAX ? radix[i] - 1 : rest % radix[i];
      rest /= radix[i];
      if (i < independent.size()) {
        if (digit == 1) plan.keep.push_back(independent[i]);
      } else {
        const auto& ops = *dir_list[i - independent.size()];
        for (uint64_t j = 0; j < digit; ++j) plan.keep.push_back(ops[j]);
      }
    }
    plans.push_back(plan);
    // A torn variant: the last kept block only half new.
    for (auto it = plan.keep.rbegin(); it != plan.keep.rend(); ++it) {
      if (it->kind != PendingChange::Kind::kBlock) continue;
      CrashPlan torn = plan;
      torn.tear = true;
      torn.torn_inode = it->inode;
      torn.torn_block = it->block;
      torn.torn_bytes = 256;
      plans.push_back(torn);
      break;
    }
  }
  return plans;
}

std::unique_ptr<SimEnv> NewCrashSuiteEnv() {
  SimEnvOptions sim;
  sim.seed = 7;
  sim.block_size = 512;
  sim.record_trace = false;
  return std::make_unique<SimEnv>(sim);
}

std::string DescribeCrashPlan(const CrashPlan& plan) {
  std::vector<std::string> kept;
  for (const auto& c : plan.keep) kept.push_back(c.description);
  return absl::StrCat("kept {", absl::StrJoin(kept, "; "), "}",
                      plan.tear ? absl::StrCat(" torn at ", plan.torn_bytes) : "");
}

}  // namespace testing
}  // namespace ironwal
