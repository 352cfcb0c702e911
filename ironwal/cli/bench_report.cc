#include "ironwal/cli/bench_report.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "ironwal/cli/bench_targets.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace cli {
namespace {

using bench::Result;

// Whether every (gated) check on `r`'s line passed; nullopt when none applies.
std::optional<bool> TargetMet(const Result& r, const std::vector<TargetCheck>& checks) {
  std::optional<bool> met;
  for (const TargetCheck& check : checks) {
    if (check.informational || check.id != r.name || check.strategy != r.strategy) continue;
    met = met.value_or(true) && check.met;
  }
  return met;
}

std::string JsonLine(const Result& r, std::optional<bool> met, uint64_t scale) {
  std::string line = absl::StrFormat("{\"%s\":\"%s\"", r.is_probe ? "probe" : "workload", r.name);
  if (!r.strategy.empty()) absl::StrAppend(&line, ",\"strategy\":\"", r.strategy, "\"");
  if (r.threads > 0) absl::StrAppend(&line, ",\"threads\":", r.threads);
  if (!r.variant.empty()) absl::StrAppend(&line, ",\"variant\":\"", r.variant, "\"");
  absl::StrAppend(&line, ",\"ops\":", r.ops);
  absl::StrAppendFormat(&line, ",\"seconds\":%.6f,\"ops_per_s\":%.1f", r.seconds, r.ops_per_s);
  if (r.records) absl::StrAppend(&line, ",\"records\":", *r.records);
  if (r.records_per_s) absl::StrAppendFormat(&line, ",\"records_per_s\":%.1f", *r.records_per_s);
  if (r.p50_us) absl::StrAppendFormat(&line, ",\"p50_us\":%.3f", *r.p50_us);
  if (r.p99_us) absl::StrAppendFormat(&line, ",\"p99_us\":%.3f", *r.p99_us);
  if (r.mb_per_s) absl::StrAppendFormat(&line, ",\"mb_per_s\":%.1f", *r.mb_per_s);
  if (r.ms) absl::StrAppendFormat(&line, ",\"ms\":%.3f", *r.ms);
  if (r.peak_rss_kb) absl::StrAppend(&line, ",\"peak_rss_kb\":", *r.peak_rss_kb);
  if (r.memory) {
    absl::StrAppend(&line, ",\"wal_memory_bytes\":", r.memory->total(),
                    ",\"wal_index_bytes\":", r.memory->active_indexes + r.memory->sealed_indexes,
                    ",\"wal_buffer_bytes\":", r.memory->write_buffers);
  }
  absl::StrAppend(&line, ",\"scale\":", scale);
  if (met) absl::StrAppend(&line, ",\"target_met\":", *met ? "true" : "false");
  return line + "}";
}

std::string Rate(double per_s) {
  if (per_s >= 1e6) return absl::StrFormat("%.2fM", per_s / 1e6);
  if (per_s >= 1e4) return absl::StrFormat("%.1fk", per_s / 1e3);
  return absl::StrFormat("%.0f", per_s);
}

std::string Micros(const std::optional<double>& us) {
  if (!us) return "-";
  return *us < 10 ? absl::StrFormat("%.2f", *us) : absl::StrFormat("%.1f", *us);
}

// The cost of statistics from a workload's rows "on a", "off a", "on b", ... (two sides of
// several WALs each, benchmarks/workloads.h): the median over rounds of 1 - on/off, where
// a side's rate in a round is the geometric mean of its WALs' (each round ran them all, in
// alternating order), with the quartiles, and the same of the totals. Empty unless both
// sides have rows.
std::string StatsCost(const std::string& name, const std::vector<Result>& all) {
  std::vector<const Result*> sides[2];  // off, on
  for (const Result& r : all) {
    if (r.name != name || r.ops_per_s <= 0) continue;
    if (absl::StartsWith(r.variant, "off ")) sides[0].push_back(&r);
    if (absl::StartsWith(r.variant, "on ")) sides[1].push_back(&r);
  }
  if (sides[0].empty() || sides[1].empty()) return "";
  // The geometric mean of rate(r) over a side's rows; 0 when one of them has none.
  auto mean = [](const std::vector<const Result*>& side, auto rate) {
    double log_sum = 0;
    for (const Result* r : side) {
      const std::optional<double> v = rate(*r);
      if (!v || *v <= 0) return 0.0;
      log_sum += std::log(*v);
    }
    return std::exp(log_sum / static_cast<double>(side.size()));
  };
  auto total_rate = [](const Result& r) { return std::optional<double>(r.ops_per_s); };
  const double total = 100.0 * (1.0 - mean(sides[1], total_rate) / mean(sides[0], total_rate));
  std::vector<double> costs;
  for (size_t i = 0; i < sides[0][0]->slice_ops_per_s.size(); ++i) {
    auto slice_rate = [i](const Result& r) {
      return i < r.slice_ops_per_s.size() ? std::optional<double>(r.slice_ops_per_s[i])
                                          : std::nullopt;
    };
    const double off_rate = mean(sides[0], slice_rate);
    const double on_rate = mean(sides[1], slice_rate);
    if (off_rate > 0 && on_rate > 0) costs.push_back(100.0 * (1.0 - on_rate / off_rate));
  }
  if (costs.size() < 4) return absl::StrFormat("stats cost %.1f%% of off's rate", total);
  std::sort(costs.begin(), costs.end());
  auto at = [&costs](double q) { return costs[static_cast<size_t>(q * (costs.size() - 1))]; };
  return absl::StrFormat(
      "stats cost median %.1f%% (quartiles %.1f..%.1f%%, %d rounds; totals %.1f%%)", at(0.5),
      at(0.25), at(0.75), static_cast<int>(costs.size()), total);
}

// The workload's ratio to the device probe (or workload) its target is phrased against.
std::string VsDevice(const Result& r, const std::vector<Result>& all) {
  auto find = [&](const char* name) { return FindResult(all, name); };
  const Result* d = nullptr;
  if (r.name == "W1" && (d = find("write_128")) != nullptr) {
    return absl::StrFormat("%.2fx write_128 rate", r.ops_per_s / d->ops_per_s);
  }
  if (r.name == "W2" && (d = find("append_128_fdatasync")) != nullptr && d->p50_us) {
    return absl::StrFormat("p50 %.2fx append_128 p50", *r.p50_us / *d->p50_us);
  }
  if (r.name == "W3" && (d = find("append_16k_fdatasync")) != nullptr && r.records_per_s) {
    return absl::StrFormat("%.2fx append_16k x100 rec", *r.records_per_s / (d->ops_per_s * 100));
  }
  if ((r.name == "W4" || r.name == "W4-sweep") && (d = find("W2")) != nullptr) {
    const Result* dev = find("4x_append_128_fdatasync");
    std::string s = absl::StrFormat("%.2fx W2", r.ops_per_s / d->ops_per_s);
    if (dev != nullptr)
      absl::StrAppendFormat(&s, ", %.2fx 4x_append", r.ops_per_s / dev->ops_per_s);
    return s;
  }
  if ((r.name == "W1-stats" || r.name == "W2-stats") &&
      std::find_if(all.rbegin(), all.rend(), [&](const Result& x) {
        return x.name == r.name;
      })->variant == r.variant) {
    return StatsCost(r.name, all);  // on the workload's last row
  }
  if (r.name == "W1-reserve" && r.variant == "on") {
    const auto off = std::find_if(all.begin(), all.end(), [](const Result& x) {
      return x.name == "W1-reserve" && x.variant == "off";
    });
    if (off != all.end() && off->ops_per_s > 0) {
      return absl::StrFormat("%.2fx W1-reserve off rate", r.ops_per_s / off->ops_per_s);
    }
  }
  if (r.name == "W5" && (d = find("4x_append_128_fdatasync")) != nullptr) {
    return absl::StrFormat("%.2fx 4x_append_128 rate", r.ops_per_s / d->ops_per_s);
  }
  return "";
}

// Throughput with its unit, and what else the workload reports.
std::string RateColumn(const Result& r) {
  if (r.name == "W3") return Rate(*r.records_per_s) + " rec/s";
  if (r.name == "W7") return Rate(r.ops_per_s) + " rec/s";
  if (r.ms) return absl::StrFormat("%.1f ms", *r.ms);
  return Rate(r.ops_per_s) + "/s";
}

std::string ExtraColumn(const Result& r) {
  std::string s;
  if (r.name == "W3") s = absl::StrFormat("%s batch/s", Rate(r.ops_per_s));
  if (r.mb_per_s) s = absl::StrFormat("%.0f MB/s", *r.mb_per_s);
  if (r.name == "W8") s = Rate(static_cast<double>(*r.records)) + " records";
  if (r.name == "W9" && r.records) s = absl::StrCat(*r.records, " streams");
  if (r.name == "W10" && r.records) s = Rate(static_cast<double>(*r.records)) + " records";
  if (r.peak_rss_kb) {
    absl::StrAppendFormat(&s, "%speak RSS %.1f MiB", s.empty() ? "" : ", ",
                          *r.peak_rss_kb / 1024.0);
  }
  if (r.memory) {
    absl::StrAppendFormat(&s, "%swal %.1f MiB (index %.1f)", s.empty() ? "" : ", ",
                          r.memory->total() / 1048576.0,
                          (r.memory->active_indexes + r.memory->sealed_indexes) / 1048576.0);
  }
  return s;
}

void PrintProbes(const std::vector<Result>& results, std::ostream& out) {
  out << "Device probes (plain POSIX open/write/pwrite/fdatasync in the same directory)\n";
  out << absl::StrFormat("  %-30s %8s %10s %9s %9s\n", "probe", "ops", "ops/s", "p50 us", "p99 us");
  for (const Result& r : results) {
    if (!r.is_probe) continue;
    out << absl::StrFormat("  %-30s %8d %10s %9s %9s\n", r.name, r.ops, Rate(r.ops_per_s),
                           Micros(r.p50_us), Micros(r.p99_us));
  }
}

void PrintWorkloads(const std::vector<Result>& results, std::ostream& out) {
  out << "\nWorkloads (benchmarks/README.md)\n";
  out << absl::StrFormat("  %-22s %-6s %8s %14s %9s %9s  %-30s %s\n", "id", "read", "ops", "rate",
                         "p50 us", "p99 us", "also", "ratio");
  for (const Result& r : results) {
    if (r.is_probe) continue;
    std::string id = r.threads > 0 ? absl::StrCat(r.name, " t", r.threads) : r.name;
    if (!r.variant.empty()) absl::StrAppend(&id, " ", r.variant);
    out << absl::StrFormat("  %-22s %-6s %8d %14s %9s %9s  %-30s %s\n", id,
                           r.strategy.empty() ? "-" : r.strategy, r.ops, RateColumn(r),
                           Micros(r.p50_us), Micros(r.p99_us), ExtraColumn(r),
                           VsDevice(r, results));
  }
}

void PrintChecks(const std::vector<TargetCheck>& checks, std::ostream& out) {
  out << "\nTargets (benchmarks/README.md)\n";
  int met = 0;
  int gated = 0;
  for (const TargetCheck& c : checks) {
    const std::string id = c.strategy.empty() ? c.id : absl::StrCat(c.id, " ", c.strategy);
    const char* verdict =
        c.informational ? (c.met ? "(near)" : "(info)") : (c.met ? "PASS" : "MISS");
    out << absl::StrFormat("  %-9s %-6s %-64s %s\n", id, verdict, c.target, c.measured);
    if (!c.informational) {
      ++gated;
      met += c.met ? 1 : 0;
    }
  }
  out << absl::StrFormat("  %d of %d checks met\n", met, gated);
}

}  // namespace

void PrintJsonLines(const std::vector<Result>& results, const std::vector<TargetCheck>& checks,
                    const RunInfo& info, std::ostream& out) {
  for (const Result& r : results) out << JsonLine(r, TargetMet(r, checks), info.scale) << "\n";
}

void PrintTables(const std::vector<Result>& results, const std::vector<TargetCheck>& checks,
                 const RunInfo& info, std::ostream& out) {
  out << "ironwal bench: payload 128 B, in " << info.dir << "\n";
  if (info.scale != 1) {
    out << "counts divided by " << info.scale << (info.scale == 10 ? " (--quick)" : "")
        << ": shorter runs, noisier numbers than the full counts\n";
  }
  out << absl::StrFormat("latencies include one steady_clock pair: %.0f ns\n\n",
                         info.clock_overhead_ns);
  PrintProbes(results, out);
  PrintWorkloads(results, out);
  PrintChecks(checks, out);
}

}  // namespace cli
}  // namespace ironwal
