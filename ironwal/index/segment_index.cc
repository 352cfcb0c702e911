#include "ironwal/index/segment_index.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/util/coding.h"

namespace ironwal {
namespace internal {

absl::StatusOr<std::vector<uint64_t>> ReadSegmentIndex(Env* env, const std::string& stream_dir) {
  const std::string path = JoinPath(stream_dir, format::kSegmentIndexFileName);
  IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env, path));
  absl::StatusOr<std::vector<uint64_t>> ids = DecodeSegmentIndex(contents);
  if (!ids.ok()) {
    return absl::DataLossError(absl::StrCat("read ", path, ": ", ids.status().message()));
  }
  return ids;
}

absl::Status AppendSegmentIndex(Env* env, const std::string& stream_dir, uint64_t start_id) {
  const std::string path = JoinPath(stream_dir, format::kSegmentIndexFileName);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewAppendableFile(path));
  char entry[format::kSegmentIndexEntrySize];
  EncodeFixed64(entry, start_id);
  IRONWAL_RETURN_IF_ERROR(file->Append(absl::string_view(entry, sizeof(entry))));
  IRONWAL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

absl::Status RewriteSegmentIndex(Env* env, const std::string& stream_dir,
                                 const std::vector<uint64_t>& start_ids) {
  return WriteFileAtomically(env, JoinPath(stream_dir, format::kSegmentIndexFileName),
                             EncodeSegmentIndex(start_ids));
}

int64_t FindSegment(const std::vector<uint64_t>& start_ids, uint64_t id) {
  auto it = std::upper_bound(start_ids.begin(), start_ids.end(), id);
  return static_cast<int64_t>(it - start_ids.begin()) - 1;
}

}  // namespace internal
}  // namespace ironwal
