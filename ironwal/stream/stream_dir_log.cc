// StreamDir: the log operations' side -- the in-memory state after a reset, a delete or
// a log.intent, staging a cut segment, first.id. The Stream runs them under its write
// lock with the writer closed (stream_log.cc); the files and the steps that apply them
// (in crash order) are in log_files.h. After a log.intent the in-memory state is the one
// the intent describes, so the live stream and a reopened one cannot differ.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/stream_dir.h"

namespace ironwal {
namespace internal {

void StreamDir::ResetInMemory(uint64_t start) {
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
  closed_.size = 0;
  closed_.synced = 0;
  frontier_written_ = 0;
  flushed_offset_.store(0, std::memory_order_release);
}

void StreamDir::ForgetReaders() {
  ReaderMutexLock lock(&segments_mu_);
  for (uint64_t start : segments_) readers_->Erase(cache_owner_, start);
}

absl::Status StreamDir::RunLogIntent(const LogIntent& intent) {
  // Readers of the files about to change (the active one is replaced) are not kept.
  ForgetReaders();
  absl::Status done = WriteLogIntent(env_, dir_path_, intent);
  if (done.ok()) done = ApplyLogIntent(env_, dir_path_, intent);
  if (done.ok()) done = LoadAfterIntent(intent);
  ForgetReaders();
  return done;
}

// The state the intent describes, with the active segment's frames indexed by a scan
// that must find exactly what the intent says (the small files are not read back: they
// carry no checksum, and the intent already says what they hold).
absl::Status StreamDir::LoadAfterIntent(const LogIntent& intent) {
  const uint64_t start = intent.active_start();
  auto index = std::make_shared<OffsetIndex>(start);
  if (intent.active_size > 0) {
    const std::string path = SegmentPath(start);
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                             env_->NewRandomAccessFile(path, RandomAccessFileOptions()));
    ScanOptions scan_options;
    scan_options.buffer_size = options_.read_buffer_size;
    scan_options.env = env_;
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
  closed_.size = intent.active_size;
  closed_.synced = intent.active_size;
  frontier_written_ = intent.active_size;
  flushed_offset_.store(intent.active_size, std::memory_order_release);
  return absl::OkStatus();
}

// The copy is read twice (a transient read error must not be copied into the new
// segment) and the staged file's frames are checked again before it is used.
absl::Status StreamDir::StageSegment(uint64_t start, uint64_t cut, absl::string_view tail) {
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

absl::Status StreamDir::VerifyStaged(const std::string& path, uint64_t size) {
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

absl::Status StreamDir::WriteFirstId(uint64_t first_id) {
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(dir_path_, format::kFirstIdFileName),
                                              EncodeFirstId(first_id)));
  WriterMutexLock lock(&segments_mu_);
  first_id_.store(first_id, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status StreamDir::ApplyFirstIdFile() {
  IRONWAL_ASSIGN_OR_RETURN(const std::optional<uint64_t> trimmed, ReadFirstId(env_, dir_path_));
  if (!trimmed.has_value()) return absl::OkStatus();
  const uint64_t first = std::min(*trimmed, next_id());
  if (first <= first_id()) return absl::OkStatus();
  WriterMutexLock lock(&segments_mu_);
  first_id_.store(first, std::memory_order_release);
  return absl::OkStatus();
}

void StreamDir::ResetAfterDelete() {
  ResetInMemory(0);
  {
    MutexLock lock(&key_mu_);
    key_file_pending_.store(key_known_, std::memory_order_release);
  }
  deleted_.store(true, std::memory_order_release);
}

}  // namespace internal
}  // namespace ironwal
