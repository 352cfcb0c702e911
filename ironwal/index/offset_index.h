// File: ironwal/index/offset_index.h
//
// OffsetIndex: where each frame of one segment starts, so a read finds the frame holding an
// ID with a binary search instead of walking the segment's headers (ironwal 0.6 walks them
// from byte 0 on every read). ironwal 0.6's format has no such index on disk; it is built
// in memory: by the writer as it appends frames, by recovery as it scans the active
// segment, and by a reader the first time it opens a sealed segment.
//
// Only *published* frames are visible: the writer publishes a frame once it may be read
// (after its sync, in the strict sync mode), so a reader never sees an ID whose append has
// not returned.
//
//   OffsetIndex index(/*segment_start_id=*/100);
//   index.Publish(/*start_id=*/100, /*offset=*/0, /*entry_count=*/3, /*frame_size=*/60);
//   std::optional<FrameLocation> where = index.Find(101);   // {100, 0, 3, 60}
//
// Publication: frame i's boundaries are slots i and i + 1 of two arrays (start IDs,
// offsets); slot frame_count() holds the published end. Publish writes the new end's slot,
// then stores the frame count with release; a reader loads the count with acquire and reads
// only slots up to it, so it sees whole frames and no gap, without the writer taking a
// lock. The arrays move only when they grow (every doubling, or PublishAll appending), under
// the exclusive side of mu_: the publisher copies the slots into new arrays, stores their
// addresses (release) and keeps the old arrays until the index is destroyed (a reader may
// still be searching them; they hold every slot it may read). Find, a Get's lookup, so
// takes no lock: it loads the count (acquire), then the arrays' addresses, and reads slots
// up to that count, which any array it may see holds. The other readers hold mu_'s shared
// side. The old arrays cost at most as much again as the current ones (they halve each
// time back), and only for an index that grew by Publish: the writer's (a walk's index is
// taken over whole by PublishAll).
//
// Thread-safety: one publisher (external synchronization between publishers) and any
// number of concurrent readers.
#ifndef IRONWAL_INDEX_OFFSET_INDEX_H_
#define IRONWAL_INDEX_OFFSET_INDEX_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"

#include "ironwal/base/mutex.h"

namespace ironwal {
namespace internal {

// One frame: IDs [start_id, start_id + entry_count) at bytes [offset, offset + size).
struct FrameLocation {
  uint64_t start_id = 0;
  uint64_t offset = 0;
  uint32_t entry_count = 0;
  uint64_t size = 0;

  uint64_t end_id() const { return start_id + entry_count; }
  uint64_t end_offset() const { return offset + size; }
};

class OffsetIndex {
 public:
  explicit OffsetIndex(uint64_t segment_start_id);
  OffsetIndex(const OffsetIndex&) = delete;
  OffsetIndex& operator=(const OffsetIndex&) = delete;

  // Makes a frame visible. Frames are published in order and back to back: IRONWAL_CHECKs
  // that `start_id` is end_id() and `offset` is end_offset().
  void Publish(uint64_t start_id, uint64_t offset, uint32_t entry_count, uint64_t frame_size);

  // The published frame holding `id`, or nullopt when `id` is outside [segment start,
  // end_id()). Takes no lock (see the file comment).
  std::optional<FrameLocation> Find(uint64_t id) const;

  // Bytes covered by the published frames that hold only IDs below `id` (end_offset() when
  // `id` is at or past end_id()). A reader that may see only IDs below some bound (a
  // stream's next ID, which moves after the frames are published here) reads up to this.
  uint64_t EndOffsetBelow(uint64_t id) const;

  // The published frame starting at byte `offset`, or nullopt.
  std::optional<FrameLocation> FrameAt(uint64_t offset) const;

  // One slot of the index's arrays: a uint64_t that a vector's resize leaves
  // uninitialised (the publisher fills each slot before publishing it; zero-filling every
  // doubling would cost more than the publications themselves).
  struct Slot {
    Slot() {}  // NOLINT(modernize-use-equals-default): deliberately uninitialised
    Slot(uint64_t v) : value(v) {}  // NOLINT(google-explicit-constructor)
    uint64_t value;
  };

  // Frames a walk collected (recovery's scan, a sealed segment's indexing) before they are
  // published together: where each starts, in order. A frame ends where the next starts,
  // the last at the end given to PublishAll.
  class Frames {
   public:
    // Room for `n` frames (a walk's estimate from the segment's size), and the end.
    void Reserve(size_t n) {
      starts_.reserve(n + 1);
      offsets_.reserve(n + 1);
    }
    void Add(uint64_t start_id, uint64_t offset) {
      starts_.push_back(start_id);
      offsets_.push_back(offset);
    }
    // Adds `later`'s frames after these (a walk of the segment's next stretch).
    void Append(const Frames& later) {
      starts_.insert(starts_.end(), later.starts_.begin(), later.starts_.end());
      offsets_.insert(offsets_.end(), later.offsets_.begin(), later.offsets_.end());
    }
    size_t size() const { return starts_.size(); }
    bool empty() const { return starts_.empty(); }

   private:
    friend class OffsetIndex;
    std::vector<Slot> starts_;
    std::vector<Slot> offsets_;
  };

  // Publishes `frames`, whose last one ends at ID `end_id` and byte `end_offset`, at once
  // (one lock): IRONWAL_CHECKs that they continue from end_id() and end_offset() and that
  // IDs and offsets increase. An empty index takes the arrays over without copying them.
  void PublishAll(Frames frames, uint64_t end_id, uint64_t end_offset);

  uint64_t segment_start_id() const { return segment_start_id_; }
  // One past the last published ID (the segment start when empty).
  uint64_t end_id() const { return end_id_.load(std::memory_order_acquire); }
  // Bytes covered by published frames.
  uint64_t end_offset() const { return end_offset_.load(std::memory_order_acquire); }
  size_t frame_count() const { return count_.load(std::memory_order_acquire); }
  // Calls `fn(const FrameLocation&)` for each published frame in order, under the shared
  // lock (the publisher's Grow waits; fn must not call back into this index).
  template <typename Fn>
  void ForEachFrame(Fn fn) const {
    ReaderMutexLock lock(&mu_);
    const size_t n = count_.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) fn(LocationOf(i));
  }
  // Approximate heap bytes held (the arrays given up by growth included).
  size_t MemoryUsage() const;

  // Whether the frames came from a frame index file (frame_index_file.h): a hint that
  // every read checks, and that the stream gives up for a walk when a frame is not where
  // it says. Set once, before the index is shared.
  void MarkLoadedFromFile() { loaded_from_file_ = true; }
  bool loaded_from_file() const { return loaded_from_file_; }

 private:
  // Frame i of the first `count` (a count loaded by the caller).
  FrameLocation LocationOf(size_t i) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The publisher's slow paths, out of line: doubles the arrays (under the exclusive
  // lock); dies saying how a frame does not continue the index.
  ABSL_ATTRIBUTE_NOINLINE void Grow();
  // Makes `starts` and `offsets` the arrays (under the exclusive lock), keeping the old
  // ones for readers that may still search them (Find), and publishes their addresses.
  void ReplaceArraysLocked(std::vector<Slot> starts, std::vector<Slot> offsets)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE void OutOfOrder(uint64_t start_id, uint64_t offset,
                                                       uint32_t entry_count) const;

  // tests/index/offset_index_test.cc reads the arrays' addresses as Find loads them.
  friend class OffsetIndexTestPeer;

  const uint64_t segment_start_id_;
  mutable SharedMutex mu_;
  // Frame i starts at ID starts_[i] and byte offsets_[i] and ends where slot i + 1 says;
  // slot count_ is the published end. Two arrays, so the search over IDs reads only IDs.
  // Their sizes are the slots allocated (those past count_ + 1 are uninitialised). The
  // vectors themselves (pointer, size) change only under the exclusive lock; readers read
  // them under the shared lock. The publisher writes slot count_ + 1 without a lock: no
  // reader reads a slot past the count it loaded (see the file comment).
  std::vector<Slot> starts_;
  std::vector<Slot> offsets_;
  // starts_.data() and offsets_.data(), for Find (stored with release after the slots they
  // hold are written), and the arrays they pointed to before (kept, see the file comment).
  std::atomic<const Slot*> starts_at_;
  std::atomic<const Slot*> offsets_at_;
  std::vector<std::vector<Slot>> retired_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> count_{0};  // frames published; stored with release after their slots
  // The published end, stored after count_ (so a reader that sees them sees the frames).
  std::atomic<uint64_t> end_id_;
  std::atomic<uint64_t> end_offset_;
  bool loaded_from_file_ = false;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_INDEX_OFFSET_INDEX_H_
