// File: benchmarks/device_probes.h
//
// Raw-device probes: what the file system and disk under BenchConfig::dir can do with
// plain POSIX calls (open, write, pwrite, fdatasync), measured in the same run as the
// workloads, interleaved with them (benchmarks/op_run.h), so that each workload can be
// reported as a ratio to its device limit (the device limit of benchmarks/README.md
// column). Counts follow the doc's peer table and are divided by BenchConfig::scale.
//
//   write_128                 200,000 buffered write(2)s of 128 B       (W1's limit)
//   append_128_fdatasync      2,000 x (write 128 B at the end + fdatasync)  (W2)
//   overwrite_4k_fdatasync    2,000 x (pwrite 4 KiB over written, synced blocks + fdatasync)
//   overwrite_4k_zeroed_fdatasync  the same over a file written with zero bytes first
//   overwrite_128_zeroed_fdatasync 2,000 x (pwrite 128 B, one after the other, into a
//                             zero-filled, synced file + fdatasync): what W2 does with
//                             StreamOptions/WalOptions::preallocate_bytes (its limit)
//   append_16k_fdatasync      2,000 x (write 16 KiB at the end + fdatasync)  (W3)
//   append_13232_fdatasync    2,000 x (write 13,232 B at the end + fdatasync): W3's own
//                             bytes (a frame of 100 entries of 128 B), not block-aligned,
//                             as W3's frames are: what bounds W3 on this device
//   4x_append_128_fdatasync   4 threads x 500 x append_128_fdatasync, own files (W4, W5)
//
// Each probe writes its own files in a fresh subdirectory of BenchConfig::dir, made when
// the OpRun is made and removed with it. Errors are Internal naming the call, the path and
// errno.
//
// Thread-safety: run probes with RunInterleaved, never concurrently with other runs (they
// would measure each other).
#ifndef IRONWAL_BENCHMARKS_DEVICE_PROBES_H_
#define IRONWAL_BENCHMARKS_DEVICE_PROBES_H_

#include "absl/status/statusor.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/op_run.h"

namespace ironwal {
namespace bench {

absl::StatusOr<OpRun> BufferedWrite128Probe(const BenchConfig& config);
absl::StatusOr<OpRun> Append128FdatasyncProbe(const BenchConfig& config);
absl::StatusOr<OpRun> Overwrite4kFdatasyncProbe(const BenchConfig& config);
absl::StatusOr<OpRun> Overwrite4kZeroedFdatasyncProbe(const BenchConfig& config);
absl::StatusOr<OpRun> Overwrite128ZeroedFdatasyncProbe(const BenchConfig& config);
absl::StatusOr<OpRun> Append16kFdatasyncProbe(const BenchConfig& config);
absl::StatusOr<OpRun> AppendW3FrameFdatasyncProbe(const BenchConfig& config);
absl::StatusOr<OpRun> ParallelAppend128FdatasyncProbe(const BenchConfig& config);

// W3's frame: a 32-byte header and 100 entries of a 4-byte length and 128 bytes.
inline constexpr size_t kW3FrameSize = 32 + 100 * (4 + 128);

}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_DEVICE_PROBES_H_
