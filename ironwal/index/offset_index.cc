#include "ironwal/index/offset_index.h"

#include <algorithm>
#include <utility>

#include "absl/base/optimization.h"

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {
namespace {

// `id` relative to a chunk (a 64-bit value: past the chunk's slots when it does not fit).
bool IdBefore(uint64_t id, const OffsetIndex::Slot& slot) { return id < slot.value; }

// Slots of the chunk that follows a full one: a quarter of the slots so far, so that the
// spare slots stay a small part of the index however it grows.
size_t NextChunkSlots(size_t slots_so_far) { return std::max<size_t>(64, slots_so_far / 4); }

}  // namespace

OffsetIndex::OffsetIndex(uint64_t segment_start_id)
    : segment_start_id_(segment_start_id), end_id_(segment_start_id), end_offset_(0) {}

// ---- Readers (no lock) ----

OffsetIndex::View OffsetIndex::Load() const {
  View view;
  view.count = count_.load(std::memory_order_acquire);
  if (view.count == 0) return view;
  // The count's acquire makes the directory that lists its chunks visible (the publisher
  // listed them before storing the count); a later directory lists them too.
  const Directory* const directory = directory_.load(std::memory_order_acquire);
  view.chunks = directory->chunks.get();
  view.chunk_count = directory->size.load(std::memory_order_acquire);
  return view;
}

const OffsetIndex::Chunk& OffsetIndex::View::SearchChunks(size_t i) const {
  // The last chunk starting at or before slot i. A chunk starting at slot `count` (added
  // after the count was loaded) holds that slot too: its first slot is a copy of the end.
  const Chunk* const end = chunks + chunk_count;
  const Chunk* const it = std::upper_bound(
      chunks, end, i, [](size_t slot, const Chunk& chunk) { return slot < chunk.first_slot; });
  return *(it - 1);
}

uint64_t OffsetIndex::View::StartAt(size_t slot) const {
  const Chunk& chunk = ChunkOfFrame(slot);
  return chunk.IdAt(slot - chunk.first_slot);
}

uint64_t OffsetIndex::View::OffsetAt(size_t slot) const {
  const Chunk& chunk = ChunkOfFrame(slot);
  return chunk.OffsetAt(slot - chunk.first_slot);
}

size_t OffsetIndex::View::FrameChunks() const {
  const Chunk* const end = chunks + chunk_count;
  const Chunk* const it = std::lower_bound(
      chunks, end, count, [](const Chunk& chunk, size_t n) { return chunk.first_slot < n; });
  return static_cast<size_t>(it - chunks);
}

size_t OffsetIndex::View::ChunkFramesEnd(size_t k) const {
  if (k + 1 < chunk_count) return std::min<size_t>(count, chunks[k + 1].first_slot);
  return count;
}

size_t OffsetIndex::View::FrameHolding(uint64_t id) const {
  // The last chunk whose first frame starts at or before `id`, then the last frame in it
  // that does.
  const size_t frame_chunks = FrameChunks();
  const Chunk* const it =
      std::upper_bound(chunks, chunks + frame_chunks, id,
                       [](uint64_t value, const Chunk& chunk) { return value < chunk.first_id; });
  const size_t k = static_cast<size_t>(it - chunks) - 1;
  const Chunk& chunk = chunks[k];
  const Slot* const first = chunk.starts;
  const Slot* const found = std::upper_bound(first, first + (ChunkFramesEnd(k) - chunk.first_slot),
                                             id - chunk.first_id, IdBefore);
  return chunk.first_slot + static_cast<size_t>(found - first) - 1;
}

std::optional<FrameLocation> OffsetIndex::Find(uint64_t id) const {
  const View view = Load();
  if (id < segment_start_id_ || view.count == 0) return std::nullopt;
  // Most frames hold one entry, so frame i usually starts at ID start + i: try that first.
  const uint64_t guess = id - segment_start_id_;
  if (guess < view.count) {
    const Chunk& chunk = view.ChunkOfFrame(static_cast<size_t>(guess));
    const size_t j = static_cast<size_t>(guess - chunk.first_slot);
    if (chunk.starts[j].value == id - chunk.first_id) return View::LocationIn(chunk, j);
  }
  return FindInFrames(view, id);
}

std::optional<FrameLocation> OffsetIndex::FindInFrames(const View& view, uint64_t id) const {
  const uint64_t end = view.StartAt(view.count);
  if (id >= end) return std::nullopt;
  // Frames of several entries (batches): the frame the ID's place among the IDs suggests
  // (right when the frames hold as many entries each), then a binary search.
  const double place =
      static_cast<double>(id - segment_start_id_) / static_cast<double>(end - segment_start_id_);
  const size_t suggested =
      std::min(view.count - 1, static_cast<size_t>(place * static_cast<double>(view.count)));
  const Chunk& chunk = view.ChunkOfFrame(suggested);
  const size_t j = suggested - chunk.first_slot;
  const uint64_t relative = id - chunk.first_id;
  if (chunk.starts[j].value <= relative && relative < chunk.starts[j + 1].value) {
    return View::LocationIn(chunk, j);
  }
  return view.LocationOf(view.FrameHolding(id));
}

uint64_t OffsetIndex::EndOffsetBelow(uint64_t id) const {
  const View view = Load();
  if (view.count == 0 || id <= segment_start_id_) return 0;
  if (id >= view.StartAt(view.count)) return view.OffsetAt(view.count);
  // The frame holding `id` and every later one are left out.
  return view.OffsetAt(view.FrameHolding(id));
}

std::optional<FrameLocation> OffsetIndex::FrameAt(uint64_t offset) const {
  const View view = Load();
  if (view.count == 0) return std::nullopt;
  const size_t frame_chunks = view.FrameChunks();
  const Chunk* const it = std::upper_bound(
      view.chunks, view.chunks + frame_chunks, offset,
      [](uint64_t value, const Chunk& chunk) { return value < chunk.first_offset; });
  if (it == view.chunks) return std::nullopt;
  const size_t k = static_cast<size_t>(it - view.chunks) - 1;
  const Chunk& chunk = view.chunks[k];
  // The first frame of the chunk starting at or after `offset` (a slot's offset depends on
  // its place in the chunk, so the search decodes each value it looks at).
  size_t low = 0;
  size_t high = view.ChunkFramesEnd(k) - chunk.first_slot;
  const size_t frames = high;
  while (low < high) {
    const size_t mid = low + (high - low) / 2;
    if (chunk.OffsetAt(mid) < offset) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  if (low == frames || chunk.OffsetAt(low) != offset) return std::nullopt;
  return View::LocationIn(chunk, low);
}

// ---- The publisher ----

void OffsetIndex::ListChunk(uint64_t first_slot, uint64_t first_id, uint64_t first_offset,
                            std::vector<Slot> starts, std::vector<Slot> offsets) {
  Chunk chunk;
  chunk.first_slot = first_slot;
  chunk.first_id = first_id;
  chunk.first_offset = first_offset;
  chunk.starts = starts.data();
  chunk.offsets = offsets.data();
  tail_starts_ = starts.data();
  tail_offsets_ = offsets.data();
  tail_first_slot_ = first_slot;
  tail_first_id_ = first_id;
  tail_first_offset_ = first_offset;
  tail_end_slot_ = first_slot + std::min(starts.size(), offsets.size());
  MutexLock lock(&mu_);
  storage_.push_back(std::move(starts));  // moving a vector keeps its storage where it is
  storage_.push_back(std::move(offsets));
  Directory* const current = directories_.empty() ? nullptr : directories_.back().get();
  const size_t listed = current == nullptr ? 0 : current->size.load(std::memory_order_relaxed);
  if (current != nullptr && listed < current->capacity) {
    // Readers read only below the size: the new entry is theirs once the size says so.
    current->chunks[listed] = chunk;
    current->size.store(listed + 1, std::memory_order_release);
    return;
  }
  // Full (or none yet): a directory twice as large, the old one kept for readers that
  // loaded it. Most indexes are one chunk (a walk's), so the first has room for one.
  auto grown = std::make_unique<Directory>(std::max<size_t>(1, 2 * listed));
  if (current != nullptr)
    std::copy(current->chunks.get(), current->chunks.get() + listed, grown->chunks.get());
  grown->chunks[listed] = chunk;
  grown->size.store(listed + 1, std::memory_order_relaxed);
  directory_.store(grown.get(), std::memory_order_release);
  directories_.push_back(std::move(grown));
}

void OffsetIndex::AddChunk(size_t n) {
  // Slots are left uninitialised past the first (see Slot): the publisher fills each
  // before publishing it.
  const size_t slots = NextChunkSlots(n + 1);
  std::vector<Slot> starts(slots);
  std::vector<Slot> offsets(slots);
  starts[0] = 0;  // the end's slot, relative to itself
  offsets[0] = 0;
  ListChunk(n, end_id_.load(std::memory_order_relaxed), end_offset_.load(std::memory_order_relaxed),
            std::move(starts), std::move(offsets));
}

void OffsetIndex::OutOfOrder(uint64_t start_id, uint64_t offset, uint32_t entry_count,
                             uint64_t frame_size) const {
  const uint64_t end = end_id_.load(std::memory_order_relaxed);
  const uint64_t end_offset = end_offset_.load(std::memory_order_relaxed);
  IRONWAL_CHECK(entry_count > 0) << "frame at " << offset;
  IRONWAL_CHECK(frame_size >= kMinFrameSize && frame_size - kMinFrameSize <= kSlotMax)
      << "frame at " << offset << " of " << frame_size << " bytes: a frame is its " << kMinFrameSize
      << "-byte header and at most 2^32 - 1 bytes more";
  IRONWAL_CHECK(start_id == end) << "frame " << start_id << " after " << end;
  IRONWAL_CHECK(offset == end_offset) << "frame at " << offset << " after " << end_offset;
  IRONWAL_CHECK(false) << "OutOfOrder called for a frame in order";
}

void OffsetIndex::Publish(uint64_t start_id, uint64_t offset, uint32_t entry_count,
                          uint64_t frame_size) {
  // The one publisher reads its own writes: no ordering needed for these.
  const size_t n = count_.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_FALSE(entry_count == 0 || start_id != end_id_.load(std::memory_order_relaxed) ||
                         offset != end_offset_.load(std::memory_order_relaxed))) {
    OutOfOrder(start_id, offset, entry_count, frame_size);
  }
  // Slot n holds this frame's start (the previous end); slot n + 1 becomes the end, in the
  // same chunk: a full tail, or one the end does not fit (see Slot), is followed by a
  // chunk starting at slot n, which a frame of the format's sizes fits. (A value that
  // fits decodes exactly, so the size needs no check of its own on this path.)
  uint64_t j = n + 1 - tail_first_slot_;
  uint64_t id = start_id + entry_count - tail_first_id_;
  uint64_t at = offset + frame_size - tail_first_offset_ - kMinFrameSize * j;
  if (ABSL_PREDICT_FALSE(n + 1 >= tail_end_slot_ || (id | at) > kSlotMax)) {
    j = 1;
    id = entry_count;
    at = frame_size - kMinFrameSize;
    if (at > kSlotMax) OutOfOrder(start_id, offset, entry_count, frame_size);
    AddChunk(n);
  }
  // No reader reads slot n + 1 before the count below says it may.
  tail_starts_[j].value = static_cast<uint32_t>(id);
  tail_offsets_[j].value = static_cast<uint32_t>(at);
  count_.store(n + 1, std::memory_order_release);
  end_offset_.store(offset + frame_size, std::memory_order_release);
  end_id_.store(start_id + entry_count, std::memory_order_release);
}

void OffsetIndex::Frames::AddToNewPart(uint64_t start_id, uint64_t offset) {
  const Part& last = parts_.back();
  const size_t j = last.starts.size() - 1;
  IRONWAL_CHECK(j > 0) << "frames out of order, or a frame larger than the format allows, at "
                       << offset;
  Part part;
  part.first_id = last.first_id + last.starts[j].value;
  part.first_offset = last.first_offset + kMinFrameSize * j + last.offsets[j].value;
  const uint64_t id = start_id - part.first_id;
  const uint64_t at = offset - part.first_offset - kMinFrameSize;
  IRONWAL_CHECK((id | at) <= kSlotMax)
      << "frames out of order, or a frame larger than the format allows, at " << offset;
  part.starts = {Slot(0), Slot(static_cast<uint32_t>(id))};
  part.offsets = {Slot(0), Slot(static_cast<uint32_t>(at))};
  parts_.push_back(std::move(part));  // moving a part keeps its slots where they are
}

void OffsetIndex::Frames::Append(Frames&& later) {
  if (later.empty()) return;
  if (empty()) {
    parts_ = std::move(later.parts_);
    return;
  }
  // These frames' last ends where `later`'s first starts: that slot ends this part and
  // begins later's first.
  const Part& first = later.parts_.front();
  Add(first.first_id, first.first_offset);
  for (Part& part : later.parts_) parts_.push_back(std::move(part));
  later.parts_.clear();
}

size_t OffsetIndex::Frames::size() const {
  // Parts overlap by one slot; the last part's last slot is a frame's start (the end is
  // added by PublishAll).
  size_t slots = 0;
  for (const Part& part : parts_) slots += part.starts.size();
  return parts_.empty() ? 0 : slots - (parts_.size() - 1);
}

void OffsetIndex::PublishAll(Frames frames, uint64_t end_id, uint64_t end_offset) {
  if (frames.empty()) return;
  const size_t n = count_.load(std::memory_order_relaxed);
  const Frames::Part& front = frames.parts_.front();
  IRONWAL_CHECK(front.first_id == end_id_.load(std::memory_order_relaxed))
      << "frame " << front.first_id << " after " << end_id_.load(std::memory_order_relaxed);
  IRONWAL_CHECK(front.first_offset == end_offset_.load(std::memory_order_relaxed))
      << "frame at " << front.first_offset << " after "
      << end_offset_.load(std::memory_order_relaxed);
  // The end's slot (Reserve made room for it).
  frames.Add(end_id, end_offset);
  // Each frame holds at least one ID and kMinFrameSize bytes: in a part's relative slots,
  // IDs increase and offsets do not decrease (Frames::Add made the last part hold the end
  // only if it fits). One branch-free pass a part, then one check, so that a walk over a
  // million frames pays little.
  size_t slot = n;
  for (size_t p = 0; p < frames.parts_.size(); ++p) {
    Frames::Part& part = frames.parts_[p];
    std::vector<Slot>& starts = part.starts;
    std::vector<Slot>& offsets = part.offsets;
    bool increasing = starts.size() >= 2;
    for (size_t i = 1; i < starts.size(); ++i) {
      increasing &=
          (starts[i - 1].value < starts[i].value) & (offsets[i - 1].value <= offsets[i].value);
    }
    IRONWAL_CHECK(increasing) << "frames out of order, ending at " << end_offset;
    const size_t slots = starts.size();
    // A reserve estimate that was far too high is given back (the index lives as long as
    // the segment is read); a modest one is kept: the last part's as the chunk's room for
    // later frames.
    if (starts.capacity() > slots + slots / 4 + 64) {
      starts.shrink_to_fit();
      offsets.shrink_to_fit();
    }
    if (p + 1 == frames.parts_.size()) {
      starts.resize(starts.capacity());  // uninitialised slots (see Slot), not copies
      offsets.resize(offsets.capacity());
    }
    // Each part becomes the chunk starting at `slot` (for the first, the old end, which
    // its first slot repeats): nothing is copied.
    ListChunk(slot, part.first_id, part.first_offset, std::move(starts), std::move(offsets));
    slot += slots - 1;
  }
  count_.store(slot, std::memory_order_release);
  end_offset_.store(end_offset, std::memory_order_release);
  end_id_.store(end_id, std::memory_order_release);
}

size_t OffsetIndex::MemoryUsage() const {
  MutexLock lock(&mu_);
  size_t bytes = sizeof(*this) + storage_.capacity() * sizeof(std::vector<Slot>);
  for (const std::vector<Slot>& slots : storage_) bytes += slots.capacity() * sizeof(Slot);
  for (const std::unique_ptr<Directory>& directory : directories_) {
    bytes += sizeof(Directory) + directory->capacity * sizeof(Chunk);
  }
  return bytes;
}

}  // namespace internal
}  // namespace ironwal
