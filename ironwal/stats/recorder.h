// File: ironwal/stats/recorder.h
//
// StatsRecorder: where a Wal's statistics are counted (internal); Snapshot() sums them
// into the public Statistics (ironwal/stats/statistics.h).
//
//   recorder.Add(StatsRecorder::kAppends);
//   recorder.Record(StatsRecorder::kFdatasyncMicros, micros);
//   Statistics s = recorder.Snapshot();
//
// Built to be cheap (its cost: `ironwal bench --only stats`, README): the counters and
// histogram buckets are relaxed atomics, split into shards (a thread keeps to one shard),
// so threads on different cores rarely share a cache line and nothing takes a lock. A histogram's min and max take a compare-and-swap
// only when they move.
//
// Thread-safety: thread-safe. Snapshot sums the shards one by one, so it may see part of a
// concurrent update (a count without its bytes); Reset racing with updates may keep some
// of them. Durability: memory only.
#ifndef IRONWAL_STATS_RECORDER_H_
#define IRONWAL_STATS_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "ironwal/stats/histogram.h"
#include "ironwal/stats/statistics.h"

namespace ironwal {
namespace internal {

class StatsRecorder {
 public:
  // The counters, in the order of Statistics' fields.
  enum Counter : int {
    kAppends,
    kAppendErrors,
    kEntriesAppended,
    kLogicalBytesAppended,
    kFramesWritten,
    kFrameBytesWritten,
    kFramesRaw,
    kFramesLz4,
    kWriteGroups,
    kFdatasyncs,
    kRotations,
    kGets,
    kGetCacheHits,
    kScans,
    kBytesRead,
    kStreamsRecovered,
    kRecoveriesNotClean,
    kRecoveryCutBytes,
    kRecoveryLostIds,
    kPoisonings,
    kStreamsUnpoisoned,
    kNumCounters,
  };
  enum Histogram : int {
    kAppendMicros,
    kAppendBatchMicros,
    kFdatasyncMicros,
    kGroupSize,
    kNumHistograms,
  };

  StatsRecorder();
  StatsRecorder(const StatsRecorder&) = delete;
  StatsRecorder& operator=(const StatsRecorder&) = delete;
  ~StatsRecorder();

  void Add(Counter c, uint64_t n = 1) {
    MyShard().counters[c].fetch_add(n, std::memory_order_relaxed);
  }
  void Record(Histogram h, uint64_t value);

  // `appends_by_mode`, if not null, names the field of the Wal's sync mode
  // (&Statistics::append_strict_micros, ...): it gets every append's latency
  // (append_micros and append_batch_micros merged), so no append is recorded twice; the
  // other modes' fields stay empty.
  Statistics Snapshot(HistogramSnapshot Statistics::*appends_by_mode = nullptr) const;
  void Reset();

 private:
  struct Hist {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum{0};
    std::atomic<uint64_t> min{UINT64_MAX};
    std::atomic<uint64_t> max{0};
    std::atomic<uint64_t> buckets[HistogramBuckets::kCount] = {};
  };
  struct alignas(64) Shard {
    std::atomic<uint64_t> counters[kNumCounters] = {};
    Hist histograms[kNumHistograms];
  };
  static constexpr int kShards = 8;

  Shard& MyShard();
  // The histograms in `hs`, merged.
  HistogramSnapshot SnapshotOf(std::initializer_list<Histogram> hs) const;

  std::unique_ptr<Shard[]> shards_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STATS_RECORDER_H_
