#include "ironwal/stream/frame_index_file.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"

namespace ironwal {
namespace internal {
namespace {

std::string FrameIndexPath(const std::string& dir, uint64_t start_id) {
  return JoinPath(dir, FrameIndexFileName(start_id));
}

}  // namespace

absl::Status WriteFrameIndex(Env* env, const std::string& dir, const OffsetIndex& index) {
  FrameIndexFile file;
  file.start_id = index.segment_start_id();
  file.end_id = index.end_id();
  file.segment_size = index.end_offset();
  file.frames.reserve(index.frame_count());
  index.ForEachFrame([&file](const FrameLocation& frame) {
    file.frames.emplace_back(frame.entry_count,
                             static_cast<uint32_t>(frame.size - format::kFrameHeaderSize));
  });
  const std::string path = FrameIndexPath(dir, file.start_id);
  // The caller's next directory sync makes the name durable.
  absl::Status written = file.frames.empty()
                             ? absl::FailedPreconditionError("no frames")
                             : WriteFileAndRename(env, path, EncodeFrameIndex(file));
  if (!written.ok()) {
    // Neither a partial temporary file nor an older file of this name (which would
    // describe other bytes) is left.
    RemoveFileIfPresent(env, path + format::kTempSuffix).IgnoreError();
    RemoveFileIfPresent(env, path).IgnoreError();
    return absl::Status(written.code(),
                        absl::StrCat("write frame index ", path, ": ", written.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<OffsetIndex>> LoadFrameIndex(Env* env, const std::string& dir,
                                                            uint64_t start_id, uint64_t end_id,
                                                            uint64_t file_size) {
  const std::string path = FrameIndexPath(dir, start_id);
  // Every frame is at least a header, so the segment holds at most file_size / 32 of
  // them: a larger file is not read into memory.
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(path));
  const uint64_t most = format::kFrameIndexHeaderSize +
                        format::kFrameIndexEntrySize * (file_size / format::kFrameHeaderSize) + 4;
  if (size > most) {
    return absl::DataLossError(absl::StrCat("read ", path, ": ", size, " bytes, more than ", most,
                                            " for a segment of ", file_size, " bytes"));
  }
  IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env, path));
  absl::StatusOr<FrameIndexFile> file = DecodeFrameIndex(contents);
  if (!file.ok()) {
    return absl::DataLossError(absl::StrCat("read ", path, ": ", file.status().message()));
  }
  if (file->start_id != start_id || file->end_id != end_id || file->segment_size != file_size) {
    return absl::DataLossError(absl::StrCat("read ", path, ": describes IDs [", file->start_id,
                                            ", ", file->end_id, ") in ", file->segment_size,
                                            " bytes; the segment holds [", start_id, ", ", end_id,
                                            ") in ", file_size, " bytes"));
  }
  OffsetIndex::Frames frames;
  frames.Reserve(file->frames.size());
  uint64_t id = start_id;
  uint64_t offset = 0;
  for (const auto& [entries, payload] : file->frames) {
    frames.Add(id, offset);
    id += entries;
    offset += format::kFrameHeaderSize + uint64_t{payload};
  }
  auto index = std::make_shared<OffsetIndex>(start_id);
  index->PublishAll(std::move(frames), end_id, file_size);
  index->MarkLoadedFromFile();
  return index;
}

absl::Status RemoveFrameIndex(Env* env, const std::string& dir, uint64_t start_id) {
  return RemoveFileIfPresent(env, FrameIndexPath(dir, start_id));
}

}  // namespace internal
}  // namespace ironwal
