// File: ironwal/cli/sharded_commands.h
//
// The `ironwal` subcommands for ShardedWal roots (ironwal/sharded), read-only like dump:
//
//   checkpoints ROOT [--format text|jsonl]    the checkpoints, in timestamp order
//   route --shards N (KEY | --key-b64 B64)... the shard of each key
//
// Exit codes as in commands.h. Thread-safety: each call is independent.
#ifndef IRONWAL_CLI_SHARDED_COMMANDS_H_
#define IRONWAL_CLI_SHARDED_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace ironwal {
namespace cli {

int RunCheckpoints(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunRoute(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_SHARDED_COMMANDS_H_
