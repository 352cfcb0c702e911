// File: ironwal/segment/frame_cursor.h
//
// FrameCursor: reads the frames of a segment file one after another, from a starting byte
// offset up to a limit (the file's size, or the end a stream has published), through a
// read-ahead buffer of `buffer_size` bytes, or straight from the mapping when the file is
// memory-mapped. Recovery, sealed-segment indexing and iterators all walk segments with it.
//
// Next() reports what it finds at the cursor without judging it: a complete frame (header
// decoded, payload present but NOT yet CRC-checked), the end, or the first thing that is
// not a complete frame. Deciding what a bad frame means is the caller's job (see the
// decision table in segment_scan.h).
//
//   FrameCursor cursor(file, /*offset=*/0, /*limit=*/size, /*buffer_size=*/128 << 10);
//   for (;;) {
//     IRONWAL_ASSIGN_OR_RETURN(FrameCursor::Item item, cursor.Next());
//     if (item.kind != FrameCursor::Kind::kFrame) break;
//     ... item.header, item.payload (valid until the next call) ...
//   }
//
// Thread-safety: not thread-safe. The file must outlive the cursor.
#ifndef IRONWAL_SEGMENT_FRAME_CURSOR_H_
#define IRONWAL_SEGMENT_FRAME_CURSOR_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"
#include "ironwal/format/frame.h"

namespace ironwal {
namespace internal {

class FrameCursor {
 public:
  enum class Kind {
    kFrame,             // A frame with a decodable header and its whole payload.
    kEnd,               // The cursor is exactly at the limit.
    kTruncatedHeader,   // Fewer than 32 bytes remain before the limit.
    kBadHeader,         // 32 bytes that do not decode as a header (zeros, garbage, ...).
    kTruncatedPayload,  // A header whose payload runs past the limit.
  };

  struct Item {
    Kind kind = Kind::kEnd;
    uint64_t offset = 0;        // where the item starts
    FrameHeader header;         // kFrame, kTruncatedPayload
    absl::string_view payload;  // kFrame: the stored payload, unverified
    absl::Status problem;       // kBadHeader: why the header did not decode
  };

  FrameCursor(const RandomAccessFile* file, uint64_t offset, uint64_t limit, size_t buffer_size);
  FrameCursor(const FrameCursor&) = delete;
  FrameCursor& operator=(const FrameCursor&) = delete;

  // Reads the item at the cursor and, for kFrame only, moves past it. With
  // `read_payload` false a kFrame's payload is left unread (empty view): enough to walk
  // headers. I/O errors are returned as statuses with the path and offset.
  absl::StatusOr<Item> Next(bool read_payload = true);

  // The bytes at hand from the cursor up to the limit: in the mapping, or in the
  // read-ahead buffer; empty when none are (Next() then reads). For loops that decode many
  // frames themselves (recovery's scan); valid until the next Next(). Never does I/O except
  // to take a view of the whole mapping the first time.
  absl::string_view BytesAtHand();
  // Moves the cursor forward by `n` bytes (at most BytesAtHand().size()), past frames the
  // caller took from BytesAtHand().
  void Skip(uint64_t n) { offset_ += n; }

  // Moves the cursor to byte `offset` (a frame boundary the caller knows).
  void Seek(uint64_t offset) { offset_ = offset; }
  // Raises the limit (a stream published more frames).
  void set_limit(uint64_t limit) { limit_ = limit; }

  uint64_t offset() const { return offset_; }
  uint64_t limit() const { return limit_; }

 private:
  // A view of [offset, offset + n) (n <= limit - offset), from the mapping or the buffer.
  absl::StatusOr<absl::string_view> View(uint64_t offset, size_t n);

  const RandomAccessFile* const file_;
  uint64_t offset_;
  uint64_t limit_;
  const size_t buffer_size_;
  std::string buffer_;  // Holds file bytes [buffer_start_, buffer_start_ + buffer_.size()).
  uint64_t buffer_start_ = 0;
  size_t buffer_valid_ = 0;
  // Takes the whole mapping (file bytes [0, MappedSize())) into mapped_, once, for
  // BytesAtHand; mapped_ stays empty for a file read with pread.
  void TakeMapping();
  absl::string_view mapped_;
  bool mapped_taken_ = false;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_SEGMENT_FRAME_CURSOR_H_
