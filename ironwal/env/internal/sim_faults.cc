#include "ironwal/env/internal/sim_faults.h"

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  // Iterative matching with one backtrack point: the last '*' seen and where in `text` it
  // started matching. Linear in practice, O(|pattern| * |text|) at worst.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool IsMutating(SimOp op) {
  switch (op) {
    case SimOp::kOpenRead:
    case SimOp::kClose:
    case SimOp::kRead:
    case SimOp::kGetChildren:
    case SimOp::kGetFileSize:
    case SimOp::kCrash:
    case SimOp::kRelease:
      return false;
    default:
      return true;
  }
}

bool FaultAppliesTo(SimFault fault, SimOp op) {
  if (op == SimOp::kCrash || op == SimOp::kRelease) return false;  // not operations
  switch (fault) {
    case SimFault::kIoError:
      return true;
    case SimFault::kShortWrite:
      return op == SimOp::kAppend || op == SimOp::kWriteAt;
    case SimFault::kNoSpace:
      return op == SimOp::kAppend || op == SimOp::kWriteAt || op == SimOp::kAllocate ||
             op == SimOp::kOpenWritable || op == SimOp::kCreateDir || op == SimOp::kRename;
    case SimFault::kBitFlip:
      return op == SimOp::kRead;
    case SimFault::kPowerCut:
      return IsMutating(op);
  }
  return false;
}

int FaultTable::Add(const FaultRule& rule) {
  IRONWAL_CHECK(rule.one_in >= 1) << "FaultRule::one_in must be >= 1";
  IRONWAL_CHECK(FaultAppliesTo(rule.fault, rule.op))
      << "fault " << static_cast<int>(rule.fault) << " cannot happen on " << SimOpName(rule.op);
  rules_.push_back(Rule{rule});
  return static_cast<int>(rules_.size() - 1);
}

void FaultTable::Remove(int id) {
  if (id >= 0 && static_cast<size_t>(id) < rules_.size()) rules_[id].active = false;
}

void FaultTable::Clear() {
  for (Rule& rule : rules_) rule.active = false;
}

uint64_t FaultTable::Fires(int id) const {
  if (id < 0 || static_cast<size_t>(id) >= rules_.size()) return 0;
  return rules_[id].fires;
}

std::optional<SimFault> FaultTable::Pick(SimOp op, const std::vector<absl::string_view>& paths,
                                         SimRandom* rng) {
  std::optional<SimFault> fault;
  for (Rule& r : rules_) {
    if (!r.active || r.rule.op != op) continue;
    bool path_matches = false;
    for (absl::string_view path : paths) path_matches |= GlobMatch(r.rule.path_pattern, path);
    if (!path_matches) continue;
    ++r.matches;
    if (fault.has_value()) continue;
    if (r.rule.nth != 0 && r.matches != r.rule.nth) continue;
    if (r.fires >= r.rule.max_fires) continue;
    if (r.rule.one_in > 1 && rng->Uniform(r.rule.one_in) != 0) continue;
    ++r.fires;
    fault = r.rule.fault;
  }
  return fault;
}

}  // namespace internal
}  // namespace ironwal
