#include "ironwal/index/offset_index.h"

#include <algorithm>
#include <utility>

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {

OffsetIndex::OffsetIndex(uint64_t segment_start_id)
    : segment_start_id_(segment_start_id), end_id_(segment_start_id), end_offset_(0) {}

void OffsetIndex::Publish(uint64_t start_id, uint64_t offset, uint32_t entry_count,
                          uint64_t frame_size) {
  // Updated together under the lock, so a reader holding it sees a consistent index; the
  // atomics also serve lock-free end_id()/end_offset() calls.
  WriterMutexLock lock(&mu_);
  PublishLocked(start_id, offset, entry_count, frame_size);
}

void OffsetIndex::PublishAll(Frames frames, uint64_t end_id, uint64_t end_offset) {
  if (frames.empty()) return;
  std::vector<uint64_t>& starts = frames.starts_;
  std::vector<uint64_t>& offsets = frames.offsets_;
  // Each frame holds at least one ID and one byte; the first continues the index. One
  // branch-free pass, then one check, so that a walk over a million frames pays little.
  bool increasing = starts.back() < end_id && offsets.back() < end_offset;
  for (size_t i = 1; i < starts.size(); ++i) {
    increasing &= (starts[i - 1] < starts[i]) & (offsets[i - 1] < offsets[i]);
  }
  IRONWAL_CHECK(increasing) << "frames out of order, ending at " << end_offset;
  // A reserve estimate that was far too high is given back (the index lives as long as
  // the segment is read).
  if (starts.capacity() > starts.size() + starts.size() / 4 + 64) {
    starts.shrink_to_fit();
    offsets.shrink_to_fit();
  }
  WriterMutexLock lock(&mu_);
  const uint64_t end = end_id_.load(std::memory_order_relaxed);
  const uint64_t end_bytes = end_offset_.load(std::memory_order_relaxed);
  IRONWAL_CHECK(starts.front() == end) << "frame " << starts.front() << " after " << end;
  IRONWAL_CHECK(offsets.front() == end_bytes)
      << "frame at " << offsets.front() << " after " << end_bytes;
  if (starts_.empty()) {
    starts_ = std::move(starts);
    offsets_ = std::move(offsets);
  } else {
    starts_.insert(starts_.end(), starts.begin(), starts.end());
    offsets_.insert(offsets_.end(), offsets.begin(), offsets.end());
  }
  end_offset_.store(end_offset, std::memory_order_release);
  end_id_.store(end_id, std::memory_order_release);
}

void OffsetIndex::PublishLocked(uint64_t start_id, uint64_t offset, uint32_t entry_count,
                                uint64_t frame_size) {
  const uint64_t end = end_id_.load(std::memory_order_relaxed);
  const uint64_t end_offset = end_offset_.load(std::memory_order_relaxed);
  IRONWAL_CHECK(entry_count > 0) << "frame at " << offset;
  IRONWAL_CHECK(start_id == end) << "frame " << start_id << " after " << end;
  IRONWAL_CHECK(offset == end_offset) << "frame at " << offset << " after " << end_offset;
  starts_.push_back(start_id);
  offsets_.push_back(offset);
  end_offset_.store(offset + frame_size, std::memory_order_release);
  end_id_.store(start_id + entry_count, std::memory_order_release);
}

FrameLocation OffsetIndex::LocationOf(size_t i) const {
  FrameLocation loc;
  loc.start_id = starts_[i];
  loc.offset = offsets_[i];
  // A frame ends where the next begins; the last one at the published end.
  const bool last = i + 1 == starts_.size();
  const uint64_t next_id = last ? end_id() : starts_[i + 1];
  const uint64_t next_offset = last ? end_offset() : offsets_[i + 1];
  loc.entry_count = static_cast<uint32_t>(next_id - loc.start_id);
  loc.size = next_offset - loc.offset;
  return loc;
}

std::optional<FrameLocation> OffsetIndex::Find(uint64_t id) const {
  ReaderMutexLock lock(&mu_);
  if (id < segment_start_id_ || id >= end_id() || starts_.empty()) return std::nullopt;
  // Most frames hold one entry, so frame i usually starts at ID start + i: try that first.
  size_t i = static_cast<size_t>(id - segment_start_id_);
  if (i >= starts_.size() || starts_[i] != id) {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), id);
    if (it == starts_.begin()) return std::nullopt;
    i = static_cast<size_t>(it - starts_.begin()) - 1;
  }
  FrameLocation loc = LocationOf(i);
  if (id >= loc.end_id()) return std::nullopt;
  return loc;
}

uint64_t OffsetIndex::EndOffsetBelow(uint64_t id) const {
  ReaderMutexLock lock(&mu_);
  if (id >= end_id()) return end_offset();
  // The frame holding `id` and every later one are left out.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), id);
  if (it == starts_.begin()) return 0;
  return offsets_[static_cast<size_t>(it - starts_.begin()) - 1];
}

std::optional<FrameLocation> OffsetIndex::FrameAt(uint64_t offset) const {
  ReaderMutexLock lock(&mu_);
  auto it = std::lower_bound(offsets_.begin(), offsets_.end(), offset);
  if (it == offsets_.end() || *it != offset) return std::nullopt;
  return LocationOf(static_cast<size_t>(it - offsets_.begin()));
}

size_t OffsetIndex::frame_count() const {
  ReaderMutexLock lock(&mu_);
  return starts_.size();
}

size_t OffsetIndex::MemoryUsage() const {
  ReaderMutexLock lock(&mu_);
  return sizeof(*this) + (starts_.capacity() + offsets_.capacity()) * sizeof(uint64_t);
}

}  // namespace internal
}  // namespace ironwal
