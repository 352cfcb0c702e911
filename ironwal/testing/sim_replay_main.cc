// sim_replay: replays a SimEnv trace file (recorded with SimEnvOptions::trace_for_replay
// and written by SaveTrace) against a fresh SimEnv and prints the first difference.
//
//   tools/bazel run //ironwal/testing:sim_replay -- TRACE [--block_size=N] [--capacity=N]
//       [--fsync_failure_keeps_dirty]
//
// The options must be those of the recorded run (defaults: SimEnvOptions'). Exit status:
// 0 identical, 1 a difference (printed), 2 the trace could not be read or replayed.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/env/sim_trace.h"

namespace {

// Reads "--name=N" into `value`; false when `arg` is not that flag or N is not a number.
bool NumberFlag(absl::string_view arg, absl::string_view name, uint64_t* value) {
  return absl::ConsumePrefix(&arg, name) && absl::ConsumePrefix(&arg, "=") &&
         absl::SimpleAtoi(arg, value);
}

int Usage() {
  std::cerr << "usage: sim_replay TRACE [--block_size=N] [--capacity=N] "
               "[--fsync_failure_keeps_dirty]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ironwal::SimEnvOptions options;
  options.trace_for_replay = true;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    uint64_t n = 0;
    if (NumberFlag(arg, "--block_size", &n)) {
      options.block_size = static_cast<uint32_t>(n);
    } else if (NumberFlag(arg, "--capacity", &n)) {
      options.capacity_bytes = n;
    } else if (arg == "--fsync_failure_keeps_dirty") {
      options.fsync_failure_keeps_dirty = true;
    } else if (path.empty() && !absl::StartsWith(arg, "--")) {
      path = std::string(arg);
    } else {
      return Usage();
    }
  }
  if (path.empty()) return Usage();
  absl::StatusOr<std::vector<ironwal::TraceRecord>> trace =
      ironwal::LoadTrace(ironwal::Env::Default(), path);
  if (!trace.ok()) {
    std::cerr << "sim_replay: " << trace.status() << "\n";
    return 2;
  }
  ironwal::SimEnv fresh(options);
  absl::StatusOr<ironwal::ReplayReport> report = ironwal::ReplayTrace(*trace, &fresh);
  if (!report.ok()) {
    std::cerr << "sim_replay: " << report.status() << "\n";
    return 2;
  }
  if (!report->identical) {
    std::cout << report->difference;
    return 1;
  }
  std::cout << "replayed " << report->replayed << " records of " << path << ": identical\n";
  return 0;
}
