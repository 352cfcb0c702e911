// File: ironwal/stream/stream.h
//
// Stream: one named log of a Wal. It composes the stream's directory (stream_dir.h: its
// files, the writer, rotation, the frontier, truncation, recovery) with a group-commit
// queue (write_queue.h), assigns IDs with no gaps, and serves reads.
//
// Writes. In kAsync an append is written as a group of one under the write lock.
// Otherwise appenders queue, and the leader writes the queued writes with one write and,
// when the sync mode asks, one fdatasync (see write_queue.h). Every failed write, sync or
// file operation goes through one error path (Fail): a write(2) that finds the disk full
// cuts the unpublished frames off again (published kAsync frames stay in the buffer,
// readable once written), the caller gets ResourceExhausted, and the stream works again
// once space is freed; a full disk while creating the stream's files is likewise retried
// by the next write; anything else poisons the stream: every later write and sync returns
// FailedPrecondition with the first error, until Reopen() (Wal::RecoverStream) or a reopen of
// the Wal recovers the stream's directory.
// Frames are published (made visible to readers, next_id() advanced) only after they are
// durable in kStrict, after they are written in kBatchOnly single appends, and at once
// in kAsync (where a read of a frame still in the buffer flushes it first).
//
// Locks, in the order they may be taken: the write queue's lock is never held during I/O;
// write_mu_ (the directory's write side and the poison) is held by the leader for its
// I/O; the directory's segment-list lock is held only to copy or update the list. Readers
// never take write_mu_ unless they need a frame that is still buffered.
//
// Durability: as the sync mode says (options.h); rotation and truncation are ordered so
// that a crash at any step recovers (stream_dir.h).
// Thread-safety: thread-safe.
#ifndef IRONWAL_STREAM_STREAM_H_
#define IRONWAL_STREAM_STREAM_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/base/mutex.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_reader.h"
#include "ironwal/stats/recorder.h"
#include "ironwal/stream/events.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/options.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/stream_dir.h"
#include "ironwal/stream/stream_types.h"
#include "ironwal/stream/tail_notifier.h"
#include "ironwal/stream/write_queue.h"
#include "ironwal/stream/writer_budget.h"

namespace ironwal {
namespace internal {

class Stream : private WriterBudget::Member, private WriteQueue::GroupWriter {
 public:
  // What every stream of a Wal shares; outlives the streams.
  struct Shared {
    StreamOptions options;
    ReaderCache* readers = nullptr;
    WriterBudget* writers = nullptr;
    StatsRecorder* stats = nullptr;  // null: statistics off
    // Where the stream queues its events (stream_events.cc); null: none are kept.
    EventQueue* events = nullptr;
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
  const std::string& dir_name() const { return dir_.dir_name(); }
  std::string key() const;
  bool key_known() const;
  // OK if `key` is this stream's key. For a stream without a recorded key and
  // `claim` true, records `key` as its key (durably, before the next write). Otherwise
  // InvalidArgument: a different key that maps to the same directory.
  absl::Status CheckKey(absl::string_view key, bool claim);

  // Appends `entries` as one frame with consecutive IDs and returns them. InvalidArgument
  // for an empty batch or one over the size limits; FailedPrecondition when poisoned or
  // read-only. `batch` marks batches and transactions (synced in kBatchOnly). With
  // `expected_next_id`, only when the next ID is that when the frame is written (under the
  // write lock); else FailedPrecondition "... next id is N".
  absl::StatusOr<IdRange> Append(absl::Span<const absl::string_view> entries, bool batch,
                                 std::optional<uint64_t> expected_next_id = std::nullopt);
  // Statistics on: whether a kAsync append about to be made should be timed, one in
  // StatsRecorder::kAsyncTimedEvery of this stream's appends (a relaxed read of its count:
  // appends racing on one stream may each see the same count, so "about one in").
  bool TimeAsyncAppend() const {
    return counters_->Get(StatsRecorder::kAppends) % StatsRecorder::kAsyncTimedEvery == 0;
  }

  // The log operations (stream_log.cc; Wal's methods of the same names say what they do).
  // Each is durable when it returns, and finished by recovery after a crash (log_files.h).
  absl::Status PutMetadata(absl::string_view value);
  absl::StatusOr<std::string> GetMetadata();
  // A stream not on disk yet starts at `first_id`; AlreadyExists otherwise.
  absl::Status StartAt(uint64_t first_id);
  absl::Status Reset(uint64_t next_id);
  absl::Status TruncateSuffix(uint64_t from_id);
  absl::StatusOr<TruncateResult> TrimFront(uint64_t first_id);
  // Removes the stream's directory (stream.deleted first); the object is then a stream not
  // on disk, starting at 0, that deleted() reports until something creates it again.
  absl::Status Delete();
  bool deleted() const { return dir_.deleted(); }
  // Moves whenever IDs are given other bytes than before (a suffix truncation, a reset, a
  // delete): what was cached by (segment, offset) before it is stale.
  uint64_t log_epoch() const { return log_epoch_.load(std::memory_order_acquire); }

  // After a failure poisoned the stream: recovers its directory again, exactly as Wal::Open
  // does (stream_dir_recovery.cc), and makes the stream writable, with the IDs recovery
  // finds. Runs under the write lock: writes, syncs and log operations on this stream wait
  // for it; reads do not, and one racing with it may fail (never return wrong bytes). A
  // stream that is not poisoned is left alone (a clean report). A directory found gone or
  // deleted leaves the stream absent, as an open would. A failed recovery keeps the poison.
  // FailedPrecondition when read-only.
  absl::StatusOr<StreamRecoveryReport> Reopen();
  bool poisoned();

  // Hands buffered frames to the OS (kAsync).
  absl::Status Flush();
  // Makes everything appended so far durable.
  absl::Status Sync();
  // Drops whole sealed segments whose IDs are all below `keep_from_id`.
  absl::StatusOr<TruncateResult> Truncate(uint64_t keep_from_id);
  // Flushes, syncs and closes the writer (for Close), and makes durable what an evicted
  // writer left unsynced. Idempotent.
  absl::Status CloseWriter();

  // The first retained ID and the next ID, as published.
  uint64_t first_id() const { return dir_.first_id(); }
  uint64_t next_id() const { return dir_.next_id(); }

  // Tailing (Wal::WaitFor). Every ID below durable_next_id() is durable: it was published
  // when a sync of the stream completed (the sync mode's own: a kStrict group, a kBatchOnly
  // batch, a rotation; or Sync, Close, a log operation, recovery). It can exceed next_id()
  // for a moment after a suffix truncation; callers take the smaller. poisoned_now() reads
  // the poison without the write lock. Every change of these, of next_id(), first_id(),
  // deleted() and log_epoch() is followed by notifier()->Notify().
  uint64_t durable_next_id() const { return durable_next_id_.load(std::memory_order_acquire); }
  bool poisoned_now() const { return poisoned_now_.load(std::memory_order_acquire); }
  TailNotifier* notifier() { return &notifier_; }

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

  // Reads and verifies the frame at `*pos` (from Locate(id)), into `*scratch` when given
  // (SegmentReader::ReadFrame). A DataLoss through an index loaded from a frame index
  // file is either damage to the segment or a file that frames it otherwise: the segment
  // is walked to tell (WalkIfFrameIndexWrong); in the second case `*pos` is located again
  // through the walk and the read is answered from it, so that a stale hint never makes
  // an entry unreadable. Every read that uses a position's offset goes through this.
  absl::StatusOr<VerifiedFrame> ReadFrameAt(uint64_t id, ReadPosition* pos,
                                            std::string* scratch = nullptr);
  // After a DataLoss reading through `hinted` (a reader of a sealed segment whose index
  // came from its frame index file): walks the segment. When the walk's frames differ from
  // the file's, the file is given up for this Wal's lifetime (its cached reader and
  // shelved index dropped, the file removed unless read-only, later reads walk) and the
  // walked reader is returned (and cached, if undamaged). nullptr when the file agrees
  // with every frame the walk found (the segment is damaged there: the file stays, and it
  // keeps the frames past the damage readable) or the walk failed.
  std::shared_ptr<SegmentReader> WalkIfFrameIndexWrong(const SegmentReader& hinted);

  // Makes sure bytes of the active segment up to `end_offset` are in the file (flushing
  // the kAsync buffer if they are not). Cheap when they are.
  absl::Status EnsureFlushed(uint64_t segment_start_id, uint64_t end_offset);

  StreamInfo Info();

  // What the stream holds in memory for its data (Wal::ApproximateMemoryUsage): its
  // writer's buffer (the bytes it holds, and whether the writer is evicted) and its active
  // segment's index (shared: the caller counts each index once).
  struct Memory {
    uint64_t write_buffer = 0;
    bool evicted = false;
    std::shared_ptr<const OffsetIndex> active_index;
  };
  Memory MemoryHeld();
  // Fills info->logical_bytes and stored_payload_bytes (StreamInfoDetail::kPayloadSizes):
  // walks the frame headers of the retained segments up to info->next_id (stream_payload.cc)
  // and checks that the IDs continue (gaps recorded in lost.ids allowed); DataLoss naming
  // the file and offset where they do not.
  absl::Status MeasurePayloads(StreamInfo* info);

  // Writes waiting in the group-commit queue, the current leader's group included.
  size_t queued_writes();

 private:
  // What a failed operation was; Fail decides from it what the failure costs.
  enum class Failure {
    kCreate,  // creating the stream's files or opening the writer
    kWrite,   // handing buffered frames to the file (write(2))
    kSync,    // fdatasync
    kFiles,   // rotation or closing a segment
  };
  // Frames buffered by the current group and not yet published, with their writers.
  struct Unpublished {
    std::vector<FrameLocation> frames;
    std::vector<QueuedWrite*> writers;
  };

  Stream(const Shared* shared, std::string dir_name);

  // Write path (stream.cc).
  // Also sets *block to the entries' EntryBlockSize (when OK).
  absl::Status ValidateEntries(absl::Span<const absl::string_view> entries, uint64_t* block) const;
  // The errors of the write path, out of line (the appends that succeed do not pay for
  // building them): why ValidateEntries refused `entries`; "opened read-only"; a
  // conditional append's "expected next id".
  ABSL_ATTRIBUTE_NOINLINE absl::Status InvalidEntries(
      absl::Span<const absl::string_view> entries) const;
  ABSL_ATTRIBUTE_NOINLINE absl::Status ReadOnlyError(absl::string_view op) const;
  ABSL_ATTRIBUTE_NOINLINE absl::Status UnexpectedNextId(uint64_t expected) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // WriteQueue::GroupWriter: writes a group under write_mu_, then closes writers the
  // budget picked when this one opened.
  absl::Status WriteGroup(absl::Span<QueuedWrite* const> group) override;
  absl::Status WriteGroupLocked(absl::Span<QueuedWrite* const> group, bool* opened)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status PrepareWriter(bool* opened) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Writes (and with `sync`, syncs) the unpublished frames, then publishes them.
  absl::Status FinishFrames(bool sync) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Makes the unpublished frames visible (and counts them in the statistics).
  void PublishFrames() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Statistics: a write group of `writes` writes.
  void CountGroup(size_t writes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // After a completed sync (or a log operation, which is durable when it returns): every
  // published ID is durable. Notifies the waiters.
  void MarkDurable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status FlushWriter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status SyncWriter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status ExtendZeroed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The one error path: `error` if OK, else what the failure costs (see the file comment).
  absl::Status Checked(Failure kind, absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Fail(Failure kind, absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status PoisonedError(absl::string_view op) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status CloseWriterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // For the writer budget: flushes and closes the writer without a sync or a durable.pos
  // rewrite (what the sync mode did not promise stays unsynced until Sync or Close). In
  // kAsync it only detaches the writer (StreamDir::DetachWriter): the buffer stays, and
  // *pressed gets the streams the budget's buffer limit then names to flush.
  absl::Status EvictWriter(std::vector<WriterBudget::Member*>* pressed);
  void CloseVictims(const std::vector<WriterBudget::Member*>& victims);
  // Tells the budget what a detached writer buffers (0 otherwise); returns the streams
  // to flush when that is over its limit (FlushPressed, after write_mu_ is released):
  // each must be flushed, since the budget names it to no one else until it is.
  std::vector<WriterBudget::Member*> ReportBuffered() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void FlushPressed(const std::vector<WriterBudget::Member*>& pressed);
  // Flushes a detached writer's buffer (open, write, close), for the budget's limit, then
  // lets the budget name this stream again (WriterBudget::Released).
  void FlushEvicted();

  // Log operations (stream_log.cc).
  absl::Status CheckWritable(absl::string_view op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Reopen's check of the directory (stream_log.cc).
  absl::StatusOr<bool> PresentOnDisk() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Syncs and closes the writer.
  absl::Status Quiesce() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Writes `intent`, applies it and loads the state it describes (a failure poisons).
  absl::Status RunLogIntent(const LogIntent& intent) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The intent of a suffix truncation from `from_id` (staging the active segment).
  absl::StatusOr<LogIntent> PlanSuffixCut(uint64_t from_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // Read path (stream_read.cc).
  // How this stream's segments are read (mmap or pread, the read-ahead).
  SegmentReaderOptions ReaderOptions() const;
  // Where the frames of the sealed segment at `segment_start` end, the next segment
  // starting at `next_start`: there, unless lost.ids records IDs [a, next_start) with a
  // in the segment (a recovery or repair cut the segment at a and the stream went on past
  // the lost IDs in a new segment): then at a, so that the walk finds the segment whole.
  uint64_t SealedFramesEnd(uint64_t segment_start, uint64_t next_start) const;
  absl::StatusOr<std::shared_ptr<SegmentReader>> ReaderFor(
      uint64_t segment_start, bool active, std::optional<uint64_t> end_id,
      const std::shared_ptr<OffsetIndex>& active_index, uint64_t needed_end_offset);
  // A reader of the sealed segment [segment_start, end_id) at `path` indexed from its frame
  // index file (frame_index_file.h), or nullptr when there is none that checks out (then
  // removed, unless read-only): the caller walks the segment.
  std::shared_ptr<SegmentReader> OpenFromFrameIndex(const std::string& path, uint64_t segment_start,
                                                    uint64_t end_id,
                                                    const SegmentReaderOptions& reader_options);
  // Get's fast path: true and `*entry` set when entry `id` is found in a cached reader and
  // its frame passes every check (SegmentReader::TryReadEntry): a view into the mapping of
  // `*reader` or into `*scratch`. False, with nothing reported, otherwise (no reader cached,
  // a frame the kAsync buffer still holds, a frame larger than the scratch buffer is kept
  // at, any error): Get then takes the general path (GetSlow), which reports what is wrong.
  bool TryGet(uint64_t id, std::string* scratch, std::shared_ptr<SegmentReader>* reader,
              absl::string_view* entry);
  absl::StatusOr<std::string> GetSlow(uint64_t id, std::string* scratch);

  std::string OpDescription(absl::string_view op) const;

  // Events (stream_events.cc), queued under write_mu_ for the Wal to deliver.
  struct SegmentsBefore {
    bool on_disk = false;
    std::vector<uint64_t> segments;  // empty when not on disk
  };
  void Emit(Event event);
  std::vector<uint64_t> LiveSegments() const;
  void EmitSegment(Event::Kind kind, uint64_t start);
  // The segment list (and whether the stream is on disk) before an operation that may
  // change it; then the events of the change (stream created; segments deleted, sealed,
  // created; `replaced`: every old segment deleted and every new one created). Returns
  // how many segments were deleted.
  SegmentsBefore SnapshotSegments() const;
  uint64_t EmitSegmentChanges(const SegmentsBefore& before, bool replaced = false);
  void EmitTruncated(TruncationKind kind, uint64_t segments_removed);
  // A failure Fail kept (disk full, once per episode) or that poisoned the stream now.
  void EmitFailure(const absl::Status& error, bool poisoned_now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The end of a disk-full episode, if one is running.
  void EmitSpaceRecovered() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const Shared* const shared_;
  const StreamOptions& options_;
  Env* const env_;
  // Its write side is guarded by write_mu_ (not annotated: a member of another class).
  StreamDir dir_;
  WriteQueue queue_;
  // This stream's statistics of its writes (null with statistics off), updated under
  // write_mu_ (a Counters has one writer at a time; the recorder owns it).
  StatsRecorder::Counters* const counters_;

  Mutex write_mu_;
  absl::Status poison_ ABSL_GUARDED_BY(write_mu_);
  Unpublished unpublished_ ABSL_GUARDED_BY(write_mu_);
  // A write failed for lack of space and none has put bytes in the file since.
  bool disk_full_ ABSL_GUARDED_BY(write_mu_) = false;
  std::atomic<uint64_t> log_epoch_{0};  // see log_epoch()
  std::atomic<uint64_t> durable_next_id_{0};
  std::atomic<bool> poisoned_now_{false};  // !poison_.ok(), for readers without write_mu_
  TailNotifier notifier_;

  // Sealed segments whose frame index file a walk found wrong, or found to agree with the
  // frames before damage (WalkIfFrameIndexWrong). any_refused_ lets the read path skip the
  // lock while none was refused.
  mutable Mutex refused_mu_;
  // (log_epoch(), segment start ID).
  std::set<std::pair<uint64_t, uint64_t>> refused_frame_indexes_ ABSL_GUARDED_BY(refused_mu_);
  std::set<std::pair<uint64_t, uint64_t>> confirmed_frame_indexes_ ABSL_GUARDED_BY(refused_mu_);
  std::atomic<bool> any_refused_{false};
  bool FrameIndexRefused(uint64_t segment_start) const;
  // Where the last walk of each damaged sealed segment stopped (the end of its frames),
  // keyed as above: a second walk that stops at the same byte shows the damage is on the
  // disk, not a bit flipped on the way (SameDamageAsLastWalk).
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> damaged_walks_ ABSL_GUARDED_BY(refused_mu_);
  bool SameDamageAsLastWalk(uint64_t segment_start, const SegmentReader& walked);
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_STREAM_H_
