#include "ironwal/wal/txn_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/format/format.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

namespace format = internal::format;

TxnWriter::TxnWriter(Wal* wal, std::string stream) : wal_(wal), stream_(std::move(stream)) {}

absl::Status TxnWriter::Add(absl::string_view entry) {
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("transaction on ", stream_, ": already committed or aborted"));
  }
  if (entry.size() > wal_->options().max_entry_size) {
    return absl::InvalidArgumentError(absl::StrCat("transaction on ", stream_, ": entry of ",
                                                   entry.size(), " bytes exceeds max_entry_size ",
                                                   wal_->options().max_entry_size));
  }
  const uint64_t added = format::kEntryLengthSize + entry.size();
  if (bytes_ + added > format::kMaxPayloadSize) {
    return absl::InvalidArgumentError(absl::StrCat("transaction on ", stream_, ": would exceed ",
                                                   format::kMaxPayloadSize,
                                                   " bytes, the limit of one frame"));
  }
  entries_.emplace_back(entry);
  bytes_ += added;
  return absl::OkStatus();
}

absl::StatusOr<IdRange> TxnWriter::Commit() {
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("transaction on ", stream_, ": already committed or aborted"));
  }
  finished_ = true;
  absl::StatusOr<IdRange> ids = wal_->AppendBatch(stream_, entries_);
  entries_.clear();
  bytes_ = 0;
  return ids;
}

void TxnWriter::Abort() {
  finished_ = true;
  entries_.clear();
  bytes_ = 0;
}

}  // namespace ironwal
