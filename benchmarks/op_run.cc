#include "benchmarks/op_run.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace bench {
namespace {

// What a run has measured so far.
struct Tally {
  double seconds = 0;
  uint64_t ops = 0;
  std::vector<std::vector<double>> micros;  // per thread
  std::vector<double> slice_ops_per_s;      // per round
};

// `n` operations on thread `t`.
absl::Status RunOps(const OpRun& run, int t, uint64_t n, std::vector<double>* micros) {
  for (uint64_t i = 0; i < n; ++i) {
    if (!run.time_each_op) {
      absl::Status status = run.op(t);
      if (!status.ok()) return status;
      continue;
    }
    const Clock::time_point start = Clock::now();
    absl::Status status = run.op(t);
    const Clock::time_point end = Clock::now();
    if (!status.ok()) return status;
    micros->push_back(MicrosBetween(start, end));
  }
  return absl::OkStatus();
}

// `n` operations on each of run.threads threads released together; adds the wall time
// from the release until the last thread finished.
absl::Status RunSlice(const OpRun& run, uint64_t n, Tally* tally) {
  if (run.threads == 1) {
    const Clock::time_point start = Clock::now();
    absl::Status status = RunOps(run, 0, n, &tally->micros[0]);
    const double seconds = SecondsBetween(start, Clock::now());
    tally->seconds += seconds;
    tally->slice_ops_per_s.push_back(static_cast<double>(n) / seconds);
    return status;
  }
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::vector<absl::Status> statuses(run.threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < run.threads; ++t) {
    pool.emplace_back([&, t] {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      statuses[t] = RunOps(run, t, n, &tally->micros[t]);
    });
  }
  const Clock::time_point start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  cv.notify_all();
  for (std::thread& thread : pool) thread.join();
  const double seconds = SecondsBetween(start, Clock::now());
  tally->seconds += seconds;
  tally->slice_ops_per_s.push_back(static_cast<double>(n * run.threads) / seconds);
  for (const absl::Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

Result Summarize(OpRun* run, const Tally& tally) {
  Result result = run->result;
  result.threads = run->threads > 1 ? run->threads : run->result.threads;
  result.slice_ops_per_s = tally.slice_ops_per_s;
  if (run->time_each_op) {
    std::vector<double> all;
    for (const std::vector<double>& m : tally.micros) all.insert(all.end(), m.begin(), m.end());
    SetLatencyFields(std::move(all), tally.seconds, &result);
  } else {
    result.ops = tally.ops;
    result.seconds = tally.seconds;
    result.ops_per_s = static_cast<double>(tally.ops) / tally.seconds;
  }
  if (run->records_per_op > 0) {
    result.records = result.ops * run->records_per_op;
    result.records_per_s = static_cast<double>(*result.records) / tally.seconds;
  }
  if (run->finish) run->finish(&result);
  return result;
}

}  // namespace

absl::StatusOr<std::vector<Result>> RunInterleaved(std::vector<OpRun> runs, int rounds,
                                                   bool alternate) {
  std::vector<Tally> tallies(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    tallies[i].micros.resize(runs[i].threads);
    for (std::vector<double>& m : tallies[i].micros) m.reserve(runs[i].total_ops);
  }
  for (int r = 0; r < rounds; ++r) {
    for (size_t k = 0; k < runs.size(); ++k) {
      const size_t i = alternate && r % 2 == 1 ? runs.size() - 1 - k : k;
      // Slice r of the operations each thread does, spread evenly over the rounds.
      const uint64_t per_thread = runs[i].total_ops / runs[i].threads;
      const uint64_t n = per_thread * (r + 1) / rounds - per_thread * r / rounds;
      if (n == 0) continue;
      absl::Status status = RunSlice(runs[i], n, &tallies[i]);
      if (!status.ok()) {
        return absl::Status(status.code(),
                            absl::StrCat(runs[i].result.name, ": ", status.message()));
      }
      tallies[i].ops += n * runs[i].threads;
    }
  }
  std::vector<Result> results;
  for (size_t i = 0; i < runs.size(); ++i) {
    results.push_back(Summarize(&runs[i], tallies[i]));
    runs[i].resources.reset();
  }
  return results;
}

}  // namespace bench
}  // namespace ironwal
