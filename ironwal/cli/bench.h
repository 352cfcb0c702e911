// File: ironwal/cli/bench.h
//
// `ironwal bench`: the workload runner (W1-W8 of benchmarks/README.md, plus raw-device
// probes), as a function the command-line tool's dispatcher calls.
#ifndef IRONWAL_CLI_BENCH_H_
#define IRONWAL_CLI_BENCH_H_

#include <ostream>
#include <string>
#include <vector>

namespace ironwal {
namespace cli {

// Runs `ironwal bench [--quick] [--dir DIR] [--json] [--only W1,W6,...] [--scale N]`. `args` are
// the words after "bench". Returns the process exit code: 0 on success, 2 on bad usage (with a
// message on `err`), 1 when a workload failed.
int RunBench(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_BENCH_H_
