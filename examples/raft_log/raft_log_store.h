// File: examples/raft_log/raft_log_store.h
//
// RaftLogStore: the log storage of one Raft group on an ironwal Wal, built only on the
// public log primitives (ironwal/wal/wal.h). It is the reference for plugging ironwal into
// a Raft engine: what each storage call of the engine maps to, and in which order the
// writes go so that a crash at any point recovers a state Raft accepts.
//
// Layout. One stream per group (key = the group name). Stream IDs ARE Raft indexes: the
// entry with Raft index i is the stream entry with ID i, so the stream's first ID is
// FirstIndex() and its next ID is LastIndex() + 1. A new group's stream starts at ID 1
// (CreateStream), as Raft's first index is 1. Each stream entry is the Raft term (u64
// little-endian) followed by the payload. The stream's metadata (one record, replaced
// atomically) holds the hard state, the last installed snapshot and the log's base (the
// index and term of the last entry dropped from the front, by Compact or ApplySnapshot,
// which Term() still answers), in a fixed-width record with a version byte (EncodeMeta in
// raft_log_store.cc).
//
// Crash order. A call that moves the front of the log writes the metadata first (its
// commit point) and then changes the stream: Compact writes the new base, then TrimFront;
// ApplySnapshot writes snapshot, base and hard state in one record, then ResetStream. Open
// finishes an interrupted one (the record says which), so after a crash the store is the
// state before the call or after it. (A snapshot at the current base index does not move
// the front, so Open could not see it was interrupted: it cuts the entries past the base
// first, as TruncateSuffix, and a crash may leave that cut.) Append with a conflicting suffix is
// two steps (the cut, then the new entries): a crash between them leaves the log cut and the new
// entries missing, which Raft repairs (the leader sends them again); no entry at or below the
// commit index is ever cut.
//
// Durability: every mutating method is durable when it returns OK, whatever the Wal's
// sync mode. TruncateSuffix, TrimFront, ResetStream, CreateStream and PutStreamMetadata
// are durable in every mode; AppendBatchIf is a batch, synced in kStrict and kBatchOnly
// but only buffered in kAsync, where Append calls Wal::Sync() afterwards (which syncs every
// stream of the Wal: there is no per-stream sync in the public API).
//
// Raft rules the store enforces (a call breaking one changes nothing): entries are
// contiguous and leave no gap; no entry at or below the commit index is cut (Append's
// conflict, TruncateSuffix); the hard state's term and commit never go back, its vote
// never changes within a term once cast, and its commit never passes LastIndex(); Compact
// only covers committed entries; a snapshot is never behind the commit index. Append the
// entries of a Raft Ready before its hard state, which may commit them.
//
// Errors: absl::Status naming the operation, the group and the index. When a write fails
// midway the store refuses every later write (FailedPrecondition carrying the first error;
// the Wal has poisoned the stream anyway): destroy it and Open again, which recovers.
//
// Thread-safety: all methods are thread-safe (one mutex per store; a store's calls are
// serialized). Use one RaftLogStore per group per Wal; stores of different groups on one
// Wal are independent. The Wal must outlive the store.
#ifndef EXAMPLES_RAFT_LOG_RAFT_LOG_STORE_H_
#define EXAMPLES_RAFT_LOG_RAFT_LOG_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/ironwal.h"

namespace raft_log {

struct RaftEntry {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string data;

  bool operator==(const RaftEntry& o) const {
    return index == o.index && term == o.term && data == o.data;
  }
};

struct RaftHardState {
  uint64_t term = 0;
  uint64_t vote = 0;  // 0: no vote in this term
  uint64_t commit = 0;

  bool operator==(const RaftHardState& o) const {
    return term == o.term && vote == o.vote && commit == o.commit;
  }
};

// The last entry a snapshot covers. {0, 0} when none was installed.
struct RaftSnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;

  bool operator==(const RaftSnapshotMeta& o) const { return index == o.index && term == o.term; }
};

class RaftLogStore {
 public:
  // Opens the log of `group` on `wal`, creating an empty one (FirstIndex() 1, LastIndex()
  // 0) if the stream does not exist, and finishes a Compact or ApplySnapshot a crash
  // interrupted. DataLoss when the stream and its metadata disagree in a way no crash of
  // this store can leave (a damaged record, a log that starts past its base, a commit
  // index past the last entry); FailedPrecondition for a stream starting at ID 0 (not
  // written by this store: a crash inside CreateStream(group, 1) leaves the stream absent
  // or at 1, never at 0).
  static absl::StatusOr<std::unique_ptr<RaftLogStore>> Open(ironwal::Wal* wal,
                                                            absl::string_view group);

  RaftLogStore(const RaftLogStore&) = delete;
  RaftLogStore& operator=(const RaftLogStore&) = delete;

  // Raft's AppendEntries on the log: `entries` must have consecutive indexes and start at
  // or below LastIndex() + 1 (InvalidArgument otherwise). Entries at or below the base are
  // covered by the snapshot and skipped; entries whose index and term are already in the
  // log are skipped; at the first entry whose term differs from the log's, the log is cut
  // there (FailedPrecondition if that is at or below the commit index) and the rest is
  // appended with AppendBatchIf at the expected next index.
  absl::Status Append(absl::Span<const RaftEntry> entries);

  // Entries [lo, hi), stopping before the one that would take their total stored size
  // (8 bytes of term + payload each) over max_bytes, but at least one when lo < hi.
  // NotFound for lo < FirstIndex() (compacted); OutOfRange for hi > LastIndex() + 1.
  absl::StatusOr<std::vector<RaftEntry>> Entries(uint64_t lo, uint64_t hi, size_t max_bytes);

  // The term of entry `index`: the base's term at FirstIndex() - 1 (the snapshot's last
  // index after ApplySnapshot; 0 for index 0 of a new log). NotFound below that
  // (compacted); OutOfRange past LastIndex().
  absl::StatusOr<uint64_t> Term(uint64_t index);

  uint64_t FirstIndex();
  uint64_t LastIndex();  // FirstIndex() - 1 when the log is empty

  // Removes every entry >= index (no-op for LastIndex() + 1). OutOfRange unless
  // FirstIndex() <= index <= LastIndex() + 1; FailedPrecondition for index <= commit.
  absl::Status TruncateSuffix(uint64_t index);

  // Drops the entries <= index (a snapshot of the state machine covers them); Term(index)
  // is still answered and FirstIndex() becomes index + 1. No-op at or below the base;
  // OutOfRange past LastIndex(); FailedPrecondition past the commit index.
  absl::Status Compact(uint64_t index);

  absl::Status SetHardState(const RaftHardState& state);
  RaftHardState HardState();

  // Installs a snapshot whose last entry is (index, term): drops the whole log, which
  // restarts at index + 1, and records the snapshot, the base and a commit index raised to
  // `index`, atomically. FailedPrecondition for index below the commit index or the base,
  // or a term that differs from the entry's at the commit index. A snapshot at the base
  // index itself first cuts the (uncommitted) entries past it: a crash may leave just that.
  absl::Status ApplySnapshot(uint64_t index, uint64_t term);
  RaftSnapshotMeta Snapshot();

  // What the metadata record holds (public for the tests' error messages; see the .cc).
  enum class FrontOp : uint8_t { kNone = 0, kCompact = 1, kSnapshot = 2 };
  struct Meta {
    RaftHardState hard_state;
    RaftSnapshotMeta snapshot;
    RaftSnapshotMeta base;  // the last entry dropped from the front (index FirstIndex() - 1)
    FrontOp last_front_op = FrontOp::kNone;  // what wrote `base`: Open finishes it
  };

 private:
  RaftLogStore(ironwal::Wal* wal, absl::string_view group);

  absl::Status Recover();
  absl::Status FinishFrontOp(uint64_t first_id, uint64_t next_id);
  absl::Status CheckWritable(absl::string_view op);
  // Records a failed write: every later write is refused. Returns `status`.
  absl::Status Broken(absl::Status status);
  absl::Status WriteMeta(const Meta& meta);
  absl::Status InstallSnapshotMeta(uint64_t index, uint64_t term);
  absl::Status AppendNew(absl::Span<const RaftEntry> entries);
  // The first index in `entries` (all in (base, last]) whose term differs from the log's,
  // or 0 when they all match.
  absl::StatusOr<uint64_t> FindConflict(absl::Span<const RaftEntry> entries);
  absl::StatusOr<std::vector<RaftEntry>> ReadLocked(uint64_t lo, uint64_t hi, size_t max_bytes);
  absl::StatusOr<uint64_t> TermLocked(uint64_t index);
  std::string Where(absl::string_view op) const;

  ironwal::Wal* const wal_;
  const std::string group_;
  std::mutex mu_;
  Meta meta_;                // guarded by mu_
  uint64_t last_index_ = 0;  // guarded by mu_
  absl::Status broken_;      // guarded by mu_
};

}  // namespace raft_log

#endif  // EXAMPLES_RAFT_LOG_RAFT_LOG_STORE_H_
