#include "ironwal/index/offset_index.h"

#include <algorithm>

#include "ironwal/base/check.h"

namespace ironwal {

OffsetIndex::OffsetIndex(uint64_t segment_start_id)
    : segment_start_id_(segment_start_id), end_id_(segment_start_id), end_offset_(0) {}

void OffsetIndex::Publish(uint64_t start_id, uint64_t offset, uint32_t entry_count,
                          uint64_t frame_size) {
  IRONWAL_CHECK(entry_count > 0) << "frame at " << offset;
  IRONWAL_CHECK(start_id == end_id()) << "frame " << start_id << " after " << end_id();
  IRONWAL_CHECK(offset == end_offset()) << "frame at " << offset << " after " << end_offset();
  // Updated together under the lock, so a reader holding it sees a consistent index; the
  // atomics also serve lock-free end_id()/end_offset() calls.
  WriterMutexLock lock(&mu_);
  frames_.push_back({start_id, offset});
  end_offset_.store(offset + frame_size, std::memory_order_release);
  end_id_.store(start_id + entry_count, std::memory_order_release);
}

FrameLocation OffsetIndex::LocationOf(size_t i) const {
  FrameLocation loc;
  loc.start_id = frames_[i].start_id;
  loc.offset = frames_[i].offset;
  // A frame ends where the next begins; the last one at the published end.
  const bool last = i + 1 == frames_.size();
  const uint64_t next_id = last ? end_id() : frames_[i + 1].start_id;
  const uint64_t next_offset = last ? end_offset() : frames_[i + 1].offset;
  loc.entry_count = static_cast<uint32_t>(next_id - loc.start_id);
  loc.size = next_offset - loc.offset;
  return loc;
}

std::optional<FrameLocation> OffsetIndex::Find(uint64_t id) const {
  ReaderMutexLock lock(&mu_);
  if (id < segment_start_id_ || id >= end_id() || frames_.empty()) return std::nullopt;
  auto it = std::upper_bound(frames_.begin(), frames_.end(), id,
                             [](uint64_t v, const Frame& f) { return v < f.start_id; });
  if (it == frames_.begin()) return std::nullopt;
  const size_t i = static_cast<size_t>(it - frames_.begin()) - 1;
  FrameLocation loc = LocationOf(i);
  if (id >= loc.end_id()) return std::nullopt;
  return loc;
}

std::optional<FrameLocation> OffsetIndex::FrameAt(uint64_t offset) const {
  ReaderMutexLock lock(&mu_);
  auto it = std::lower_bound(frames_.begin(), frames_.end(), offset,
                             [](const Frame& f, uint64_t v) { return f.offset < v; });
  if (it == frames_.end() || it->offset != offset) return std::nullopt;
  return LocationOf(static_cast<size_t>(it - frames_.begin()));
}

size_t OffsetIndex::frame_count() const {
  ReaderMutexLock lock(&mu_);
  return frames_.size();
}

size_t OffsetIndex::MemoryUsage() const {
  ReaderMutexLock lock(&mu_);
  return sizeof(*this) + frames_.capacity() * sizeof(Frame);
}

}  // namespace ironwal
