// File: ironwal/wal/wal_options.h
//
// WalOptions: every option of ironwal 0.6's WalOptions, with 0.6's defaults except where
// a default was unsafe (marked "Changed from 0.6"), plus the Env and the options 0.6 did
// not have. A plain struct; Wal::Open validates it. The enums it holds (SyncMode,
// Compression, ReadStrategy, CorruptionPolicy) are in ironwal/wal/types.h, included here.
//
// Thread-safety: a value; copy it freely (copies share the listeners and the logger).
#ifndef IRONWAL_WAL_WAL_OPTIONS_H_
#define IRONWAL_WAL_WAL_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ironwal/env/env.h"
#include "ironwal/wal/event_listener.h"
#include "ironwal/wal/types.h"

namespace ironwal {

struct WalOptions {
  // The root directory; created (with its parents) when missing, unless read_only.
  // Default: "./wal_data" (0.6's root_path).
  std::string root = "./wal_data";

  // All I/O goes through this Env, which must outlive the Wal. Default: Env::Default().
  Env* env = Env::Default();

  // A segment is closed and the next one started before a frame that would take it past
  // this many bytes (a frame bigger than this gets a segment of its own). Batches are
  // never split across segments. Default: 64 MiB.
  uint64_t max_segment_size = 64ull << 20;

  // A segment is closed before a frame that would take it past this many entries. Counted
  // from the IDs, so it holds across restarts (0.6 forgot the count when it reopened a
  // segment). Default: no limit.
  uint64_t max_entries_per_segment = UINT64_MAX;

  // How many streams keep their active segment open for writing; the least recently used
  // close theirs beyond this (flushed, not synced: what the sync mode had not made durable
  // yet is synced by the next Sync, Close or kBatchOnly batch). >= 1. Default: 128.
  size_t max_open_segments = 128;

  // How many segments are kept open for reading (0.6.4's max_open_read_segments). >= 1.
  // Default: 128.
  size_t max_open_read_segments = 128;

  // kAsync: bytes of appends a stream buffers in this process before writing them to the
  // file. Default: 64 KiB.
  size_t write_buffer_size = 64 << 10;

  // kAsync: disk space a stream's open writer reserves past the end of its active
  // segment, this many bytes at a time, ahead of the buffers it writes there
  // (WritableFile::Allocate: fallocate with FALLOC_FL_KEEP_SIZE, so the file's size, and
  // what any reader or ironwal 0.6 sees, does not change). A buffered write into reserved
  // blocks skips the file system's block reservation for each new page, which was about
  // a quarter of a kAsync append's time (README, "W1"). The reservation is released
  // (ftruncate to the file's own size) when the segment is sealed and when the writer is
  // closed or evicted; a crash may leave one reservation on the active segment, which its
  // next writes use. Near a full disk it is released at once when it cannot be had
  // whole, and not tried again by that writer. Held at most once per open writer
  // (max_open_segments). Not with preallocate_bytes, whose zeros are written ahead
  // instead; not in kStrict or kBatchOnly, whose fdatasync would commit the reserved
  // extent's conversion. 0 turns it off. Default: 1 MiB.
  uint64_t allocate_ahead_bytes = 1 << 20;

  // Read-ahead of sequential scans (recovery, iteration, indexing a sealed segment).
  // Default: 128 KiB.
  size_t read_buffer_size = 128 << 10;

  // Bytes of decoded frames Get and MultiGet keep in memory (least recently used go
  // first); 0 disables the cache. Default: 0.
  uint64_t block_cache_size = 0;

  // Default: SyncMode::kStrict.
  SyncMode sync_mode = SyncMode::kStrict;

  // Default: Compression::kNone.
  Compression compression = Compression::kNone;

  // Default: ReadStrategy::kPread (0.6's StandardIo).
  ReadStrategy read_strategy = ReadStrategy::kPread;

  // What opening does with damage that cannot be a torn tail (a torn tail is always cut).
  // Changed from 0.6, whose default Truncate was never implemented: cutting synced data
  // hands acknowledged IDs out again, so the default refuses and names the damage.
  // Default: CorruptionPolicy::kError.
  CorruptionPolicy on_corruption = CorruptionPolicy::kError;

  // Entry blocks smaller than this are stored raw even with compression on. Default: 1024.
  uint64_t min_compression_size = 1024;

  // Appends of a larger entry fail with InvalidArgument (0.6 wrote a corrupt frame for
  // entries of 4 GiB or more). At most kMaxEntrySize (types.h). Default: that maximum.
  uint64_t max_entry_size = kMaxEntrySize;

  // Open without the LOCK and without changing anything on disk: recovery decides what
  // it would do but does not do it, and every write fails with FailedPrecondition. For
  // inspecting a WAL another process may own. Default: false.
  bool read_only = false;

  // Record statistics (Wal::GetStatistics, ironwal/stats/statistics.h): relaxed atomic
  // counters, per stream for what it writes and per thread shard for the rest, and
  // histograms; two reads of the Env's clock per fdatasync and per append (kAsync: per
  // 64th append of a stream). Measured by `ironwal bench --only stats` (README, "Running
  // ironwal in production"). Default: true.
  bool statistics = true;

  // Open only lists the root and recovers each stream the first time a call needs it,
  // instead of recovering every stream before Open returns (about 30 system calls per
  // stream: Open of 10,000 streams goes from about half a second to a few milliseconds).
  // That first recovery is exactly Open's (a deleted stream's removal finished, the key
  // checked, a torn tail cut, events, statistics, the report) and happens once however
  // many threads race to it; its error goes to the call that needed it, and the stream
  // stays pending for the next call to retry. Calls that name a stream (append, Get,
  // iterators, truncations, metadata, GetStreamInfo, WaitFor, Sync/Flush of it,
  // RecoverStream, creating it ...) recover it; ListStreams, recovery_report() and
  // RecoverPendingStreams() recover every pending stream first. Sync(), Flush(), Close
  // and GetStatistics do not (nothing was appended to a pending stream, so it has nothing
  // to sync, flush or close; the recovery counters count the streams recovered so far: a
  // periodic Sync() of a few busy streams never pays for the idle ones). Costs nothing on disk: the
  // format and recovery's steps are unchanged; read_only defers too and writes nothing.
  // Default: false.
  bool defer_stream_recovery = false;

  // Called after segments are created, sealed or deleted, streams created or truncated,
  // recovery finished, corruption found, a stream poisoned, the disk full or free again
  // (ironwal/wal/event_listener.h says when, on which thread, and what a listener may
  // do), in this order. Default: none.
  std::vector<std::shared_ptr<EventListener>> listeners;

  // Where the Wal's few messages go (event_listener.h lists them). Null: standard error
  // (NewStderrLogger). Default: null.
  std::shared_ptr<Logger> logger;

  // Keep this many bytes of zero-filled, synced space ahead of the active segment's
  // frames (new), so that a synced append overwrites space the file already has and its
  // fdatasync records no new size or extent. kStrict and kBatchOnly: when less than half
  // of it is left, the append that finds so writes the next stretch of zeros (and syncs
  // it) after its own frames are durable: about one append in (preallocate_bytes / 2 /
  // frame size) waits for that. kAsync: the same check and fill run in Sync() (the Wal's
  // or the stream's), after the frames it syncs are durable; appends never fill, so a
  // kAsync Wal that never calls Sync keeps no zeros. A sync whose frames all fit in the
  // zeros (nothing else unsynced) is one durable write (WritableFile::WriteAtDurable, on
  // Linux pwritev2 with RWF_DSYNC) instead of a write and an fdatasync; its failure poisons
  // the stream as a failed sync does. Never past max_segment_size. The zero tail is
  // cut when the segment is sealed or closed, and read as the segment's clean end after a crash
  // (FORMAT.md, "Zero tail"). 0 turns it off. Default: 0 (see README, "Options").
  uint64_t preallocate_bytes = 0;
};

}  // namespace ironwal

#endif  // IRONWAL_WAL_WAL_OPTIONS_H_
