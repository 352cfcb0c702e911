#include "ironwal/wal/iterator_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame_run.h"
#include "ironwal/util/lz4_frame.h"

namespace ironwal {
namespace internal {

StreamIterator::StreamIterator(Stream* stream, uint64_t end_id, size_t buffer_size,
                               StatsRecorder* stats)
    : stream_(stream), end_id_(end_id), buffer_size_(buffer_size), stats_(stats) {}

void StreamIterator::Fail(absl::Status status) {
  status_ = std::move(status);
  valid_ = false;
  cursor_.reset();
  reader_.reset();
}

void StreamIterator::Seek(uint64_t id) {
  if (!status_.ok()) return;
  valid_ = false;
  run_end_ = 0;
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
  PositionAt(*std::move(pos));
  LoadFrame(id);
}

void StreamIterator::PositionAt(Stream::ReadPosition pos) {
  reader_ = std::move(pos.reader);
  active_ = pos.active;
  // The limit grows in LoadFrame, which flushes buffered frames before reading them.
  cursor_ = std::make_unique<FrameCursor>(&reader_->file(), pos.frame.offset, pos.frame.offset,
                                          buffer_size_);
}

bool StreamIterator::TakeRun(uint64_t id) {
  const RawRun run = TakeRawRun(cursor_->BytesAtHand(), id, end_id_, kRunEntries, &entries_);
  if (run.bytes == 0) return false;
  cursor_->Skip(run.bytes);
  Arrive(id, run.start_id, run.entries);
  return true;
}

bool StreamIterator::LoadFrame(uint64_t id) {
  for (;;) {
    // The fast path: raw frames already at hand that check out. Anything else (the end of
    // what is read so far, a read, LZ4, a frame that fails a check) is read below.
    if (TakeRun(id)) return true;
    // Read up to what the segment has published below the stream's next ID: frames reach
    // the offset index just before next_id() moves past them, and an iterator must never
    // return an ID at or past next_id() (a tailing reader's Seek(last + 1) would fail).
    // In kAsync first make sure those frames have left the writer's buffer for the file.
    const uint64_t published = reader_->index().EndOffsetBelow(stream_->next_id());
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
      if (!Relocate(id)) return false;
      continue;
    }
    absl::Status taken = TakeFrame(*item, id);
    if (!taken.ok() && WalkInstead(id, taken)) continue;
    if (!taken.ok()) {
      if (!status_.ok()) return false;  // WalkInstead could not locate `id` again
      Fail(absl::DataLossError(
          absl::StrCat("iterate ", reader_->path(), "@", item->offset, ": ", taken.message())));
      return false;
    }
    Arrive(id, item->header.start_id, entries_.size());
    return true;
  }
}

absl::Status StreamIterator::TakeFrame(const FrameCursor::Item& item, uint64_t id) {
  if (item.kind != FrameCursor::Kind::kFrame) {
    return absl::DataLossError("published bytes do not hold a frame");
  }
  const FrameHeader& header = item.header;
  absl::string_view payload = item.payload;
  if (!VerifyFramePayload(header, payload).ok()) {
    // Read it once more, unbuffered, before calling it corrupt.
    FrameLocation where{header.start_id, item.offset, header.entry_count, header.frame_size()};
    IRONWAL_ASSIGN_OR_RETURN(VerifiedFrame again, reader_->ReadFrame(where));
    frame_copy_.assign(again.payload().data(), again.payload().size());
    payload = frame_copy_;
  }
  if (header.start_id > id || header.end_id() <= id) {
    return absl::DataLossError(absl::StrCat("frame holds IDs [", header.start_id, ", ",
                                            header.end_id(), "), expected a frame holding ID ",
                                            id));
  }
  absl::string_view block = payload;
  if (header.codec == format::Codec::kLz4) {
    IRONWAL_ASSIGN_OR_RETURN(decompressed_, Lz4FrameDecompress(payload, header.uncompressed_size));
    block = decompressed_;
  } else if (payload.size() != header.uncompressed_size) {
    return absl::DataLossError("raw payload size differs from uncompressed_size");
  }
  return SplitEntries(block, header.entry_count, &entries_);
}

bool StreamIterator::WalkInstead(uint64_t id, const absl::Status& error) {
  // Once per segment: after the file is given up no reader of the segment goes through it
  // (Stream::ReaderFor), so a second failure there is the segment's own.
  if (!absl::IsDataLoss(error) || !reader_->index().loaded_from_file() ||
      walked_segment_ == std::optional<uint64_t>(reader_->start_id())) {
    return false;
  }
  walked_segment_ = reader_->start_id();
  if (stream_->WalkIfFrameIndexWrong(*reader_) == nullptr) return false;  // real damage
  absl::StatusOr<Stream::ReadPosition> pos = stream_->Locate(id);
  if (!pos.ok()) {
    Fail(pos.status());
    return false;
  }
  PositionAt(*std::move(pos));
  return true;
}

bool StreamIterator::Relocate(uint64_t id) {
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
  PositionAt(*std::move(pos));
  return true;
}

void StreamIterator::Next() {
  if (!valid_) return;
  const uint64_t next = id_ + 1;
  if (next < run_end_) {  // the run's next entry (run_end_ <= end_id_)
    id_ = next;
    value_ = entries_[next - run_start_];
    Arrived();
    return;
  }
  if (next >= end_id_) {
    valid_ = false;
    id_ = next;
    return;
  }
  valid_ = false;
  LoadFrame(next);
}

}  // namespace internal
}  // namespace ironwal
