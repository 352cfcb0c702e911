// File: ironwal/segment/segment_writer.h
//
// SegmentWriter: appends frames to the active segment file of one stream. Frames are
// encoded straight into an in-process buffer; Flush() hands the buffer to the file in one
// write, Sync() also makes it durable. When and how often to flush and sync is the
// stream's decision (its sync mode); this class keeps the three positions apart:
//
//   synced_size() <= flushed_size() <= size()
//   durable          in the OS (file)    encoded (including the buffer)
//
// Each frame carries a stamp (frame.h) in its header's reserved bytes: the distance back
// to synced_size() when it was encoded, and the tag of the stream whose directory holds
// the file. A later valid frame thus proves which earlier bytes were synced, which lets
// recovery tell damage to acknowledged data from a torn tail (segment_scan.h).
//
// Zero-filled space ahead (StreamOptions::preallocate_bytes): ExtendZeroed() writes zero
// bytes past the frames and syncs them, so the file is longer than its frames. Later
// frames are written over those zeros (WriteAt) instead of at the end of the file, and
// their fdatasync has no file size and no new extent to record. A zero tail after the
// last frame reads as the clean end of the segment (segment_scan.h, row Z); Close() and
// CloseUnsynced() cut it off (Close() durably: a sealed segment is exactly its frames, as
// ironwal 0.6 writes them), so only a crash leaves one.
//
// Space reserved ahead (set_allocate_ahead(), kAsync): before a Flush() would write past
// the space reserved so far, the writer reserves the next stretch past the file's end
// (WritableFile::Allocate, which leaves the file's size alone), so the write lands in
// blocks the file system already holds. Best effort: a failed reservation is released at
// once (Truncate to the file's own size frees what lies past it) and this writer tries no
// more; the write goes on and meets any real shortage itself. Close(), CloseUnsynced()
// and Detach() release what is reserved, so a sealed segment holds only its frames' blocks.
// A writer opened on a detached writer's behalf (WithFile) reserves nothing.
//
// Detached (Detach()): the writer keeps its buffer and positions but holds no descriptor,
// so a stream evicted from WalOptions::max_open_segments in kAsync keeps taking frames in
// memory. Flush(), Sync(), Rollback() and Close() of a detached writer open the file for
// that call and close it again (one open, the call's I/O, one close); AppendFrame() and
// ReadBuffered() need no file.
//
// After a failed write, Rollback() cuts the file and the buffer back to a frame boundary
// the caller knows is good, so a failed append never leaves half a frame for a later one
// to follow (ironwal 0.6 defect W6).
//
//   IRONWAL_ASSIGN_OR_RETURN(auto writer, SegmentWriter::Create(env, path, 0));
//   IRONWAL_ASSIGN_OR_RETURN(FrameLocation where, writer->AppendFrame(0, {"a"}, options));
//   IRONWAL_RETURN_IF_ERROR(writer->Sync());
//
// Thread-safety: not thread-safe; the owning stream serializes all calls.
#ifndef IRONWAL_SEGMENT_SEGMENT_WRITER_H_
#define IRONWAL_SEGMENT_SEGMENT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/env/env.h"
#include "ironwal/format/frame.h"
#include "ironwal/index/offset_index.h"

namespace ironwal {
namespace internal {

class SegmentWriter {
 public:
  // Creates `path` as a new, empty segment (truncating any file of that name). The caller
  // syncs the directory to make the name durable.
  static absl::StatusOr<std::unique_ptr<SegmentWriter>> Create(Env* env, const std::string& path,
                                                               uint64_t start_id);

  // Opens an existing segment to append after its first `size` bytes, which recovery has
  // verified (and truncated the file to). FailedPrecondition if the file is not `size` bytes.
  static absl::StatusOr<std::unique_ptr<SegmentWriter>> Reopen(Env* env, const std::string& path,
                                                               uint64_t start_id, uint64_t size,
                                                               uint64_t synced_size);

  // As Reopen, but detached (see the file comment): no system call now; the first call that
  // needs the file opens it and checks that it has `size` bytes.
  static std::unique_ptr<SegmentWriter> ReopenDetached(Env* env, const std::string& path,
                                                       uint64_t start_id, uint64_t size,
                                                       uint64_t synced_size);

  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;
  // Closes the file without flushing; call Close() to keep buffered frames.
  ~SegmentWriter();

  // Encodes one frame of `entries`, IDs from `start_id`, into the buffer, stamped with
  // the distance back to synced_size(). Nothing reaches the file until Flush(). Returns where the
  // frame will sit in the file.
  absl::StatusOr<FrameLocation> AppendFrame(uint64_t start_id,
                                            absl::Span<const absl::string_view> entries,
                                            const FrameEncodeOptions& options);

  // Writes the buffer to the file. On error the bytes that reached the file stay there
  // (flushed_size() says how many) and the rest stay buffered; the caller rolls back or
  // gives up on the segment.
  absl::Status Flush();

  // Reserve `bytes` of disk past the file's end at a time ahead of the flushes (see the
  // file comment). 0 (the default) reserves nothing.
  void set_allocate_ahead(uint64_t bytes) { allocate_ahead_ = bytes; }

  // Flush(), then fdatasync. On error the unsynced bytes must be treated as lost (see
  // env.h): synced_size() does not move. When SyncWritesDurably(), the buffer goes to the
  // file in one WritableFile::WriteAtDurable instead (pwritev2 with RWF_DSYNC on Linux):
  // no separate fdatasync, the same promise.
  absl::Status Sync();

  // Whether Sync() would write the buffer durably in one call: it is not empty, nothing
  // flushed is unsynced, and it fits in the zero tail (so the write changes no file size).
  bool SyncWritesDurably() const {
    return !buffer_.empty() && flushed_size_ == synced_size_ &&
           zeroed_end_ - flushed_size_ >= buffer_.size();
  }

  // Discards everything past byte `size` (a frame boundary at or after synced_size()):
  // drops buffered bytes and truncates the file if it holds more.
  absl::Status Rollback(uint64_t size);

  // Flush(), then makes the file at least `end` bytes long by appending zero bytes, and
  // syncs it (which also syncs the flushed frames). Frames up to `end` are then written
  // over zeros. No-op when the file is already that long, and for a detached writer (it
  // never has a zero tail). On error the file may have grown by some zeros (still a clean
  // end); a failed sync must be treated as Sync()'s.
  absl::Status ExtendZeroed(uint64_t end);

  // Flush(), Sync() if anything is unsynced, cut any zero tail (synced), and close the file.
  absl::Status Close();

  // Flush(), cut any zero tail (not synced: a crash may leave it) and close the file
  // without syncing: bytes past synced_size() stay in the OS,
  // as durable as the sync mode promised (a later Reopen and Sync() makes them durable:
  // fdatasync covers the file's data whichever descriptor wrote it).
  absl::Status CloseUnsynced();

  // Cuts any zero tail (not synced) and closes the file, keeping the buffer: see the file
  // comment. On error the writer is detached anyway (the descriptor is gone).
  absl::Status Detach();
  bool detached() const { return file_ == nullptr; }
  // Opens the file of a detached writer and keeps it open (checking it has
  // flushed_size() bytes); a no-op for an attached one. On error it stays detached.
  absl::Status Attach();

  // Copies bytes [offset, offset + n) that are still only in the buffer (offset >=
  // flushed_size()) into `dst`. For readers of the same WAL that need a frame before it is
  // flushed.
  bool ReadBuffered(uint64_t offset, size_t n, std::string* dst) const;

  const std::string& path() const { return path_; }
  uint64_t start_id() const { return start_id_; }
  uint64_t size() const { return flushed_size_ + buffer_.size(); }
  uint64_t flushed_size() const { return flushed_size_; }
  uint64_t synced_size() const { return synced_size_; }
  size_t buffered_bytes() const { return buffer_.size(); }
  // The heap bytes the buffer holds (its capacity, however much is buffered).
  size_t buffer_capacity() const { return buffer_.capacity(); }
  // The file's size: flushed_size() plus the zero tail ExtendZeroed() wrote past it.
  uint64_t zeroed_end() const { return zeroed_end_; }

 private:
  SegmentWriter(Env* env, std::unique_ptr<WritableFile> file, std::string path, uint64_t start_id,
                uint64_t size, uint64_t synced_size);

  // Runs `op` with the file open: a detached writer opens it for the call (checking it
  // still has flushed_size() bytes) and closes it after.
  template <typename Op>
  absl::Status WithFile(Op op);

  // Cuts the zero tail, if any, so the file ends at flushed_size_ (which also releases
  // the space reserved past it).
  absl::Status TrimZeroTail();

  // Flush()'s reservation ahead of writing the buffer (allocate_ahead_).
  void ReserveAhead();
  // Releases the space reserved past the file's end, if any (best effort).
  void ReleaseReservation();

  Env* const env_;
  std::unique_ptr<WritableFile> file_;  // null: detached
  const std::string path_;
  const uint64_t start_id_;
  const uint8_t stream_tag_;        // StreamTagOfSegment(path_)
  std::string buffer_;              // Encoded frames not yet written to the file.
  uint64_t flushed_size_;           // Bytes in the file.
  uint64_t synced_size_;            // Bytes known durable.
  uint64_t zeroed_end_;             // The file's size (>= flushed_size_; past it: zero bytes).
  uint64_t allocate_ahead_ = 0;     // set_allocate_ahead(); 0 = none
  uint64_t reserved_end_ = 0;       // Allocate()d up to here (the file may be shorter).
  bool holds_reservation_ = false;  // Allocate() was called since the last release.
  bool reserve_failed_ = false;     // A reservation failed: no more for this writer.
  bool borrowed_file_ = false;      // Inside WithFile(): the descriptor is for one call.
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_SEGMENT_SEGMENT_WRITER_H_
