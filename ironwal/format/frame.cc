#include "ironwal/format/frame.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"
#include "ironwal/util/lz4_frame.h"

namespace ironwal {
namespace internal {

using format::kFrameHeaderSize;

void EncodeFrameHeader(const FrameHeader& header, char* dst) {
  EncodeFixed32(dst + format::kMagicOffset, format::kFrameMagic);
  EncodeFixed32(dst + format::kCrcOffset, header.crc);
  EncodeFixed64(dst + format::kStartIdOffset, header.start_id);
  EncodeFixed32(dst + format::kEntryCountOffset, header.entry_count);
  dst[format::kCodecOffset] = static_cast<char>(header.codec);
  EncodeFixed32(dst + format::kDiskSizeOffset, header.disk_size);
  EncodeFixed32(dst + format::kUncompressedSizeOffset, header.uncompressed_size);
  for (size_t i = 0; i < format::kReservedSize; ++i) {
    dst[format::kReservedOffset + i] = static_cast<char>((header.reserved >> (8 * i)) & 0xFF);
  }
}

absl::StatusOr<FrameHeader> DecodeFrameHeader(absl::string_view bytes) {
  if (bytes.size() < kFrameHeaderSize) {
    return absl::DataLossError(
        absl::StrCat("frame header cut short: ", bytes.size(), " of 32 bytes"));
  }
  const char* p = bytes.data();
  const uint32_t magic = DecodeFixed32(p + format::kMagicOffset);
  if (magic != format::kFrameMagic) {
    return absl::DataLossError(absl::StrFormat("bad frame magic 0x%08x", magic));
  }
  FrameHeader header;
  header.crc = DecodeFixed32(p + format::kCrcOffset);
  header.start_id = DecodeFixed64(p + format::kStartIdOffset);
  header.entry_count = DecodeFixed32(p + format::kEntryCountOffset);
  const uint8_t codec = static_cast<uint8_t>(p[format::kCodecOffset]);
  header.disk_size = DecodeFixed32(p + format::kDiskSizeOffset);
  header.uncompressed_size = DecodeFixed32(p + format::kUncompressedSizeOffset);
  for (size_t i = 0; i < format::kReservedSize; ++i) {
    header.reserved |= static_cast<uint32_t>(static_cast<uint8_t>(p[format::kReservedOffset + i]))
                       << (8 * i);
  }
  if (codec != static_cast<uint8_t>(format::Codec::kRaw) &&
      codec != static_cast<uint8_t>(format::Codec::kLz4)) {
    return absl::DataLossError(absl::StrCat("unknown frame codec ", codec));
  }
  header.codec = static_cast<format::Codec>(codec);
  if (header.entry_count == 0) return absl::DataLossError("frame with zero entries");
  if (header.start_id > UINT64_MAX - header.entry_count) {
    return absl::DataLossError(
        absl::StrCat("frame IDs overflow: start ", header.start_id, " count ", header.entry_count));
  }
  if (header.codec == format::Codec::kRaw && header.uncompressed_size != header.disk_size) {
    return absl::DataLossError(absl::StrCat("raw frame sizes disagree: disk ", header.disk_size,
                                            " uncompressed ", header.uncompressed_size));
  }
  // Every entry takes at least its 4-byte length.
  if (static_cast<uint64_t>(header.entry_count) * format::kEntryLengthSize >
      header.uncompressed_size) {
    return absl::DataLossError(absl::StrCat("frame of ", header.entry_count, " entries cannot fit ",
                                            header.uncompressed_size, " bytes"));
  }
  return header;
}

namespace {

constexpr size_t kCovered = format::kCrcCoveredEnd - format::kCrcCoveredBegin;

// The header bytes the CRC covers, as they sit in the header, at `p`.
void EncodeCovered(const FrameHeader& header, char* p) {
  EncodeFixed64(p, header.start_id);
  EncodeFixed32(p + 8, header.entry_count);
  p[12] = static_cast<char>(header.codec);
  EncodeFixed32(p + 13, header.disk_size);
}

}  // namespace

uint32_t ComputeFrameCrc(const FrameHeader& header, absl::string_view payload) {
  const auto encode_covered = [&header](char* p) { EncodeCovered(header, p); };
  // Small payloads: zero bytes, the covered header bytes, then the payload, in one buffer
  // whose size is a multiple of 16, so that one carry-less fold covers the whole frame
  // (Crc32OfZeroPadded); no table pass over the header or a tail.
  alignas(16) char buffer[16 + kCovered + kFrameCrcOnePassMax];
  if (payload.size() > kFrameCrcOnePassMax) {
    encode_covered(buffer);
    return Crc32Extend(Crc32Extend(0, buffer, kCovered), payload);
  }
  const size_t pad = (16 - (kCovered + payload.size()) % 16) % 16;
  std::memset(buffer, 0, pad);
  encode_covered(buffer + pad);
  if (!payload.empty()) std::memcpy(buffer + pad + kCovered, payload.data(), payload.size());
  return Crc32OfZeroPadded(buffer, pad + kCovered + payload.size(), pad);
}

bool FramePayloadMatches(const FrameHeader& header, absl::string_view payload) {
  return payload.size() == header.disk_size && ComputeFrameCrc(header, payload) == header.crc;
}

absl::Status VerifyFramePayload(const FrameHeader& header, absl::string_view payload) {
  if (payload.size() != header.disk_size) {
    return absl::DataLossError(absl::StrCat("frame payload cut short: ", payload.size(), " of ",
                                            header.disk_size, " bytes"));
  }
  const uint32_t actual = ComputeFrameCrc(header, payload);
  if (actual != header.crc) {
    return absl::DataLossError(
        absl::StrFormat("frame crc mismatch: stored 0x%08x, computed 0x%08x", header.crc, actual));
  }
  return absl::OkStatus();
}

namespace {

// The four bytes of a CRC-32 XORed together.
uint8_t Fold8(uint32_t crc) {
  return static_cast<uint8_t>(crc ^ (crc >> 8) ^ (crc >> 16) ^ (crc >> 24));
}

// The stamp's check byte before the stream tag is XORed in is, by definition,
// Fold8(CRC-32(frame_crc as u32 LE || hint as u16 LE)). Recovery reads it for every
// frame (issue 17, W8), so it is computed by tables: over messages of one length CRC-32 is
// affine in the message bits, and Fold8 is linear, so the check byte of b0..b5 is
// f(0) ^ XOR over i of (f(b_i at position i, zeros elsewhere) ^ f(0)): six lookups instead
// of a table CRC of six bytes. The tables are built at compile time from the definition
// (a bitwise CRC-32); tests/format/frame_test.cc checks the result against Crc32.
constexpr uint32_t BitwiseCrc32(const uint8_t (&bytes)[6]) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

constexpr uint8_t Fold8Constexpr(uint32_t crc) {
  return static_cast<uint8_t>(crc ^ (crc >> 8) ^ (crc >> 16) ^ (crc >> 24));
}

constexpr StampCheckTables MakeStampCheckTables() {
  StampCheckTables t;
  uint8_t bytes[6] = {0, 0, 0, 0, 0, 0};
  t.zero = Fold8Constexpr(BitwiseCrc32(bytes));
  for (int i = 0; i < 6; ++i) {
    for (int b = 0; b < 256; ++b) {
      bytes[i] = static_cast<uint8_t>(b);
      t.byte[i][b] = Fold8Constexpr(BitwiseCrc32(bytes)) ^ t.zero;
    }
    bytes[i] = 0;
  }
  return t;
}

}  // namespace

// Declared in frame.h, where ReadFrameStamp (inline: recovery reads every frame's stamp)
// uses it.
constexpr StampCheckTables kStampCheckTables = MakeStampCheckTables();

uint8_t StreamTag(absl::string_view dir_name) { return Fold8(Crc32(dir_name)); }

uint8_t StreamTagOfSegment(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return StreamTag("");
  absl::string_view dir = path.substr(0, slash);
  const size_t parent = dir.rfind('/');
  if (parent != absl::string_view::npos) dir.remove_prefix(parent + 1);
  return StreamTag(dir);
}

namespace {

// DistanceCode, inlined into EncodeFrameStamp (every append) as well.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::optional<uint16_t> DistanceCodeOf(uint64_t distance) {
  constexpr uint64_t kImplicit = uint64_t{1} << format::kDistanceMantissaBits;
  if (distance < kImplicit) return static_cast<uint16_t>(distance);
  // distance = q << (e - 1) with q in [2048, 4096), rounded up: e - 1 is how many bits
  // the distance has beyond 12.
  uint32_t e = static_cast<uint32_t>(absl::bit_width(distance)) - format::kDistanceMantissaBits;
  uint64_t q = ((distance - 1) >> (e - 1)) + 1;
  if (q == 2 * kImplicit) {
    q = kImplicit;
    ++e;
  }
  const uint64_t code = (uint64_t{e} << format::kDistanceMantissaBits) | (q - kImplicit);
  if (code > format::kMaxDistanceCode) return std::nullopt;
  return static_cast<uint16_t>(code);
}

}  // namespace

std::optional<uint16_t> DistanceCode(uint64_t distance) { return DistanceCodeOf(distance); }

uint32_t EncodeFrameStamp(uint32_t crc, const FrameStamp& stamp) {
  const std::optional<uint16_t> code = DistanceCodeOf(stamp.frontier_distance);
  const uint16_t hint =
      code.has_value() ? static_cast<uint16_t>(*code + 1) : format::kStampHintNoClaim;
  const uint8_t check = StampCheckBase(crc, hint) ^ stamp.stream_tag;
  return hint | (static_cast<uint32_t>(check) << 16);
}

uint64_t ProvenFrontier(const FrameHeader& header, uint64_t frame_offset, uint8_t stream_tag) {
  const StampReading reading = ReadFrameStamp(header, stream_tag);
  if (!reading.frontier_distance.has_value() || *reading.frontier_distance > frame_offset) {
    return 0;
  }
  return frame_offset - *reading.frontier_distance;
}

uint64_t EntryBlockSize(absl::Span<const absl::string_view> entries) {
  uint64_t size = 0;
  for (absl::string_view e : entries) size += format::kEntryLengthSize + e.size();
  return size;
}

namespace {

// Raw frames whose entry block is at most this many bytes are built on the stack (the
// one-pass CRC's limit: such frames are small and common).
constexpr size_t kSmallFrameBlock = kFrameCrcOnePassMax;

// Writes the entry block of `entries` (EntryBlockSize bytes: each entry behind its u32
// length) at `out`, which has room for it.
void EncodeEntryBlock(absl::Span<const absl::string_view> entries, char* out) {
  for (absl::string_view e : entries) {
    EncodeFixed32(out, static_cast<uint32_t>(e.size()));
    if (!e.empty()) std::memcpy(out + format::kEntryLengthSize, e.data(), e.size());
    out += format::kEntryLengthSize + e.size();
  }
}

// The CRC of the frame at `frame` whose payload (header.disk_size bytes) follows its
// header, folded in place: the covered header bytes are written where they belong (the
// caller writes the whole header afterwards), then Crc32Of17AndTail reads them and the
// payload where they are, with no copy.
uint32_t FrameCrcInPlace(const FrameHeader& header, char* frame) {
  EncodeCovered(header, frame + format::kCrcCoveredBegin);
  return Crc32Of17AndTail(frame + format::kCrcCoveredBegin, frame + kFrameHeaderSize,
                          header.disk_size);
}

// SealFrame's read-back found a difference: dies saying which (out of line, so that the
// check costs SealFrame no more than its comparisons).
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void SealedFrameDiffers(const FrameHeader& header,
                                                             const char* frame) {
  FrameHeader decoded;
  IRONWAL_CHECK(TryDecodeFrameHeader(frame, &decoded))
      << DecodeFrameHeader(absl::string_view(frame, kFrameHeaderSize)).status();
  IRONWAL_CHECK(decoded.start_id == header.start_id);
  IRONWAL_CHECK(decoded.crc == header.crc);
  IRONWAL_CHECK(decoded.entry_count == header.entry_count);
  IRONWAL_CHECK(decoded.codec == header.codec);
  IRONWAL_CHECK(decoded.reserved == header.reserved);
  IRONWAL_CHECK(false) << "SealedFrameDiffers called for a frame that reads back";
}

// Fills in the header at `frame` of the frame whose payload (header.disk_size bytes)
// follows it, with its CRC `crc`, and checks it decodes back to what was meant.
void SealFrame(FrameHeader header, uint32_t crc, const FrameStamp* stamp, char* frame) {
  header.crc = crc;
  if (stamp != nullptr) header.reserved = EncodeFrameStamp(header.crc, *stamp);
  EncodeFrameHeader(header, frame);
  // Pair assertion at the disk boundary: what we write must read back as written (by the
  // status-free decoder, as readers' fast path does; it accepts exactly what
  // DecodeFrameHeader does, which says why when it does not).
  FrameHeader decoded;
  const bool read_back = TryDecodeFrameHeader(frame, &decoded) &&
                         decoded.start_id == header.start_id && decoded.crc == header.crc &&
                         decoded.entry_count == header.entry_count &&
                         decoded.codec == header.codec && decoded.reserved == header.reserved;
  if (ABSL_PREDICT_FALSE(!read_back)) SealedFrameDiffers(header, frame);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::Status AppendFrameImpl(
    uint64_t start_id, absl::Span<const absl::string_view> entries,
    const FrameEncodeOptions& options, const FrameStamp* stamp, std::string* dst) {
  if (entries.empty()) return absl::InvalidArgumentError("a frame needs at least one entry");
  if (entries.size() > format::kMaxEntryCount) {
    return absl::InvalidArgumentError(absl::StrCat(
        entries.size(), " entries exceed the frame limit of ", format::kMaxEntryCount));
  }
  if (start_id > UINT64_MAX - entries.size()) {
    return absl::InvalidArgumentError(absl::StrCat("IDs from ", start_id, " overflow u64"));
  }
  const uint64_t block_size = EntryBlockSize(entries);
  if (block_size > format::kMaxPayloadSize) {
    return absl::InvalidArgumentError(absl::StrCat("entries of ", block_size,
                                                   " bytes exceed the frame payload limit of ",
                                                   format::kMaxPayloadSize, " bytes"));
  }
  FrameHeader header;
  header.start_id = start_id;
  header.entry_count = static_cast<uint32_t>(entries.size());
  header.uncompressed_size = static_cast<uint32_t>(block_size);

  const size_t header_offset = dst->size();
  if (options.lz4 && block_size >= options.min_compression_size) {
    std::string block(block_size, '\0');
    EncodeEntryBlock(entries, &block[0]);
    IRONWAL_ASSIGN_OR_RETURN(std::string compressed, Lz4FrameCompress(block));
    const bool smaller = compressed.size() < block.size();
    const std::string& payload = smaller ? compressed : block;
    header.codec = smaller ? format::Codec::kLz4 : format::Codec::kRaw;
    header.disk_size = static_cast<uint32_t>(payload.size());
    dst->append(kFrameHeaderSize, '\0');
    dst->append(payload);
    SealFrame(header, ComputeFrameCrc(header, payload), stamp, &(*dst)[header_offset]);
    return absl::OkStatus();
  }
  header.codec = format::Codec::kRaw;
  header.disk_size = static_cast<uint32_t>(block_size);
  if (block_size <= kSmallFrameBlock) {
    // A small frame is built on the stack, its CRC computed in place, and appended in one
    // copy: growing *dst by a resize would first fill the new bytes with zeros, only to
    // overwrite them, and the CRC would copy the payload once more.
    char frame[kFrameHeaderSize + kSmallFrameBlock];
    EncodeEntryBlock(entries, frame + kFrameHeaderSize);
    SealFrame(header, FrameCrcInPlace(header, frame), stamp, frame);
    dst->append(frame, kFrameHeaderSize + block_size);
    return absl::OkStatus();
  }
  // One resize (zeros, which SealFrame's header and the block overwrite), then copies.
  dst->resize(header_offset + kFrameHeaderSize + block_size);
  char* const frame = &(*dst)[header_offset];
  EncodeEntryBlock(entries, frame + kFrameHeaderSize);
  SealFrame(header, FrameCrcInPlace(header, frame), stamp, frame);
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendFrame(uint64_t start_id, absl::Span<const absl::string_view> entries,
                         const FrameEncodeOptions& options, std::string* dst) {
  return AppendFrameImpl(start_id, entries, options, nullptr, dst);
}

absl::Status AppendFrame(uint64_t start_id, absl::Span<const absl::string_view> entries,
                         const FrameEncodeOptions& options, const FrameStamp& stamp,
                         std::string* dst) {
  return AppendFrameImpl(start_id, entries, options, &stamp, dst);
}

absl::StatusOr<absl::string_view> DecodedPayload::EntryAt(uint64_t index) const {
  if (index >= entries_.size()) {
    return absl::OutOfRangeError(
        absl::StrCat("entry ", index, " of a frame with ", entries_.size(), " entries"));
  }
  return entries_[index];
}

absl::StatusOr<DecodedPayload> DecodePayload(const FrameHeader& header, absl::string_view payload) {
  DecodedPayload decoded;
  absl::string_view block = payload;
  if (header.codec == format::Codec::kLz4) {
    IRONWAL_ASSIGN_OR_RETURN(decoded.owned_, Lz4FrameDecompress(payload, header.uncompressed_size));
    block = decoded.owned_;
  } else if (payload.size() != header.uncompressed_size) {
    return absl::DataLossError(absl::StrCat("raw payload of ", payload.size(),
                                            " bytes, header declares ", header.uncompressed_size));
  }
  IRONWAL_RETURN_IF_ERROR(SplitEntries(block, header.entry_count, &decoded.entries_));
  return decoded;
}

namespace {

// The length-prefixed entry at block byte *pos; moves *pos past it.
absl::StatusOr<absl::string_view> NextEntry(absl::string_view block, size_t* pos) {
  if (block.size() - *pos < format::kEntryLengthSize) {
    return absl::DataLossError(absl::StrCat("entry length cut short at block byte ", *pos));
  }
  const uint32_t length = DecodeFixed32(block.data() + *pos);
  *pos += format::kEntryLengthSize;
  if (length > block.size() - *pos) {
    return absl::DataLossError(absl::StrCat("entry of ", length, " bytes at block byte ", *pos,
                                            " overruns the ", block.size(), "-byte block"));
  }
  const absl::string_view entry = block.substr(*pos, length);
  *pos += length;
  return entry;
}

}  // namespace

absl::Status SplitEntries(absl::string_view block, uint32_t entry_count,
                          std::vector<absl::string_view>* entries) {
  entries->clear();
  entries->reserve(entry_count);
  size_t pos = 0;
  while (pos < block.size()) {
    IRONWAL_ASSIGN_OR_RETURN(const absl::string_view entry, NextEntry(block, &pos));
    if (entries->size() == entry_count) {
      return absl::DataLossError(
          absl::StrCat("entry block holds more than its ", entry_count, " entries"));
    }
    entries->push_back(entry);
  }
  if (entries->size() != entry_count) {
    return absl::DataLossError(absl::StrCat("entry block holds ", entries->size(),
                                            " entries, its header declares ", entry_count));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> RawEntryAt(absl::string_view block, uint32_t entry_count,
                                             uint64_t index) {
  if (index >= entry_count) {
    return absl::OutOfRangeError(
        absl::StrCat("entry ", index, " of a frame with ", entry_count, " entries"));
  }
  size_t pos = 0;
  for (uint64_t i = 0;; ++i) {
    IRONWAL_ASSIGN_OR_RETURN(const absl::string_view entry, NextEntry(block, &pos));
    if (i < index) continue;
    // For the last entry the block must end exactly here.
    if (i + 1 == entry_count && pos != block.size()) {
      return absl::DataLossError(
          absl::StrCat("entry block has ", block.size() - pos, " bytes after its last entry"));
    }
    return entry;
  }
}

}  // namespace internal
}  // namespace ironwal
