// File: ironwal/wal/iterator.h
//
// Iterator: reads a stream's entries in ID order from a starting ID, crossing segments,
// checking every frame's CRC before returning any of its entries.
//
//   IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", /*start_id=*/0));
//   for (; it->Valid(); it->Next()) Consume(it->id(), it->value());
//   IRONWAL_RETURN_IF_ERROR(it->status());   // OK at the end; DataLoss if a frame failed
//
// An iterator sees entries appended after it was created: when it reaches the end it
// stops (Valid() false, status() OK), and Seek(next) later picks up what was appended
// since. It never returns an ID at or past the stream's next ID as the Wal reports it, so
// tailing is one loop, and the Seek(last + 1) in it is always valid (at its end for now,
// or at a new entry):
//
//   uint64_t next = start;
//   for (;;) {
//     it->Seek(next);
//     for (; it->Valid(); it->Next(), ++next) Consume(it->id(), it->value());
//     IRONWAL_RETURN_IF_ERROR(it->status());
//     WaitForMore();
//   }
//
// It stops at `end_id` (exclusive) if one was given. Once status() is not OK the iterator
// stays invalid.
//
// value() is valid until the next call to Next() or Seek(). The Wal must outlive the
// iterator. Thread-safety: one thread at a time per iterator; many iterators may run
// concurrently with each other and with writers.
#ifndef IRONWAL_WAL_ITERATOR_H_
#define IRONWAL_WAL_ITERATOR_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ironwal {

class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator() = default;

  // Whether the iterator is at an entry.
  virtual bool Valid() const = 0;
  // Moves to the next ID. REQUIRES: Valid().
  virtual void Next() = 0;
  // Positions at `id`: at it if it exists; invalid with OK status if `id` is the next ID
  // (nothing there yet); NotFound status below the first retained ID; OutOfRange past
  // the next ID.
  virtual void Seek(uint64_t id) = 0;
  // REQUIRES: Valid().
  virtual uint64_t id() const = 0;
  virtual absl::string_view value() const = 0;
  // OK unless iteration failed.
  virtual absl::Status status() const = 0;
};

}  // namespace ironwal

#endif  // IRONWAL_WAL_ITERATOR_H_
