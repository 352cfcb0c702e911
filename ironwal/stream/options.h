// File: ironwal/stream/options.h
//
// StreamOptions, the settings every stream of a Wal shares, built by the Wal from its
// WalOptions. The public enums they hold (SyncMode, CorruptionPolicy, ...) are in
// ironwal/wal/types.h, included here.
//
// Thread-safety: a value; copy it freely.
#ifndef IRONWAL_STREAM_OPTIONS_H_
#define IRONWAL_STREAM_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "ironwal/env/env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/wal/types.h"

namespace ironwal {
namespace internal {

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
  // WalOptions::preallocate_bytes: zero-filled space kept ahead of the active segment's
  // frames (kStrict and kBatchOnly: by the appends; kAsync: by Sync); 0 = off.
  uint64_t preallocate_bytes = 0;
  // WalOptions::allocate_ahead_bytes (kAsync, without preallocate_bytes); 0 = off.
  uint64_t allocate_ahead_bytes = 0;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_OPTIONS_H_
