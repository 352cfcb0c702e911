// File: ironwal/format/frame_run.h
//
// TakeRawRun: the scan's bulk path. It decodes and checks, straight from one span of
// segment bytes (a mapping, or a read-ahead buffer), as many consecutive raw frames as
// are whole in it, and hands out their entries as views into those bytes: no Status, no
// allocation once `entries` has grown, one CRC fold per frame over the covered header
// bytes and the payload in place, up to 64 frames' folds in one call
// (Crc32Of17AndTailMatching: their headers are decoded first, their entries split after).
//
// It takes only frames that pass every check the general path makes (the header decodes,
// the frame is whole in the span, the CRC matches, the IDs continue, the entry block
// splits into exactly entry_count entries) and stops, taking nothing of it, at the first
// frame that does not or that it does not handle (LZ4): the caller reads that one with the
// general path, which reports damage with the path and offset.
//
//   RawRun run = TakeRawRun(cursor.BytesAtHand(), id, end_id, 64, &entries);
//   cursor.Skip(run.bytes);   // entries[i] is ID run.start_id + i, for i < run.entries
//
// Thread-safety: a pure function.
#ifndef IRONWAL_FORMAT_FRAME_RUN_H_
#define IRONWAL_FORMAT_FRAME_RUN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace ironwal {
namespace internal {

struct RawRun {
  uint64_t bytes = 0;     // bytes of `span` taken: 0 when no frame was
  uint64_t start_id = 0;  // the first taken frame's start ID (entries[0]'s ID)
  size_t entries = 0;     // entries of the frames taken: (*entries)[0, this)
};

// Takes frames from the start of `span`: the first must hold ID `id` (its start ID <= id <
// its end), each next one must start where the one before ended. Stops before a frame
// that starts at or past `stop_id`, once `*entries` holds `max_entries` or more (the first
// frame is taken whatever its size), and at the first frame that is not whole in `span` or
// fails a check. The first run.entries of `*entries` are then every entry of the frames
// taken, in ID order (views into `span`); the vector is grown as needed and never shrunk
// (its size is a capacity: no element is written per call but those of the run).
RawRun TakeRawRun(absl::string_view span, uint64_t id, uint64_t stop_id, size_t max_entries,
                  std::vector<absl::string_view>* entries);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_FORMAT_FRAME_RUN_H_
