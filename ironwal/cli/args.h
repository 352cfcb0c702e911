// File: ironwal/cli/args.h
//
// Command-line parsing for the `ironwal` tool's subcommands: positional words, flags with
// a value (`--from 5` or `--from=5`), flags without one (`--batch`), and `--help`. Each
// subcommand describes what it accepts in a CommandSpec; ParseCommandLine prints the help
// or the usage error itself and says which exit code to return.
//
//   const CommandSpec kSpec = {"dump", "dump ROOT STREAM [--from ID] ...", kHelp,
//                              {"--from", "--to", "--format"}, {}, 2, 2};
//   ParsedArgs parsed = ParseCommandLine(kSpec, words, out, err);
//   if (!parsed.ok()) return parsed.exit_code;
//   const std::string& root = parsed.args->positional()[0];
//
// Thread-safety: value types.
#ifndef IRONWAL_CLI_ARGS_H_
#define IRONWAL_CLI_ARGS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace cli {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;  // corruption found, or an I/O error
inline constexpr int kExitUsage = 2;    // bad usage

struct CommandSpec {
  const char* name;   // "dump"
  const char* usage;  // "dump ROOT STREAM [--from ID] [--to ID] [--format text|hex|jsonl]"
  const char* help;   // what --help prints after the usage line
  std::vector<std::string> value_flags;  // flags followed by a value
  std::vector<std::string> bool_flags;   // flags that stand alone
  size_t min_positional = 0;
  size_t max_positional = 0;
};

class Args {
 public:
  // Parses `words` (the words after the subcommand's name). InvalidArgument for an
  // unknown flag, a value flag without a value, a flag given twice, a value given to a
  // flag without one, or a wrong number of positional words. "--" ends the flags.
  static absl::StatusOr<Args> Parse(const CommandSpec& spec, const std::vector<std::string>& words);

  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  // The flag's value, or nullopt when it was not given.
  std::optional<std::string> Value(const std::string& flag) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> flags_;
  bool help_ = false;
};

// Parse's result for a subcommand: the arguments, or the exit code to return at once
// (kExitOk after printing the help to `out`, kExitUsage after printing the error and the
// usage line to `err`).
struct ParsedArgs {
  std::optional<Args> args;
  int exit_code = kExitOk;
  bool ok() const { return args.has_value(); }
};
ParsedArgs ParseCommandLine(const CommandSpec& spec, const std::vector<std::string>& words,
                            std::ostream& out, std::ostream& err);

// Prints "ironwal <name>: <message>" and the usage line to `err`; returns kExitUsage.
int UsageError(const CommandSpec& spec, absl::string_view message, std::ostream& err);

// A decimal u64 (an entry ID). InvalidArgument naming `what` for anything else.
absl::StatusOr<uint64_t> ParseId(absl::string_view what, absl::string_view text);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_ARGS_H_
