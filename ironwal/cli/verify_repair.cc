// `ironwal verify` and `ironwal repair`: printers over VerifyRoot and RepairRoot
// (ironwal/wal/maintenance.h), which do the work. verify prints each finding as
// "path@offset: what" and a summary; repair prints the findings (those it cannot fix
// marked so), what it did, and what the stream looks like afterwards. The sharded files of
// a ShardedWal root are checked here (sharded_inspect.h).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/cli/commands.h"
#include "ironwal/cli/sharded_inspect.h"
#include "ironwal/wal/maintenance.h"

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
    "within and across segments, segments.idx, head.state, stream.key, durable.pos,\n"
    "stream.meta, first.id, an interrupted suffix truncation or reset (log.intent) or\n"
    "delete (stream.deleted), and leftover files. Prints one line per problem, 'path@offset: what "
    "is wrong', then a\n"
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
    "a bad head.state or durable.pos; finishes an interrupted suffix truncation, reset\n"
    "or delete, as an open would. Then verifies the stream again.\n"
    "Damage repair cannot fix (a sealed segment, missing segments, a file from another\n"
    "stream) is reported and that stream is left untouched.\n"
    "  --dry-run  print what would be done; take no LOCK, change nothing\n"
    "Exit code: 0 when every stream is (now) clean, 1 otherwise.\n",
    {},
    {"--dry-run"},
    1,
    2};

// The root (absolute) and the stream directory a command works on (empty: every one);
// on failure the exit code to return (after printing why).
struct Target {
  std::string root;
  MaintenanceOptions scope;
  int exit_code = kExitOk;
};

Target SelectTarget(const CommandSpec& spec, const Args& args, std::ostream& err) {
  Target target;
  absl::StatusOr<std::string> root = AbsolutePath(args.positional()[0]);
  if (!root.ok()) {
    target.exit_code = Failure(spec.name, root.status(), err);
    return target;
  }
  if (args.positional().size() > 1) {
    absl::StatusOr<std::string> name = StreamDirOfKey(*root, args.positional()[1]);
    if (!name.ok()) {
      target.exit_code = UsageError(spec, name.status().message(), err);
      return target;
    }
    target.scope.stream_dir = *name;
  }
  target.root = *root;
  return target;
}

// Prints the notes, the findings (for repair, those it cannot fix marked so) and, for a
// clean stream, a summary line.
void PrintCheck(const StreamCheck& check, bool for_repair, std::ostream& out) {
  for (const std::string& note : check.notes) out << "note: " << note << "\n";
  for (const Finding& finding : check.findings) {
    if (for_repair && finding.fix == FindingFix::kNone) out << "cannot fix: ";
    out << finding.ToString() << "\n";
  }
  if (check.clean()) {
    out << check.path << ": ok: IDs [" << check.first_id << ", " << check.next_id << "), "
        << Count(check.segments.size(), "segment") << ", " << Count(check.frames, "frame") << ", "
        << Count(check.bytes, "byte") << "\n";
  }
}

// One stream's repair, in the order it happened.
void PrintRepair(const StreamRepair& repair, std::ostream& out, std::ostream& err) {
  if (repair.before.findings.empty() && !repair.status.ok()) {
    Failure("repair", repair.status, err);  // Stopped before it could check the stream.
    return;
  }
  PrintCheck(repair.before, /*for_repair=*/true, out);
  if (repair.before.clean()) return;
  if (!repair.before.repairable()) {
    out << "cannot repair " << repair.before.path << ": nothing was changed (the problems "
        << "marked 'cannot fix' need a person: restore the files from a replica or a backup)\n";
    return;
  }
  for (const std::string& action : repair.actions) out << action << "\n";
  if (!repair.status.ok()) Failure("repair", repair.status, err);
  if (!repair.after.has_value()) return;
  for (const Finding& finding : repair.after->findings) {
    out << "still: " << finding.ToString() << "\n";
  }
  if (repair.before.deleting && repair.after->clean()) {
    out << repair.after->path << ": removed (the stream had been deleted)\n";
  } else if (repair.after->clean()) {
    out << repair.after->path << ": repaired: IDs [" << repair.after->first_id << ", "
        << repair.after->next_id << "), verify finds no problems\n";
  }
}

}  // namespace

int RunVerify(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kVerifySpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Target target = SelectTarget(kVerifySpec, *parsed.args, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  absl::StatusOr<VerifyReport> report = VerifyRoot(target.root, target.scope);
  if (!report.ok()) return Failure("verify", report.status(), err);
  for (const std::string& problem : report->root_problems) out << problem << "\n";
  for (const absl::Status& error : report->errors) Failure("verify", error, err);
  for (const StreamCheck& check : report->streams) PrintCheck(check, /*for_repair=*/false, out);
  size_t problems = report->problems();
  const size_t streams =
      report->streams.size() + report->errors.size() + report->root_problems.size();
  if (target.scope.stream_dir.empty() && IsShardedRoot(target.root)) {
    absl::Status s = VerifyShardedFiles(target.root, out);
    if (!s.ok()) {
      Failure("verify", s, err);
      ++problems;
    }
  }
  const bool io_error = !report->errors.empty();
  if (streams == 0 && target.scope.stream_dir.empty() && !IsShardedRoot(target.root)) {
    // Nothing to check is a finding when the directory holds something else: most likely
    // the path is not the WAL's root (its parent, say), and "no problems" would mislead.
    std::vector<std::string> others;
    const absl::Status listed = ListRoot(Env::Default(), target.root, nullptr, &others);
    if (!listed.ok()) return Failure("verify", listed, err);
    if (!others.empty()) {
      out << "verify: no streams in " << target.root << ", which holds '" << others.front()
          << "', not a stream: is this the WAL's root directory?\n";
      return kExitFinding;
    }
  }
  if (problems == 0 && !io_error) {
    out << "verify: " << Count(streams, "stream") << ", no problems\n";
    return kExitOk;
  }
  out << "verify: " << Count(problems, "problem") << " in " << report->bad_streams() << " of "
      << Count(streams, "stream") << (io_error ? " (and I/O errors, see above)" : "") << "\n";
  return kExitFinding;
}

int RunRepair(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kRepairSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Target target = SelectTarget(kRepairSpec, *parsed.args, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  RepairOptions options;
  options.scope = target.scope;
  options.dry_run = parsed.args->Has("--dry-run");
  absl::StatusOr<RepairReport> report = RepairRoot(target.root, options);
  if (!report.ok()) return Failure("repair", report.status(), err);
  for (const StreamRepair& repair : report->streams) PrintRepair(repair, out, err);
  const bool dry_run = options.dry_run;
  out << "repair" << (dry_run ? " --dry-run" : "") << ": " << report->clean_streams() << " of "
      << Count(report->streams.size(), "stream") << (dry_run ? " would be" : "") << " clean"
      << (dry_run ? "; nothing was changed" : "") << "\n";
  return report->clean() ? kExitOk : kExitFinding;
}

}  // namespace cli
}  // namespace ironwal
