#include "ironwal/stream/reader_cache.h"

#include <algorithm>
#include <vector>

namespace ironwal {
namespace internal {

ReaderCache::ReaderCache(size_t capacity, uint64_t index_bytes)
    : capacity_(std::max<size_t>(capacity, 1)), index_bytes_(index_bytes) {}

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
  UnshelveLocked(key);  // the reader holds the index now
  lru_.emplace_front(key, std::move(reader));
  map_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    Entry& last = lru_.back();
    // A sealed segment's index stays, so the next miss reads only its frame.
    if (last.second->sealed()) ShelveLocked(last.first, last.second->shared_index());
    evicted.push_back(std::move(last.second));
    map_.erase(last.first);
    lru_.pop_back();
  }
}

void ReaderCache::Erase(const void* owner, uint64_t segment_start) {
  std::shared_ptr<SegmentReader> evicted;
  MutexLock lock(&mu_);
  const Key key(owner, segment_start);
  UnshelveLocked(key);
  auto it = map_.find(key);
  if (it == map_.end()) return;
  evicted = std::move(it->second->second);
  lru_.erase(it->second);
  map_.erase(it);
}

size_t ReaderCache::size() const {
  MutexLock lock(&mu_);
  return lru_.size();
}

void ReaderCache::Shelve(const void* owner, uint64_t segment_start,
                         std::shared_ptr<const OffsetIndex> index) {
  MutexLock lock(&mu_);
  ShelveLocked(Key(owner, segment_start), std::move(index));
}

std::shared_ptr<const OffsetIndex> ReaderCache::ShelvedIndex(const void* owner,
                                                             uint64_t segment_start) {
  MutexLock lock(&mu_);
  auto it = shelf_map_.find(Key(owner, segment_start));
  if (it == shelf_map_.end()) return nullptr;
  shelf_.splice(shelf_.begin(), shelf_, it->second);
  return it->second->index;
}

size_t ReaderCache::shelved_count() const {
  MutexLock lock(&mu_);
  return shelf_.size();
}

uint64_t ReaderCache::shelved_bytes() const {
  MutexLock lock(&mu_);
  return shelf_bytes_;
}

void ReaderCache::ShelveLocked(const Key& key, std::shared_ptr<const OffsetIndex> index) {
  UnshelveLocked(key);
  const uint64_t bytes = index->MemoryUsage();
  if (bytes > index_bytes_) return;
  shelf_bytes_ += bytes;
  shelf_.push_front(Shelved{key, std::move(index), bytes});
  shelf_map_[key] = shelf_.begin();
  while (shelf_bytes_ > index_bytes_) {
    shelf_bytes_ -= shelf_.back().bytes;
    shelf_map_.erase(shelf_.back().key);
    shelf_.pop_back();
  }
}

void ReaderCache::UnshelveLocked(const Key& key) {
  auto it = shelf_map_.find(key);
  if (it == shelf_map_.end()) return;
  shelf_bytes_ -= it->second->bytes;
  shelf_.erase(it->second);
  shelf_map_.erase(it);
}

}  // namespace internal
}  // namespace ironwal
