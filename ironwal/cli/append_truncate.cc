// `ironwal append` and `ironwal truncate`: the two subcommands that write through the Wal.

#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/cli/commands.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/status_macros.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace cli {

namespace format = ::ironwal::internal::format;

namespace {

const CommandSpec kAppendSpec = {
    "append",
    "append ROOT STREAM [--batch] [--file PATH] [--sync strict|batch|async]",
    "Appends entries to STREAM (created if new) and prints their IDs, one per line.\n"
    "Each line of standard input is one entry (without its newline; an empty line is an\n"
    "empty entry), appended as it arrives: a pipe that stays open is appended as it goes.\n"
    "  --file PATH  append the whole file as one entry instead\n"
    "  --batch      append all entries as one batch: one frame, all or nothing\n"
    "  --sync MODE  strict (default: each entry durable before its ID is printed),\n"
    "               batch (SyncMode::kBatchOnly) or async (synced once at the end)\n"
    "Every ID printed is durable. Strict appends (and --batch with batch) print and flush\n"
    "each ID as it returns, so a reader of a pipe has it even if the tool is killed right\n"
    "after; the other modes print the IDs once Close has synced them. If standard output\n"
    "fails (a full disk), the tool appends nothing more, says which entries are durable\n"
    "and exits 1.\n"
    "Opens the WAL read-write: it takes the LOCK and runs recovery.\n",
    {"--file", "--sync"},
    {"--batch"},
    2,
    2};

const CommandSpec kTruncateSpec = {
    "truncate",
    "truncate ROOT STREAM (KEEP_FROM_ID | --suffix FROM_ID)",
    "truncate ROOT STREAM KEEP_FROM_ID\n"
    "  Removes STREAM's sealed segments that hold only IDs below KEEP_FROM_ID (the segment\n"
    "  holding it, and the active segment, stay), and prints how many segments were removed\n"
    "  and the first ID still retained.\n"
    "truncate ROOT STREAM --suffix FROM_ID\n"
    "  Removes every ID >= FROM_ID (Wal::TruncateSuffix): the next append gets FROM_ID.\n"
    "  FROM_ID must lie in [first ID, next ID]; prints the IDs removed and the next ID.\n"
    "  A crash part way leaves the old log or the new one: the next open finishes it.\n"
    "Both open the WAL read-write: they take the LOCK. STREAM must exist.\n",
    {"--suffix"},
    {},
    2,
    3};

// Where the entries come from: sets the next one and returns true, or returns false at
// the end.
using NextEntry = std::function<bool(std::string*)>;

// `root` is absolute.
absl::StatusOr<std::unique_ptr<Wal>> OpenReadWrite(const std::string& root, SyncMode sync) {
  WalOptions options;
  options.root = root;
  options.sync_mode = sync;
  return Wal::Open(options);
}

// "ID 7" or "IDs [3, 9]": `ids` (in order, not empty) for a message.
std::string IdsForMessage(const std::vector<uint64_t>& ids) {
  if (ids.size() == 1) return absl::StrCat("ID ", ids[0]);
  return absl::StrCat("IDs [", ids.front(), ", ", ids.back(), "]");
}

// Prints `ids` one per line and flushes; fails if `out` did not take them all (a full
// disk under a redirected stdout, a closed descriptor).
bool PrintIds(const std::vector<uint64_t>& ids, std::ostream& out) {
  for (uint64_t id : ids) out << id << "\n";
  out.flush();
  return static_cast<bool>(out);
}

// Appends the entries `next` gives (one by one as they come, or all as one batch) to
// `key`, adding each ID to `ids`.
// With `print_each` (the appends return durable) the IDs of each append are printed and
// flushed at once, so that a script reading a pipe has every durable ID even if this
// process is killed at the next append (stdout to a pipe is otherwise buffered); when the
// output does not take them, no further entry is appended and the error says which
// entries are durable. `root` names the log in messages.
absl::Status AppendEntries(Wal* wal, const std::string& root, const std::string& key,
                           const NextEntry& next, bool batch, bool print_each, std::ostream& out,
                           std::vector<uint64_t>* ids) {
  auto printed = [&](size_t from) -> absl::Status {
    if (!print_each) return absl::OkStatus();
    std::vector<uint64_t> these(ids->begin() + from, ids->end());
    if (PrintIds(these, out)) return absl::OkStatus();
    return absl::UnavailableError(
        absl::StrCat("writing ", IdsForMessage(these), " of stream '", absl::CEscape(key), "' in ",
                     root, " to standard output failed; entries up to ID ", ids->back(),
                     " are durable, and no later entry was appended"));
  };
  std::string entry;
  if (batch) {
    std::vector<std::string> entries;
    while (next(&entry)) entries.push_back(std::move(entry));
    absl::StatusOr<IdRange> range = wal->AppendBatch(key, entries);
    if (!range.ok()) return range.status();
    for (uint64_t id = range->first; id < range->end; ++id) ids->push_back(id);
    return printed(0);
  }
  while (next(&entry)) {
    absl::StatusOr<uint64_t> id = wal->Append(key, entry);
    if (!id.ok()) return id.status();
    ids->push_back(*id);
    IRONWAL_RETURN_IF_ERROR(printed(ids->size() - 1));
  }
  return absl::OkStatus();
}

}  // namespace

int RunAppend(const std::vector<std::string>& words, std::istream& in, std::ostream& out,
              std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kAppendSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Args& args = *parsed.args;
  const std::string& key = args.positional()[1];
  absl::StatusOr<std::string> root = AbsolutePath(args.positional()[0]);
  if (!root.ok()) return Failure("append", root.status(), err);
  if (absl::Status valid = StreamDirOfKey(*root, key).status(); !valid.ok()) {
    return UsageError(kAppendSpec, valid.message(), err);
  }
  const std::string sync = args.Value("--sync").value_or("strict");
  SyncMode mode = SyncMode::kStrict;
  if (sync == "batch") {
    mode = SyncMode::kBatchOnly;
  } else if (sync == "async") {
    mode = SyncMode::kAsync;
  } else if (sync != "strict") {
    return UsageError(kAppendSpec, absl::StrCat("unknown --sync mode '", sync, "'"), err);
  }
  // The entries: the whole --file, or all lines of standard input for a batch (all or
  // nothing: a read error appends none), each read before the log is opened; otherwise
  // each line of standard input, appended as it arrives (a pipe that stays open is
  // appended as it goes, and memory holds one line, not the whole input).
  const bool batch = args.Has("--batch");
  const bool streamed = !args.Value("--file").has_value() && !batch;
  std::vector<std::string> entries;
  if (std::optional<std::string> file = args.Value("--file")) {
    absl::StatusOr<std::string> path = AbsolutePath(*file);
    absl::StatusOr<std::string> contents =
        path.ok() ? ReadToEnd(*path, format::kMaxEntrySize, "the largest entry ironwal stores")
                  : path;
    if (!contents.ok()) return Failure("append", contents.status(), err);
    entries.push_back(*std::move(contents));
  } else if (batch) {
    std::string line;
    while (std::getline(in, line)) entries.push_back(std::move(line));
    if (in.bad()) {
      return Failure("append", absl::InternalError("reading standard input failed"), err);
    }
  }
  size_t given = 0;
  const NextEntry next = [&](std::string* entry) -> bool {
    if (streamed) return static_cast<bool>(std::getline(in, *entry));
    if (given == entries.size()) return false;
    *entry = std::move(entries[given++]);
    return true;
  };

  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenReadWrite(*root, mode);
  if (!wal.ok()) return Failure("append", wal.status(), err);
  // Strict appends return durable, and so do batches in the batch mode: their IDs are
  // printed as they return. The others are durable once Close has synced them, and their
  // IDs are printed only then: every ID the tool prints is durable, in every mode.
  const bool durable_on_return =
      mode == SyncMode::kStrict || (mode == SyncMode::kBatchOnly && batch);
  std::vector<uint64_t> ids;
  absl::Status appended = AppendEntries(wal->get(), *root, key, next, batch,
                                        /*print_each=*/durable_on_return, out, &ids);
  if (appended.ok() && streamed && in.bad()) {
    appended = absl::InternalError(
        absl::StrCat("reading standard input failed after ", ids.size(), " entries"));
  }
  absl::Status closed = (*wal)->Close();
  if (!durable_on_return && !ids.empty()) {
    if (!closed.ok()) {
      err << "ironwal append: " << IdsForMessage(ids)
          << " were appended, but closing the log failed: they may not be durable\n";
    } else if (!PrintIds(ids, out)) {
      // The entries are in the log; only their IDs are lost to the caller.
      return Failure("append",
                     absl::UnavailableError(absl::StrCat(
                         "writing ", IdsForMessage(ids), " of stream '", absl::CEscape(key),
                         "' in ", *root, " to standard output failed; those entries are durable")),
                     err);
    }
  }
  if (!appended.ok()) return Failure("append", appended, err);
  if (!closed.ok()) return Failure("append", closed, err);
  return kExitOk;
}

namespace {

// `truncate ROOT STREAM --suffix FROM_ID` on the open `wal`.
absl::Status TruncateSuffix(Wal* wal, const std::string& key, uint64_t from, std::ostream& out) {
  absl::StatusOr<StreamInfo> before = wal->GetStreamInfo(key);
  if (!before.ok()) return before.status();
  IRONWAL_RETURN_IF_ERROR(wal->TruncateSuffix(key, from));
  if (from == before->next_id) {
    out << "removed no IDs; the next ID is " << from << "\n";
  } else {
    out << "removed IDs [" << from << ", " << before->next_id << "); the next ID is " << from
        << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int RunTruncate(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kTruncateSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Args& args = *parsed.args;
  const std::optional<std::string> suffix = args.Value("--suffix");
  if (args.positional().size() != (suffix.has_value() ? 2u : 3u)) {
    return UsageError(kTruncateSpec,
                      suffix.has_value() ? "--suffix FROM_ID takes no KEEP_FROM_ID"
                                         : "expected KEEP_FROM_ID or --suffix FROM_ID",
                      err);
  }
  const std::string& key = args.positional()[1];
  absl::StatusOr<std::string> root = AbsolutePath(args.positional()[0]);
  if (!root.ok()) return Failure("truncate", root.status(), err);
  absl::StatusOr<std::string> dir = StreamDirOfKey(*root, key);
  if (!dir.ok()) return UsageError(kTruncateSpec, dir.status().message(), err);
  absl::StatusOr<uint64_t> id = suffix.has_value() ? ParseId("FROM_ID", *suffix)
                                                   : ParseId("KEEP_FROM_ID", args.positional()[2]);
  if (!id.ok()) return UsageError(kTruncateSpec, id.status().message(), err);
  // Nothing to truncate: fail before the open, which would create the root and its LOCK.
  if (absl::Status exists = StreamMustExist(*root, key, *dir); !exists.ok()) {
    return Failure("truncate", exists, err);
  }

  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenWal(*root, /*read_only=*/false);
  if (!wal.ok()) return Failure("truncate", wal.status(), err);
  if (suffix.has_value()) {
    absl::Status done = TruncateSuffix(wal->get(), key, *id, out);
    absl::Status closed = (*wal)->Close();
    if (!done.ok()) return Failure("truncate", done, err);
    if (!closed.ok()) return Failure("truncate", closed, err);
    return kExitOk;
  }
  absl::StatusOr<TruncateResult> result = (*wal)->Truncate(key, *id);
  if (!result.ok()) return Failure("truncate", result.status(), err);
  absl::Status closed = (*wal)->Close();
  if (!closed.ok()) return Failure("truncate", closed, err);
  out << "removed " << result->segments_removed << " segments; the first retained ID is "
      << result->first_id << "\n";
  return kExitOk;
}

}  // namespace cli
}  // namespace ironwal
