// File: ironwal/wal/types.h
//
// The public value types of the Wal API: the enums WalOptions holds (sync mode, read
// strategy, compression, corruption policy), the limit on an entry's size, ID ranges,
// what opening a stream found (StreamRecoveryReport), a stream's state (StreamInfo),
// what a truncation did (TruncateResult) and what WaitFor waits for (WaitCondition).
// Included by ironwal/wal/wal.h and ironwal/wal/wal_options.h; internal code (streams,
// segments) uses the same types.
//
// Thread-safety: plain values and enums; copy them freely. No I/O.
#ifndef IRONWAL_WAL_TYPES_H_
#define IRONWAL_WAL_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ironwal {

// The largest entry a frame can hold (a one-entry block is a u32 length and the entry, and
// a block is at most 2^32 - 1 bytes). WalOptions::max_entry_size is at most this.
inline constexpr uint64_t kMaxEntrySize = 0xFFFFFFFFull - 4;

// When an append is durable. In every mode an append is visible to readers of the same
// Wal as soon as it returns.
enum class SyncMode {
  // Every append, batch and transaction is durable (fdatasync) before it returns.
  // Concurrent appenders to one stream share syncs (group commit).
  kStrict,
  // Batches and transactions are durable before they return, and so is everything
  // appended to the stream before them. Single appends are handed to the operating
  // system (they survive a crash of the process, not of the machine) until the next
  // batch, transaction or Sync().
  kBatchOnly,
  // Nothing is synced unless you call Sync(). Appends are kept in a buffer in this
  // process of up to write_buffer_size bytes per stream and handed to the operating
  // system when it fills (or on Flush(), Sync(), Close(), rotation, or a read that needs
  // them): a crash of the process loses what is still buffered, and so does a write error
  // (other than a full disk, after which the buffer is kept and written later), which
  // poisons the stream.
  kAsync,
};

// "strict", "batch-only" or "async".
inline const char* SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kStrict:
      return "strict";
    case SyncMode::kBatchOnly:
      return "batch-only";
    case SyncMode::kAsync:
      return "async";
  }
  return "?";
}

// How segments are read.
enum class ReadStrategy {
  kPread,  // Positional reads into a buffer (ironwal 0.6's StandardIo). No SIGBUS risk.
  kMmap,   // Map each segment; reads return views into the mapping without copying.
};

enum class Compression {
  kNone,
  kLz4,  // LZ4 frame format for entry blocks of at least min_compression_size bytes.
};

// What opening does with a damaged frame that cannot be a torn tail: damage in bytes that
// were synced, or a bad frame with valid frames after it (see the decision table in
// ironwal/segment/segment_scan.h). A torn tail is always cut, under both policies.
enum class CorruptionPolicy {
  // Refuse to open: DataLoss naming the file and offset; nothing is changed on disk.
  kError,
  // Keep the bytes from the bad frame on in a quarantine file next to the segment
  // ("<segment>.corrupt-<offset>"), cut the segment there, and report it in
  // Wal::recovery_report(). IDs after the cut are handed out again.
  kTruncate,
};

// Half-open range of IDs [first, end).
struct IdRange {
  uint64_t first = 0;
  uint64_t end = 0;

  uint64_t size() const { return end - first; }
  bool empty() const { return first == end; }
  friend bool operator==(const IdRange& a, const IdRange& b) {
    return a.first == b.first && a.end == b.end;
  }
};

// What the recovery scan of a stream's active segment found (the rows of the decision
// table in ironwal/segment/segment_scan.h).
enum class ScanOutcome {
  kClean,         // every byte is a verified frame
  kTorn,          // a torn tail: bytes that were never durable, cut
  kCorrupt,       // damage that cannot be a torn tail (CorruptionPolicy decides)
  kWrongSegment,  // the file's frames belong to another segment or stream
};

// "clean", "torn tail", "corrupt" or "wrong segment".
const char* ScanOutcomeName(ScanOutcome outcome);

// What opening a stream's directory found and did.
struct StreamRecoveryReport {
  std::string dir;             // the stream's directory name
  std::string directory_rows;  // the rows of directory_plan.h's table that applied
  bool index_rebuilt = false;  // segments.idx was missing or bad
  std::string index_problem;
  bool index_rewritten = false;            // segments.idx was corrected on disk
  std::vector<std::string> removed_files;  // leftovers of interrupted rotations/truncations
  std::string head_state_problem;          // head.state was unreadable and ignored
  ScanOutcome tail = ScanOutcome::kClean;  // the active segment's scan
  char tail_row = 'A';                     // its row in segment_scan.h's decision table
  std::string tail_reason;
  uint64_t cut_offset = 0;      // where the active segment was cut
  uint64_t cut_bytes = 0;       // how many bytes were cut off
  std::string quarantine_file;  // where cut-off corrupt bytes were kept
  // IDs [lost_first, lost_end) the cut bytes held, recorded in lost.ids; the stream
  // continues at lost_end (empty when none).
  uint64_t lost_first = 0;
  uint64_t lost_end = 0;

  // True when recovery changed nothing worth mentioning.
  bool clean() const;
  // One line per finding.
  std::string ToString() const;
};

// How much Wal::GetStreamInfo finds out.
enum class StreamInfoDetail {
  // What the stream keeps in memory, and the segment files' sizes: no frame is read.
  kBasic,
  // kBasic, and the payload sizes (logical_bytes, stored_payload_bytes): every frame
  // header of the retained segments is read (the payloads are not), and the IDs are
  // checked to continue from frame to frame.
  kPayloadSizes,
};

struct StreamInfo {
  std::string key;         // the original key, or the directory name if never recorded
  bool key_known = false;  // whether the original key is recorded (stream.key)
  std::string dir;
  uint64_t first_id = 0;  // the first ID still retained
  uint64_t next_id = 0;   // the ID the next append gets
  uint64_t segment_count = 0;
  uint64_t active_segment_start_id = 0;
  uint64_t bytes = 0;     // sum of the segment files' sizes (including buffered bytes)
  absl::Status poisoned;  // OK, or the first write error
  // Only with StreamInfoDetail::kPayloadSizes (else 0), over the frames of the retained
  // segments (whole frames: a segment's frames below first_id count too):
  uint64_t logical_bytes = 0;         // the entry blocks uncompressed (4 + size per entry)
  uint64_t stored_payload_bytes = 0;  // the payloads as stored (compressed or raw)
};

// What Wal::WaitFor waits for an entry to be.
enum class WaitCondition {
  // Visible: readable by Get, MultiGet, ReadRange and iterators of this Wal. An entry is
  // visible once the call that appended it returned, in every sync mode.
  kVisible,
  // Durable: visible, and covered by a completed fdatasync of the stream, so it survives
  // a power loss. kStrict: as soon as visible. kBatchOnly: a single append once a later
  // batch, transaction, Sync, rotation or Close synced the stream. kAsync: once a Sync
  // (of the Wal or the stream), a segment rotation (which syncs the full segment) or Close
  // completed after the append. Log operations (TruncateSuffix, ResetStream, ...) and
  // recovery leave what they keep durable.
  kDurable,
};

struct TruncateResult {
  uint64_t segments_removed = 0;
  uint64_t first_id = 0;  // the first retained ID afterwards
};

// The heap memory a Wal holds for its data, by holder (Wal::ApproximateMemoryUsage), in
// bytes. Each part says what bounds it; README "Memory" has the budget per option.
struct MemoryUsage {
  // Frames the writers hold before they reach the files (buffers' capacity): open
  // writers (kAsync up to write_buffer_size each and a frame; the synced modes a group's
  // frames), and evicted ones, below.
  uint64_t write_buffers = 0;
  // Of those, the buffers of kAsync writers evicted without a flush (no descriptor): kept
  // together near max_open_segments x write_buffer_size (the oldest are written past it).
  uint64_t evicted_write_buffers = 0;
  // The offset indexes of the streams' active segments: 8 bytes a frame, and up to about
  // a quarter more in room for the next frames (chunks that never move, nothing copied or
  // kept when they grow). Bounded per stream by its segment's frames (max_segment_size,
  // max_entries_per_segment), not by a total: it grows with the streams.
  uint64_t active_indexes = 0;
  // The offset indexes of sealed segments: those of open readers (max_open_read_segments)
  // and those kept after their readers closed (at most 64 MiB of them).
  uint64_t sealed_indexes = 0;
  // Decoded frames kept for Get (block_cache_size).
  uint64_t frame_cache = 0;

  uint64_t total() const { return write_buffers + active_indexes + sealed_indexes + frame_cache; }
};

}  // namespace ironwal

#endif  // IRONWAL_WAL_TYPES_H_
