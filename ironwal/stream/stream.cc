// Stream: identity, the write path (the group writer behind the write queue), syncs,
// closing the writer, truncation, and the one error path. Reads are in stream_read.cc;
// the files themselves in stream_dir.cc.
#include "ironwal/stream/stream.h"

#include <optional>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/base/test_point.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"

namespace ironwal {
namespace internal {
namespace {

// A write group of more than one write (kStrict, kBatchOnly), into this thread's shard:
// out of line, so the group of one stays a single counter update.
ABSL_ATTRIBUTE_NOINLINE void RecordGroup(StatsRecorder* stats, size_t writes) {
  stats->Mine().RecordGroup(writes);  // write_groups is this histogram's count
}

WriteQueue::Options QueueOptions(const StreamOptions& options) {
  WriteQueue::Options queue;
  // A kStrict leader waits a moment (a small part of one fdatasync) for the writers of
  // the previous group.
  queue.linger = options.sync_mode == SyncMode::kStrict;
  queue.linger_micros = 100;
  queue.clock = options.env;
  return queue;
}

}  // namespace

Stream::Stream(const Shared* shared, std::string dir_name)
    : shared_(shared),
      options_(shared->options),
      env_(shared->options.env),
      dir_(&shared->options, std::move(dir_name), shared->readers, this),
      queue_(QueueOptions(shared->options), this),
      counters_(shared->stats != nullptr ? shared->stats->NewCounters() : nullptr) {}

Stream::~Stream() {
  shared_->writers->Closed(this);
  shared_->writers->Buffered(this, 0);
}

std::unique_ptr<Stream> Stream::CreateNew(const Shared* shared, std::string dir_name,
                                          std::string key) {
  std::unique_ptr<Stream> stream(new Stream(shared, std::move(dir_name)));
  MutexLock lock(&stream->write_mu_);
  stream->dir_.InitNew(std::move(key));
  stream->MarkDurable();
  return stream;
}

absl::StatusOr<std::unique_ptr<Stream>> Stream::Recover(const Shared* shared, std::string dir_name,
                                                        StreamRecoveryReport* report) {
  std::unique_ptr<Stream> stream(new Stream(shared, std::move(dir_name)));
  bool is_stream = false;
  {
    MutexLock lock(&stream->write_mu_);
    IRONWAL_RETURN_IF_ERROR(stream->dir_.Recover(report, &is_stream));
    stream->MarkDurable();  // recovery made what it kept durable
  }
  if (!is_stream) return nullptr;
  return stream;
}

std::string Stream::OpDescription(absl::string_view op) const {
  return absl::StrCat(op, " ", dir_.dir_path());
}

std::string Stream::key() const { return dir_.key(); }

bool Stream::key_known() const { return dir_.key_known(); }

absl::Status Stream::CheckKey(absl::string_view key, bool claim) {
  return dir_.CheckKey(key, claim);
}

absl::Status Stream::ValidateEntries(absl::Span<const absl::string_view> entries,
                                     uint64_t* block_size) const {
  // One pass and one branch; InvalidEntries says what is wrong.
  uint64_t block = 0;
  bool entry_too_big = false;
  for (absl::string_view entry : entries) {
    entry_too_big |= entry.size() > options_.max_entry_size;
    block += format::kEntryLengthSize + entry.size();
  }
  if (ABSL_PREDICT_FALSE(entries.empty() || entries.size() > format::kMaxEntryCount ||
                         entry_too_big || block > format::kMaxPayloadSize)) {
    return InvalidEntries(entries);
  }
  *block_size = block;
  return absl::OkStatus();
}

absl::Status Stream::InvalidEntries(absl::Span<const absl::string_view> entries) const {
  if (entries.empty()) {
    return absl::InvalidArgumentError(OpDescription("append to") + ": no entries");
  }
  if (entries.size() > format::kMaxEntryCount) {
    return absl::InvalidArgumentError(
        absl::StrCat(OpDescription("append to"), ": ", entries.size(), " entries in one batch"));
  }
  uint64_t block = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > options_.max_entry_size) {
      return absl::InvalidArgumentError(
          absl::StrCat(OpDescription("append to"), ": entry ", i, " has ", entries[i].size(),
                       " bytes; the limit (max_entry_size) is ", options_.max_entry_size));
    }
    block += format::kEntryLengthSize + entries[i].size();
  }
  return absl::InvalidArgumentError(absl::StrCat(OpDescription("append to"), ": batch of ", block,
                                                 " bytes exceeds the frame limit of ",
                                                 format::kMaxPayloadSize));
}

absl::Status Stream::ReadOnlyError(absl::string_view op) const {
  return absl::FailedPreconditionError(OpDescription(op) + ": opened read-only");
}

absl::StatusOr<IdRange> Stream::Append(absl::Span<const absl::string_view> entries, bool batch,
                                       std::optional<uint64_t> expected_next_id) {
  if (ABSL_PREDICT_FALSE(options_.read_only)) return ReadOnlyError("append to");
  uint64_t block = 0;
  IRONWAL_RETURN_IF_ERROR(ValidateEntries(entries, &block));
  Touch();
  QueuedWrite w(entries, batch, format::kFrameHeaderSize + block, expected_next_id);
  // kAsync never syncs, so there is no sync to share: the write goes alone, at once.
  if (options_.sync_mode == SyncMode::kAsync) {
    queue_.SubmitAlone(&w);
  } else {
    queue_.Submit(&w);
  }
  if (w.state() == QueuedWrite::State::kFailed) return w.error();
  return IdRange{w.first_id(), w.first_id() + entries.size()};
}

size_t Stream::queued_writes() { return queue_.size(); }

absl::Status Stream::WriteGroup(absl::Span<QueuedWrite* const> group) {
  bool opened = false;
  absl::Status written;
  std::vector<WriterBudget::Member*> pressed;
  {
    MutexLock lock(&write_mu_);
    written = WriteGroupLocked(group, &opened);
    pressed = ReportBuffered();
    CountGroup(group.size());
  }
  if (opened) CloseVictims(shared_->writers->Opened(this));
  FlushPressed(pressed);
  return written;
}

absl::Status Stream::WriteGroupLocked(absl::Span<QueuedWrite* const> group, bool* opened) {
  if (ABSL_PREDICT_FALSE(!poison_.ok())) return PoisonedError("append to");
  // Every append but a stream's first (after an open, a failure, an eviction) is ready.
  if (!dir_.ReadyToAppend()) {
    IRONWAL_RETURN_IF_ERROR(PrepareWriter(opened));
  }
  // kAsync: hand a full buffer to the OS before this group publishes anything, so a
  // failure here fails this group rather than frames already acknowledged. An evicted
  // writer whose deferred write found the disk full tries again first, so its caller
  // hears of it (and its buffer does not grow while the disk stays full).
  if (options_.sync_mode == SyncMode::kAsync &&
      (dir_.BufferFull() || (disk_full_ && dir_.writer_detached()))) {
    // A writer parked at its first append after the open keeps a descriptor from its
    // first full buffer on. Should the open fail, the flush below opens the file for
    // itself and meets the same failure, handled as any failed write.
    if (dir_.BufferFull() && !disk_full_) dir_.AttachParkedWriter(opened).IgnoreError();
    IRONWAL_RETURN_IF_ERROR(FlushWriter());
  }
  unpublished_.frames.clear();
  unpublished_.writers.clear();
  bool need_sync = options_.sync_mode == SyncMode::kStrict;
  for (QueuedWrite* w : group) {
    const std::optional<uint64_t>& expected = w->expected_next_id();
    if (ABSL_PREDICT_FALSE(expected.has_value() && *expected != dir_.write_next_id())) {
      w->SetFailed(UnexpectedNextId(*expected));
      continue;
    }
    if (dir_.NeedsRotation(w->bytes(), w->entries().size())) {
      // The frames so far end the full segment, synced.
      IRONWAL_RETURN_IF_ERROR(FinishFrames(/*sync=*/true));
      const SegmentsBefore before = SnapshotSegments();
      IRONWAL_RETURN_IF_ERROR(Checked(Failure::kFiles, dir_.Rotate()));
      EmitSegmentChanges(before);
      if (shared_->stats != nullptr) shared_->stats->Add(StatsRecorder::kRotations);
    }
    absl::StatusOr<FrameLocation> where = dir_.Append(w->entries());
    if (!where.ok()) {
      w->SetFailed(where.status());
      continue;
    }
    unpublished_.frames.push_back(*where);
    unpublished_.writers.push_back(w);
    if (w->batch() && options_.sync_mode == SyncMode::kBatchOnly) need_sync = true;
  }
  if (options_.sync_mode == SyncMode::kAsync) {
    PublishFrames();
    return absl::OkStatus();
  }
  IRONWAL_RETURN_IF_ERROR(FinishFrames(need_sync));
  return ExtendZeroed();
}

// Zero-filled space ahead (preallocate_bytes), once the group's frames are durable (or,
// kBatchOnly, written): the group's callers wait for it, but rarely. A full disk only
// stops it; a failed sync poisons, as any sync does.
absl::Status Stream::ExtendZeroed() {
  absl::Status extended = dir_.MaybeExtendZeroed();
  if (extended.ok() || absl::IsResourceExhausted(extended)) return absl::OkStatus();
  return Checked(Failure::kSync, std::move(extended));
}

// Creating the stream's files: a full disk is retried by the next write; any other
// failure leaves names or data whose durability is in doubt, so it poisons.
absl::Status Stream::PrepareWriter(bool* opened) {
  const bool was_on_disk = dir_.on_disk();
  absl::Status prepared = dir_.EnsureCreatedOnDisk();
  if (prepared.ok() && !was_on_disk) EmitSegmentChanges(SegmentsBefore{});
  // kAsync's first append after an open makes no system call: the writer starts detached
  // (as if evicted), its buffer counted against the budget's buffer limit. Not with
  // preallocation, whose zero tail a detached writer does not keep.
  const bool park = options_.sync_mode == SyncMode::kAsync && options_.preallocate_bytes == 0;
  if (prepared.ok()) prepared = dir_.OpenWriter(opened, park);
  return Checked(Failure::kCreate, std::move(prepared));
}

absl::Status Stream::FinishFrames(bool sync) {
  IRONWAL_CHECK(dir_.writer_open()) << dir_.dir_path() << ": frames without a writer";
  IRONWAL_RETURN_IF_ERROR(sync ? SyncWriter() : FlushWriter());
  PublishFrames();
  if (sync) {
    dir_.MaybeAdvanceFrontier();
    MarkDurable();
  }
  return absl::OkStatus();
}

void Stream::PublishFrames() {
  dir_.Publish(unpublished_.frames);
  // The published writes are the successful appends (their callers hear so next), one
  // frame each: counted here, by whoever holds write_mu_, in the stream's own counters.
  // The entries' bytes are derived from these at Snapshot (recorder.h).
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t lz4 = 0;
  uint64_t lz4_saved = 0;
  for (size_t i = 0; i < unpublished_.writers.size(); ++i) {
    const FrameLocation& frame = unpublished_.frames[i];
    QueuedWrite* const w = unpublished_.writers[i];
    entries += w->entries().size();
    bytes += frame.size;
    // bytes(): the raw frame's size. LZ4 is kept only when strictly smaller (format/frame.h).
    if (ABSL_PREDICT_FALSE(frame.size < w->bytes())) {
      ++lz4;
      lz4_saved += w->bytes() - frame.size;
    }
    w->SetWritten(frame.start_id);  // its caller may return (and free w) from here on
  }
  if (counters_ != nullptr) {
    counters_->Add(StatsRecorder::kAppends, unpublished_.writers.size());
    counters_->Add(StatsRecorder::kEntriesAppended, entries);
    // A snapshot taken here sees the group's counts without its bytes (recorder.cc clamps).
    IRONWAL_TEST_POINT("stream.publish.counted");
    counters_->Add(StatsRecorder::kFrameBytesWritten, bytes);
    if (lz4 != 0) {  // rarely: LZ4 is opt-in
      counters_->Add(StatsRecorder::kFramesLz4, lz4);
      counters_->Add(StatsRecorder::kLz4BytesSaved, lz4_saved);
    }
  }
  unpublished_.frames.clear();
  unpublished_.writers.clear();
  notifier_.Notify();
}

void Stream::CountGroup(size_t writes) {
  if (counters_ == nullptr) return;
  if (ABSL_PREDICT_TRUE(writes == 1)) {
    counters_->Add(StatsRecorder::kGroupsOfOne);  // every kAsync group: no lookup
  } else {
    RecordGroup(shared_->stats, writes);
  }
}

void Stream::MarkDurable() {
  durable_next_id_.store(dir_.next_id(), std::memory_order_release);
  notifier_.Notify();
}

absl::Status Stream::FlushWriter() {
  const uint64_t before = dir_.flushed_offset();
  const absl::Status flushed = Checked(Failure::kWrite, dir_.Flush());
  ReportBuffered();  // shrinking: names no one
  IRONWAL_RETURN_IF_ERROR(flushed);
  // Bytes reached the file: a full disk has space again.
  if (disk_full_ && dir_.flushed_offset() != before) EmitSpaceRecovered();
  return absl::OkStatus();
}

absl::Status Stream::SyncWriter() {
  // Over preallocated zeros with nothing else unsynced, the writer writes its buffer
  // durably in one call (SegmentWriter::SyncWritesDurably): no flush first. A failure of
  // that write is a failed sync (it poisons), even ENOSPC, which a flush alone survives.
  const bool durable_write = dir_.SyncWritesDurably();
  if (!durable_write) IRONWAL_RETURN_IF_ERROR(FlushWriter());
  StatsRecorder* stats = shared_->stats;
  const uint64_t start = stats != nullptr ? env_->NowMicros() : 0;
  absl::Status synced = dir_.Sync();
  if (stats != nullptr) {
    stats->Add(StatsRecorder::kFdatasyncs);
    stats->Record(StatsRecorder::kFdatasyncMicros, env_->NowMicros() - start);
  }
  // Bytes reached the file (as FlushWriter notes): a full disk has space again.
  if (durable_write && synced.ok() && disk_full_) EmitSpaceRecovered();
  return Checked(Failure::kSync, std::move(synced));
}

absl::Status Stream::Checked(Failure kind, absl::Status error) {
  if (error.ok()) return error;
  return Fail(kind, std::move(error));
}

absl::Status Stream::Fail(Failure kind, absl::Status error) {
  switch (kind) {
    case Failure::kCreate:
      if (absl::IsResourceExhausted(error)) {
        EmitFailure(error, /*poisoned_now=*/false);
        return error;
      }
      break;
    case Failure::kWrite:
      // A failed write(2), unlike a failed fsync, leaves nothing in doubt: with the
      // unpublished frames cut off again, a full disk is survivable (the buffered
      // published frames are written later).
      if (dir_.DropUnpublished() && absl::IsResourceExhausted(error)) {
        EmitFailure(error, /*poisoned_now=*/false);
        return error;
      }
      break;
    case Failure::kSync:
      // After a failed fsync the unsynced data may be gone from the disk while still
      // showing in the page cache: never retry and trust it (see
      // StreamDir::MakeTailDurable for the reopen).
      dir_.DropUnpublished();
      break;
    case Failure::kFiles:
      break;
  }
  const bool poisoned_now = poison_.ok();
  if (poisoned_now) {
    poison_ = error;
    poisoned_now_.store(true, std::memory_order_release);
    notifier_.Notify();
    if (shared_->stats != nullptr) shared_->stats->Add(StatsRecorder::kPoisonings);
  }
  EmitFailure(error, poisoned_now);
  // Close without flushing: after a failure nothing more may be written.
  if (dir_.AbandonWriter()) shared_->writers->Closed(this);
  ReportBuffered();
  return error;
}

absl::Status Stream::UnexpectedNextId(uint64_t expected) const {
  return absl::FailedPreconditionError(absl::StrCat(OpDescription("conditional append to"),
                                                    ": expected next id ", expected,
                                                    ", but the next id is ", dir_.write_next_id()));
}

absl::Status Stream::PoisonedError(absl::string_view op) const {
  return absl::FailedPreconditionError(
      absl::StrCat(OpDescription(op),
                   ": stream is poisoned by an earlier failure (RecoverStream or a reopen of the "
                   "Wal recovers it): ",
                   poison_.ToString()));
}

absl::Status Stream::Flush() {
  MutexLock lock(&write_mu_);
  return FlushWriter();
}

absl::Status Stream::Sync() {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(SyncLocked());
  // kAsync's zero-filled space ahead (preallocate_bytes) is written here, after the frames
  // are durable: its appends never sync, so this is the one place where the zero-fill's
  // sync costs nothing extra in ordering. (In kStrict/kBatchOnly the appends keep it, and
  // this is a no-op unless their last zero-fill met a full disk.)
  return ExtendZeroed();
}

absl::Status Stream::SyncLocked() {
  if (options_.read_only) return absl::OkStatus();
  if (!poison_.ok()) return PoisonedError("sync");
  if (!dir_.writer_open()) {
    if (!dir_.closed_unsynced()) {
      MarkDurable();  // a closed writer left everything synced
      return absl::OkStatus();
    }
    // What an evicted writer left unsynced, through a writer opened for this sync only (the
    // budget does not count it, so it is closed again).
    bool opened = false;
    IRONWAL_RETURN_IF_ERROR(Checked(Failure::kCreate, dir_.OpenWriter(&opened)));
    IRONWAL_RETURN_IF_ERROR(SyncWriter());
    dir_.MaybeAdvanceFrontier();
    MarkDurable();
    return Checked(Failure::kFiles, dir_.EvictWriter());
  }
  IRONWAL_RETURN_IF_ERROR(SyncWriter());
  dir_.MaybeAdvanceFrontier();
  MarkDurable();
  return absl::OkStatus();
}

absl::Status Stream::CloseWriter() {
  MutexLock lock(&write_mu_);
  return CloseWriterLocked();
}

absl::Status Stream::CloseWriterLocked() {
  if (dir_.writer_detached()) {
    // A detached writer (kAsync, evicted) wrote through descriptors opened for each write:
    // as for an evicted writer below, its bytes are synced, and claimed in durable.pos
    // only once read back and verified.
    IRONWAL_RETURN_IF_ERROR(SyncWriter());
    MarkDurable();
    IRONWAL_RETURN_IF_ERROR(Checked(Failure::kFiles, dir_.EvictWriter()));
    return Checked(Failure::kFiles, dir_.ClaimVerifiedTail());
  }
  if (!dir_.writer_open()) {
    if (options_.read_only || !poison_.ok()) return absl::OkStatus();
    // An evicted writer's synced bytes get the frontier eviction did not write.
    if (!dir_.closed_unsynced()) return Checked(Failure::kFiles, dir_.RecordClosedFrontier());
    // Its unsynced ones are synced through a writer opened for it. Those bytes were
    // written through another descriptor: durable.pos claims them only once they are
    // read back and verified (were the file not what this process left, say after a
    // simulated power cut, it would vouch for damage), so that the next open finds a
    // clean shutdown and changes nothing.
    bool opened = false;
    IRONWAL_RETURN_IF_ERROR(Checked(Failure::kCreate, dir_.OpenWriter(&opened)));
    IRONWAL_RETURN_IF_ERROR(SyncWriter());
    MarkDurable();
    IRONWAL_RETURN_IF_ERROR(Checked(Failure::kFiles, dir_.EvictWriter()));
    return Checked(Failure::kFiles, dir_.ClaimVerifiedTail());
  }
  // The same rules as any write: a full disk keeps the writer (and its buffer) open to be
  // retried; a failed sync poisons.
  IRONWAL_RETURN_IF_ERROR(SyncWriter());
  MarkDurable();
  IRONWAL_RETURN_IF_ERROR(Checked(Failure::kFiles, dir_.CloseWriter()));
  shared_->writers->Closed(this);
  return absl::OkStatus();
}

std::vector<WriterBudget::Member*> Stream::ReportBuffered() {
  return shared_->writers->Buffered(this, dir_.writer_detached() ? dir_.buffered_bytes() : 0);
}

absl::Status Stream::EvictWriter(std::vector<WriterBudget::Member*>* pressed) {
  MutexLock lock(&write_mu_);
  if (!dir_.writer_open() || dir_.writer_detached()) return absl::OkStatus();
  if (options_.sync_mode == SyncMode::kAsync) {
    // kAsync promised nothing for the buffered frames until the buffer fills, Flush, Sync,
    // a rotation or Close: they stay in memory with the writer, which gives up only its
    // descriptor, and count against the budget's buffer limit (the oldest are flushed
    // when it is exceeded). A failed close poisons, as any failure on the files does.
    const absl::Status detached = Checked(Failure::kFiles, dir_.DetachWriter());
    shared_->writers->Closed(this);
    *pressed = ReportBuffered();
    return detached;
  }
  // No sync: kStrict has synced everything it published; kBatchOnly and kAsync promised
  // nothing for the unsynced bytes until the next batch, Sync() or Close(), which sync
  // them through a reopened writer (closed_unsynced()). The buffer goes to the OS first,
  // under the same rules as any write (a full disk keeps the writer open).
  IRONWAL_RETURN_IF_ERROR(FlushWriter());
  IRONWAL_RETURN_IF_ERROR(Checked(Failure::kFiles, dir_.EvictWriter()));
  shared_->writers->Closed(this);
  return absl::OkStatus();
}

void Stream::CloseVictims(const std::vector<WriterBudget::Member*>& victims) {
  std::vector<WriterBudget::Member*> pressed;
  for (WriterBudget::Member* member : victims) {
    // A victim whose close fails is poisoned (its own next write reports it), except on a
    // full disk, where it stays open, counted again, until space is freed.
    std::vector<WriterBudget::Member*> more;
    const absl::Status closed = static_cast<Stream*>(member)->EvictWriter(&more);
    if (absl::IsResourceExhausted(closed)) shared_->writers->Reinstate(member);
    pressed.insert(pressed.end(), more.begin(), more.end());
  }
  FlushPressed(pressed);
}

void Stream::FlushPressed(const std::vector<WriterBudget::Member*>& pressed) {
  for (WriterBudget::Member* member : pressed) static_cast<Stream*>(member)->FlushEvicted();
}

void Stream::FlushEvicted() {
  {
    MutexLock lock(&write_mu_);
    if (!dir_.writer_detached()) {
      ReportBuffered();
    } else {
      // The outcome is this stream's: a failure poisons it (its next call reports it), a
      // full disk keeps the frames buffered for its next write to try again (and report).
      FlushWriter().IgnoreError();
    }
  }
  shared_->writers->Released(this);
}

absl::StatusOr<TruncateResult> Stream::Truncate(uint64_t keep_from_id) {
  MutexLock lock(&write_mu_);
  // Poisoned, the segments in memory may not be those on disk (a log.intent that failed
  // half way is finished at the next open, and may need a segment this would remove).
  IRONWAL_RETURN_IF_ERROR(CheckWritable("truncate"));
  const SegmentsBefore before = SnapshotSegments();
  IRONWAL_ASSIGN_OR_RETURN(const TruncateResult result, dir_.Truncate(keep_from_id));
  const uint64_t removed = EmitSegmentChanges(before);
  if (removed > 0) EmitTruncated(TruncationKind::kFront, removed);
  return result;
}

}  // namespace internal
}  // namespace ironwal
