// File: ironwal/wal/txn_writer.h
//
// TxnWriter: gathers entries for one stream in memory and commits them as one frame: all
// of them become durable and visible together, or none does, even across a crash (a
// frame is checked whole). Nothing touches the disk before Commit().
//
//   TxnWriter txn = wal->NewTransaction("ledger");
//   IRONWAL_RETURN_IF_ERROR(txn.Add(debit));
//   IRONWAL_RETURN_IF_ERROR(txn.Add(credit));
//   IRONWAL_ASSIGN_OR_RETURN(IdRange ids, txn.Commit());
//
// Destroying an uncommitted TxnWriter aborts it. The Wal must outlive it.
// Thread-safety: not thread-safe.
#ifndef IRONWAL_WAL_TXN_WRITER_H_
#define IRONWAL_WAL_TXN_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/wal/types.h"

namespace ironwal {

class Wal;

class TxnWriter {
 public:
  TxnWriter(TxnWriter&&) = default;
  TxnWriter& operator=(TxnWriter&&) = default;

  // Copies `entry` into the transaction. InvalidArgument if it is larger than the Wal's
  // max_entry_size or would take the transaction past the frame size limit (4 GiB);
  // FailedPrecondition after Commit or Abort.
  absl::Status Add(absl::string_view entry);

  // Appends the entries as one frame (see Wal::AppendBatch) and returns their IDs. An
  // empty transaction writes nothing and returns an empty range at the stream's next ID.
  // FailedPrecondition if already committed or aborted.
  absl::StatusOr<IdRange> Commit();

  // Discards the entries.
  void Abort();

  size_t size() const { return entries_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  friend class Wal;
  TxnWriter(Wal* wal, std::string stream);

  Wal* wal_;
  std::string stream_;
  std::vector<std::string> entries_;
  uint64_t bytes_ = 0;  // the entry block's size
  bool finished_ = false;
};

}  // namespace ironwal

#endif  // IRONWAL_WAL_TXN_WRITER_H_
