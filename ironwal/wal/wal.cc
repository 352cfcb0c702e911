#include "ironwal/wal/wal.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/wal/frame_cache.h"
#include "ironwal/wal/iterator_impl.h"
#include "ironwal/wal/root_lock.h"
#include "ironwal/wal/wal_impl.h"

namespace ironwal {

namespace format = internal::format;
using internal::DecodedPayload;
using internal::FinishStreamDelete;
using internal::FrameCache;
using internal::FrameLocation;
using internal::IsDeletedStream;
using internal::LockWalRoot;
using internal::MutexLock;
using internal::ReaderMutexLock;
using internal::SegmentReader;
using internal::StatsRecorder;
using internal::Stream;
using internal::StreamDirName;
using internal::StreamIterator;
using internal::StreamOptions;
using internal::VerifiedFrame;
using internal::WriterMutexLock;

namespace {

absl::Status ValidateOptions(const WalOptions& o) {
  const auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("open: invalid WalOptions: ", what));
  };
  if (o.env == nullptr) return bad("env is null");
  if (o.root.empty()) return bad("root is empty");
  if (o.max_segment_size == 0) return bad("max_segment_size is 0");
  if (o.max_entries_per_segment == 0) return bad("max_entries_per_segment is 0");
  if (o.max_open_segments == 0) return bad("max_open_segments is 0 (must be >= 1)");
  if (o.max_open_read_segments == 0) return bad("max_open_read_segments is 0 (must be >= 1)");
  if (o.read_buffer_size == 0) return bad("read_buffer_size is 0");
  if (o.max_entry_size > format::kMaxEntrySize) {
    return bad(absl::StrCat("max_entry_size ", o.max_entry_size, " exceeds the format's ",
                            format::kMaxEntrySize));
  }
  return absl::OkStatus();
}

static_assert(kMaxEntrySize == format::kMaxEntrySize, "types.h's kMaxEntrySize is the format's");

// The Statistics field that holds every append's latency under `mode`.
HistogramSnapshot Statistics::*AppendMicrosOf(SyncMode mode) {
  switch (mode) {
    case SyncMode::kStrict:
      return &Statistics::append_strict_micros;
    case SyncMode::kBatchOnly:
      return &Statistics::append_batch_only_micros;
    case SyncMode::kAsync:
      return &Statistics::append_async_micros;
  }
  return &Statistics::append_strict_micros;
}

StreamOptions ToStreamOptions(const WalOptions& o) {
  StreamOptions s;
  s.env = o.env;
  s.root = o.root;
  s.sync_mode = o.sync_mode;
  s.max_segment_size = o.max_segment_size;
  s.max_entries_per_segment = o.max_entries_per_segment;
  s.max_entry_size = o.max_entry_size;
  s.write_buffer_size = o.write_buffer_size;
  s.read_buffer_size = o.read_buffer_size;
  s.use_mmap = o.read_strategy == ReadStrategy::kMmap;
  s.on_corruption = o.on_corruption;
  s.encode.lz4 = o.compression == Compression::kLz4;
  s.encode.min_compression_size = o.min_compression_size;
  s.read_only = o.read_only;
  s.preallocate_bytes = o.preallocate_bytes;
  s.allocate_ahead_bytes = o.allocate_ahead_bytes;
  return s;
}

}  // namespace

namespace {

// The stream a thread used last, per Wal: appends and reads usually repeat a key, and this
// skips hashing it and taking streams_mu_. Wal ids are never reused, so an entry of a
// destroyed Wal can never match again. The key is kept inline (keys longer than
// kMaxKey are not remembered), so that the struct is trivially constructible and
// destructible: a use of the thread_local then calls no initialisation wrapper.
struct LastStream {
  static constexpr size_t kMaxKey = 104;
  uint64_t wal_id;
  Stream* stream;
  size_t key_size;
  char key[kMaxKey];

  bool Matches(uint64_t wal, absl::string_view k) const {
    return wal_id == wal && key_size == k.size() && std::memcmp(key, k.data(), k.size()) == 0;
  }
  void Remember(uint64_t wal, absl::string_view k, Stream* s) {
    if (k.size() > kMaxKey) return;
    wal_id = wal;
    key_size = k.size();
    if (!k.empty()) std::memcpy(key, k.data(), k.size());
    stream = s;
  }
};
static_assert(std::is_trivially_destructible<LastStream>::value, "no TLS wrapper");
thread_local LastStream last_stream;
std::atomic<uint64_t> next_wal_id{1};

}  // namespace

Wal::Impl::Impl(const WalOptions& options)
    : id_(next_wal_id.fetch_add(1)),
      options_(options),
      stats_(options.statistics ? std::make_unique<StatsRecorder>() : nullptr),
      append_timing_(!options.statistics                     ? AppendTiming::kNone
                     : options.sync_mode == SyncMode::kAsync ? AppendTiming::kSampled
                                                             : AppendTiming::kEvery),
      logger_(options.logger != nullptr ? options.logger : NewStderrLogger()),
      readers_(options.max_open_read_segments),
      // kAsync writers evicted from the budget keep their buffers: together at most as
      // many bytes as the open writers' buffers may hold.
      writers_(options.max_open_segments,
               static_cast<uint64_t>(std::max<size_t>(options.max_open_segments, 1)) *
                   options.write_buffer_size) {
  shared_.options = ToStreamOptions(options_);
  shared_.readers = &readers_;
  shared_.writers = &writers_;
  shared_.stats = stats_.get();
  shared_.events = &events_;
  if (options_.block_cache_size > 0) {
    frame_cache_ = std::make_unique<FrameCache>(options_.block_cache_size);
  }
}

Wal::Impl::~Impl() {
  Close().IgnoreError();
  // Streams hold members of the caches; drop them first.
  WriterMutexLock lock(&streams_mu_);
  by_key_.clear();
  streams_.clear();
}

absl::Status Wal::Impl::Recover() {
  Env* env = options_.env;
  const std::string& root = options_.root;
  if (options_.read_only) {
    IRONWAL_ASSIGN_OR_RETURN(const bool is_dir, env->IsDirectory(root));
    if (!is_dir) {
      return absl::FailedPreconditionError(absl::StrCat("open ", root, ": not a directory"));
    }
  } else {
    IRONWAL_RETURN_IF_ERROR(CreateDirRecursively(env, root));
    // Nothing in the root is written before this: the directory's lock (root_lock.h).
    IRONWAL_ASSIGN_OR_RETURN(lock_, LockWalRoot(env, root));
  }
  // The entries' types come with the listing (no stat per stream with PosixEnv).
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<Env::DirEntry> children,
                           env->GetChildrenWithTypes(root));
  WriterMutexLock lock(&streams_mu_);
  for (const Env::DirEntry& child : children) {
    const std::string& name = child.name;
    if (name == format::kLockFileName) continue;
    if (child.type != FileType::kDirectory && child.type != FileType::kSymlink) continue;
    if (options_.defer_stream_recovery) {
      pending_.emplace(name, std::make_shared<PendingStream>(child.type));
      continue;
    }
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, RecoverDir(name, child.type));
    if (stream != nullptr) streams_[name] = std::move(stream);
  }
  pending_count_.store(pending_.size(), std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Stream>> Wal::Impl::RecoverDir(const std::string& name,
                                                              FileType type) {
  Env* env = options_.env;
  const std::string& root = options_.root;
  const std::string path = JoinPath(root, name);
  if (type == FileType::kSymlink) {
    // A link to a directory is a stream directory, as before the listing had types.
    absl::StatusOr<bool> is_dir = env->IsDirectory(path);
    // Only an entry gone since the listing is skipped: a stream skipped for an I/O error
    // would be created again, empty, by the next write, over its own segments.
    if (!is_dir.ok() && !absl::IsNotFound(is_dir.status())) return is_dir.status();
    if (!is_dir.ok() || !*is_dir) return nullptr;
  }
  IRONWAL_ASSIGN_OR_RETURN(const bool deleted, IsDeletedStream(env, path));
  if (deleted) {
    // An interrupted DeleteStream: the stream is gone; finish removing its files.
    if (!options_.read_only) IRONWAL_RETURN_IF_ERROR(FinishStreamDelete(env, root, path));
    return nullptr;
  }
  StreamRecoveryReport report;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream,
                           Stream::Recover(&shared_, name, &report));
  if (stream == nullptr) return nullptr;  // Not a stream directory: left alone.
  CountRecovery(report);
  QueueRecovery(stream.get(), report);
  if (!report.clean()) {
    if (options_.defer_stream_recovery) {
      MutexLock lock(&report_mu_);
      deferred_reports_[name] = std::move(report);
    } else {
      recovery_report_.push_back(std::move(report));
    }
  }
  return stream;
}

absl::Status Wal::Impl::RecoverPending(const std::string& dir) {
  if (pending_count_.load(std::memory_order_acquire) == 0) return absl::OkStatus();
  std::shared_ptr<PendingStream> pending;
  {
    ReaderMutexLock lock(&streams_mu_);
    auto it = pending_.find(dir);
    if (it == pending_.end()) return absl::OkStatus();
    pending = it->second;
  }
  MutexLock once(&pending->mu);
  if (pending->done) return absl::OkStatus();  // Another thread recovered it meanwhile.
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, RecoverDir(dir, pending->type));
  WriterMutexLock lock(&streams_mu_);
  if (stream != nullptr) streams_[dir] = std::move(stream);
  pending_.erase(dir);
  pending_count_.fetch_sub(1, std::memory_order_release);
  pending->done = true;
  return absl::OkStatus();
}

absl::Status Wal::Impl::RecoverAllPending() {
  if (pending_count_.load(std::memory_order_acquire) == 0) return absl::OkStatus();
  std::vector<std::string> dirs;
  {
    ReaderMutexLock lock(&streams_mu_);
    dirs.reserve(pending_.size());
    for (const auto& [dir, pending] : pending_) dirs.push_back(dir);
  }
  for (const std::string& dir : dirs) IRONWAL_RETURN_IF_ERROR(RecoverPending(dir));
  return absl::OkStatus();
}

// One public call in flight: admitted through gate_ for its lifetime, so that Close
// waits for it; status() is FailedPrecondition once the Wal is closed (or closing).
class Wal::Impl::Call {
 public:
  Call(Impl* wal, absl::string_view op) : wal_(wal), entered_(wal->gate_.Enter()) {
    if (ABSL_PREDICT_FALSE(!entered_)) status_ = ClosedError(wal, op);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  // The call's locks are all released by now: its events go to the listeners.
  ~Call() {
    if (!entered_) return;
    if (!wal_->events_.empty()) wal_->DeliverEvents();
    wal_->gate_.Exit();
  }

  const absl::Status& status() const { return status_; }

 private:
  ABSL_ATTRIBUTE_NOINLINE static absl::Status ClosedError(const Impl* wal, absl::string_view op) {
    return absl::FailedPreconditionError(
        absl::StrCat(op, ": wal ", wal->options_.root, " is closed"));
  }

  Impl* const wal_;
  const bool entered_;
  absl::Status status_;
};

absl::Status Wal::Impl::RecoverPendingStreams() {
  const Call call(this, "recover pending streams");
  IRONWAL_RETURN_IF_ERROR(call.status());
  return RecoverAllPending();
}

const std::vector<StreamRecoveryReport>& Wal::Impl::recovery_report() {
  if (!options_.defer_stream_recovery) return recovery_report_;
  {
    const Call call(this, "recovery report");
    // A failure leaves its stream pending: the calls that name it return the error.
    if (call.status().ok()) RecoverAllPending().IgnoreError();
  }
  MutexLock lock(&report_mu_);
  if (report_views_.empty() || report_views_.back().size() != deferred_reports_.size()) {
    std::vector<StreamRecoveryReport>& view = report_views_.emplace_back();
    for (const auto& [dir, report] : deferred_reports_) view.push_back(report);
  }
  return report_views_.back();
}

absl::StatusOr<Stream*> Wal::Impl::FindStream(absl::string_view key, bool create) {
  Stream* stream = nullptr;
  if (last_stream.Matches(id_, key)) {
    stream = last_stream.stream;  // the common case, without a call
  } else {
    IRONWAL_ASSIGN_OR_RETURN(stream, FindStreamObject(key, create));
  }
  // A deleted stream keeps its object (callers may hold it): it is absent until a write
  // creates it again.
  if (!create && stream->deleted()) return StreamNotFound(key);
  return stream;
}

absl::Status Wal::Impl::StreamNotFound(absl::string_view key) const {
  absl::StatusOr<std::string> dir = StreamDirName(key);
  return absl::NotFoundError(absl::StrCat("stream '", absl::CEscape(key),
                                          "' does not exist (directory ",
                                          JoinPath(options_.root, dir.ok() ? *dir : ""), ")"));
}

absl::StatusOr<Stream*> Wal::Impl::FindStreamObject(absl::string_view key, bool create) {
  if (last_stream.Matches(id_, key)) return last_stream.stream;
  Stream* stream = nullptr;
  {
    ReaderMutexLock lock(&streams_mu_);
    auto known = by_key_.find(key);
    if (known != by_key_.end()) {
      last_stream.Remember(id_, key, known->second);
      return known->second;
    }
  }
  IRONWAL_ASSIGN_OR_RETURN(std::string dir, StreamDirName(key));
  // Deferred recovery: a pending directory is recovered before it is looked up, so that a
  // create never goes over what it holds.
  IRONWAL_RETURN_IF_ERROR(RecoverPending(dir));
  {
    ReaderMutexLock lock(&streams_mu_);
    auto it = streams_.find(dir);
    if (it != streams_.end()) stream = it->second.get();
  }
  if (stream == nullptr) {
    if (!create) return StreamNotFound(key);
    if (options_.read_only) {
      return absl::FailedPreconditionError(
          absl::StrCat("create stream '", absl::CEscape(key), "': opened read-only"));
    }
    WriterMutexLock lock(&streams_mu_);
    std::unique_ptr<Stream>& slot = streams_[dir];
    if (slot == nullptr) slot = Stream::CreateNew(&shared_, dir, std::string(key));
    stream = slot.get();
  }
  IRONWAL_RETURN_IF_ERROR(stream->CheckKey(key, /*claim=*/create));
  if (stream->key_known()) {
    WriterMutexLock lock(&streams_mu_);
    by_key_.emplace(std::string(key), stream);
  }
  return stream;
}

std::vector<Stream*> Wal::Impl::AllStreams() const {
  std::vector<Stream*> all;
  ReaderMutexLock lock(&streams_mu_);
  all.reserve(streams_.size());
  for (const auto& [dir, stream] : streams_) all.push_back(stream.get());
  return all;
}

// These run on every append (inlined into the three append paths below, this file's only
// callers): a kAsync append with statistics on reads its stream's count of appends, and
// that is all it adds (untimed and successful, it was counted by its stream as it
// published it).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t Wal::Impl::AppendClock() {
  return append_timing_ == AppendTiming::kEvery ? options_.env->NowMicros() : kUntimed;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t Wal::Impl::AsyncAppendClock(Stream* stream,
                                                                         uint64_t start_micros) {
  if (append_timing_ != AppendTiming::kSampled || !stream->TimeAsyncAppend()) return start_micros;
  return options_.env->NowMicros();
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Wal::Impl::CountAppend(const absl::Status& status,
                                                                uint64_t start_micros, bool batch) {
  if (start_micros == kUntimed && status.ok()) return;
  CountAppendOutcome(status, start_micros, batch);
}

void Wal::Impl::CountAppendOutcome(const absl::Status& status, uint64_t start_micros, bool batch) {
  if (stats_ == nullptr) return;
  if (!status.ok()) {
    stats_->Add(StatsRecorder::kAppendErrors);
  } else {
    stats_->Record(batch ? StatsRecorder::kAppendBatchMicros : StatsRecorder::kAppendMicros,
                   options_.env->NowMicros() - start_micros);
  }
}

absl::StatusOr<uint64_t> Wal::Impl::Append(absl::string_view stream, absl::string_view entry) {
  const Call call(this, "append");
  IRONWAL_RETURN_IF_ERROR(call.status());
  uint64_t start = AppendClock();
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/true));
  start = AsyncAppendClock(s, start);
  absl::StatusOr<IdRange> ids = s->Append({entry}, /*batch=*/false);
  CountAppend(ids.status(), start, /*batch=*/false);
  IRONWAL_RETURN_IF_ERROR(ids.status());
  return ids->first;
}

void Wal::Impl::CountRead(uint64_t bytes, uint64_t gets) const {
  if (stats_ == nullptr) return;
  if (gets > 0) stats_->Add(StatsRecorder::kGets, gets);
  stats_->Add(StatsRecorder::kBytesRead, bytes);
}

void Wal::Impl::CountRecovery(const StreamRecoveryReport& report) const {
  if (stats_ == nullptr) return;
  stats_->Add(StatsRecorder::kStreamsRecovered);
  if (report.clean()) return;
  stats_->Add(StatsRecorder::kRecoveriesNotClean);
  stats_->Add(StatsRecorder::kRecoveryCutBytes, report.cut_bytes);
  stats_->Add(StatsRecorder::kRecoveryLostIds, report.lost_end - report.lost_first);
}

Statistics Wal::Impl::GetStatistics() const {
  return stats_ != nullptr ? stats_->Snapshot(AppendMicrosOf(options_.sync_mode)) : Statistics();
}

MemoryUsage Wal::Impl::ApproximateMemoryUsage() {
  MemoryUsage usage;
  const Call call(this, "memory usage");
  if (!call.status().ok()) return usage;  // closed: nothing held
  // An index shared by a stream and a cached reader (the active segment's) counts once.
  // Only sums are taken, so the set's order does not matter.
  absl::flat_hash_set<const internal::OffsetIndex*> counted;
  for (internal::Stream* stream : AllStreams()) {
    const internal::Stream::Memory held = stream->MemoryHeld();
    usage.write_buffers += held.write_buffer;
    if (held.evicted) usage.evicted_write_buffers += held.write_buffer;
    if (held.active_index != nullptr && counted.insert(held.active_index.get()).second) {
      usage.active_indexes += held.active_index->MemoryUsage();
    }
  }
  for (const std::shared_ptr<const internal::OffsetIndex>& index : readers_.Indexes()) {
    if (index != nullptr && counted.insert(index.get()).second) {
      usage.sealed_indexes += index->MemoryUsage();
    }
  }
  if (frame_cache_ != nullptr) usage.frame_cache = frame_cache_->used_bytes();
  return usage;
}

void Wal::Impl::ResetStatistics() {
  if (stats_ != nullptr) stats_->Reset();
}

absl::StatusOr<IdRange> Wal::Impl::AppendBatch(absl::string_view stream,
                                               absl::Span<const absl::string_view> entries) {
  const Call call(this, "append batch");
  IRONWAL_RETURN_IF_ERROR(call.status());
  if (entries.empty()) {
    IRONWAL_RETURN_IF_ERROR(StreamDirName(stream).status());  // A bad key is still an error.
    absl::StatusOr<Stream*> s = FindStream(stream, /*create=*/false);
    if (absl::IsNotFound(s.status())) return IdRange{};  // Nothing written, nothing created.
    IRONWAL_RETURN_IF_ERROR(s.status());
    // One read: another thread's append may move next_id() at any moment.
    const uint64_t next = (*s)->next_id();
    return IdRange{next, next};
  }
  uint64_t start = AppendClock();
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/true));
  start = AsyncAppendClock(s, start);
  absl::StatusOr<IdRange> ids = s->Append(entries, /*batch=*/true);
  CountAppend(ids.status(), start, /*batch=*/true);
  return ids;
}

absl::StatusOr<std::string> Wal::Impl::GetCached(Stream* stream, uint64_t id) {
  const uint64_t epoch = stream->log_epoch();
  IRONWAL_ASSIGN_OR_RETURN(Stream::ReadPosition pos, stream->Locate(id));
  // A frame is cached under its verified offset only: a miss reads (and verifies) the
  // frame before anything is cached, and a hit was verified when it was cached.
  FrameCache::Key key{stream, pos.reader->start_id(), pos.frame.offset, pos.frame.start_id, epoch};
  std::shared_ptr<const FrameCache::Entries> entries = frame_cache_->Lookup(key);
  // A cached frame is the one at that offset, starting at that ID; one too short for
  // `id` means the position came from a stale frame index file: read, which gives it up.
  if (entries != nullptr && id - pos.frame.start_id >= entries->size()) entries = nullptr;
  if (entries != nullptr && stats_ != nullptr) stats_->Add(StatsRecorder::kGetCacheHits);
  if (entries == nullptr) {
    IRONWAL_ASSIGN_OR_RETURN(VerifiedFrame frame, stream->ReadFrameAt(id, &pos));
    // Moved if a stale frame index gave way to a walk.
    key.offset = pos.frame.offset;
    key.start_id = pos.frame.start_id;
    absl::StatusOr<const DecodedPayload*> decoded = frame.Decode();
    if (!decoded.ok()) return pos.reader->Annotate(pos.frame, decoded.status());
    auto copy = std::make_shared<FrameCache::Entries>((*decoded)->entries().begin(),
                                                      (*decoded)->entries().end());
    frame_cache_->Insert(key, copy);
    entries = std::move(copy);
  }
  return (*entries)[id - pos.frame.start_id];
}

absl::StatusOr<std::string> Wal::Impl::Get(absl::string_view stream, uint64_t id) {
  const Call call(this, "get");
  if (ABSL_PREDICT_FALSE(!call.status().ok())) return call.status();
  const absl::StatusOr<Stream*> s = FindStream(stream, /*create=*/false);
  if (ABSL_PREDICT_FALSE(!s.ok())) return s.status();
  return GetFrom(*s, id);
}

absl::StatusOr<std::string> Wal::Impl::GetFrom(Stream* stream, uint64_t id) {
  absl::StatusOr<std::string> entry =
      frame_cache_ != nullptr ? GetCached(stream, id) : stream->Get(id);
  CountRead(entry.ok() ? entry->size() : 0, 1);
  return entry;  // the one return: the result is built in the caller's object
}

std::vector<absl::StatusOr<std::string>> Wal::Impl::MultiGet(absl::string_view stream,
                                                             absl::Span<const uint64_t> ids) {
  std::vector<absl::StatusOr<std::string>> results(ids.size(), absl::UnknownError("unset"));
  if (ids.empty()) return results;
  const Call call(this, "multi get");
  absl::StatusOr<Stream*> s = call.status().ok() ? FindStream(stream, /*create=*/false)
                                                 : absl::StatusOr<Stream*>(call.status());
  if (!s.ok()) {
    for (auto& r : results) r = s.status();
    return results;
  }
  // Visit the IDs in order so that each frame is read once.
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  std::shared_ptr<SegmentReader> reader;
  FrameLocation where;
  absl::StatusOr<VerifiedFrame> frame = absl::NotFoundError("none yet");
  for (size_t i : order) {
    const uint64_t id = ids[i];
    const bool same_frame =
        frame.ok() && id >= frame->header().start_id && id < frame->header().end_id();
    if (!same_frame) {
      absl::StatusOr<Stream::ReadPosition> pos = (*s)->Locate(id);
      if (!pos.ok()) {
        results[i] = pos.status();
        frame = absl::NotFoundError("none");
        continue;
      }
      frame = (*s)->ReadFrameAt(id, &*pos);
      reader = pos->reader;  // Keeps a mapped frame's bytes alive.
      where = pos->frame;
      if (!frame.ok()) {
        results[i] = frame.status();
        continue;
      }
    }
    absl::StatusOr<absl::string_view> entry = frame->Entry(id);
    results[i] = entry.ok() ? absl::StatusOr<std::string>(std::string(*entry))
                            : absl::StatusOr<std::string>(reader->Annotate(where, entry.status()));
  }
  uint64_t bytes = 0;
  for (const auto& r : results) bytes += r.ok() ? r->size() : 0;
  CountRead(bytes, ids.size());
  return results;
}

absl::StatusOr<std::unique_ptr<Iterator>> Wal::Impl::NewIterator(absl::string_view stream,
                                                                 uint64_t start_id,
                                                                 uint64_t end_id) {
  const Call call(this, "iterate");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  auto it = std::make_unique<StreamIterator>(s, end_id, options_.read_buffer_size, stats_.get());
  if (start_id > s->next_id()) {
    return absl::OutOfRangeError(absl::StrCat("iterate ", stream, ": start ID ", start_id,
                                              " is past the next ID ", s->next_id()));
  }
  it->Seek(start_id);
  IRONWAL_RETURN_IF_ERROR(it->status());
  if (stats_ != nullptr) stats_->Add(StatsRecorder::kScans);
  return std::unique_ptr<Iterator>(std::move(it));
}

absl::Status Wal::Impl::WaitFor(absl::string_view stream, uint64_t id, uint64_t deadline_micros,
                                WaitCondition condition) {
  const Call call(this, "wait for");
  if (!call.status().ok()) return absl::CancelledError(call.status().message());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  const bool durable = condition == WaitCondition::kDurable;
  const std::string op = absl::StrCat("wait for ID ", id, " of stream '", absl::CEscape(stream),
                                      "' to be ", durable ? "durable" : "visible");
  const uint64_t epoch = s->log_epoch();
  // Under the notifier's lock: atomics only (tail_notifier.h).
  const auto check = [&]() -> std::optional<absl::Status> {
    if (s->deleted()) return absl::NotFoundError(op + ": the stream was deleted");
    if (s->log_epoch() != epoch) {
      return absl::AbortedError(op +
                                ": the stream was suffix-truncated, reset or recovered during "
                                "the wait (IDs already read may hold other entries now)");
    }
    const uint64_t first = s->first_id();
    if (id < first) {
      return absl::NotFoundError(
          absl::StrCat(op, ": ID ", id, " is below the first retained ID ", first));
    }
    const uint64_t next = s->next_id();
    if (id < (durable ? std::min(next, s->durable_next_id()) : next)) return absl::OkStatus();
    if (closing_.load()) return absl::CancelledError(op + ": wal " + options_.root + " closed");
    if (s->poisoned_now()) {
      return absl::FailedPreconditionError(
          op + ": the stream is poisoned by an earlier failure (RecoverStream recovers it)");
    }
    return std::nullopt;
  };
  const auto timeout = [&] {
    return absl::DeadlineExceededError(
        absl::StrCat(op, ": deadline ", deadline_micros, " passed (next ID ", s->next_id(),
                     ", durable next ID ", s->durable_next_id(), ")"));
  };
  return s->notifier()->Wait(options_.env, deadline_micros, check, timeout);
}

absl::StatusOr<TruncateResult> Wal::Impl::Truncate(absl::string_view stream,
                                                   uint64_t keep_from_id) {
  const Call call(this, "truncate");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  IRONWAL_RETURN_IF_ERROR(s->CheckKey(stream, /*claim=*/true));
  return s->Truncate(keep_from_id);
}

absl::Status Wal::Impl::TruncateSuffix(absl::string_view stream, uint64_t from_id) {
  const Call call(this, "truncate suffix");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  IRONWAL_RETURN_IF_ERROR(s->CheckKey(stream, /*claim=*/true));
  return s->TruncateSuffix(from_id);
}

absl::Status Wal::Impl::CreateStream(absl::string_view stream, uint64_t first_id) {
  const Call call(this, "create stream");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/true));
  return s->StartAt(first_id);
}

absl::Status Wal::Impl::ResetStream(absl::string_view stream, uint64_t next_id) {
  const Call call(this, "reset stream");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/true));
  return s->Reset(next_id);
}

absl::StatusOr<TruncateResult> Wal::Impl::TrimFront(absl::string_view stream, uint64_t first_id) {
  const Call call(this, "trim");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  IRONWAL_RETURN_IF_ERROR(s->CheckKey(stream, /*claim=*/true));
  return s->TrimFront(first_id);
}

absl::Status Wal::Impl::PutStreamMetadata(absl::string_view stream, absl::string_view value) {
  const Call call(this, "put stream metadata");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/true));
  return s->PutMetadata(value);
}

absl::StatusOr<std::string> Wal::Impl::GetStreamMetadata(absl::string_view stream) {
  const Call call(this, "get stream metadata");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  return s->GetMetadata();
}

absl::StatusOr<IdRange> Wal::Impl::AppendBatchIf(absl::string_view stream,
                                                 uint64_t expected_next_id,
                                                 absl::Span<const absl::string_view> entries) {
  const Call call(this, "conditional append");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_RETURN_IF_ERROR(StreamDirName(stream).status());
  absl::StatusOr<Stream*> s = FindStream(stream, /*create=*/false);
  if (!s.ok() && !absl::IsNotFound(s.status())) return s.status();
  const uint64_t next = s.ok() ? (*s)->next_id() : 0;
  if (entries.empty() || (!s.ok() && expected_next_id != 0)) {
    if (next != expected_next_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("conditional append to stream '", absl::CEscape(stream),
                       "': expected next id ", expected_next_id, ", but the next id is ", next));
    }
    return IdRange{next, next};
  }
  uint64_t start = AppendClock();
  IRONWAL_ASSIGN_OR_RETURN(Stream * target, FindStream(stream, /*create=*/true));
  start = AsyncAppendClock(target, start);
  absl::StatusOr<IdRange> ids = target->Append(entries, /*batch=*/true, expected_next_id);
  CountAppend(ids.status(), start, /*batch=*/true);
  return ids;
}

absl::StatusOr<std::vector<std::string>> Wal::Impl::ReadRange(absl::string_view stream, uint64_t lo,
                                                              uint64_t hi, size_t max_bytes) {
  const Call call(this, "read range");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  std::vector<std::string> entries;
  const uint64_t first = s->first_id();
  if (lo < first) {
    return absl::NotFoundError(absl::StrCat("read range of stream '", absl::CEscape(stream),
                                            "': ID ", lo, " is below the first retained ID ",
                                            first));
  }
  if (hi <= lo) return entries;
  const uint64_t next = s->next_id();
  if (lo >= next) {
    return absl::OutOfRangeError(absl::StrCat("read range of stream '", absl::CEscape(stream),
                                              "': ID ", lo, " is at or past the next ID ", next));
  }
  StreamIterator it(s, std::min(hi, next), options_.read_buffer_size);
  size_t total = 0;
  for (it.Seek(lo); it.Valid(); it.Next()) {
    const absl::string_view value = it.value();
    if (!entries.empty() && value.size() > max_bytes - std::min(total, max_bytes)) break;
    total += value.size();
    entries.emplace_back(value);
  }
  IRONWAL_RETURN_IF_ERROR(it.status());
  if (stats_ != nullptr) stats_->Add(StatsRecorder::kScans);
  CountRead(total, 0);
  return entries;
}

absl::Status Wal::Impl::DeleteStream(absl::string_view stream) {
  const Call call(this, "delete stream");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  IRONWAL_RETURN_IF_ERROR(s->CheckKey(stream, /*claim=*/true));
  return s->Delete();
}

absl::StatusOr<std::vector<std::string>> Wal::Impl::ListStreams() {
  const Call call(this, "list streams");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_RETURN_IF_ERROR(RecoverAllPending());
  std::vector<std::string> keys;
  for (Stream* s : AllStreams()) {
    if (!s->deleted()) keys.push_back(s->key());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::StatusOr<StreamInfo> Wal::Impl::GetStreamInfo(absl::string_view stream,
                                                    StreamInfoDetail detail) {
  const Call call(this, "stream info");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  StreamInfo info = s->Info();
  if (detail == StreamInfoDetail::kPayloadSizes) IRONWAL_RETURN_IF_ERROR(s->MeasurePayloads(&info));
  return info;
}

absl::Status Wal::Impl::Flush() {
  const Call call(this, "flush");
  IRONWAL_RETURN_IF_ERROR(call.status());
  absl::Status first = absl::OkStatus();
  for (Stream* s : AllStreams()) {
    absl::Status flushed = s->Flush();
    if (first.ok()) first = flushed;
  }
  return first;
}

absl::Status Wal::Impl::Sync() {
  const Call call(this, "sync");
  IRONWAL_RETURN_IF_ERROR(call.status());
  // Pending streams (defer_stream_recovery) are left pending: nothing was appended to
  // them, so there is nothing of theirs to make durable (their tails are repaired, and
  // the repair synced, when a call first needs them, before any append).
  absl::Status first = absl::OkStatus();
  for (Stream* s : AllStreams()) {
    absl::Status synced = s->Sync();
    if (first.ok()) first = synced;
  }
  return first;
}

absl::Status Wal::Impl::Flush(absl::string_view stream) {
  const Call call(this, "flush");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  return s->Flush();
}

absl::Status Wal::Impl::Sync(absl::string_view stream) {
  const Call call(this, "sync");
  IRONWAL_RETURN_IF_ERROR(call.status());
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStream(stream, /*create=*/false));
  return s->Sync();
}

absl::StatusOr<StreamRecoveryReport> Wal::Impl::RecoverStream(absl::string_view stream) {
  const Call call(this, "recover stream");
  IRONWAL_RETURN_IF_ERROR(call.status());
  // Deleted streams included: a failed DeleteStream leaves one poisoned.
  IRONWAL_ASSIGN_OR_RETURN(Stream * s, FindStreamObject(stream, /*create=*/false));
  const bool poisoned = s->poisoned();
  absl::StatusOr<StreamRecoveryReport> report = s->Reopen();
  if (report.ok() && poisoned) {
    CountRecovery(*report);
    QueueRecovery(s, *report);
  }
  return report;
}

absl::Status Wal::Impl::Close() {
  MutexLock lock(&close_mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  // WaitFor calls are in flight until they wake: wake them first (they see closing_).
  closing_.store(true);
  for (Stream* s : AllStreams()) s->notifier()->Notify();
  gate_.Shut();  // No new calls; the ones in flight have finished when it returns.
  absl::Status first = absl::OkStatus();
  for (Stream* s : AllStreams()) {
    absl::Status closed = s->CloseWriter();
    if (first.ok()) first = closed;
  }
  if (lock_ != nullptr) {
    absl::Status unlocked = options_.env->UnlockFile(std::move(lock_));
    if (first.ok()) first = unlocked;
  }
  DeliverEvents();  // No call is in flight: this thread delivers what closing caused.
  return first;
}

// --- Wal: one-line forwarders to Impl.

Wal::Wal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Wal::~Wal() = default;

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const WalOptions& options) {
  IRONWAL_RETURN_IF_ERROR(ValidateOptions(options));
  auto impl = std::make_unique<Impl>(options);
  const absl::Status recovered = impl->Recover();
  impl->DeliverEvents();
  if (!recovered.ok()) {
    impl->LogOpenFailure(recovered);
    return recovered;
  }
  return std::unique_ptr<Wal>(new Wal(std::move(impl)));
}

absl::StatusOr<uint64_t> Wal::Append(absl::string_view stream, absl::string_view entry) {
  return impl_->Append(stream, entry);
}

absl::StatusOr<IdRange> Wal::AppendBatch(absl::string_view stream,
                                         absl::Span<const absl::string_view> entries) {
  return impl_->AppendBatch(stream, entries);
}

absl::StatusOr<IdRange> Wal::AppendBatch(absl::string_view stream,
                                         const std::vector<std::string>& entries) {
  std::vector<absl::string_view> views(entries.begin(), entries.end());
  return impl_->AppendBatch(stream, absl::MakeConstSpan(views));
}

TxnWriter Wal::NewTransaction(absl::string_view stream) {
  return TxnWriter(this, std::string(stream));
}

absl::StatusOr<std::string> Wal::Get(absl::string_view stream, uint64_t id) {
  return impl_->Get(stream, id);
}

std::vector<absl::StatusOr<std::string>> Wal::MultiGet(absl::string_view stream,
                                                       absl::Span<const uint64_t> ids) {
  return impl_->MultiGet(stream, ids);
}

absl::StatusOr<std::unique_ptr<Iterator>> Wal::NewIterator(absl::string_view stream,
                                                           uint64_t start_id, uint64_t end_id) {
  return impl_->NewIterator(stream, start_id, end_id);
}

absl::Status Wal::WaitFor(absl::string_view stream, uint64_t id, uint64_t deadline_micros,
                          WaitCondition condition) {
  return impl_->WaitFor(stream, id, deadline_micros, condition);
}

absl::StatusOr<TruncateResult> Wal::Truncate(absl::string_view stream, uint64_t keep_from_id) {
  return impl_->Truncate(stream, keep_from_id);
}

absl::Status Wal::TruncateSuffix(absl::string_view stream, uint64_t from_id) {
  return impl_->TruncateSuffix(stream, from_id);
}

absl::Status Wal::CreateStream(absl::string_view stream, uint64_t first_id) {
  return impl_->CreateStream(stream, first_id);
}

absl::Status Wal::ResetStream(absl::string_view stream, uint64_t next_id) {
  return impl_->ResetStream(stream, next_id);
}

absl::StatusOr<TruncateResult> Wal::TrimFront(absl::string_view stream, uint64_t first_id) {
  return impl_->TrimFront(stream, first_id);
}

absl::Status Wal::PutStreamMetadata(absl::string_view stream, absl::string_view value) {
  return impl_->PutStreamMetadata(stream, value);
}

absl::StatusOr<std::string> Wal::GetStreamMetadata(absl::string_view stream) {
  return impl_->GetStreamMetadata(stream);
}

absl::StatusOr<IdRange> Wal::AppendBatchIf(absl::string_view stream, uint64_t expected_next_id,
                                           absl::Span<const absl::string_view> entries) {
  return impl_->AppendBatchIf(stream, expected_next_id, entries);
}

absl::StatusOr<std::vector<std::string>> Wal::ReadRange(absl::string_view stream, uint64_t lo,
                                                        uint64_t hi, size_t max_bytes) {
  return impl_->ReadRange(stream, lo, hi, max_bytes);
}

absl::Status Wal::DeleteStream(absl::string_view stream) { return impl_->DeleteStream(stream); }

absl::StatusOr<std::vector<std::string>> Wal::ListStreams() { return impl_->ListStreams(); }

absl::StatusOr<StreamInfo> Wal::GetStreamInfo(absl::string_view stream) {
  return impl_->GetStreamInfo(stream, StreamInfoDetail::kBasic);
}

absl::StatusOr<StreamInfo> Wal::GetStreamInfo(absl::string_view stream, StreamInfoDetail detail) {
  return impl_->GetStreamInfo(stream, detail);
}

absl::Status Wal::Flush() { return impl_->Flush(); }

absl::Status Wal::Sync() { return impl_->Sync(); }

absl::Status Wal::Flush(absl::string_view stream) { return impl_->Flush(stream); }

absl::Status Wal::Sync(absl::string_view stream) { return impl_->Sync(stream); }

absl::StatusOr<StreamRecoveryReport> Wal::RecoverStream(absl::string_view stream) {
  return impl_->RecoverStream(stream);
}

absl::StatusOr<std::string> Wal::StreamDirectoryName(absl::string_view key) {
  return StreamDirName(key);
}

absl::Status Wal::Close() { return impl_->Close(); }

const std::vector<StreamRecoveryReport>& Wal::recovery_report() const {
  return impl_->recovery_report();
}

absl::Status Wal::RecoverPendingStreams() { return impl_->RecoverPendingStreams(); }

const WalOptions& Wal::options() const { return impl_->options(); }

Statistics Wal::GetStatistics() const { return impl_->GetStatistics(); }

void Wal::ResetStatistics() { impl_->ResetStatistics(); }

MemoryUsage Wal::ApproximateMemoryUsage() { return impl_->ApproximateMemoryUsage(); }

}  // namespace ironwal
