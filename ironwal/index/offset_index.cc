#include "ironwal/index/offset_index.h"

#include <algorithm>
#include <utility>

#include "absl/base/optimization.h"

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {
namespace {

bool IdBefore(uint64_t id, const OffsetIndex::Slot& slot) { return id < slot.value; }
bool SlotBefore(const OffsetIndex::Slot& slot, uint64_t offset) { return slot.value < offset; }

}  // namespace

OffsetIndex::OffsetIndex(uint64_t segment_start_id)
    : segment_start_id_(segment_start_id),
      starts_{segment_start_id},
      offsets_{Slot(0)},
      end_id_(segment_start_id),
      end_offset_(0) {}

void OffsetIndex::Grow() {
  // Doubling: the copy under the lock happens once per doubling of the frame count (and
  // the new slots are left uninitialised, see Slot).
  const size_t slots = std::max<size_t>(64, 2 * starts_.size());
  WriterMutexLock lock(&mu_);
  starts_.resize(slots);
  offsets_.resize(slots);
}

void OffsetIndex::OutOfOrder(uint64_t start_id, uint64_t offset, uint32_t entry_count) const {
  const uint64_t end = end_id_.load(std::memory_order_relaxed);
  const uint64_t end_offset = end_offset_.load(std::memory_order_relaxed);
  IRONWAL_CHECK(entry_count > 0) << "frame at " << offset;
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
    OutOfOrder(start_id, offset, entry_count);
  }
  if (ABSL_PREDICT_FALSE(n + 1 >= starts_.size())) Grow();
  // Slot n already holds this frame's start (the previous end); slot n + 1 becomes the
  // end. No reader reads slot n + 1 before the count below says it may.
  starts_[n + 1].value = start_id + entry_count;
  offsets_[n + 1].value = offset + frame_size;
  count_.store(n + 1, std::memory_order_release);
  end_offset_.store(offset + frame_size, std::memory_order_release);
  end_id_.store(start_id + entry_count, std::memory_order_release);
}

void OffsetIndex::PublishAll(Frames frames, uint64_t end_id, uint64_t end_offset) {
  if (frames.empty()) return;
  std::vector<Slot>& starts = frames.starts_;
  std::vector<Slot>& offsets = frames.offsets_;
  // Each frame holds at least one ID and one byte; the first continues the index. One
  // branch-free pass, then one check, so that a walk over a million frames pays little.
  bool increasing = starts.back().value < end_id && offsets.back().value < end_offset;
  for (size_t i = 1; i < starts.size(); ++i) {
    increasing &=
        (starts[i - 1].value < starts[i].value) & (offsets[i - 1].value < offsets[i].value);
  }
  IRONWAL_CHECK(increasing) << "frames out of order, ending at " << end_offset;
  const size_t added = starts.size();
  // The end's slot (Reserve made room for it).
  starts.push_back(end_id);
  offsets.push_back(end_offset);
  // A reserve estimate that was far too high is given back (the index lives as long as
  // the segment is read).
  if (starts.capacity() > starts.size() + starts.size() / 4 + 64) {
    starts.shrink_to_fit();
    offsets.shrink_to_fit();
  }
  WriterMutexLock lock(&mu_);
  const size_t n = count_.load(std::memory_order_relaxed);
  const uint64_t end = end_id_.load(std::memory_order_relaxed);
  const uint64_t end_bytes = end_offset_.load(std::memory_order_relaxed);
  IRONWAL_CHECK(starts.front().value == end)
      << "frame " << starts.front().value << " after " << end;
  IRONWAL_CHECK(offsets.front().value == end_bytes)
      << "frame at " << offsets.front().value << " after " << end_bytes;
  if (n == 0) {
    starts_ = std::move(starts);
    offsets_ = std::move(offsets);
  } else {
    // Slot n (the old end) is the first new frame's start: the new slots go from there.
    starts_.resize(n);
    offsets_.resize(n);
    starts_.insert(starts_.end(), starts.begin(), starts.end());
    offsets_.insert(offsets_.end(), offsets.begin(), offsets.end());
  }
  count_.store(n + added, std::memory_order_release);
  end_offset_.store(end_offset, std::memory_order_release);
  end_id_.store(end_id, std::memory_order_release);
}

FrameLocation OffsetIndex::LocationOf(size_t i) const {
  FrameLocation loc;
  loc.start_id = starts_[i].value;
  loc.offset = offsets_[i].value;
  // A frame ends where the next begins (the last one at the end's slot).
  loc.entry_count = static_cast<uint32_t>(starts_[i + 1].value - loc.start_id);
  loc.size = offsets_[i + 1].value - loc.offset;
  return loc;
}

std::optional<FrameLocation> OffsetIndex::Find(uint64_t id) const {
  ReaderMutexLock lock(&mu_);
  const size_t n = count_.load(std::memory_order_acquire);
  if (id < segment_start_id_ || n == 0 || id >= starts_[n].value) return std::nullopt;
  // Most frames hold one entry, so frame i usually starts at ID start + i: try that first.
  size_t i = static_cast<size_t>(id - segment_start_id_);
  if (i >= n || starts_[i].value != id) {
    const auto first = starts_.begin();
    auto it = std::upper_bound(first, first + static_cast<std::ptrdiff_t>(n), id, IdBefore);
    if (it == first) return std::nullopt;
    i = static_cast<size_t>(it - first) - 1;
  }
  FrameLocation loc = LocationOf(i);
  if (id >= loc.end_id()) return std::nullopt;
  return loc;
}

uint64_t OffsetIndex::EndOffsetBelow(uint64_t id) const {
  ReaderMutexLock lock(&mu_);
  const size_t n = count_.load(std::memory_order_acquire);
  if (id >= starts_[n].value) return offsets_[n].value;
  // The frame holding `id` and every later one are left out.
  const auto first = starts_.begin();
  auto it = std::upper_bound(first, first + static_cast<std::ptrdiff_t>(n), id, IdBefore);
  if (it == first) return 0;
  return offsets_[static_cast<size_t>(it - first) - 1].value;
}

std::optional<FrameLocation> OffsetIndex::FrameAt(uint64_t offset) const {
  ReaderMutexLock lock(&mu_);
  const size_t n = count_.load(std::memory_order_acquire);
  const auto first = offsets_.begin();
  auto it = std::lower_bound(first, first + static_cast<std::ptrdiff_t>(n), offset, SlotBefore);
  if (it == first + static_cast<std::ptrdiff_t>(n) || it->value != offset) return std::nullopt;
  return LocationOf(static_cast<size_t>(it - first));
}

size_t OffsetIndex::MemoryUsage() const {
  ReaderMutexLock lock(&mu_);
  return sizeof(*this) + (starts_.capacity() + offsets_.capacity()) * sizeof(Slot);
}

}  // namespace internal
}  // namespace ironwal
