#include "ironwal/wal/frame_cache.h"

#include <utility>

namespace ironwal {
namespace internal {

FrameCache::FrameCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

std::shared_ptr<const FrameCache::Entries> FrameCache::Lookup(const Key& key) {
  MutexLock lock(&mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->entries;
}

void FrameCache::Insert(const Key& key, std::shared_ptr<const Entries> entries) {
  uint64_t weight = 1;
  for (const std::string& e : *entries) weight += e.size() + sizeof(std::string);
  if (weight > capacity_) return;
  std::vector<std::shared_ptr<const Entries>> evicted;  // Freed outside the lock.
  MutexLock lock(&mu_);
  if (map_.count(key) > 0) return;
  lru_.push_front(Node{key, std::move(entries), weight});
  map_[key] = lru_.begin();
  used_ += weight;
  while (used_ > capacity_) {
    used_ -= lru_.back().weight;
    evicted.push_back(std::move(lru_.back().entries));
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

uint64_t FrameCache::used_bytes() const {
  MutexLock lock(&mu_);
  return used_;
}

}  // namespace internal
}  // namespace ironwal
