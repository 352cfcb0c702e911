// File: ironwal/cli/commands.h
//
// The subcommands of the `ironwal` command-line tool (main.cc dispatches to them and to
// bench, which is in bench.h). Each takes the words after its name and returns the process exit
// code: kExitOk (0) on success, kExitFinding (1) when it found corruption or an I/O error stopped
// it (the message names the file and offset), kExitUsage (2) on bad usage. Each accepts --help.
// Results go to `out`, messages to `err`.
//
//   ls ROOT                                   streams: first/next ID, segments, bytes, ratio
//   dump ROOT STREAM [--from ID] [--to ID] [--format text|hex|jsonl]
//   verify ROOT [STREAM]                      read-only, no LOCK: every frame and file
//   repair ROOT [STREAM] [--dry-run]          what recovery does: cut torn tails, rebuild
//   append ROOT STREAM [--batch] [--file PATH] [--sync strict|batch|async]
//   truncate ROOT STREAM KEEP_FROM_ID          whole sealed segments below an ID
//   truncate ROOT STREAM --suffix FROM_ID      every ID >= FROM_ID (Wal::TruncateSuffix)
//   trim ROOT STREAM FIRST_ID                  every ID < FIRST_ID (Wal::TrimFront)
//   meta ROOT STREAM [--format raw|hex|text] | [--set VALUE | --set-file PATH]
//   rm ROOT STREAM                             the stream and its files (Wal::DeleteStream)
//
// ls, dump and meta (without --set) open the Wal read-only (no LOCK, nothing changed).
// The writers (append, truncate, trim, meta --set, rm) open it read-write: they take the
// LOCK and run recovery, which finishes an interrupted log operation. verify and repair print
// VerifyRoot and RepairRoot (ironwal/wal/maintenance.h). Paths are used as given; relative
// ones are made absolute against the current directory.
//
// Thread-safety: each call is independent; they use Env::Default().
#ifndef IRONWAL_CLI_COMMANDS_H_
#define IRONWAL_CLI_COMMANDS_H_

#include <cstdint>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/cli/args.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace cli {

int RunLs(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunDump(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunVerify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunRepair(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// Reads the entries from `in` (one per line) unless --file is given.
int RunAppend(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
              std::ostream& err);
int RunTruncate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunTrim(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunMeta(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunRm(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Helpers the subcommands share.

// Prints "ironwal <command>: <status message>" to `err`; returns kExitFinding.
int Failure(absl::string_view command, const absl::Status& status, std::ostream& err);

// `path` made absolute against the current directory (Env paths are absolute).
absl::StatusOr<std::string> AbsolutePath(const std::string& path);

// The directory (name) of stream `key` under `root`: StreamDirName(key), or
// InvalidArgument (bad usage, exit 2) for a key StreamDirName refuses and for a key whose
// directory belongs to another stream (its stream.key names another key): 'a\001b' when
// 'a/b' exists. A missing, unreadable or damaged stream.key claims nothing here (verify
// reports it). Opens nothing but a regular stream.key, without blocking.
absl::StatusOr<std::string> StreamDirOfKey(const std::string& root, const std::string& key);

// NotFound naming the key and `root`/`dir` unless that directory exists: a writer that
// needs an existing stream checks it before opening the Wal, whose read-write open would
// create the root and its LOCK.
absl::Status StreamMustExist(const std::string& root, const std::string& key,
                             const std::string& dir);

// The whole file at `path`, read to its end (a pipe, a FIFO or a procfs file reports no
// size, so the size stat gives is not how much there is). InvalidArgument past `limit`
// bytes (an endless source such as /dev/zero), saying "more than <limit> bytes, <limit_is>".
absl::StatusOr<std::string> ReadToEnd(const std::string& path, uint64_t limit,
                                      absl::string_view limit_is);

// Wal::Open of the absolute `root`: read-only (no LOCK, nothing changed), or read-write
// with SyncMode::kStrict.
absl::StatusOr<std::unique_ptr<Wal>> OpenWal(const std::string& root, bool read_only);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_COMMANDS_H_
