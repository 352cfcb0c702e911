// `ironwal bench`: parses the arguments, makes the temporary directory, runs the device
// probes and the workloads (benchmarks/device_probes.h, benchmarks/workloads.h) with a
// progress bar, and prints the report (ironwal/cli/bench_report.h).
#include "ironwal/cli/bench.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "ironwal/cli/bench_report.h"
#include "ironwal/cli/bench_targets.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/device_probes.h"
#include "benchmarks/op_run.h"
#include "benchmarks/workloads.h"
#include "benchmarks/workloads_scale.h"
#include "benchmarks/workloads_sharded.h"

namespace ironwal {
namespace cli {
namespace {

using bench::BenchConfig;
using bench::Result;

constexpr char kUsage[] =
    "usage: ironwal bench [--quick] [--dir DIR] [--json] [--only LIST] [--scale N] [--stats]\n"
    "                    [--big]\n"
    "\n"
    "Runs the workloads W1-W11, SH1-SH8 and CK of benchmarks/README.md (128-byte entries) and "
    "raw-device\n"
    "probes (plain open/write/pwrite/fdatasync) in a fresh temporary directory under DIR,\n"
    "removed afterwards, and prints each result next to its target with PASS or MISS.\n"
    "\n"
    "  --quick      every count divided by 10 (well under a minute); no W4 thread sweep\n"
    "  --dir DIR    where to make the temporary directory (default: $TMPDIR, else /tmp);\n"
    "               put it on the file system you want to measure\n"
    "  --json       one JSON line per workload and per device probe on stdout, nothing else\n"
    "  --only LIST  run only these, comma-separated: W1..W11 (W6 and W7 run together),\n"
    "               SH (sharded appends, 1-8 shards), CK (checkpoint creation),\n"
    "               device (the probes), sweep (the W4 thread sweep), prealloc (W2 with\n"
    "               WalOptions::preallocate_bytes off and on), reserve (W1 with\n"
    "               WalOptions::allocate_ahead_bytes off and on); for profiling\n"
    "  --scale N    every count divided by N, no sweep and no W9-W11 unless named in --only\n"
    "               (for tests: --scale 1000 runs in about a second; --quick is --scale 10)\n"
    "  --stats      W1 and W2 with statistics on and off, interleaved: the cost of\n"
    "               WalOptions::statistics (part of the full run; --only stats for these)\n"
    "  --big        W9-W11 at their full sizes (10,000 streams, logs up to 10 GiB)\n"
    "  --help       this text\n"
    "\n"
    "Exit status: 0 ran (whether or not targets were met), 1 a workload failed,\n"
    "2 bad usage.\n";

struct BenchArgs {
  bool help = false;
  bool json = false;
  bool big = false;
  bool stats = false;
  uint64_t scale = 1;
  std::string dir;             // empty: $TMPDIR or /tmp
  std::set<std::string> only;  // empty: everything
};

// The names --only accepts.
bool KnownGroup(const std::string& name) {
  static const std::set<std::string>* const kGroups = new std::set<std::string>{
      "W1",  "W2",  "W3", "W4", "W5",     "W6",    "W7",    "W8",       "W9",
      "W10", "W11", "SH", "CK", "device", "sweep", "stats", "prealloc", "reserve"};
  return kGroups->count(name) > 0;
}

absl::StatusOr<BenchArgs> ParseArgs(const std::vector<std::string>& args) {
  BenchArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
    } else if (arg == "--json") {
      parsed.json = true;
    } else if (arg == "--big") {
      parsed.big = true;
    } else if (arg == "--stats") {
      parsed.stats = true;
    } else if (arg == "--quick") {
      parsed.scale = 10;
    } else if ((arg == "--dir" && has_value) || arg.rfind("--dir=", 0) == 0) {
      parsed.dir = arg == "--dir" ? args[++i] : arg.substr(6);
      if (parsed.dir.empty()) return absl::InvalidArgumentError("--dir wants a directory");
    } else if ((arg == "--only" && has_value) || arg.rfind("--only=", 0) == 0) {
      const std::string list = arg == "--only" ? args[++i] : arg.substr(7);
      const std::vector<std::string> names = absl::StrSplit(list, ',', absl::SkipEmpty());
      for (const std::string& name : names) {
        if (!KnownGroup(name)) return absl::InvalidArgumentError("--only: unknown " + name);
        parsed.only.insert(name);
      }
      if (parsed.only.empty()) return absl::InvalidArgumentError("--only wants a list");
    } else if (arg == "--scale" && has_value) {
      if (!absl::SimpleAtoi(args[++i], &parsed.scale) || parsed.scale == 0) {
        return absl::InvalidArgumentError("--scale wants a positive integer, got " + args[i]);
      }
    } else if (arg == "--dir" || arg == "--scale" || arg == "--only") {
      return absl::InvalidArgumentError(arg + " wants a value");
    } else {
      return absl::InvalidArgumentError("unknown argument " + arg);
    }
  }
  return parsed;
}

// A new directory under `base` (or $TMPDIR, or /tmp).
absl::StatusOr<std::string> MakeRunDir(std::string base) {
  if (base.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    base = tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp";
  }
  std::string path = base + "/ironwal-bench-XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", path, ": ", std::strerror(errno)));
  }
  return path;
}

// A one-line progress bar on `err`, redrawn in place; silent unless stderr is a terminal.
class Progress {
 public:
  Progress(std::ostream& err, size_t total) : err_(err), total_(total) {
    enabled_ = isatty(STDERR_FILENO) == 1;
  }
  void Show(size_t done, const std::string& label) {
    if (!enabled_) return;
    constexpr size_t kWidth = 24;
    const size_t filled = total_ == 0 ? kWidth : done * kWidth / total_;
    err_ << "\r\033[K[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
         << done << "/" << total_ << " " << label << std::flush;
  }
  void Clear() {
    if (enabled_) err_ << "\r\033[K" << std::flush;
  }

 private:
  std::ostream& err_;
  size_t total_;
  bool enabled_ = false;
};

// Slices each interleaved run is cut into (benchmarks/op_run.h).
constexpr int kRounds = 10;

using MakeRun = std::function<absl::StatusOr<bench::OpRun>()>;
using RunMany = std::function<absl::StatusOr<std::vector<Result>>()>;

// One of the OpRuns of a step, and the --only group that selects it.
struct Part {
  std::string group;
  MakeRun make;
};

// One step of the run: OpRuns run interleaved (`parts`, in `rounds` rounds, alternating
// their order when `alternate`), or, when there are none, `run`.
struct Step {
  std::string label;
  std::vector<Part> parts;
  std::vector<std::string> groups;  // what --only selects `run` by
  RunMany run;
  int rounds = kRounds;
  bool alternate = false;
};

Step Interleaved(std::string label, std::vector<Part> parts) {
  return {std::move(label), std::move(parts), {}, nullptr};
}

// A comparison of runs too close to tell apart in a few rounds (the cost of statistics):
// many short rounds, the order flipped every round, so the report can take the median of
// the rounds' ratios instead of one ratio of sums that a single disturbed slice skews.
Step Paired(std::string label, std::vector<Part> parts) {
  Step step = Interleaved(std::move(label), std::move(parts));
  step.rounds = 4 * kRounds;
  step.alternate = true;
  return step;
}

Step Alone(std::string label, std::vector<std::string> groups, RunMany run) {
  return {std::move(label), {}, std::move(groups), std::move(run)};
}

absl::StatusOr<std::vector<Result>> RunStep(const Step& step) {
  if (step.parts.empty()) return step.run();
  std::vector<bench::OpRun> runs;
  for (const Part& part : step.parts) {
    absl::StatusOr<bench::OpRun> run = part.make();
    if (!run.ok()) return run.status();
    runs.push_back(std::move(*run));
  }
  return bench::RunInterleaved(std::move(runs), step.rounds, step.alternate);
}

// Each device probe runs interleaved with the workloads it is compared with, and W4 with
// W2, so that the disk's drifting flush latency affects both sides of each ratio alike.
std::vector<Step> PlanSteps(const BenchConfig& c, bool sweep, bool scale_workloads, bool stats) {
  std::vector<Step> steps = {
      Interleaved("W1 async append | 128 B write(2)",
                  {{"device", [c] { return bench::BufferedWrite128Probe(c); }},
                   {"W1", [c] { return bench::W1AsyncAppendRun(c); }},
                   {"reserve", [c] { return bench::W1AllocateAheadRun(c, false); }},
                   {"reserve", [c] { return bench::W1AllocateAheadRun(c, true); }}}),
      Interleaved("W2-W5 strict appends | append, overwrite + fdatasync",
                  {{"device", [c] { return bench::Append128FdatasyncProbe(c); }},
                   {"device", [c] { return bench::Overwrite4kFdatasyncProbe(c); }},
                   {"device", [c] { return bench::Overwrite4kZeroedFdatasyncProbe(c); }},
                   {"device", [c] { return bench::Overwrite128ZeroedFdatasyncProbe(c); }},
                   {"W2", [c] { return bench::W2StrictAppendRun(c); }},
                   {"prealloc", [c] { return bench::W2PreallocateRun(c, 0); }},
                   {"prealloc", [c] { return bench::W2PreallocateRun(c, 1 << 20); }},
                   {"device", [c] { return bench::Append16kFdatasyncProbe(c); }},
                   {"device", [c] { return bench::AppendW3FrameFdatasyncProbe(c); }},
                   {"W3", [c] { return bench::W3StrictBatchRun(c); }},
                   {"device", [c] { return bench::ParallelAppend128FdatasyncProbe(c); }},
                   {"W4", [c] { return bench::StrictWritersRun(c, "W4", 4, true); }},
                   {"W5", [c] { return bench::StrictWritersRun(c, "W5", 4, false); }},
                   {"SH", [c] { return bench::ShardedWritersRun(c, 1); }},
                   {"SH", [c] { return bench::ShardedWritersRun(c, 2); }},
                   {"SH", [c] { return bench::ShardedWritersRun(c, 4); }},
                   {"SH", [c] { return bench::ShardedWritersRun(c, 8); }},
                   {"CK", [c] { return bench::CheckpointRun(c); }}}),
      Alone("W6/W7 get and scan", {"W6", "W7"}, [c] { return bench::RunW6W7Reads(c); }),
      Alone("W8 reopen", {"W8"}, [c] { return bench::RunW8Reopen(c); }),
  };
  if (scale_workloads) {
    steps.push_back(Alone("W9 many streams", {"W9"}, [c] { return bench::RunW9ManyStreams(c); }));
    steps.push_back(Alone("W10 big log", {"W10"}, [c] { return bench::RunW10BigLog(c); }));
    steps.push_back(Alone("W11 mixed", {"W11"}, [c] { return bench::RunW11Mixed(c); }));
  }
  if (stats) {
    std::vector<Part> parts;
    // Opened in the order off a, on a, on b, off b, off c, ... (benchmarks/workloads.h
    // says why).
    const std::pair<bool, char> kOrder[] = {{false, 'a'}, {true, 'a'}, {true, 'b'}, {false, 'b'},
                                            {false, 'c'}, {true, 'c'}, {true, 'd'}, {false, 'd'}};
    for (bool w2 : {false, true}) {
      for (const auto& [on, instance] : kOrder) {
        parts.push_back({"stats", [c, w2, on = on, instance = instance] {
                           return bench::StatsCostRun(c, w2, on, instance);
                         }});
      }
    }
    steps.push_back(Paired("W1/W2 statistics on/off", std::move(parts)));
  }
  if (sweep) {
    std::vector<Part> points;
    for (int threads : {1, 2, 4, 8, 16}) {
      points.push_back({"sweep", [c, threads] {
                          return bench::StrictWritersRun(c, "W4-sweep", threads, true);
                        }});
    }
    steps.push_back(Interleaved("W4 sweep, 1-16 threads", std::move(points)));
  }
  return steps;
}

// The steps --only selects (all of them when it is empty): of an interleaved step, only
// the selected parts.
std::vector<Step> Select(std::vector<Step> steps, const std::set<std::string>& only) {
  if (only.empty()) return steps;
  std::vector<Step> selected;
  for (Step& step : steps) {
    if (step.parts.empty()) {
      for (const std::string& group : step.groups) {
        if (only.count(group) > 0) {
          selected.push_back(std::move(step));
          break;
        }
      }
      continue;
    }
    std::vector<Part> parts;
    for (Part& part : step.parts) {
      if (only.count(part.group) > 0) parts.push_back(std::move(part));
    }
    if (parts.empty()) continue;
    step.parts = std::move(parts);
    selected.push_back(std::move(step));
  }
  return selected;
}

// Runs `steps` in order; stops at the first failure and returns it.
absl::Status RunSteps(const std::vector<Step>& steps, std::ostream& err,
                      std::vector<Result>* results) {
  Progress progress(err, steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    progress.Show(i, steps[i].label);
    absl::StatusOr<std::vector<Result>> step = RunStep(steps[i]);
    if (!step.ok()) {
      progress.Clear();
      return absl::Status(step.status().code(),
                          steps[i].label + ": " + std::string(step.status().message()));
    }
    results->insert(results->end(), step->begin(), step->end());
  }
  progress.Clear();
  return absl::OkStatus();
}

}  // namespace

int RunBench(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  absl::StatusOr<BenchArgs> parsed = ParseArgs(args);
  if (!parsed.ok()) {
    err << "ironwal bench: " << parsed.status().message() << "\n\n" << kUsage;
    return 2;
  }
  if (parsed->help) {
    out << kUsage;
    return 0;
  }
  absl::StatusOr<std::string> dir = MakeRunDir(parsed->dir);
  if (!dir.ok()) {
    err << "ironwal bench: " << dir.status().message() << "\n";
    return 1;
  }
  BenchConfig config;
  config.dir = *dir;
  config.scale = parsed->scale;
  config.big = parsed->big;
  RunInfo info;
  info.dir = *dir;
  info.scale = parsed->scale;
  info.clock_overhead_ns = bench::ClockOverheadNanos();

  std::vector<Result> results;
  // The sweep is part of the full run only, unless asked for by name.
  const bool sweep = parsed->scale == 1 || parsed->only.count("sweep") > 0;
  // So are the scale workloads (minutes at full counts).
  const bool scale_workloads = parsed->scale == 1 || parsed->only.count("W9") > 0 ||
                               parsed->only.count("W10") > 0 || parsed->only.count("W11") > 0;
  // And the statistics cost.
  const bool stats = parsed->scale == 1 || parsed->stats || parsed->only.count("stats") > 0;
  const absl::Status status = RunSteps(
      Select(PlanSteps(config, sweep, scale_workloads, stats), parsed->only), err, &results);
  std::error_code ignored;
  std::filesystem::remove_all(*dir, ignored);

  const std::vector<TargetCheck> checks = EvaluateTargets(results);
  if (parsed->json) {
    PrintJsonLines(results, checks, info, out);
  } else {
    PrintTables(results, checks, info, out);
  }
  if (!status.ok()) {
    err << "ironwal bench: failed: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace cli
}  // namespace ironwal
