// File: ironwal/stream/stream_dir.h
//
// StreamDir: one stream's directory on disk -- its segment files, segments.idx,
// head.state, stream.key and durable.pos -- and the writer of its active segment. It
// creates the directory, opens the writer, appends and publishes frames, rotates
// segments, moves the durable frontier, truncates old segments and applies recovery
// (directory_plan.h's plan, then segment_scan.h's table for the active segment). It
// returns every I/O error as it came; deciding what an error means for the stream
// (rolling back, poisoning) is the Stream's (stream.h).
//
// Rotation, in this order, so that a crash at any step leaves a state recovery accepts:
// sync the full segment; create the next one and sync the directory; append its start
// ID to segments.idx and sync it; rewrite head.state; write durable.pos. Data is only
// written to a segment once segments.idx lists it, so an unlisted segment file is a
// leftover (removed at open when empty).
//
// Truncation removes whole sealed segments below an ID: truncate.intent (naming the new
// first ID) is written and synced, segments.idx is rewritten (atomically), then the files
// are removed and the directory synced, and truncate.intent is removed. A crash between
// leaves files below the index's first ID that truncate.intent confirms as leftovers, which
// the next open removes: a truncated ID never comes back. Without the intent, such files
// are kept (directory_plan.h row h): a damaged index must not read as a truncation.
//
// Frames are appended with Append, reach the file with Flush and the disk with Sync, and
// become visible to readers (next_id(), the active index) only with Publish.
//
// Thread-safety: the write side (everything not marked "any thread") is serialised by the
// caller (Stream holds its write lock). The identity (key) and the read side (marked "any
// thread") may be used concurrently with it.
#ifndef IRONWAL_STREAM_STREAM_DIR_H_
#define IRONWAL_STREAM_STREAM_DIR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/base/mutex.h"
#include "ironwal/env/env.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/segment/segment_writer.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/options.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/stream_types.h"

namespace ironwal {
namespace internal {

class StreamDir {
 public:
  // `readers` caches this stream's readers under `cache_owner` (truncation drops them).
  StreamDir(const StreamOptions* options, std::string dir_name, ReaderCache* readers,
            const void* cache_owner);
  StreamDir(const StreamDir&) = delete;
  StreamDir& operator=(const StreamDir&) = delete;

  // A stream not on disk yet, with `key`: EnsureCreatedOnDisk creates its files.
  void InitNew(std::string key);
  // Recovers the existing directory (stream_dir_recovery.cc). *is_stream is false when it
  // is not a stream (then nothing was done). DataLoss for what the corruption policy
  // refuses. Also on a directory used before, writer closed (Stream::Reopen): the whole
  // state is loaded again from the files. All or nothing in memory: when it fails, the
  // segment list, IDs and indexes are those from before the call (what it changed on
  // disk is a step the next recovery repeats).
  absl::Status Recover(StreamRecoveryReport* report, bool* is_stream);

  // Identity (any thread). See Stream::CheckKey.
  const std::string& dir_name() const { return dir_name_; }
  const std::string& dir_path() const { return dir_path_; }
  std::string key() const;
  bool key_known() const;
  // Both, read together.
  std::string key(bool* known) const;
  absl::Status CheckKey(absl::string_view key, bool claim);

  // The write side.
  // Creates the directory's files if need be, and stream.key once claimed.
  absl::Status EnsureCreatedOnDisk();
  // Whether the next append needs neither EnsureCreatedOnDisk nor OpenWriter: the files
  // exist, no key waits to be recorded and the writer is open (every append but a
  // stream's first after an open, a failure or an eviction).
  bool ReadyToAppend() const {
    return on_disk_ && writer_ != nullptr && !key_file_pending_.load(std::memory_order_acquire);
  }
  // Opens the writer if it is closed (*opened then). A failure may leave it open. With
  // `park`, a writer of an existing active segment starts detached instead (no system
  // call, not *opened): kAsync's first append after an open touches no file.
  absl::Status OpenWriter(bool* opened, bool park = false);
  // A writer parked by OpenWriter takes a descriptor (*opened then), once its buffer must
  // be written: a stream that keeps writing pays no open per flush. No-op otherwise.
  absl::Status AttachParkedWriter(bool* opened);
  // What the writer reserves ahead (WalOptions::allocate_ahead_bytes): kAsync without
  // preallocate_bytes only; 0 otherwise.
  uint64_t AllocateAheadBytes() const;
  bool writer_parked() const { return writer_detached() && parked_; }
  bool writer_open() const { return writer_ != nullptr; }
  // An open writer that holds no descriptor (DetachWriter).
  bool writer_detached() const { return writer_ != nullptr && writer_->detached(); }
  // Frames in the writer's buffer, not yet in the file (0 without a writer).
  uint64_t buffered_bytes() const { return writer_ != nullptr ? writer_->buffered_bytes() : 0; }
  // The heap bytes of the writer's buffer (0 without a writer).
  uint64_t write_buffer_capacity() const {
    return writer_ != nullptr ? writer_->buffer_capacity() : 0;
  }
  // The active segment's index, as readers see it (null before the stream exists).
  std::shared_ptr<const OffsetIndex> active_index() const;
  // Whether a frame of `bytes` and `entries` entries belongs in the next segment.
  bool NeedsRotation(uint64_t bytes, uint64_t entries) const;
  // kAsync: whether the buffer is full enough to hand to the OS before the next group.
  bool BufferFull() const { return writer_->buffered_bytes() >= options_.write_buffer_size; }
  // Buffers one frame with the next IDs (not yet flushed nor published).
  absl::StatusOr<FrameLocation> Append(absl::Span<const absl::string_view> entries);
  // Hands buffered frames to the file (OK without a writer); Sync also fdatasyncs.
  absl::Status Flush();
  absl::Status Sync();
  // Whether Sync() writes the buffer durably in one call, without a Flush() first
  // (SegmentWriter::SyncWritesDurably).
  bool SyncWritesDurably() const;
  // Makes `frames` visible to readers, in order.
  void Publish(absl::Span<const FrameLocation> frames);
  // After synced data: writes durable.pos when the synced end moved far enough.
  void MaybeAdvanceFrontier();
  // With StreamOptions::preallocate_bytes: when less than half of it is left zero-filled
  // past the frames, writes zeros up to preallocate_bytes past them (at most to
  // max_segment_size) and syncs (SegmentWriter::ExtendZeroed). OK otherwise.
  absl::Status MaybeExtendZeroed();
  absl::Status Rotate();
  // Cuts unpublished frames off the buffer and file (published ones stay). False when
  // there is no writer or the cut failed.
  bool DropUnpublished();
  // Closes the writer without flushing (after a failure). True if one was open.
  bool AbandonWriter();
  // Closes the flushed and synced writer and records the frontier.
  absl::Status CloseWriter();
  // Closes the writer for the writer budget: flushes it, but neither syncs nor rewrites
  // durable.pos (the frontier may lag the synced end by its usual step; a later reopen
  // needs neither). Bytes it leaves unsynced are closed_unsynced(), which Sync() and
  // Close() make durable.
  absl::Status EvictWriter();
  // Closes the writer's descriptor for the writer budget (kAsync), keeping the writer and
  // its buffer (SegmentWriter::Detach): later frames are buffered without a descriptor and
  // reach the file when it is flushed (open, write, close). A rotation keeps it detached.
  absl::Status DetachWriter();
  // With the writer closed: writes durable.pos if the synced end of the active segment is
  // past it (an evicted writer left it behind), so the next open need not make the tail
  // durable again.
  absl::Status RecordClosedFrontier();
  // The writer closed, its bytes synced through another descriptor (Close of an evicted
  // writer): reads back the frames between durable.pos and the synced end, checks each
  // (header, CRC, the frame the active index published there) and that they end there,
  // and only then moves durable.pos to the end, as the next open would after the same
  // checks. Anything else leaves durable.pos for that open. Errors: I/O errors.
  absl::Status ClaimVerifiedTail();
  // Whether a closed writer left bytes unsynced (a failed close on a full disk).
  bool closed_unsynced() const { return closed_.synced < closed_.size; }
  // Whether bytes [.., end_offset) of the active segment starting at `segment_start_id`
  // are still in the writer's buffer.
  bool Buffered(uint64_t segment_start_id, uint64_t end_offset) const;
  // The active segment's size, buffered bytes included.
  uint64_t active_bytes() const;
  absl::StatusOr<TruncateResult> Truncate(uint64_t keep_from_id);
  // The next ID the writer gives (unpublished frames included).
  uint64_t write_next_id() const { return write_next_id_; }
  bool on_disk() const { return on_disk_; }

  // The log operations' side (stream_dir_log.cc), with the writer closed.
  // The in-memory state of a stream not on disk whose first segment starts at `start`.
  void ResetInMemory(uint64_t start);
  // Writes `intent`, applies it and loads the state it describes (log_files.h); an error
  // leaves what is on disk in doubt until a reopen finishes the intent.
  absl::Status RunLogIntent(const LogIntent& intent);
  // Stages segment `start`'s first `cut` bytes plus `tail` in StagedSegmentName(start).
  absl::Status StageSegment(uint64_t start, uint64_t cut, absl::string_view tail);
  // Writes first.id (durably), then raises first_id() to `first_id`.
  absl::Status WriteFirstId(uint64_t first_id);
  // Drops the cached readers of the stream's segments (their files change).
  void ForgetReaders();
  // After the directory was removed: a stream not on disk starting at 0, whose key (if
  // known) is written again on creation; deleted() until then.
  void ResetAfterDelete();
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

  // The read side (any thread).
  uint64_t first_id() const { return first_id_.load(std::memory_order_acquire); }
  uint64_t next_id() const { return next_id_.load(std::memory_order_acquire); }
  uint64_t flushed_offset() const { return flushed_offset_.load(std::memory_order_acquire); }
  struct Placement {
    uint64_t segment_start = 0;
    bool active = false;
    std::optional<uint64_t> end_id;  // sealed: the next segment's start
    std::shared_ptr<OffsetIndex> active_index;
  };
  // The segment holding `id`, or nullopt below the first segment.
  std::optional<Placement> Place(uint64_t id) const;
  // Get's fast path: Place without copying the active index. False below the first
  // segment; else `*segment_start` and `*active` as Place says, and for the active segment
  // `*frame` = its index's Find(id), looked up under the same lock as the list.
  bool PlaceFrame(uint64_t id, uint64_t* segment_start, bool* active,
                  std::optional<FrameLocation>* frame) const;
  // The segments' start IDs and first_id(), read together.
  std::vector<uint64_t> Segments(uint64_t* first_id) const;
  std::string SegmentPath(uint64_t start_id) const;

 private:
  absl::Status WriteFrontier(uint64_t segment_start_id, uint64_t offset);
  // Syncs the root and the stream's directory once per session, before the first sync of
  // the stream's data (see the definition).
  absl::Status SyncNames();
  void SetSegments(std::vector<uint64_t> segments, std::shared_ptr<OffsetIndex> active_index);

  // Log operations (stream_dir_log.cc).
  absl::Status LoadAfterIntent(const LogIntent& intent);
  // DataLoss unless the first `size` bytes of `path` are whole frames that pass their checks.
  absl::Status VerifyStaged(const std::string& path, uint64_t size);
  // Raises first_id() to first.id's value (at most next_id()). Errors: I/O errors
  // reading first.id (a missing or malformed one changes nothing).
  absl::Status ApplyFirstIdFile();

  // Recovery (stream_dir_recovery.cc).
  // The in-memory state RecoverSteps changes (the writer is closed while it runs).
  struct Memory {
    bool on_disk = false;
    std::shared_ptr<OffsetIndex> write_index;
    bool active_file_exists = false;
    bool names_synced = false;
    uint64_t closed_size = 0;
    uint64_t closed_synced = 0;
    uint64_t write_next_id = 0;
    uint64_t frontier_written = 0;
    std::vector<uint64_t> segments;
    std::shared_ptr<OffsetIndex> active_index;
    uint64_t first_id = 0;
    uint64_t next_id = 0;
    uint64_t flushed_offset = 0;
    bool deleted = false;
    bool key_file_pending = false;
  };
  Memory SaveMemory() const;
  void RestoreMemory(Memory memory);
  absl::Status RecoverSteps(StreamRecoveryReport* report, bool* is_stream);

  void ReadKeyFile();
  absl::Status ApplyDirectoryPlan(const DirectoryPlan& plan);
  // `listed_size`: the active segment's size when the directory was listed (a hint).
  absl::Status RecoverActiveSegment(StreamRecoveryReport* report, bool has_durable_pos,
                                    std::vector<std::pair<uint64_t, uint64_t>> lost,
                                    uint64_t listed_size);
  // The active segment ends at `*next`, inside a range of lost.ids: a new active segment
  // starts at the range's end (lost IDs are never handed out again).
  absl::Status ContinuePastLoss(const std::vector<std::pair<uint64_t, uint64_t>>& lost,
                                uint64_t* next, std::shared_ptr<OffsetIndex>* index,
                                StreamRecoveryReport* report);
  absl::StatusOr<ScanOptions> ReadFrontier(uint64_t start, bool has_durable_pos);
  absl::StatusOr<uint64_t> LostEndOf(const std::string& path, const SegmentScan& scan);
  absl::StatusOr<SegmentScan> ScanActive(const std::string& path, uint64_t start,
                                         const ScanOptions& scan_options, uint64_t listed_size,
                                         OffsetIndex* index, StreamRecoveryReport* report);
  absl::Status MissingSyncedSegment(uint64_t start, StreamRecoveryReport* report);
  absl::Status Quarantine(const std::string& path, uint64_t offset, StreamRecoveryReport* report);
  absl::Status SettleActiveSegment(const std::string& path, uint64_t start, const SegmentScan& scan,
                                   StreamRecoveryReport* report);
  absl::Status MakeTailDurable(const std::string& path, WritableFile* file, uint64_t from,
                               uint64_t to);

  const StreamOptions& options_;
  Env* const env_;
  const std::string dir_name_;
  const std::string dir_path_;
  ReaderCache* const readers_;
  const void* const cache_owner_;

  mutable Mutex key_mu_;
  std::string key_ ABSL_GUARDED_BY(key_mu_);
  bool key_known_ ABSL_GUARDED_BY(key_mu_) = false;
  // Claimed, not yet on disk. Written under key_mu_ (with key_); EnsureCreatedOnDisk reads
  // it without the lock first (acquire: a claim that happened before the append is seen),
  // so that an append to a stream already on disk takes no lock here.
  std::atomic<bool> key_file_pending_{false};

  // The write side.
  bool on_disk_ = false;  // directory, segments.idx exist
  std::unique_ptr<SegmentWriter> writer_;
  bool parked_ = false;  // writer_ started detached (OpenWriter's park), not yet attached
  std::shared_ptr<OffsetIndex> write_index_;  // == active_index_
  bool active_file_exists_ = false;
  bool names_synced_ = false;  // root and stream dir, this session (SyncNames)
  struct {
    uint64_t size = 0;
    uint64_t synced = 0;
  } closed_;  // the active segment while the writer is closed
  uint64_t write_next_id_ = 0;
  uint64_t frontier_written_ = 0;

  // What readers see.
  mutable SharedMutex segments_mu_;
  std::vector<uint64_t> segments_ ABSL_GUARDED_BY(segments_mu_);  // start IDs, ascending
  std::shared_ptr<OffsetIndex> active_index_ ABSL_GUARDED_BY(segments_mu_);
  std::atomic<uint64_t> first_id_{0};
  std::atomic<uint64_t> next_id_{0};
  std::atomic<uint64_t> flushed_offset_{0};  // active segment bytes in the file
  std::atomic<bool> deleted_{false};         // deleted, not created again since
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_STREAM_DIR_H_
