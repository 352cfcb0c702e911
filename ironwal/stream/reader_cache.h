// File: ironwal/stream/reader_cache.h
//
// ReaderCache: the open SegmentReaders of a Wal, at most `capacity` of them, least
// recently used evicted first (WalOptions::max_open_read_segments). Keyed by the owning
// stream and the segment's start ID. Readers are shared: an evicted reader closes when
// the last Get or iterator using it lets go, so eviction never pulls a file out from
// under a read.
//
// The offset indexes of sealed segments outlive their readers: when a sealed segment's
// reader is evicted (or a segment is sealed by rotation, its writer's index complete), its
// OffsetIndex is kept on a shelf, least recently used dropped first beyond `index_bytes`.
// A miss on a shelved segment then opens the file and reads only the frame asked for,
// instead of walking the whole segment to index it again (issue 17). A shelved index is
// only ever a hint: every read checks the frame's header against it and its CRC
// (SegmentReader::ReadFrame), so a stale one yields DataLoss, never other bytes. Erase
// drops both, for files that change (truncation, suffix cuts, resets, deletion).
//
// Lookup's hit path (issue 17, W6) takes no lock: each thread remembers its last few hits
// (a weak reference to the cached slot, with the cache's generation at the time); while
// no Insert or Erase has changed the cache since (the generation is unchanged), the slot
// is still cached and the hint's reader is returned. Recency is a tick stamped on the slot
// (one atomic increment), not a move in a list: eviction takes the smallest tick, so the
// order is the same least-recently-used as before. A hint holds no reader: an evicted
// reader still closes when its last user lets go.
//
// Thread-safety: thread-safe.
#ifndef IRONWAL_STREAM_READER_CACHE_H_
#define IRONWAL_STREAM_READER_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

#include "ironwal/base/mutex.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_reader.h"

namespace ironwal {
namespace internal {

class ReaderCache {
 public:
  // Heap bytes of shelved indexes kept by default (8 bytes a frame: 8 Mi frames).
  static constexpr uint64_t kDefaultIndexBytes = 64ull << 20;

  // capacity >= 1.
  explicit ReaderCache(size_t capacity, uint64_t index_bytes = kDefaultIndexBytes);
  ReaderCache(const ReaderCache&) = delete;
  ReaderCache& operator=(const ReaderCache&) = delete;

  // The cached reader, marked most recently used; nullptr if absent.
  std::shared_ptr<SegmentReader> Lookup(const void* owner, uint64_t segment_start);
  // Lookups the calling thread had answered by its hints, without a lock, in any cache
  // (for tests: a per-thread count, so that a hit writes nothing shared).
  static uint64_t ThreadHintHits();
  // Caches `reader` (replacing any other for the key), evicting the least recently used
  // beyond the capacity.
  void Insert(const void* owner, uint64_t segment_start, std::shared_ptr<SegmentReader> reader);
  // Drops the reader and the shelved index of the segment.
  void Erase(const void* owner, uint64_t segment_start);
  size_t size() const;

  // Shelves the complete index of a sealed segment (marked most recently used).
  void Shelve(const void* owner, uint64_t segment_start, std::shared_ptr<const OffsetIndex> index);
  // The shelved index of a sealed segment, or nullptr.
  std::shared_ptr<const OffsetIndex> ShelvedIndex(const void* owner, uint64_t segment_start);
  size_t shelved_count() const;
  // The offset indexes the cache holds, its readers' and shelved (for memory accounting;
  // an index may appear twice, or also be a stream's active index).
  std::vector<std::shared_ptr<const OffsetIndex>> Indexes() const;
  uint64_t shelved_bytes() const;

 private:
  using Key = std::pair<const void*, uint64_t>;
  // A cached reader and when it was last used (a tick_ value).
  struct Slot {
    explicit Slot(std::shared_ptr<SegmentReader> r) : reader(std::move(r)) {}
    std::shared_ptr<SegmentReader> reader;
    std::atomic<uint64_t> last_use{0};
  };
  struct Hint;
  struct Shelved {
    Key key;
    std::shared_ptr<const OffsetIndex> index;
    uint64_t bytes;  // its MemoryUsage() when shelved
  };

  void ShelveLocked(const Key& key, std::shared_ptr<const OffsetIndex> index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnshelveLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // This thread's hint slot for `key`, and the lock-free lookup through it.
  static Hint* HintFor(const Key& key);
  std::shared_ptr<SegmentReader> LookupByHint(const Key& key);
  // Marks `slot` most recently used. Ticks are unique, so a slot stamped with the latest
  // tick is already the most recent: then nothing is written (a thread reading one
  // segment over and over touches no shared line).
  void Touch(Slot* slot) {
    if (slot->last_use.load(std::memory_order_relaxed) == tick_.load(std::memory_order_relaxed)) {
      return;
    }
    slot->last_use.store(tick_.fetch_add(1, std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
  }

  const size_t capacity_;
  const uint64_t index_bytes_;
  // Tells this cache from any other a thread's hints saw, even one at the same address.
  const uint64_t serial_;
  mutable Mutex mu_;
  absl::flat_hash_map<Key, std::shared_ptr<Slot>> map_ ABSL_GUARDED_BY(mu_);
  // Moves (release, under mu_) on every change of map_'s membership: a hint taken at the
  // current generation names a slot still in map_.
  // On lines of their own: every hint hit reads generation_, and tick_ moves with use.
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<uint64_t> tick_{1};      // above every new slot's last_use (0)
  std::list<Shelved> shelf_ ABSL_GUARDED_BY(mu_);  // front = most recent
  absl::flat_hash_map<Key, std::list<Shelved>::iterator> shelf_map_ ABSL_GUARDED_BY(mu_);
  uint64_t shelf_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_READER_CACHE_H_
