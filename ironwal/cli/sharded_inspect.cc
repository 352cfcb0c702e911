// The sharded checks of `ironwal verify` and the sharded summary of `ironwal ls`.
#include "ironwal/cli/sharded_inspect.h"

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/env/env.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/sharded/checkpoint_log.h"
#include "ironwal/sharded/shards_file.h"
#include "ironwal/status_macros.h"

namespace ironwal {
namespace cli {

using sharded::CheckpointLog;
using sharded::IndexedCheckpoint;

bool IsShardedRoot(const std::string& root) {
  Env* env = Env::Default();
  for (absl::string_view name :
       {sharded::kCheckpointLogName, sharded::kHeadName, sharded::kShardsFileName}) {
    if (env->GetFileSize(JoinPath(root, name)).ok()) return true;
  }
  return false;
}

absl::Status VerifyShardedFiles(const std::string& root, std::ostream& out) {
  Env* env = Env::Default();
  const std::string log_path = JoinPath(root, sharded::kCheckpointLogName);
  IRONWAL_ASSIGN_OR_RETURN(const sharded::LogScan scan, sharded::ScanCheckpointLog(env, log_path));
  if (scan.valid_end != scan.file_size) {
    return absl::DataLossError(absl::StrCat(
        log_path, "@", scan.valid_end, ": ", scan.stop_reason,
        scan.entry_after_damage.has_value() ? " (valid entries follow)" : " (torn tail)"));
  }
  out << log_path << ": " << scan.entries.size() << " checkpoint entries, OK\n";
  absl::StatusOr<std::string> head = ReadFileToString(env, JoinPath(root, sharded::kHeadName));
  if (head.ok()) {
    const std::optional<std::string> id = sharded::DecodeHead(*head);
    bool known = false;
    for (const sharded::ScannedEntry& e : scan.entries)
      known |= id.has_value() && e.entry.user_id == *id;
    if (!known) {
      return absl::DataLossError(
          absl::StrCat(JoinPath(root, sharded::kHeadName), "@0: names no checkpoint of the log"));
    }
    out << JoinPath(root, sharded::kHeadName) << ": names " << absl::CEscape(*id) << ", OK\n";
  } else if (!absl::IsNotFound(head.status())) {
    return head.status();
  }
  IRONWAL_ASSIGN_OR_RETURN(const std::optional<sharded::ShardsFile> shards,
                           sharded::ReadShardsFile(env, root));
  if (shards.has_value()) {
    out << JoinPath(root, sharded::kShardsFileName) << ": " << shards->shard_count
        << " shards, OK\n";
  }
  return absl::OkStatus();
}

absl::Status DescribeShardedLayout(const std::string& root, std::ostream& out) {
  Env* env = Env::Default();
  IRONWAL_ASSIGN_OR_RETURN(const std::optional<sharded::ShardsFile> shards,
                           sharded::ReadShardsFile(env, root));
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointLog> log,
                           CheckpointLog::Open(env, root, /*read_only=*/true));
  absl::StatusOr<IndexedCheckpoint> latest = log->LoadLatest();
  out << "sharded: "
      << (shards.has_value() ? absl::StrCat(shards->shard_count, " shards")
                             : std::string("shard count not recorded (0.6)"))
      << ", " << log->size() << " checkpoints"
      << (latest.ok() ? absl::StrCat(", latest ", absl::CEscape(latest->user_id)) : "") << "\n";
  return absl::OkStatus();
}

}  // namespace cli
}  // namespace ironwal
