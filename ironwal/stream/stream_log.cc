// Stream: the log operations -- metadata, a stream that starts at any ID, reset, suffix
// truncation, exact front trimming, deletion. The files and the steps that apply them
// (in crash order) are in log_files.h; here they are run under the write lock, with the
// writer closed, and the in-memory state is read back from the directory afterwards
// (the same code recovery runs), so the live stream and a reopened one cannot differ.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/stream.h"

namespace ironwal {

void Stream::ResetInMemory(uint64_t start) {
  auto index = std::make_shared<OffsetIndex>(start);
  {
    WriterMutexLock lock(&segments_mu_);
    segments_ = {start};
    active_index_ = index;
    first_id_.store(start, std::memory_order_release);
  }
  write_index_ = index;
  next_id_.store(start, std::memory_order_release);
  write_next_id_ = start;
  on_disk_ = false;
  active_file_exists_ = false;
  names_synced_ = false;
  active_size_ = 0;
  active_synced_ = 0;
  frontier_written_ = 0;
  pending_frames_.clear();
  flushed_offset_.store(0, std::memory_order_release);
}

absl::Status Stream::CheckWritable(absl::string_view op) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(absl::StrCat(OpDescription(op), ": opened read-only"));
  }
  if (!poison_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(OpDescription(op), ": stream is poisoned by an earlier failure (reopen the ",
                     "Wal to recover): ", poison_.ToString()));
  }
  return absl::OkStatus();
}

absl::Status Stream::Quiesce() {
  IRONWAL_RETURN_IF_ERROR(SyncLocked());
  return CloseWriterLocked();
}

void Stream::ForgetReaders() {
  ReaderMutexLock lock(&segments_mu_);
  for (uint64_t start : segments_) shared_->readers->Erase(this, start);
}

absl::Status Stream::RunLogIntent(const LogIntent& intent) {
  log_epoch_.fetch_add(1, std::memory_order_acq_rel);
  // Readers of the files about to change (the active one is replaced) are not kept.
  ForgetReaders();
  absl::Status done = WriteLogIntent(env_, dir_path_, intent);
  if (done.ok()) done = ApplyLogIntent(env_, dir_path_, intent);
  if (done.ok()) done = LoadAfterIntent(intent);
  ForgetReaders();
  // What is on disk is in doubt until a reopen finishes the intent.
  if (!done.ok()) return Poison(done);
  return absl::OkStatus();
}

// The copy is read twice (a transient read error must not be copied into the new
// segment) and the staged file's frames are checked again before it is used.
// The state the intent describes, with the active segment's frames indexed by a scan
// that must find exactly what the intent says (the small files are not read back: they
// carry no checksum, and the intent already says what they hold).
absl::Status Stream::LoadAfterIntent(const LogIntent& intent) {
  const uint64_t start = intent.active_start();
  auto index = std::make_shared<OffsetIndex>(start);
  if (intent.active_size > 0) {
    const std::string path = SegmentPath(start);
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                             env_->NewRandomAccessFile(path, RandomAccessFileOptions()));
    ScanOptions scan_options;
    scan_options.buffer_size = options_.read_buffer_size;
    scan_options.durable_offset_known = true;
    scan_options.durable_offset = intent.active_size;
    IRONWAL_ASSIGN_OR_RETURN(const SegmentScan scan,
                             ScanActiveSegment(*file, start, scan_options, index.get()));
    if (scan.outcome != ScanOutcome::kClean || scan.valid_end != intent.active_size ||
        scan.end_id != intent.next_id) {
      return absl::DataLossError(absl::StrCat(
          "load ", path, "@", scan.valid_end, ": after the operation the segment should hold IDs [",
          start, ", ", intent.next_id, ") in ", intent.active_size,
          " bytes; the scan found IDs up to ", scan.end_id, ": ", scan.reason));
    }
  }
  {
    WriterMutexLock lock(&segments_mu_);
    segments_ = intent.segments;
    active_index_ = index;
    first_id_.store(intent.first_id, std::memory_order_release);
  }
  write_index_ = index;
  next_id_.store(intent.next_id, std::memory_order_release);
  write_next_id_ = intent.next_id;
  on_disk_ = true;
  active_file_exists_ = intent.active_size > 0;
  active_size_ = intent.active_size;
  active_synced_ = intent.active_size;
  frontier_written_ = intent.active_size;
  flushed_offset_.store(intent.active_size, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Stream::StageSegment(uint64_t start, uint64_t cut, absl::string_view tail) {
  constexpr uint64_t kChunk = 1 << 20;
  const std::string staged = JoinPath(dir_path_, StagedSegmentName(start));
  IRONWAL_ASSIGN_OR_RETURN(
      std::unique_ptr<RandomAccessFile> source,
      env_->NewRandomAccessFile(SegmentPath(start), RandomAccessFileOptions()));
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env_->NewWritableFile(staged));
  std::string chunk;
  std::string again;
  for (uint64_t at = 0; at < cut;) {
    const size_t n = static_cast<size_t>(std::min(kChunk, cut - at));
    chunk.resize(n);
    again.resize(n);
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view bytes, source->Read(at, n, &chunk[0]));
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view check, source->Read(at, n, &again[0]));
    if (bytes.size() != n || bytes != check) {
      return absl::DataLossError(absl::StrCat("stage ", SegmentPath(start), "@", at,
                                              ": two reads of the bytes before the cut at ", cut,
                                              " differ or end early; nothing truncated"));
    }
    IRONWAL_RETURN_IF_ERROR(out->Append(bytes));
    at += n;
  }
  IRONWAL_RETURN_IF_ERROR(out->Append(tail));
  IRONWAL_RETURN_IF_ERROR(out->Sync());
  IRONWAL_RETURN_IF_ERROR(out->Close());
  return VerifyStaged(staged, cut + tail.size());
}

absl::Status Stream::VerifyStaged(const std::string& path, uint64_t size) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env_->NewRandomAccessFile(path, RandomAccessFileOptions()));
  FrameCursor cursor(file.get(), 0, size, options_.read_buffer_size);
  for (;;) {
    IRONWAL_ASSIGN_OR_RETURN(const FrameCursor::Item item, cursor.Next());
    if (item.kind == FrameCursor::Kind::kEnd) return absl::OkStatus();
    absl::Status bad = item.kind == FrameCursor::Kind::kFrame
                           ? VerifyFramePayload(item.header, item.payload)
                           : absl::DataLossError("not a whole frame");
    if (!bad.ok()) {
      return absl::DataLossError(absl::StrCat("stage ", path, "@", item.offset, ": ", bad.message(),
                                              "; nothing truncated"));
    }
  }
}

absl::StatusOr<LogIntent> Stream::PlanSuffixCut(uint64_t from_id) {
  std::vector<uint64_t> segments;
  {
    ReaderMutexLock lock(&segments_mu_);
    segments = segments_;
  }
  const size_t k = static_cast<size_t>(std::max<int64_t>(FindSegment(segments, from_id), 0));
  LogIntent intent;
  intent.kind = LogIntent::Kind::kTruncateSuffix;
  intent.next_id = from_id;
  intent.first_id = first_id();
  if (segments[k] == from_id) {
    // A cut at a segment's start: the segment before it (synced whole at its rotation)
    // becomes the active one again, as it is; or the first segment empties.
    intent.segments.assign(segments.begin(),
                           segments.begin() + static_cast<int64_t>(std::max<size_t>(k, 1)));
    if (k > 0) {
      IRONWAL_ASSIGN_OR_RETURN(intent.active_size, env_->GetFileSize(SegmentPath(segments[k - 1])));
    }
    return intent;
  }
  intent.segments.assign(segments.begin(), segments.begin() + static_cast<int64_t>(k + 1));
  IRONWAL_ASSIGN_OR_RETURN(ReadPosition pos, Locate(from_id));
  std::string tail;
  if (pos.frame.start_id < from_id) {
    // The frame holding from_id is a batch: its entries before from_id are written again
    // as a frame of their own, stamped as synced up to its offset (all before it is).
    IRONWAL_ASSIGN_OR_RETURN(VerifiedFrame frame, pos.reader->ReadFrame(pos.frame));
    IRONWAL_ASSIGN_OR_RETURN(const DecodedPayload* decoded, frame.Decode());
    const std::vector<absl::string_view> kept(
        decoded->entries().begin(),
        decoded->entries().begin() + static_cast<int64_t>(from_id - pos.frame.start_id));
    FrameStamp stamp;
    stamp.frontier_distance = 0;
    stamp.stream_tag = StreamTag(dir_name_);
    IRONWAL_RETURN_IF_ERROR(AppendFrame(pos.frame.start_id, kept, options_.encode, stamp, &tail));
  }
  intent.active_size = pos.frame.offset + tail.size();
  intent.staged = true;
  IRONWAL_RETURN_IF_ERROR(StageSegment(segments[k], pos.frame.offset, tail));
  return intent;
}

void Stream::ApplyFirstIdFile() {
  const std::optional<uint64_t> trimmed = ReadFirstId(env_, dir_path_);
  if (!trimmed.has_value()) return;
  const uint64_t first = std::min(*trimmed, next_id());
  if (first <= first_id()) return;
  WriterMutexLock lock(&segments_mu_);
  first_id_.store(first, std::memory_order_release);
}

absl::Status Stream::PutMetadata(absl::string_view value) {
  if (value.size() > format::kMaxStreamMetadataSize) {
    return absl::InvalidArgumentError(absl::StrCat(OpDescription("put metadata of"), ": ",
                                                   value.size(), " bytes; the limit is ",
                                                   format::kMaxStreamMetadataSize));
  }
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("put metadata of"));
  const absl::Status created = EnsureCreatedOnDisk();
  if (!created.ok()) return absl::IsResourceExhausted(created) ? created : Poison(created);
  return WriteFileAtomically(env_, JoinPath(dir_path_, format::kStreamMetadataFileName),
                             EncodeStreamMetadata(value));
}

absl::StatusOr<std::string> Stream::GetMetadata() { return ReadStreamMetadata(env_, dir_path_); }

absl::Status Stream::StartAt(uint64_t first_id) {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("create"));
  if (on_disk_) {
    return absl::AlreadyExistsError(absl::StrCat(OpDescription("create"), ": the stream exists"));
  }
  const uint64_t old_start = this->first_id();
  ResetInMemory(first_id);
  const absl::Status created = EnsureCreatedOnDisk();
  if (created.ok()) return absl::OkStatus();
  // Not created: the stream stays as it was (files written so far are rewritten by the
  // next creation, or, after a crash, show the stream created: old or new).
  ResetInMemory(old_start);
  return absl::IsResourceExhausted(created) ? created : Poison(created);
}

absl::Status Stream::Reset(uint64_t next_id) {
  {
    MutexLock lock(&write_mu_);
    IRONWAL_RETURN_IF_ERROR(CheckWritable("reset"));
    if (on_disk_) {
      IRONWAL_RETURN_IF_ERROR(Quiesce());
      LogIntent intent;
      intent.kind = LogIntent::Kind::kReset;
      intent.next_id = next_id;
      intent.first_id = next_id;
      intent.segments = {next_id};
      return RunLogIntent(intent);
    }
  }
  return StartAt(next_id);
}

absl::Status Stream::TruncateSuffix(uint64_t from_id) {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("truncate suffix of"));
  const uint64_t first = first_id();
  const uint64_t next = next_id();
  if (from_id < first || from_id > next) {
    return absl::OutOfRangeError(absl::StrCat(OpDescription("truncate suffix of"), ": from ID ",
                                              from_id, " is outside [first ID ", first,
                                              ", next ID ", next, "]"));
  }
  if (from_id == next) return absl::OkStatus();
  // Everything before from_id is durable before anything is cut.
  IRONWAL_RETURN_IF_ERROR(Quiesce());
  IRONWAL_ASSIGN_OR_RETURN(const LogIntent intent, PlanSuffixCut(from_id));
  return RunLogIntent(intent);
}

absl::StatusOr<TruncateResult> Stream::TrimFront(uint64_t first_id) {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("trim"));
  const uint64_t next = next_id();
  if (first_id > next) {
    return absl::OutOfRangeError(absl::StrCat(OpDescription("trim"), ": first ID ", first_id,
                                              " is past the next ID ", next));
  }
  if (first_id <= this->first_id()) return TruncateResult{0, this->first_id()};
  // The entries up to the new first ID are durable first: a crash must not leave a log
  // that ends below it (its next append would reuse trimmed IDs).
  IRONWAL_RETURN_IF_ERROR(SyncLocked());
  // first.id first: from here the IDs below it are gone, whichever segments remain.
  const absl::Status written = WriteFileAtomically(
      env_, JoinPath(dir_path_, format::kFirstIdFileName), EncodeFirstId(first_id));
  if (!written.ok()) return Poison(written);
  {
    WriterMutexLock segments(&segments_mu_);
    first_id_.store(first_id, std::memory_order_release);
  }
  return TruncateLocked(first_id);
}

absl::Status Stream::Delete() {
  if (options_.read_only) {
    return absl::FailedPreconditionError(OpDescription("delete") + ": opened read-only");
  }
  MutexLock lock(&write_mu_);
  // The writer goes without a sync: its bytes are about to be removed.
  if (writer_ != nullptr) {
    writer_.reset();
    shared_->writers->Closed(this);
  }
  ForgetReaders();
  absl::StatusOr<bool> exists = env_->IsDirectory(dir_path_);
  if (absl::IsNotFound(exists.status())) exists = false;
  IRONWAL_RETURN_IF_ERROR(exists.status());
  if (*exists) {
    const absl::Status deleted = DeleteStreamDirectory(env_, options_.root, dir_path_);
    if (!deleted.ok()) return Poison(deleted);
  }
  log_epoch_.fetch_add(1, std::memory_order_acq_rel);
  poison_ = absl::OkStatus();
  ResetInMemory(0);
  {
    MutexLock key(&key_mu_);
    key_file_pending_ = key_known_;
    key_file_pending_relaxed_.store(key_known_, std::memory_order_release);
  }
  deleted_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace ironwal
