// File: ironwal/format/names.h
//
// The names ironwal gives things on disk, as ironwal 0.6 gives them:
//   - segment files: the start ID as 20 zero-padded digits + ".wal";
//   - stream directories: the stream key with every character outside [A-Za-z0-9._-]
//     replaced by '_' (one '_' per character, not per byte), so 0.6's directories open by
//     their original keys ("user/42" lives in "user_42").
// And the two small files 0.6 reads besides segments: head.state, and segments.idx.
//
// Thread-safety: pure functions.
#ifndef IRONWAL_FORMAT_NAMES_H_
#define IRONWAL_FORMAT_NAMES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace internal {

// "00000000000000012345.wal" for 12345.
std::string SegmentFileName(uint64_t start_id);

// The start ID of a segment file name in exactly the form SegmentFileName produces;
// nullopt for anything else (including unpadded names such as "5.wal", which ironwal 0.6
// would never open either).
std::optional<uint64_t> ParseSegmentFileName(absl::string_view name);

// The directory name of stream `key`, by ironwal 0.6's rules, or InvalidArgument for a
// key 0.6 refuses (empty, or only whitespace) and for keys this library refuses because
// their directory could not work: "." and "..", a name longer than 255 bytes, the name of
// the root's lock file ("LOCK"), and keys longer than format::kMaxStreamKeySize bytes.
// Bytes that are not valid UTF-8 are replaced one '_' per byte.
absl::StatusOr<std::string> StreamDirName(absl::string_view key);

// What a file in a stream directory is, by its name.
enum class StreamFileKind {
  kSegment,         // 20 digits + ".wal"
  kSegmentIndex,    // segments.idx
  kHeadState,       // head.state
  kStreamKey,       // stream.key
  kDurablePos,      // durable.pos
  kTruncateIntent,  // truncate.intent
  kMetadata,        // stream.meta
  kFirstId,         // first.id
  kLogIntent,       // log.intent
  kLostIds,         // lost.ids
  kSealedSizes,     // sealed.sizes
  kFrameIndex,      // 20 digits + ".frames": a sealed segment's frames
  kTemp,            // "*.tmp": left over from an interrupted atomic write
  kQuarantine,      // "<segment>.corrupt-<offset>": bytes recovery cut and kept
  kOther,           // not ironwal's
};
struct StreamFile {
  StreamFileKind kind = StreamFileKind::kOther;
  uint64_t segment_start_id = 0;  // kSegment, kFrameIndex
};
StreamFile ClassifyStreamFile(absl::string_view name);

// One entry of a stream directory: its name, and whether it is a regular file (not a
// directory, symbolic link, FIFO, socket or device: lstat semantics).
struct StreamDirEntry {
  std::string name;
  bool regular = true;
};

// A stream directory's files, by kind (ClassifyStreamFile of each name). Entries with one
// of ironwal's names that are not regular files are in `not_files` and nowhere else:
// nothing may open them (a FIFO would block, a symbolic link may loop). Frame index files
// are the exception: only hints, they are left out when they are not regular files.
struct StreamListing {
  std::map<uint64_t, std::string> segments;  // start ID -> file name
  bool has_index = false;
  bool has_head = false;
  bool has_key = false;
  bool has_durable_pos = false;
  std::vector<std::string> temp_files;
  std::vector<std::string> quarantine_files;
  bool has_truncate_intent = false;
  bool has_metadata = false;
  bool has_first_id = false;
  bool has_log_intent = false;
  bool has_lost_ids = false;
  bool has_sealed_sizes = false;
  std::map<uint64_t, std::string> frame_indexes;  // segment start ID -> file name
  std::vector<std::string> other_files;           // not ironwal's names (of any type)
  std::vector<std::string> not_files;             // ironwal's names, not regular files
  // Whether the directory is a stream's: it has a name of ironwal's per-stream files (a
  // segment, segments.idx, head.state, stream.key, durable.pos, truncate.intent), of any
  // type; or stream.meta, first.id, log.intent).
  bool is_stream = false;
};
StreamListing ListStreamEntries(const std::vector<StreamDirEntry>& entries);
// The same, for names known to be regular files.
StreamListing ListStreamFiles(const std::vector<std::string>& names);

// head.state: version 1, the length of the name, the active segment's file name.
std::string EncodeHeadState(uint64_t active_segment_start_id);

// The active segment's start ID named by a head.state file. DataLoss for a wrong version,
// a zero or inconsistent length, or a name that is not a segment file name (ironwal 0.6
// would read such a name as 0; this library treats head.state as a hint and lets the
// caller fall back to segments.idx).
absl::StatusOr<uint64_t> DecodeHeadState(absl::string_view contents);

// segments.idx: the u64 LE start IDs, in order.
std::string EncodeSegmentIndex(const std::vector<uint64_t>& start_ids);

// DataLoss unless the length is a multiple of 8 and the IDs never decrease. Repeated IDs
// (written by ironwal 0.6 when it rotated an empty segment) are accepted and removed.
absl::StatusOr<std::vector<uint64_t>> DecodeSegmentIndex(absl::string_view contents);

// truncate.intent: the first start ID a truncation leaves in segments.idx (format.h).
std::string EncodeTruncateIntent(uint64_t first_id);

// sealed.sizes (format.h): segment start ID -> its size when sealed.
std::string EncodeSealedSizes(const std::map<uint64_t, uint64_t>& sizes);
// DataLoss for a bad magic, size or CRC, or start IDs out of order.
absl::StatusOr<std::map<uint64_t, uint64_t>> DecodeSealedSizes(absl::string_view contents);

// A frame index file (format.h, "<start>.frames"): the frames of one sealed segment.
struct FrameIndexFile {
  uint64_t start_id = 0;
  uint64_t end_id = 0;
  uint64_t segment_size = 0;
  // Each frame's (entry count, payload size), in file order.
  std::vector<std::pair<uint32_t, uint32_t>> frames;
};
// "00000000000000012345.frames" for 12345.
std::string FrameIndexFileName(uint64_t segment_start_id);
std::string EncodeFrameIndex(const FrameIndexFile& file);
// DataLoss for a bad magic, size or CRC, no frames, a frame of no entries, or frames that
// do not end exactly at the recorded end ID and size.
absl::StatusOr<FrameIndexFile> DecodeFrameIndex(absl::string_view contents);

// lost.ids (format.h): ID ranges [first, end) cut out of the log, sorted, disjoint.
std::string EncodeLostIds(const std::vector<std::pair<uint64_t, uint64_t>>& ranges);
// DataLoss for a bad magic, size or CRC, or ranges that are empty, unsorted or overlap.
absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> DecodeLostIds(
    absl::string_view contents);
// DataLoss unless `contents` is a well-formed truncate.intent with a matching CRC.
absl::StatusOr<uint64_t> DecodeTruncateIntent(absl::string_view contents);

// stream.key: the stream's original key (see format.h).
std::string EncodeStreamKey(absl::string_view key);

// DataLoss unless `contents` is a well-formed stream.key with a matching CRC.
absl::StatusOr<std::string> DecodeStreamKey(absl::string_view contents);

// durable.pos: the durable frontier of a stream (see format.h).
struct DurablePos {
  uint64_t segment_start_id = 0;
  uint64_t offset = 0;
};
std::string EncodeDurablePos(const DurablePos& pos);
// DataLoss unless `contents` is a well-formed durable.pos with a matching CRC.
absl::StatusOr<DurablePos> DecodeDurablePos(absl::string_view contents);

// stream.meta: the stream's metadata value (format.h). Encode takes a value of at most
// format::kMaxStreamMetadataSize bytes.
std::string EncodeStreamMetadata(absl::string_view value);
// DataLoss unless `contents` is a well-formed stream.meta with a matching CRC.
absl::StatusOr<std::string> DecodeStreamMetadata(absl::string_view contents);

// first.id: the logical first ID after an exact front trim (format.h).
std::string EncodeFirstId(uint64_t first_id);
// DataLoss unless `contents` is a well-formed first.id with a matching CRC.
absl::StatusOr<uint64_t> DecodeFirstId(absl::string_view contents);

// log.intent: the directory a suffix truncation or a reset leaves (format.h).
struct LogIntent {
  enum class Kind : uint8_t { kTruncateSuffix = 1, kReset = 2 };
  Kind kind = Kind::kTruncateSuffix;
  uint64_t next_id = 0;
  uint64_t first_id = 0;
  uint64_t active_size = 0;
  bool staged = false;             // "<active segment>.tmp" holds the active's new bytes
  std::vector<uint64_t> segments;  // ascending, not empty; back() is the active segment
  uint64_t active_start() const { return segments.back(); }
};
std::string EncodeLogIntent(const LogIntent& intent);
// DataLoss unless `contents` is a well-formed log.intent with a matching CRC, at least
// one segment, ascending start IDs, and first ID <= next ID.
absl::StatusOr<LogIntent> DecodeLogIntent(absl::string_view contents);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_FORMAT_NAMES_H_
