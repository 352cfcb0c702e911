// File: ironwal/wal/event_listener.h
//
// EventListener: hooks the embedding program registers in WalOptions::listeners to learn
// what a Wal did to its files (segments created, sealed and deleted; streams created and
// truncated), what recovery found, and when a stream got into trouble (corruption, a
// poisoned stream, a full disk) or out of it. Logger: where a Wal's few messages go
// (WalOptions::logger; by default standard error).
//
//   class Alerts : public ironwal::EventListener {
//     void OnStreamPoisoned(const std::string& stream, const absl::Status& why) override {
//       pager.Page("wal stream " + stream + " poisoned: " + why.ToString());
//     }
//   };
//   options.listeners.push_back(std::make_shared<Alerts>());
//
// When and where the hooks run (the threading contract):
// - After the operation, never inside it: an event is queued when it happens (under the
//   stream's locks) and delivered after the call that caused it has released every lock
//   of ironwal's, before that call returns. Events of Wal::Open are delivered before
//   Open returns (the Wal is not yours yet, so those callbacks cannot call it).
// - On the thread of a Wal call. One delivery at a time per Wal: the callbacks of one Wal
//   never run concurrently with each other, and they see its events in the order they
//   happened. When a thread finds another one delivering, it leaves its events to that
//   thread (which delivers until nothing is queued) and returns without waiting: its
//   events may then be delivered just after its call returns.
// - A listener may call the Wal (GetStreamInfo, ListStreams, Append, Sync, ...): the call
//   runs normally, and events it causes are delivered after the current callback
//   returns, by the same delivery. It must not call Close or destroy the Wal (Close waits
//   for the call that is delivering: deadlock), nor wait for another thread that is
//   itself waiting for this delivery to end.
// - Exactly once per event, and only for what happened: work that failed and was rolled
//   back has no event (its failure may have one: disk full, poisoned). Listeners are
//   called in the order of WalOptions::listeners. A listener must not throw.
// - Close (and the Wal's destructor) delivers what closing caused (a poisoned stream, a
//   full disk) before it returns. An iterator is not a call: when its read flushes a
//   kAsync buffer and that fails, the event is delivered by the next call of the Wal.
//
// Thread-safety: a listener shared by several Wals is called by each of them
// independently (possibly concurrently); a Logger likewise.
#ifndef IRONWAL_WAL_EVENT_LISTENER_H_
#define IRONWAL_WAL_EVENT_LISTENER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "ironwal/wal/types.h"

namespace ironwal {

// A segment of a stream: the stream's key, the first ID of the segment (its name) and
// the path of its file.
struct SegmentEvent {
  std::string stream;
  uint64_t start_id = 0;
  std::string path;
};

// What removed entries from a stream.
enum class TruncationKind {
  kFront,   // Truncate (whole old segments) or TrimFront (exact first ID)
  kSuffix,  // TruncateSuffix: IDs from next_id on are gone
  kReset,   // ResetStream of an existing stream: every entry gone
  kDelete,  // DeleteStream: the stream itself is gone
};

// "front", "suffix", "reset" or "delete".
const char* TruncationKindName(TruncationKind kind);

struct TruncationEvent {
  std::string stream;
  TruncationKind kind = TruncationKind::kFront;
  // The stream afterwards: its first retained ID and next ID (both 0 after kDelete).
  uint64_t first_id = 0;
  uint64_t next_id = 0;
  // Whole segment files removed (each also had OnSegmentDeleted).
  uint64_t segments_removed = 0;
};

// Damage that cannot be a torn tail, found by recovery (Wal::Open, Wal::RecoverStream) in
// a stream's active segment under CorruptionPolicy::kTruncate (under kError the open
// fails instead, with the same facts in its DataLoss status).
struct CorruptionEvent {
  std::string stream;
  std::string path;     // the damaged segment file
  uint64_t offset = 0;  // where its verified bytes end (where it was cut)
  std::string what;     // what the scan found there
};

class EventListener {
 public:
  virtual ~EventListener() = default;

  // A segment joined the stream's list: at rotation (the write path started the next
  // segment), when a stream was created on disk (its first segment), and the new active
  // segment of a ResetStream.
  virtual void OnSegmentCreated(const SegmentEvent& /*segment*/) {}
  // The active segment became a sealed one (rotation): nothing is written to it any more.
  virtual void OnSegmentSealed(const SegmentEvent& /*segment*/) {}
  // A segment left the stream's list and its file was removed: Truncate, TrimFront,
  // TruncateSuffix (segments past the cut), ResetStream, DeleteStream. A segment rewritten
  // in place under the same first ID (a cut inside it) is neither deleted nor created.
  virtual void OnSegmentDeleted(const SegmentEvent& /*segment*/) {}

  // A stream was created on disk (its first write, CreateStream, PutStreamMetadata or
  // ResetStream of an absent stream, or any of these after a DeleteStream): first_id is
  // where its IDs start.
  virtual void OnStreamCreated(const std::string& /*stream*/, uint64_t /*first_id*/) {}
  // Entries were removed (calls that removed nothing have no event).
  virtual void OnStreamTruncated(const TruncationEvent& /*truncation*/) {}

  // Recovery of one stream finished: once per stream at Wal::Open (clean ones too; with
  // WalOptions::defer_stream_recovery, on the thread of the call that first needed the
  // stream, as that call's events), and after a Wal::RecoverStream that recovered a
  // poisoned stream. `report` is what
  // Wal::recovery_report or RecoverStream returns for it.
  virtual void OnRecoveryFinished(const std::string& /*stream*/,
                                  const StreamRecoveryReport& /*report*/) {}
  // Recovery found damage (see CorruptionEvent); delivered before its OnRecoveryFinished.
  virtual void OnCorruption(const CorruptionEvent& /*corruption*/) {}
  // A failed write, sync or file operation poisoned the stream: `status` is the failure,
  // which every later write returns until Wal::RecoverStream or a reopen. Once per
  // poisoning.
  virtual void OnStreamPoisoned(const std::string& /*stream*/, const absl::Status& /*status*/) {}
  // A write to the stream failed for lack of space (ResourceExhausted): once when the
  // stream goes from having space to not, however many writes fail until it recovers.
  virtual void OnDiskFull(const std::string& /*stream*/, const absl::Status& /*status*/) {}
  // After OnDiskFull: the first write that put bytes into the stream's segment file again
  // (an append, a flush or sync of buffered appends), or a successful RecoverStream.
  virtual void OnDiskSpaceRecovered(const std::string& /*stream*/) {}
};

enum class LogLevel { kInfo, kWarning, kError };

// "info", "warning" or "error".
const char* LogLevelName(LogLevel level);

// Where a Wal's messages go. What it says: a recovery that was not clean (warning),
// corruption found (error), a poisoned stream (error), a full disk (warning) and its end
// (info), an Open that failed (error). Nothing is logged on the write or read paths of a
// healthy Wal. Called as listeners are (same threads, same rules, never under a lock).
// A failed internal invariant (IRONWAL_CHECK) still writes to standard error and aborts.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(LogLevel level, absl::string_view message) = 0;
};

// The default logger: "ironwal <level>: <message>\n" on standard error, one write per
// message.
std::shared_ptr<Logger> NewStderrLogger();

}  // namespace ironwal

#endif  // IRONWAL_WAL_EVENT_LISTENER_H_
