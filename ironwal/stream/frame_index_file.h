// File: ironwal/stream/frame_index_file.h
//
// A sealed segment's frame index file ("<start>.frames", format.h and FORMAT.md): where
// its frames are, so that the first read of the segment in a process opens it and reads
// one frame instead of walking the whole segment to index it.
//
//   // At rotation, once the sealed segment is synced, before the directory sync that
//   // names the next segment (best effort):
//   WriteFrameIndex(env, dir, *sealed_index).IgnoreError();
//   // At the first read of a sealed segment nothing has indexed in this process:
//   absl::StatusOr<std::shared_ptr<OffsetIndex>> index =
//       LoadFrameIndex(env, dir, start, end_id, file_size);
//
// The file is a hint, never the truth (a crash may still leave it torn or missing: a torn
// one fails its CRC), and LoadFrameIndex takes it only when it describes exactly this segment as
// the stream knows it (the start ID, the end ID, the file's size); the caller then checks the
// segment's last frame against it (ReaderFor), and every read checks the frame it reads
// (header against the index, CRC): one that finds no frame where the file says gives the
// file up and walks the segment (Stream::ReadFrameAt, Stream::WalkIfFrameIndexWrong), so a
// stale file costs a walk, never an entry. The steps that change or remove a segment remove its
// file first (RemoveFrameIndex): a reset or suffix truncation (log.intent), a truncation.
//
// Thread-safety: functions of the Env only. WriteFrameIndex runs under the stream's write
// lock (rotation); LoadFrameIndex may run on any thread (the file is replaced by rename).
#ifndef IRONWAL_STREAM_FRAME_INDEX_FILE_H_
#define IRONWAL_STREAM_FRAME_INDEX_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/env/env.h"
#include "ironwal/index/offset_index.h"

namespace ironwal {
namespace internal {

// Writes the frame index file of the sealed segment `index` describes (its frames from
// its start ID and offset 0 to end_id() and end_offset(), the segment's size): written and
// synced as "<name>.tmp", then renamed (the directory is not synced: the caller's next
// directory sync makes the name durable). On failure the temporary file and any older
// frame index of the segment are removed (best effort), so none describes other bytes.
absl::Status WriteFrameIndex(Env* env, const std::string& dir, const OffsetIndex& index);

// The index of the sealed segment of `dir` that starts at `start_id`, ends at `end_id`
// and is `file_size` bytes, from its frame index file. NotFound when there is none;
// DataLoss when it is malformed or describes other bytes (another end ID or size).
absl::StatusOr<std::shared_ptr<OffsetIndex>> LoadFrameIndex(Env* env, const std::string& dir,
                                                            uint64_t start_id, uint64_t end_id,
                                                            uint64_t file_size);

// Removes the frame index file of the segment starting at `start_id` (OK if absent).
absl::Status RemoveFrameIndex(Env* env, const std::string& dir, uint64_t start_id);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_FRAME_INDEX_FILE_H_
