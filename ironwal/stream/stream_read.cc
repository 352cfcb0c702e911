// Stream: the read path (Locate, Get, readers, Info).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/stream/frame_index_file.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/stream.h"

namespace ironwal {
namespace internal {
namespace {

// A mapped reader of the active segment is remapped once this many bytes of published
// frames lie past its mapping (until then they are read with pread).
constexpr uint64_t kRemapSlack = 1 << 20;

}  // namespace

absl::StatusOr<std::shared_ptr<SegmentReader>> Stream::ReaderFor(
    uint64_t segment_start, bool active, std::optional<uint64_t> end_id,
    const std::shared_ptr<OffsetIndex>& active_index, uint64_t needed_end_offset) {
  std::shared_ptr<SegmentReader> reader = shared_->readers->Lookup(this, segment_start);
  if (reader != nullptr && options_.use_mmap && active &&
      needed_end_offset > reader->mapped_size() + kRemapSlack) {
    reader = nullptr;  // Map the segment again, now that it has grown.
  }
  // A reader through a frame index given up meanwhile (inserted by a read that loaded
  // the file before it was refused): walked instead.
  const bool refused =
      any_refused_.load(std::memory_order_acquire) && !active && FrameIndexRefused(segment_start);
  if (reader != nullptr && refused && reader->index().loaded_from_file()) reader = nullptr;
  if (reader != nullptr) return reader;
  const SegmentReaderOptions reader_options = ReaderOptions();
  const std::string path = dir_.SegmentPath(segment_start);
  if (active) {
    IRONWAL_ASSIGN_OR_RETURN(reader,
                             SegmentReader::OpenActive(env_, path, active_index, reader_options));
  } else if (std::shared_ptr<const OffsetIndex> shelved =
                 shared_->readers->ShelvedIndex(this, segment_start);
             shelved != nullptr && !(refused && shelved->loaded_from_file())) {
    // Indexed before (reader_cache.h): the file is opened, not walked again.
    IRONWAL_ASSIGN_OR_RETURN(reader,
                             SegmentReader::OpenSealedIndexed(env_, path, shelved, reader_options));
  } else if (end_id.has_value() && !refused &&
             (reader = OpenFromFrameIndex(path, segment_start, *end_id, reader_options)) !=
                 nullptr) {
    // Indexed by the process that sealed it (frame_index_file.h): not walked either.
  } else {
    std::optional<uint64_t> frames_end = end_id;
    if (end_id.has_value()) frames_end = SealedFramesEnd(segment_start, *end_id);
    IRONWAL_ASSIGN_OR_RETURN(
        reader, SegmentReader::OpenSealed(env_, path, segment_start, frames_end, reader_options));
  }
  // A damaged sealed segment is walked again on the next read (the damage may have been a
  // bit flipped on the way from the disk); once two walks stop at the same byte the damage
  // is on the disk, and the reader is kept: the frames before it are read without a walk
  // (the cache never shelves a damaged reader's index, so an eviction costs one more walk).
  if (reader->damage().ok() || (!active && SameDamageAsLastWalk(segment_start, *reader))) {
    shared_->readers->Insert(this, segment_start, reader);
  }
  return reader;
}

bool Stream::SameDamageAsLastWalk(uint64_t segment_start, const SegmentReader& walked) {
  const uint64_t stopped_at = walked.index().end_offset();
  MutexLock lock(&refused_mu_);
  auto [it, first_walk] = damaged_walks_.try_emplace({log_epoch(), segment_start}, stopped_at);
  if (first_walk) return false;
  const bool same = it->second == stopped_at;
  it->second = stopped_at;
  return same;
}

std::shared_ptr<SegmentReader> Stream::OpenFromFrameIndex(
    const std::string& path, uint64_t segment_start, uint64_t end_id,
    const SegmentReaderOptions& reader_options) {
  const std::string& dir = dir_.dir_path();
  absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
  if (!size.ok()) return nullptr;  // the walk reports it
  absl::StatusOr<std::shared_ptr<OffsetIndex>> index =
      LoadFrameIndex(env_, dir, segment_start, end_id, *size);
  absl::StatusOr<std::shared_ptr<SegmentReader>> reader =
      index.ok() ? SegmentReader::OpenSealedIndexed(env_, path, *index, reader_options)
                 : index.status();
  // The last frame, as the file describes it, must be where it says, stamped for this
  // stream: a cheap check that it describes this segment's frames, not an earlier
  // segment's of the same name, and that the segment is this stream's (a walk reports a
  // segment from another stream's directory; reads through an index do not look).
  if (reader.ok()) {
    const absl::Status checked = (*reader)->CheckLastFrame(StreamTag(dir_name()));
    if (!checked.ok()) reader = checked;
  }
  if (reader.ok()) return *std::move(reader);
  // Unusable (absent, torn, stale, or a read failed): walked instead. A file found wrong
  // (DataLoss) goes; one that a failed read could not check stays.
  if (absl::IsDataLoss(reader.status()) && !options_.read_only) {
    RemoveFrameIndex(env_, dir, segment_start).IgnoreError();
  }
  return nullptr;
}

uint64_t Stream::SealedFramesEnd(uint64_t segment_start, uint64_t next_start) const {
  // Read only here, before a walk (rare: once per segment and process at most): lost.ids
  // changes under recovery, repair and truncations, which keep it consistent on disk.
  absl::StatusOr<LostRanges> lost = ReadLostRanges(env_, dir_.dir_path());
  if (!lost.ok()) return next_start;  // the walk then reports the segment short
  for (const auto& [first, end] : *lost) {
    if (end == next_start && segment_start <= first && first < next_start) return first;
  }
  return next_start;
}

SegmentReaderOptions Stream::ReaderOptions() const {
  SegmentReaderOptions reader_options;
  reader_options.use_mmap = options_.use_mmap;
  reader_options.buffer_size = options_.read_buffer_size;
  return reader_options;
}

bool Stream::FrameIndexRefused(uint64_t segment_start) const {
  MutexLock lock(&refused_mu_);
  return refused_frame_indexes_.count({log_epoch(), segment_start}) != 0;
}

std::shared_ptr<SegmentReader> Stream::WalkIfFrameIndexWrong(const SegmentReader& hinted) {
  const OffsetIndex& hint = hinted.index();
  if (!hint.loaded_from_file()) return nullptr;
  const uint64_t segment_start = hinted.start_id();
  // Keyed by the log epoch too: after a suffix truncation or reset a segment of that
  // start ID is another one, and so is its file.
  const std::pair<uint64_t, uint64_t> key(log_epoch(), segment_start);
  {
    // Walked before and found to agree: the damage is real, and is not walked again for
    // every read of it.
    MutexLock lock(&refused_mu_);
    if (confirmed_frame_indexes_.count(key) != 0) return nullptr;
  }
  absl::StatusOr<std::shared_ptr<SegmentReader>> walked =
      SegmentReader::OpenSealed(env_, hinted.path(), segment_start, hint.end_id(), ReaderOptions());
  if (!walked.ok()) return nullptr;
  // Both run from byte 0 without gaps: they agree on the walk's prefix when they agree
  // frame by frame.
  const OffsetIndex& walk = (*walked)->index();
  bool agrees = walk.frame_count() <= hint.frame_count();
  walk.ForEachFrame([&](const FrameLocation& frame) {
    if (!agrees) return;
    const std::optional<FrameLocation> same = hint.FrameAt(frame.offset);
    agrees = same.has_value() && same->start_id == frame.start_id &&
             same->entry_count == frame.entry_count && same->size == frame.size;
  });
  {
    MutexLock lock(&refused_mu_);
    if (agrees) {
      confirmed_frame_indexes_.insert(key);
      return nullptr;
    }
    refused_frame_indexes_.insert(key);
    any_refused_.store(true, std::memory_order_release);
  }
  shared_->readers->Erase(this, segment_start);
  if (!options_.read_only) RemoveFrameIndex(env_, dir_.dir_path(), segment_start).IgnoreError();
  if ((*walked)->damage().ok()) shared_->readers->Insert(this, segment_start, *walked);
  return *std::move(walked);
}

absl::StatusOr<VerifiedFrame> Stream::ReadFrameAt(uint64_t id, ReadPosition* pos,
                                                  std::string* scratch) {
  // Twice at most: a read racing the refusal may still meet a reader through the file.
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<VerifiedFrame> frame = scratch != nullptr
                                              ? pos->reader->ReadFrame(pos->frame, scratch)
                                              : pos->reader->ReadFrame(pos->frame);
    if (frame.ok() || !absl::IsDataLoss(frame.status()) ||
        !pos->reader->index().loaded_from_file() || attempt == 2 ||
        WalkIfFrameIndexWrong(*pos->reader) == nullptr) {
      return frame;
    }
    IRONWAL_ASSIGN_OR_RETURN(*pos, Locate(id));
  }
}

absl::StatusOr<Stream::ReadPosition> Stream::Locate(uint64_t id) {
  const uint64_t next = next_id();
  if (id >= next) {
    return absl::OutOfRangeError(
        absl::StrCat(OpDescription("read"), ": ID ", id, " is at or past the next ID ", next));
  }
  const auto below_first = [&] {
    return absl::NotFoundError(absl::StrCat(OpDescription("read"), ": ID ", id,
                                            " is below the first retained ID ", first_id()));
  };
  if (id < first_id()) return below_first();

  const std::optional<StreamDir::Placement> place = dir_.Place(id);
  if (!place.has_value()) return below_first();
  const uint64_t segment_start = place->segment_start;
  const std::optional<uint64_t> end_id = place->end_id;
  const std::shared_ptr<OffsetIndex>& active_index = place->active_index;
  ReadPosition pos;
  pos.active = place->active;
  pos.segment_end_id = end_id.value_or(next);
  // For the active segment the live index says where the frame is before any file is
  // opened, so a mapped reader can be refreshed when the frame lies past its mapping.
  std::optional<FrameLocation> frame;
  if (pos.active) frame = active_index->Find(id);
  absl::StatusOr<std::shared_ptr<SegmentReader>> reader = ReaderFor(
      segment_start, pos.active, end_id, active_index, frame.has_value() ? frame->end_offset() : 0);
  if (!reader.ok()) {
    if (id < first_id()) return below_first();  // Truncated while we looked.
    return reader.status();
  }
  pos.reader = *std::move(reader);
  if (!frame.has_value()) frame = pos.reader->index().Find(id);
  if (!frame.has_value() && !pos.reader->damage().ok()) {
    return absl::DataLossError(absl::StrCat(OpDescription("read"), ": ID ", id,
                                            " is lost: ", pos.reader->damage().message()));
  }
  if (!frame.has_value() && !pos.active && id >= pos.reader->index().end_id()) {
    // The segment's frames end where lost.ids's range begins (SealedFramesEnd).
    return absl::DataLossError(absl::StrCat(
        OpDescription("read"), ": ID ", id, " is lost: segment ", pos.reader->path(),
        " ends at ID ", pos.reader->index().end_id(), ", and IDs [", pos.reader->index().end_id(),
        ", ", pos.segment_end_id, ") were cut out of the log by a recovery or repair (",
        format::kLostIdsFileName, ")"));
  }
  if (!frame.has_value()) {
    return absl::DataLossError(absl::StrCat(OpDescription("read"), ": ID ", id,
                                            " is missing from segment ", pos.reader->path()));
  }
  pos.frame = *frame;
  if (pos.active) IRONWAL_RETURN_IF_ERROR(EnsureFlushed(segment_start, frame->end_offset()));
  return pos;
}

// A frame read with pread lands in this thread's scratch buffer, reused from Get to Get
// (the entry is copied out before the next read); GetSlow lets go of one that a frame grew
// past kKeepScratch, so that a rare huge frame is not kept. TryGet leaves frames over half
// of it to GetSlow: growing for a smaller one (to at most twice the old capacity, which is
// below the frame's size) keeps the buffer within kKeepScratch without a check per Get.
constexpr size_t kKeepScratch = 1 << 20;

bool Stream::TryGet(uint64_t id, std::string* scratch, std::shared_ptr<SegmentReader>* reader,
                    absl::string_view* entry) {
  if (id >= next_id() || id < first_id()) return false;
  uint64_t segment_start;
  bool active;
  std::optional<FrameLocation> frame;
  if (!dir_.PlaceFrame(id, &segment_start, &active, &frame)) return false;
  *reader = shared_->readers->Lookup(this, segment_start);
  if (*reader == nullptr) return false;
  if (active) {
    // Not yet in the file (kAsync), or far enough past the mapping that ReaderFor maps the
    // segment again: the general path.
    if (!frame.has_value() || frame->end_offset() > dir_.flushed_offset() ||
        (options_.use_mmap && frame->end_offset() > (*reader)->mapped_size() + kRemapSlack)) {
      return false;
    }
  } else {
    frame = (*reader)->index().Find(id);
    if (!frame.has_value()) return false;
  }
  return frame->size <= kKeepScratch / 2 && (*reader)->TryReadEntry(*frame, id, scratch, entry);
}

absl::StatusOr<std::string> Stream::Get(uint64_t id) {
  thread_local std::string scratch;
  std::shared_ptr<SegmentReader> reader;  // holds the mapping `entry` may point into
  absl::string_view entry;
  if (TryGet(id, &scratch, &reader, &entry)) {
    return absl::StatusOr<std::string>(absl::in_place, entry.data(), entry.size());
  }
  return GetSlow(id, &scratch);
}

absl::StatusOr<std::string> Stream::GetSlow(uint64_t id, std::string* scratch_buffer) {
  std::string& scratch = *scratch_buffer;
  IRONWAL_ASSIGN_OR_RETURN(ReadPosition pos, Locate(id));
  absl::StatusOr<VerifiedFrame> frame = ReadFrameAt(id, &pos, &scratch);
  const auto release = [&scratch] {
    if (scratch.capacity() > kKeepScratch) std::string().swap(scratch);
  };
  if (!frame.ok()) {
    if (id < first_id()) {
      release();
      return absl::NotFoundError(absl::StrCat(OpDescription("read"), ": ID ", id,
                                              " was truncated away while it was read"));
    }
    release();
    return frame.status();
  }
  absl::StatusOr<absl::string_view> entry = frame->Entry(id);
  absl::StatusOr<std::string> result = entry.ok() ? absl::StatusOr<std::string>(std::string(*entry))
                                                  : pos.reader->Annotate(pos.frame, entry.status());
  release();  // `frame` is not read again.
  return result;
}

absl::Status Stream::EnsureFlushed(uint64_t segment_start_id, uint64_t end_offset) {
  if (end_offset <= dir_.flushed_offset()) return absl::OkStatus();
  MutexLock lock(&write_mu_);
  if (!dir_.Buffered(segment_start_id, end_offset)) return absl::OkStatus();
  return FlushWriter();
}

Stream::Memory Stream::MemoryHeld() {
  Memory held;
  {
    MutexLock lock(&write_mu_);
    held.write_buffer = dir_.write_buffer_capacity();
    held.evicted = dir_.writer_detached();
  }
  held.active_index = dir_.active_index();
  return held;
}

StreamInfo Stream::Info() {
  StreamInfo info;
  info.key = dir_.key(&info.key_known);
  info.dir = dir_.dir_name();
  const std::vector<uint64_t> segments = dir_.Segments(&info.first_id);
  info.next_id = next_id();
  info.segment_count = segments.size();
  info.active_segment_start_id = segments.empty() ? 0 : segments.back();
  uint64_t active_bytes;
  {
    MutexLock lock(&write_mu_);
    info.poisoned = poison_;
    active_bytes = dir_.active_bytes();
  }
  info.bytes = active_bytes;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    absl::StatusOr<uint64_t> size = env_->GetFileSize(dir_.SegmentPath(segments[i]));
    if (size.ok()) info.bytes += *size;
  }
  return info;
}

}  // namespace internal
}  // namespace ironwal
