// File: ironwal/format/frame.h
//
// Frames: the unit ironwal writes and checksums. A frame is a 32-byte header followed by a
// payload holding one or more entries with consecutive IDs (format.h and FORMAT.md draw the
// layout). One single append is one frame; one batch or transaction is one frame.
//
//   std::string segment_bytes;
//   FrameEncodeOptions options;           // raw, or LZ4 above a threshold
//   IRONWAL_RETURN_IF_ERROR(AppendFrame(/*start_id=*/7, {"a", "bc"}, options, &segment_bytes));
//
//   IRONWAL_ASSIGN_OR_RETURN(FrameHeader header, DecodeFrameHeader(bytes));
//   IRONWAL_RETURN_IF_ERROR(VerifyFramePayload(header, payload));
//   IRONWAL_ASSIGN_OR_RETURN(DecodedPayload block, DecodePayload(header, payload));
//   IRONWAL_ASSIGN_OR_RETURN(absl::string_view entry, block.EntryAt(id - header.start_id));
//
// Decoding functions return DataLoss with a reason ("bad magic 0x00000000"); callers add the
// path and offset. Nothing here allocates from an on-disk size before checking it against
// the bytes actually present.
//
// Thread-safety: free functions are thread-safe; DecodedPayload is a value type.
#ifndef IRONWAL_FORMAT_FRAME_H_
#define IRONWAL_FORMAT_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/format/format.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

namespace ironwal {
namespace internal {

struct FrameHeader {
  uint32_t crc = 0;
  uint64_t start_id = 0;
  uint32_t entry_count = 0;
  format::Codec codec = format::Codec::kRaw;
  uint32_t disk_size = 0;
  uint32_t uncompressed_size = 0;
  // Bytes 29..31 as a u24 (little-endian): the frame stamp (see below); 0 in ironwal 0.6's
  // frames.
  uint32_t reserved = 0;

  // One past the last ID in the frame.
  uint64_t end_id() const { return start_id + entry_count; }
  // Header plus payload.
  uint64_t frame_size() const { return format::kFrameHeaderSize + disk_size; }
};

// Writes the 32 header bytes (magic, the fields, the reserved bytes) to `dst`.
void EncodeFrameHeader(const FrameHeader& header, char* dst);

// Parses a header from the first 32 bytes of `bytes`. DataLoss when there are fewer than
// 32 bytes, the magic is wrong, the codec is unknown, entry_count is 0, a raw payload's
// uncompressed_size differs from disk_size, or start_id + entry_count overflows.
// The CRC is not checked here (it covers the payload): see VerifyFramePayload.
absl::StatusOr<FrameHeader> DecodeFrameHeader(absl::string_view bytes);

// The same checks without a status: true and `*header` set exactly when DecodeFrameHeader
// of these 32 bytes would succeed (`bytes` must hold at least 32). For loops that walk
// many frames; on false, DecodeFrameHeader says why.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool TryDecodeFrameHeader(const char* bytes,
                                                              FrameHeader* header);

// The CRC-32 a frame with these fields and this stored payload carries.
uint32_t ComputeFrameCrc(const FrameHeader& header, absl::string_view payload);

// ComputeFrameCrc makes one pass over the covered header bytes and the payload together
// (copied side by side behind zero padding, Crc32OfZeroPadded) for payloads of up to
// kFrameCrcOnePassMax bytes, two passes above.
inline constexpr size_t kFrameCrcOnePassMax = 480;

// DataLoss unless `payload` is exactly header.disk_size bytes and its CRC matches.
absl::Status VerifyFramePayload(const FrameHeader& header, absl::string_view payload);
// The same check without a status: true exactly when VerifyFramePayload is OK.
bool FramePayloadMatches(const FrameHeader& header, absl::string_view payload);

// The same check for a frame whose bytes lie together at `frame` (its 32 header bytes,
// from which `header` was decoded, then its whole payload of header.disk_size bytes): the
// CRC is folded over the covered header bytes and the payload in place, with no copy.
inline bool FrameMatchesInPlace(const FrameHeader& header, const char* frame) {
  return Crc32Of17AndTail(frame + format::kCrcCoveredBegin, frame + format::kFrameHeaderSize,
                          header.disk_size) == header.crc;
}

// The frame stamp (format.h, FORMAT.md): written by this library into the reserved bytes
// ironwal 0.6 ignores, so that a valid frame proves how much of its segment had been
// synced before it was written, and for which stream it was written.
struct FrameStamp {
  // Bytes from the segment's durable frontier when the frame was encoded back to the
  // frame's start (its offset minus the segment's synced size). Stored rounded up, so the
  // frontier a frame claims is never past the real one.
  uint64_t frontier_distance = 0;
  uint8_t stream_tag = 0;  // StreamTag() of the stream's directory name
};

// The tag of the stream whose directory is named `dir_name`.
uint8_t StreamTag(absl::string_view dir_name);
// The tag for a segment file at `path`: StreamTag of its parent directory's name.
uint8_t StreamTagOfSegment(absl::string_view path);

// The reserved bytes (as FrameHeader::reserved) for a frame whose CRC is `crc`. Never 0.
uint32_t EncodeFrameStamp(uint32_t crc, const FrameStamp& stamp);

// What a frame's reserved bytes say, read for the stream tagged `stream_tag`.
struct StampReading {
  enum class Kind {
    kNone,        // all zero: a frame of ironwal 0.6 (no information)
    kThisStream,  // the check passes for this stream
    kMismatch,    // the check fails: another stream's frame, or damaged reserved bytes
  };
  Kind kind = Kind::kNone;
  // kMismatch: the stream tag for which the check would pass. Every frame of one other
  // stream implies that stream's tag; damage implies a random one.
  uint8_t implied_tag = 0;
  // kThisStream: the distance back to the durable frontier (nullopt: no claim).
  std::optional<uint64_t> frontier_distance;
};
inline StampReading ReadFrameStamp(const FrameHeader& header, uint8_t stream_tag);

// The durable frontier that the frame at `frame_offset` proves for its segment: its
// offset minus its stamp's distance when the stamp passes for `stream_tag`, else 0.
uint64_t ProvenFrontier(const FrameHeader& header, uint64_t frame_offset, uint8_t stream_tag);

// Distance codes (format.h): the smallest code whose distance is >= `distance`, nullopt
// past the largest; and a code's distance.
std::optional<uint16_t> DistanceCode(uint64_t distance);
inline uint64_t DistanceOfCode(uint16_t code);

struct FrameEncodeOptions {
  // Try LZ4 for entry blocks of at least min_compression_size bytes; keep it only when it
  // is strictly smaller than the raw block. Default: false (raw).
  bool lz4 = false;
  // Default: 1024, ironwal 0.6's.
  uint64_t min_compression_size = 1024;
};

// Bytes of the entry block for `entries`: the sum of 4 + size.
uint64_t EntryBlockSize(absl::Span<const absl::string_view> entries);

// Appends one frame holding `entries`, with IDs start_id, start_id + 1, ..., to `*dst`.
// InvalidArgument when `entries` is empty or the frame would not fit the format's u32
// fields. Re-decodes the header it wrote before returning (an always-on check). The
// reserved bytes are zero, as ironwal 0.6 writes them.
absl::Status AppendFrame(uint64_t start_id, absl::Span<const absl::string_view> entries,
                         const FrameEncodeOptions& options, std::string* dst);
// The same, with `stamp` in the reserved bytes (what SegmentWriter writes).
absl::Status AppendFrame(uint64_t start_id, absl::Span<const absl::string_view> entries,
                         const FrameEncodeOptions& options, const FrameStamp& stamp,
                         std::string* dst);

// A frame's entries, decoded: views into the stored payload (raw) or into an owned buffer
// (LZ4). A raw DecodedPayload must not outlive the bytes it was decoded from.
class DecodedPayload {
 public:
  // The entries, in ID order.
  const std::vector<absl::string_view>& entries() const { return entries_; }
  // Entry `index` (0-based within the frame). OutOfRange past the end.
  absl::StatusOr<absl::string_view> EntryAt(uint64_t index) const;

 private:
  friend absl::StatusOr<DecodedPayload> DecodePayload(const FrameHeader&, absl::string_view);
  std::string owned_;  // The decompressed block for LZ4 frames.
  std::vector<absl::string_view> entries_;
};

// Decodes a verified payload. DataLoss unless the entry block holds exactly
// header.entry_count well-formed entries and, for LZ4, decompresses to exactly
// header.uncompressed_size bytes.
absl::StatusOr<DecodedPayload> DecodePayload(const FrameHeader& header, absl::string_view payload);

// Splits an entry block into `*entries` (cleared first; its capacity is reused, which is
// why this one takes an output argument: iterators call it once per frame). DataLoss
// unless the block holds exactly `entry_count` well-formed entries.
absl::Status SplitEntries(absl::string_view block, uint32_t entry_count,
                          std::vector<absl::string_view>* entries);

// The fast path for a frame of one entry: true and `*entry` set (a view into `block`)
// exactly when SplitEntries(block, 1, ...) would succeed, which is when the block is one
// length prefix followed by exactly that many bytes. False for any other block.
inline bool SingleEntry(absl::string_view block, absl::string_view* entry) {
  if (block.size() < format::kEntryLengthSize) return false;
  if (DecodeFixed32(block.data()) != block.size() - format::kEntryLengthSize) return false;
  *entry = block.substr(format::kEntryLengthSize);
  return true;
}

// Finds entry `index` of a raw entry block without decoding the others: the cheap path for
// a single Get. DataLoss if the block is malformed up to that entry.
absl::StatusOr<absl::string_view> RawEntryAt(absl::string_view block, uint32_t entry_count,
                                             uint64_t index);

// RawEntryAt without a Status (Get's fast path): true and `*entry` set exactly when
// RawEntryAt(block, entry_count, index) returns an entry, which is then the same view.
inline bool TryRawEntryAt(absl::string_view block, uint32_t entry_count, uint64_t index,
                          absl::string_view* entry) {
  if (index >= entry_count) return false;
  const char* p = block.data();
  size_t left = block.size();
  for (uint64_t i = 0;; ++i) {
    if (left < format::kEntryLengthSize) return false;
    const uint32_t length = DecodeFixed32(p);
    left -= format::kEntryLengthSize;
    if (length > left) return false;
    if (i == index) {
      *entry = absl::string_view(p + format::kEntryLengthSize, length);
      return i + 1 < entry_count || left == length;  // the last entry ends the block
    }
    p += format::kEntryLengthSize + length;
    left -= length;
  }
}

// Inline: the scan's bulk path (frame_run.h) and recovery call it once per frame.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool TryDecodeFrameHeader(const char* p, FrameHeader* header) {
  if (DecodeFixed32(p + format::kMagicOffset) != format::kFrameMagic) return false;
  const uint8_t codec = static_cast<uint8_t>(p[format::kCodecOffset]);
  if (codec != static_cast<uint8_t>(format::Codec::kRaw) &&
      codec != static_cast<uint8_t>(format::Codec::kLz4)) {
    return false;
  }
  // Decoded into locals and stored field by field: a whole-struct copy from a stack
  // temporary would reload it with 16-byte moves that wait for the smaller stores
  // (a store-forwarding stall in every frame of a scan).
  const uint32_t crc = DecodeFixed32(p + format::kCrcOffset);
  const uint64_t start_id = DecodeFixed64(p + format::kStartIdOffset);
  const uint32_t entry_count = DecodeFixed32(p + format::kEntryCountOffset);
  const uint32_t disk_size = DecodeFixed32(p + format::kDiskSizeOffset);
  const uint32_t uncompressed_size = DecodeFixed32(p + format::kUncompressedSizeOffset);
  // The u24 at bytes 29..31: the u32 at 28 without its low byte.
  const uint32_t reserved = DecodeFixed32(p + format::kReservedOffset - 1) >> 8;
  if (entry_count == 0 || start_id > UINT64_MAX - entry_count) return false;
  if (codec == static_cast<uint8_t>(format::Codec::kRaw) && uncompressed_size != disk_size) {
    return false;
  }
  if (static_cast<uint64_t>(entry_count) * format::kEntryLengthSize > uncompressed_size) {
    return false;
  }
  header->crc = crc;
  header->start_id = start_id;
  header->entry_count = entry_count;
  header->codec = static_cast<format::Codec>(codec);
  header->disk_size = disk_size;
  header->uncompressed_size = uncompressed_size;
  header->reserved = reserved;
  return true;
}

// The stamp's check byte before the stream tag is XORed in, by tables (frame.cc says how
// they are built and why six lookups give it).
struct StampCheckTables {
  uint8_t zero = 0;
  uint8_t byte[6][256] = {};
};
extern const StampCheckTables kStampCheckTables;

inline uint8_t StampCheckBase(uint32_t frame_crc, uint16_t hint) {
  const StampCheckTables& t = kStampCheckTables;
  return t.zero ^ t.byte[0][frame_crc & 0xFF] ^ t.byte[1][(frame_crc >> 8) & 0xFF] ^
         t.byte[2][(frame_crc >> 16) & 0xFF] ^ t.byte[3][frame_crc >> 24] ^ t.byte[4][hint & 0xFF] ^
         t.byte[5][hint >> 8];
}

inline uint64_t DistanceOfCode(uint16_t code) {
  const uint32_t e = code >> format::kDistanceMantissaBits;
  const uint64_t m = code & ((1u << format::kDistanceMantissaBits) - 1);
  if (e == 0) return m;
  return ((uint64_t{1} << format::kDistanceMantissaBits) | m) << (e - 1);
}

// Inline: recovery reads the stamp of every frame it scans.
inline StampReading ReadFrameStamp(const FrameHeader& header, uint8_t stream_tag) {
  StampReading reading;
  if (header.reserved == 0) return reading;
  const uint16_t hint = static_cast<uint16_t>(header.reserved & 0xFFFF);
  const uint8_t check = static_cast<uint8_t>(header.reserved >> 16);
  reading.implied_tag = check ^ StampCheckBase(header.crc, hint);
  if (hint == 0 || reading.implied_tag != stream_tag) {
    reading.kind = StampReading::Kind::kMismatch;
    return reading;
  }
  reading.kind = StampReading::Kind::kThisStream;
  if (hint != format::kStampHintNoClaim) {
    reading.frontier_distance = DistanceOfCode(static_cast<uint16_t>(hint - 1));
  }
  return reading;
}

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_FORMAT_FRAME_H_
