// File: benchmarks/workloads_scale.h
//
// The scale workloads W9-W11 of benchmarks/README.md (issue 17): how the costs grow with
// the number of streams, with the size of the log, and under a mixed load. Each prints a
// curve: one Result per point, named "W9", "W10" or "W11", with the point in `variant`.
// Like W1-W8 they run through Env::Default() (PosixEnv) in a fresh subdirectory of
// BenchConfig::dir, 128-byte entries, and every count is divided by BenchConfig::scale
// (stream counts and log sizes too, never below 1 stream or 1 MiB). BenchConfig::big
// selects the full sizes.
//
//   W9  many streams: N = 1, 100, 1,000 (+10,000 with big) streams; 4 threads append
//       round-robin over their share of the streams (thread t takes streams t, t+4, ...;
//       with fewer than 4 streams all four share stream 0), 25,000 kAsync appends each,
//       then 250 kStrict appends each, every Append timed. The
//       streams are created untimed first. Per N: Wal::Open of the N streams (ms) and the
//       peak resident set over the point. max_open_segments is the default (128, divided
//       by the scale), so N > 128 evicts a writer on most appends.
//   W10 big log: one stream of single-entry frames, 16, 64, 256 MiB in 4 MiB segments
//       (big: 100 MiB, 1 GiB, 10 GiB in 64 MiB segments), max_open_read_segments 8, so
//       most random Gets miss the reader cache. Per size: Wal::Open (ms), then random Gets
//       warm (page cache hot; the first touch of each segment included) and cold (every
//       file's cached pages dropped with posix_fadvise(DONTNEED) before each Get, untimed):
//       300 cold Gets, then 5,000 warm ones, uniform IDs from fixed seeds. Open is timed
//       cold (caches dropped first).
//   W11 mixed: a stream of 200,000 entries; then one kStrict writer appends 2,000 more
//       while 4 readers Get uniform random IDs below the next ID (at least 100 each, however
//       the threads are scheduled) and one iterator tails the
//       stream from ID 0. Writer p50/p99 (W11 writer), readers' p50/p99 (W11 readers), the
//       tailer's entries/s (W11 tail).
//
// Thread-safety: run one at a time.
#ifndef IRONWAL_BENCHMARKS_WORKLOADS_SCALE_H_
#define IRONWAL_BENCHMARKS_WORKLOADS_SCALE_H_

#include <vector>

#include "absl/status/statusor.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace bench {

absl::StatusOr<std::vector<Result>> RunW9ManyStreams(const BenchConfig& config);
absl::StatusOr<std::vector<Result>> RunW10BigLog(const BenchConfig& config);
absl::StatusOr<std::vector<Result>> RunW11Mixed(const BenchConfig& config);

}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_WORKLOADS_SCALE_H_
