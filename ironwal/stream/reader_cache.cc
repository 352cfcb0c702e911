#include "ironwal/stream/reader_cache.h"

#include <algorithm>
#include <vector>

namespace ironwal {

ReaderCache::ReaderCache(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

std::shared_ptr<SegmentReader> ReaderCache::Lookup(const void* owner, uint64_t segment_start) {
  MutexLock lock(&mu_);
  auto it = map_.find(Key(owner, segment_start));
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ReaderCache::Insert(const void* owner, uint64_t segment_start,
                         std::shared_ptr<SegmentReader> reader) {
  std::vector<std::shared_ptr<SegmentReader>> evicted;  // Closed outside the lock.
  MutexLock lock(&mu_);
  const Key key(owner, segment_start);
  auto it = map_.find(key);
  if (it != map_.end()) {
    evicted.push_back(std::move(it->second->second));
    lru_.erase(it->second);
    map_.erase(it);
  }
  lru_.emplace_front(key, std::move(reader));
  map_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    evicted.push_back(std::move(lru_.back().second));
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void ReaderCache::Erase(const void* owner, uint64_t segment_start) {
  std::shared_ptr<SegmentReader> evicted;
  MutexLock lock(&mu_);
  auto it = map_.find(Key(owner, segment_start));
  if (it == map_.end()) return;
  evicted = std::move(it->second->second);
  lru_.erase(it->second);
  map_.erase(it);
}

size_t ReaderCache::size() const {
  MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace ironwal
