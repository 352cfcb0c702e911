// File: ironwal/sharded/sharded_wal.h
//
// ShardedWal: a Wal whose entries are spread over `shard_count` streams ("shard_00", ...)
// by key, with checkpoints across the shards; directory-compatible with ironwal 0.6's
// ShardedWal (ironwal/format/FORMAT.md, "Sharded files"). Built on the public Wal API.
//
//   IRONWAL_ASSIGN_OR_RETURN(auto wal, sharded::ShardedWal::Open(options, 8));
//   IRONWAL_ASSIGN_OR_RETURN(sharded::ShardedId at, wal->Append("user:42", payload));
//   IRONWAL_ASSIGN_OR_RETURN(sharded::CheckpointData cut, wal->CreateCheckpoint(raft_index));
//   ... after a restart:
//   IRONWAL_ASSIGN_OR_RETURN(sharded::NamedCheckpoint latest, wal->LoadLatestCheckpoint());
//   for (uint32_t s = 0; s < wal->shard_count(); ++s)
//     replay wal->NewShardIterator(s, latest.data.offsets[s])
//   IRONWAL_RETURN_IF_ERROR(wal->PruneBeforeCheckpoint(latest.user_id).status());
//
// Keys only route: they are not stored. A key's entries keep their order within its shard;
// there is no order and no atomicity across shards.
//
// Checkpoints: CreateCheckpoint(user_id) records, per shard, the next ID past everything
// that is durable, and never an ID a crash can take away, in every sync mode: in kStrict
// every acknowledged append is durable; in kBatchOnly batches are; otherwise (and for the
// IDs a reopen found, whose sync is unknown) CreateCheckpoint first syncs the shards, so
// the checkpoint covers everything acknowledged before it was called. A checkpoint's
// entry is synced before CreateCheckpoint returns. Successive checkpoints never go back.
//
// Status codes, besides the Wal's: InvalidArgument for a shard count outside 1..65535, a
// count other than the one the root's SHARDS file records (or, for a 0.6 root without
// one, than its shard directories and latest checkpoint show), a user_id outside
// 1..65535 bytes, a shard out of range; NotFound for an unknown checkpoint and ("no
// checkpoints") for LoadLatestCheckpoint without any; FailedPrecondition for a
// checkpoint with another shard count, and after a failed checkpoint-log write; DataLoss
// for a damaged checkpoints.log that is not a torn tail.
//
// Thread-safety: all methods are thread-safe. Writers on different shards never wait for
// each other; checkpoints never make writers wait (they read the watermarks, which are
// atomics); checkpoint operations are serialized among themselves.
#ifndef IRONWAL_SHARDED_SHARDED_WAL_H_
#define IRONWAL_SHARDED_SHARDED_WAL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/ironwal.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/sharded/checkpoint_log.h"
#include "ironwal/sharded/watermarks.h"

namespace ironwal {
namespace sharded {

struct ShardedId {
  uint32_t shard = 0;
  uint64_t id = 0;
  friend bool operator==(const ShardedId& a, const ShardedId& b) {
    return a.shard == b.shard && a.id == b.id;
  }
};

struct ShardedRange {
  uint32_t shard = 0;
  IdRange ids;
};

struct KeyValue {
  absl::string_view key;
  absl::string_view value;
};

struct NamedCheckpoint {
  std::string user_id;
  CheckpointData data;
};

struct CheckpointInfo {
  std::string user_id;
  uint64_t timestamp_ns = 0;
};

struct PruneStats {
  uint32_t shards_pruned = 0;  // shards that lost at least one segment
  uint64_t segments_deleted = 0;
};

class ShardedWal {
 public:
  // Opens (creating if needed) the ShardedWal at options.root with `shard_count` shards
  // and records the count in SHARDS (unless read_only). See the status codes above.
  static absl::StatusOr<std::unique_ptr<ShardedWal>> Open(const WalOptions& options,
                                                          uint32_t shard_count);

  ShardedWal(const ShardedWal&) = delete;
  ShardedWal& operator=(const ShardedWal&) = delete;
  ~ShardedWal();

  uint32_t shard_count() const { return shard_count_; }
  uint32_t RouteKey(absl::string_view key) const;
  const std::string& ShardStream(uint32_t shard) const { return names_[shard]; }

  absl::StatusOr<ShardedId> Append(absl::string_view key, absl::string_view value);
  // One frame on the key's shard (atomic). Empty `values`: nothing written.
  absl::StatusOr<ShardedRange> AppendBatchForKey(absl::string_view key,
                                                 absl::Span<const absl::string_view> values);
  // One frame per shard the keys touch, written in shard order; results in input order.
  // Not atomic across shards: on an error the message names the shards already written.
  absl::StatusOr<std::vector<ShardedId>> AppendBatch(absl::Span<const KeyValue> entries);

  // The entries of `shard` from `start_id` (empty for a shard never written).
  absl::StatusOr<std::unique_ptr<Iterator>> NewShardIterator(uint32_t shard, uint64_t start_id,
                                                             uint64_t end_id = Wal::kNoEnd);

  // Makes every acknowledged append durable (Wal::Sync) and advances the watermarks.
  absl::Status Sync();

  absl::StatusOr<CheckpointData> CreateCheckpoint(absl::string_view user_id);
  absl::StatusOr<CheckpointData> LoadCheckpoint(absl::string_view user_id) const;
  // The last checkpoint written (log order). HEAD names it too, for 0.6; a HEAD that a
  // crash left behind is repaired at open and never trusted over the log.
  absl::StatusOr<NamedCheckpoint> LoadLatestCheckpoint() const;
  // By timestamp (ties in log order), as 0.6 lists them.
  std::vector<CheckpointInfo> ListCheckpoints() const;
  size_t checkpoint_count() const { return log_->size(); }

  // Truncates every shard below the checkpoint's offset (whole segments only). Older
  // checkpoints may then point below a shard's first ID: iterating from them is NotFound.
  absl::StatusOr<PruneStats> PruneBeforeCheckpoint(absl::string_view user_id);
  // Keeps the keep_n most recent checkpoints; HEAD follows.
  absl::StatusOr<CompactionStats> CompactCheckpoints(size_t keep_n);

  // Closes the Wal (Wal::Close). Idempotent.
  absl::Status Close();

  Wal* wal() { return wal_.get(); }
  const CheckpointLogReport& checkpoint_log_report() const { return log_->report(); }

 private:
  ShardedWal(std::unique_ptr<Wal> wal, std::unique_ptr<CheckpointLog> log, uint32_t shard_count);

  absl::Status InitWatermarks();
  absl::Status CheckShard(uint32_t shard) const;
  void Acknowledged(uint32_t shard, uint64_t next, bool durable);

  const uint32_t shard_count_;
  const std::vector<std::string> names_;
  std::unique_ptr<Wal> wal_;
  std::unique_ptr<CheckpointLog> log_;
  Watermarks watermarks_;
  // Orders checkpoints: each reads the durable watermarks after the previous one wrote.
  std::mutex checkpoint_mu_;
};

}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_SHARDED_SHARDED_WAL_H_
