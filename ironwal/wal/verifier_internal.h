// File: ironwal/wal/verifier_internal.h
//
// The pieces of verifier.cc and verify_segments.cc that they share. Not for other users.
#ifndef IRONWAL_WAL_VERIFIER_INTERNAL_H_
#define IRONWAL_WAL_VERIFIER_INTERNAL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/env/env.h"
#include "ironwal/format/names.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/wal/maintenance.h"

namespace ironwal {
namespace internal {

namespace verifier_internal {

using Listing = StreamListing;

// One segment file, walked frame by frame.
struct SegmentWalk {
  uint64_t file_size = 0;
  uint64_t end_id = 0;  // one past the last ID of the last CRC-valid frame
  uint64_t frames = 0;  // CRC-valid frames
  uint64_t entries = 0;
  std::vector<Finding> findings;  // fix kNone; callers decide
  // With a frame index to compare: the offset of the first CRC-valid frame it does not
  // describe as the file holds it.
  std::optional<uint64_t> frame_index_differs_at;
};

// Walks every frame of the segment at `path`, whose name says it starts at `start_id`:
// header, bounds, CRC, entry block, IDs continuing from start_id. After a bad spot the
// walk resumes at the next CRC-valid frame. With `frame_index` (the segment's frame index
// file, loaded), each CRC-valid frame is compared with it. Errors are I/O errors only.
absl::StatusOr<SegmentWalk> WalkSegment(Env* env, const std::string& path, uint64_t start_id,
                                        const OffsetIndex* frame_index = nullptr);

// Walks the segments in check->segments (the settled list), checks that each continues
// where the previous one ended, judges the active segment's tail as recovery would, and
// checks durable.pos. Fills check's findings and counters.
absl::Status CheckSegments(Env* env, const Listing& listing, StreamCheck* check);

// log.intent (verify_log_files.cc): a finding repair fixes for one that the next open
// finishes (with a note that the segments are not walked), one it cannot fix for one that
// is malformed or cannot be finished. Sets check->log_intent. Errors: I/O errors.
absl::Status CheckLogIntent(Env* env, StreamCheck* check);

// stream.deleted: a finding repair fixes (finishing the delete). Sets check->deleting.
void CheckDeleting(StreamCheck* check);

// stream.meta, when listed: a finding when it is damaged.
void CheckMetadataFile(Env* env, const Listing& listing, StreamCheck* check);

// first.id, when listed (after CheckSegments, which sets the IDs): a finding when it is
// damaged or beyond the next ID; else it raises check->first_id as opens do.
void CheckFirstIdFile(Env* env, const Listing& listing, StreamCheck* check);

}  // namespace verifier_internal

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_WAL_VERIFIER_INTERNAL_H_
