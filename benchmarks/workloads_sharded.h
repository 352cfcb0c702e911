// File: benchmarks/workloads_sharded.h
//
// The ShardedWal workloads of benchmarks/README.md, beside W5 (4 writers, a stream each):
//   SH1, SH2, SH4, SH8  kStrict ShardedWal with 1, 2, 4, 8 shards; 4 threads x 500
//                       (scaled) Append()s, each thread cycling over 64 keys of its own:
//                       every call timed; throughput = all appends / wall time.
//   CK                  CreateCheckpoint latency on a kStrict ShardedWal with 4 shards
//                       (one untimed append per shard first), 200 (scaled) checkpoints
//                       from one thread: every call timed.
// Same conventions as workloads.h (real directory, 128-byte entries, untimed setup).
#ifndef IRONWAL_BENCHMARKS_WORKLOADS_SHARDED_H_
#define IRONWAL_BENCHMARKS_WORKLOADS_SHARDED_H_

#include "absl/status/statusor.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/op_run.h"

namespace ironwal {
namespace bench {

// SH<shards>.
absl::StatusOr<OpRun> ShardedWritersRun(const BenchConfig& config, int shards);

// CK.
absl::StatusOr<OpRun> CheckpointRun(const BenchConfig& config);

}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_WORKLOADS_SHARDED_H_
