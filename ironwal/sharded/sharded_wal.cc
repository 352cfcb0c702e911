#include "ironwal/sharded/sharded_wal.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/sharded/router.h"
#include "ironwal/sharded/shards_file.h"
#include "ironwal/status_macros.h"

namespace ironwal {
namespace sharded {
namespace {

// The iterator of a shard that was never written.
class EmptyIterator : public Iterator {
 public:
  bool Valid() const override { return false; }
  void Next() override {}
  void Seek(uint64_t) override {}
  uint64_t id() const override { return 0; }
  absl::string_view value() const override { return {}; }
  absl::Status status() const override { return absl::OkStatus(); }
};

std::vector<std::string> ShardNames(uint32_t shard_count) {
  std::vector<std::string> names;
  for (uint32_t s = 0; s < shard_count; ++s) names.push_back(ShardName(s));
  return names;
}

absl::Status Mismatch(const std::string& root, uint32_t given, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("open sharded wal ", root, " with ", given, " shards: ", what));
}

// Checks `shard_count` against what the root records: SHARDS, or for a root without it
// (written by 0.6), its shard directories and its latest checkpoint.
absl::Status CheckShardCount(Wal* wal, const CheckpointLog& log, uint32_t shard_count,
                             const std::optional<ShardsFile>& recorded) {
  const std::string& root = wal->options().root;
  if (recorded.has_value()) {
    if (recorded->shard_count != shard_count) {
      return Mismatch(root, shard_count, absl::StrCat("SHARDS records ", recorded->shard_count));
    }
    if (recorded->routing != kRoutingName) {
      return Mismatch(root, shard_count, absl::StrCat("unknown routing ", recorded->routing));
    }
    return absl::OkStatus();
  }
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> streams, wal->ListStreams());
  for (const std::string& stream : streams) {
    std::optional<uint32_t> shard = ParseShardName(stream);
    if (shard.has_value() && *shard >= shard_count) {
      return Mismatch(root, shard_count, absl::StrCat("stream ", stream, " exists"));
    }
  }
  absl::StatusOr<IndexedCheckpoint> latest = log.LoadLatest();
  if (latest.ok() && latest->data.shard_count != shard_count) {
    return Mismatch(
        root, shard_count,
        absl::StrCat("the latest checkpoint has ", latest->data.shard_count, " shards"));
  }
  return absl::OkStatus();
}

}  // namespace

ShardedWal::ShardedWal(std::unique_ptr<Wal> wal, std::unique_ptr<CheckpointLog> log,
                       uint32_t shard_count)
    : shard_count_(shard_count),
      names_(ShardNames(shard_count)),
      wal_(std::move(wal)),
      log_(std::move(log)),
      watermarks_(shard_count) {}

ShardedWal::~ShardedWal() = default;

absl::StatusOr<std::unique_ptr<ShardedWal>> ShardedWal::Open(const WalOptions& options,
                                                             uint32_t shard_count) {
  if (shard_count == 0 || shard_count > kMaxShards) {
    return absl::InvalidArgumentError(absl::StrCat("open sharded wal ", options.root,
                                                   ": shard count ", shard_count, " is not in 1..",
                                                   kMaxShards));
  }
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(options));
  const std::string& root = wal->options().root;
  IRONWAL_ASSIGN_OR_RETURN(const std::optional<ShardsFile> recorded,
                           ReadShardsFile(options.env, root));
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointLog> log,
                           CheckpointLog::Open(options.env, root, options.read_only));
  IRONWAL_RETURN_IF_ERROR(CheckShardCount(wal.get(), *log, shard_count, recorded));
  if (!recorded.has_value() && !options.read_only) {
    IRONWAL_RETURN_IF_ERROR(
        WriteShardsFile(options.env, root, {shard_count, std::string(kRoutingName)}));
  }
  std::unique_ptr<ShardedWal> sharded(new ShardedWal(std::move(wal), std::move(log), shard_count));
  IRONWAL_RETURN_IF_ERROR(sharded->InitWatermarks());
  return sharded;
}

// What recovery found is acknowledged but not known durable (a crash of the process
// leaves unsynced bytes in the files): the first checkpoint syncs it.
absl::Status ShardedWal::InitWatermarks() {
  for (uint32_t s = 0; s < shard_count_; ++s) {
    absl::StatusOr<StreamInfo> info = wal_->GetStreamInfo(names_[s]);
    if (absl::IsNotFound(info.status())) continue;
    IRONWAL_RETURN_IF_ERROR(info.status());
    watermarks_.Acknowledge(s, info->next_id);
  }
  return absl::OkStatus();
}

uint32_t ShardedWal::RouteKey(absl::string_view key) const {
  return sharded::RouteKey(key, shard_count_);
}

absl::Status ShardedWal::CheckShard(uint32_t shard) const {
  if (shard >= shard_count_) {
    return absl::InvalidArgumentError(absl::StrCat("shard ", shard, " of ", wal_->options().root,
                                                   " is out of range (", shard_count_, " shards)"));
  }
  return absl::OkStatus();
}

void ShardedWal::Acknowledged(uint32_t shard, uint64_t next, bool durable) {
  if (durable) {
    watermarks_.MarkDurable(shard, next);
  } else {
    watermarks_.Acknowledge(shard, next);
  }
}

absl::StatusOr<ShardedId> ShardedWal::Append(absl::string_view key, absl::string_view value) {
  const uint32_t shard = RouteKey(key);
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t id, wal_->Append(names_[shard], value));
  Acknowledged(shard, id + 1, wal_->options().sync_mode == SyncMode::kStrict);
  return ShardedId{shard, id};
}

absl::StatusOr<ShardedRange> ShardedWal::AppendBatchForKey(
    absl::string_view key, absl::Span<const absl::string_view> values) {
  const uint32_t shard = RouteKey(key);
  if (values.empty()) return ShardedRange{shard, IdRange{}};
  IRONWAL_ASSIGN_OR_RETURN(const IdRange ids, wal_->AppendBatch(names_[shard], values));
  Acknowledged(shard, ids.end, wal_->options().sync_mode != SyncMode::kAsync);
  return ShardedRange{shard, ids};
}

absl::StatusOr<std::vector<ShardedId>> ShardedWal::AppendBatch(absl::Span<const KeyValue> entries) {
  // Ordered by shard, so the order of the writes never depends on hashing.
  std::map<uint32_t, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < entries.size(); ++i) by_shard[RouteKey(entries[i].key)].push_back(i);
  std::vector<ShardedId> out(entries.size());
  std::string written;
  for (const auto& [shard, indexes] : by_shard) {
    std::vector<absl::string_view> values;
    for (size_t i : indexes) values.push_back(entries[i].value);
    absl::StatusOr<IdRange> ids = wal_->AppendBatch(names_[shard], values);
    if (!ids.ok()) {
      return absl::Status(
          ids.status().code(),
          absl::StrCat("sharded batch: shard ", shard, " failed (already written:",
                       written.empty() ? " none" : written, "): ", ids.status().message()));
    }
    Acknowledged(shard, ids->end, wal_->options().sync_mode != SyncMode::kAsync);
    absl::StrAppend(&written, " shard ", shard, " ids ", ids->first, "..", ids->end);
    for (size_t k = 0; k < indexes.size(); ++k) out[indexes[k]] = {shard, ids->first + k};
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Iterator>> ShardedWal::NewShardIterator(uint32_t shard,
                                                                       uint64_t start_id,
                                                                       uint64_t end_id) {
  IRONWAL_RETURN_IF_ERROR(CheckShard(shard));
  absl::StatusOr<std::unique_ptr<Iterator>> it = wal_->NewIterator(names_[shard], start_id, end_id);
  if (absl::IsNotFound(it.status()) && !wal_->GetStreamInfo(names_[shard]).ok()) {
    return std::unique_ptr<Iterator>(new EmptyIterator);
  }
  return it;
}

absl::Status ShardedWal::Sync() {
  const std::vector<uint64_t> acked = watermarks_.Acknowledged();
  IRONWAL_RETURN_IF_ERROR(wal_->Sync());
  watermarks_.MarkAllDurable(acked);
  return absl::OkStatus();
}

absl::StatusOr<CheckpointData> ShardedWal::CreateCheckpoint(absl::string_view user_id) {
  if (user_id.empty() || user_id.size() > kMaxUserIdSize) {
    return absl::InvalidArgumentError(absl::StrCat("create checkpoint in ", wal_->options().root,
                                                   ": user_id must be 1..", kMaxUserIdSize,
                                                   " bytes, got ", user_id.size()));
  }
  if (watermarks_.Lagging()) IRONWAL_RETURN_IF_ERROR(Sync());
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  CheckpointEntry entry;
  entry.user_id = std::string(user_id);
  entry.data.offsets = watermarks_.Durable();
  entry.data.shard_count = shard_count_;
  entry.data.timestamp_ns = wal_->options().env->NowMicros() * 1000;
  IRONWAL_RETURN_IF_ERROR(log_->Append(entry));
  return entry.data;
}

absl::StatusOr<CheckpointData> ShardedWal::LoadCheckpoint(absl::string_view user_id) const {
  IRONWAL_ASSIGN_OR_RETURN(CheckpointData data, log_->Load(user_id));
  if (data.shard_count != shard_count_) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint in ", wal_->options().root,
                                                      " has ", data.shard_count,
                                                      " shards, the wal ", shard_count_));
  }
  return data;
}

absl::StatusOr<NamedCheckpoint> ShardedWal::LoadLatestCheckpoint() const {
  IRONWAL_ASSIGN_OR_RETURN(IndexedCheckpoint latest, log_->LoadLatest());
  IRONWAL_ASSIGN_OR_RETURN(CheckpointData data, LoadCheckpoint(latest.user_id));
  return NamedCheckpoint{std::move(latest.user_id), std::move(data)};
}

std::vector<CheckpointInfo> ShardedWal::ListCheckpoints() const {
  std::vector<CheckpointInfo> out;
  for (IndexedCheckpoint& c : log_->List()) {
    out.push_back({std::move(c.user_id), c.data.timestamp_ns});
  }
  return out;
}

absl::StatusOr<PruneStats> ShardedWal::PruneBeforeCheckpoint(absl::string_view user_id) {
  IRONWAL_ASSIGN_OR_RETURN(const CheckpointData data, LoadCheckpoint(user_id));
  PruneStats stats;
  for (uint32_t s = 0; s < shard_count_; ++s) {
    if (data.offsets[s] == 0) continue;
    absl::StatusOr<TruncateResult> result = wal_->Truncate(names_[s], data.offsets[s]);
    if (absl::IsNotFound(result.status())) continue;  // never written: nothing to prune
    IRONWAL_RETURN_IF_ERROR(result.status());
    if (result->segments_removed > 0) ++stats.shards_pruned;
    stats.segments_deleted += result->segments_removed;
  }
  return stats;
}

absl::StatusOr<CompactionStats> ShardedWal::CompactCheckpoints(size_t keep_n) {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  return log_->Compact(keep_n);
}

absl::Status ShardedWal::Close() { return wal_->Close(); }

}  // namespace sharded
}  // namespace ironwal
