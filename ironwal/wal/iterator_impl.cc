#include "ironwal/wal/iterator_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/format/format.h"

namespace ironwal {

StreamIterator::StreamIterator(Stream* stream, uint64_t end_id, size_t buffer_size)
    : stream_(stream), end_id_(end_id), buffer_size_(buffer_size) {}

void StreamIterator::Fail(absl::Status status) {
  status_ = std::move(status);
  valid_ = false;
  decoded_.reset();
  cursor_.reset();
  reader_.reset();
}

void StreamIterator::Seek(uint64_t id) {
  if (!status_.ok()) return;
  valid_ = false;
  decoded_.reset();
  if (id >= end_id_ || id >= stream_->next_id()) {
    if (id > stream_->next_id()) {
      Fail(absl::OutOfRangeError(
          absl::StrCat("iterate: ID ", id, " is past the next ID ", stream_->next_id())));
    }
    id_ = id;  // At the end for now; Seek(id) again to see later appends.
    return;
  }
  absl::StatusOr<Stream::ReadPosition> pos = stream_->Locate(id);
  if (!pos.ok()) return Fail(pos.status());
  reader_ = std::move(pos->reader);
  active_ = pos->active;
  // The limit grows in LoadFrame, which flushes buffered frames before reading them.
  cursor_ = std::make_unique<FrameCursor>(&reader_->file(), pos->frame.offset, pos->frame.offset,
                                          buffer_size_);
  LoadFrame(id);
}

bool StreamIterator::LoadFrame(uint64_t id) {
  for (;;) {
    // Read up to what the segment has published; in kAsync first make sure those frames
    // have left the writer's buffer for the file.
    const uint64_t published = reader_->index().end_offset();
    if (published > cursor_->limit()) {
      if (active_) {
        absl::Status flushed = stream_->EnsureFlushed(reader_->start_id(), published);
        if (!flushed.ok()) {
          Fail(flushed);
          return false;
        }
      }
      cursor_->set_limit(published);
    }
    absl::StatusOr<FrameCursor::Item> item = cursor_->Next();
    if (!item.ok()) {
      Fail(item.status());
      return false;
    }
    if (item->kind == FrameCursor::Kind::kEnd) {
      // The end of this segment's published frames: find where `id` lives now (the next
      // segment, or nowhere yet).
      if (id >= end_id_ || id >= stream_->next_id()) {
        valid_ = false;
        id_ = id;
        return false;
      }
      const uint64_t segment = reader_->start_id();
      absl::StatusOr<Stream::ReadPosition> pos = stream_->Locate(id);
      if (!pos.ok()) {
        Fail(pos.status());
        return false;
      }
      if (pos->reader->start_id() == segment && pos->frame.offset < cursor_->offset()) {
        Fail(absl::DataLossError(
            absl::StrCat("iterate ", reader_->path(), ": ID ", id, " found behind the cursor")));
        return false;
      }
      reader_ = std::move(pos->reader);
      active_ = pos->active;
      cursor_ = std::make_unique<FrameCursor>(&reader_->file(), pos->frame.offset,
                                              pos->frame.offset, buffer_size_);
      continue;
    }
    const std::string at = absl::StrCat("iterate ", reader_->path(), "@", item->offset, ": ");
    if (item->kind != FrameCursor::Kind::kFrame) {
      Fail(absl::DataLossError(absl::StrCat(at, "published bytes do not hold a frame")));
      return false;
    }
    FrameHeader header = item->header;
    absl::string_view payload = item->payload;
    if (!VerifyFramePayload(header, payload).ok()) {
      // Read it once more, unbuffered, before calling it corrupt.
      FrameLocation where{header.start_id, item->offset, header.entry_count, header.frame_size()};
      absl::StatusOr<VerifiedFrame> again = reader_->ReadFrame(where);
      if (!again.ok()) {
        Fail(again.status());
        return false;
      }
      frame_copy_.assign(again->payload().data(), again->payload().size());
      payload = frame_copy_;
    }
    if (header.start_id > id || header.end_id() <= id) {
      Fail(absl::DataLossError(absl::StrCat(at, "frame holds IDs [", header.start_id, ", ",
                                            header.end_id(), "), expected ", id)));
      return false;
    }
    absl::StatusOr<DecodedPayload> decoded = DecodePayload(header, payload);
    if (!decoded.ok()) {
      Fail(absl::DataLossError(absl::StrCat(at, decoded.status().message())));
      return false;
    }
    frame_ = header;
    decoded_ = std::move(*decoded);
    id_ = id;
    value_ = decoded_->entries()[id - header.start_id];
    valid_ = true;
    return true;
  }
}

void StreamIterator::Next() {
  if (!valid_) return;
  const uint64_t next = id_ + 1;
  if (next >= end_id_) {
    valid_ = false;
    id_ = next;
    return;
  }
  if (next < frame_.end_id()) {
    id_ = next;
    value_ = decoded_->entries()[next - frame_.start_id];
    return;
  }
  valid_ = false;
  decoded_.reset();
  LoadFrame(next);
}

}  // namespace ironwal
