// File: ironwal/wal/frame_cache.h
//
// FrameCache: decoded frames kept for Get and MultiGet (WalOptions::block_cache_size), by
// stream, segment and byte offset, weighted by their entries' bytes; the least recently
// used go first. Published frames never change, so entries never need invalidating.
//
// Thread-safety: thread-safe.
#ifndef IRONWAL_WAL_FRAME_CACHE_H_
#define IRONWAL_WAL_FRAME_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

#include "ironwal/base/mutex.h"

namespace ironwal {
namespace internal {

class FrameCache {
 public:
  struct Key {
    const void* stream = nullptr;
    uint64_t segment_start_id = 0;
    uint64_t offset = 0;
    // The frame's first ID, as read there: a lookup through a stale frame index file
    // (which may put another frame's start at that offset) does not find it.
    uint64_t start_id = 0;
    // Stream::log_epoch() when the frame was located: a suffix truncation, reset or
    // delete moves it, so frames cached before one (their offsets may hold other frames
    // now) are never found again.
    uint64_t epoch = 0;

    friend bool operator==(const Key& a, const Key& b) {
      return a.stream == b.stream && a.segment_start_id == b.segment_start_id &&
             a.offset == b.offset && a.start_id == b.start_id && a.epoch == b.epoch;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.stream, k.segment_start_id, k.offset, k.start_id, k.epoch);
    }
  };
  // A frame's entries, in ID order.
  using Entries = std::vector<std::string>;

  explicit FrameCache(uint64_t capacity_bytes);
  FrameCache(const FrameCache&) = delete;
  FrameCache& operator=(const FrameCache&) = delete;

  std::shared_ptr<const Entries> Lookup(const Key& key);
  void Insert(const Key& key, std::shared_ptr<const Entries> entries);
  uint64_t used_bytes() const;

 private:
  struct Node {
    Key key;
    std::shared_ptr<const Entries> entries;
    uint64_t weight;
  };

  const uint64_t capacity_;
  mutable Mutex mu_;
  std::list<Node> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  absl::flat_hash_map<Key, std::list<Node>::iterator> map_ ABSL_GUARDED_BY(mu_);
  uint64_t used_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_WAL_FRAME_CACHE_H_
