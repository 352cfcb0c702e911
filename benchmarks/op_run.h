// File: benchmarks/op_run.h
//
// OpRun: a measurement made of N identical operations (an Append, a batch, a write +
// fdatasync), and RunInterleaved, which runs several of them in slices, round-robin, so
// that a workload and the device probe it is compared with see the same disk. On these
// machines the flush latency drifts by 2x within a minute; measured one after the other,
// a workload and its probe can disagree by more than any target's margin.
//
//   std::vector<OpRun> runs;
//   runs.push_back(std::move(*probe));      // e.g. Append128FdatasyncRun(config)
//   runs.push_back(std::move(*w2));         // e.g. W2StrictAppendRun(config)
//   IRONWAL_ASSIGN_OR_RETURN(std::vector<Result> results, RunInterleaved(std::move(runs), 10));
//
// With `rounds` = R, each run's operations are cut into R slices; round r runs slice r of
// every run in order. A run's throughput is its operations over the sum of its slices'
// wall times; its latencies are every operation's, so its percentiles cover the whole run.
// Setting up (files, Wal, stream creation) happens when the OpRun is made, untimed.
//
// Thread-safety: `op` is called from `threads` threads at once when threads > 1 (each
// with its own thread index); otherwise from one thread.
#ifndef IRONWAL_BENCHMARKS_OP_RUN_H_
#define IRONWAL_BENCHMARKS_OP_RUN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace bench {

struct OpRun {
  // Name, is_probe and threads are copied into the result; the rest is measured.
  Result result;
  // Operations in the whole run, over all threads (a multiple of `threads`).
  uint64_t total_ops = 0;
  int threads = 1;
  // One operation, by thread `thread` (0 .. threads - 1).
  std::function<absl::Status(int thread)> op;
  // Time each operation (for percentiles). Off for throughput-only runs whose operations
  // are so short that two clock reads would distort them (W1).
  bool time_each_op = true;
  // When set, result.records = ops x this, with records_per_s (W3's batches of 100).
  uint64_t records_per_op = 0;
  // Whatever `op` works on (scratch directory, Wal, files): released after the last slice,
  // before the results are returned.
  std::shared_ptr<void> resources;
  // Called once after the last slice, before `resources` go (e.g. reads peak memory).
  std::function<void(Result*)> finish;
};

// Runs `runs` interleaved in `rounds` rounds (fewer when a run has fewer operations per
// thread). With `alternate`, odd rounds run the slices in reverse order, so that neither
// of two runs always goes first (on a warm or cold cache, after the other's writeback).
// Returns one Result per run, in order, each with its slices' rates (slice_ops_per_s).
// The first failing operation's status, prefixed with its run's name.
absl::StatusOr<std::vector<Result>> RunInterleaved(std::vector<OpRun> runs, int rounds,
                                                   bool alternate = false);

}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_OP_RUN_H_
