// File: ironwal/stream/tail_notifier.h
//
// TailNotifier: where the tailing readers of one stream (Wal::WaitFor) wait for its
// frontiers to move -- the next ID (what is visible) and the durable next ID -- or for
// anything else that ends their wait (a delete, a suffix truncation, a poisoning, Close).
// The stream publishes a change (an atomic store) and then calls Notify; a waiter
// re-evaluates its condition, which reads only atomics, under the notifier's lock.
//
//   // publisher (any lock held, or none)
//   next_id_.store(n);
//   notifier.Notify();
//
//   // waiter (no stream or Wal lock held)
//   absl::Status s = notifier.Wait(env, deadline, [&]() -> std::optional<absl::Status> {
//     if (stream->next_id() > id) return absl::OkStatus();
//     return std::nullopt;  // keep waiting
//   });
//
// Cost when nobody waits: Notify is one atomic read-modify-write of the waiter count (no
// lock), on a counter of this stream's own.
//
// Lock order: the notifier's lock is the innermost lock of a Wal. Notify may be called
// with any stream or Wal lock held; the condition runs under the notifier's lock and must
// take no lock (it reads atomics). The Env is never called with the notifier's lock held
// but through Env::WaitUntil (SimEnv's clock wakes waiters by taking it).
//
// Deadlines are by the Env's clock (Env::NowMicros, Env::WaitUntil): SimEnv's simulated
// clock drives them in tests. UINT64_MAX: no deadline.
//
// Thread-safety: thread-safe. The notifier must outlive every Wait on it.
#ifndef IRONWAL_STREAM_TAIL_NOTIFIER_H_
#define IRONWAL_STREAM_TAIL_NOTIFIER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "absl/status/status.h"

#include "ironwal/env/env.h"

namespace ironwal {
namespace internal {

class TailNotifier {
 public:
  // What a waiter checks: a status to return with, or nullopt to keep waiting.
  using Check = std::function<std::optional<absl::Status>()>;

  TailNotifier() = default;
  TailNotifier(const TailNotifier&) = delete;
  TailNotifier& operator=(const TailNotifier&) = delete;

  // Wakes every waiter to check again. Call after the state they check has changed.
  void Notify();

  // Returns what `check` returns once it returns a status; DeadlineExceeded (its message
  // made by `describe_timeout`) once env->NowMicros() reaches `deadline_micros` with
  // `check` still waiting. `check` is evaluated first, so a satisfied wait never times
  // out.
  absl::Status Wait(Env* env, uint64_t deadline_micros, const Check& check,
                    const std::function<absl::Status()>& describe_timeout);

  // Threads in Wait now (for tests and statistics).
  int waiters() const { return waiters_.load(std::memory_order_acquire); }

 private:
  std::atomic<int> waiters_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_TAIL_NOTIFIER_H_
