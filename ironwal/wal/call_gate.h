// File: ironwal/wal/call_gate.h
//
// CallGate: lets a Wal's calls in until it closes, and lets Close wait for the calls
// already in. Close must finish in bounded time however many threads keep calling, so it
// does not queue for a lock behind them: it shuts the gate first (every later Enter fails
// at once), then waits only for the calls in flight to leave.
//
//   if (!gate.Enter()) return ClosedError();
//   ... the call ...
//   gate.Exit();
//
//   gate.Shut();   // Close: no new calls; returns once every call in flight has exited
//
// Enter and Exit are one atomic read-modify-write each, so calls on different streams do
// not contend on a lock here.
//
// Thread-safety: thread-safe. Shut may be called more than once (later calls wait too).
#ifndef IRONWAL_WAL_CALL_GATE_H_
#define IRONWAL_WAL_CALL_GATE_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"

#include "ironwal/base/mutex.h"

namespace ironwal {
namespace internal {

class CallGate {
 public:
  CallGate() = default;
  CallGate(const CallGate&) = delete;
  CallGate& operator=(const CallGate&) = delete;

  // Counts a call in; false (and nothing counted) once the gate is shut.
  bool Enter() {
    if (shut()) return false;  // after Shut, no new call even touches the count
    const uint64_t before = state_.fetch_add(kOneCall, std::memory_order_acquire);
    if ((before & kShut) == 0) return true;
    Exit();
    return false;
  }

  // Counts a call out. REQUIRES: a matching Enter() returned true (or is being undone).
  void Exit() {
    const uint64_t before = state_.fetch_sub(kOneCall, std::memory_order_acq_rel);
    if (before == (kShut | kOneCall)) {
      // The last call out of a shut gate: wake Shut. Under the mutex, so the wake-up cannot
      // fall between Shut's check and its wait.
      MutexLock lock(&mu_);
      drained_.SignalAll();
    }
  }

  // Refuses every later Enter, then waits until the calls in flight have exited.
  void Shut() {
    state_.fetch_or(kShut, std::memory_order_acq_rel);
    MutexLock lock(&mu_);
    while (state_.load(std::memory_order_acquire) != kShut) drained_.Wait(&mu_);
  }

  bool shut() const { return (state_.load(std::memory_order_acquire) & kShut) != 0; }

 private:
  // Bit 0: shut. Bits 1..63: the calls in flight.
  static constexpr uint64_t kShut = 1;
  static constexpr uint64_t kOneCall = 2;

  std::atomic<uint64_t> state_{0};
  Mutex mu_;
  CondVar drained_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_WAL_CALL_GATE_H_
