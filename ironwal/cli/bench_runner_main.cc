// bench_runner: `ironwal bench` without the rest of the CLI.
//
//   tools/bazel run -c opt //ironwal/cli:bench_runner -- --quick
#include <iostream>
#include <string>
#include <vector>

#include "ironwal/cli/bench.h"
#include "ironwal/cli/finish_output.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return ironwal::cli::FinishOutput(ironwal::cli::RunBench(args, std::cout, std::cerr));
}
