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
// offsets); slot frame_count() holds the published end. The arrays are cut into chunks
// that never move once allocated: a chunk is the slots [first, first + capacity), and the
// next chunk starts at its predecessor's last used slot, which both hold (so a frame's two
// slots are always in one chunk). A slot holds 32 bits relative to its chunk (see Slot):
// 8 bytes a frame; a value that does not fit starts the next chunk. A directory lists the chunks
// (first slot, first ID, first offset, addresses); it is published by an atomic pointer and
// appended in place, and replaced (kept until the index is destroyed) only when it is full,
// doubling.
//
// Publish writes the new end's slot, then stores the frame count with release; a reader
// loads the count with acquire, then the directory and its size (acquire), and reads only
// slots up to that count, so it sees whole frames and no gap, without anyone taking a
// lock. A chunk needed for a frame is allocated and listed before the count that makes
// the frame visible. Nothing is ever copied: each part of a walk's arrays (PublishAll)
// becomes a chunk whole, and a full chunk is followed by a new one of a quarter of the
// slots so far (at least 64), so the spare slots are at most about a quarter of those used.
//
// Thread-safety: one publisher (external synchronization between publishers) and any
// number of concurrent readers.
#ifndef IRONWAL_INDEX_OFFSET_INDEX_H_
#define IRONWAL_INDEX_OFFSET_INDEX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
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
  // end_id()). Takes no lock (see the file comment), nor does any other reader.
  std::optional<FrameLocation> Find(uint64_t id) const;

  // Bytes covered by the published frames that hold only IDs below `id` (end_offset() when
  // `id` is at or past end_id()). A reader that may see only IDs below some bound (a
  // stream's next ID, which moves after the frames are published here) reads up to this.
  uint64_t EndOffsetBelow(uint64_t id) const;

  // The published frame starting at byte `offset`, or nullopt.
  std::optional<FrameLocation> FrameAt(uint64_t offset) const;

  // Every frame is at least its 32-byte header, and at most the header and 2^32 - 1 bytes
  // of payload with 2^32 - 1 entries (the format's 32-bit fields). The slots' encoding
  // (below) relies on it: a frame of these sizes always fits a chunk that starts with
  // it. Publish and PublishAll IRONWAL_CHECK that each frame fits.
  static constexpr uint64_t kMinFrameSize = 32;

  // One slot of the index's arrays, relative to its chunk: slot j of a chunk holds its ID
  // less the chunk's first ID, and its offset less the chunk's first offset and
  // kMinFrameSize bytes for each slot before it, each in 32 bits (8 bytes a frame, not
  // 16). A value that does not fit starts a new chunk; one frame always fits. A vector's
  // resize leaves a Slot uninitialised (the publisher fills each slot before publishing
  // it; zero-filling every chunk would cost more than the publications themselves).
  struct Slot {
    Slot() {}  // NOLINT(modernize-use-equals-default): deliberately uninitialised
    Slot(uint32_t v) : value(v) {}  // NOLINT(google-explicit-constructor)
    uint32_t value;
  };

  // Frames a walk collected (recovery's scan, a sealed segment's indexing) before they are
  // published together: where each starts, in order. A frame ends where the next starts,
  // the last at the end given to PublishAll. Held in parts, each a chunk to be (its first
  // slot the previous part's last): one part unless a value does not fit a part's 32-bit
  // slots, or parts were appended.
  class Frames {
   public:
    // Room for `n` frames (a walk's estimate from the segment's size), and the end.
    void Reserve(size_t n) {
      Part& part = Tail();
      part.starts.reserve(n + 1);
      part.offsets.reserve(n + 1);
    }
    void Add(uint64_t start_id, uint64_t offset) {
      Part& part = Tail();
      if (part.starts.empty()) {
        part.first_id = start_id;
        part.first_offset = offset;
      }
      const uint64_t id = start_id - part.first_id;
      const uint64_t at = offset - part.first_offset - kMinFrameSize * part.starts.size();
      if (ABSL_PREDICT_FALSE((id | at) > kSlotMax)) return AddToNewPart(start_id, offset);
      part.starts.push_back(static_cast<uint32_t>(id));
      part.offsets.push_back(static_cast<uint32_t>(at));
    }
    // Adds `later`'s frames after these (a walk of the segment's next stretch, starting
    // where these end): its parts are taken over, not copied.
    void Append(Frames&& later);
    size_t size() const;
    bool empty() const { return parts_.empty() || parts_.front().starts.empty(); }

   private:
    friend class OffsetIndex;
    struct Part {
      uint64_t first_id = 0;
      uint64_t first_offset = 0;
      std::vector<Slot> starts;
      std::vector<Slot> offsets;
    };
    Part& Tail() {
      if (ABSL_PREDICT_FALSE(parts_.empty())) parts_.emplace_back();
      return parts_.back();
    }
    // A part starting at the last slot of the current one, then the slot.
    ABSL_ATTRIBUTE_NOINLINE void AddToNewPart(uint64_t start_id, uint64_t offset);
    std::vector<Part> parts_;
  };

  // Publishes `frames`, whose last one ends at ID `end_id` and byte `end_offset`, at once
  // (one lock): IRONWAL_CHECKs that they continue from end_id() and end_offset() and that
  // IDs and offsets increase (by a frame's least size). Each part of the arrays becomes a
  // chunk of the index, not copied.
  void PublishAll(Frames frames, uint64_t end_id, uint64_t end_offset);

  uint64_t segment_start_id() const { return segment_start_id_; }
  // One past the last published ID (the segment start when empty).
  uint64_t end_id() const { return end_id_.load(std::memory_order_acquire); }
  // Bytes covered by published frames.
  uint64_t end_offset() const { return end_offset_.load(std::memory_order_acquire); }
  size_t frame_count() const { return count_.load(std::memory_order_acquire); }
  // Calls `fn(const FrameLocation&)` for each frame published when the call starts, in
  // order. Takes no lock.
  template <typename Fn>
  void ForEachFrame(Fn fn) const {
    ForEachIn(Load(), fn);
  }
  // Approximate heap bytes held: the chunks' slots (spare ones included) and the
  // directories.
  size_t MemoryUsage() const;

  // Whether the frames came from a frame index file (frame_index_file.h): a hint that
  // every read checks, and that the stream gives up for a walk when a frame is not where
  // it says. Set once, before the index is shared.
  void MarkLoadedFromFile() { loaded_from_file_ = true; }
  bool loaded_from_file() const { return loaded_from_file_; }

 private:
  // One chunk of the arrays, as the directory lists it: slots [first_slot, first_slot +
  // capacity) at `starts` and `offsets`. first_id and first_offset are its first slot's
  // values, which its slots are relative to (see Slot).
  struct Chunk {
    uint64_t first_slot;
    uint64_t first_id;
    uint64_t first_offset;
    const Slot* starts;
    const Slot* offsets;

    // The values of the chunk's slot j.
    uint64_t IdAt(size_t j) const { return first_id + starts[j].value; }
    uint64_t OffsetAt(size_t j) const {
      return first_offset + kMinFrameSize * j + offsets[j].value;
    }
  };
  // The chunks in order. Entries below `size` are written before `size` is stored
  // (release) and never change; the publisher appends at `size` while readers read below.
  struct Directory {
    explicit Directory(size_t capacity) : capacity(capacity), chunks(new Chunk[capacity]) {}
    std::atomic<size_t> size{0};
    const size_t capacity;
    const std::unique_ptr<Chunk[]> chunks;
  };
  // What a reader loaded, in the order that makes it consistent: the frame count, then
  // the directory. Every slot up to `count` is in a chunk the directory lists.
  struct View {
    size_t count = 0;
    const Chunk* chunks = nullptr;
    size_t chunk_count = 0;

    // The chunk holding frame i (and so slots i and i + 1), for i < count; also the
    // chunk holding slot i for i <= count. The last two chunks are tried first (all of a
    // walk's index, and the frames a writer appends last).
    const Chunk& ChunkOfFrame(size_t i) const {
      const Chunk& last = chunks[chunk_count - 1];
      if (i >= last.first_slot) return last;
      // Then the one before it (a split scan's first half).
      if (chunk_count == 2 || i >= chunks[chunk_count - 2].first_slot) {
        return chunks[chunk_count - 2];
      }
      return SearchChunks(i);
    }
    const Chunk& SearchChunks(size_t i) const;
    // The values of slot i (i <= count).
    uint64_t StartAt(size_t slot) const;
    uint64_t OffsetAt(size_t slot) const;
    FrameLocation LocationOf(size_t i) const {
      const Chunk& chunk = ChunkOfFrame(i);
      return LocationIn(chunk, i - chunk.first_slot);
    }
    // Frame j of `chunk` (slots j and j + 1 of it).
    static FrameLocation LocationIn(const Chunk& chunk, size_t j) {
      FrameLocation loc;
      loc.start_id = chunk.IdAt(j);
      loc.offset = chunk.OffsetAt(j);
      // A frame ends where the next begins (the last one at the end's slot).
      loc.entry_count = chunk.starts[j + 1].value - chunk.starts[j].value;
      loc.size = kMinFrameSize + (chunk.offsets[j + 1].value - chunk.offsets[j].value);
      return loc;
    }
    // The index of the frame holding `id`, for an id in [segment start, slot count).
    size_t FrameHolding(uint64_t id) const;
    // The chunks holding frames of this view (a later one may start at `count`).
    size_t FrameChunks() const;
    // Frames of chunk k this view sees: [chunks[k].first_slot, this).
    size_t ChunkFramesEnd(size_t k) const;
  };
  View Load() const;
  // Find past its fast path (frames of one entry): frames of several, or none.
  ABSL_ATTRIBUTE_NOINLINE std::optional<FrameLocation> FindInFrames(const View& view,
                                                                    uint64_t id) const;

  // The publisher's slow paths, out of line. AddChunk adds the chunk that frame `n` starts
  // (its first slot a copy of the end, slot n; room for slot n + 1 and more). OutOfOrder
  // dies saying how a frame does not continue the index.
  ABSL_ATTRIBUTE_NOINLINE void AddChunk(size_t n);
  // Lists the chunk whose first slot is `first_slot` (ID `first_id` at `first_offset`)
  // and whose slots are `starts` and `offsets` (as many as their sizes; their storage
  // never moves once listed), and makes it the publisher's tail.
  void ListChunk(uint64_t first_slot, uint64_t first_id, uint64_t first_offset,
                 std::vector<Slot> starts, std::vector<Slot> offsets);
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE void OutOfOrder(uint64_t start_id, uint64_t offset,
                                                       uint32_t entry_count,
                                                       uint64_t frame_size) const;
  static constexpr uint64_t kSlotMax = UINT32_MAX;
  template <typename Fn>
  static void ForEachIn(const View& view, Fn& fn);

  // tests/index/offset_index_test.cc reads the chunks' addresses as Find loads them.
  friend class OffsetIndexTestPeer;

  const uint64_t segment_start_id_;
  // The publisher's tail chunk (only the publisher reads or writes these): slot s is at
  // tail_starts_[s - tail_first_slot_], for s below tail_end_slot_, relative to
  // tail_first_id_ and tail_first_offset_.
  Slot* tail_starts_ = nullptr;
  Slot* tail_offsets_ = nullptr;
  uint64_t tail_first_slot_ = 0;
  uint64_t tail_first_id_ = 0;
  uint64_t tail_first_offset_ = 0;
  uint64_t tail_end_slot_ = 0;  // 0 before the first chunk: the first Publish adds one
  // The current directory (null before the first chunk; stored with release).
  std::atomic<const Directory*> directory_{nullptr};
  // Ownership of the chunks' storage and of every directory (the current and those it
  // replaced: a reader may still be searching one). Only the publisher adds to them;
  // MemoryUsage reads them.
  mutable Mutex mu_;
  std::vector<std::vector<Slot>> storage_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Directory>> directories_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> count_{0};  // frames published; stored with release after their slots
  // The published end, stored after count_ (so a reader that sees them sees the frames).
  std::atomic<uint64_t> end_id_;
  std::atomic<uint64_t> end_offset_;
  bool loaded_from_file_ = false;
};

template <typename Fn>
void OffsetIndex::ForEachIn(const View& view, Fn& fn) {
  const size_t chunks = view.FrameChunks();
  for (size_t k = 0; k < chunks; ++k) {
    const Chunk& chunk = view.chunks[k];
    const size_t frames = view.ChunkFramesEnd(k) - chunk.first_slot;
    for (size_t j = 0; j < frames; ++j) fn(View::LocationIn(chunk, j));
  }
}

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_INDEX_OFFSET_INDEX_H_
