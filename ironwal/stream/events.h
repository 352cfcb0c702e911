// File: ironwal/stream/events.h
//
// internal::Event and internal::EventQueue: how the events of EventListener
// (ironwal/wal/event_listener.h) get from where they happen -- deep in a stream, under its
// locks -- to the listeners, which run with no lock of ironwal's held. Streams Push an
// event when it has happened (never for work they roll back); the Wal Drains the queue
// when a call has released its locks, and delivers each event to its listeners.
//
// Thread-safety: thread-safe. Push never blocks on a delivery (it takes a mutex held only
// to move events in or out of the queue). Drain is a combining delivery: one thread at a
// time delivers, in the order the events were pushed, until the queue is empty; a thread
// that finds another delivering (or is itself delivering: a listener calling back into the
// Wal) returns at once, leaving its events to that thread. Drain is cheap when nothing is
// queued (one atomic load).
#ifndef IRONWAL_STREAM_EVENTS_H_
#define IRONWAL_STREAM_EVENTS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"

#include "ironwal/base/mutex.h"
#include "ironwal/wal/event_listener.h"
#include "ironwal/wal/types.h"

namespace ironwal {
namespace internal {

// One event; which fields mean something depends on kind (as EventListener's arguments).
struct Event {
  enum class Kind {
    kSegmentCreated,
    kSegmentSealed,
    kSegmentDeleted,
    kStreamCreated,
    kStreamTruncated,
    kRecoveryFinished,
    kCorruption,
    kStreamPoisoned,
    kDiskFull,
    kDiskSpaceRecovered,
  };
  Kind kind = Kind::kSegmentCreated;
  std::string stream;
  SegmentEvent segment;         // kSegment*
  uint64_t first_id = 0;        // kStreamCreated
  TruncationEvent truncation;   // kStreamTruncated
  StreamRecoveryReport report;  // kRecoveryFinished
  CorruptionEvent corruption;   // kCorruption
  absl::Status status;          // kStreamPoisoned, kDiskFull
};

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Whether nothing is queued (one atomic load: Drain's fast path, for a caller that
  // would otherwise call out of line to find that out).
  bool empty() const { return pending_.load(std::memory_order_acquire) == 0; }

  void Push(Event event);
  // Delivers every queued event through `deliver` (see the file comment), unless another
  // delivery is running. Nothing queued (every append, nearly always): one load, inline.
  template <typename Deliver>
  void Drain(Deliver&& deliver) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    DrainQueued(std::function<void(const Event&)>(std::forward<Deliver>(deliver)));
  }

 private:
  void DrainQueued(const std::function<void(const Event&)>& deliver);

  Mutex mu_;
  std::deque<Event> queued_ ABSL_GUARDED_BY(mu_);
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> pending_{0};  // queued_.size(), for Drain's fast path
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_EVENTS_H_
