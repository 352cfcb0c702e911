// File: ironwal/wal/wal_impl.h
//
// Wal::Impl: the state and the code behind the public Wal (ironwal/wal/wal.h), whose
// methods forward here one to one. Internal: only ironwal/wal includes it, so the public
// headers name none of the stream, cache and lock classes below.
//
// Every method has the contract of the Wal method of the same name (wal.h). The Wal owns
// its Impl and destroys it with itself.
//
// Thread-safety: thread-safe, as the Wal. Every public call but Close passes the call gate
// (Call in wal.cc); Close shuts it and waits for the calls in flight. Locks: close_mu_
// serializes Close; streams_mu_ guards the stream maps and is held only to look up or
// insert a stream, never during I/O. With WalOptions::defer_stream_recovery, a stream
// directory Open listed stays pending until a call needs it: its PendingStream's mutex is
// the once-guard held across that one stream's recovery I/O (never streams_mu_), so
// threads racing to first use it wait for one recovery; report_mu_ guards the reports.
#ifndef IRONWAL_WAL_WAL_IMPL_H_
#define IRONWAL_WAL_WAL_IMPL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/base/mutex.h"
#include "ironwal/env/env.h"
#include "ironwal/stats/recorder.h"
#include "ironwal/stream/events.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/stream.h"
#include "ironwal/stream/writer_budget.h"
#include "ironwal/wal/call_gate.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/types.h"
#include "ironwal/wal/wal.h"
#include "ironwal/wal/wal_options.h"

namespace ironwal {

namespace internal {
class FrameCache;
}  // namespace internal

class Wal::Impl {
 public:
  explicit Impl(const WalOptions& options);
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // Close(), ignoring its status.
  ~Impl();

  absl::Status Recover();

  absl::StatusOr<uint64_t> Append(absl::string_view stream, absl::string_view entry);
  absl::StatusOr<IdRange> AppendBatch(absl::string_view stream,
                                      absl::Span<const absl::string_view> entries);
  absl::StatusOr<std::string> Get(absl::string_view stream, uint64_t id);
  std::vector<absl::StatusOr<std::string>> MultiGet(absl::string_view stream,
                                                    absl::Span<const uint64_t> ids);
  absl::StatusOr<std::unique_ptr<Iterator>> NewIterator(absl::string_view stream, uint64_t start_id,
                                                        uint64_t end_id);
  absl::Status WaitFor(absl::string_view stream, uint64_t id, uint64_t deadline_micros,
                       WaitCondition condition);
  absl::StatusOr<TruncateResult> Truncate(absl::string_view stream, uint64_t keep_from_id);
  absl::Status TruncateSuffix(absl::string_view stream, uint64_t from_id);
  absl::Status CreateStream(absl::string_view stream, uint64_t first_id);
  absl::Status ResetStream(absl::string_view stream, uint64_t next_id);
  absl::StatusOr<TruncateResult> TrimFront(absl::string_view stream, uint64_t first_id);
  absl::Status PutStreamMetadata(absl::string_view stream, absl::string_view value);
  absl::StatusOr<std::string> GetStreamMetadata(absl::string_view stream);
  absl::StatusOr<IdRange> AppendBatchIf(absl::string_view stream, uint64_t expected_next_id,
                                        absl::Span<const absl::string_view> entries);
  absl::StatusOr<std::vector<std::string>> ReadRange(absl::string_view stream, uint64_t lo,
                                                     uint64_t hi, size_t max_bytes);
  absl::Status DeleteStream(absl::string_view stream);
  absl::StatusOr<std::vector<std::string>> ListStreams();
  absl::StatusOr<StreamInfo> GetStreamInfo(absl::string_view stream, StreamInfoDetail detail);
  absl::Status Flush();
  absl::Status Sync();
  absl::Status Flush(absl::string_view stream);
  absl::Status Sync(absl::string_view stream);
  absl::StatusOr<StreamRecoveryReport> RecoverStream(absl::string_view stream);
  absl::Status Close();

  Statistics GetStatistics() const;
  MemoryUsage ApproximateMemoryUsage();
  void ResetStatistics();

  // Eager: what Open found. Deferred: recovers every pending stream first (I/O; a stream
  // whose recovery fails stays pending and is left out), then the reports so far, sorted
  // by directory; the reference stays valid (and unchanged) while the Wal lives.
  const std::vector<StreamRecoveryReport>& recovery_report();
  // Recovers every pending stream, in directory-name order; the first error (the stream
  // stays pending, the later ones are not tried). OK at once when none is pending.
  absl::Status RecoverAllPending();
  // Wal::RecoverPendingStreams: RecoverAllPending as a public call.
  absl::Status RecoverPendingStreams();

  // Delivers the queued events to the listeners and the logger (events.h: one thread at a
  // time; returns at once when another delivers). Called with no lock of the Wal held: by
  // every call as it ends, by Open and by Close.
  void DeliverEvents();
  void LogOpenFailure(const absl::Status& status);
  const WalOptions& options() const { return options_; }

 private:
  class Call;

  // A stream directory Open listed and has not recovered yet (defer_stream_recovery).
  struct PendingStream {
    explicit PendingStream(FileType t) : type(t) {}
    const FileType type;  // as the listing gave it (kDirectory or kSymlink)
    internal::Mutex mu;   // the once-guard: held across this stream's recovery
    bool done ABSL_GUARDED_BY(mu) = false;
  };

  // Recovers the directory `name` of the root as Open does (a deleted stream's removal
  // finished, a directory that is no stream skipped: null), counting, queueing and
  // reporting what it found. `type` is the listing's.
  absl::StatusOr<std::unique_ptr<internal::Stream>> RecoverDir(const std::string& name,
                                                               FileType type);
  // Recovers `dir` if it is pending, once however many threads ask; OK when it is not
  // (any more). On failure it stays pending and the next call retries.
  absl::Status RecoverPending(const std::string& dir);
  // The stream for `key`: NotFound if it does not exist (and !create).
  absl::StatusOr<internal::Stream*> FindStream(absl::string_view key, bool create);
  // The same, deleted streams included.
  absl::StatusOr<internal::Stream*> FindStreamObject(absl::string_view key, bool create);
  absl::Status StreamNotFound(absl::string_view key) const;
  // Every stream, in the order of their directory names: whatever these visit reaches the
  // Env in the same order every run.
  std::vector<internal::Stream*> AllStreams() const;
  absl::StatusOr<std::string> GetCached(internal::Stream* stream, uint64_t id);
  // Get once the stream is found: the entry (from the frame cache when there is one), counted.
  absl::StatusOr<std::string> GetFrom(internal::Stream* stream, uint64_t id);
  // Statistics (no-ops when off): the clock at the start of an append, or kUntimed when
  // this append's latency is not recorded. AppendClock, before the stream is found, times
  // every append of kStrict and kBatchOnly; AsyncAppendClock, once it is, one in
  // StatsRecorder::kAsyncTimedEvery of each stream's kAsync appends. CountAppend: the
  // call's error or latency (its stream counted what it appended).
  static constexpr uint64_t kUntimed = UINT64_MAX;
  enum class AppendTiming : uint8_t { kNone, kEvery, kSampled };
  uint64_t AppendClock();
  uint64_t AsyncAppendClock(internal::Stream* stream, uint64_t start_micros);
  void CountAppend(const absl::Status& status, uint64_t start_micros, bool batch);
  void CountAppendOutcome(const absl::Status& status, uint64_t start_micros, bool batch);
  void CountRead(uint64_t bytes, uint64_t gets) const;
  void CountRecovery(const StreamRecoveryReport& report) const;
  // Events (wal_events.cc): recovery of `stream` finished with `report` (and the corruption
  // it found); one event to the listeners and the logger.
  void QueueRecovery(internal::Stream* stream, const StreamRecoveryReport& report);
  void Deliver(const internal::Event& event);
  void LogEvent(const internal::Event& event);

  const uint64_t id_;  // distinct for every Wal of the process
  const WalOptions options_;
  // Null when options_.statistics is off.
  const std::unique_ptr<internal::StatsRecorder> stats_;
  const AppendTiming append_timing_;
  // options_.logger, or the standard error one.
  const std::shared_ptr<Logger> logger_;
  internal::EventQueue events_;
  internal::Stream::Shared shared_;
  internal::ReaderCache readers_;
  internal::WriterBudget writers_;
  std::unique_ptr<internal::FrameCache> frame_cache_;
  std::unique_ptr<FileLock> lock_;
  // Eager: the reports, in listing (directory-name) order, written only by Recover.
  std::vector<StreamRecoveryReport> recovery_report_;
  // Deferred: the reports by directory; each recovery_report() that finds more than its
  // predecessor returned appends a sorted copy (a deque: earlier copies never move).
  internal::Mutex report_mu_;
  std::map<std::string, StreamRecoveryReport> deferred_reports_ ABSL_GUARDED_BY(report_mu_);
  std::deque<std::vector<StreamRecoveryReport>> report_views_ ABSL_GUARDED_BY(report_mu_);

  // Every public call but Close passes it (see Call in wal.cc); Close shuts it.
  internal::CallGate gate_;
  // Serializes Close.
  internal::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;
  // Set when Close starts, before the gate shuts: ends every WaitFor (which holds a call).
  std::atomic<bool> closing_{false};

  mutable internal::SharedMutex streams_mu_;
  // By directory name, ordered (see AllStreams); never shrinks while the Wal is open.
  std::map<std::string, std::unique_ptr<internal::Stream>> streams_ ABSL_GUARDED_BY(streams_mu_);
  // By key exactly as callers pass it: a fast path past StreamDirName.
  absl::flat_hash_map<std::string, internal::Stream*> by_key_ ABSL_GUARDED_BY(streams_mu_);
  // Deferred: the directories not recovered yet, by name (ordered: RecoverPendingStreams
  // visits them in the same order every run). An entry leaves when its stream moves to
  // streams_ (or proves absent), in the same critical section.
  std::map<std::string, std::shared_ptr<PendingStream>> pending_ ABSL_GUARDED_BY(streams_mu_);
  // pending_.size(), readable without the lock: 0 skips every lookup in pending_.
  std::atomic<size_t> pending_count_{0};
};

}  // namespace ironwal

#endif  // IRONWAL_WAL_WAL_IMPL_H_
