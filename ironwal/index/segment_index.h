// File: ironwal/index/segment_index.h
//
// segments.idx: the start IDs of a stream's segments, as u64 little-endian values, oldest
// first (ironwal 0.6's file). ironwal 0.6 memory-maps it and trusts it if its length is a
// multiple of 8; this library reads it into memory once at open, requires the IDs never
// to decrease (dropping the duplicates 0.6 wrote when it rotated an empty segment), and
// reconciles it with the directory listing (see StreamDir::Recover in
// ironwal/stream/stream_dir_recovery.cc).
//
// Durability: AppendSegmentIndex syncs the file; RewriteSegmentIndex replaces the file
// atomically and syncs the directory, so after a crash the file holds the old or the new
// list, never a mix.
//
// Thread-safety: free functions; callers serialize writers of one stream.
#ifndef IRONWAL_INDEX_SEGMENT_INDEX_H_
#define IRONWAL_INDEX_SEGMENT_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/env/env.h"

namespace ironwal {
namespace internal {

// The start IDs in `stream_dir`/segments.idx. NotFound if the file is missing, DataLoss if
// its length is not a multiple of 8 or the IDs decrease.
absl::StatusOr<std::vector<uint64_t>> ReadSegmentIndex(Env* env, const std::string& stream_dir);

// Appends `start_id` to `stream_dir`/segments.idx and syncs the file.
absl::Status AppendSegmentIndex(Env* env, const std::string& stream_dir, uint64_t start_id);

// Replaces `stream_dir`/segments.idx with `start_ids` atomically and durably.
absl::Status RewriteSegmentIndex(Env* env, const std::string& stream_dir,
                                 const std::vector<uint64_t>& start_ids);

// The position in `start_ids` (sorted, distinct) of the segment holding `id`: the last
// start ID <= id. -1 when `id` is below the first.
int64_t FindSegment(const std::vector<uint64_t>& start_ids, uint64_t id);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_INDEX_SEGMENT_INDEX_H_
