// File: benchmarks/bench_result.h
//
// What one workload (W1-W8 of benchmarks/README.md) or one raw-device probe measured, and
// the small helpers every measurement shares: the clock, percentiles of per-operation
// latencies, the process's peak memory, and the scaled counts of a run.
//
// Timing uses std::chrono::steady_clock. This is benchmark code: the library and its tests
// never read the wall clock (they use Env::NowMicros), benchmarks are the exception.
//
//   BenchConfig config{"/tmp/ironwal-bench-x1y2z3", /*scale=*/10};
//   std::vector<double> micros;                 // one entry per operation
//   ... micros.push_back(MicrosBetween(start, Clock::now()));
//   Percentiles p = ComputePercentiles(micros);
//
// Thread-safety: free functions are thread-safe; the structs are plain values.
#ifndef IRONWAL_BENCHMARKS_BENCH_RESULT_H_
#define IRONWAL_BENCHMARKS_BENCH_RESULT_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

#include "ironwal/wal/types.h"

namespace ironwal {
namespace bench {

using Clock = std::chrono::steady_clock;

// Every workload's entries are this many bytes (benchmarks/README.md).
inline constexpr size_t kPayloadSize = 128;

// The fixed seed of every random choice a run makes (payload bytes, W6's IDs).
inline constexpr uint64_t kSeed = 0x1c0ffee;

struct BenchConfig {
  // An existing, empty scratch directory on the file system under test. Each workload
  // works in a subdirectory of its own and removes it when done.
  std::string dir;
  // Every count of benchmarks/README.md is divided by this (never below 1): 1 for the real
  // run, 10 for --quick, larger in tests. Batch sizes, payload sizes and thread counts
  // never change.
  uint64_t scale = 1;
  // The full sizes of the scale workloads W9-W11 (workloads_scale.h): 10,000 streams, logs
  // of up to 10 GiB. Default: the small curve.
  bool big = false;

  uint64_t Scaled(uint64_t count) const { return std::max<uint64_t>(1, count / scale); }
};

// A fresh subdirectory of BenchConfig::dir for one workload or probe, removed with
// everything in it when this object is destroyed.
class ScratchDir {
 public:
  // Creates `config.dir`/`name`. Internal (naming the path and errno) when mkdir fails,
  // including when it already exists.
  static absl::StatusOr<ScratchDir> Create(const BenchConfig& config, const std::string& name);

  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  const std::string& path() const { return path_; }
  // `path()`/`name`.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// One line of the results: a workload ("W2"), a sweep point ("W4-sweep") or a device
// probe ("append_128_fdatasync"). Fields left empty were not measured.
struct Result {
  std::string name;
  bool is_probe = false;
  std::string strategy;  // "mmap" or "pread" for reads; empty otherwise
  int threads = 0;       // writer threads, when more than one can be asked for
  std::string variant;   // the point of a curve (W9-W11): "async n=1000", "cold 256MiB"

  uint64_t ops = 0;    // timed operations: appends, batches, gets, scanned records, opens
  double seconds = 0;  // wall time of the timed section
  double ops_per_s = 0;
  std::optional<uint64_t> records;  // entries behind the ops (W3: ops x 100; W8: history)
  std::optional<double> records_per_s;
  std::optional<double> p50_us;
  std::optional<double> p99_us;
  std::optional<double> mb_per_s;  // payload bytes (10^6) per second
  std::optional<double> ms;        // W8: the median Open, in milliseconds
  std::optional<uint64_t> peak_rss_kb;
  // What the Wal held at the end of the timed section (Wal::ApproximateMemoryUsage).
  std::optional<MemoryUsage> memory;
  // An interleaved run's rate in each round (benchmarks/op_run.h), in round order.
  std::vector<double> slice_ops_per_s;
};

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
};

// Nearest-rank percentiles of `micros` (taken by value: it is sorted). Zeros when empty.
Percentiles ComputePercentiles(std::vector<double> micros);

inline double MicrosBetween(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::micro>(end - start).count();
}

inline double SecondsBetween(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

// Sets ops, seconds, ops_per_s, p50_us and p99_us from per-operation latencies and the
// wall time they took together. `micros` is taken by value and sorted in place: move a
// large one in (W9 at 10,000 streams times 10 million appends: each copy is 80 MB, which
// the runs' peak RSS would count).
void SetLatencyFields(std::vector<double> micros, double seconds, Result* result);

// The process's peak resident set (VmHWM of /proc/self/status) in KiB; nullopt where
// /proc is unavailable.
std::optional<uint64_t> PeakRssKb();

// Resets the peak resident set to the current one (writes "5" to /proc/self/clear_refs),
// so the next PeakRssKb() measures what follows; with glibc, first returns the
// allocator's free pages to the system (malloc_trim), so that memory an earlier phase
// freed does not count. False where the kernel does not allow it.
bool ResetPeakRss();

// `kPayloadSize` random bytes from a fixed seed: the entry every workload appends.
std::string MakePayload();

}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_BENCH_RESULT_H_
