// File: benchmarks/workloads.h
//
// The workloads W1-W8 of benchmarks/README.md, run against a real directory through
// Env::Default() (PosixEnv). Every entry is kPayloadSize (128) bytes; every count is the
// doc's divided by BenchConfig::scale. Each workload opens its own Wal in a fresh
// subdirectory of BenchConfig::dir and removes it when done.
//
// What is timed (std::chrono::steady_clock; per-operation latencies into a vector,
// percentiles from it):
//   W1  kAsync, 1 thread, 1 stream, 200,000 Append()s: the loop only (no Flush/Close).
//   W2  kStrict, 2,000 Append()s, each durable when it returns: every call.
//   W3  kStrict, 2,000 AppendBatch()es of 100 entries: every batch.
//   W4  kStrict, 4 threads x 500 Append()s to one stream, started together: every call;
//       throughput = all appends / (release of the threads .. last thread done).
//   W5  as W4 with one stream per thread.
//   W1-W5 are OpRuns: `ironwal bench` runs each in 10 slices interleaved with the device
//   probes it is compared with, and W2-W5 with each other (benchmarks/op_run.h);
//   throughput is over the sum of the slices' wall times, percentiles over every operation.
//   W6  random Get() of uniform IDs (fixed seed) over 200,000 single-entry frames, warm
//       (page cache hot, a full untimed scan first); with kMmap and with kPread. Stops
//       early after a time budget if the library is very slow; ops says how many ran.
//   W7  one Iterator from ID 0 over the same 200,000 entries, warm, both strategies:
//       NewIterator through the last Next().
//   W8  Wal::Open of a WAL holding 1,000,000 single-entry frames, warm (one untimed
//       open first), both strategies: the median of 5 timed opens; Close is not timed.
// Stream creation (the first append: mkdir, stream.key, directory syncs) is done by one
// untimed append when a write workload's OpRun is made: W1-W5 measure steady state.
//
// Errors: the first failing library call's status, prefixed with the workload's name.
//
// Thread-safety: run one workload at a time (they would measure each other).
#ifndef IRONWAL_BENCHMARKS_WORKLOADS_H_
#define IRONWAL_BENCHMARKS_WORKLOADS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/op_run.h"

namespace ironwal {
namespace bench {

// W1-W5 are OpRuns (benchmarks/op_run.h), so they can run interleaved with the device
// probes they are compared with. Making one sets it up (Wal, stream creation), untimed.

// W1: throughput only (two clock reads per append would distort it). Its result also has
// peak_rss_kb: the peak resident set from the run's creation to its end.
absl::StatusOr<OpRun> W1AsyncAppendRun(const BenchConfig& config);
// W1 with WalOptions::allocate_ahead_bytes at its default ("on") or 0 ("off"), named
// "W1-reserve": run the two interleaved, for the reservation's effect within one run.
absl::StatusOr<OpRun> W1AllocateAheadRun(const BenchConfig& config, bool on);

// W2.
absl::StatusOr<OpRun> W2StrictAppendRun(const BenchConfig& config);

// W2 with WalOptions::preallocate_bytes set (variant "on") or 0 ("off"), named
// "W2-prealloc": run the two interleaved, next to the overwrite_128_zeroed probe.
absl::StatusOr<OpRun> W2PreallocateRun(const BenchConfig& config, uint64_t preallocate_bytes);

// W1 (`w2` false) or W2 with WalOptions::statistics on or off, a quarter of the appends:
// the results are named "W1-stats" / "W2-stats", variant "on a" / "off a" (`instance`
// 'a'), "on b", ... Run four WALs a side interleaved, opened in the order off a, on a, on b,
// off b, off c, on c, on d, off d: two WALs with the same options in one process ran W1 at
// rates up to 3% apart, steadily for the whole run (an effect of where each one's memory
// lies, we suppose), so with one WAL a side the comparison measured that as much as
// statistics.
absl::StatusOr<OpRun> StatsCostRun(const BenchConfig& config, bool w2, bool statistics,
                                   char instance);

// W3: ops are batches (ops_per_s batches/s), records and records_per_s the entries.
absl::StatusOr<OpRun> W3StrictBatchRun(const BenchConfig& config);

// kStrict, `threads` threads x 500 (scaled) Append()s each; to one shared stream
// (`shared_stream`, W4) or to a stream per thread (W5). The result is named `name`.
absl::StatusOr<OpRun> StrictWritersRun(const BenchConfig& config, const std::string& name,
                                       int threads, bool shared_stream);

// W6 and W7, each with kMmap and kPread (four results, in that order: W6 mmap, W6 pread,
// W7 mmap, W7 pread), on one populated WAL.
absl::StatusOr<std::vector<Result>> RunW6W7Reads(const BenchConfig& config);

// W8 with kPread (the default) and kMmap. Sets ms (median open), records (the history)
// and peak_rss_kb (the peak resident set across the timed opens).
absl::StatusOr<std::vector<Result>> RunW8Reopen(const BenchConfig& config);

// The cost of one Clock::now() pair around an empty operation, in nanoseconds: included in
// every per-operation latency.
double ClockOverheadNanos();

}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_WORKLOADS_H_
