// File: ironwal/wal/wal.h
//
// Wal: a write-ahead log of named streams, on-disk compatible with ironwal 0.6 (Rust):
// a directory written by either one opens in the other (ironwal/format/FORMAT.md).
//
// Each stream is an independent log whose entries get the IDs 0, 1, 2, ... with no gaps.
// Entries are opaque bytes (empty ones too). Streams live in directories under the root
// and are created by their first write.
//
//   WalOptions options;
//   options.root = "/var/lib/app/wal";
//   IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(options));
//   IRONWAL_ASSIGN_OR_RETURN(uint64_t id, wal->Append("orders", payload));
//   IRONWAL_ASSIGN_OR_RETURN(IdRange ids, wal->AppendBatch("orders", {a, b, c}));
//   IRONWAL_ASSIGN_OR_RETURN(std::string entry, wal->Get("orders", id));
//   IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", 0));
//   for (; it->Valid(); it->Next()) ...
//   IRONWAL_ASSIGN_OR_RETURN(TruncateResult t, wal->Truncate("orders", 1000));
//
// Durability follows options.sync_mode (see SyncMode in ironwal/wal/types.h): in
// kStrict every call that returns an ID has made it durable. In every mode an entry is
// visible to readers of this Wal as soon as the call that wrote it returns.
//
// Status codes:
//   NotFound            unknown stream; an ID below the stream's first retained ID
//   OutOfRange          an ID at or past the stream's next ID
//   InvalidArgument     bad options; a stream key that is empty, ".", "..", too long,
//                       "LOCK", or maps to the directory of another stream's key; an
//                       entry over max_entry_size; an empty batch given to Append paths
//                       that need one
//   DataLoss            a frame that fails its checks; at open, damage that cannot be a
//                       torn tail (under CorruptionPolicy::kError)
//   FailedPrecondition  the Wal is closed or read-only; the stream is poisoned by an
//                       earlier write or sync failure (until RecoverStream or a
//                       reopen); the root is
//                       locked by another opener
//   ResourceExhausted   the disk is full (the stream keeps working once space is freed)
//   Internal            other I/O errors (EIO, ...)
// Messages name the operation, the path and the offset.
//
// Thread-safety: all methods are thread-safe. Appends to one stream are serialized and
// share syncs (group commit); different streams never wait for each other; readers never
// wait for writers (except for a kAsync frame still in the writer's buffer).
#ifndef IRONWAL_WAL_WAL_H_
#define IRONWAL_WAL_WAL_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/stats/statistics.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/txn_writer.h"
#include "ironwal/wal/types.h"
#include "ironwal/wal/wal_options.h"

namespace ironwal {

class Wal {
 public:
  // Bound for NewIterator's end_id meaning "no end".
  static constexpr uint64_t kNoEnd = UINT64_MAX;
  // WaitFor's deadline meaning "no deadline".
  static constexpr uint64_t kNoDeadline = UINT64_MAX;

  // Opens (creating if needed) the WAL at options.root and recovers every stream: each
  // stream's active segment is verified frame by frame and a torn tail is cut; see
  // recovery_report() for what was found. InvalidArgument for bad options;
  // FailedPrecondition when another opener (this process or another) holds the root
  // (root_lock.h: the root directory's own lock, then its LOCK file) or ROOT/LOCK is a
  // directory; DataLoss when a stream cannot be recovered under options.on_corruption.
  // With options.defer_stream_recovery, Open only lists the root: each stream is recovered
  // (exactly as here, once) by the first call that needs it, which returns the error a
  // recovery that fails would have made Open return (wal_options.h says which calls).
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const WalOptions& options);

  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;
  // Close(), ignoring its status. Iterators and TxnWriters must be gone.
  ~Wal();

  // Appends one entry to `stream` (created if new) and returns its ID.
  absl::StatusOr<uint64_t> Append(absl::string_view stream, absl::string_view entry);

  // Appends `entries` as one frame: consecutive IDs, all durable and visible together or
  // not at all. A batch is never split across segments (0.6 split batches, losing their
  // atomicity). An empty batch writes nothing and returns an empty range at the next ID.
  absl::StatusOr<IdRange> AppendBatch(absl::string_view stream,
                                      absl::Span<const absl::string_view> entries);
  absl::StatusOr<IdRange> AppendBatch(absl::string_view stream,
                                      const std::vector<std::string>& entries);
  // For a braced list, `AppendBatch("orders", {"a", "b"})`, which would otherwise be
  // ambiguous between the two overloads above.
  absl::StatusOr<IdRange> AppendBatch(absl::string_view stream,
                                      std::initializer_list<absl::string_view> entries) {
    return AppendBatch(stream, absl::MakeConstSpan(entries.begin(), entries.size()));
  }

  // A transaction on `stream`: entries gathered in memory, committed as one batch.
  TxnWriter NewTransaction(absl::string_view stream);

  // The entry `id` of `stream`, read from its frame (whose CRC is checked on every read;
  // a frame cache, when configured, serves repeats). NotFound for an unknown stream or an
  // ID below the first retained ID; OutOfRange for an ID at or past next_id; DataLoss
  // when the frame fails its checks (never wrong bytes); FailedPrecondition once closed.
  // An entry is readable as soon as the call that appended it returned, in every sync
  // mode (a kAsync frame still in the writer's buffer is flushed first).
  absl::StatusOr<std::string> Get(absl::string_view stream, uint64_t id);

  // Get for many IDs (any order, repeats allowed): one result per ID, in the same order.
  // Each frame is read once however many of its IDs are asked for.
  std::vector<absl::StatusOr<std::string>> MultiGet(absl::string_view stream,
                                                    absl::Span<const uint64_t> ids);

  // An iterator over `stream` from `start_id` up to `end_id` (exclusive). NotFound for
  // an unknown stream or a start below the first retained ID; OutOfRange for a start past
  // the next ID (a start equal to it gives an iterator that is at its end for now).
  absl::StatusOr<std::unique_ptr<Iterator>> NewIterator(absl::string_view stream, uint64_t start_id,
                                                        uint64_t end_id = kNoEnd);

  // Tailing: blocks until entry `id` of `stream` is visible or durable (WaitCondition, in
  // ironwal/wal/types.h, says exactly when), so that a consumer or a replication sender
  // need not poll. `deadline_micros` is a time on the Env's clock (options().env->
  // NowMicros(); kNoDeadline for none), so SimEnv's simulated clock drives it in tests.
  // Works across rotations and truncations. Returns:
  //   OK                  the entry is visible (durable); at once if it already is
  //   DeadlineExceeded    the Env's clock reached the deadline first
  //   Cancelled           the Wal is closed, or Close() started during the wait
  //   NotFound            the stream does not exist (it is not waited for: create it
  //                       first, e.g. CreateStream, or retry), was deleted during the wait,
  //                       or `id` is below its first retained ID (trimmed, truncated)
  //   Aborted             a suffix truncation, a reset or a recovery (RecoverStream) of the
  //                       stream happened during the wait: IDs the caller may already have
  //                       read can hold other entries now, so it must find where to resume
  //                       (one between two WaitFor calls is not reported)
  //   FailedPrecondition  the stream is poisoned (no write can make `id` visible or
  //                       durable until RecoverStream)
  // Waiting costs the writers nothing while nobody waits (an atomic count).
  //
  //   // A tailing consumer: every entry in order, exactly once, across rotations.
  //   uint64_t next = start;
  //   IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", next));
  //   for (;;) {
  //     const uint64_t deadline = wal->options().env->NowMicros() + 1000000;
  //     absl::Status ready = wal->WaitFor("orders", next, deadline, WaitCondition::kVisible);
  //     if (absl::IsDeadlineExceeded(ready)) continue;  // idle: check for shutdown, ...
  //     IRONWAL_RETURN_IF_ERROR(ready);                 // closed, deleted, truncated, ...
  //     for (it->Seek(next); it->Valid(); it->Next(), ++next) Consume(it->id(), it->value());
  //     IRONWAL_RETURN_IF_ERROR(it->status());
  //   }
  absl::Status WaitFor(absl::string_view stream, uint64_t id, uint64_t deadline_micros,
                       WaitCondition condition = WaitCondition::kVisible);

  // Removes the whole sealed segments of `stream` that hold only IDs below
  // `keep_from_id`; the segment holding it, and the active segment, stay. Durable when it
  // returns; a crash never brings truncated IDs back. NotFound for an unknown stream;
  // FailedPrecondition when the Wal is read-only or the stream is poisoned.
  absl::StatusOr<TruncateResult> Truncate(absl::string_view stream, uint64_t keep_from_id);

  // --- The log primitives: what a replicated log (Raft, Paxos), an event store or a ledger
  // needs from its storage. Each is durable when it returns, in every sync mode (except
  // AppendBatchIf, synced as AppendBatch is: not in kAsync), and a
  // crash at any point leaves the old state or the new one, never a mix (recovery finishes
  // an interrupted one; FORMAT.md, "Crash-ordered steps"). Like every write they return
  // FailedPrecondition when the Wal is read-only or the stream poisoned, and a failure in
  // their middle poisons the stream until RecoverStream or a reopen of the Wal.

  // Removes every ID >= from_id; the next append gets from_id. Works inside the active
  // segment and across segments (later segments removed, segments.idx and head.state
  // rewritten; a cut inside a segment stages its kept bytes in a new file that replaces
  // it, so it costs a copy of that segment's kept part). OutOfRange unless first_id <=
  // from_id <= next_id (from_id == next_id: no-op); NotFound for an unknown stream.
  // IDs a repair quarantined (lost.ids, never handed out again) at or past from_id are
  // forgotten with the suffix: the caller assigns them afresh. FailedPrecondition naming
  // the range when from_id lies strictly inside a lost range (cut at its start or end).
  absl::Status TruncateSuffix(absl::string_view stream, uint64_t from_id);

  // Creates `stream` empty with first ID = next ID = first_id (a follower that installed a
  // snapshot at index N starts its log at N + 1). AlreadyExists if the stream exists.
  absl::Status CreateStream(absl::string_view stream, uint64_t first_id);

  // Drops every entry of `stream` (creating it if absent); afterwards first ID = next ID =
  // next_id. Its metadata is kept; its lost IDs (lost.ids) are forgotten, whatever next_id.
  absl::Status ResetStream(absl::string_view stream, uint64_t next_id);

  // Exact front trim: every ID < first_id is NotFound at once, also inside a segment that
  // is kept; the whole segments below it are removed as Truncate removes them. The logical
  // first ID is recorded (first.id) and survives restarts; GetStreamInfo, iterators and the
  // CLI report it. OutOfRange when first_id > next_id; a first_id at or below the current
  // first ID changes nothing. NotFound for an unknown stream.
  absl::StatusOr<TruncateResult> TrimFront(absl::string_view stream, uint64_t first_id);

  // The stream's metadata: one value of at most 64 KiB (InvalidArgument past it), replaced
  // atomically (stream.meta). Put creates the stream if absent. Get: NotFound for an
  // unknown stream; "" when it never had metadata; DataLoss when the file is damaged.
  absl::Status PutStreamMetadata(absl::string_view stream, absl::string_view value);
  absl::StatusOr<std::string> GetStreamMetadata(absl::string_view stream);

  // Appends `entries` as one batch iff the stream's next ID is expected_next_id when the
  // batch is written (decided under the stream's write lock, so concurrent appenders cannot
  // slip in between); else FailedPrecondition whose message contains "next id is <actual>".
  // A stream that does not exist has next ID 0 (and is created by a successful call). An
  // empty batch writes nothing: an empty range at the next ID, or FailedPrecondition.
  absl::StatusOr<IdRange> AppendBatchIf(absl::string_view stream, uint64_t expected_next_id,
                                        absl::Span<const absl::string_view> entries);

  // Entries [lo, hi) in order (hi clamped to the next ID), stopping before the entry that
  // would take their total size over max_bytes, but always at least one entry when
  // lo < hi. Reads frame by frame (not one call per entry). NotFound for an unknown stream
  // or lo below the first ID; OutOfRange for lo at or past the next ID when lo < hi. An
  // empty range (hi <= lo) returns no entries.
  absl::StatusOr<std::vector<std::string>> ReadRange(absl::string_view stream, uint64_t lo,
                                                     uint64_t hi, size_t max_bytes);

  // Deletes the stream, its entries and metadata: after a crash it is either fully present
  // or absent (stream.deleted is written first; an open that finds it finishes the
  // removal). Its key may be used again afterwards: a new stream from ID 0. NotFound if
  // it does not exist.
  absl::Status DeleteStream(absl::string_view stream);

  // The streams' original keys (their directory names for streams written by ironwal 0.6
  // and not yet written by this library), sorted.
  absl::StatusOr<std::vector<std::string>> ListStreams();

  // First retained ID, next ID, segments, bytes of `stream`. With
  // StreamInfoDetail::kPayloadSizes also the payload sizes (logical_bytes,
  // stored_payload_bytes), which reads every frame header of the retained segments and
  // checks that the IDs continue (DataLoss naming the file and offset where they do not);
  // a truncation running at the same time may make that walk fail with NotFound.
  absl::StatusOr<StreamInfo> GetStreamInfo(absl::string_view stream);
  absl::StatusOr<StreamInfo> GetStreamInfo(absl::string_view stream, StreamInfoDetail detail);

  // Hands every stream's buffered appends (kAsync) to the operating system. Visits every
  // stream (in directory-name order) even when one fails, and returns the first error.
  absl::Status Flush();

  // Makes everything appended so far, in every stream, durable. Like Flush, it goes on
  // past a failing stream (which is then poisoned) and returns the first error.
  absl::Status Sync();

  // Flush and Sync of one stream. NotFound for an unknown stream; Sync of a poisoned
  // stream is FailedPrecondition (Flush of one is OK: it has nothing buffered).
  absl::Status Flush(absl::string_view stream);
  absl::Status Sync(absl::string_view stream);

  // After a failed write or sync poisoned `stream` (FailedPrecondition "poisoned"), and once
  // the cause is fixed: recovers that stream's directory as Open does for it (the torn tail
  // cut, the verified bytes written again and synced) and makes it writable again; other
  // streams are not touched. Afterwards it holds what a reopen of the Wal would show: every
  // acknowledged entry (per the sync mode), and appends continue from the recovered next
  // ID. Returns what recovery found. A stream that is not poisoned is left alone (a clean
  // report). Exclusion: it holds the stream's write lock, so writes, syncs and log
  // operations on the stream wait for it (and it for them); reads are not held, and a read
  // of the stream racing with it may fail (it never returns wrong bytes). NotFound for an
  // unknown stream; FailedPrecondition when read-only; the recovery's error (DataLoss, an
  // I/O error) when it fails, and the stream stays poisoned.
  absl::StatusOr<StreamRecoveryReport> RecoverStream(absl::string_view stream);

  // The name of the directory under the root that holds the stream `key` (ironwal 0.6's
  // mapping: every character outside [A-Za-z0-9._-] becomes '_'), for tools and for
  // path patterns in fault rules (SimEnv's FaultRule::path_pattern). InvalidArgument for
  // a key no stream can have.
  static absl::StatusOr<std::string> StreamDirectoryName(absl::string_view key);

  // Flushes and syncs every stream, closes the files and releases the LOCK. Later calls
  // return FailedPrecondition (WaitFor: Cancelled). Idempotent. It first wakes every
  // WaitFor in progress, which returns Cancelled. Finishes in bounded time however many threads
  // keep calling: from its start every new call is refused (FailedPrecondition "... is
  // closed"), and it waits only for the calls already in flight. Iterators are not calls:
  // an existing iterator keeps reading what was written (the Wal must still outlive it).
  absl::Status Close();

  // What the Wal has done since it opened or since the last ResetStatistics (all zero, and
  // enabled false, when WalOptions::statistics is off). Works after Close too.
  Statistics GetStatistics() const;
  void ResetStatistics();

  // The memory the Wal holds for its data now (types.h, MemoryUsage), summed over the
  // streams it has loaded (with defer_stream_recovery, not those still pending) and its
  // caches; per-stream objects and the library's own structures are not counted. Takes
  // each stream's write lock in turn, so it waits for an append in progress; for
  // monitoring, not for every call. All zero after Close.
  MemoryUsage ApproximateMemoryUsage();

  // What recovery found and did, for every stream that was not clean, in directory-name
  // order. With WalOptions::defer_stream_recovery it first recovers every stream still
  // pending (I/O: the whole cost the deferred Open skipped), so that it tells what an eager
  // Open would have; a stream whose recovery fails stays pending and is missing from it
  // (RecoverPendingStreams returns that error). The reference stays valid and unchanged
  // while the Wal lives (a later call may return another one, with more reports).
  const std::vector<StreamRecoveryReport>& recovery_report() const;

  // With WalOptions::defer_stream_recovery: recovers every stream still pending, in
  // directory-name order, and returns the first error (that stream stays pending; later
  // ones are not tried). OK at once when none is pending (always without deferral).
  absl::Status RecoverPendingStreams();

  const WalOptions& options() const;

 private:
  // The state behind the API (streams, caches, lock, call gate): ironwal/wal/wal_impl.h.
  class Impl;

  explicit Wal(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace ironwal

#endif  // IRONWAL_WAL_WAL_H_
