// File: ironwal/stream/stream.h
//
// Stream: one named log of a Wal. It owns the stream's directory (its segment files,
// segments.idx, head.state, stream.key and durable.pos), assigns IDs with no gaps,
// writes frames through a group-commit queue, rotates segments, truncates old ones, and
// serves reads. Recovery of an existing directory is in stream_recovery.cc.
//
// Writes. In kAsync an append encodes its frame into the buffer under the write lock.
// Otherwise appenders queue; the one at the front is the leader: it takes the queued writes
// (up to kMaxGroupBytes), gives each its IDs and one frame, writes them all with one
// write and, when the sync mode asks, one fdatasync, then publishes them and wakes the
// others. So N concurrent durable appenders cost about one sync, not N. A write or sync
// error poisons the stream (every later write returns FailedPrecondition with the first
// error) until the Wal is reopened; the one exception is a write that finds the disk
// full: the unpublished frames are cut off again (published kAsync frames stay in the
// buffer, readable once written), the caller gets ResourceExhausted, and the stream
// works again once space is freed.
// Frames are published (made visible to readers, next_id() advanced) only after they are
// durable in kStrict, after they are written in kBatchOnly single appends, and at once
// in kAsync (where a read of a frame still in the buffer flushes it first).
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
// Locks, in the order they may be taken: queue_mu_ (the write queue) is never held
// during I/O; write_mu_ (everything on the write side: the writer, rotation,
// truncation, syncs) is held by the leader for its I/O; segments_mu_ (the segment list
// and active index readers use) is held only to copy or update them. Readers never take
// write_mu_ unless they need a frame that is still buffered.
//
// Thread-safety: thread-safe.
#ifndef IRONWAL_STREAM_STREAM_H_
#define IRONWAL_STREAM_STREAM_H_

#include <atomic>
#include <cstdint>
#include <deque>
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
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_reader.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/segment/segment_writer.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/options.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/writer_budget.h"

namespace ironwal {

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
};

struct TruncateResult {
  uint64_t segments_removed = 0;
  uint64_t first_id = 0;  // the first retained ID afterwards
};

class Stream : private WriterBudget::Member {
 public:
  // What every stream of a Wal shares; outlives the streams.
  struct Shared {
    StreamOptions options;
    ReaderCache* readers = nullptr;
    WriterBudget* writers = nullptr;
  };

  // A stream that does not exist on disk yet; its directory is created by the first write.
  static std::unique_ptr<Stream> CreateNew(const Shared* shared, std::string dir_name,
                                           std::string key);

  // Opens the existing directory `dir_name` under the root. Returns nullptr (not an error)
  // when the directory is not a stream: none of a stream's file names (StreamListing::
  // is_stream; ironwal 0.6 turned every directory into a stream; this library leaves
  // others alone). DataLoss when the directory cannot be recovered under the corruption
  // policy: directory_plan.h's refusals (before anything is changed), or segment_scan.h's
  // kCorrupt under kError (after the plan's leftovers are cleaned up).
  static absl::StatusOr<std::unique_ptr<Stream>> Recover(const Shared* shared, std::string dir_name,
                                                         StreamRecoveryReport* report);

  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  // Identity. The key is the stream's original key, recorded in stream.key; directories
  // written by ironwal 0.6 have none until the first write through this library records
  // the key it was written with.
  const std::string& dir_name() const { return dir_name_; }
  std::string key() const;
  bool key_known() const;
  // OK if `key` is this stream's key. For a stream without a recorded key and
  // `claim` true, records `key` as its key (durably, before the next write). Otherwise
  // InvalidArgument: a different key that maps to the same directory.
  absl::Status CheckKey(absl::string_view key, bool claim);

  // Appends `entries` as one frame with consecutive IDs and returns them. InvalidArgument
  // for an empty batch or one over the size limits; FailedPrecondition when poisoned or
  // read-only. `batch` marks batches and transactions (synced in kBatchOnly).
  absl::StatusOr<IdRange> Append(absl::Span<const absl::string_view> entries, bool batch);

  // Hands buffered frames to the OS (kAsync).
  absl::Status Flush();
  // Makes everything appended so far durable.
  absl::Status Sync();
  // Drops whole sealed segments whose IDs are all below `keep_from_id`.
  absl::StatusOr<TruncateResult> Truncate(uint64_t keep_from_id);
  // Flushes, syncs and closes the writer (for the writer budget and Close). Idempotent.
  absl::Status CloseWriter();

  // The first retained ID and the next ID, as published.
  uint64_t first_id() const { return first_id_.load(std::memory_order_acquire); }
  uint64_t next_id() const { return next_id_.load(std::memory_order_acquire); }

  // The entry with ID `id`: NotFound below first_id(), OutOfRange at or past next_id(),
  // DataLoss if its frame fails verification.
  absl::StatusOr<std::string> Get(uint64_t id);

  // A reader positioned for `id`: the segment holding it, its reader, and the frame.
  struct ReadPosition {
    std::shared_ptr<SegmentReader> reader;
    bool active = false;          // the segment is the active one
    uint64_t segment_end_id = 0;  // sealed: the next segment's start
    FrameLocation frame;
  };
  // NotFound below first_id(); OutOfRange at or past next_id().
  absl::StatusOr<ReadPosition> Locate(uint64_t id);

  // Makes sure bytes of the active segment up to `end_offset` are in the file (flushing
  // the kAsync buffer if they are not). Cheap when they are.
  absl::Status EnsureFlushed(uint64_t segment_start_id, uint64_t end_offset);

  StreamInfo Info();

  // Writes waiting in the group-commit queue, the current leader's group included.
  size_t queued_writes();

 private:
  struct PendingWrite;

  Stream(const Shared* shared, std::string dir_name);

  // Write path (stream.cc).
  absl::Status ValidateEntries(absl::Span<const absl::string_view> entries) const;
  // Writes `group`; sets *opened when it had to open the writer (for the budget).
  absl::Status WriteGroup(const std::vector<PendingWrite*>& group, bool* opened)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status EnsureCreatedOnDisk() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status EnsureWriterOpen(bool* opened) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status FinishFrames(std::vector<FrameLocation>* pending, bool sync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void PublishFrames(std::vector<FrameLocation>* pending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // A write(2) failed: cut unpublished frames off; poison unless the disk is full.
  absl::Status OnWriteError(absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // An fsync failed: poison.
  absl::Status OnSyncError(absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Poison(absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status CloseWriterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void MaybeAdvanceFrontier() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status WriteFrontier(uint64_t segment_start_id, uint64_t offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void CloseVictims(const std::vector<WriterBudget::Member*>& victims);

  // Read path (stream_read.cc).
  absl::StatusOr<std::shared_ptr<SegmentReader>> ReaderFor(
      uint64_t segment_start, bool active, std::optional<uint64_t> end_id,
      const std::shared_ptr<OffsetIndex>& active_index, uint64_t needed_end_offset);

  // Recovery (stream_recovery.cc).
  absl::Status RecoverDirectory(StreamRecoveryReport* report, bool* is_stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void ReadKeyFile();
  absl::Status ApplyDirectoryPlan(const DirectoryPlan& plan)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status RecoverActiveSegment(StreamRecoveryReport* report, bool has_durable_pos,
                                    std::vector<std::pair<uint64_t, uint64_t>> lost)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The active segment ends at `*next`, inside a range of lost.ids: a new active segment
  // starts at the range's end (lost IDs are never handed out again).
  absl::Status ContinuePastLoss(const std::vector<std::pair<uint64_t, uint64_t>>& lost,
                                uint64_t* next, std::shared_ptr<OffsetIndex>* index,
                                StreamRecoveryReport* report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status MissingSyncedSegment(uint64_t start, StreamRecoveryReport* report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Quarantine(const std::string& path, uint64_t offset, StreamRecoveryReport* report);
  absl::Status SettleActiveSegment(const std::string& path, uint64_t start, const SegmentScan& scan,
                                   StreamRecoveryReport* report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status MakeTailDurable(const std::string& path, WritableFile* file, uint64_t from,
                               uint64_t to);

  std::string SegmentPath(uint64_t start_id) const;
  std::string OpDescription(absl::string_view op) const;

  const Shared* const shared_;
  const StreamOptions& options_;
  Env* const env_;
  const std::string dir_name_;
  const std::string dir_path_;

  mutable Mutex key_mu_;
  std::string key_ ABSL_GUARDED_BY(key_mu_);
  bool key_known_ ABSL_GUARDED_BY(key_mu_) = false;
  bool key_file_pending_ ABSL_GUARDED_BY(key_mu_) = false;  // claimed, not yet on disk
  std::atomic<bool> key_file_pending_relaxed_{false};       // the same, for the write path

  // The write queue.
  Mutex queue_mu_;
  std::deque<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  // The current leader's scratch (only the thread at the front of the queue uses them).
  std::vector<PendingWrite*> leader_group_;
  size_t group_target_ = 0;  // how many writers a kStrict leader waits for

  // The write side.
  Mutex write_mu_ ABSL_ACQUIRED_AFTER(queue_mu_);
  bool on_disk_ ABSL_GUARDED_BY(write_mu_) = false;  // directory, segments.idx exist
  std::unique_ptr<SegmentWriter> writer_ ABSL_GUARDED_BY(write_mu_);
  std::shared_ptr<OffsetIndex> write_index_ ABSL_GUARDED_BY(write_mu_);  // == active_index_
  std::vector<FrameLocation> pending_frames_ ABSL_GUARDED_BY(write_mu_);
  std::vector<PendingWrite*> async_group_ ABSL_GUARDED_BY(write_mu_);  // kAsync's group of one
  std::vector<PendingWrite*> pending_writers_ ABSL_GUARDED_BY(write_mu_);
  bool active_file_exists_ ABSL_GUARDED_BY(write_mu_) = false;
  bool names_synced_ ABSL_GUARDED_BY(write_mu_) = false;   // root and stream dir, this session
  uint64_t active_size_ ABSL_GUARDED_BY(write_mu_) = 0;    // while the writer is closed
  uint64_t active_synced_ ABSL_GUARDED_BY(write_mu_) = 0;  // while the writer is closed
  uint64_t write_next_id_ ABSL_GUARDED_BY(write_mu_) = 0;
  uint64_t frontier_written_ ABSL_GUARDED_BY(write_mu_) = 0;
  absl::Status poison_ ABSL_GUARDED_BY(write_mu_);

  // What readers see.
  mutable SharedMutex segments_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  std::vector<uint64_t> segments_ ABSL_GUARDED_BY(segments_mu_);  // start IDs, ascending
  std::shared_ptr<OffsetIndex> active_index_ ABSL_GUARDED_BY(segments_mu_);
  std::atomic<uint64_t> first_id_{0};
  std::atomic<uint64_t> next_id_{0};
  std::atomic<uint64_t> flushed_offset_{0};  // active segment bytes in the file
};

}  // namespace ironwal

#endif  // IRONWAL_STREAM_STREAM_H_
