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
      starts_at_(starts_.data()),
      offsets_at_(offsets_.data()),
      end_id_(segment_start_id),
      end_offset_(0) {}

void OffsetIndex::ReplaceArraysLocked(std::vector<Slot> starts, std::vector<Slot> offsets) {
  retired_.push_back(std::move(starts_));
  retired_.push_back(std::move(offsets_));
  starts_ = std::move(starts);
  offsets_ = std::move(offsets);
  starts_at_.store(starts_.data(), std::memory_order_release);
  offsets_at_.store(offsets_.data(), std::memory_order_release);
}

void OffsetIndex::Grow() {
  // Doubling: the copy happens once per doubling of the frame count (and the new slots
  // past the end are left uninitialised, see Slot). Only the publisher writes slots, so
  // the copy needs no lock; the swap takes it for the readers that use starts_ itself.
  const size_t slots = std::max<size_t>(64, 2 * starts_.size());
  const size_t used = count_.load(std::memory_order_relaxed) + 1;  // the frames and the end
  std::vector<Slot> starts(slots);
  std::vector<Slot> offsets(slots);
  std::copy(starts_.begin(), starts_.begin() + static_cast<std::ptrdiff_t>(used), starts.begin());
  std::copy(offsets_.begin(), offsets_.begin() + static_cast<std::ptrdiff_t>(used),
            offsets.begin());
  WriterMutexLock lock(&mu_);
  ReplaceArraysLocked(std::move(starts), std::move(offsets));
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
  if (n > 0) {
    // Slot n (the old end) is the first new frame's start: the new slots go from there.
    starts.insert(starts.begin(), starts_.begin(),
                  starts_.begin() + static_cast<std::ptrdiff_t>(n));
    offsets.insert(offsets.begin(), offsets_.begin(),
                   offsets_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  ReplaceArraysLocked(std::move(starts), std::move(offsets));
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
  // No lock (see the file comment): the count first, then arrays that hold its slots.
  const size_t n = count_.load(std::memory_order_acquire);
  const Slot* const starts = starts_at_.load(std::memory_order_acquire);
  if (id < segment_start_id_ || n == 0 || id >= starts[n].value) return std::nullopt;
  // Most frames hold one entry, so frame i usually starts at ID start + i: try that first.
  size_t i = static_cast<size_t>(id - segment_start_id_);
  if (i >= n || starts[i].value != id) {
    const Slot* const it = std::upper_bound(starts, starts + n, id, IdBefore);
    if (it == starts) return std::nullopt;
    i = static_cast<size_t>(it - starts) - 1;
  }
  const Slot* const offsets = offsets_at_.load(std::memory_order_acquire);
  FrameLocation loc;
  loc.start_id = starts[i].value;
  loc.offset = offsets[i].value;
  loc.entry_count = static_cast<uint32_t>(starts[i + 1].value - loc.start_id);
  loc.size = offsets[i + 1].value - loc.offset;
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
  size_t slots = starts_.capacity() + offsets_.capacity();
  for (const std::vector<Slot>& old : retired_) slots += old.capacity();
  return sizeof(*this) + slots * sizeof(Slot);
}

}  // namespace internal
}  // namespace ironwal
