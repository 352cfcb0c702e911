// The `ironwal` command-line tool: dispatches to the subcommands of commands.h and to
// bench (bench.h).
//
//   ironwal ls /var/lib/app/wal
//   ironwal dump /var/lib/app/wal orders --from 100 --format jsonl
//   ironwal verify /var/lib/app/wal
//   ironwal truncate /var/lib/app/wal raft --suffix 1200
//   ironwal meta /var/lib/app/wal raft --format hex
//
// Exit codes: 0 success, 1 a finding (corruption) or an error, 2 bad usage.
#include <iostream>
#include <string>
#include <vector>

#include "ironwal/cli/args.h"
#include "ironwal/cli/bench.h"
#include "ironwal/cli/commands.h"
#include "ironwal/cli/finish_output.h"
#include "ironwal/cli/sharded_commands.h"

namespace ironwal {
namespace cli {
namespace {

using RunFunction = int (*)(const std::vector<std::string>& args, std::istream& in,
                            std::ostream& out, std::ostream& err);

struct Command {
  const char* name;
  const char* synopsis;
  RunFunction run;
};

const Command kCommands[] = {
    {"ls", "ls ROOT                            streams: first/next ID, segments, bytes, ratio",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunLs(a, o, e);
     }},
    {"dump", "dump ROOT STREAM [--from ID] [--to ID] [--format text|hex|jsonl]",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunDump(a, o, e);
     }},
    {"verify", "verify ROOT [STREAM]               check every frame and file (read-only)",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunVerify(a, o, e);
     }},
    {"repair", "repair ROOT [STREAM] [--dry-run]   cut torn tails, rebuild indexes",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunRepair(a, o, e);
     }},
    {"append", "append ROOT STREAM [--batch] [--file PATH] [--sync strict|batch|async]",
     [](const std::vector<std::string>& a, std::istream& i, std::ostream& o, std::ostream& e) {
       return RunAppend(a, i, o, e);
     }},
    {"truncate", "truncate ROOT STREAM KEEP_FROM_ID  drop sealed segments below an ID",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunTruncate(a, o, e);
     }},
    {"truncate", "truncate ROOT STREAM --suffix FROM_ID  drop every ID >= FROM_ID", nullptr},
    {"trim", "trim ROOT STREAM FIRST_ID           drop every ID < FIRST_ID (first.id)",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunTrim(a, o, e);
     }},
    {"meta", "meta ROOT STREAM [--format raw|hex|text] [--set VALUE | --set-file PATH]",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunMeta(a, o, e);
     }},
    {"rm", "rm ROOT STREAM                     delete a stream and its files",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunRm(a, o, e);
     }},
    {"checkpoints", "checkpoints ROOT [--format text|jsonl]  a ShardedWal's checkpoints",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunCheckpoints(a, o, e);
     }},
    {"route", "route --shards N (KEY | --key-b64 B64)...  the shard of each key",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunRoute(a, o, e);
     }},
    {"bench", "bench [--quick] [--dir DIR] [--json]  run the workloads (W1-W8), print results",
     [](const std::vector<std::string>& a, std::istream&, std::ostream& o, std::ostream& e) {
       return RunBench(a, o, e);
     }},
};

void PrintUsage(std::ostream& os) {
  os << "usage: ironwal COMMAND [ARGS]     ('ironwal COMMAND --help' for more)\n\n"
     << "Inspects, checks and repairs ironwal (and ironwal 0.6) write-ahead logs.\n\n"
     << "commands:\n";
  for (const Command& command : kCommands) os << "  " << command.synopsis << "\n";
  os << "\nexit codes: 0 success, 1 corruption found or an error, 2 bad usage\n";
}

int Main(const std::vector<std::string>& words) {
  if (words.empty()) {
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  std::string name = words[0];
  std::vector<std::string> args(words.begin() + 1, words.end());
  if (name == "--help" || name == "-h" || (name == "help" && args.empty())) {
    PrintUsage(std::cout);
    return kExitOk;
  }
  if (name == "help") {  // "ironwal help dump" is "ironwal dump --help".
    name = args[0];
    args = {"--help"};
  }
  for (const Command& command : kCommands) {
    // A second line of a command's usage (run == nullptr) is not a command of its own.
    if (name == command.name && command.run != nullptr) {
      return command.run(args, std::cin, std::cout, std::cerr);
    }
  }
  std::cerr << "ironwal: unknown command '" << name << "'\n";
  PrintUsage(std::cerr);
  return kExitUsage;
}

}  // namespace
}  // namespace cli
}  // namespace ironwal

int main(int argc, char** argv) {
  return ironwal::cli::FinishOutput(
      ironwal::cli::Main(std::vector<std::string>(argv + 1, argv + argc)));
}
