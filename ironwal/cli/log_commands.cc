// `ironwal trim`, `ironwal meta` and `ironwal rm`: the log primitives of wal.h that have
// no other command (truncate --suffix is in append_truncate.cc). The writers open the Wal
// read-write (the LOCK, recovery) and refuse a stream that does not exist before the open,
// so that a typo creates nothing; `meta` without --set reads through a read-only open.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/cli/commands.h"
#include "ironwal/format/format.h"
#include "ironwal/status_macros.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace cli {

namespace format = ::ironwal::internal::format;

namespace {

const CommandSpec kTrimSpec = {
    "trim",
    "trim ROOT STREAM FIRST_ID",
    "Makes FIRST_ID the first ID of STREAM (Wal::TrimFront): every ID below it is gone at\n"
    "once, also inside a segment that is kept (first.id records it), and the whole sealed\n"
    "segments below it are removed. Prints how many segments were removed and the new first\n"
    "ID. FIRST_ID past the next ID is an error; at or below the first ID changes nothing.\n"
    "Opens the WAL read-write: it takes the LOCK. STREAM must exist.\n",
    {},
    {},
    3,
    3};

const CommandSpec kMetaSpec = {
    "meta",
    "meta ROOT STREAM [--format raw|hex|text] [--set VALUE | --set-file PATH]",
    "Prints STREAM's metadata (Wal::GetStreamMetadata, stream.meta):\n"
    "  raw   the value's bytes as they are, nothing added (default)\n"
    "  hex   the value in lowercase hex, then a newline\n"
    "  text  the value C-escaped, then a newline\n"
    "A stream that never had metadata prints an empty value. Reading opens the WAL\n"
    "read-only: no LOCK, nothing changed.\n"
    "  --set VALUE      replace the metadata with VALUE (atomically; creates the stream)\n"
    "  --set-file PATH  replace it with the bytes of the file at PATH\n"
    "The value is at most 65536 bytes. Setting opens the WAL read-write: it takes the LOCK.\n",
    {"--format", "--set", "--set-file"},
    {},
    2,
    2};

const CommandSpec kRmSpec = {
    "rm",
    "rm ROOT STREAM",
    "Deletes STREAM, its entries and its metadata (Wal::DeleteStream). A crash part way\n"
    "leaves it present or absent, never half there (stream.deleted is written first; the\n"
    "next open finishes the removal). The key can be used again afterwards, from ID 0.\n"
    "Opens the WAL read-write: it takes the LOCK. STREAM must exist.\n",
    {},
    {},
    2,
    2};

// ROOT made absolute and STREAM's directory, or the exit code to return (a usage error
// for a key no stream can have, a failure for a stream that must exist and does not).
struct Target {
  std::string root;
  std::string dir;
  int exit_code = kExitOk;
};
Target ResolveTarget(const CommandSpec& spec, const Args& args, bool must_exist,
                     std::ostream& err) {
  Target target;
  absl::StatusOr<std::string> root = AbsolutePath(args.positional()[0]);
  if (!root.ok()) {
    target.exit_code = Failure(spec.name, root.status(), err);
    return target;
  }
  target.root = *root;
  absl::StatusOr<std::string> dir = StreamDirOfKey(*root, args.positional()[1]);
  if (!dir.ok()) {
    target.exit_code = UsageError(spec, dir.status().message(), err);
    return target;
  }
  target.dir = *dir;
  if (must_exist) {
    absl::Status exists = StreamMustExist(target.root, args.positional()[1], target.dir);
    if (!exists.ok()) target.exit_code = Failure(spec.name, exists, err);
  }
  return target;
}

// Runs `op` on a read-write open of `root`, then closes the Wal; the first error wins.
template <typename Op>
absl::Status WithWritableWal(const std::string& root, Op op) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, OpenWal(root, /*read_only=*/false));
  absl::Status done = op(wal.get());
  absl::Status closed = wal->Close();
  return done.ok() ? closed : done;
}

}  // namespace

int RunTrim(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kTrimSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Args& args = *parsed.args;
  absl::StatusOr<uint64_t> first = ParseId("FIRST_ID", args.positional()[2]);
  if (!first.ok()) return UsageError(kTrimSpec, first.status().message(), err);
  const Target target = ResolveTarget(kTrimSpec, args, /*must_exist=*/true, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  const std::string& key = args.positional()[1];
  absl::Status done = WithWritableWal(target.root, [&](Wal* wal) -> absl::Status {
    IRONWAL_ASSIGN_OR_RETURN(const TruncateResult result, wal->TrimFront(key, *first));
    out << "removed " << result.segments_removed << " segments; the first ID is " << result.first_id
        << "\n";
    return absl::OkStatus();
  });
  if (!done.ok()) return Failure("trim", done, err);
  return kExitOk;
}

namespace {

int PrintMeta(const std::string& root, const std::string& key, const std::string& format,
              std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenWal(root, /*read_only=*/true);
  if (!wal.ok()) return Failure("meta", wal.status(), err);
  absl::StatusOr<std::string> value = (*wal)->GetStreamMetadata(key);
  if (!value.ok()) return Failure("meta", value.status(), err);
  if (format == "hex") {
    out << absl::BytesToHexString(*value) << "\n";
  } else if (format == "text") {
    out << absl::CEscape(*value) << "\n";
  } else {
    out.write(value->data(), static_cast<std::streamsize>(value->size()));
  }
  return kExitOk;
}

}  // namespace

int RunMeta(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kMetaSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Args& args = *parsed.args;
  const std::optional<std::string> set = args.Value("--set");
  const std::optional<std::string> set_file = args.Value("--set-file");
  const std::optional<std::string> format = args.Value("--format");
  if (set.has_value() && set_file.has_value()) {
    return UsageError(kMetaSpec, "--set and --set-file exclude each other", err);
  }
  const bool setting = set.has_value() || set_file.has_value();
  if (setting && format.has_value()) {
    return UsageError(kMetaSpec, "--format is for reading; it does not go with --set", err);
  }
  const std::string print_format = format.value_or("raw");
  if (print_format != "raw" && print_format != "hex" && print_format != "text") {
    return UsageError(kMetaSpec, absl::StrCat("unknown --format '", print_format, "'"), err);
  }
  if (set.has_value() && set->size() > format::kMaxStreamMetadataSize) {
    return UsageError(kMetaSpec,
                      absl::StrCat("--set: the value has ", set->size(), " bytes; the limit is ",
                                   format::kMaxStreamMetadataSize),
                      err);
  }
  // Reading needs the stream; setting creates it, as Wal::PutStreamMetadata does.
  const Target target = ResolveTarget(kMetaSpec, args, /*must_exist=*/!setting, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  const std::string& key = args.positional()[1];
  if (!setting) return PrintMeta(target.root, key, print_format, out, err);

  std::string value;
  if (set_file.has_value()) {
    absl::StatusOr<std::string> path = AbsolutePath(*set_file);
    absl::StatusOr<std::string> contents =
        path.ok() ? ReadToEnd(*path, format::kMaxStreamMetadataSize, "the largest metadata value")
                  : path;
    if (!contents.ok()) return Failure("meta", contents.status(), err);
    value = *std::move(contents);
  } else {
    value = *set;
  }
  absl::Status done =
      WithWritableWal(target.root, [&](Wal* wal) { return wal->PutStreamMetadata(key, value); });
  if (!done.ok()) return Failure("meta", done, err);
  return kExitOk;
}

int RunRm(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kRmSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const Args& args = *parsed.args;
  const Target target = ResolveTarget(kRmSpec, args, /*must_exist=*/true, err);
  if (target.exit_code != kExitOk) return target.exit_code;
  const std::string& key = args.positional()[1];
  absl::Status done = WithWritableWal(target.root, [&](Wal* wal) -> absl::Status {
    IRONWAL_ASSIGN_OR_RETURN(const StreamInfo info, wal->GetStreamInfo(key));
    IRONWAL_RETURN_IF_ERROR(wal->DeleteStream(key));
    out << "deleted stream '" << absl::CEscape(key) << "' (IDs [" << info.first_id << ", "
        << info.next_id << "), " << info.segment_count << " segments)\n";
    return absl::OkStatus();
  });
  if (!done.ok()) return Failure("rm", done, err);
  return kExitOk;
}

}  // namespace cli
}  // namespace ironwal
