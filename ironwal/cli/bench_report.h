// File: ironwal/cli/bench_report.h
//
// How `ironwal bench` prints its results: human-readable tables (device probes, workloads
// with their ratio to the relevant device probe, targets with pass/miss), or one JSON line
// per workload and per device probe for scripts:
//
//   {"workload":"W2","ops":2000,"ops_per_s":5120.4,"p50_us":181.2,"p99_us":290.0,...}
//   {"probe":"append_128_fdatasync","ops":2000,"ops_per_s":5550.1,"p50_us":175.0,...}
//
// Fields that were not measured are left out; "target_met" is present when a target of
// benchmarks/README.md applies to the line, and true only when every check on it passed.
#ifndef IRONWAL_CLI_BENCH_REPORT_H_
#define IRONWAL_CLI_BENCH_REPORT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ironwal/cli/bench_targets.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace cli {

struct RunInfo {
  std::string dir;               // the temporary directory the run used
  uint64_t scale = 1;            // counts divided by this
  double clock_overhead_ns = 0;  // one steady_clock::now() pair, included in latencies
};

// One JSON object per line for every result, in the order given.
void PrintJsonLines(const std::vector<bench::Result>& results,
                    const std::vector<TargetCheck>& checks, const RunInfo& info, std::ostream& out);

// The tables.
void PrintTables(const std::vector<bench::Result>& results, const std::vector<TargetCheck>& checks,
                 const RunInfo& info, std::ostream& out);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_BENCH_REPORT_H_
