// W1-W5: the write workloads of benchmarks/workloads.h.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "ironwal/wal/wal.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/workloads.h"
#include "benchmarks/workloads_internal.h"

namespace ironwal {
namespace bench {
namespace {

using internal::Annotate;
using internal::OpenWal;

// A Wal in a scratch directory, with its streams created by one untimed append each.
struct WriteSetup {
  ScratchDir dir;
  std::unique_ptr<Wal> wal;
};

absl::StatusOr<WriteSetup> SetUpWrites(const BenchConfig& config, const std::string& name,
                                       SyncMode mode, const std::vector<std::string>& streams,
                                       const std::string& payload) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, name);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenWal(dir->Join("wal"), mode, ReadStrategy::kPread);
  if (!wal.ok()) return wal.status();
  for (const std::string& stream : streams) {
    absl::StatusOr<uint64_t> id = (*wal)->Append(stream, payload);
    if (!id.ok()) return id.status();
  }
  return WriteSetup{std::move(*dir), std::move(*wal)};
}

// `count` timed Append()s of `payload` to `stream`, one latency each into `*micros`.
absl::Status TimedAppends(Wal* wal, const std::string& stream, const std::string& payload,
                          uint64_t count, std::vector<double>* micros) {
  micros->reserve(micros->size() + count);
  for (uint64_t i = 0; i < count; ++i) {
    const Clock::time_point start = Clock::now();
    const absl::StatusOr<uint64_t> id = wal->Append(stream, payload);
    const Clock::time_point end = Clock::now();
    if (!id.ok()) return id.status();
    micros->push_back(MicrosBetween(start, end));
  }
  return absl::OkStatus();
}

// Runs body(t) on `threads` threads released together; returns the seconds from the
// release until the last one finished.
template <typename Body>
double RunTogether(int threads, Body body) {
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      body(t);
    });
  }
  const Clock::time_point start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  cv.notify_all();
  for (std::thread& thread : pool) thread.join();
  return SecondsBetween(start, Clock::now());
}

}  // namespace

absl::StatusOr<Result> RunW1AsyncAppend(const BenchConfig& config) {
  const std::string payload = MakePayload();
  ResetPeakRss();
  absl::StatusOr<WriteSetup> setup = SetUpWrites(config, "w1", SyncMode::kAsync, {"w1"}, payload);
  if (!setup.ok()) return Annotate("W1", setup.status());
  Wal* const wal = setup->wal.get();
  const uint64_t count = config.Scaled(200000);
  const Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    const absl::StatusOr<uint64_t> id = wal->Append("w1", payload);
    if (!id.ok()) return Annotate("W1", id.status());
  }
  const double seconds = SecondsBetween(start, Clock::now());
  Result result;
  result.name = "W1";
  result.ops = count;
  result.seconds = seconds;
  result.ops_per_s = static_cast<double>(count) / seconds;
  result.peak_rss_kb = PeakRssKb();
  return result;
}

absl::StatusOr<Result> RunW2StrictAppend(const BenchConfig& config) {
  const std::string payload = MakePayload();
  absl::StatusOr<WriteSetup> setup = SetUpWrites(config, "w2", SyncMode::kStrict, {"w2"}, payload);
  if (!setup.ok()) return Annotate("W2", setup.status());
  std::vector<double> micros;
  const Clock::time_point start = Clock::now();
  absl::Status status = TimedAppends(setup->wal.get(), "w2", payload, config.Scaled(2000), &micros);
  const double seconds = SecondsBetween(start, Clock::now());
  if (!status.ok()) return Annotate("W2", status);
  Result result;
  result.name = "W2";
  SetLatencyFields(micros, seconds, &result);
  return result;
}

absl::StatusOr<Result> RunW3StrictBatch(const BenchConfig& config) {
  constexpr uint64_t kBatchSize = 100;
  const std::string payload = MakePayload();
  absl::StatusOr<WriteSetup> setup = SetUpWrites(config, "w3", SyncMode::kStrict, {"w3"}, payload);
  if (!setup.ok()) return Annotate("W3", setup.status());
  const std::vector<absl::string_view> batch(kBatchSize, payload);
  const uint64_t batches = config.Scaled(2000);
  std::vector<double> micros;
  micros.reserve(batches);
  const Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < batches; ++i) {
    const Clock::time_point op_start = Clock::now();
    const absl::StatusOr<IdRange> ids = setup->wal->AppendBatch("w3", batch);
    const Clock::time_point op_end = Clock::now();
    if (!ids.ok()) return Annotate("W3", ids.status());
    micros.push_back(MicrosBetween(op_start, op_end));
  }
  const double seconds = SecondsBetween(start, Clock::now());
  Result result;
  result.name = "W3";
  SetLatencyFields(micros, seconds, &result);
  result.records = batches * kBatchSize;
  result.records_per_s = static_cast<double>(*result.records) / seconds;
  return result;
}

absl::StatusOr<Result> RunStrictWriters(const BenchConfig& config, const std::string& name,
                                        int threads, bool shared_stream) {
  const std::string payload = MakePayload();
  std::vector<std::string> streams;
  for (int t = 0; t < (shared_stream ? 1 : threads); ++t) streams.push_back(absl::StrCat("s", t));
  absl::StatusOr<WriteSetup> setup =
      SetUpWrites(config, absl::StrCat(name, "-", threads, shared_stream ? "-shared" : "-own"),
                  SyncMode::kStrict, streams, payload);
  if (!setup.ok()) return Annotate(name, setup.status());
  const uint64_t per_thread = config.Scaled(500);
  std::vector<std::vector<double>> micros(threads);
  std::vector<absl::Status> statuses(threads);
  const double seconds = RunTogether(threads, [&](int t) {
    const std::string& stream = streams[shared_stream ? 0 : t];
    statuses[t] = TimedAppends(setup->wal.get(), stream, payload, per_thread, &micros[t]);
  });
  std::vector<double> all;
  for (int t = 0; t < threads; ++t) {
    if (!statuses[t].ok()) return Annotate(name, statuses[t]);
    all.insert(all.end(), micros[t].begin(), micros[t].end());
  }
  Result result;
  result.name = name;
  result.threads = threads;
  SetLatencyFields(all, seconds, &result);
  return result;
}

double ClockOverheadNanos() {
  constexpr int kSamples = 100000;
  std::vector<double> micros;
  micros.reserve(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    const Clock::time_point start = Clock::now();
    micros.push_back(MicrosBetween(start, Clock::now()));
  }
  return ComputePercentiles(micros).p50_us * 1000.0;
}

}  // namespace bench
}  // namespace ironwal
