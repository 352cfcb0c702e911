// File: ironwal/stats/recorder.h
//
// StatsRecorder: where a Wal's statistics are counted (internal); Snapshot() sums them
// into the public Statistics (ironwal/stats/statistics.h).
//
//   StatsRecorder::Local& mine = recorder.Mine();  // this thread's shard
//   mine.Add(StatsRecorder::kGets);
//   mine.Record(StatsRecorder::kFdatasyncMicros, micros);
//   StatsRecorder::Counters* c = recorder.NewCounters();  // a stream's, under its lock
//   c->Add(StatsRecorder::kAppends);
//   Statistics s = recorder.Snapshot();
//
// Built to cost a few nanoseconds per append (measured by `ironwal bench --only stats`):
// every thread that records gets a shard of its own (Local), so an update is a plain load
// and store of a relaxed atomic, with no lock prefix, no compare-and-swap and no cache line
// shared with another writer. Finding the shard is one thread-local compare. A shard
// outlives its thread: when a thread ends, its shard (with its counts) goes back to the
// recorder and the next new thread takes it over, so the number of shards is the largest
// number of threads that recorded at once, not the number that ever did.
// A stream's writes are counted without even that lookup: each stream has Counters of its
// own (NewCounters), updated only under the stream's write lock, where its frames are
// published.
//
// Thread-safety: thread-safe. A Local is used only by the thread Mine() gave it to; a
// Counters only by the holder of the one lock its owner names.
// Snapshot sums the shards one by one, so it may see part of a concurrent update (a count
// without its bytes); Reset racing with updates may keep some of them. Durability: memory
// only.
#ifndef IRONWAL_STATS_RECORDER_H_
#define IRONWAL_STATS_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"

#include "ironwal/base/mutex.h"
#include "ironwal/stats/histogram.h"
#include "ironwal/stats/statistics.h"

namespace ironwal {
namespace internal {

class StatsRecorder {
 public:
  // The counters, in the order of Statistics' fields (but kLz4BytesSaved and
  // kGroupsOfOne). Fields derived at Snapshot have none: frames_written (each append is
  // one frame, so = appends), frames_raw (frames_written - frames_lz4), write_groups
  // (group_size's count), and logical_bytes_appended: a frame without LZ4 is its 32-byte
  // header and each entry behind its 4-byte length, so the entries' bytes are
  // frame_bytes_written + kLz4BytesSaved - 32 x appends - 4 x entries_appended.
  enum Counter : int {
    kAppends,
    kAppendErrors,
    kEntriesAppended,
    kFrameBytesWritten,
    kFramesLz4,
    // Not a field: over the LZ4 frames, the raw frame's size minus the compressed one's.
    kLz4BytesSaved,
    // Not a field: write groups of one write (every kAsync group), folded into group_size
    // at Snapshot, so the common case is one update instead of a histogram record. Next
    // to the other counters a stream updates per write, so they share one cache line.
    kGroupsOfOne,
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

  // Appends whose latency is timed in kAsync: one in this many of each stream's (those made
  // while the stream's kAppends is a multiple of it: its first, its 65th, ...). A kAsync
  // append is a memory copy that takes less than the two clock reads timing it would cost;
  // the other modes time every append (Statistics says so).
  static constexpr uint64_t kAsyncTimedEvery = 64;

  // Counters with one writer at a time (a thread's, or a stream's under its write lock),
  // so an update is a load and a store.
  class alignas(64) Counters {
   public:
    void Add(Counter c, uint64_t n = 1) { Bump(values_[c], n); }
    // The count so far (any thread may read it; it may lag a concurrent update).
    uint64_t Get(Counter c) const { return values_[c].load(std::memory_order_relaxed); }

   private:
    friend class StatsRecorder;
    void Reset();
    std::atomic<uint64_t> values_[kNumCounters] = {};
  };

  // One thread's shard. Only its owner writes it.
  class Local {
   public:
    void Add(Counter c, uint64_t n = 1) { counters_.Add(c, n); }
    void Record(Histogram h, uint64_t value) { histograms_[h].Record(value); }
    // A write group of `writes` writes (Statistics::group_size, write_groups).
    void RecordGroup(uint64_t writes) {
      if (writes == 1) {
        counters_.Add(kGroupsOfOne);
      } else {
        histograms_[kGroupSize].Record(writes);
      }
    }

   private:
    friend class StatsRecorder;
    struct Hist {
      void Record(uint64_t value) {
        Bump(count, 1);
        Bump(sum, value);
        Bump(buckets[HistogramBuckets::Of(value)], 1);
        if (value < min.load(std::memory_order_relaxed)) {
          min.store(value, std::memory_order_relaxed);
        }
        if (value > max.load(std::memory_order_relaxed)) {
          max.store(value, std::memory_order_relaxed);
        }
      }
      std::atomic<uint64_t> count{0};
      std::atomic<uint64_t> sum{0};
      std::atomic<uint64_t> min{UINT64_MAX};
      std::atomic<uint64_t> max{0};
      std::atomic<uint64_t> buckets[HistogramBuckets::kCount] = {};
    };
    void Reset();

    Counters counters_;
    Hist histograms_[kNumHistograms];
  };

  StatsRecorder();
  StatsRecorder(const StatsRecorder&) = delete;
  StatsRecorder& operator=(const StatsRecorder&) = delete;
  ~StatsRecorder();

  // This thread's shard of this recorder.
  Local& Mine() {
    if (cached_.recorder_id == id_) return *cached_.local;
    return MineSlow();
  }
  void Add(Counter c, uint64_t n = 1) { Mine().Add(c, n); }
  void Record(Histogram h, uint64_t value) { Mine().Record(h, value); }

  // Counters for one writer that is not a thread (a stream, updating them only under its
  // write lock); they live as long as the recorder and count in every Snapshot.
  Counters* NewCounters();

  // `appends_by_mode`, if not null, names the field of the Wal's sync mode
  // (&Statistics::append_strict_micros, ...): it gets every timed append's latency
  // (append_micros and append_batch_micros merged), so no append is recorded twice; the
  // other modes' fields stay empty.
  Statistics Snapshot(HistogramSnapshot Statistics::*appends_by_mode = nullptr) const;
  void Reset();

  // Shards made so far: the most threads that recorded at once (for tests).
  size_t shard_count() const;

  // A thread that recorded has ended: its shards go back to their recorders (internal to
  // recorder.cc; public for its thread-exit hook).
  struct Held;
  void Release(Local* local);

 private:
  // The last recorder this thread used, and its shard there (trivial, as `__thread`
  // requires).
  struct Cache {
    uint64_t recorder_id;  // ids start at 1; zero-initialized, as any thread_local
    Local* local;
  };
  // `__thread`, not `thread_local`: the same storage, but other files reading it need not
  // call a thread-local initialization wrapper first (a `thread_local` defined in another
  // file might have a dynamic initializer; this one cannot).
  static __thread Cache cached_;

  static void Bump(std::atomic<uint64_t>& a, uint64_t n) {
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  Local& MineSlow();
  // The histograms in `hs`, merged over every shard.
  // `ones` more values of 1 are added (kGroupsOfOne).
  HistogramSnapshot SnapshotOf(std::initializer_list<Histogram> hs, uint64_t ones = 0) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t id_;  // never reused, unlike the address
  mutable Mutex mu_;
  std::vector<std::unique_ptr<Local>> shards_ ABSL_GUARDED_BY(mu_);  // all, in creation order
  std::vector<Local*> free_ ABSL_GUARDED_BY(mu_);                    // shards whose thread ended
  std::vector<std::unique_ptr<Counters>> writers_ ABSL_GUARDED_BY(mu_);  // NewCounters'
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STATS_RECORDER_H_
