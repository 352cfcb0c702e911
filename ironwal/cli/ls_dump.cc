// `ironwal ls` and `ironwal dump`: read-only views through Wal::Open(read_only).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "ironwal/cli/commands.h"
#include "ironwal/cli/sharded_inspect.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/status_macros.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/wal/maintenance.h"
#include "ironwal/wal/root_lock.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace cli {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::CheckLockNameClash;
using ::ironwal::internal::IsDeletedStream;

namespace {

const CommandSpec kLsSpec = {
    "ls",
    "ls ROOT",
    "Lists the streams under ROOT, one line each: the stream's key (C-escaped), its first\n"
    "retained ID, its next ID, its segment count, the bytes of its segment files, and the\n"
    "compression ratio (entry bytes / stored payload bytes; 1.00 = stored raw, - = empty).\n"
    "Opens each stream read-only, as opening the WAL would: no LOCK, nothing changed. A\n"
    "stream whose creation was interrupted (its directory holds only stream.key) is\n"
    "absent, as for the WAL and `dump`, and not listed. A\n"
    "stream that cannot be opened, or whose segments' IDs do not continue, is reported on\n"
    "its own (exit code 1) and the others are listed.\n",
    {},
    {},
    1,
    1};

const CommandSpec kDumpSpec = {
    "dump",
    "dump ROOT STREAM [--from ID] [--to ID] [--format text|hex|jsonl]",
    "Prints STREAM's entries in ID order, from --from (default: the first retained ID) up\n"
    "to --to (exclusive; default: the end), one line per entry:\n"
    "  text   ID<TAB>the entry C-escaped (default)\n"
    "  hex    ID<TAB>the entry in lowercase hex\n"
    "  jsonl  {\"id\":ID,\"b64\":\"<the entry in base64>\"} and nothing else\n"
    "Every frame's CRC is checked before its entries are printed; a bad frame stops the\n"
    "dump with exit code 1. Opens the WAL read-only: no LOCK, nothing changed.\n",
    {"--from", "--to", "--format"},
    {},
    2,
    2};

absl::StatusOr<std::unique_ptr<Wal>> OpenReadOnly(const std::string& root) {
  WalOptions options;
  IRONWAL_ASSIGN_OR_RETURN(options.root, AbsolutePath(root));
  options.read_only = true;
  return Wal::Open(options);
}

// One stream's row, or why it cannot be listed.
absl::StatusOr<std::vector<std::string>> StreamRow(const std::string& root,
                                                   const std::string& dir) {
  // A stream being deleted is absent, as it is for Wal::Open: no row.
  IRONWAL_ASSIGN_OR_RETURN(const bool deleted,
                           IsDeletedStream(Env::Default(), JoinPath(root, dir)));
  if (deleted) return std::vector<std::string>();
  IRONWAL_ASSIGN_OR_RETURN(
      const std::optional<StreamInfo> opened,
      InspectStream(Env::Default(), root, dir, StreamInfoDetail::kPayloadSizes));
  if (!opened.has_value()) {
    // An interrupted creation (at most stream.key) is absent, as for Wal::Open and dump.
    IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children,
                             Env::Default()->GetChildren(JoinPath(root, dir)));
    if (!children.empty()) return std::vector<std::string>();
    // Listed, yet not a stream: a directory holding nothing (maintenance.h).
    return absl::DataLossError(absl::StrCat(
        "ls ", JoinPath(root, dir), ": holds no file at all (its files were removed, or its ",
        "creation was interrupted; `ironwal verify` says more)"));
  }
  const StreamInfo& info = *opened;
  const std::string ratio =
      info.stored_payload_bytes == 0
          ? "-"
          : absl::StrFormat("%.2f", static_cast<double>(info.logical_bytes) /
                                        static_cast<double>(info.stored_payload_bytes));
  return std::vector<std::string>{absl::CEscape(info.key),    absl::StrCat(info.first_id),
                                  absl::StrCat(info.next_id), absl::StrCat(info.segment_count),
                                  absl::StrCat(info.bytes),   ratio};
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        absl::StrAppend(&line, row[i]);
      } else {
        absl::StrAppend(&line, absl::StrFormat("%-*s  ", widths[i], row[i]));
      }
    }
    out << line << "\n";
  }
}

}  // namespace

int RunLs(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kLsSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  absl::StatusOr<std::string> root = AbsolutePath(parsed.args->positional()[0]);
  if (!root.ok()) return Failure("ls", root.status(), err);
  absl::StatusOr<std::vector<std::string>> dirs = ListStreamDirs(Env::Default(), *root);
  if (!dirs.ok()) return Failure("ls", dirs.status(), err);
  // Each stream on its own (read-only, as Wal::Open would), so that one that cannot be
  // opened is reported without hiding the others.
  std::vector<std::vector<std::string>> rows;
  int exit_code = kExitOk;
  for (const std::string& dir : *dirs) {
    absl::StatusOr<std::vector<std::string>> row = StreamRow(*root, dir);
    if (!row.ok()) {
      exit_code = Failure("ls", row.status(), err);
      continue;
    }
    if (!row->empty()) rows.push_back(*std::move(row));
  }
  // By key, as Wal::ListStreams lists them.
  std::sort(rows.begin(), rows.end());
  rows.insert(rows.begin(), {"STREAM", "FIRST", "NEXT", "SEGMENTS", "BYTES", "RATIO"});
  PrintTable(rows, out);
  // A stream ironwal 0.6 keeps in ROOT/LOCK/ is not listed above: say so.
  absl::Status clash = CheckLockNameClash(Env::Default(), *root);
  if (!clash.ok()) return Failure("ls", clash, err);
  if (IsShardedRoot(*root)) {
    absl::Status s = DescribeShardedLayout(*root, out);
    if (!s.ok()) return Failure("ls", s, err);
  }
  return exit_code;
}

namespace {

// Prints the entries [from, to) of `key` in `format`; *next is one past the last printed
// (from when none).
absl::Status DumpFrom(Wal* wal, const std::string& key, uint64_t from, uint64_t to,
                      const std::string& format, uint64_t* next, std::ostream& out) {
  *next = from;
  if (to != Wal::kNoEnd && from >= to) return absl::OkStatus();
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Iterator> it, wal->NewIterator(key, from, to));
  for (; it->Valid(); it->Next()) {
    const absl::string_view value = it->value();
    if (format == "jsonl") {
      out << "{\"id\":" << it->id() << ",\"b64\":\"" << absl::Base64Escape(value) << "\"}\n";
    } else {
      out << it->id() << "\t"
          << (format == "hex" ? absl::BytesToHexString(value) : absl::CEscape(value)) << "\n";
    }
    if (!out) {  // Output is buffered: the failure may have hit an earlier entry.
      return absl::UnavailableError(absl::StrCat(
          "writing the entries of stream '", absl::CEscape(key),
          "' to standard output failed at or before ID ", it->id(), "; the output is incomplete"));
    }
    *next = it->id() + 1;
  }
  return it->status();
}

}  // namespace

int RunDump(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kDumpSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Args& args = *parsed.args;
  const std::string& key = args.positional()[1];
  const std::string format = args.Value("--format").value_or("text");
  if (format != "text" && format != "hex" && format != "jsonl") {
    return UsageError(kDumpSpec, absl::StrCat("unknown --format '", format, "'"), err);
  }
  absl::StatusOr<std::string> root = AbsolutePath(args.positional()[0]);
  if (!root.ok()) return Failure("dump", root.status(), err);
  if (absl::Status valid = StreamDirOfKey(*root, key).status(); !valid.ok()) {
    return UsageError(kDumpSpec, valid.message(), err);
  }
  std::optional<uint64_t> from, to;
  for (const auto& [flag, id] : {std::make_pair("--from", &from), std::make_pair("--to", &to)}) {
    if (std::optional<std::string> text = args.Value(flag)) {
      absl::StatusOr<uint64_t> parsed_id = ParseId(flag, *text);
      if (!parsed_id.ok()) return UsageError(kDumpSpec, parsed_id.status().message(), err);
      *id = *parsed_id;
    }
  }
  if (from.has_value() && to.has_value() && *to < *from) {
    return UsageError(kDumpSpec, "--to is below --from", err);
  }

  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenReadOnly(*root);
  if (!wal.ok()) return Failure("dump", wal.status(), err);
  if (!from.has_value()) {
    absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(key);
    if (!info.ok()) return Failure("dump", info.status(), err);
    from = info->first_id;
  }
  // A gap a repair recorded (lost.ids) is said on stderr and skipped; any other failure
  // stops the dump.
  absl::StatusOr<std::string> dir = StreamDirOfKey(*root, key);
  if (!dir.ok()) return Failure("dump", dir.status(), err);
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> lost =
      ReadLostIds(Env::Default(), *root, *dir);
  if (!lost.ok()) return Failure("dump", lost.status(), err);
  uint64_t at = *from;
  for (;;) {
    absl::Status read = DumpFrom(wal->get(), key, at, to.value_or(Wal::kNoEnd), format, &at, out);
    if (read.ok()) break;
    auto range = std::find_if(lost->begin(), lost->end(),
                              [at](const auto& r) { return r.first <= at && at < r.second; });
    if (!absl::IsDataLoss(read) || range == lost->end()) return Failure("dump", read, err);
    err << "ironwal dump: IDs [" << at << ", " << range->second
        << ") were cut out of the log by a repair (" << format::kLostIdsFileName << "); skipped\n";
    at = range->second;
  }
  return kExitOk;
}

}  // namespace cli
}  // namespace ironwal
