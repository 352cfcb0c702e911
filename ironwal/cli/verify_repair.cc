// `ironwal verify` and `ironwal repair`.
//
// verify runs the checks of verifier.h on every stream (or one) and prints each finding
// as "path@offset: what" and a summary; it never opens the Wal, never takes the LOCK and
// never writes.
//
// repair takes the root's LOCK and, for each stream that verify finds problems in, runs
// the stream's recovery under CorruptionPolicy::kTruncate (Stream::Recover: the same code
// Wal::Open runs, one stream at a time so that `repair ROOT STREAM` touches no other
// stream): torn tails are cut, corrupt tails are moved to quarantine files (never thrown
// away), segments.idx is rebuilt, leftovers are removed. It then rewrites a bad head.state
// or durable.pos, and verifies the stream again. A stream with a problem repair cannot fix
// (damage in a sealed segment, lost IDs, a file that belongs to another stream) is left
// untouched and reported. --dry-run takes no LOCK and changes nothing: recovery runs
// read-only and reports what it would do.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/cli/commands.h"
#include "ironwal/cli/sharded_inspect.h"
#include "ironwal/cli/stream_wiring.h"
#include "ironwal/cli/verifier.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/stream/stream.h"
#include "ironwal/wal/root_lock.h"

namespace ironwal {
namespace cli {
namespace {

// "1 stream", "2 streams".
std::string Count(size_t n, absl::string_view noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

const CommandSpec kVerifySpec = {
    "verify",
    "verify ROOT [STREAM]",
    "Checks every stream under ROOT (or only STREAM) without opening the WAL: every frame\n"
    "of every segment, sealed and active (header, bounds, CRC, entry block), ID continuity\n"
    "within and across segments, segments.idx, head.state, stream.key, durable.pos, and\n"
    "leftover files. Prints one line per problem, 'path@offset: what is wrong', then a\n"
    "summary. Never changes anything and does not take the LOCK, so it can run while\n"
    "another process has the WAL open (it then may see that process's latest frames as\n"
    "a torn tail).\n"
    "Exit code: 0 when no problem was found, 1 when one was (or an I/O error stopped it).\n",
    {},
    {},
    1,
    2};

const CommandSpec kRepairSpec = {
    "repair",
    "repair ROOT [STREAM] [--dry-run]",
    "Repairs every stream under ROOT (or only STREAM) that verify finds problems in, as\n"
    "opening with CorruptionPolicy::kTruncate would: cuts torn tails; moves a corrupt tail\n"
    "into <segment>.corrupt-<offset> (its bytes are kept, never discarded) and cuts the\n"
    "segment there; rebuilds segments.idx; removes leftovers of interrupted writes; rewrites\n"
    "a bad head.state or durable.pos. Then verifies the stream again.\n"
    "Damage repair cannot fix (a sealed segment, missing segments, a file from another\n"
    "stream) is reported and that stream is left untouched.\n"
    "  --dry-run  print what would be done; take no LOCK, change nothing\n"
    "Exit code: 0 when every stream is (now) clean, 1 otherwise.\n",
    {},
    {"--dry-run"},
    1,
    2};

// The root (absolute) and the stream directories a command works on; on failure the
// exit code to return (after printing why).
struct Target {
  std::string root;
  std::vector<std::string> dirs;
  int exit_code = kExitOk;
};

Target SelectTarget(const CommandSpec& spec, const Args& args, std::ostream& err) {
  Target target;
  absl::StatusOr<std::string> root = AbsolutePath(args.positional()[0]);
  if (!root.ok()) {
    target.exit_code = Failure(spec.name, root.status(), err);
    return target;
  }
  std::string dir;
  if (args.positional().size() > 1) {
    absl::StatusOr<std::string> name = StreamDirOfKey(*root, args.positional()[1]);
    if (!name.ok()) {
      target.exit_code = UsageError(spec, name.status().message(), err);
      return target;
    }
    dir = *name;
  }
  absl::StatusOr<std::vector<std::string>> dirs = SelectStreamDirs(*root, dir);
  if (!dirs.ok()) {
    target.exit_code = Failure(spec.name, dirs.status(), err);
    return target;
  }
  target.root = *root;
  target.dirs = *std::move(dirs);
  return target;
}

// Prints the notes, the findings (for repair, those it cannot fix marked so) and, for a
// clean stream, a summary line.
void PrintCheck(const StreamCheck& check, bool for_repair, std::ostream& out) {
  for (const std::string& note : check.notes) out << "note: " << note << "\n";
  for (const Finding& finding : check.findings) {
    if (for_repair && finding.fix == Fix::kNone) out << "cannot fix: ";
    out << finding.ToString() << "\n";
  }
  if (check.clean()) {
    out << check.path << ": ok: IDs [" << check.first_id << ", " << check.next_id << "), "
        << Count(check.segments.size(), "segment") << ", " << Count(check.frames, "frame") << ", "
        << Count(check.bytes, "byte") << "\n";
  }
}

bool HasFix(const StreamCheck& check, Fix fix) {
  for (const Finding& finding : check.findings) {
    if (finding.fix == fix) return true;
  }
  return false;
}

// Rewrites (or, for a dry run, says it would rewrite) head.state and durable.pos when
// `check` flags them: recovery leaves a bad head.state alone, and rewrites durable.pos
// only when the active segment holds data.
absl::Status FixSmallFiles(Env* env, const StreamCheck& check, uint64_t active, bool dry_run,
                           std::ostream& out) {
  const std::string done = dry_run ? "would: " : "done: ";
  if (HasFix(check, Fix::kHeadState)) {
    if (!dry_run) {
      IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
          env, JoinPath(check.path, format::kHeadStateFileName), EncodeHeadState(active)));
    }
    out << done << check.dir << ": head.state names " << SegmentFileName(active) << "\n";
  }
  if (HasFix(check, Fix::kDurablePos)) {
    DurablePos pos;
    pos.segment_start_id = active;
    pos.offset = 0;  // Behind the truth is always safe (format.h).
    if (!dry_run) {
      IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
          env, JoinPath(check.path, format::kDurablePosFileName), EncodeDurablePos(pos)));
    }
    out << done << check.dir << ": durable.pos names " << SegmentFileName(active) << " at byte 0\n";
  }
  return absl::OkStatus();
}

// Recovery of one stream (kTruncate; read-only for a dry run), then the files recovery
// leaves alone. Prints what was (or would be) done.
absl::Status RepairStream(const Stream::Shared& shared, const StreamCheck& before, bool dry_run,
                          std::ostream& out) {
  Env* env = shared.options.env;
  StreamRecoveryReport report;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream,
                           Stream::Recover(&shared, before.dir, &report));
  if (stream == nullptr) return absl::NotFoundError(before.path + " is not a stream directory");
  if (!report.clean()) {
    for (absl::string_view line : absl::StrSplit(report.ToString(), '\n')) {
      out << (dry_run ? "would: " : "done: ") << "recovery: " << line << "\n";
    }
  }
  const uint64_t active = stream->Info().active_segment_start_id;
  stream.reset();
  if (dry_run) return FixSmallFiles(env, before, active, dry_run, out);
  IRONWAL_ASSIGN_OR_RETURN(const StreamCheck recovered,
                           CheckStream(env, shared.options.root, before.dir));
  return FixSmallFiles(env, recovered, active, dry_run, out);
}

// Repairs one stream; returns whether it is clean now (or, for a dry run, would be).
bool RepairOne(const Stream::Shared& shared, const std::string& dir, bool dry_run,
               std::ostream& out, std::ostream& err) {
  Env* env = shared.options.env;
  absl::StatusOr<StreamCheck> before = CheckStream(env, shared.options.root, dir);
  if (!before.ok()) {
    Failure("repair", before.status(), err);
    return false;
  }
  PrintCheck(*before, /*for_repair=*/true, out);
  if (before->clean()) return true;
  if (!before->repairable()) {
    out << "cannot repair " << before->path << ": nothing was changed (the problems marked "
        << "'cannot fix' need a person: restore the files from a replica or a backup)\n";
    return false;
  }
  absl::Status repaired = RepairStream(shared, *before, dry_run, out);
  if (!repaired.ok()) {
    Failure("repair", repaired, err);
    return false;
  }
  if (dry_run) return true;
  absl::StatusOr<StreamCheck> after = CheckStream(env, shared.options.root, dir);
  if (!after.ok()) {
    Failure("repair", after.status(), err);
    return false;
  }
  for (const Finding& finding : after->findings) out << "still: " << finding.ToString() << "\n";
  if (after->clean()) {
    out << after->path << ": repaired: IDs [" << after->first_id << ", " << after->next_id
        << "), verify finds no problems\n";
  }
  return after->clean();
}

}  // namespace

int RunVerify(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kVerifySpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Target target = SelectTarget(kVerifySpec, *parsed.args, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  size_t problems = 0;
  size_t bad_streams = 0;
  size_t streams = target.dirs.size();
  bool io_error = false;
  if (absl::Status clash = CheckLockNameClash(Env::Default(), target.root);
      parsed.args->positional().size() == 1 && !clash.ok()) {
    out << clash.message() << "\n";  // A stream (0.6's "LOCK") verify cannot check.
    ++problems, ++bad_streams, ++streams;
  }
  for (const std::string& dir : target.dirs) {
    absl::StatusOr<StreamCheck> check = CheckStream(Env::Default(), target.root, dir);
    if (!check.ok()) {
      Failure("verify", check.status(), err);
      io_error = true;
      continue;
    }
    PrintCheck(*check, /*for_repair=*/false, out);
    problems += check->findings.size();
    if (!check->clean()) ++bad_streams;
  }
  if (parsed.args->positional().size() == 1 && IsShardedRoot(target.root)) {
    absl::Status s = VerifyShardedFiles(target.root, out);
    if (!s.ok()) {
      Failure("verify", s, err);
      ++problems;
    }
  }
  if (problems == 0 && !io_error) {
    out << "verify: " << Count(streams, "stream") << ", no problems\n";
    return kExitOk;
  }
  out << "verify: " << Count(problems, "problem") << " in " << bad_streams << " of "
      << Count(streams, "stream") << (io_error ? " (and I/O errors, see above)" : "") << "\n";
  return kExitFinding;
}

int RunRepair(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kRepairSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const bool dry_run = parsed.args->Has("--dry-run");
  const Target target = SelectTarget(kRepairSpec, *parsed.args, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  Env* env = Env::Default();
  std::unique_ptr<FileLock> lock;
  if (absl::Status clash = CheckLockNameClash(env, target.root); dry_run && !clash.ok()) {
    return Failure("repair", clash, err);  // Without --dry-run, LockWalRoot says it.
  }
  const std::string lock_file = JoinPath(target.root, format::kLockFileName);
  const bool had_lock_file = env->GetFileSize(lock_file).ok();
  if (!dry_run) {
    absl::StatusOr<std::unique_ptr<FileLock>> locked = LockWalRoot(env, target.root);
    if (!locked.ok()) return Failure("repair", locked.status(), err);
    lock = *std::move(locked);
  }
  StreamWiring wiring(target.root, dry_run, CorruptionPolicy::kTruncate);
  size_t failed = 0;
  for (const std::string& dir : target.dirs) {
    if (!RepairOne(wiring.shared, dir, dry_run, out, err)) ++failed;
  }
  if (lock != nullptr) {
    // A failed repair changes nothing: not even the LOCK file it created (removed while
    // the root's lock, which is what excludes, is still held).
    if (failed > 0 && !had_lock_file) env->RemoveFile(lock_file).IgnoreError();
    if (absl::Status unlocked = env->UnlockFile(std::move(lock)); !unlocked.ok()) {
      return Failure("repair", unlocked, err);
    }
  }
  out << "repair" << (dry_run ? " --dry-run" : "") << ": " << target.dirs.size() - failed << " of "
      << Count(target.dirs.size(), "stream") << (dry_run ? " would be" : "") << " clean"
      << (dry_run ? "; nothing was changed" : "") << "\n";
  return failed == 0 ? kExitOk : kExitFinding;
}

}  // namespace cli
}  // namespace ironwal
