// File: ironwal/wal/iterator_impl.h
//
// StreamIterator: the Iterator of one stream. It positions with Stream::Locate (the
// offset index finds the frame), then walks frames with a FrameCursor, checking each
// frame's CRC and that its IDs continue, and yields the entries of one decoded frame at a
// time. At the end of what a segment has published it locates the next ID again, which
// moves it to the next segment or picks up newly published frames.
#ifndef IRONWAL_WAL_ITERATOR_IMPL_H_
#define IRONWAL_WAL_ITERATOR_IMPL_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "ironwal/format/frame.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/segment/segment_reader.h"
#include "ironwal/stats/recorder.h"
#include "ironwal/stream/stream.h"
#include "ironwal/wal/iterator.h"

namespace ironwal {
namespace internal {

class StreamIterator final : public Iterator {
 public:
  // With `stats`, counts the bytes of every entry it stops at (Statistics::bytes_read).
  StreamIterator(Stream* stream, uint64_t end_id, size_t buffer_size,
                 StatsRecorder* stats = nullptr);

  bool Valid() const override { return valid_; }
  void Next() override;
  void Seek(uint64_t id) override;
  uint64_t id() const override { return id_; }
  absl::string_view value() const override { return value_; }
  absl::Status status() const override { return status_; }

 private:
  // Loads the frame at the cursor and positions at `id` inside it. False at the end of
  // what is published, or on error (status_ set).
  bool LoadFrame(uint64_t id);
  // The fast path of LoadFrame for a raw frame from FrameCursor::TryNextFrame: true and
  // positioned at `id` when the frame passes every check TakeFrame makes (CRC, IDs, the
  // entry block); false, changing nothing the caller reads, otherwise.
  bool TakeFrameFast(const FrameHeader& header, absl::string_view payload, uint64_t id);
  // Checks and decodes the frame the cursor returned into entries_.
  absl::Status TakeFrame(const FrameCursor::Item& item, uint64_t id);
  // Moves to where `id` lives now (the next segment, or newly published frames).
  bool Relocate(uint64_t id);
  void Fail(absl::Status status);
  // At an entry: value_ set.
  void Arrived() {
    if (stats_ != nullptr) stats_->Add(StatsRecorder::kBytesRead, value_.size());
  }

  Stream* const stream_;
  const uint64_t end_id_;
  const size_t buffer_size_;
  StatsRecorder* const stats_;

  std::shared_ptr<SegmentReader> reader_;
  bool active_ = false;  // reader_ is the active segment
  std::unique_ptr<FrameCursor> cursor_;
  FrameHeader frame_;
  std::vector<absl::string_view> entries_;  // the current frame's entries (reused)
  std::string decompressed_;                // an LZ4 frame's entry block
  std::string frame_copy_;                  // a frame re-read after a failed check

  bool valid_ = false;
  uint64_t id_ = 0;
  absl::string_view value_;
  absl::Status status_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_WAL_ITERATOR_IMPL_H_
