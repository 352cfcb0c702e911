#include "benchmarks/bench_result.h"

#include <sys/stat.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "ironwal/util/random.h"

namespace ironwal {
namespace bench {

using ::ironwal::internal::Random;

namespace {

// The value at nearest rank ceil(p * n) of sorted `v` (1-based), for 0 < p <= 1.
double NearestRank(const std::vector<double>& v, double p) {
  const double rank = std::ceil(p * static_cast<double>(v.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return v[std::min(index, v.size() - 1)];
}

}  // namespace

absl::StatusOr<ScratchDir> ScratchDir::Create(const BenchConfig& config, const std::string& name) {
  std::string path = config.dir + "/" + name;
  if (mkdir(path.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", path, ": ", std::strerror(errno)));
  }
  return ScratchDir(std::move(path));
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Percentiles ComputePercentiles(std::vector<double> micros) {
  Percentiles p;
  if (micros.empty()) return p;
  std::sort(micros.begin(), micros.end());
  p.p50_us = NearestRank(micros, 0.50);
  p.p99_us = NearestRank(micros, 0.99);
  return p;
}

void SetLatencyFields(std::vector<double> micros, double seconds, Result* result) {
  const size_t ops = micros.size();
  const Percentiles p = ComputePercentiles(std::move(micros));
  result->ops = ops;
  result->seconds = seconds;
  result->ops_per_s = seconds > 0 ? static_cast<double>(ops) / seconds : 0;
  result->p50_us = p.p50_us;
  result->p99_us = p.p99_us;
}

std::optional<uint64_t> PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    const size_t digits = line.find_first_of("0123456789");
    if (digits == std::string::npos) return std::nullopt;
    return std::stoull(line.substr(digits));
  }
  return std::nullopt;
}

bool ResetPeakRss() {
#if defined(__GLIBC__)
  // Memory freed before (an earlier phase's Wal, closed) stays resident in the allocator
  // until trimmed, and the reset peak would start from it.
  malloc_trim(0);
#endif
  std::ofstream clear_refs("/proc/self/clear_refs");
  if (!clear_refs) return false;
  clear_refs << "5";
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

std::string MakePayload() {
  Random rng(kSeed);
  return rng.Bytes(kPayloadSize);
}

}  // namespace bench
}  // namespace ironwal
