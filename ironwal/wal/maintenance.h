// File: ironwal/wal/maintenance.h
//
// Verification and repair of a WAL root as library calls: `ironwal verify` and `ironwal
// repair` print what VerifyRoot and RepairRoot return, and other tools (a backup job, a
// health check) can call them the same way.
//
// VerifyRoot checks every stream directory (or one) without opening the Wal, without the
// root's LOCK and without writing: a read-only walk with the format and segment layers that
// reports every problem it finds instead of stopping at the first. For one stream directory
// (CheckStream) it checks:
//   - the listing: segment files, segments.idx, head.state, stream.key, durable.pos;
//     leftovers of interrupted atomic writes (*.tmp), truncations and rotations; files
//     ironwal does not know (noted, not findings) and quarantine files (noted); a
//     directory that holds nothing at all (a stream whose every file was removed looks
//     the same as an interrupted creation: reported, never repaired);
//   - the directory plan (ironwal/stream/directory_plan.h, the one recovery applies):
//     every finding it makes, e.g. segments.idx missing, malformed or stale, listed
//     segments that are missing, files of another stream;
//   - head.state, stream.key and durable.pos; stream.meta (its CRC and length: a damaged
//     one is a finding, GetStreamMetadata returns DataLoss) and first.id (damaged, or
//     beyond the next ID: findings; a good one is the first ID verify reports);
//   - the log operations' files: a directory holding log.intent (an interrupted suffix
//     truncation or reset that the next read-write open finishes; read-only opens refuse
//     the stream until then) or stream.deleted (a stream being deleted; absent for every
//     opener) is reported as such, a finding repair fixes by finishing the operation, and
//     its segments are not walked (they are in the middle of changing); a log.intent that
//     is malformed or cannot be finished (the staged or active segment has the wrong
//     size) is a finding repair cannot fix. A "<segment>.tmp" without log.intent is a
//     leftover like any *.tmp;
//   - every frame of every segment, sealed and active: header, bounds, CRC, the entry
//     block, and ID continuity within a segment and across segments. After a bad spot
//     the walk resumes at the next CRC-valid frame, so later damage is found too. For the
//     active segment, the verdict recovery would reach (ScanActiveSegment's row) is added;
//   - each sealed segment's frame index file ("<start>.frames"), loaded as the segment's
//     first read would and compared frame by frame with the walk: one a read would not
//     take, one that frames the segment otherwise, and one of no sealed segment are notes
//     (a read gives such a file up for a walk: nothing is lost).
// Every finding names the file and, where there is one, the byte offset, and says whether
// RepairRoot can fix it (FindingFix).
//
// RepairRoot takes the root's exclusion (root_lock.h) and, for each stream VerifyRoot
// finds problems in, runs the stream's recovery under CorruptionPolicy::kTruncate (the
// code Wal::Open runs, one stream at a time; it finishes a log.intent first, and a
// stream.deleted directory is removed as Wal::Open removes it): torn tails are cut, corrupt tails
// are moved to quarantine files (never thrown away), segments.idx is rebuilt, leftovers are
// removed; then it rewrites a bad head.state or durable.pos and verifies the stream again. A stream
// with a problem repair cannot fix is left untouched and reported. A dry run takes no lock
// and changes nothing.
//
// Durability: every change is made durable before RepairRoot returns. An I/O error (or a
// crash) part way through a stream's repair leaves that stream in a state from which
// recovery (the next Wal::Open, or RepairRoot again) reaches the same result as an
// uninterrupted repair, with every entry the stream held before still readable: each
// step of recovery is crash-ordered (stream_recovery.cc), and the files repair writes
// itself are written atomically after it.
//
// Thread-safety: free functions. VerifyRoot may run beside a writer in another process
// (a stream that changes under the walk is checked again, then reported as changing);
// RepairRoot excludes writers by the root's lock.
#ifndef IRONWAL_WAL_MAINTENANCE_H_
#define IRONWAL_WAL_MAINTENANCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/env/env.h"
#include "ironwal/wal/types.h"

namespace ironwal {

// What `ironwal repair` can do about a finding.
enum class FindingFix {
  kNone,        // nothing: IDs are lost, or a file does not belong where it is
  kRecovery,    // opening the stream under CorruptionPolicy::kTruncate fixes it
  kHeadState,   // rewriting head.state to name the active segment fixes it
  kDurablePos,  // rewriting durable.pos (conservatively, at the active segment's start)
};

struct Finding {
  std::string path;  // the file (or directory) concerned
  std::optional<uint64_t> offset;
  std::string message;
  FindingFix fix = FindingFix::kNone;

  // "path@offset: message" (or "path: message").
  std::string ToString() const;
};

struct StreamCheck {
  std::string dir;   // the directory name
  std::string path;  // the directory's path
  std::string key;   // stream.key's key, or the directory name when unknown
  std::vector<Finding> findings;
  std::vector<std::string> notes;  // worth knowing, not wrong
  std::vector<uint64_t> segments;  // the segment start IDs, as recovery would settle them
  // lost.ids: ID ranges [first, end) a repair cut out of the log with a corrupt tail. A
  // gap between segments that they explain is a note, not a finding; reads of those IDs
  // fail with DataLoss.
  std::vector<std::pair<uint64_t, uint64_t>> lost;
  // An operation in progress (its segments are not walked): log.intent's, or the
  // deletion stream.deleted marks.
  bool log_intent = false;
  bool deleting = false;
  uint64_t first_id = 0;  // first.id's when it holds a good one, else the first segment's
  uint64_t next_id = 0;   // after the active segment's verified frames
  uint64_t frames = 0;    // CRC-valid frames walked
  uint64_t entries = 0;
  uint64_t bytes = 0;  // segment file bytes

  bool clean() const { return findings.empty(); }
  // Whether every finding has a fix other than kNone.
  bool repairable() const;
};

// Whether the directory `path` is a stream directory: it holds a segment file,
// segments.idx, head.state, stream.key, durable.pos or truncate.intent (recovery's rule,
// StreamListing::is_stream; other directories are left alone), or stream.deleted (a
// stream being deleted, whatever is left of it).
absl::StatusOr<bool> IsStreamDir(Env* env, const std::string& path);

// The names of the stream directories under `root`, sorted. NotFound if root is missing.
absl::StatusOr<std::vector<std::string>> ListStreamDirs(Env* env, const std::string& root);
// The entries of `root` but its LOCK file, sorted, split into stream directories and the
// others (files, directories that are not streams); either output may be null.
absl::Status ListRoot(Env* env, const std::string& root, std::vector<std::string>* streams,
                      std::vector<std::string>* others);

// Checks the stream directory `root`/`dir` without changing anything and without the
// root's LOCK. Errors are I/O errors only (a file that cannot be read at all); what the
// bytes mean is in the result.
absl::StatusOr<StreamCheck> CheckStream(Env* env, const std::string& root, const std::string& dir);

// Opens the stream directory `root`/`dir` read-only, as Wal::Open(read_only) would (no
// LOCK, nothing changed), and returns what it holds; nullopt when `dir` is not a stream
// directory, is a stream being deleted (stream.deleted), or is a creation a crash
// interrupted (nothing but stream.key and leftover temp files): absent for every opener.
// DataLoss when opening would refuse it; FailedPrecondition for an interrupted log
// operation (log.intent) that only a read-write open finishes. With
// StreamInfoDetail::kPayloadSizes the payload sizes too (Wal::GetStreamInfo): DataLoss
// when the IDs do not continue.
absl::StatusOr<std::optional<StreamInfo>> InspectStream(
    Env* env, const std::string& root, const std::string& dir,
    StreamInfoDetail detail = StreamInfoDetail::kBasic);

// lost.ids of the stream directory `root`/`dir` (ID ranges [first, end) a repair cut out
// of the log; reads of them fail with DataLoss); empty when there is none. DataLoss when
// it is malformed or not a regular file, as for every opener (a damaged lost.ids refuses
// the stream: open, verify, repair and GetStreamInfo agree).
absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ReadLostIds(Env* env,
                                                                       const std::string& root,
                                                                       const std::string& dir);

struct MaintenanceOptions {
  Env* env = nullptr;      // Env::Default() when null
  std::string stream_dir;  // only this stream directory; empty: every one under the root
};

struct VerifyReport {
  std::vector<StreamCheck> streams;
  // Problems of the root rather than of one stream (e.g. a stream ironwal 0.6 keeps in
  // ROOT/LOCK/, which nothing here can open).
  std::vector<std::string> root_problems;
  // Streams whose check an I/O error stopped (the stream was not judged).
  std::vector<absl::Status> errors;

  size_t problems() const;
  size_t bad_streams() const;
  bool clean() const { return problems() == 0 && errors.empty(); }
};

// Checks the streams of `root`. Errors: `root` (or options.stream_dir) is not there or
// not a stream directory (NotFound), or cannot be listed.
absl::StatusOr<VerifyReport> VerifyRoot(const std::string& root, const MaintenanceOptions& options);

struct RepairOptions {
  MaintenanceOptions scope;
  bool dry_run = false;  // say what would be done; take no lock, change nothing
};

struct StreamRepair {
  StreamCheck before;
  // What was done (or, for a dry run, would be), one line each.
  std::vector<std::string> actions;
  // The stream checked again after the repair; absent for a dry run and when nothing was
  // attempted (clean, or not repairable).
  std::optional<StreamCheck> after;
  absl::Status status;  // an error that stopped the repair part way
  bool dry_run = false;

  // Clean now (for a dry run: would be).
  bool clean() const;
};

struct RepairReport {
  std::vector<StreamRepair> streams;
  size_t clean_streams() const;
  bool clean() const { return clean_streams() == streams.size(); }
};

// Repairs the streams of `root`. Errors: as VerifyRoot's, and the root's lock not
// available (FailedPrecondition: another process has the WAL open). When no stream is
// repaired cleanly and the root had no LOCK file, the LOCK file it created is removed.
absl::StatusOr<RepairReport> RepairRoot(const std::string& root, const RepairOptions& options);

}  // namespace ironwal

#endif  // IRONWAL_WAL_MAINTENANCE_H_
