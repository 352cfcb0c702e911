// Stream: the events it queues for the Wal's listeners (ironwal/stream/events.h). Every
// function here runs under the stream's write lock and only queues: delivery is the Wal's,
// after the call has released its locks.
#include <algorithm>
#include <utility>

#include "ironwal/stream/stream.h"

namespace ironwal {
namespace internal {

void Stream::Emit(Event event) {
  if (shared_->events == nullptr) return;
  event.stream = key();
  shared_->events->Push(std::move(event));
}

std::vector<uint64_t> Stream::LiveSegments() const {
  uint64_t first = 0;
  if (!dir_.on_disk()) return {};
  return dir_.Segments(&first);
}

void Stream::EmitSegment(Event::Kind kind, uint64_t start) {
  if (shared_->events == nullptr) return;
  Event event;
  event.kind = kind;
  event.segment.stream = key();
  event.segment.start_id = start;
  event.segment.path = dir_.SegmentPath(start);
  Emit(std::move(event));
}

uint64_t Stream::EmitSegmentChanges(const SegmentsBefore& before, bool replaced) {
  if (shared_->events == nullptr) return 0;
  const std::vector<uint64_t> after = LiveSegments();
  const auto has = [](const std::vector<uint64_t>& list, uint64_t start) {
    return std::binary_search(list.begin(), list.end(), start);
  };
  if (!before.on_disk && dir_.on_disk()) {
    Event created;
    created.kind = Event::Kind::kStreamCreated;
    created.first_id = first_id();
    Emit(std::move(created));
  }
  uint64_t deleted = 0;
  for (uint64_t start : before.segments) {
    if (replaced || !has(after, start)) {
      EmitSegment(Event::Kind::kSegmentDeleted, start);
      ++deleted;
    }
  }
  if (!replaced && !before.segments.empty() && !after.empty()) {
    const uint64_t old_active = before.segments.back();
    if (old_active != after.back() && has(after, old_active)) {
      EmitSegment(Event::Kind::kSegmentSealed, old_active);
    }
  }
  for (uint64_t start : after) {
    if (replaced || !has(before.segments, start)) {
      EmitSegment(Event::Kind::kSegmentCreated, start);
    }
  }
  return deleted;
}

Stream::SegmentsBefore Stream::SnapshotSegments() const {
  if (shared_->events == nullptr) return SegmentsBefore{};
  return SegmentsBefore{dir_.on_disk(), LiveSegments()};
}

void Stream::EmitTruncated(TruncationKind kind, uint64_t segments_removed) {
  Event event;
  event.kind = Event::Kind::kStreamTruncated;
  event.truncation.stream = key();
  event.truncation.kind = kind;
  if (kind != TruncationKind::kDelete) {
    event.truncation.first_id = first_id();
    event.truncation.next_id = next_id();
  }
  event.truncation.segments_removed = segments_removed;
  Emit(std::move(event));
}

void Stream::EmitFailure(const absl::Status& error, bool poisoned_now) {
  if (absl::IsResourceExhausted(error) && !disk_full_) {
    disk_full_ = true;
    Event event;
    event.kind = Event::Kind::kDiskFull;
    event.status = error;
    Emit(std::move(event));
  }
  if (poisoned_now) {
    Event event;
    event.kind = Event::Kind::kStreamPoisoned;
    event.status = error;
    Emit(std::move(event));
  }
}

void Stream::EmitSpaceRecovered() {
  if (!disk_full_) return;
  disk_full_ = false;
  Event event;
  event.kind = Event::Kind::kDiskSpaceRecovered;
  Emit(std::move(event));
}

}  // namespace internal
}  // namespace ironwal
