// StreamDir: identity, creation, the writer, rotation, the durable frontier and
// truncation. Recovery is in stream_dir_recovery.cc.
#include "ironwal/stream/stream_dir.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/base/test_point.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/frame_index_file.h"

namespace ironwal {
namespace internal {
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

StreamDir::StreamDir(const StreamOptions* options, std::string dir_name, ReaderCache* readers,
                     const void* cache_owner)
    : options_(*options),
      env_(options->env),
      dir_name_(std::move(dir_name)),
      dir_path_(JoinPath(options->root, dir_name_)),
      readers_(readers),
      cache_owner_(cache_owner) {}

void StreamDir::InitNew(std::string key) {
  {
    MutexLock lock(&key_mu_);
    key_ = std::move(key);
    key_known_ = true;
    key_file_pending_.store(true, std::memory_order_release);
  }
  auto index = std::make_shared<OffsetIndex>(0);
  SetSegments({0}, index);
  write_index_ = index;
}

void StreamDir::SetSegments(std::vector<uint64_t> segments,
                            std::shared_ptr<OffsetIndex> active_index) {
  WriterMutexLock lock(&segments_mu_);
  segments_ = std::move(segments);
  active_index_ = std::move(active_index);
}

std::string StreamDir::SegmentPath(uint64_t start_id) const {
  return JoinPath(dir_path_, SegmentFileName(start_id));
}

std::string StreamDir::key() const {
  MutexLock lock(&key_mu_);
  return key_known_ ? key_ : dir_name_;
}

std::string StreamDir::key(bool* known) const {
  MutexLock lock(&key_mu_);
  *known = key_known_;
  return key_known_ ? key_ : dir_name_;
}

bool StreamDir::key_known() const {
  MutexLock lock(&key_mu_);
  return key_known_;
}

absl::Status StreamDir::CheckKey(absl::string_view key, bool claim) {
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
    key_file_pending_.store(true, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status StreamDir::EnsureCreatedOnDisk() {
  // Every append's case: on disk, no key to record (no lock).
  if (on_disk_ && !key_file_pending_.load(std::memory_order_acquire)) return absl::OkStatus();
  bool write_key = false;
  std::string key;
  {
    MutexLock lock(&key_mu_);
    write_key = key_file_pending_.load(std::memory_order_relaxed);
    if (write_key) key = key_;
  }
  if (on_disk_ && !write_key) return absl::OkStatus();
  if (!on_disk_) {
    absl::Status created = env_->CreateDir(dir_path_);
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(options_.root));
  }
  if (write_key) {
    IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
        env_, JoinPath(dir_path_, format::kStreamKeyFileName), EncodeStreamKey(key)));
    MutexLock lock(&key_mu_);
    key_file_pending_.store(false, std::memory_order_release);
  }
  if (!on_disk_) {
    uint64_t first;
    const std::vector<uint64_t> segments = Segments(&first);
    IRONWAL_RETURN_IF_ERROR(RewriteSegmentIndex(env_, dir_path_, segments));
    // From the start the frontier is known (at the beginning of the first segment), so a
    // damaged frame in this stream is never mistaken for one of ironwal 0.6's.
    IRONWAL_RETURN_IF_ERROR(WriteFrontier(segments.back(), 0));
    frontier_written_ = 0;
    on_disk_ = true;
    deleted_.store(false, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status StreamDir::OpenWriter(bool* opened, bool park) {
  if (writer_ != nullptr) return absl::OkStatus();
  const uint64_t start = write_index_->segment_start_id();
  const std::string path = SegmentPath(start);
  parked_ = false;
  if (park && active_file_exists_) {
    // Recovery verified the file's size; the first write to it checks it again.
    writer_ = SegmentWriter::ReopenDetached(env_, path, start, closed_.size, closed_.synced);
    writer_->set_allocate_ahead(AllocateAheadBytes());
    parked_ = true;
    write_next_id_ = next_id();
    flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
    return absl::OkStatus();
  }
  if (!active_file_exists_) {
    // The writer is kept only once the new file's name is durable.
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> created,
                             SegmentWriter::Create(env_, path, start));
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
    writer_ = std::move(created);
    active_file_exists_ = true;
  } else {
    IRONWAL_ASSIGN_OR_RETURN(
        writer_, SegmentWriter::Reopen(env_, path, start, closed_.size, closed_.synced));
  }
  writer_->set_allocate_ahead(AllocateAheadBytes());
  write_next_id_ = next_id();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  *opened = true;
  return absl::OkStatus();
}

uint64_t StreamDir::AllocateAheadBytes() const {
  const bool on = options_.sync_mode == SyncMode::kAsync && options_.preallocate_bytes == 0;
  return on ? options_.allocate_ahead_bytes : 0;
}

absl::Status StreamDir::AttachParkedWriter(bool* opened) {
  if (!writer_parked()) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(writer_->Attach());
  parked_ = false;
  *opened = true;
  return absl::OkStatus();
}

// What recovery found may have been named but never made durable by an earlier process
// (its directory sync failed before it stopped). Before any sync makes data durable on
// top of it (a power loss keeps only what was synced, and only that is promised to
// survive one), the names are synced, once per session. Not at the writer's open: in
// kAsync and kBatchOnly, a stream's first append after an open promises no durability,
// and would pay two directory syncs for every stream the session writes to.
absl::Status StreamDir::SyncNames() {
  if (names_synced_) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(env_->SyncDir(options_.root));
  IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
  names_synced_ = true;
  return absl::OkStatus();
}

bool StreamDir::NeedsRotation(uint64_t bytes, uint64_t entries) const {
  const uint64_t count = write_next_id_ - writer_->start_id();
  const bool over_size = writer_->size() + bytes > options_.max_segment_size;
  const bool over_count = count >= options_.max_entries_per_segment ||
                          entries > options_.max_entries_per_segment - count;
  return writer_->size() > 0 && (over_size || over_count);
}

absl::StatusOr<FrameLocation> StreamDir::Append(absl::Span<const absl::string_view> entries) {
  absl::StatusOr<FrameLocation> where =
      writer_->AppendFrame(write_next_id_, entries, options_.encode);
  if (where.ok()) write_next_id_ += entries.size();
  return where;
}

absl::Status StreamDir::Flush() {
  if (writer_ == nullptr) return absl::OkStatus();
  const absl::Status flushed = writer_->Flush();
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  return flushed;
}

absl::Status StreamDir::Sync() {
  IRONWAL_RETURN_IF_ERROR(SyncNames());
  const absl::Status synced = writer_->Sync();
  // SegmentWriter::Sync may have written the buffer itself (SyncWritesDurably).
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  return synced;
}

bool StreamDir::SyncWritesDurably() const {
  return writer_ != nullptr && writer_->SyncWritesDurably();
}

void StreamDir::Publish(absl::Span<const FrameLocation> frames) {
  if (frames.empty()) return;
  for (const FrameLocation& f : frames) {
    write_index_->Publish(f.start_id, f.offset, f.entry_count, f.size);
  }
  IRONWAL_TEST_POINT("stream.publish.indexed");
  next_id_.store(frames.back().end_id(), std::memory_order_release);
}

absl::Status StreamDir::Rotate() {
  const uint64_t new_start = write_next_id_;
  IRONWAL_CHECK(writer_ != nullptr && writer_->size() > 0 && new_start > writer_->start_id())
      << dir_path_ << ": rotation to " << new_start;
  const uint64_t sealed_start = writer_->start_id();
  const uint64_t sealed_size = writer_->size();
  const bool detached = writer_->detached();
  // 1. The full segment is durable before anything names the next one.
  IRONWAL_RETURN_IF_ERROR(SyncNames());
  IRONWAL_RETURN_IF_ERROR(writer_->Close());
  writer_.reset();
  // Its frames for later processes (frame_index_file.h), synced; the directory sync of
  // step 2 makes the name durable. A failure only makes the first read of the segment in
  // a process walk it.
  WriteFrameIndex(env_, dir_path_, *write_index_).IgnoreError();
  // 2. The next segment exists, durably named.
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> created,
                           SegmentWriter::Create(env_, SegmentPath(new_start), new_start));
  created->set_allocate_ahead(AllocateAheadBytes());
  IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
  // 3. segments.idx lists it; 4. head.state names it (for ironwal 0.6).
  IRONWAL_RETURN_IF_ERROR(AppendSegmentIndex(env_, dir_path_, new_start));
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(dir_path_, format::kHeadStateFileName),
                                              EncodeHeadState(new_start)));
  auto index = std::make_shared<OffsetIndex>(new_start);
  {
    WriterMutexLock lock(&segments_mu_);
    segments_.push_back(new_start);
    active_index_ = index;
  }
  // The sealed segment's index is complete: its first read need not walk the file.
  readers_->Shelve(cache_owner_, sealed_start, std::move(write_index_));
  write_index_ = index;
  writer_ = std::move(created);
  active_file_exists_ = true;
  flushed_offset_.store(0, std::memory_order_release);
  // A detached writer holds no descriptor in the budget: neither may the next one. (A
  // failure only costs the descriptor's slot until the writer closes.)
  if (detached) writer_->Detach().IgnoreError();
  // 5. The frontier moves to the new segment (a stale one is merely conservative), and
  // sealed.sizes records the sealed one (a missing entry only skips a check at open).
  if (WriteFrontier(new_start, 0).ok()) frontier_written_ = 0;
  RecordSealedSize(env_, dir_path_, sealed_start, sealed_size, first_id()).IgnoreError();
  return absl::OkStatus();
}

void StreamDir::MaybeAdvanceFrontier() {
  if (writer_ == nullptr || writer_->synced_size() < frontier_written_ + kFrontierStep) return;
  if (WriteFrontier(writer_->start_id(), writer_->synced_size()).ok()) {
    frontier_written_ = writer_->synced_size();
  }
}

absl::Status StreamDir::MaybeExtendZeroed() {
  const uint64_t ahead = options_.preallocate_bytes;
  if (ahead == 0 || writer_ == nullptr) return absl::OkStatus();
  const uint64_t size = writer_->size();
  if (writer_->zeroed_end() >= size + ahead / 2) return absl::OkStatus();
  const uint64_t end = std::min(size + ahead, std::max(options_.max_segment_size, size));
  if (end <= writer_->zeroed_end()) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(SyncNames());
  return writer_->ExtendZeroed(end);
}

absl::Status StreamDir::WriteFrontier(uint64_t segment_start_id, uint64_t offset) {
  DurablePos pos;
  pos.segment_start_id = segment_start_id;
  pos.offset = offset;
  return WriteFileAtomically(env_, JoinPath(dir_path_, format::kDurablePosFileName),
                             EncodeDurablePos(pos));
}

bool StreamDir::DropUnpublished() {
  write_next_id_ = next_id();
  if (writer_ == nullptr) return false;
  // Nothing a caller was not told about may stay for a later frame to follow. Published
  // frames still in the buffer (kAsync) stay there.
  const uint64_t published_end = write_index_->end_offset();
  const absl::Status rolled_back =
      writer_->Rollback(std::max(published_end, writer_->synced_size()));
  flushed_offset_.store(writer_->flushed_size(), std::memory_order_release);
  return rolled_back.ok();
}

bool StreamDir::AbandonWriter() {
  if (writer_ == nullptr) return false;
  closed_.size = writer_->flushed_size();
  closed_.synced = writer_->synced_size();
  writer_.reset();
  return true;
}

absl::Status StreamDir::CloseWriter() {
  IRONWAL_RETURN_IF_ERROR(SyncNames());
  IRONWAL_RETURN_IF_ERROR(writer_->Close());
  if (writer_->synced_size() > frontier_written_ &&
      WriteFrontier(writer_->start_id(), writer_->synced_size()).ok()) {
    frontier_written_ = writer_->synced_size();
  }
  closed_.size = writer_->flushed_size();
  closed_.synced = writer_->synced_size();
  writer_.reset();
  return absl::OkStatus();
}

absl::Status StreamDir::EvictWriter() {
  IRONWAL_RETURN_IF_ERROR(writer_->CloseUnsynced());
  closed_.size = writer_->flushed_size();
  closed_.synced = writer_->synced_size();
  writer_.reset();
  return absl::OkStatus();
}

absl::Status StreamDir::DetachWriter() { return writer_->Detach(); }

absl::Status StreamDir::RecordClosedFrontier() {
  if (writer_ != nullptr || closed_.synced <= frontier_written_) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(WriteFrontier(write_index_->segment_start_id(), closed_.synced));
  frontier_written_ = closed_.synced;
  return absl::OkStatus();
}

absl::Status StreamDir::ClaimVerifiedTail() {
  if (writer_ != nullptr || closed_.synced <= frontier_written_ || closed_.synced != closed_.size) {
    return absl::OkStatus();
  }
  const uint64_t start = write_index_->segment_start_id();
  RandomAccessFileOptions read;
  read.use_mmap = false;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env_->NewRandomAccessFile(SegmentPath(start), read));
  FrameCursor cursor(file.get(), frontier_written_, closed_.synced, options_.read_buffer_size);
  for (;;) {
    IRONWAL_ASSIGN_OR_RETURN(const FrameCursor::Item item, cursor.Next());
    if (item.kind == FrameCursor::Kind::kEnd) break;
    const std::optional<FrameLocation> published = write_index_->FrameAt(item.offset);
    if (item.kind != FrameCursor::Kind::kFrame || !published.has_value() ||
        published->start_id != item.header.start_id ||
        published->entry_count != item.header.entry_count ||
        published->size != item.header.frame_size() ||
        !VerifyFramePayload(item.header, item.payload).ok()) {
      return absl::OkStatus();  // Not what this process wrote: the next open judges it.
    }
  }
  IRONWAL_RETURN_IF_ERROR(WriteFrontier(start, closed_.synced));
  frontier_written_ = closed_.synced;
  return absl::OkStatus();
}

bool StreamDir::Buffered(uint64_t segment_start_id, uint64_t end_offset) const {
  // A closed writer, or one that moved on to a later segment, has written everything.
  return writer_ != nullptr && writer_->start_id() == segment_start_id &&
         end_offset > writer_->flushed_size();
}

uint64_t StreamDir::active_bytes() const {
  return writer_ != nullptr ? writer_->size() : closed_.size;
}

std::shared_ptr<const OffsetIndex> StreamDir::active_index() const {
  ReaderMutexLock lock(&segments_mu_);
  return active_index_;
}

std::optional<StreamDir::Placement> StreamDir::Place(uint64_t id) const {
  ReaderMutexLock lock(&segments_mu_);
  const int64_t i = FindSegment(segments_, id);
  if (i < 0) return std::nullopt;
  const size_t n = static_cast<size_t>(i);
  Placement p;
  p.segment_start = segments_[n];
  p.active = n + 1 == segments_.size();
  if (!p.active) p.end_id = segments_[n + 1];
  p.active_index = active_index_;
  return p;
}

bool StreamDir::PlaceFrame(uint64_t id, uint64_t* segment_start, bool* active,
                           std::optional<FrameLocation>* frame) const {
  ReaderMutexLock lock(&segments_mu_);
  const int64_t i = FindSegment(segments_, id);
  if (i < 0) return false;
  const size_t n = static_cast<size_t>(i);
  *segment_start = segments_[n];
  *active = n + 1 == segments_.size();
  if (*active && active_index_ != nullptr) *frame = active_index_->Find(id);
  return true;
}

std::vector<uint64_t> StreamDir::Segments(uint64_t* first_id) const {
  ReaderMutexLock lock(&segments_mu_);
  *first_id = this->first_id();  // moves with the list (see Truncate)
  return segments_;
}

absl::StatusOr<TruncateResult> StreamDir::Truncate(uint64_t keep_from_id) {
  uint64_t first;
  const std::vector<uint64_t> segments = Segments(&first);
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
    // Together, under the lock Place reads the list with: a reader that finds the new
    // list also finds the new first ID (no "ID n is below the first retained ID n").
    WriterMutexLock write(&segments_mu_);
    // An exact trim (first.id) may already have moved the first ID past the segment.
    first_id_.store(std::max(kept.front(), first_id()), std::memory_order_release);
    segments_ = kept;
  }
  IRONWAL_TEST_POINT("stream.truncate.listed");
  absl::Status removed = absl::OkStatus();
  for (size_t i = 0; i < n; ++i) {
    readers_->Erase(cache_owner_, segments[i]);
    absl::Status r = RemoveFileIfPresent(env_, SegmentPath(segments[i]));
    if (!r.ok() && removed.ok()) removed = r;
    // Best effort: a frame index without its segment is never read (a later segment of
    // that name is sealed with a new one, and a reset removes it).
    RemoveFrameIndex(env_, dir_path_, segments[i]).IgnoreError();
  }
  if (removed.ok()) removed = env_->SyncDir(dir_path_);
  IRONWAL_RETURN_IF_ERROR(removed);
  // Not synced: an intent that outlives a crash names the index's first ID, and only
  // confirms what is already done.
  IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env_, intent));
  result.segments_removed = n;
  result.first_id = first_id();
  return result;
}

}  // namespace internal
}  // namespace ironwal
