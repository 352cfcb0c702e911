// Stream: the stream's files. Creating the directory and the first segment, opening the
// writer, rotation, the durable frontier, flushes and syncs, closing the writer, and
// truncation. The write path (group commit) is in stream.cc.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/base/test_point.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/stream.h"

namespace ironwal {
namespace {

// How far the durable frontier may lag the synced end before durable.pos is rewritten
// (FORMAT.md, "durable.pos"). Each rewrite costs two fsyncs and a directory sync, so a
// smaller step taxes every large synced batch (at 256 KiB, a stream of 16 KiB kStrict
// batches paid for 3 more fsyncs every 16 batches); at 4 MiB it is about 1%. A lag costs
// no data: a reopen writes the verified bytes past the frontier again in place, at most
// this many per stream. It does bound how much synced data damage past the frontier,
// read as a torn tail, can cost (kept aside in a quarantine file and reported).
constexpr uint64_t kFrontierStep = 4 << 20;

}  // namespace
absl::Status Stream::EnsureCreatedOnDisk() {
  if (on_disk_ && !key_file_pending_relaxed_.load(std::memory_order_acquire)) {
    return absl::OkStatus();
  }
  bool write_key = false;
  std::string key;
  {
    MutexLock lock(&key_mu_);
    write_key = key_file_pending_;
    key = key_;
  }
  if (!on_disk_) {
    absl::Status created = env_->CreateDir(dir_path_);
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(options_.root));
  }
  if (write_key) {
    IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
        env_, JoinPath(dir_path_, format::kStreamKeyFileName), EncodeStreamKey(key)));
    MutexLock lock(&key_mu_);
    key_file_pending_ = false;
    key_file_pending_relaxed_.store(false, std::memory_order_release);
  }
  if (!on_disk_) {
    std::vector<uint64_t> segments;
    {
      ReaderMutexLock lock(&segments_mu_);
      segments = segments_;
    }
    IRONWAL_RETURN_IF_ERROR(RewriteSegmentIndex(env_, dir_path_, segments));
    // From the start the frontier is known (at the beginning of the first segment), so a
    // damaged frame in this stream is never mistaken for one of ironwal 0.6's.
    IRONWAL_RETURN_IF_ERROR(WriteFrontier(segments.back(), 0));
    frontier_written_ = 0;
    on_disk_ = true;
  }
  return absl::OkStatus();
}

absl::Status Stream::EnsureWriterOpen(bool* opened) {
  if (writer_ != nullptr) return absl::OkStatus();
  const uint64_t start = write_index_->segment_start_id();
  const std::string path = SegmentPath(start);
  if (!active_file_exists_) {
    // The writer is kept only once the new file's name is durable.
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> created,
                             SegmentWriter::Create(env_, path, start));
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
    writer_ = std::move(created);
    active_file_exists_ = true;
  } else {
    absl::StatusOr<std::unique_ptr<SegmentWriter>> reopened =
        SegmentWriter::Reopen(env_, path, start, active_size_, active_synced_);
    if (absl::IsFailedPrecondition(reopened.status())) return Poison(reopened.status());
    IRONWAL_RETURN_IF_ERROR(reopened.status());
    writer_ = *std::move(reopened);
  }
  write_next_id_ = next_id();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  *opened = true;
  // What recovery found may have been named but never made durable by an earlier process
  // (its directory sync failed before it stopped). Before anything is acknowledged on top
  // of it, the names are synced once per session.
  if (!names_synced_) {
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(options_.root));
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
    names_synced_ = true;
  }
  return absl::OkStatus();
}

absl::Status Stream::Rotate() {
  const uint64_t new_start = write_next_id_;
  IRONWAL_CHECK(writer_ != nullptr && writer_->size() > 0 && new_start > writer_->start_id())
      << dir_path_ << ": rotation to " << new_start;
  const uint64_t sealed_start = writer_->start_id();
  const uint64_t sealed_size = writer_->size();
  // 1. The full segment is durable before anything names the next one.
  absl::Status closed = writer_->Close();
  if (!closed.ok()) return Poison(closed);
  writer_.reset();
  // 2. The next segment exists, durably named.
  absl::StatusOr<std::unique_ptr<SegmentWriter>> created =
      SegmentWriter::Create(env_, SegmentPath(new_start), new_start);
  if (!created.ok()) return Poison(created.status());
  absl::Status step = env_->SyncDir(dir_path_);
  // 3. segments.idx lists it; 4. head.state names it (for ironwal 0.6).
  if (step.ok()) step = AppendSegmentIndex(env_, dir_path_, new_start);
  if (step.ok()) {
    step = WriteFileAtomically(env_, JoinPath(dir_path_, format::kHeadStateFileName),
                               EncodeHeadState(new_start));
  }
  if (!step.ok()) return Poison(step);
  auto index = std::make_shared<OffsetIndex>(new_start);
  {
    WriterMutexLock lock(&segments_mu_);
    segments_.push_back(new_start);
    active_index_ = index;
  }
  write_index_ = index;
  writer_ = *std::move(created);
  active_file_exists_ = true;
  flushed_offset_.store(0, std::memory_order_release);
  // 5. The frontier moves to the new segment (a stale one is merely conservative), and
  // sealed.sizes records the sealed one (a missing entry only skips a check at open).
  if (WriteFrontier(new_start, 0).ok()) frontier_written_ = 0;
  RecordSealedSize(env_, dir_path_, sealed_start, sealed_size, first_id()).IgnoreError();
  return absl::OkStatus();
}

void Stream::MaybeAdvanceFrontier() {
  if (writer_ == nullptr || writer_->synced_size() < frontier_written_ + kFrontierStep) return;
  if (WriteFrontier(writer_->start_id(), writer_->synced_size()).ok()) {
    frontier_written_ = writer_->synced_size();
  }
}

absl::Status Stream::WriteFrontier(uint64_t segment_start_id, uint64_t offset) {
  DurablePos pos;
  pos.segment_start_id = segment_start_id;
  pos.offset = offset;
  return WriteFileAtomically(env_, JoinPath(dir_path_, format::kDurablePosFileName),
                             EncodeDurablePos(pos));
}

absl::Status Stream::Flush() {
  MutexLock lock(&write_mu_);
  if (writer_ == nullptr) return absl::OkStatus();
  const absl::Status flushed = writer_->Flush();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  if (!flushed.ok()) return OnWriteError(flushed);
  return absl::OkStatus();
}

absl::Status Stream::Sync() {
  MutexLock lock(&write_mu_);
  return SyncLocked();
}

absl::Status Stream::SyncLocked() {
  if (options_.read_only) return absl::OkStatus();
  if (!poison_.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        OpDescription("sync"), ": stream is poisoned by an earlier failure: ", poison_.ToString()));
  }
  if (writer_ == nullptr) {
    if (active_synced_ >= active_size_) return absl::OkStatus();
    bool opened = false;
    absl::Status reopened = EnsureWriterOpen(&opened);
    if (!reopened.ok()) {
      return absl::IsResourceExhausted(reopened) ? reopened : Poison(std::move(reopened));
    }
  }
  const absl::Status flushed = writer_->Flush();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  if (!flushed.ok()) return OnWriteError(flushed);
  const absl::Status synced = writer_->Sync();
  if (!synced.ok()) return OnSyncError(synced);
  MaybeAdvanceFrontier();
  return absl::OkStatus();
}

absl::Status Stream::CloseWriter() {
  MutexLock lock(&write_mu_);
  return CloseWriterLocked();
}

absl::Status Stream::CloseWriterLocked() {
  if (writer_ == nullptr) return absl::OkStatus();
  // The same rules as any write: a full disk keeps the writer (and its buffer) open to be
  // retried; a failed sync poisons.
  const absl::Status flushed = writer_->Flush();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  if (!flushed.ok()) return OnWriteError(flushed);
  const absl::Status synced = writer_->Sync();
  if (!synced.ok()) return OnSyncError(synced);
  const absl::Status closed = writer_->Close();
  if (!closed.ok()) return Poison(closed);
  if (writer_->synced_size() > frontier_written_ &&
      WriteFrontier(writer_->start_id(), writer_->synced_size()).ok()) {
    frontier_written_ = writer_->synced_size();
  }
  active_size_ = writer_->flushed_size();
  active_synced_ = writer_->synced_size();
  writer_.reset();
  shared_->writers->Closed(this);
  return absl::OkStatus();
}

void Stream::CloseVictims(const std::vector<WriterBudget::Member*>& victims) {
  for (WriterBudget::Member* member : victims) {
    // A victim whose close fails is poisoned (its own next write reports it), except on a
    // full disk, where it stays open, counted again, until space is freed.
    const absl::Status closed = static_cast<Stream*>(member)->CloseWriter();
    if (absl::IsResourceExhausted(closed)) shared_->writers->Reinstate(member);
  }
}

absl::StatusOr<TruncateResult> Stream::Truncate(uint64_t keep_from_id) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(OpDescription("truncate") + ": opened read-only");
  }
  MutexLock lock(&write_mu_);
  std::vector<uint64_t> segments;
  {
    ReaderMutexLock read(&segments_mu_);
    segments = segments_;
  }
  // Drop segments[0, n): each ends (where the next begins) at or below keep_from_id. The
  // active segment is never dropped.
  size_t n = 0;
  while (n + 1 < segments.size() && segments[n + 1] <= keep_from_id) ++n;
  TruncateResult result;
  if (n == 0) {
    result.first_id = first_id();
    return result;
  }
  const std::vector<uint64_t> kept(segments.begin() + static_cast<std::ptrdiff_t>(n),
                                   segments.end());
  // The intent first, then the index: once the index no longer lists them, the files are
  // leftovers that the next open removes (the intent confirms it), so a crash after this
  // point cannot bring the IDs back.
  const std::string intent = JoinPath(dir_path_, format::kTruncateIntentFileName);
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env_, intent, EncodeTruncateIntent(kept.front())));
  IRONWAL_RETURN_IF_ERROR(RewriteSegmentIndex(env_, dir_path_, kept));
  {
    // Together, under the lock Locate reads the list with: a reader that finds the new
    // list also finds the new first ID (no "ID n is below the first retained ID n").
    WriterMutexLock write(&segments_mu_);
    first_id_.store(kept.front(), std::memory_order_release);
    segments_ = kept;
  }
  IRONWAL_TEST_POINT("stream.truncate.listed");
  absl::Status removed = absl::OkStatus();
  for (size_t i = 0; i < n; ++i) {
    shared_->readers->Erase(this, segments[i]);
    absl::Status r = env_->RemoveFile(SegmentPath(segments[i]));
    if (!r.ok() && !absl::IsNotFound(r) && removed.ok()) removed = r;
  }
  if (removed.ok()) removed = env_->SyncDir(dir_path_);
  IRONWAL_RETURN_IF_ERROR(removed);
  // Not synced: an intent that outlives a crash names the index's first ID, and only
  // confirms what is already done.
  removed = env_->RemoveFile(intent);
  if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
  result.segments_removed = n;
  result.first_id = kept.front();
  return result;
}

}  // namespace ironwal
