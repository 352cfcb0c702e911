#include "ironwal/cli/bench_targets.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace cli {
namespace {

using bench::Result;

// The Rust crate ironwal 0.6.3 and its device limits, from the table in benchmarks/README.md.
constexpr double kPeerW3RecordsPerS = 426033;
constexpr double kPeerDevice16kRecordsPerS = 457100;  // 4,571 x 16 KiB append+fdatasync/s
constexpr double kPeerW5PerS = 14078;
constexpr double kPeerDevice4WritersPerS = 13086;

std::string Rate(double per_s) {
  if (per_s >= 1e6) return absl::StrFormat("%.2fM", per_s / 1e6);
  if (per_s >= 1e4) return absl::StrFormat("%.1fk", per_s / 1e3);
  return absl::StrFormat("%.0f", per_s);
}

TargetCheck Check(const Result& r, std::string target, std::string measured, bool met) {
  TargetCheck check;
  check.id = r.name;
  check.strategy = r.strategy;
  check.target = std::move(target);
  check.measured = std::move(measured);
  check.met = met;
  return check;
}

void AddWriteChecks(const std::vector<Result>& results, std::vector<TargetCheck>* out) {
  const Result* w1 = FindResult(results, "W1");
  if (w1 != nullptr) {
    out->push_back(Check(*w1, ">= 4M appends/s", Rate(w1->ops_per_s) + "/s", w1->ops_per_s >= 4e6));
  }
  const Result* w2 = FindResult(results, "W2");
  const Result* append = FindResult(results, "append_128_fdatasync");
  if (w2 != nullptr && append != nullptr && w2->p50_us && append->p50_us) {
    const double bound = 1.1 * *append->p50_us;
    out->push_back(
        Check(*w2, absl::StrFormat("p50 <= 1.1x device append_128 p50 = %.1f us", bound),
              absl::StrFormat("p50 %.1f us = %.2fx", *w2->p50_us, *w2->p50_us / *append->p50_us),
              *w2->p50_us <= bound));
  }
  const Result* overwrite = FindResult(results, "overwrite_4k_fdatasync");
  if (w2 != nullptr && overwrite != nullptr && w2->p50_us && overwrite->p50_us) {
    TargetCheck stretch = Check(
        *w2, absl::StrFormat("stretch: p50 near overwrite_4k p50 = %.1f us", *overwrite->p50_us),
        absl::StrFormat("p50 = %.2fx", *w2->p50_us / *overwrite->p50_us),
        *w2->p50_us <= 1.1 * *overwrite->p50_us);
    stretch.informational = true;
    out->push_back(stretch);
  }
  const Result* w4 = FindResult(results, "W4");
  if (w4 != nullptr && w2 != nullptr && w4->p99_us && w2->p99_us) {
    out->push_back(
        Check(*w4, absl::StrFormat(">= 3x W2 throughput = %s/s", Rate(3 * w2->ops_per_s)),
              absl::StrFormat("%s/s = %.2fx", Rate(w4->ops_per_s), w4->ops_per_s / w2->ops_per_s),
              w4->ops_per_s >= 3 * w2->ops_per_s));
    out->push_back(
        Check(*w4, absl::StrFormat("p99 <= 3x W2 p99 = %.1f us", 3 * *w2->p99_us),
              absl::StrFormat("p99 %.1f us = %.2fx", *w4->p99_us, *w4->p99_us / *w2->p99_us),
              *w4->p99_us <= 3 * *w2->p99_us));
  }
}

// A target "W >= factor x peer" as two checks: against the peer's number from the doc,
// and against this run's device probe scaled by the peer's ratio to its own device.
void AddPeerChecks(const Result& r, double measured, const char* unit, double factor, double peer,
                   double peer_device, const Result* device, double device_rate,
                   std::vector<TargetCheck>* out) {
  const double absolute = factor * peer;
  out->push_back(Check(r,
                       absl::StrFormat(">= %.1fx ironwal-rs %s%s = %s%s (doc's numbers)", factor,
                                       Rate(peer), unit, Rate(absolute), unit),
                       Rate(measured) + unit, measured >= absolute));
  if (device == nullptr) return;
  const double in_run = factor * (peer / peer_device) * device_rate;
  out->push_back(
      Check(r,
            absl::StrFormat("in-run: %.2fx device %s = %s%s", factor * peer / peer_device,
                            device->name, Rate(in_run), unit),
            absl::StrFormat("%s%s = %.2fx device", Rate(measured), unit, measured / device_rate),
            measured >= in_run));
}

void AddPeerRelativeChecks(const std::vector<Result>& results, std::vector<TargetCheck>* out) {
  const Result* w3 = FindResult(results, "W3");
  if (w3 != nullptr && w3->records_per_s) {
    const Result* device = FindResult(results, "append_16k_fdatasync");
    // The doc counts 100 records per 16 KiB append (4,571/s = 457k rec/s).
    AddPeerChecks(*w3, *w3->records_per_s, " rec/s", 1.1, kPeerW3RecordsPerS,
                  kPeerDevice16kRecordsPerS, device,
                  device == nullptr ? 0 : device->ops_per_s * 100, out);
  }
  const Result* w5 = FindResult(results, "W5");
  if (w5 != nullptr) {
    const Result* device = FindResult(results, "4x_append_128_fdatasync");
    AddPeerChecks(*w5, w5->ops_per_s, "/s", 1.0, kPeerW5PerS, kPeerDevice4WritersPerS, device,
                  device == nullptr ? 0 : device->ops_per_s, out);
  }
}

void AddReadChecks(const std::vector<Result>& results, std::vector<TargetCheck>* out) {
  for (const Result& r : results) {
    if (r.name == "W6" && r.p50_us) {
      out->push_back(
          Check(r, "p50 <= 1 us", absl::StrFormat("p50 %.2f us", *r.p50_us), *r.p50_us <= 1.0));
      out->push_back(Check(r, ">= 1M gets/s", Rate(r.ops_per_s) + "/s", r.ops_per_s >= 1e6));
    } else if (r.name == "W7") {
      out->push_back(Check(r, ">= 20M records/s", Rate(r.ops_per_s) + "/s", r.ops_per_s >= 20e6));
    } else if (r.name == "W8" && r.ms) {
      out->push_back(Check(r, "Open <= 20 ms", absl::StrFormat("%.1f ms", *r.ms), *r.ms <= 20.0));
    }
  }
}

}  // namespace

const Result* FindResult(const std::vector<Result>& results, const std::string& name,
                         const std::string& strategy) {
  for (const Result& r : results) {
    if (r.name == name && (strategy.empty() || r.strategy == strategy)) return &r;
  }
  return nullptr;
}

std::vector<TargetCheck> EvaluateTargets(const std::vector<Result>& results) {
  std::vector<TargetCheck> checks;
  AddWriteChecks(results, &checks);
  AddPeerRelativeChecks(results, &checks);
  AddReadChecks(results, &checks);
  std::stable_sort(checks.begin(), checks.end(),
                   [](const TargetCheck& a, const TargetCheck& b) { return a.id < b.id; });
  return checks;
}

}  // namespace cli
}  // namespace ironwal
