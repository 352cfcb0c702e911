// File: ironwal/wal/iterator_impl.h
//
// StreamIterator: the Iterator of one stream. It positions with Stream::Locate (the
// offset index finds the frame), then walks frames with a FrameCursor, checking each
// frame's CRC and that its IDs continue, and yields the entries of a run of decoded frames
// at a time: the raw frames whole in the bytes at hand (the mapping, or the read-ahead
// buffer) are taken in bulk by TakeRawRun (frame_run.h), about kRunEntries entries; any
// other frame (LZ4, one needing a read, one failing a check) by the general path, one
// frame per run. At the end of what a segment has published it locates the next ID again,
// which moves it to the next segment or picks up newly published frames.
#ifndef IRONWAL_WAL_ITERATOR_IMPL_H_
#define IRONWAL_WAL_ITERATOR_IMPL_H_

#include <algorithm>
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
  // A bulk run takes no further frame once it holds this many entries (so it holds at most
  // this many plus the last frame's, less one).
  static constexpr size_t kRunEntries = 64;

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
  // The fast path of LoadFrame: takes the run of raw frames at hand from the cursor that
  // pass every check TakeFrame makes (CRC, IDs, the entry block) and positions at `id`, the
  // first's; false, changing nothing the caller reads, when the first frame is not one.
  bool TakeRun(uint64_t id);
  // Checks and decodes the frame the cursor returned into entries_ (a run of one frame).
  absl::Status TakeFrame(const FrameCursor::Item& item, uint64_t id);
  // Moves to where `id` lives now (the next segment, or newly published frames).
  bool Relocate(uint64_t id);
  // Takes `pos` (from Stream::Locate) as the reader and a new cursor at its frame.
  void PositionAt(Stream::ReadPosition pos);
  // After `error` at the cursor: when the reader's index came from a frame index file and
  // the frame was not where it said (DataLoss), gives the file up (a walk indexes the
  // segment instead, Stream::WalkIfFrameIndexWrong) and positions the cursor at `id` again:
  // true to read on. False otherwise, or when locating fails (status_ set then).
  bool WalkInstead(uint64_t id, const absl::Status& error);
  void Fail(absl::Status status);
  // Positions at `id`, inside the run entries_[0, count) holds (IDs from run_start).
  void Arrive(uint64_t id, uint64_t run_start, size_t count) {
    run_start_ = run_start;
    run_end_ = std::min<uint64_t>(run_start + count, end_id_);
    id_ = id;
    value_ = entries_[id - run_start];
    valid_ = true;
    Arrived();
  }
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
  // The current run's entries from entries_[0], ID run_start_ (reused: its size is a
  // capacity for TakeRawRun); Next() moves inside it up to run_end_ (end_id_ at most).
  std::vector<absl::string_view> entries_;
  uint64_t run_start_ = 0;
  uint64_t run_end_ = 0;
  std::string decompressed_;                // an LZ4 frame's entry block
  std::string frame_copy_;                  // a frame re-read after a failed check
  std::optional<uint64_t> walked_segment_;  // the segment WalkInstead last walked

  bool valid_ = false;
  uint64_t id_ = 0;
  absl::string_view value_;
  absl::Status status_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_WAL_ITERATOR_IMPL_H_
