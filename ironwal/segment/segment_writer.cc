#include "ironwal/segment/segment_writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"

namespace ironwal {
namespace internal {

absl::StatusOr<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(Env* env,
                                                                     const std::string& path,
                                                                     uint64_t start_id) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path));
  return std::unique_ptr<SegmentWriter>(
      new SegmentWriter(env, std::move(file), path, start_id, 0, 0));
}

absl::StatusOr<std::unique_ptr<SegmentWriter>> SegmentWriter::Reopen(
    Env* env, const std::string& path, uint64_t start_id, uint64_t size, uint64_t synced_size) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewAppendableFile(path));
  if (file->Size() != size) {
    return absl::FailedPreconditionError(
        absl::StrCat("reopen ", path, ": file has ", file->Size(), " bytes, expected ", size));
  }
  return std::unique_ptr<SegmentWriter>(
      new SegmentWriter(env, std::move(file), path, start_id, size, std::min(synced_size, size)));
}

std::unique_ptr<SegmentWriter> SegmentWriter::ReopenDetached(Env* env, const std::string& path,
                                                             uint64_t start_id, uint64_t size,
                                                             uint64_t synced_size) {
  return std::unique_ptr<SegmentWriter>(
      new SegmentWriter(env, nullptr, path, start_id, size, std::min(synced_size, size)));
}

SegmentWriter::SegmentWriter(Env* env, std::unique_ptr<WritableFile> file, std::string path,
                             uint64_t start_id, uint64_t size, uint64_t synced_size)
    : env_(env),
      file_(std::move(file)),
      path_(std::move(path)),
      start_id_(start_id),
      stream_tag_(StreamTagOfSegment(path_)),
      flushed_size_(size),
      synced_size_(synced_size),
      zeroed_end_(size) {}

SegmentWriter::~SegmentWriter() = default;

template <typename Op>
absl::Status SegmentWriter::WithFile(Op op) {
  if (file_ != nullptr) return op();
  IRONWAL_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(path_));
  absl::Status done = absl::OkStatus();
  if (file_->Size() != zeroed_end_) {
    done = absl::FailedPreconditionError(absl::StrCat(
        "reopen ", path_, ": file has ", file_->Size(), " bytes, expected ", zeroed_end_));
  }
  borrowed_file_ = true;
  if (done.ok()) done = op();
  borrowed_file_ = false;
  const absl::Status closed = file_->Close();
  file_.reset();
  return done.ok() ? closed : done;
}

absl::Status SegmentWriter::Attach() {
  if (file_ != nullptr) return absl::OkStatus();
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env_->NewAppendableFile(path_));
  if (file->Size() != zeroed_end_) {
    const uint64_t size = file->Size();
    file->Close().IgnoreError();
    return absl::FailedPreconditionError(
        absl::StrCat("reopen ", path_, ": file has ", size, " bytes, expected ", zeroed_end_));
  }
  file_ = std::move(file);
  return absl::OkStatus();
}

absl::Status SegmentWriter::Detach() {
  if (file_ == nullptr) return absl::OkStatus();
  absl::Status detached = TrimZeroTail();
  ReleaseReservation();
  const absl::Status closed = file_->Close();
  file_.reset();
  if (detached.ok()) detached = closed;
  return detached;
}

absl::StatusOr<FrameLocation> SegmentWriter::AppendFrame(
    uint64_t start_id, absl::Span<const absl::string_view> entries,
    const FrameEncodeOptions& options) {
  const uint64_t offset = size();
  const size_t before = buffer_.size();
  // The frontier the frame records: what is synced now. In kStrict that is the start of
  // the leader's group (the groups before it were synced before it began).
  FrameStamp stamp;
  stamp.frontier_distance = offset - synced_size_;
  stamp.stream_tag = stream_tag_;
  absl::Status appended =
      ironwal::internal::AppendFrame(start_id, entries, options, stamp, &buffer_);
  if (!appended.ok()) {
    buffer_.resize(before);
    return absl::Status(appended.code(),
                        absl::StrCat("append ", path_, "@", offset, ": ", appended.message()));
  }
  FrameLocation where;
  where.start_id = start_id;
  where.offset = offset;
  where.entry_count = static_cast<uint32_t>(entries.size());
  where.size = buffer_.size() - before;
  return where;
}

absl::Status SegmentWriter::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  if (file_ == nullptr) {
    IRONWAL_RETURN_IF_ERROR(WithFile([this] { return Flush(); }));
    // A detached writer's buffer would otherwise keep its largest size per stream.
    if (buffer_.empty()) std::string().swap(buffer_);
    return absl::OkStatus();
  }
  if (zeroed_end_ > flushed_size_) {
    // Over the zero tail. On error an unknown prefix may be there: Rollback() cuts it.
    const size_t inside =
        static_cast<size_t>(std::min<uint64_t>(buffer_.size(), zeroed_end_ - flushed_size_));
    IRONWAL_RETURN_IF_ERROR(
        file_->WriteAt(flushed_size_, absl::string_view(buffer_).substr(0, inside)));
    buffer_.erase(0, inside);
    flushed_size_ += inside;
    if (buffer_.empty()) return absl::OkStatus();
  }
  if (flushed_size_ + buffer_.size() > reserved_end_) ReserveAhead();
  const absl::Status written = file_->Append(buffer_);
  const uint64_t reached = file_->Size();
  IRONWAL_CHECK(reached >= flushed_size_ && reached <= flushed_size_ + buffer_.size())
      << path_ << ": file size " << reached << " after writing at " << flushed_size_;
  buffer_.erase(0, reached - flushed_size_);
  flushed_size_ = reached;
  zeroed_end_ = reached;
  return written;
}

void SegmentWriter::ReserveAhead() {
  if (allocate_ahead_ == 0 || reserve_failed_ || borrowed_file_) return;
  const uint64_t from = std::max(reserved_end_, flushed_size_);
  const uint64_t length =
      std::max<uint64_t>(allocate_ahead_, flushed_size_ + buffer_.size() - from);
  holds_reservation_ = true;
  if (file_->Allocate(from, length).ok()) {
    reserved_end_ = from + length;
    return;
  }
  // Part of it may be held (a file system may reserve what it could): let it go, so that
  // a nearly full disk keeps its space for the writes themselves.
  reserve_failed_ = true;
  ReleaseReservation();
}

void SegmentWriter::ReleaseReservation() {
  if (!holds_reservation_ || file_ == nullptr) return;
  // At the file's own size (its zero tail, if any, stays). Best effort: a failure leaves
  // blocks past the end, never bytes, and must not fail the close or eviction it is part of.
  if (file_->Truncate(zeroed_end_).ok()) {
    holds_reservation_ = false;
    reserved_end_ = zeroed_end_;
  }
}

absl::Status SegmentWriter::ExtendZeroed(uint64_t end) {
  // Detached: no zeros. Detach() cut them, and Close() of a detached writer relies on
  // that (it only syncs); a stream evicted from the budget is cold and gains nothing.
  if (file_ == nullptr) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(Flush());
  if (zeroed_end_ >= end) return absl::OkStatus();
  const absl::Status appended = file_->Append(std::string(end - zeroed_end_, '\0'));
  zeroed_end_ = file_->Size();
  IRONWAL_RETURN_IF_ERROR(appended);
  IRONWAL_RETURN_IF_ERROR(file_->Sync());
  synced_size_ = flushed_size_;
  return absl::OkStatus();
}

absl::Status SegmentWriter::TrimZeroTail() {
  if (zeroed_end_ == flushed_size_) return absl::OkStatus();
  if (file_ == nullptr) return WithFile([this] { return TrimZeroTail(); });
  // The truncation also frees the blocks reserved past the end.
  IRONWAL_RETURN_IF_ERROR(file_->Truncate(flushed_size_));
  zeroed_end_ = flushed_size_;
  reserved_end_ = flushed_size_;
  holds_reservation_ = false;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Sync() {
  if (file_ == nullptr) {
    if (buffer_.empty() && synced_size_ == flushed_size_) return absl::OkStatus();
    absl::Status synced = WithFile([this] { return Sync(); });
    if (buffer_.empty()) std::string().swap(buffer_);
    return synced;
  }
  if (SyncWritesDurably()) {
    // On error an unknown prefix may be there, as after a failed Flush(): the buffer
    // stays for Rollback() to cut.
    IRONWAL_RETURN_IF_ERROR(file_->WriteAtDurable(flushed_size_, buffer_));
    flushed_size_ += buffer_.size();
    buffer_.clear();
    synced_size_ = flushed_size_;
    return absl::OkStatus();
  }
  IRONWAL_RETURN_IF_ERROR(Flush());
  if (synced_size_ == flushed_size_) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(file_->Sync());
  synced_size_ = flushed_size_;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Rollback(uint64_t size) {
  IRONWAL_CHECK(size >= synced_size_ && size <= this->size())
      << path_ << ": rollback to " << size << " outside [" << synced_size_ << ", " << this->size()
      << "]";
  if (size >= flushed_size_) {
    buffer_.resize(size - flushed_size_);
    // A failed write over the zero tail may have left part of a frame there.
    return TrimZeroTail();
  }
  buffer_.clear();
  if (file_ == nullptr) return WithFile([this, size] { return Rollback(size); });
  IRONWAL_RETURN_IF_ERROR(file_->Truncate(size));
  flushed_size_ = size;
  zeroed_end_ = size;
  reserved_end_ = size;  // the truncation freed what was reserved past it
  holds_reservation_ = false;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Close() {
  // Detached, the zero tail is already cut: syncing is all that is left.
  if (file_ == nullptr) return Sync();
  IRONWAL_RETURN_IF_ERROR(Sync());
  if (zeroed_end_ > flushed_size_) {
    // Durably: whoever names the next segment relies on this one ending at its frames.
    IRONWAL_RETURN_IF_ERROR(TrimZeroTail());
    IRONWAL_RETURN_IF_ERROR(file_->Sync());
  }
  // Space reserved past the frames: released, not synced (the size does not change; a
  // crash before the release is written back keeps the blocks, never the bytes).
  ReleaseReservation();
  return file_->Close();
}

absl::Status SegmentWriter::CloseUnsynced() {
  IRONWAL_RETURN_IF_ERROR(Flush());
  if (file_ == nullptr) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(TrimZeroTail());
  ReleaseReservation();
  return file_->Close();
}

bool SegmentWriter::ReadBuffered(uint64_t offset, size_t n, std::string* dst) const {
  if (offset < flushed_size_ || offset + n > size()) return false;
  dst->assign(buffer_, offset - flushed_size_, n);
  return true;
}

}  // namespace internal
}  // namespace ironwal
