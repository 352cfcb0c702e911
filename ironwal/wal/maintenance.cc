// VerifyRoot, RepairRoot and InspectStream (maintenance.h): the checks of verifier.cc and
// the stream recovery Wal::Open runs, one stream at a time.
#include "ironwal/wal/maintenance.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/stream.h"
#include "ironwal/stream/writer_budget.h"
#include "ironwal/wal/root_lock.h"

namespace ironwal {

namespace format = internal::format;
using internal::CheckLockNameClash;
using internal::DecodeLostIds;
using internal::DurablePos;
using internal::EncodeDurablePos;
using internal::EncodeHeadState;
using internal::FinishStreamDelete;
using internal::IsDeletedStream;
using internal::LockWalRoot;
using internal::ReaderCache;
using internal::ReadLostRanges;
using internal::SegmentFileName;
using internal::Stream;
using internal::WriterBudget;

namespace {

// What Stream::Recover needs to open one stream at a time (so that one stream that cannot
// be opened hides no other, and a repair of one stream touches no other), wired as
// Wal::Open wires it.
struct StreamWiring {
  StreamWiring(Env* env, const std::string& root, bool read_only, CorruptionPolicy policy)
      : readers(16), writers(16) {
    shared.options.env = env;
    shared.options.root = root;
    shared.options.max_entry_size = format::kMaxEntrySize;
    shared.options.on_corruption = policy;
    shared.options.read_only = read_only;
    shared.readers = &readers;
    shared.writers = &writers;
  }
  StreamWiring(const StreamWiring&) = delete;
  StreamWiring& operator=(const StreamWiring&) = delete;

  ReaderCache readers;
  WriterBudget writers;
  Stream::Shared shared;
};

Env* EnvOf(const MaintenanceOptions& options) {
  return options.env != nullptr ? options.env : Env::Default();
}

// Every stream directory under `root`, or only `dir` (NotFound, naming it, unless it is
// one).
absl::StatusOr<std::vector<std::string>> SelectStreamDirs(Env* env, const std::string& root,
                                                          const std::string& dir) {
  if (dir.empty()) return ListStreamDirs(env, root);
  const std::string path = JoinPath(root, dir);
  absl::StatusOr<bool> is_dir = env->IsDirectory(path);
  if (absl::IsNotFound(is_dir.status()) || (is_dir.ok() && !*is_dir)) {
    return absl::NotFoundError(absl::StrCat("no stream directory ", path));
  }
  IRONWAL_RETURN_IF_ERROR(is_dir.status());
  IRONWAL_ASSIGN_OR_RETURN(const bool is_stream, IsStreamDir(env, path));
  if (!is_stream) {
    return absl::NotFoundError(absl::StrCat(path, " is not a stream directory (no segment, ",
                                            "segments.idx, head.state, stream.key, ...)"));
  }
  return std::vector<std::string>{dir};
}

bool HasFix(const StreamCheck& check, FindingFix fix) {
  return std::any_of(check.findings.begin(), check.findings.end(),
                     [fix](const Finding& finding) { return finding.fix == fix; });
}

// Rewrites (or, for a dry run, says it would rewrite) head.state and durable.pos when
// `check` flags them: recovery leaves a bad head.state alone, and rewrites durable.pos
// only when the active segment holds data. Each is written atomically.
absl::Status FixSmallFiles(Env* env, const StreamCheck& check, uint64_t active, bool dry_run,
                           std::vector<std::string>* actions) {
  const std::string done = dry_run ? "would: " : "done: ";
  if (HasFix(check, FindingFix::kHeadState)) {
    if (!dry_run) {
      IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
          env, JoinPath(check.path, format::kHeadStateFileName), EncodeHeadState(active)));
    }
    actions->push_back(
        absl::StrCat(done, check.dir, ": head.state names ", SegmentFileName(active)));
  }
  if (HasFix(check, FindingFix::kDurablePos)) {
    DurablePos pos;
    pos.segment_start_id = active;
    pos.offset = 0;  // Behind the truth is always safe (format.h).
    if (!dry_run) {
      IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
          env, JoinPath(check.path, format::kDurablePosFileName), EncodeDurablePos(pos)));
    }
    actions->push_back(absl::StrCat(done, check.dir, ": durable.pos names ",
                                    SegmentFileName(active), " at byte 0"));
  }
  return absl::OkStatus();
}

// Recovery of one stream (kTruncate; read-only for a dry run), then the files recovery
// leaves alone.
absl::Status RepairStream(const Stream::Shared& shared, const StreamCheck& before, bool dry_run,
                          std::vector<std::string>* actions) {
  Env* env = shared.options.env;
  const std::string done = dry_run ? "would: " : "done: ";
  if (before.deleting) {
    // As Wal::Open does: the stream is gone; what is left of it is removed.
    if (!dry_run)
      IRONWAL_RETURN_IF_ERROR(FinishStreamDelete(env, shared.options.root, before.path));
    actions->push_back(absl::StrCat(done, before.dir,
                                    ": remove what is left of the deleted stream (",
                                    format::kDeletedMarkerFileName, ")"));
    return absl::OkStatus();
  }
  if (before.log_intent && dry_run) {
    // A read-only recovery refuses the directory: say what a real one does first.
    actions->push_back(absl::StrCat(done, before.dir, ": finish the interrupted operation (",
                                    format::kLogIntentFileName, "), then recover the stream"));
    return absl::OkStatus();
  }
  StreamRecoveryReport report;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream,
                           Stream::Recover(&shared, before.dir, &report));
  if (stream == nullptr) return absl::NotFoundError(before.path + " is not a stream directory");
  if (!report.clean()) {
    for (absl::string_view line : absl::StrSplit(report.ToString(), '\n')) {
      actions->push_back(absl::StrCat(dry_run ? "would: " : "done: ", "recovery: ", line));
    }
  }
  const uint64_t active = stream->Info().active_segment_start_id;
  stream.reset();
  if (dry_run) return FixSmallFiles(env, before, active, dry_run, actions);
  IRONWAL_ASSIGN_OR_RETURN(const StreamCheck recovered,
                           CheckStream(env, shared.options.root, before.dir));
  return FixSmallFiles(env, recovered, active, dry_run, actions);
}

StreamRepair RepairOne(const Stream::Shared& shared, const std::string& dir, bool dry_run) {
  Env* env = shared.options.env;
  StreamRepair repair;
  repair.dry_run = dry_run;
  repair.before.dir = dir;
  repair.before.path = JoinPath(shared.options.root, dir);
  absl::StatusOr<StreamCheck> before = CheckStream(env, shared.options.root, dir);
  if (!before.ok()) {
    repair.status = before.status();
    return repair;
  }
  repair.before = *std::move(before);
  if (repair.before.clean() || !repair.before.repairable()) return repair;
  repair.status = RepairStream(shared, repair.before, dry_run, &repair.actions);
  if (!repair.status.ok() || dry_run) return repair;
  if (repair.before.deleting) {
    // Gone, as it should be: nothing is left to check.
    repair.after = StreamCheck();
    repair.after->dir = dir;
    repair.after->path = repair.before.path;
    repair.after->key = repair.before.key;
    return repair;
  }
  absl::StatusOr<StreamCheck> after = CheckStream(env, shared.options.root, dir);
  if (!after.ok()) {
    repair.status = after.status();
    return repair;
  }
  repair.after = *std::move(after);
  return repair;
}

}  // namespace

absl::StatusOr<std::optional<StreamInfo>> InspectStream(Env* env, const std::string& root,
                                                        const std::string& dir,
                                                        StreamInfoDetail detail) {
  IRONWAL_ASSIGN_OR_RETURN(const bool deleted, IsDeletedStream(env, JoinPath(root, dir)));
  if (deleted) return std::optional<StreamInfo>();  // Absent, as Wal::Open sees it.
  StreamWiring wiring(env, root, /*read_only=*/true, CorruptionPolicy::kError);
  StreamRecoveryReport report;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream,
                           Stream::Recover(&wiring.shared, dir, &report));
  // Not a stream, or a creation a crash interrupted (at most stream.key): absent, as for
  // Wal::Open.
  if (stream == nullptr || stream->deleted()) return std::nullopt;
  StreamInfo info = stream->Info();
  if (detail == StreamInfoDetail::kPayloadSizes) {
    IRONWAL_RETURN_IF_ERROR(stream->MeasurePayloads(&info));
  }
  return info;
}

absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ReadLostIds(Env* env,
                                                                       const std::string& root,
                                                                       const std::string& dir) {
  return ReadLostRanges(env, JoinPath(root, dir));
}

size_t VerifyReport::problems() const {
  size_t n = root_problems.size();
  for (const StreamCheck& check : streams) n += check.findings.size();
  return n;
}

size_t VerifyReport::bad_streams() const {
  return root_problems.size() + static_cast<size_t>(std::count_if(
                                    streams.begin(), streams.end(),
                                    [](const StreamCheck& check) { return !check.clean(); }));
}

absl::StatusOr<VerifyReport> VerifyRoot(const std::string& root,
                                        const MaintenanceOptions& options) {
  Env* env = EnvOf(options);
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> dirs,
                           SelectStreamDirs(env, root, options.stream_dir));
  VerifyReport report;
  if (absl::Status clash = CheckLockNameClash(env, root);
      options.stream_dir.empty() && !clash.ok()) {
    report.root_problems.push_back(std::string(clash.message()));
  }
  for (const std::string& dir : dirs) {
    absl::StatusOr<StreamCheck> check = CheckStream(env, root, dir);
    if (!check.ok()) {
      report.errors.push_back(check.status());
      continue;
    }
    report.streams.push_back(*std::move(check));
  }
  return report;
}

bool StreamRepair::clean() const {
  if (!status.ok()) return false;
  if (before.clean()) return true;
  if (!before.repairable()) return false;
  return after.has_value() ? after->clean() : dry_run;
}

size_t RepairReport::clean_streams() const {
  return static_cast<size_t>(std::count_if(
      streams.begin(), streams.end(), [](const StreamRepair& repair) { return repair.clean(); }));
}

absl::StatusOr<RepairReport> RepairRoot(const std::string& root, const RepairOptions& options) {
  Env* env = EnvOf(options.scope);
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> dirs,
                           SelectStreamDirs(env, root, options.scope.stream_dir));
  if (options.dry_run) {
    // Without a dry run, LockWalRoot refuses the clash.
    IRONWAL_RETURN_IF_ERROR(CheckLockNameClash(env, root));
  }
  const std::string lock_file = JoinPath(root, format::kLockFileName);
  const bool had_lock_file = env->GetFileSize(lock_file).ok();
  std::unique_ptr<FileLock> lock;
  if (!options.dry_run) {
    IRONWAL_ASSIGN_OR_RETURN(lock, LockWalRoot(env, root));
  }
  StreamWiring wiring(env, root, options.dry_run, CorruptionPolicy::kTruncate);
  RepairReport report;
  for (const std::string& dir : dirs) {
    report.streams.push_back(RepairOne(wiring.shared, dir, options.dry_run));
  }
  if (lock != nullptr) {
    // A failed repair changes nothing: not even the LOCK file it created (removed while
    // the root's lock, which is what excludes, is still held).
    if (!report.clean() && !had_lock_file) env->RemoveFile(lock_file).IgnoreError();
    IRONWAL_RETURN_IF_ERROR(env->UnlockFile(std::move(lock)));
  }
  return report;
}

}  // namespace ironwal
