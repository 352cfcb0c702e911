// Stream: identity and the write path (group commit, publication, write errors). The
// stream's files (creation, rotation, syncs, truncation) are in stream_files.cc.
#include "ironwal/stream/stream.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/base/test_point.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"

namespace ironwal {
namespace {

// The most bytes one leader writes for its group (a single larger write goes alone).
constexpr uint64_t kMaxGroupBytes = 4 << 20;
// How long a kStrict leader waits for the writers of earlier groups to queue again (a
// small part of one fdatasync).
constexpr uint64_t kLingerMicros = 100;
constexpr int kMaxLingerSpins = 20000;

}  // namespace

struct Stream::PendingWrite {
  absl::Span<const absl::string_view> entries;
  bool batch = false;
  std::optional<uint64_t> expected_next_id;  // AppendBatchIf's condition
  uint64_t bytes = 0;                        // upper bound of the frame's size
  absl::Status status;
  IdRange ids;
  bool done = false;
  CondVar* cv = nullptr;  // the waiting thread's own
};

Stream::Stream(const Shared* shared, std::string dir_name)
    : shared_(shared),
      options_(shared->options),
      env_(shared->options.env),
      dir_name_(std::move(dir_name)),
      dir_path_(JoinPath(shared->options.root, dir_name_)) {}

Stream::~Stream() { shared_->writers->Closed(this); }

std::unique_ptr<Stream> Stream::CreateNew(const Shared* shared, std::string dir_name,
                                          std::string key) {
  std::unique_ptr<Stream> stream(new Stream(shared, std::move(dir_name)));
  {
    MutexLock lock(&stream->key_mu_);
    stream->key_ = std::move(key);
    stream->key_known_ = true;
    stream->key_file_pending_ = true;
    stream->key_file_pending_relaxed_.store(true, std::memory_order_release);
  }
  {
    MutexLock lock(&stream->write_mu_);
    stream->ResetInMemory(0);
  }
  return stream;
}

std::string Stream::SegmentPath(uint64_t start_id) const {
  return JoinPath(dir_path_, SegmentFileName(start_id));
}

std::string Stream::OpDescription(absl::string_view op) const {
  return absl::StrCat(op, " ", dir_path_);
}

std::string Stream::key() const {
  MutexLock lock(&key_mu_);
  return key_known_ ? key_ : dir_name_;
}

bool Stream::key_known() const {
  MutexLock lock(&key_mu_);
  return key_known_;
}

absl::Status Stream::CheckKey(absl::string_view key, bool claim) {
  MutexLock lock(&key_mu_);
  if (key_known_) {
    if (key == key_) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("stream key '", absl::CEscape(key), "' maps to directory '", dir_name_,
                     "', which belongs to stream '", absl::CEscape(key_), "'"));
  }
  if (claim) {
    key_ = std::string(key);
    key_known_ = true;
    key_file_pending_ = true;
    key_file_pending_relaxed_.store(true, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status Stream::ValidateEntries(absl::Span<const absl::string_view> entries) const {
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
  if (block > format::kMaxPayloadSize) {
    return absl::InvalidArgumentError(absl::StrCat(OpDescription("append to"), ": batch of ", block,
                                                   " bytes exceeds the frame limit of ",
                                                   format::kMaxPayloadSize));
  }
  return absl::OkStatus();
}

absl::StatusOr<IdRange> Stream::Append(absl::Span<const absl::string_view> entries, bool batch,
                                       std::optional<uint64_t> expected_next_id) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(OpDescription("append to") + ": opened read-only");
  }
  IRONWAL_RETURN_IF_ERROR(ValidateEntries(entries));
  Touch();
  PendingWrite w;
  w.entries = entries;
  w.batch = batch;
  w.expected_next_id = expected_next_id;
  w.bytes = format::kFrameHeaderSize + EntryBlockSize(entries);

  // kAsync never syncs, so there is nothing to share: write under the lock directly.
  if (options_.sync_mode == SyncMode::kAsync) {
    bool opened_writer = false;
    {
      MutexLock lock(&write_mu_);
      std::vector<PendingWrite*>& one = async_group_;
      one.assign(1, &w);
      const absl::Status failed = WriteGroup(one, &opened_writer);
      if (!failed.ok() && w.status.ok() && w.ids.empty()) w.status = failed;
    }
    if (opened_writer) CloseVictims(shared_->writers->Opened(this));
    if (!w.status.ok()) return w.status;
    return w.ids;
  }

  // A thread waits on one write at a time, so one condition variable per thread will do.
  static thread_local CondVar cv;
  w.cv = &cv;
  queue_mu_.Lock();
  queue_.push_back(&w);
  while (!w.done && &w != queue_.front()) w.cv->Wait(&queue_mu_);
  if (w.done) {
    queue_mu_.Unlock();
    if (!w.status.ok()) return w.status;
    return w.ids;
  }
  // This thread leads: it writes the queued writes behind it together. Only the thread at
  // the front of the queue leads, so leader_group_ and group_target_ have one user at a
  // time.
  //
  // When the previous group had several writers, they are usually about to append again:
  // a kStrict leader gives them a moment (at most kLingerMicros by the Env's clock) to queue
  // behind it, so that they share its sync instead of alternating with groups of one.
  // The leader waits for as many writers as the largest recent group held; when they do
  // not all come in time, it expects only as many as came next time.
  if (options_.sync_mode == SyncMode::kStrict && group_target_ > 1) {
    // Bounded twice: by the clock, and by a count of yields in case the clock steps back.
    const uint64_t deadline = env_->NowMicros() + kLingerMicros;
    for (int spins = 0;
         queue_.size() < group_target_ && env_->NowMicros() < deadline && spins < kMaxLingerSpins;
         ++spins) {
      queue_mu_.Unlock();
      std::this_thread::yield();
      queue_mu_.Lock();
    }
    group_target_ = std::min(group_target_, queue_.size());
  }
  std::vector<PendingWrite*>& group = leader_group_;
  group.clear();
  uint64_t group_bytes = 0;
  for (PendingWrite* p : queue_) {
    if (!group.empty() && group_bytes + p->bytes > kMaxGroupBytes) break;
    group.push_back(p);
    group_bytes += p->bytes;
  }
  group_target_ = std::max(group_target_, group.size());
  queue_mu_.Unlock();

  bool opened_writer = false;
  {
    MutexLock lock(&write_mu_);
    const absl::Status failed = WriteGroup(group, &opened_writer);
    if (!failed.ok()) {
      for (PendingWrite* p : group) {
        if (p->status.ok() && p->ids.empty()) p->status = failed;
      }
    }
  }

  queue_mu_.Lock();
  for (PendingWrite* p : group) {
    IRONWAL_CHECK(queue_.front() == p);
    queue_.pop_front();
    if (p != &w) {
      p->done = true;
      p->cv->Signal();
    }
  }
  if (!queue_.empty()) queue_.front()->cv->Signal();
  queue_mu_.Unlock();

  if (opened_writer) CloseVictims(shared_->writers->Opened(this));
  if (!w.status.ok()) return w.status;
  return w.ids;
}

size_t Stream::queued_writes() {
  MutexLock lock(&queue_mu_);
  return queue_.size();
}

absl::Status Stream::WriteGroup(const std::vector<PendingWrite*>& group, bool* opened) {
  if (!poison_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(OpDescription("append to"),
                     ": stream is poisoned by an earlier failure (reopen the "
                     "Wal to recover): ",
                     poison_.ToString()));
  }
  // Creating the stream's files: a full disk is retried by the next write; any other
  // failure leaves names or data whose durability is in doubt, so it poisons.
  absl::Status prepared = EnsureCreatedOnDisk();
  if (prepared.ok()) prepared = EnsureWriterOpen(opened);
  if (!prepared.ok()) {
    return absl::IsResourceExhausted(prepared) ? prepared : Poison(std::move(prepared));
  }

  // kAsync: hand a full buffer to the OS before this group publishes anything, so a
  // failure here fails this group rather than frames already acknowledged.
  if (options_.sync_mode == SyncMode::kAsync &&
      writer_->buffered_bytes() >= options_.write_buffer_size) {
    const absl::Status flushed = writer_->Flush();
    flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
    if (!flushed.ok()) return OnWriteError(flushed);
  }

  std::vector<FrameLocation>& pending = pending_frames_;
  std::vector<PendingWrite*>& pending_writers = pending_writers_;
  pending.clear();
  pending_writers.clear();
  bool need_sync = options_.sync_mode == SyncMode::kStrict;
  for (PendingWrite* p : group) {
    if (p->expected_next_id.has_value() && *p->expected_next_id != write_next_id_) {
      p->status = absl::FailedPreconditionError(
          absl::StrCat(OpDescription("conditional append to"), ": expected next id ",
                       *p->expected_next_id, ", but the next id is ", write_next_id_));
      continue;
    }
    const uint64_t k = p->entries.size();
    const uint64_t count = write_next_id_ - writer_->start_id();
    const bool over_size = writer_->size() + p->bytes > options_.max_segment_size;
    const bool over_count =
        count >= options_.max_entries_per_segment || k > options_.max_entries_per_segment - count;
    if (writer_->size() > 0 && (over_size || over_count)) {
      absl::Status finished = FinishFrames(&pending, /*sync=*/true);
      if (!finished.ok()) {
        for (PendingWrite* q : pending_writers) q->ids = IdRange();
        return finished;
      }
      pending_writers.clear();
      IRONWAL_RETURN_IF_ERROR(Rotate());
    }
    absl::StatusOr<FrameLocation> where =
        writer_->AppendFrame(write_next_id_, p->entries, options_.encode);
    if (!where.ok()) {
      p->status = where.status();
      continue;
    }
    p->ids = IdRange{write_next_id_, write_next_id_ + k};
    write_next_id_ += k;
    pending.push_back(*where);
    pending_writers.push_back(p);
    if (p->batch && options_.sync_mode == SyncMode::kBatchOnly) need_sync = true;
  }

  if (options_.sync_mode == SyncMode::kAsync) {
    PublishFrames(&pending);
    return absl::OkStatus();
  }
  const absl::Status finished = FinishFrames(&pending, need_sync);
  if (!finished.ok()) {
    for (PendingWrite* q : pending_writers) q->ids = IdRange();
    return finished;
  }
  return absl::OkStatus();
}

absl::Status Stream::FinishFrames(std::vector<FrameLocation>* pending, bool sync) {
  if (writer_ == nullptr) return absl::OkStatus();
  const absl::Status written = writer_->Flush();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  if (!written.ok()) return OnWriteError(written);
  if (sync) {
    const absl::Status synced = writer_->Sync();
    if (!synced.ok()) return OnSyncError(synced);
  }
  PublishFrames(pending);
  if (sync) MaybeAdvanceFrontier();
  return absl::OkStatus();
}

void Stream::PublishFrames(std::vector<FrameLocation>* pending) {
  if (pending->empty()) return;
  for (const FrameLocation& f : *pending) {
    write_index_->Publish(f.start_id, f.offset, f.entry_count, f.size);
  }
  IRONWAL_TEST_POINT("stream.publish.indexed");
  next_id_.store(pending->back().end_id(), std::memory_order_release);
  pending->clear();
}

absl::Status Stream::OnWriteError(absl::Status error) {
  const uint64_t published_end = write_index_->end_offset();
  write_next_id_ = next_id();
  if (writer_ == nullptr) return Poison(std::move(error));
  // Cut the unpublished frames off again, from the buffer and the file: nothing a caller
  // was not told about may stay for a later frame to follow. Published frames still in the
  // buffer (kAsync) stay there.
  const absl::Status rolled_back =
      writer_->Rollback(std::max(published_end, writer_->synced_size()));
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  // A full disk is survivable: a failed write(2), unlike a failed fsync, leaves nothing in
  // doubt, so the buffered frames are written later and the stream works again once space
  // is freed. Anything else poisons it.
  if (rolled_back.ok() && absl::IsResourceExhausted(error)) return error;
  return Poison(std::move(error));
}

absl::Status Stream::OnSyncError(absl::Status error) {
  // After a failed fsync the unsynced data may be gone from the disk while still showing
  // in the page cache: never retry and trust it (see MakeTailDurable for the reopen).
  const uint64_t published_end = write_index_->end_offset();
  write_next_id_ = next_id();
  if (writer_ != nullptr) {
    writer_->Rollback(std::max(published_end, writer_->synced_size())).IgnoreError();
  }
  return Poison(std::move(error));
}

absl::Status Stream::Poison(absl::Status error) {
  if (poison_.ok()) poison_ = error;
  if (writer_ != nullptr) {
    // Close without flushing: after a failed write or sync nothing more may be written.
    active_size_ = writer_->flushed_size();
    active_synced_ = writer_->synced_size();
    writer_.reset();
    shared_->writers->Closed(this);
  }
  return error;
}

}  // namespace ironwal
