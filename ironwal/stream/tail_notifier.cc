#include "ironwal/stream/tail_notifier.h"

namespace ironwal {
namespace internal {

void TailNotifier::Notify() {
  // A read-modify-write, not a load: either it comes after a waiter's increment in the
  // count's order (and sees it), or before it, and then the waiter's increment reads from
  // it and so sees every store made before this call (release/acquire), its state
  // included. (A plain load would need fences, which ThreadSanitizer cannot check.)
  if (waiters_.fetch_add(0, std::memory_order_acq_rel) == 0) return;
  // Taken and released: a waiter that checked before the change is now blocked in its
  // wait, and the notification reaches it.
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_.notify_all();
}

absl::Status TailNotifier::Wait(Env* env, uint64_t deadline_micros, const Check& check,
                                const std::function<absl::Status()>& describe_timeout) {
  waiters_.fetch_add(1, std::memory_order_acq_rel);  // see Notify
  absl::Status result;
  for (;;) {
    // Read before taking mu_: SimEnv's NowMicros wakes waiters through their mutex.
    const uint64_t now = deadline_micros == UINT64_MAX ? 0 : env->NowMicros();
    std::unique_lock<std::mutex> lock(mu_);
    if (std::optional<absl::Status> done = check()) {
      result = *std::move(done);
      break;
    }
    if (now >= deadline_micros) {
      lock.unlock();
      result = describe_timeout();
      break;
    }
    env->WaitUntil(&cv_, &lock, deadline_micros);
  }
  waiters_.fetch_sub(1, std::memory_order_release);
  return result;
}

}  // namespace internal
}  // namespace ironwal
