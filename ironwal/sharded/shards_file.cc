#include "ironwal/sharded/shards_file.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#include "ironwal/sharded/router.h"
#include "ironwal/status_macros.h"

namespace ironwal {
namespace sharded {

constexpr absl::string_view kMagicLine = "ironwal-sharded 1";

std::string EncodeShardsFile(const ShardsFile& file) {
  return absl::StrCat(kMagicLine, "\nshard_count ", file.shard_count, "\nrouting ", file.routing,
                      "\n");
}

absl::StatusOr<ShardsFile> DecodeShardsFile(absl::string_view text, const std::string& path) {
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  ShardsFile file;
  absl::string_view count = lines.size() == 4 ? lines[1] : "";
  absl::string_view routing = lines.size() == 4 ? lines[2] : "";
  if (lines.size() != 4 || lines[0] != kMagicLine || !lines[3].empty() ||
      !absl::ConsumePrefix(&count, "shard_count ") || !absl::SimpleAtoi(count, &file.shard_count) ||
      file.shard_count == 0 || file.shard_count > kMaxShards ||
      !absl::ConsumePrefix(&routing, "routing ") || routing.empty()) {
    return absl::DataLossError(absl::StrCat("read ", path, "@0: not a valid SHARDS file"));
  }
  file.routing = std::string(routing);
  return file;
}

absl::StatusOr<std::optional<ShardsFile>> ReadShardsFile(Env* env, const std::string& root) {
  const std::string path = JoinPath(root, kShardsFileName);
  absl::StatusOr<std::string> text = ReadFileToString(env, path);
  if (absl::IsNotFound(text.status())) return std::optional<ShardsFile>();
  IRONWAL_RETURN_IF_ERROR(text.status());
  IRONWAL_ASSIGN_OR_RETURN(ShardsFile file, DecodeShardsFile(*text, path));
  return std::optional<ShardsFile>(std::move(file));
}

absl::Status WriteShardsFile(Env* env, const std::string& root, const ShardsFile& file) {
  return WriteFileAtomically(env, JoinPath(root, kShardsFileName), EncodeShardsFile(file));
}

}  // namespace sharded
}  // namespace ironwal
