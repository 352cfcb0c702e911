#include "ironwal/stream/events.h"

#include <utility>

namespace ironwal {
namespace internal {

void EventQueue::Push(Event event) {
  MutexLock lock(&mu_);
  queued_.push_back(std::move(event));
  pending_.store(queued_.size(), std::memory_order_release);
}

void EventQueue::DrainQueued(const std::function<void(const Event&)>& deliver) {
  {
    MutexLock lock(&mu_);
    if (delivering_ || queued_.empty()) return;
    delivering_ = true;
  }
  for (;;) {
    std::deque<Event> batch;
    {
      MutexLock lock(&mu_);
      // Checked and cleared under the lock Push takes: an event pushed after this check
      // finds delivering_ false and its pusher delivers it.
      if (queued_.empty()) {
        delivering_ = false;
        return;
      }
      batch.swap(queued_);
      pending_.store(0, std::memory_order_release);
    }
    for (const Event& event : batch) deliver(event);
  }
}

}  // namespace internal
}  // namespace ironwal
