// File: ironwal/format/format.h
//
// The on-disk constants of ironwal, identical to ironwal 0.6's (ironwal/format/FORMAT.md
// draws every structure byte by byte). This header holds numbers only; the encoders and
// decoders are frame.h (frames and entry blocks) and names.h (segment names, stream
// directories, head.state, segments.idx). Changing any value here breaks compatibility with
// existing directories.
#ifndef IRONWAL_FORMAT_FORMAT_H_
#define IRONWAL_FORMAT_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace ironwal {
namespace internal {
namespace format {

// Frame header: 32 bytes, little-endian, fields unaligned.
//
//   offset  size  field
//        0     4  magic              0x4C57414C (bytes 4C 41 57 4C)
//        4     4  crc                CRC-32 (zlib) of header bytes [8, 25), then the payload
//        8     8  start_id           ID of the frame's first entry
//       16     4  entry_count        entries in the frame (>= 1)
//       20     1  codec              0 raw, 1 LZ4 frame format
//       21     4  disk_size          payload bytes that follow the header
//       25     4  uncompressed_size  length of the decoded payload (the entry block)
//       29     3  reserved           zero in ironwal 0.6 (which ignores them); this library
//                                    writes its frame stamp there (below)
inline constexpr uint32_t kFrameMagic = 0x4C57414Cu;
inline constexpr size_t kFrameHeaderSize = 32;
inline constexpr size_t kMagicOffset = 0;
inline constexpr size_t kCrcOffset = 4;
inline constexpr size_t kStartIdOffset = 8;
inline constexpr size_t kEntryCountOffset = 16;
inline constexpr size_t kCodecOffset = 20;
inline constexpr size_t kDiskSizeOffset = 21;
inline constexpr size_t kUncompressedSizeOffset = 25;
inline constexpr size_t kReservedOffset = 29;
inline constexpr size_t kReservedSize = 3;
// The CRC covers start_id, entry_count, codec and disk_size (bytes [8, 25) of the header),
// then the stored payload. Not magic, crc, uncompressed_size or reserved.
inline constexpr size_t kCrcCoveredBegin = kStartIdOffset;
inline constexpr size_t kCrcCoveredEnd = kUncompressedSizeOffset;

static_assert(kCrcOffset == kMagicOffset + 4, "crc follows magic");
static_assert(kStartIdOffset == kCrcOffset + 4, "start_id follows crc");
static_assert(kEntryCountOffset == kStartIdOffset + 8, "entry_count follows start_id");
static_assert(kCodecOffset == kEntryCountOffset + 4, "codec follows entry_count");
static_assert(kDiskSizeOffset == kCodecOffset + 1, "disk_size follows codec");
static_assert(kUncompressedSizeOffset == kDiskSizeOffset + 4, "uncompressed follows disk_size");
static_assert(kReservedOffset == kUncompressedSizeOffset + 4, "reserved follows sizes");
static_assert(kReservedOffset + kReservedSize == kFrameHeaderSize, "header is 32 bytes");
static_assert(kCrcCoveredEnd - kCrcCoveredBegin == 17, "crc covers 8 + 4 + 1 + 4 bytes");

// The frame stamp: what this library writes in the reserved bytes (ironwal 0.6 writes
// zeros and never reads them; all three bytes zero means "no information"). Not covered
// by the CRC, so it carries its own check. FORMAT.md draws it bit by bit.
//
//   offset  size  field
//       29     2  hint   u16 LE: 0 never written; 0xFFFF "no claim"; otherwise 1 + the code
//                        of the distance from the durable frontier (when the frame was
//                        written) back to the frame's start, rounded up (see below)
//       31     1  check  low byte of the XOR-fold of CRC-32(crc u32 LE ‖ hint u16 LE),
//                        XOR the stream tag (the XOR-fold of CRC-32 of the name of the
//                        stream's directory)
//
// A distance code f (0 .. kMaxDistanceCode) is a small float: exponent e = f >> 11,
// mantissa m = f & 0x7FF; distance = m when e is 0, else (0x800 | m) << (e - 1).
inline constexpr size_t kStampHintOffset = kReservedOffset;
inline constexpr size_t kStampCheckOffset = kReservedOffset + 2;
inline constexpr uint16_t kStampHintNoClaim = 0xFFFF;
inline constexpr int kDistanceMantissaBits = 11;
inline constexpr uint16_t kMaxDistanceCode = 0xFFFD;  // 1 + it is the last hint with a claim
static_assert(kStampCheckOffset + 1 == kFrameHeaderSize, "the stamp fills the reserved bytes");

enum class Codec : uint8_t {
  kRaw = 0,
  kLz4 = 1,  // One LZ4 frame (magic 04 22 4D 18), not the raw block format.
};

// Entry block (a raw payload, or an LZ4 payload once decoded): for each entry in ID order,
// a u32 little-endian length and then the entry's bytes.
inline constexpr size_t kEntryLengthSize = 4;

// Every size field is a u32.
inline constexpr uint64_t kMaxPayloadSize = 0xFFFFFFFFull;
inline constexpr uint64_t kMaxEntryCount = 0xFFFFFFFFull;
// The largest entry that fits a frame: a one-entry block is 4 + length bytes.
inline constexpr uint64_t kMaxEntrySize = kMaxPayloadSize - kEntryLengthSize;

// Segment files: the start ID as 20 zero-padded decimal digits, then ".wal".
inline constexpr size_t kSegmentIdDigits = 20;
inline constexpr char kSegmentSuffix[] = ".wal";
inline constexpr size_t kSegmentFileNameSize = kSegmentIdDigits + sizeof(kSegmentSuffix) - 1;
static_assert(kSegmentFileNameSize == 24, "00000000000000000000.wal");

// Per-stream files.
inline constexpr char kSegmentIndexFileName[] = "segments.idx";  // u64 LE start IDs
inline constexpr char kHeadStateFileName[] = "head.state";       // the active segment
inline constexpr char kStreamKeyFileName[] = "stream.key";       // ironwal C++ only
inline constexpr char kTempSuffix[] = ".tmp";
inline constexpr size_t kSegmentIndexEntrySize = 8;

// head.state: u8 version (1), u8 name length (1..255), the active segment's file name.
inline constexpr uint8_t kHeadStateVersion = 1;
inline constexpr size_t kHeadStateHeaderSize = 2;

// stream.key (not read by ironwal 0.6, which ignores it): the stream's original key.
//   offset  size  field
//        0     4  magic    "IWSK"
//        4     1  version  1
//        5     4  length   u32 LE key length (1..kMaxStreamKeySize)
//        9     n  key      the key's bytes, exactly as passed to the API
//      9+n     4  crc      CRC-32 (zlib) of bytes [0, 9+n)
inline constexpr char kStreamKeyMagic[] = "IWSK";
inline constexpr uint8_t kStreamKeyVersion = 1;
inline constexpr size_t kStreamKeyHeaderSize = 9;
inline constexpr size_t kStreamKeyCrcSize = 4;
inline constexpr size_t kMaxStreamKeySize = 4096;

// durable.pos (not read by ironwal 0.6): the stream's durable frontier, the offset of its
// active segment up to which data is known to have been synced. Damage before it is
// corruption; past it, a torn tail (see ironwal/segment/segment_scan.h).
//   offset  size  field
//        0     4  magic          "IWDP"
//        4     8  segment start  u64 LE start ID of the segment the offset is in
//       12     8  offset         u64 LE
//       20     4  crc            CRC-32 (zlib) of bytes [0, 20)
inline constexpr char kDurablePosFileName[] = "durable.pos";
inline constexpr char kDurablePosMagic[] = "IWDP";
inline constexpr size_t kDurablePosSize = 24;

// truncate.intent (not read by ironwal 0.6, which ignores it): written and synced before a
// truncation rewrites segments.idx, removed after the truncated files are. It confirms
// that segment files below segments.idx's first start ID are a truncation's leftovers;
// without it such files are kept (a damaged segments.idx must not read as a truncation).
//   offset  size  field
//        0     4  magic      "IWTI"
//        4     8  first ID   u64 LE: the start ID segments.idx begins with afterwards
//       12     4  crc        CRC-32 (zlib) of bytes [0, 12)
inline constexpr char kTruncateIntentFileName[] = "truncate.intent";
inline constexpr char kTruncateIntentMagic[] = "IWTI";
inline constexpr size_t kTruncateIntentSize = 16;

// stream.meta (not read by ironwal 0.6): the stream's metadata, a small value the user
// replaces atomically (Wal::PutStreamMetadata).
//   offset  size  field
//        0     4  magic    "IWSM"
//        4     1  version  1
//        5     4  length   u32 LE value length (0..kMaxStreamMetadataSize)
//        9     n  value
//      9+n     4  crc      CRC-32 (zlib) of bytes [0, 9+n)
inline constexpr char kStreamMetadataFileName[] = "stream.meta";
inline constexpr char kStreamMetadataMagic[] = "IWSM";
inline constexpr uint8_t kStreamMetadataVersion = 1;
inline constexpr size_t kStreamMetadataHeaderSize = 9;
inline constexpr size_t kMaxStreamMetadataSize = 64 << 10;

// first.id (not read by ironwal 0.6): the stream's logical first ID after an exact front
// trim (Wal::TrimFront), when it lies past the first segment's start ID.
//   offset  size  field
//        0     4  magic     "IWFI"
//        4     8  first ID  u64 LE
//       12     4  crc       CRC-32 (zlib) of bytes [0, 12)
inline constexpr char kFirstIdFileName[] = "first.id";
inline constexpr char kFirstIdMagic[] = "IWFI";
inline constexpr size_t kFirstIdSize = 16;

// log.intent (not read by ironwal 0.6): a suffix truncation or a reset in progress. It
// describes the directory the operation leaves; recovery finishes it before anything else.
//   offset  size  field
//        0     4  magic          "IWLO" (earlier builds wrote "IWLI", lost.ids' magic:
//                                 still accepted on read)
//        4     1  version        1
//        5     1  kind           1 suffix truncation, 2 reset
//        6     8  next ID        u64 LE: the stream's next ID afterwards
//       14     8  first ID       u64 LE: the logical first ID afterwards
//       22     8  active start   u64 LE: the active segment afterwards
//       30     8  active size    u64 LE: its size in bytes afterwards
//       38     1  staged         1: "<active segment>.tmp" holds its new bytes
//       39     4  count          u32 LE: segments afterwards (>= 1)
//       43   8*c  start IDs      u64 LE each, ascending; the last is the active start
//   43+8*c     4  crc            CRC-32 (zlib) of everything before it
inline constexpr char kLogIntentFileName[] = "log.intent";
inline constexpr char kLogIntentMagic[] = "IWLO";
inline constexpr char kLogIntentOldMagic[] = "IWLI";
inline constexpr uint8_t kLogIntentVersion = 1;
inline constexpr size_t kLogIntentHeaderSize = 43;

// stream.deleted (not read by ironwal 0.6): the stream is being deleted. Written
// atomically before its other files are removed; a directory holding it is removed at
// open. Its contents are the 4 bytes "IWDS" (its presence is what counts).
inline constexpr char kDeletedMarkerFileName[] = "stream.deleted";
inline constexpr char kDeletedMarkerMagic[] = "IWDS";

// lost.ids (not read by ironwal 0.6, which ignores it): the ID ranges a repair (or an
// open under CorruptionPolicy::kTruncate) cut out of the log with a corrupt tail. The
// stream continues past each range, so those IDs are never handed out again and read as
// DataLoss; a gap between segments that a range explains is not an error. Rewritten
// atomically, ranges only ever added.
//   offset  size  field
//        0     4  magic      "IWLI"
//        4     4  count      u32 LE: n
//        8   16n  ranges     n x (first ID u64 LE, end ID u64 LE), first < end, sorted
//   8+16n     4  crc        CRC-32 (zlib) of bytes [0, 8+16n)
inline constexpr char kLostIdsFileName[] = "lost.ids";
inline constexpr char kLostIdsMagic[] = "IWLI";

// sealed.sizes (not read by ironwal 0.6, which ignores it): each sealed segment's size
// when it was sealed, written at rotation (and when recovery continues past lost IDs).
// Opening compares it with the files' sizes (which it lists anyway): a sealed segment
// shorter than it was sealed has lost frames, a gap a read-write open must not accept.
//   offset  size  field
//        0     4  magic      "IWSS"
//        4     4  count      u32 LE: n
//        8   16n  entries    n x (segment start ID u64 LE, size u64 LE), sorted by ID
//   8+16n     4  crc        CRC-32 (zlib) of bytes [0, 8+16n)
inline constexpr char kSealedSizesFileName[] = "sealed.sizes";
inline constexpr char kSealedSizesMagic[] = "IWSS";

// Frame index files (not read by ironwal 0.6, which reads only segments, segments.idx and
// head.state): "<20-digit start ID>.frames", the frames of one sealed segment, written when
// it is sealed so that a later process finds any frame without walking the segment. Only
// a hint: a reader checks it against the segment (its size, its last frame) and every
// frame it returns (header and CRC), and walks the segment when it does not check out.
//   offset  size  field
//        0     4  magic         "IWFR"
//        4     8  start ID      u64 LE: the segment's first ID (its name)
//       12     8  end ID        u64 LE: one past its last ID (the next segment's start)
//       20     8  size          u64 LE: the segment file's size in bytes
//       28     4  count         u32 LE: n >= 1 frames
//       32    8n  frames        n x (entry count u32 LE, payload size u32 LE), in file order
//   32+8n     4  crc           CRC-32 (zlib) of bytes [0, 32+8n)
// The frames lie back to back from offset 0 and ID `start`: each is 32 + payload size bytes
// holding `entry count` IDs; they end exactly at `size` and `end`.
inline constexpr char kFrameIndexSuffix[] = ".frames";
inline constexpr size_t kFrameIndexFileNameSize = kSegmentIdDigits + sizeof(kFrameIndexSuffix) - 1;
inline constexpr char kFrameIndexMagic[] = "IWFR";
inline constexpr size_t kFrameIndexHeaderSize = 32;
inline constexpr size_t kFrameIndexEntrySize = 8;

// Quarantine files: bytes cut from a segment under CorruptionPolicy::kTruncate, named
// "<segment file>.corrupt-<offset>" (not a segment name, so ironwal 0.6 ignores them).
inline constexpr char kQuarantineInfix[] = ".corrupt-";

// The root's lock file (not read by ironwal 0.6, which ignores root-level files). A stream
// whose directory name would be "LOCK" is refused.
inline constexpr char kLockFileName[] = "LOCK";
// The longest directory name a stream may have (NAME_MAX on Linux file systems).
inline constexpr size_t kMaxStreamDirNameSize = 255;

}  // namespace format
}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_FORMAT_FORMAT_H_
