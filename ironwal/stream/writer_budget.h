// File: ironwal/stream/writer_budget.h
//
// WriterBudget: bounds how many streams keep their active segment open for writing
// (WalOptions::max_open_segments), so a WAL with thousands of streams does not hold
// thousands of descriptors. When a stream opens its writer beyond the budget, the budget
// names other streams to close theirs, chosen by the CLOCK approximation of least
// recently used: each write sets its stream's `referenced` bit (a relaxed atomic store,
// no lock), and the clock hand passes over referenced streams once, clearing the bit,
// before it picks one.
//
// The caller closes the named writers after releasing its own locks; until then the
// budget may be exceeded by the number of threads opening writers at once.
//
// It also bounds the memory of writers evicted without being flushed (kAsync: their
// buffers stay in memory, without a descriptor, until flushed): each such member reports
// the bytes it buffers (Buffered); while their total is over `buffer_limit`, the members
// that reported first (the oldest buffered data) are named to write theirs. A member is
// named to one caller at a time: until that caller says it is done (Released), its bytes
// count as on their way out, so that threads appending at once do not all name, and
// queue on, the same oldest member. Members that fail to write (a full disk) keep
// counting, so the total may stay over the limit until they can.
//
// Thread-safety: thread-safe. Members must outlive their registration (call Closed()).
#ifndef IRONWAL_STREAM_WRITER_BUDGET_H_
#define IRONWAL_STREAM_WRITER_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <list>
#include <vector>

#include "absl/base/thread_annotations.h"

#include "ironwal/base/mutex.h"

namespace ironwal {
namespace internal {

class WriterBudget {
 public:
  // Something that holds an open writer: a stream.
  class Member {
   public:
    // Marks recent use.
    void Touch() { referenced_.store(true, std::memory_order_relaxed); }

   private:
    friend class WriterBudget;
    std::atomic<bool> referenced_{true};
    // Written only by Buffered() calls for this member (serialised by its owner).
    std::atomic<uint64_t> buffered_{0};
    // Named by Buffered to a caller that has not yet called Released (set under mu_),
    // with what it buffered then (counted in named_total_ until then).
    std::atomic<bool> named_{false};
    std::atomic<uint64_t> named_bytes_{0};
    std::list<Member*>::iterator buffered_pos_;  // in buffered_list_ while buffered_ > 0
  };

  // capacity >= 1.
  explicit WriterBudget(size_t capacity,
                        uint64_t buffer_limit = std::numeric_limits<uint64_t>::max());
  WriterBudget(const WriterBudget&) = delete;
  WriterBudget& operator=(const WriterBudget&) = delete;

  // `member` opened its writer. Returns the members that should close theirs (never
  // `member` itself) to get back within the capacity.
  std::vector<Member*> Opened(Member* member);

  // `member` closed its writer (idempotent).
  void Closed(Member* member);

  // `member` was named by Opened() but could not close its writer: count it again,
  // without choosing new victims.
  void Reinstate(Member* member);

  size_t open_count() const;

  // `member`, without a descriptor, now buffers `bytes` (0: none, or it has a descriptor
  // again). Calls for one member must be serialised (its owner's lock). Returns, when the
  // total grew over the limit, members (never `member`, oldest first) that should flush:
  // the oldest whose buffers together exceed the excess, where bytes already named to
  // another caller count as gone. The caller must call Released for each once it has
  // written its buffer or failed to. Lock-free unless a member starts or stops buffering
  // or the total is over the limit.
  // No change (every kAsync append of an attached writer): inline, no call.
  std::vector<Member*> Buffered(Member* member, uint64_t bytes) {
    if (member->buffered_.load(std::memory_order_relaxed) == bytes) return {};
    return BufferedChanged(member, bytes);
  }

  // `member`, which Buffered named, has flushed (after reporting what it buffers now) or
  // could not: it may be named again.
  void Released(Member* member);
  uint64_t buffered_total() const { return buffered_total_.load(std::memory_order_relaxed); }
  uint64_t buffer_limit() const { return buffer_limit_; }

 private:
  // Buffered's work when `bytes` differs from what `member` buffered (its only caller).
  std::vector<Member*> BufferedChanged(Member* member, uint64_t bytes);

  const size_t capacity_;
  const uint64_t buffer_limit_;
  std::atomic<uint64_t> buffered_total_{0};
  // The bytes of the members named and not yet released, as they were when named.
  std::atomic<uint64_t> named_total_{0};
  mutable Mutex mu_;
  std::list<Member*> buffered_list_ ABSL_GUARDED_BY(mu_);  // by when they started buffering
  std::vector<Member*> ring_ ABSL_GUARDED_BY(mu_);
  size_t hand_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_WRITER_BUDGET_H_
