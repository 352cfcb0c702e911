// `ironwal checkpoints` and `ironwal route`, and the sharded checks of verify and ls.
#include "ironwal/cli/sharded_commands.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/cli/args.h"
#include "ironwal/cli/commands.h"
#include "ironwal/env/env.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/sharded/checkpoint_log.h"
#include "ironwal/sharded/router.h"
#include "ironwal/sharded/shards_file.h"
#include "ironwal/status_macros.h"

namespace ironwal {
namespace cli {
namespace {

using sharded::CheckpointLog;
using sharded::IndexedCheckpoint;

const CommandSpec kCheckpointsSpec = {
    "checkpoints",
    "checkpoints ROOT [--format text|jsonl]",
    "Lists the checkpoints of the ShardedWal at ROOT (checkpoints.log), in timestamp order\n"
    "as ironwal 0.6 lists them, one line each:\n"
    "  text   user_id (C-escaped)<TAB>timestamp_ns<TAB>shard_count<TAB>offsets,...<TAB>latest|-\n"
    "  jsonl  {\"user_id_b64\":\"...\",\"timestamp_ns\":N,\"shard_count\":S,\"offsets\":[...],\n"
    "         \"latest\":true|false} and nothing else\n"
    "`latest` marks the checkpoint LoadLatestCheckpoint returns. Read-only: a torn tail of\n"
    "the log is reported (exit code 1), not cut.\n",
    {"--format"},
    {},
    1,
    1};

const CommandSpec kRouteSpec = {
    "route",
    "route --shards N (KEY | --key-b64 B64)...",
    "Prints the shard each key routes to among N shards, one line per key, in order:\n"
    "  shard<TAB>shard stream name<TAB>key (C-escaped)\n"
    "The routing is ironwal 0.6's: SipHash-1-3 (keys 0) over the key's length (u64 LE) and\n"
    "bytes, modulo N. --key-b64 gives a key in base64 (for bytes a shell cannot pass).\n",
    {"--shards", "--key-b64"},
    {},
    0,
    0};

std::string JsonLine(const IndexedCheckpoint& c, bool latest) {
  return absl::StrCat("{\"user_id_b64\":\"", absl::Base64Escape(c.user_id),
                      "\",\"timestamp_ns\":", c.data.timestamp_ns,
                      ",\"shard_count\":", c.data.shard_count, ",\"offsets\":[",
                      absl::StrJoin(c.data.offsets, ","),
                      "],\"latest\":", latest ? "true" : "false", "}");
}

std::string TextLine(const IndexedCheckpoint& c, bool latest) {
  return absl::StrCat(absl::CEscape(c.user_id), "\t", c.data.timestamp_ns, "\t", c.data.shard_count,
                      "\t", absl::StrJoin(c.data.offsets, ","), "\t", latest ? "latest" : "-");
}

// The shard count and keys of a `route` command line.
struct RouteArgs {
  uint32_t shards = 0;
  std::vector<std::string> keys;
};

absl::StatusOr<RouteArgs> ParseRoute(const std::vector<std::string>& args) {
  RouteArgs route;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--shards" || a == "--key-b64") {
      if (i + 1 == args.size()) return absl::InvalidArgumentError(a + " needs a value");
      const std::string& v = args[++i];
      if (a == "--shards") {
        if (!absl::SimpleAtoi(v, &route.shards) || route.shards == 0 ||
            route.shards > sharded::kMaxShards) {
          return absl::InvalidArgumentError("--shards must be 1..65535, got '" + v + "'");
        }
      } else {
        std::string key;
        if (!absl::Base64Unescape(v, &key)) {
          return absl::InvalidArgumentError("--key-b64: not base64: '" + v + "'");
        }
        route.keys.push_back(std::move(key));
      }
    } else if (a.size() > 2 && a.substr(0, 2) == "--") {
      return absl::InvalidArgumentError("unknown flag " + a);
    } else {
      route.keys.push_back(a);
    }
  }
  if (route.shards == 0) return absl::InvalidArgumentError("--shards is required");
  if (route.keys.empty()) return absl::InvalidArgumentError("no key given");
  return route;
}

}  // namespace

int RunCheckpoints(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  ParsedArgs parsed = ParseCommandLine(kCheckpointsSpec, words, out, err);
  if (!parsed.ok()) return parsed.exit_code;
  const std::string format = parsed.args->Value("--format").value_or("text");
  if (format != "text" && format != "jsonl") {
    return UsageError(kCheckpointsSpec, "--format must be text or jsonl", err);
  }
  absl::StatusOr<std::string> root = AbsolutePath(parsed.args->positional()[0]);
  if (!root.ok()) return Failure("checkpoints", root.status(), err);
  absl::StatusOr<std::unique_ptr<CheckpointLog>> log =
      CheckpointLog::Open(Env::Default(), *root, /*read_only=*/true);
  if (!log.ok()) return Failure("checkpoints", log.status(), err);
  absl::StatusOr<IndexedCheckpoint> latest = (*log)->LoadLatest();
  for (const IndexedCheckpoint& c : (*log)->List()) {
    const bool is_latest = latest.ok() && latest->file_offset == c.file_offset;
    out << (format == "jsonl" ? JsonLine(c, is_latest) : TextLine(c, is_latest)) << "\n";
  }
  const sharded::CheckpointLogReport& report = (*log)->report();
  if (report.torn_tail_bytes > 0) {
    err << "ironwal checkpoints: " << JoinPath(*root, sharded::kCheckpointLogName)
        << ": torn tail of " << report.torn_tail_bytes << " bytes (" << report.torn_tail_reason
        << "); opening the ShardedWal cuts it\n";
    return kExitFinding;
  }
  return kExitOk;
}

int RunRoute(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  for (const std::string& w : words) {
    if (w == "--help" || w == "-h") {
      out << "usage: ironwal " << kRouteSpec.usage << "\n\n" << kRouteSpec.help;
      return kExitOk;
    }
  }
  absl::StatusOr<RouteArgs> route = ParseRoute(words);
  if (!route.ok()) return UsageError(kRouteSpec, route.status().message(), err);
  for (const std::string& key : route->keys) {
    const uint32_t shard = sharded::RouteKey(key, route->shards);
    out << shard << "\t" << sharded::ShardName(shard) << "\t" << absl::CEscape(key) << "\n";
  }
  return kExitOk;
}

}  // namespace cli
}  // namespace ironwal
