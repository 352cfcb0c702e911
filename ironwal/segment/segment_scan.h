// File: ironwal/segment/segment_scan.h
//
// Scanning a segment file at open: which bytes to keep, and what to do with the rest.
//
// ScanActiveSegment verifies every frame of the segment a stream appends to (header, bounds,
// CRC, and IDs that continue from the segment's start), publishing each into an
// OffsetIndex, up to the first thing that is not a verified frame. What that thing is
// decides the outcome. "Durable" below means before the stream's durable frontier: the
// offset up to which the segment is known to have been synced (the frontier is read from
// the stream's durable.pos file; it is 0 when unknown, e.g. for directories written by
// ironwal 0.6). Bytes past the frontier may be torn or hold holes after a power loss;
// bytes before it were synced, so damage there is real corruption.
//
// The frames this library writes carry a stamp in the header bytes ironwal 0.6 reserves
// (frame.h, FORMAT.md): the durable frontier when the frame was written (rounded down, so
// never past the truth), and a check binding it to the frame's CRC and to the stream (a
// tag of the name of the directory holding the segment). A CRC-valid frame whose stamp
// passes for this stream proves that every byte before its frontier had been synced,
// however stale durable.pos is; frames without a stamp (ironwal 0.6's) prove nothing.
//
// Decision table. X = offset of the first unverified frame; "valid data after" = some
// later offset holds a CRC-valid frame whose start ID is >= the ID expected at X.
//
//   row  found at X                                     outcome
//   ---  ---------------------------------------------  ----------------------------------
//   A    the end of the file                            kClean: keep everything
//   B    fewer than 32 bytes (a header cut short)       kTorn: cut the file at X
//   C    32 bytes that are not a header (zeros, junk)   kTorn: cut at X
//   D    a header whose payload runs past the end       kTorn: cut at X (never zero-extend)
//   E    a complete frame whose CRC does not match      kTorn: cut at X
//   F    a CRC-valid frame whose IDs do not continue    kTorn: cut at X
//   G    any of B-F with valid data after, frontier     kCorrupt: X is inside data that
//        unknown (0), and no stamp proving more (K)     cannot be a torn tail
//   H    any of B-F with X < durable frontier, or the   kCorrupt: synced data is damaged
//        end of the file before the frontier (A)        or missing
//   I    B-F past a known frontier, valid data after,   kTorn: holes in unsynced data;
//        and no stamp proving more (K)                  the cut bytes are kept aside
//   J    the segment's first frame is CRC-valid but     kWrongSegment: the file does not
//        starts at another ID than the file's name      belong here
//   K    any of B-F past durable.pos's frontier (or     kCorrupt: the bytes at X had been
//        with none), with valid data after whose        synced (acknowledged) before that
//        stamp passes for this stream and proves a      frame was written: damage, not a
//        frontier > X (proving_frame_offset)            torn tail
//   L    the verified frames carry stamps, none passes  kWrongSegment: the file was
//        for this stream, and at least two imply the    written for another stream
//        same other stream                              (nothing is published)
//   Z    B or C where every byte from X to the end of   kClean: a zero tail, the space
//        the file is zero, and X is not before a known  StreamOptions::preallocate_bytes
//        durable frontier (that is H)                   writes ahead of the frames; the
//                                                       end is X (valid_end), cut at open
//
// Row Z is tried first: a zero tail is the clean end, never a torn frame. Zeros followed
// by any non-zero byte are not a zero tail: B-K judge them as without preallocation.
// Rows are tried in the order H, K, G, I. A stamp that fails its check is ignored: one
// damaged stamp implies a random stream tag, so it neither proves a frontier nor, alone,
// makes the segment another stream's (row L needs two frames agreeing). The largest
// frontier the verified frames prove is SegmentScan::proven_frontier.
//
// What the stream does with kCorrupt depends on WalOptions::on_corruption: kError refuses
// to open (DataLoss, nothing changed); kTruncate keeps the bytes from X on in a
// quarantine file, cuts the segment at X and reports it. kTorn is always cut (row I's
// bytes also go to a quarantine file: they held verified frames). Before
// judging a frame bad the scan reads it a second time, so a transient read error (a bit
// flipped on the way from the disk) does not cost data.
//
// IndexSealedSegment walks the headers of a sealed segment without checking CRCs (each
// read checks the frame it returns): sealed segments were synced whole before the stream
// moved on, so anything but a clean walk ending exactly at end of file, with IDs from the
// segment's start to the next segment's start, is DataLoss. The frames before the
// problem are published all the same (SegmentReader keeps them readable), unless the
// stamps say the segment was written for another stream (row L's rule): then DataLoss
// "belongs to another stream" and nothing is published.
//
// A large active segment may be verified in two halves at once (ScanOptions::env): a
// second walker starts at the first CRC-valid frame it finds past the middle and verifies
// frames from there while they verify; the first walk's frames count from 0, and the
// second's only if the first walk ends exactly where the second began, with the IDs
// continuing. Otherwise (a frame's bytes inside a payload looked like a frame, or damage
// before the middle) the second walker's work is dropped and the first walk goes on. Every
// frame is checked as by one walk, and the outcome, rows and index are the same; anything
// the second walker stopped at is judged by the first, as it would be without the split.
//
// Thread-safety: free functions; the OffsetIndex is published from the calling thread.
#ifndef IRONWAL_SEGMENT_SEGMENT_SCAN_H_
#define IRONWAL_SEGMENT_SEGMENT_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "ironwal/env/env.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/wal/types.h"

namespace ironwal {
namespace internal {

// ScanOutcome and ScanOutcomeName are public (StreamRecoveryReport::tail): ironwal/wal/types.h.

struct SegmentScan {
  ScanOutcome outcome = ScanOutcome::kClean;
  uint64_t file_size = 0;
  uint64_t valid_end = 0;  // X: the end of the last verified frame
  uint64_t end_id = 0;     // one past the last verified ID (the segment start if none)
  std::string reason;      // what was found at X ("frame crc mismatch: ...")
  char row = 'A';          // the decision-table row
  // kCorrupt with valid data after: where the first such frame starts.
  std::optional<uint64_t> next_valid_offset;
  // The durable frontier the stamps of the verified frames prove (0 if none does): the
  // bytes before it had been synced when a verified frame was written.
  uint64_t proven_frontier = 0;
  // Row K: the frame after X whose stamp proves the frontier past X, and that frontier.
  std::optional<uint64_t> proving_frame_offset;
  uint64_t proving_frame_frontier = 0;
  // Where a split scan's second walker began, when the scan took its frames (0 for one
  // walk, or when its work was dropped; see ScanOptions::env).
  uint64_t split_at = 0;
};

// What the scan's row means, for messages ("damage in data that was synced").
std::string ScanRowMeaning(const SegmentScan& scan);

struct ScanOptions {
  // The stream's durable frontier within this segment (0 when unknown).
  uint64_t durable_offset = 0;
  // Whether durable_offset is known (a durable.pos naming this segment was read).
  bool durable_offset_known = false;
  // Read-ahead buffer for pread files.
  size_t buffer_size = 128 << 10;
  // The tag the frames' stamps are checked against (frame.h); by default the one of the
  // stream whose directory holds the file (StreamTagOfSegment(file.path())).
  std::optional<uint8_t> stream_tag;
  // When set, a segment of at least kSplitScanMinBytes is verified in two halves at once:
  // the second on a thread from env->StartThread (none for an Env that runs nothing
  // concurrently: then the scan is one walk, as without an env). The result is the same.
  Env* env = nullptr;
};

// The smallest segment whose scan is split (ScanOptions::env).
inline constexpr uint64_t kSplitScanMinBytes = uint64_t{4} << 20;

// Verifies the active segment `file`, which should start at `start_id`, and publishes its
// verified frames into `index` (whose segment start must be start_id). Errors are I/O
// errors only; what the bytes mean is in the result.
absl::StatusOr<SegmentScan> ScanActiveSegment(const RandomAccessFile& file, uint64_t start_id,
                                              const ScanOptions& options, OffsetIndex* index);

// The first offset in [from, size) of `file` where a CRC-valid frame whose start ID is at
// least `min_id` begins (each candidate is read afresh, past any buffer), or nullopt. The
// scan's "valid data after" test; `ironwal verify` resumes its walk there.
absl::StatusOr<std::optional<uint64_t>> FindNextValidFrame(const RandomAccessFile& file,
                                                           uint64_t from, uint64_t size,
                                                           uint64_t min_id);

// Builds the offset index of the sealed segment `file` (IDs [start_id, end_id); end_id is
// nullopt when the next segment's start is unknown). DataLoss naming the path and offset
// for anything but a clean, contiguous walk.
absl::Status IndexSealedSegment(const RandomAccessFile& file, uint64_t start_id,
                                std::optional<uint64_t> end_id, size_t buffer_size,
                                OffsetIndex* index);

// Row L's rule alone, for any segment (tools that walk segments their own way): DataLoss
// "index <path>@0: segment <path> belongs to another stream ..." when the stamps of its
// frames (headers up to the first one that does not decode) say so; OK otherwise.
absl::Status CheckSegmentStream(const RandomAccessFile& file, size_t buffer_size);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_SEGMENT_SEGMENT_SCAN_H_
