#include "ironwal/stats/recorder.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ironwal {
namespace internal {
namespace {

std::atomic<uint32_t> next_thread_shard{0};

// This thread's shard: threads take shards in turn as they first record.
int ThreadShard(int shards) {
  thread_local const uint32_t mine = next_thread_shard.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(mine % static_cast<uint32_t>(shards));
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

StatsRecorder::StatsRecorder() : shards_(new Shard[kShards]) {}

StatsRecorder::~StatsRecorder() = default;

StatsRecorder::Shard& StatsRecorder::MyShard() { return shards_[ThreadShard(kShards)]; }

void StatsRecorder::Record(Histogram h, uint64_t value) {
  Hist& hist = MyShard().histograms[h];
  hist.count.fetch_add(1, std::memory_order_relaxed);
  hist.sum.fetch_add(value, std::memory_order_relaxed);
  hist.buckets[HistogramBuckets::Of(value)].fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = hist.min.load(std::memory_order_relaxed);
  while (value < seen && !hist.min.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
  seen = hist.max.load(std::memory_order_relaxed);
  while (value > seen && !hist.max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

HistogramSnapshot StatsRecorder::SnapshotOf(std::initializer_list<Histogram> hs) const {
  HistogramSnapshot out;
  std::vector<uint64_t> buckets(HistogramBuckets::kCount, 0);
  uint64_t min = UINT64_MAX;
  for (int s = 0; s < kShards; ++s) {
    for (Histogram h : hs) {
      const Hist& hist = shards_[s].histograms[h];
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
  uint64_t c[kNumCounters] = {};
  for (int s = 0; s < kShards; ++s) {
    for (int i = 0; i < kNumCounters; ++i) {
      c[i] += shards_[s].counters[i].load(std::memory_order_relaxed);
    }
  }
  Statistics out;
  out.enabled = true;
  out.appends = c[kAppends];
  out.append_errors = c[kAppendErrors];
  out.entries_appended = c[kEntriesAppended];
  out.logical_bytes_appended = c[kLogicalBytesAppended];
  out.frames_written = c[kFramesWritten];
  out.frame_bytes_written = c[kFrameBytesWritten];
  out.frames_raw = c[kFramesRaw];
  out.frames_lz4 = c[kFramesLz4];
  out.write_groups = c[kWriteGroups];
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
  out.group_size = SnapshotOf({kGroupSize});
  if (appends_by_mode != nullptr) {
    out.*appends_by_mode = SnapshotOf({kAppendMicros, kAppendBatchMicros});
  }
  return out;
}

void StatsRecorder::Reset() {
  for (int s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    for (auto& c : shard.counters) c.store(0, std::memory_order_relaxed);
    for (Hist& h : shard.histograms) {
      h.count.store(0, std::memory_order_relaxed);
      h.sum.store(0, std::memory_order_relaxed);
      h.min.store(UINT64_MAX, std::memory_order_relaxed);
      h.max.store(0, std::memory_order_relaxed);
      for (auto& b : h.buckets) b.store(0, std::memory_order_relaxed);
    }
  }
}

}  // namespace internal
}  // namespace ironwal
