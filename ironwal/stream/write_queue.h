// File: ironwal/stream/write_queue.h
//
// WriteQueue: group commit for one stream. Appenders queue; the one at the front is the
// leader: it takes the queued writes behind it (up to Options::max_group_bytes; one larger
// write goes alone), hands them to the GroupWriter as one group, settles the outcome of
// every write in the group, and wakes the next leader. So N concurrent durable appenders
// cost about one sync, not N.
//
// Linger. When Options::linger is set and the previous group held several writers, they
// are usually about to append again: the leader gives them a moment (at most
// linger_micros by the Env's clock, and at most max_linger_spins yields in case the clock
// steps back) to queue behind it, so that they share its sync instead of alternating with
// groups of one. It waits for as many writers as the largest recent group held; when they
// do not all come in time, it expects only as many as came next time.
//
// Outcomes. Each write ends kWritten (with its first ID) or kFailed (with an error). The
// GroupWriter settles each write it gets as far as it can (SetWritten once its frame is
// published; SetFailed when that one write is refused); when it returns an error, every
// write of the group it left pending fails with that error, and no other write does. A
// batch is one write: it is never split across groups.
//
// Durability: none of its own; the GroupWriter decides what is written and synced.
// Thread-safety: thread-safe. Queued groups reach the GroupWriter one at a time (from the
// leader's thread, never while the queue's lock is held); SubmitAlone's groups may come
// concurrently with them.
#ifndef IRONWAL_STREAM_WRITE_QUEUE_H_
#define IRONWAL_STREAM_WRITE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/base/mutex.h"
#include "ironwal/env/env.h"

namespace ironwal {
namespace internal {

// One appender's request and, once settled, its outcome.
class QueuedWrite {
 public:
  enum class State { kPending, kWritten, kFailed };

  // With `expected_next_id`, the write is made only if the next ID is that when its
  // frame would be written (the GroupWriter checks; AppendBatchIf).
  QueuedWrite(absl::Span<const absl::string_view> entries, bool batch, uint64_t bytes,
              std::optional<uint64_t> expected_next_id = std::nullopt)
      : entries_(entries), batch_(batch), bytes_(bytes), expected_next_id_(expected_next_id) {}

  absl::Span<const absl::string_view> entries() const { return entries_; }
  bool batch() const { return batch_; }
  uint64_t bytes() const { return bytes_; }  // an upper bound of its frame's size
  const std::optional<uint64_t>& expected_next_id() const { return expected_next_id_; }

  State state() const { return state_; }
  // kWritten: its IDs are [first_id(), first_id() + entries().size()).
  uint64_t first_id() const { return first_id_; }
  // kFailed: why.
  const absl::Status& error() const { return error_; }

  // Settling, by the GroupWriter (or the queue for what the GroupWriter left pending).
  void SetWritten(uint64_t first_id);
  void SetFailed(absl::Status error);

 private:
  friend class WriteQueue;

  const absl::Span<const absl::string_view> entries_;
  const bool batch_;
  const uint64_t bytes_;
  const std::optional<uint64_t> expected_next_id_;
  State state_ = State::kPending;
  uint64_t first_id_ = 0;
  absl::Status error_;
  bool done_ = false;      // settled and released by the leader (queue lock)
  CondVar* cv_ = nullptr;  // the waiting thread's own
};

class WriteQueue {
 public:
  // Writes a group. Called by the leader, one group at a time.
  class GroupWriter {
   public:
    virtual ~GroupWriter() = default;
    // Writes `group` in order and settles what it can (see the file comment). An error
    // fails every write of the group left pending.
    virtual absl::Status WriteGroup(absl::Span<QueuedWrite* const> group) = 0;
  };

  struct Options {
    bool linger = false;  // wait for the writers of the previous group (kStrict)
    uint64_t linger_micros = 100;
    int max_linger_spins = 20000;
    uint64_t max_group_bytes = 4 << 20;
    Env* clock = nullptr;  // NowMicros() bounds the linger; required with linger
  };

  WriteQueue(Options options, GroupWriter* writer) : options_(options), writer_(writer) {}
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Queues `w` and returns once it is settled (never kPending).
  void Submit(QueuedWrite* w);
  // Writes `w` as a group of one at once, on the calling thread, without queueing (for
  // modes with no sync to share). The GroupWriter serialises these groups with the
  // leaders' (the Stream's write lock).
  void SubmitAlone(QueuedWrite* w) {
    QueuedWrite* one[] = {w};
    WriteAndSettle(one);
  }

  // Writes waiting in the queue, the current leader's group included.
  size_t size();

 private:
  void Linger() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteAndSettle(absl::Span<QueuedWrite* const> group);
  void Release() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t QueuedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.size() - head_; }
  QueuedWrite* FrontLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_[head_]; }

  const Options options_;
  GroupWriter* const writer_;
  Mutex mu_;
  // The queued writes, oldest first: queue_[head_] is the front. A vector and the index of
  // its front, not a std::deque: libstdc++'s deque allocates some 576 bytes however empty,
  // and a Wal has a queue for each of its streams. Release moves head_ past a group and
  // gives back the slots before it once they are most of the vector.
  std::vector<QueuedWrite*> queue_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;
  // The current leader's (only the thread at the front of the queue uses them).
  std::vector<QueuedWrite*> group_;
  size_t group_target_ = 0;  // how many writers a lingering leader waits for
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_WRITE_QUEUE_H_
