#include "ironwal/stream/writer_budget.h"

#include <algorithm>

namespace ironwal {
namespace internal {

WriterBudget::WriterBudget(size_t capacity, uint64_t buffer_limit)
    : capacity_(std::max<size_t>(capacity, 1)), buffer_limit_(buffer_limit) {}

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

std::vector<WriterBudget::Member*> WriterBudget::BufferedChanged(Member* member, uint64_t bytes) {
  std::vector<Member*> victims;
  const uint64_t old = member->buffered_.load(std::memory_order_relaxed);  // != bytes (Buffered)
  member->buffered_.store(bytes, std::memory_order_relaxed);
  // Unsigned arithmetic: a shrinking member subtracts by wrapping around.
  const uint64_t total =
      buffered_total_.fetch_add(bytes - old, std::memory_order_relaxed) + (bytes - old);
  const bool relist = (old == 0) != (bytes == 0);
  // Only growth names victims, and only past what is already on its way out.
  const bool over =
      bytes > old && total > buffer_limit_ + named_total_.load(std::memory_order_relaxed);
  if (!relist && !over) return victims;
  MutexLock lock(&mu_);
  if (relist && bytes == 0) {
    buffered_list_.erase(member->buffered_pos_);
  } else if (relist) {
    member->buffered_pos_ = buffered_list_.insert(buffered_list_.end(), member);
  }
  if (!over) return victims;
  const uint64_t named = named_total_.load(std::memory_order_relaxed);
  if (total <= buffer_limit_ + named) return victims;  // named meanwhile
  uint64_t excess = total - buffer_limit_ - named;
  for (Member* candidate : buffered_list_) {
    // One named to another caller is counted in named_total_ already.
    if (candidate == member || candidate->named_.load(std::memory_order_relaxed)) continue;
    const uint64_t held = candidate->buffered_.load(std::memory_order_relaxed);
    candidate->named_bytes_.store(held, std::memory_order_relaxed);
    candidate->named_.store(true, std::memory_order_relaxed);
    named_total_.fetch_add(held, std::memory_order_relaxed);
    victims.push_back(candidate);
    if (held >= excess) break;
    excess -= held;
  }
  return victims;
}

void WriterBudget::Released(Member* member) {
  named_total_.fetch_sub(member->named_bytes_.load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
  member->named_.store(false, std::memory_order_release);
}

size_t WriterBudget::open_count() const {
  MutexLock lock(&mu_);
  return ring_.size();
}

}  // namespace internal
}  // namespace ironwal
