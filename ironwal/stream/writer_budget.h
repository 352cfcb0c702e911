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
// Thread-safety: thread-safe. Members must outlive their registration (call Closed()).
#ifndef IRONWAL_STREAM_WRITER_BUDGET_H_
#define IRONWAL_STREAM_WRITER_BUDGET_H_

#include <atomic>
#include <cstddef>
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
  };

  // capacity >= 1.
  explicit WriterBudget(size_t capacity);
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

 private:
  const size_t capacity_;
  mutable Mutex mu_;
  std::vector<Member*> ring_ ABSL_GUARDED_BY(mu_);
  size_t hand_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_WRITER_BUDGET_H_
