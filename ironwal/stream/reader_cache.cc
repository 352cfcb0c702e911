#include "ironwal/stream/reader_cache.h"

#include <algorithm>
#include <vector>

namespace ironwal {
namespace internal {

namespace {

std::atomic<uint64_t> next_serial{1};
thread_local uint64_t thread_hint_hits = 0;

}  // namespace

uint64_t ReaderCache::ThreadHintHits() { return thread_hint_hits; }

// One remembered hit: which cache (serial), which segment, the cache's generation then,
// and the slot (weakly: the hint never keeps a reader open).
struct ReaderCache::Hint {
  uint64_t serial = 0;
  Key key{nullptr, 0};
  uint64_t generation = 0;
  std::weak_ptr<Slot> slot;
};

ReaderCache::ReaderCache(size_t capacity, uint64_t index_bytes)
    : capacity_(std::max<size_t>(capacity, 1)),
      index_bytes_(index_bytes),
      serial_(next_serial.fetch_add(1, std::memory_order_relaxed)) {}

ReaderCache::Hint* ReaderCache::HintFor(const Key& key) {
  // A few segments per thread (a reader alternating between two streams or segments keeps
  // both), chosen by the key's bits.
  constexpr size_t kHints = 4;
  thread_local Hint hints[kHints];
  const uintptr_t mix = reinterpret_cast<uintptr_t>(key.first) / 64 ^ key.second;
  return &hints[(mix ^ (mix >> 7)) % kHints];
}

std::shared_ptr<SegmentReader> ReaderCache::LookupByHint(const Key& key) {
  Hint* hint = HintFor(key);
  if (hint->serial != serial_ || hint->key != key ||
      hint->generation != generation_.load(std::memory_order_acquire)) {
    return nullptr;
  }
  // Unchanged generation: the slot was in map_ when the generation was read. If it has
  // left since (a concurrent Insert or Erase), lock() fails or returns a slot that was
  // cached an instant ago, as a locked Lookup just before that change would.
  std::shared_ptr<Slot> slot = hint->slot.lock();
  if (slot == nullptr) return nullptr;
  Touch(slot.get());
  ++thread_hint_hits;
  // Shares the slot's ownership (which holds the reader) without another count.
  SegmentReader* const reader = slot->reader.get();
  return std::shared_ptr<SegmentReader>(std::move(slot), reader);
}

std::shared_ptr<SegmentReader> ReaderCache::Lookup(const void* owner, uint64_t segment_start) {
  const Key key(owner, segment_start);
  if (std::shared_ptr<SegmentReader> hit = LookupByHint(key)) return hit;
  MutexLock lock(&mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  Touch(it->second.get());
  Hint* hint = HintFor(key);
  hint->serial = serial_;
  hint->key = key;
  hint->generation = generation_.load(std::memory_order_relaxed);
  hint->slot = it->second;
  return it->second->reader;
}

void ReaderCache::Insert(const void* owner, uint64_t segment_start,
                         std::shared_ptr<SegmentReader> reader) {
  std::vector<std::shared_ptr<Slot>> evicted_slots;  // Closed outside the lock.
  MutexLock lock(&mu_);
  generation_.fetch_add(1, std::memory_order_release);
  const Key key(owner, segment_start);
  auto it = map_.find(key);
  if (it != map_.end()) {
    evicted_slots.push_back(std::move(it->second));
    map_.erase(it);
  }
  UnshelveLocked(key);  // the reader holds the index now
  auto slot = std::make_shared<Slot>(std::move(reader));
  Touch(slot.get());
  map_[key] = std::move(slot);
  while (map_.size() > capacity_) {
    // The least recently used: the smallest tick (a scan of at most capacity + 1 slots,
    // on a miss, which opens a file anyway).
    auto last = map_.begin();
    for (auto i = map_.begin(); i != map_.end(); ++i) {
      if (i->second->last_use.load(std::memory_order_relaxed) <
          last->second->last_use.load(std::memory_order_relaxed)) {
        last = i;
      }
    }
    // A sealed segment's index stays, so the next miss reads only its frame. Not a
    // damaged one's: it holds only the frames before the damage, and a reader opened on
    // it could not tell the IDs after it lost (the next miss walks again).
    const std::shared_ptr<SegmentReader>& victim = last->second->reader;
    if (victim->sealed() && victim->damage().ok()) {
      ShelveLocked(last->first, victim->shared_index());
    }
    evicted_slots.push_back(std::move(last->second));
    map_.erase(last);
  }
}

void ReaderCache::Erase(const void* owner, uint64_t segment_start) {
  std::shared_ptr<Slot> evicted;
  MutexLock lock(&mu_);
  const Key key(owner, segment_start);
  UnshelveLocked(key);
  auto it = map_.find(key);
  if (it == map_.end()) return;
  generation_.fetch_add(1, std::memory_order_release);
  evicted = std::move(it->second);
  map_.erase(it);
}

size_t ReaderCache::size() const {
  MutexLock lock(&mu_);
  return map_.size();
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

std::vector<std::shared_ptr<const OffsetIndex>> ReaderCache::Indexes() const {
  std::vector<std::shared_ptr<const OffsetIndex>> indexes;
  MutexLock lock(&mu_);
  indexes.reserve(map_.size() + shelf_.size());
  for (const auto& [key, slot] : map_) indexes.push_back(slot->reader->shared_index());
  for (const Shelved& shelved : shelf_) indexes.push_back(shelved.index);
  return indexes;
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
