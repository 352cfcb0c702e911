// File: ironwal/sharded/checkpoint_log.h
//
// CheckpointLog: checkpoints.log and HEAD of a ShardedWal root, and the in-memory index of
// the checkpoints they hold (entry format in checkpoint_entry.h).
//
// Durability contract:
//   - Append writes the entry at the end of the log and fdatasyncs it before returning;
//     then rewrites HEAD atomically (HEAD.tmp, sync, rename, directory sync). A crash
//     leaves HEAD naming the new or the previous checkpoint; HEAD is only a hint.
//   - Open cuts a torn tail (bytes after the last whole entry that are not an entry) with
//     a truncate and a sync, so later entries are not appended behind garbage (0.6 left
//     it, losing every later checkpoint at the next restart). Damage followed by a valid
//     entry is not a torn tail: Open refuses with DataLoss instead of cutting data.
//   - Compact writes the kept entries to checkpoints.log.tmp, syncs it, renames it over
//     the log and syncs the directory, then rewrites HEAD: after a crash the log is the
//     old one or the new one, never a mix.
//   - After a failed write or sync of the log, every later Append and Compact fails with
//     FailedPrecondition until the ShardedWal is reopened (the file's tail is unknown).
//
// "Latest" is the last checkpoint in log order: not the largest timestamp (clocks step)
// and not HEAD, which a crash can leave naming the previous one. HEAD is kept for 0.6,
// which reads it: every append rewrites it, and Open repairs a HEAD left behind.
//
// Thread-safety: all methods are thread-safe; one mutex serializes appends, compaction
// and index reads (loads are in-memory copies).
#ifndef IRONWAL_SHARDED_CHECKPOINT_LOG_H_
#define IRONWAL_SHARDED_CHECKPOINT_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"
#include "ironwal/sharded/checkpoint_entry.h"

namespace ironwal {
namespace sharded {

inline constexpr absl::string_view kCheckpointLogName = "checkpoints.log";
inline constexpr absl::string_view kHeadName = "HEAD";

// One entry found in checkpoints.log.
struct ScannedEntry {
  uint64_t file_offset = 0;
  uint64_t size = 0;
  uint32_t crc32 = 0;
  CheckpointEntry entry;
};

// What a scan of checkpoints.log found.
struct LogScan {
  bool exists = false;
  uint64_t file_size = 0;
  std::vector<ScannedEntry> entries;  // every whole entry, in file order (duplicates too)
  uint64_t valid_end = 0;             // end of the last whole entry
  std::string stop_reason;            // why the scan stopped before file_size; "" at EOF
  // The offset of a decodable entry after valid_end, when there is one (damage in the
  // middle of the log rather than a torn tail).
  std::optional<uint64_t> entry_after_damage;
};

// Reads checkpoints.log at `path` (exists = false when missing). Allocates no more than
// the file's size, and at most kMaxPayloadSize per entry.
absl::StatusOr<LogScan> ScanCheckpointLog(Env* env, const std::string& path);

// An indexed checkpoint (the last entry with its user_id).
struct IndexedCheckpoint {
  std::string user_id;
  CheckpointData data;
  uint64_t file_offset = 0;
};

// What Open found and did.
struct CheckpointLogReport {
  uint64_t entries = 0;          // whole entries read (superseded ones too)
  uint64_t torn_tail_bytes = 0;  // bytes cut (or, read-only, that would be cut)
  std::string torn_tail_reason;  // why the bytes at valid_end are not an entry
};

struct CompactionStats {
  uint64_t checkpoints_before = 0;
  uint64_t checkpoints_after = 0;
  uint64_t bytes_reclaimed = 0;  // old log size - new log size, at least 0
};

class CheckpointLog {
 public:
  // Opens the log of `root`, rebuilding the index. With read_only, nothing is written or
  // cut. DataLoss for damage that is not a torn tail.
  static absl::StatusOr<std::unique_ptr<CheckpointLog>> Open(Env* env, const std::string& root,
                                                             bool read_only);

  // Appends a checkpoint and points HEAD at it (see the durability contract).
  absl::Status Append(const CheckpointEntry& entry);

  // NotFound for an unknown user_id.
  absl::StatusOr<CheckpointData> Load(absl::string_view user_id) const;
  // NotFound ("no checkpoints") when the log is empty.
  absl::StatusOr<IndexedCheckpoint> LoadLatest() const;
  // Every indexed checkpoint, by timestamp, ties by log position.
  std::vector<IndexedCheckpoint> List() const;
  size_t size() const;

  // Keeps the keep_n most recent checkpoints (log order); see the durability contract.
  absl::StatusOr<CompactionStats> Compact(size_t keep_n);

  const CheckpointLogReport& report() const { return report_; }

 private:
  CheckpointLog(Env* env, std::string root, bool read_only);

  absl::Status Recover();
  absl::Status CutTornTail(const LogScan& scan);
  void Index(const std::string& user_id, const CheckpointData& data, uint64_t file_offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<IndexedCheckpoint> LatestLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteHeadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckWritable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Path(absl::string_view name) const;

  Env* const env_;
  const std::string root_;
  const bool read_only_;
  CheckpointLogReport report_;

  mutable std::mutex mu_;
  std::unique_ptr<WritableFile> file_ ABSL_GUARDED_BY(mu_);
  absl::Status poisoned_ ABSL_GUARDED_BY(mu_);
  // Log order: file offset -> checkpoint; and user_id -> file offset.
  std::map<uint64_t, IndexedCheckpoint> by_offset_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> offset_by_id_ ABSL_GUARDED_BY(mu_);
  std::optional<std::string> head_ ABSL_GUARDED_BY(mu_);  // what HEAD names on disk
};

}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_SHARDED_CHECKPOINT_LOG_H_
