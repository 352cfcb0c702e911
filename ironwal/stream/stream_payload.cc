// Stream::MeasurePayloads: the payload sizes of GetStreamInfo(kPayloadSizes), from the frame
// headers of the retained segments (payloads are not read, CRCs are not checked).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/stream.h"

namespace ironwal {
namespace internal {
namespace {

using IdRanges = std::vector<std::pair<uint64_t, uint64_t>>;

// Where the walk has got to: the ID the next frame must start at, and the sums.
struct PayloadWalk {
  uint64_t first = 0;  // the first retained ID
  uint64_t next = 0;   // frames at or past it are not counted
  uint64_t expected = 0;
  IdRanges lost;
  uint64_t logical = 0;
  uint64_t stored = 0;
};

// Adds the frames of one segment file to `walk`.
absl::Status WalkSegment(Env* env, const std::string& path, size_t buffer_size, PayloadWalk* walk) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env->NewRandomAccessFile(path, {}));
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  FrameCursor cursor(file.get(), 0, size, buffer_size);
  for (;;) {
    IRONWAL_ASSIGN_OR_RETURN(const FrameCursor::Item item, cursor.Next(/*read_payload=*/false));
    const FrameHeader& h = item.header;
    if (item.kind != FrameCursor::Kind::kFrame || h.start_id >= walk->next) return absl::OkStatus();
    if (h.end_id() <= walk->first) continue;  // Trimmed away (TrimFront inside a segment).
    if (h.start_id > walk->expected && LostIdsCover(walk->lost, walk->expected, h.start_id)) {
      walk->expected = h.start_id;  // A gap a repair recorded (lost.ids).
    }
    const bool straddles_first = walk->expected == walk->first && h.start_id < walk->first;
    if (h.start_id != walk->expected && !straddles_first) {
      return absl::DataLossError(absl::StrCat(
          "stream info ", path, "@", item.offset, ": the frame holds IDs [", h.start_id, ", ",
          h.end_id(), "), but the IDs before it end at ", walk->expected,
          h.start_id > walk->expected ? ": IDs are missing" : ": IDs overlap"));
    }
    walk->expected = h.end_id();
    walk->logical += h.uncompressed_size;
    walk->stored += h.disk_size;
  }
}

}  // namespace

absl::Status Stream::MeasurePayloads(StreamInfo* info) {
  PayloadWalk walk;
  const std::vector<uint64_t> segments = dir_.Segments(&walk.first);
  walk.next = info->next_id;
  walk.expected = walk.first;
  if (!segments.empty()) {
    uint64_t active_bytes;
    {
      MutexLock lock(&write_mu_);
      active_bytes = dir_.active_bytes();
    }
    // kAsync: the frames still in this process's buffer are walked from the file too.
    IRONWAL_RETURN_IF_ERROR(EnsureFlushed(segments.back(), active_bytes));
  }
  IRONWAL_ASSIGN_OR_RETURN(walk.lost, ReadLostRanges(env_, dir_.dir_path()));
  for (const uint64_t start : segments) {
    // The active segment's file is created by the stream's first write: a stream created
    // empty (CreateStream, PutStreamMetadata, a reset) has none yet, and holds no bytes.
    if (start == segments.back() &&
        absl::IsNotFound(env_->GetFileSize(dir_.SegmentPath(start)).status())) {
      break;
    }
    IRONWAL_RETURN_IF_ERROR(
        WalkSegment(env_, dir_.SegmentPath(start), options_.read_buffer_size, &walk));
  }
  if (walk.expected < walk.next && LostIdsCover(walk.lost, walk.expected, walk.next)) {
    walk.expected = walk.next;
  }
  if (walk.expected != walk.next) {
    return absl::DataLossError(
        absl::StrCat("stream info ", dir_.dir_path(), ": the segments' frames end at ID ",
                     walk.expected, ", the stream's next ID is ", walk.next, ": IDs are missing"));
  }
  info->logical_bytes = walk.logical;
  info->stored_payload_bytes = walk.stored;
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace ironwal
