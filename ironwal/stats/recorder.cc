#include "ironwal/stats/recorder.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "ironwal/format/format.h"

namespace ironwal {
namespace internal {
namespace {

// The recorders alive, by id: a thread that ends gives its shards back only to these.
// Lock order: this mutex, then a recorder's.
struct Registry {
  Mutex mu;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
  absl::flat_hash_map<uint64_t, StatsRecorder*> live ABSL_GUARDED_BY(mu);
};

Registry& TheRegistry() {
  static Registry* const registry = new Registry;  // never destroyed: threads end late
  return *registry;
}

uint64_t Register(StatsRecorder* recorder) {
  Registry& r = TheRegistry();
  MutexLock lock(&r.mu);
  const uint64_t id = r.next_id++;
  r.live.emplace(id, recorder);
  return id;
}

// The smallest bucket upper bound at or past the `q` quantile of `buckets`, within
// [min, max].
uint64_t Quantile(const std::vector<uint64_t>& buckets, uint64_t count, double q, uint64_t min,
                  uint64_t max) {
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count))));
  uint64_t seen = 0;
  for (int b = 0; b < HistogramBuckets::kCount; ++b) {
    seen += buckets[static_cast<size_t>(b)];
    if (seen >= rank) return std::clamp(HistogramBuckets::Upper(b), min, max);
  }
  return max;
}

}  // namespace

// The shards this thread took, one per recorder; given back when the thread ends.
struct StatsRecorder::Held {
  std::vector<std::pair<uint64_t, Local*>> shards;

  ~Held() {
    Registry& r = TheRegistry();
    MutexLock lock(&r.mu);
    for (const auto& [id, local] : shards) {
      auto it = r.live.find(id);
      if (it != r.live.end()) it->second->Release(local);
    }
  }

  Local* Find(uint64_t id) const {
    for (const auto& [held_id, local] : shards) {
      if (held_id == id) return local;
    }
    return nullptr;
  }

  // Forgets the shards of recorders that are gone (a thread that opens Wal after Wal).
  void DropDead() {
    Registry& r = TheRegistry();
    MutexLock lock(&r.mu);
    std::vector<std::pair<uint64_t, Local*>> alive;
    for (const auto& held : shards) {
      if (r.live.contains(held.first)) alive.push_back(held);
    }
    shards = std::move(alive);
  }
};

namespace {
thread_local StatsRecorder::Held held_by_thread;
}  // namespace

__thread StatsRecorder::Cache StatsRecorder::cached_;

StatsRecorder::StatsRecorder() : id_(Register(this)) {}

StatsRecorder::~StatsRecorder() {
  Registry& r = TheRegistry();
  MutexLock lock(&r.mu);
  r.live.erase(id_);
}

StatsRecorder::Local& StatsRecorder::MineSlow() {
  Held& held = held_by_thread;
  Local* local = held.Find(id_);
  if (local == nullptr) {
    if (held.shards.size() >= 8) held.DropDead();
    MutexLock lock(&mu_);
    if (!free_.empty()) {
      local = free_.back();
      free_.pop_back();
    } else {
      shards_.push_back(std::make_unique<Local>());
      local = shards_.back().get();
    }
    held.shards.emplace_back(id_, local);
  }
  cached_ = Cache{id_, local};
  return *local;
}

size_t StatsRecorder::shard_count() const {
  MutexLock lock(&mu_);
  return shards_.size();
}

StatsRecorder::Counters* StatsRecorder::NewCounters() {
  MutexLock lock(&mu_);
  writers_.push_back(std::make_unique<Counters>());
  return writers_.back().get();
}

void StatsRecorder::Release(Local* local) {
  MutexLock lock(&mu_);
  free_.push_back(local);
}

HistogramSnapshot StatsRecorder::SnapshotOf(std::initializer_list<Histogram> hs,
                                            uint64_t ones) const {
  HistogramSnapshot out;
  std::vector<uint64_t> buckets(HistogramBuckets::kCount, 0);
  uint64_t min = UINT64_MAX;
  if (ones > 0) {
    out.count = ones;
    out.sum = ones;
    min = 1;
    out.max = 1;
    buckets[static_cast<size_t>(HistogramBuckets::Of(1))] = ones;
  }
  for (const std::unique_ptr<Local>& shard : shards_) {
    for (Histogram h : hs) {
      const Local::Hist& hist = shard->histograms_[h];
      out.count += hist.count.load(std::memory_order_relaxed);
      out.sum += hist.sum.load(std::memory_order_relaxed);
      min = std::min(min, hist.min.load(std::memory_order_relaxed));
      out.max = std::max(out.max, hist.max.load(std::memory_order_relaxed));
      for (int b = 0; b < HistogramBuckets::kCount; ++b) {
        buckets[static_cast<size_t>(b)] += hist.buckets[b].load(std::memory_order_relaxed);
      }
    }
  }
  if (out.count == 0) return HistogramSnapshot();
  out.min = std::min(min, out.max);
  out.p50 = Quantile(buckets, out.count, 0.5, out.min, out.max);
  out.p99 = Quantile(buckets, out.count, 0.99, out.min, out.max);
  out.p999 = Quantile(buckets, out.count, 0.999, out.min, out.max);
  return out;
}

Statistics StatsRecorder::Snapshot(HistogramSnapshot Statistics::*appends_by_mode) const {
  MutexLock lock(&mu_);
  uint64_t c[kNumCounters] = {};
  auto sum = [&c](const Counters& counters) {
    for (int i = 0; i < kNumCounters; ++i) {
      c[i] += counters.values_[i].load(std::memory_order_relaxed);
    }
  };
  for (const std::unique_ptr<Local>& shard : shards_) sum(shard->counters_);
  for (const std::unique_ptr<Counters>& counters : writers_) sum(*counters);
  Statistics out;
  out.enabled = true;
  out.appends = c[kAppends];
  out.append_errors = c[kAppendErrors];
  out.entries_appended = c[kEntriesAppended];
  // As the enum says; a snapshot racing with an update may see part of it (never below 0).
  const uint64_t raw_bytes = c[kFrameBytesWritten] + c[kLz4BytesSaved];
  const uint64_t framing =
      format::kFrameHeaderSize * c[kAppends] + format::kEntryLengthSize * c[kEntriesAppended];
  out.logical_bytes_appended = raw_bytes - std::min(raw_bytes, framing);
  out.frames_written = c[kAppends];  // an append is one frame
  out.frame_bytes_written = c[kFrameBytesWritten];
  // A snapshot racing with an update may see the LZ4 count before the frame count.
  out.frames_raw = c[kAppends] - std::min(c[kAppends], c[kFramesLz4]);
  out.frames_lz4 = c[kFramesLz4];
  out.fdatasyncs = c[kFdatasyncs];
  out.rotations = c[kRotations];
  out.gets = c[kGets];
  out.get_cache_hits = c[kGetCacheHits];
  out.scans = c[kScans];
  out.bytes_read = c[kBytesRead];
  out.streams_recovered = c[kStreamsRecovered];
  out.recoveries_not_clean = c[kRecoveriesNotClean];
  out.recovery_cut_bytes = c[kRecoveryCutBytes];
  out.recovery_lost_ids = c[kRecoveryLostIds];
  out.poisonings = c[kPoisonings];
  out.streams_unpoisoned = c[kStreamsUnpoisoned];
  out.append_micros = SnapshotOf({kAppendMicros});
  out.append_batch_micros = SnapshotOf({kAppendBatchMicros});
  out.fdatasync_micros = SnapshotOf({kFdatasyncMicros});
  out.group_size = SnapshotOf({kGroupSize}, c[kGroupsOfOne]);
  out.write_groups = out.group_size.count;
  if (appends_by_mode != nullptr) {
    out.*appends_by_mode = SnapshotOf({kAppendMicros, kAppendBatchMicros});
  }
  return out;
}

void StatsRecorder::Counters::Reset() {
  for (auto& v : values_) v.store(0, std::memory_order_relaxed);
}

void StatsRecorder::Local::Reset() {
  counters_.Reset();
  for (Hist& h : histograms_) {
    h.count.store(0, std::memory_order_relaxed);
    h.sum.store(0, std::memory_order_relaxed);
    h.min.store(UINT64_MAX, std::memory_order_relaxed);
    h.max.store(0, std::memory_order_relaxed);
    for (auto& b : h.buckets) b.store(0, std::memory_order_relaxed);
  }
}

void StatsRecorder::Reset() {
  MutexLock lock(&mu_);
  for (const std::unique_ptr<Local>& shard : shards_) shard->Reset();
  for (const std::unique_ptr<Counters>& counters : writers_) counters->Reset();
}

}  // namespace internal
}  // namespace ironwal
