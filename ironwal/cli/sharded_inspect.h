// File: ironwal/cli/sharded_inspect.h
//
// The ShardedWal part of `ironwal verify` and `ironwal ls`: checks and a summary of the
// files a ShardedWal keeps beside its shard streams (checkpoints.log, HEAD, SHARDS).
// Read-only; Env::Default(). Thread-safety: each call is independent.
#ifndef IRONWAL_CLI_SHARDED_INSPECT_H_
#define IRONWAL_CLI_SHARDED_INSPECT_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace ironwal {
namespace cli {

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

#endif  // IRONWAL_CLI_SHARDED_INSPECT_H_
