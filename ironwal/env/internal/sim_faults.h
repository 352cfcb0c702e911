// File: ironwal/env/internal/sim_faults.h
//
// FaultTable: SimEnv's fault rules (see FaultRule in sim_env.h) and the glob matcher for
// their path patterns. Not thread-safe; SimEnv holds its mutex.
#ifndef IRONWAL_ENV_INTERNAL_SIM_FAULTS_H_
#define IRONWAL_ENV_INTERNAL_SIM_FAULTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"

#include "ironwal/env/internal/sim_random.h"
#include "ironwal/env/sim_env.h"

namespace ironwal {
namespace internal {

// Whether `text` matches `pattern`: '*' matches any run of characters (including '/'),
// '?' any one character, everything else itself.
bool GlobMatch(absl::string_view pattern, absl::string_view text);

// Whether `op` changes the file system (counts in SimEnv::mutating_ops()).
bool IsMutating(SimOp op);

// Whether `fault` is meaningful for `op` (kIoError for every op; kShortWrite for kAppend
// and kWriteAt; kNoSpace for kAppend, kWriteAt, kAllocate, kOpenWritable, kCreateDir and
// kRename; kBitFlip for kRead; kPowerCut for mutating operations; none for the trace
// records kCrash and kRelease).
bool FaultAppliesTo(SimFault fault, SimOp op);

class FaultTable {
 public:
  // Adds a rule; returns its id (0, 1, 2, ...). CHECK-fails on one_in == 0 or a fault the
  // op cannot have (FaultAppliesTo): both are bugs in the test that adds the rule.
  int Add(const FaultRule& rule);
  // Stops rule `id` from matching or firing; its fire count stays readable.
  void Remove(int id);
  void Clear();
  uint64_t Fires(int id) const;

  // Called once per operation. Counts the call against every active rule whose op matches
  // and whose pattern matches one of `paths`, and returns the fault of the first such rule
  // (in id order) that fires: its nth (if set) is this call, it has fired fewer than
  // max_fires times, and, if one_in > 1, rng->Uniform(one_in) == 0 (drawn only for a rule
  // that could otherwise fire, and only until one has fired).
  std::optional<SimFault> Pick(SimOp op, const std::vector<absl::string_view>& paths,
                               SimRandom* rng);

 private:
  struct Rule {
    FaultRule rule;
    bool active = true;
    uint64_t matches = 0;
    uint64_t fires = 0;
  };
  std::vector<Rule> rules_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_SIM_FAULTS_H_
