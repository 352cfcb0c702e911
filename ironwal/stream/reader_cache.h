// File: ironwal/stream/reader_cache.h
//
// ReaderCache: the open SegmentReaders of a Wal, at most `capacity` of them, least
// recently used evicted first (WalOptions::max_open_read_segments). Keyed by the owning
// stream and the segment's start ID. Readers are shared: an evicted reader closes when
// the last Get or iterator using it lets go, so eviction never pulls a file out from
// under a read.
//
// Thread-safety: thread-safe.
#ifndef IRONWAL_STREAM_READER_CACHE_H_
#define IRONWAL_STREAM_READER_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

#include "ironwal/base/mutex.h"
#include "ironwal/segment/segment_reader.h"

namespace ironwal {

class ReaderCache {
 public:
  // capacity >= 1.
  explicit ReaderCache(size_t capacity);
  ReaderCache(const ReaderCache&) = delete;
  ReaderCache& operator=(const ReaderCache&) = delete;

  // The cached reader, marked most recently used; nullptr if absent.
  std::shared_ptr<SegmentReader> Lookup(const void* owner, uint64_t segment_start);
  // Caches `reader` (replacing any other for the key), evicting the least recently used
  // beyond the capacity.
  void Insert(const void* owner, uint64_t segment_start, std::shared_ptr<SegmentReader> reader);
  void Erase(const void* owner, uint64_t segment_start);
  size_t size() const;

 private:
  using Key = std::pair<const void*, uint64_t>;
  using Entry = std::pair<Key, std::shared_ptr<SegmentReader>>;

  const size_t capacity_;
  mutable Mutex mu_;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  absl::flat_hash_map<Key, std::list<Entry>::iterator> map_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ironwal

#endif  // IRONWAL_STREAM_READER_CACHE_H_
