#include "ironwal/stream/writer_budget.h"

#include <algorithm>

namespace ironwal {
namespace internal {

WriterBudget::WriterBudget(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

std::vector<WriterBudget::Member*> WriterBudget::Opened(Member* member) {
  std::vector<Member*> victims;
  MutexLock lock(&mu_);
  member->Touch();
  if (std::find(ring_.begin(), ring_.end(), member) == ring_.end()) ring_.push_back(member);
  // Each pass of the hand clears a referenced bit or picks a victim, so two full turns
  // always find one; `member` itself is never picked.
  for (size_t steps = 0; ring_.size() > capacity_ && steps < 2 * ring_.size() + 2; ++steps) {
    if (hand_ >= ring_.size()) hand_ = 0;
    Member* candidate = ring_[hand_];
    if (candidate == member || candidate->referenced_.exchange(false, std::memory_order_relaxed)) {
      ++hand_;
      continue;
    }
    victims.push_back(candidate);
    ring_.erase(ring_.begin() + static_cast<std::ptrdiff_t>(hand_));
  }
  return victims;
}

void WriterBudget::Closed(Member* member) {
  MutexLock lock(&mu_);
  auto it = std::find(ring_.begin(), ring_.end(), member);
  if (it == ring_.end()) return;
  const size_t pos = static_cast<size_t>(it - ring_.begin());
  ring_.erase(it);
  if (pos < hand_) --hand_;
}

void WriterBudget::Reinstate(Member* member) {
  MutexLock lock(&mu_);
  if (std::find(ring_.begin(), ring_.end(), member) == ring_.end()) ring_.push_back(member);
}

size_t WriterBudget::open_count() const {
  MutexLock lock(&mu_);
  return ring_.size();
}

}  // namespace internal
}  // namespace ironwal
