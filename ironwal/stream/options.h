// File: ironwal/stream/options.h
//
// The enums of WalOptions (ironwal/wal/wal_options.h), and StreamOptions, the settings
// every stream of a Wal shares. They live here, below the wal package, because streams
// act on them.
#ifndef IRONWAL_STREAM_OPTIONS_H_
#define IRONWAL_STREAM_OPTIONS_H_

#include <cstddef>
#include <cstdint>

#include "ironwal/env/env.h"
#include "ironwal/format/frame.h"

namespace ironwal {

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

// What every stream of a Wal shares. Built by the Wal from WalOptions.
struct StreamOptions {
  Env* env = nullptr;
  std::string root;
  SyncMode sync_mode = SyncMode::kStrict;
  uint64_t max_segment_size = 64ull << 20;
  uint64_t max_entries_per_segment = UINT64_MAX;
  uint64_t max_entry_size = format::kMaxEntrySize;  // larger entries are InvalidArgument
  size_t write_buffer_size = 64 << 10;
  size_t read_buffer_size = 128 << 10;
  bool use_mmap = false;
  CorruptionPolicy on_corruption = CorruptionPolicy::kError;
  FrameEncodeOptions encode;
  bool read_only = false;
};

}  // namespace ironwal

#endif  // IRONWAL_STREAM_OPTIONS_H_
