// File: ironwal/raft/raft_storage.h
//
// RaftStorage: the persistent state of one Raft server (Canonical raft's raft_io storage
// half) kept in an ironwal Wal, with no event loop and no raft.h types, so that it runs on
// any Env (SimEnv in tests). IronwalIo (ironwal_io.h) drives it from a libuv loop.
//
// Layout under `dir`:
//   dir/wal/            an ironwal root with one stream, "raft-log":
//                         IDs are Raft indexes (the stream starts at index 1, or after the
//                         snapshot a follower installed); each entry is EncodeEntry's
//                         bytes (term, type, payload); the stream metadata holds the
//                         current term and vote (EncodeTermVote).
//   dir/snapshots/      snap-<index>-<term>: the newest snapshot and its metadata (index,
//                         term, configuration, whether it was installed from a leader),
//                         checksummed; written as <name>.tmp, synced, renamed, directory
//                         synced, then older snapshots removed.
//
// Durability: SetTerm, SetVote, Bootstrap, Truncate and PutSnapshot are durable when they
// return. Append hands entries to the Wal without syncing; Sync makes every earlier Append
// durable (group commit is the caller's: many Appends, one Sync).
//
// Fail-stop: the first failed storage call fails the storage for good; every later call
// returns that first error (FailedPrecondition naming it). A node never runs on after a
// write it cannot vouch for.
//
// Thread-safety: none. One thread at a time (IronwalIo's writer thread and its loop
// thread take turns under IronwalIo's mutex).
#ifndef IRONWAL_RAFT_RAFT_STORAGE_H_
#define IRONWAL_RAFT_RAFT_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include "ironwal/ironwal.h"
#include "ironwal/raft/codec.h"

namespace ironwal {
namespace raft {

struct RaftStorageOptions {
  Env* env = nullptr;  // default: Env::Default()
  std::string dir;     // created if missing
  uint64_t max_segment_size = 64ull << 20;
  // WalOptions::preallocate_bytes of the Wal: zeros written and synced ahead of the log's
  // frames by Sync, so that the appends of the next group commit overwrite allocated space
  // and their fdatasync records no size change (README, "Raft"). 0 turns it off.
  uint64_t preallocate_bytes = kDefaultPreallocateBytes;
  static constexpr uint64_t kDefaultPreallocateBytes = 1ull << 20;
};

// Everything Load found.
struct RaftState {
  uint64_t term = 0;
  uint64_t vote = 0;
  std::optional<SnapshotRecord> snapshot;
  uint64_t start_index = 1;  // the index of entries[0] (or of the next entry if none)
  std::vector<LogEntry> entries;
};

class RaftStorage {
 public:
  static constexpr const char* kStream = "raft-log";

  static absl::StatusOr<std::unique_ptr<RaftStorage>> Open(const RaftStorageOptions& options);
  ~RaftStorage();

  // The persistent state. Finishes an interrupted snapshot install first (a snapshot
  // marked installed whose log does not start right after it: the log is reset there).
  absl::StatusOr<RaftState> Load();

  // First state of a new cluster: term 1 and `configuration` as entry 1.
  // FailedPrecondition "already bootstrapped" unless term, vote, log and snapshot are empty.
  absl::Status Bootstrap(const LogEntry& configuration);

  // raft_recover's storage step, for a cluster that lost its quorum: appends
  // `configuration` (its payload and type; its term is ignored) as the log's next entry
  // with the term of the log's last entry (or of the snapshot if the log is empty), so the
  // log's terms never decrease (libraft's own storage writes term 1 there), and syncs it.
  // Returns the entry's index. Finishes an interrupted snapshot install first, as Load.
  // FailedPrecondition if the storage was never bootstrapped (nothing to recover).
  absl::StatusOr<uint64_t> Recover(const LogEntry& configuration);

  absl::Status SetTerm(uint64_t term);  // the vote is cleared
  absl::Status SetVote(uint64_t server_id);

  // Appends `entries` at `first_index`, which must be the log's next index
  // (FailedPrecondition otherwise). Durable after the next Sync.
  absl::Status Append(uint64_t first_index, absl::Span<const LogEntry> entries);
  absl::Status Sync();

  // Removes every entry at or after `index` (suffix truncation).
  absl::Status Truncate(uint64_t index);

  // Stores `snapshot`. trailing == 0 (installed from a leader): the log restarts right
  // after it. Otherwise the log is trimmed exactly to keep `trailing` entries up to
  // snapshot.index.
  absl::Status PutSnapshot(const SnapshotRecord& snapshot, uint64_t trailing);

  // The newest snapshot, if any.
  absl::StatusOr<std::optional<SnapshotRecord>> GetSnapshot();

  // First and next index of the log.
  absl::StatusOr<StreamInfo> LogInfo();

  // OK, or the error that failed the storage.
  absl::Status failure() const { return failure_; }

 private:
  RaftStorage(Env* env, std::string dir, std::unique_ptr<Wal> wal);

  // Records the first error (fail-stop) and returns it.
  absl::Status Fail(absl::Status status);
  absl::Status CheckUsable() const;
  absl::Status PutTermVote(uint64_t term, uint64_t vote);
  // LogInfo, after finishing a snapshot install cut before the log was reset.
  absl::StatusOr<StreamInfo> FinishInstall(const std::optional<SnapshotRecord>& snapshot);
  absl::Status WriteSnapshotFile(const SnapshotRecord& snapshot, bool installed);
  absl::StatusOr<std::vector<std::string>> SnapshotNames();

  Env* const env_;
  const std::string dir_;
  const std::string snapshot_dir_;
  std::unique_ptr<Wal> wal_;
  uint64_t term_ = 0;
  uint64_t vote_ = 0;
  absl::Status failure_;
};

}  // namespace raft
}  // namespace ironwal

#endif  // IRONWAL_RAFT_RAFT_STORAGE_H_
