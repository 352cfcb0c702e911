// File: ironwal/cli/sharded_commands.h
//
// The `ironwal` subcommands for ShardedWal roots (ironwal/sharded), read-only like dump:
//
//   checkpoints ROOT [--format text|jsonl]    the checkpoints, in timestamp order
//   route --shards N (KEY | --key-b64 B64)... the shard of each key
//
// and the checks verify and ls can call on a root that holds checkpoints.log or HEAD.
// Exit codes as in commands.h. Thread-safety: each call is independent.
#ifndef IRONWAL_CLI_SHARDED_COMMANDS_H_
#define IRONWAL_CLI_SHARDED_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ironwal {
namespace cli {

int RunCheckpoints(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunRoute(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Whether `root` has a ShardedWal's files (checkpoints.log, HEAD or SHARDS).
bool IsShardedRoot(const std::string& root);

// For verify: checks checkpoints.log (every entry whole, CRC-checked, to the end of the
// file), HEAD (parses and names a checkpoint of the log) and SHARDS. Prints one line per
// file; DataLoss naming the file and offset for the first problem.
absl::Status VerifyShardedFiles(const std::string& root, std::ostream& out);

// For ls: "sharded: N shards (SHARDS|not recorded), C checkpoints, latest ID".
absl::Status DescribeShardedLayout(const std::string& root, std::ostream& out);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_SHARDED_COMMANDS_H_
