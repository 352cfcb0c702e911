// File: ironwal/segment/segment_reader.h
//
// SegmentReader: random access to the frames of one segment file. A read looks the ID up
// in the segment's OffsetIndex, reads that one frame (a view into the mapping under mmap,
// one pread otherwise), checks its header against the index and its CRC, and decodes
// only the entry asked for. Nothing is returned that has not passed its CRC.
//
// The index is either the stream's live index of its active segment (shared, growing as
// frames are published) or, for a sealed segment, built when the reader opens by walking
// the segment's headers (IndexSealedSegment in segment_scan.h).
//
//   IRONWAL_ASSIGN_OR_RETURN(auto reader, SegmentReader::OpenSealed(env, path, 100, 200, opts));
//   IRONWAL_ASSIGN_OR_RETURN(VerifiedFrame frame, reader->ReadFrame(*reader->index().Find(150)));
//   IRONWAL_ASSIGN_OR_RETURN(absl::string_view entry, frame.Entry(150));
//
// Thread-safety: all methods are thread-safe. Views into a mapping stay valid while the
// reader lives; hold the shared_ptr while using them.
#ifndef IRONWAL_SEGMENT_SEGMENT_READER_H_
#define IRONWAL_SEGMENT_SEGMENT_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"
#include "ironwal/format/frame.h"
#include "ironwal/index/offset_index.h"

namespace ironwal {
namespace internal {

// One frame, read and CRC-checked.
class VerifiedFrame {
 public:
  const FrameHeader& header() const { return header_; }
  // The stored payload (a view into the mapping, or into this object).
  absl::string_view payload() const { return payload_; }
  // Entry `id` of this frame. Raw frames: a view into payload(); LZ4 frames are decoded
  // on the first call and kept. DataLoss if the entry block is malformed.
  absl::StatusOr<absl::string_view> Entry(uint64_t id);
  // Every entry of the frame, decoded.
  absl::StatusOr<const DecodedPayload*> Decode();

 private:
  friend class SegmentReader;
  FrameHeader header_;
  absl::string_view payload_;
  std::string owned_;  // The frame's bytes when they were not served from a mapping.
  std::optional<DecodedPayload> decoded_;
};

struct SegmentReaderOptions {
  bool use_mmap = false;
  // Read-ahead buffer for walking a sealed segment's headers.
  size_t buffer_size = 128 << 10;
};

class SegmentReader {
 public:
  // Opens a sealed segment holding IDs [start_id, end_id) (end_id nullopt when unknown)
  // and indexes it. When its frames are not a clean, contiguous run, the frames before the
  // first bad header stay readable and damage() is the DataLoss (naming the path and
  // offset) that lost the IDs after them; other errors (I/O) are returned.
  static absl::StatusOr<std::shared_ptr<SegmentReader>> OpenSealed(
      Env* env, const std::string& path, uint64_t start_id, std::optional<uint64_t> end_id,
      const SegmentReaderOptions& options);

  // Opens a sealed segment with an `index` built before (by an earlier reader's walk or by
  // the writer that sealed it): nothing but the frames asked for is read. The index is a
  // hint that every read checks (header against index, CRC), so a stale one gives
  // DataLoss, never other bytes.
  static absl::StatusOr<std::shared_ptr<SegmentReader>> OpenSealedIndexed(
      Env* env, const std::string& path, std::shared_ptr<const OffsetIndex> index,
      const SegmentReaderOptions& options);

  // Opens the active segment, reading through the stream's live `index`.
  static absl::StatusOr<std::shared_ptr<SegmentReader>> OpenActive(
      Env* env, const std::string& path, std::shared_ptr<const OffsetIndex> index,
      const SegmentReaderOptions& options);

  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // Reads and verifies the frame at `where` (from index().Find). A CRC failure is
  // re-read once before it is reported as DataLoss ("read <path>@<offset>: ...").
  absl::StatusOr<VerifiedFrame> ReadFrame(const FrameLocation& where) const;
  // The same, reading a frame that is not in the mapping into `*scratch` (resized as
  // needed; its capacity is reused) instead of a buffer of its own: the frame's views are
  // valid while `*scratch` is neither changed nor destroyed. For Get, which copies the entry
  // out before it reads again. The re-read after a CRC failure still uses its own buffer.
  absl::StatusOr<VerifiedFrame> ReadFrame(const FrameLocation& where, std::string* scratch) const;

  // Get's fast path: entry `id` of the raw frame at `where` (from index().Find), with every
  // check ReadFrame and VerifiedFrame::Entry make (the header decodes and matches the
  // index, the CRC, folded in place, matches, the entry block is well formed) but no
  // Status, no VerifiedFrame and no copy of the frame: `*entry` is a view into the mapping
  // (valid while this reader lives) or, for a frame past it, into `*scratch`, which one
  // pread fills (resized as needed; valid until it changes). False, and nothing reported,
  // when the frame is not that common case: a read error, a short read, any failed check,
  // an LZ4 frame. The caller then reads it with ReadFrame, which reports what is wrong (and
  // reads a frame that failed its CRC once more).
  bool TryReadEntry(const FrameLocation& where, uint64_t id, std::string* scratch,
                    absl::string_view* entry) const;

  // `status` (an error of VerifiedFrame::Entry or Decode for the frame at `where`) with
  // "read <path>@<offset>: " in front, so that it names the file.
  absl::Status Annotate(const FrameLocation& where, const absl::Status& status) const;

  // OK when the index's last frame is in the file where the index says: a header there
  // with its start ID, entry count and size (its CRC is not read), whose stamp does not
  // say it was written for another stream than the one tagged `stream_tag` (a segment of
  // the same layout from another stream's directory). DataLoss when it is not; the read's
  // error when the read fails (which says nothing about the index).
  absl::Status CheckLastFrame(uint8_t stream_tag) const;
  const OffsetIndex& index() const { return *index_; }
  std::shared_ptr<const OffsetIndex> shared_index() const { return index_; }
  // Opened as a sealed segment (its index is complete and no longer grows).
  bool sealed() const { return sealed_; }
  // OK, or why the walk of a sealed segment stopped before its end: the IDs past
  // index().end_id() cannot be read.
  const absl::Status& damage() const { return damage_; }
  const RandomAccessFile& file() const { return *file_; }
  // file().MappedSize(), read once at open (a mapping never grows).
  uint64_t mapped_size() const { return mapped_size_; }
  const std::string& path() const { return file_->path(); }
  uint64_t start_id() const { return index_->segment_start_id(); }

 private:
  SegmentReader(std::unique_ptr<RandomAccessFile> file, std::shared_ptr<const OffsetIndex> index);

  absl::StatusOr<VerifiedFrame> ReadOnce(const FrameLocation& where, bool fresh,
                                         std::string* scratch) const;

  std::unique_ptr<RandomAccessFile> file_;
  const uint64_t mapped_size_;
  std::shared_ptr<const OffsetIndex> index_;
  absl::Status damage_;
  bool sealed_ = false;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_SEGMENT_SEGMENT_READER_H_
