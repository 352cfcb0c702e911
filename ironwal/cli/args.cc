#include "ironwal/cli/args.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ironwal {
namespace cli {
namespace {

bool Contains(const std::vector<std::string>& list, absl::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

}  // namespace

absl::StatusOr<Args> Args::Parse(const CommandSpec& spec, const std::vector<std::string>& words) {
  Args args;
  bool flags_done = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (flags_done || word.size() < 2 || word[0] != '-') {
      args.positional_.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    if (word == "--help" || word == "-h") {
      args.help_ = true;
      continue;
    }
    const size_t eq = word.find('=');
    const std::string name = word.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string::npos) value = word.substr(eq + 1);
    if (args.flags_.count(name) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, " given twice"));
    }
    if (Contains(spec.bool_flags, name)) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(name, " takes no value"));
      }
      args.flags_[name] = "";
    } else if (Contains(spec.value_flags, name)) {
      if (!value.has_value()) {
        if (i + 1 == words.size()) {
          return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
        }
        value = words[++i];
      }
      args.flags_[name] = *value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
  }
  if (args.help_) return args;
  if (args.positional_.size() < spec.min_positional) {
    return absl::InvalidArgumentError("missing arguments");
  }
  if (args.positional_.size() > spec.max_positional) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional_[spec.max_positional], "'"));
  }
  return args;
}

std::optional<std::string> Args::Value(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

int UsageError(const CommandSpec& spec, absl::string_view message, std::ostream& err) {
  err << "ironwal " << spec.name << ": " << message << "\n"
      << "usage: ironwal " << spec.usage << "\n"
      << "Run 'ironwal " << spec.name << " --help' for more.\n";
  return kExitUsage;
}

ParsedArgs ParseCommandLine(const CommandSpec& spec, const std::vector<std::string>& words,
                            std::ostream& out, std::ostream& err) {
  ParsedArgs result;
  absl::StatusOr<Args> args = Args::Parse(spec, words);
  if (!args.ok()) {
    result.exit_code = UsageError(spec, args.status().message(), err);
    return result;
  }
  if (args->help()) {
    out << "usage: ironwal " << spec.usage << "\n\n" << spec.help;
    result.exit_code = kExitOk;
    return result;
  }
  result.args = *std::move(args);
  return result;
}

absl::StatusOr<uint64_t> ParseId(absl::string_view what, absl::string_view text) {
  uint64_t id = 0;
  // SimpleAtoi accepts a sign and surrounding spaces; an ID is digits only.
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (!digits || !absl::SimpleAtoi(text, &id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a decimal ID (0 to 18446744073709551615), not '", text, "'"));
  }
  return id;
}

}  // namespace cli
}  // namespace ironwal
