// W1-W5: the write workloads of benchmarks/workloads.h.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "ironwal/wal/wal.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/op_run.h"
#include "benchmarks/workloads.h"
#include "benchmarks/workloads_internal.h"

namespace ironwal {
namespace bench {
namespace {

using internal::Annotate;
using internal::OpenWal;

// A Wal in a scratch directory, with its streams created by one untimed append each.
struct WriteSetup {
  explicit WriteSetup(ScratchDir d) : dir(std::move(d)) {}
  ScratchDir dir;  // destroyed after the Wal
  std::unique_ptr<Wal> wal;
  std::string payload = MakePayload();
  std::vector<std::string> streams;
  std::vector<absl::string_view> batch;  // W3's entries
};

absl::StatusOr<std::shared_ptr<WriteSetup>> SetUpWrites(
    const BenchConfig& config, const std::string& name, SyncMode mode,
    std::vector<std::string> streams, bool statistics = true, uint64_t preallocate_bytes = 0,
    uint64_t allocate_ahead_bytes = WalOptions().allocate_ahead_bytes) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, name);
  if (!dir.ok()) return Annotate(name, dir.status());
  auto setup = std::make_shared<WriteSetup>(std::move(*dir));
  absl::StatusOr<std::unique_ptr<Wal>> wal =
      OpenWal(setup->dir.Join("wal"), mode, ReadStrategy::kPread, statistics, preallocate_bytes,
              allocate_ahead_bytes);
  if (!wal.ok()) return Annotate(name, wal.status());
  setup->wal = std::move(*wal);
  setup->streams = std::move(streams);
  for (const std::string& stream : setup->streams) {
    absl::StatusOr<uint64_t> id = setup->wal->Append(stream, setup->payload);
    if (!id.ok()) return Annotate(name, id.status());
  }
  return setup;
}

OpRun NewRun(const std::string& name, uint64_t total_ops, std::shared_ptr<WriteSetup> setup) {
  OpRun run;
  run.result.name = name;
  run.total_ops = total_ops;
  run.resources = std::move(setup);
  return run;
}

// An op that appends the payload to stream `stream_of(thread)`.
std::function<absl::Status(int)> AppendOp(WriteSetup* s, bool shared_stream) {
  return [s, shared_stream](int t) {
    return s->wal->Append(s->streams[shared_stream ? 0 : t], s->payload).status();
  };
}

}  // namespace

absl::StatusOr<OpRun> W1AsyncAppendRun(const BenchConfig& config) {
  ResetPeakRss();
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup =
      SetUpWrites(config, "W1", SyncMode::kAsync, {"w1"});
  if (!setup.ok()) return setup.status();
  OpRun run = NewRun("W1", config.Scaled(200000), *setup);
  run.op = AppendOp(setup->get(), /*shared_stream=*/true);
  run.time_each_op = false;
  run.finish = [s = setup->get()](Result* r) {
    r->peak_rss_kb = PeakRssKb();
    r->memory = s->wal->ApproximateMemoryUsage();
  };
  return run;
}

absl::StatusOr<OpRun> W1AllocateAheadRun(const BenchConfig& config, bool on) {
  const std::string variant = on ? "on" : "off";
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup = SetUpWrites(
      config, absl::StrCat("W1-reserve-", variant), SyncMode::kAsync, {"r"},
      /*statistics=*/true, /*preallocate_bytes=*/0, on ? WalOptions().allocate_ahead_bytes : 0);
  if (!setup.ok()) return setup.status();
  OpRun run = NewRun("W1-reserve", config.Scaled(200000), *setup);
  run.result.variant = variant;
  run.op = AppendOp(setup->get(), /*shared_stream=*/true);
  run.time_each_op = false;
  return run;
}

absl::StatusOr<OpRun> W2StrictAppendRun(const BenchConfig& config) {
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup =
      SetUpWrites(config, "W2", SyncMode::kStrict, {"w2"});
  if (!setup.ok()) return setup.status();
  OpRun run = NewRun("W2", config.Scaled(2000), *setup);
  run.op = AppendOp(setup->get(), /*shared_stream=*/true);
  return run;
}

absl::StatusOr<OpRun> W2PreallocateRun(const BenchConfig& config, uint64_t preallocate_bytes) {
  const std::string variant = preallocate_bytes > 0 ? "on" : "off";
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup =
      SetUpWrites(config, absl::StrCat("W2-prealloc-", variant), SyncMode::kStrict, {"p"},
                  /*statistics=*/true, preallocate_bytes);
  if (!setup.ok()) return setup.status();
  OpRun run = NewRun("W2-prealloc", config.Scaled(2000), *setup);
  run.result.variant = variant;
  run.op = AppendOp(setup->get(), /*shared_stream=*/true);
  return run;
}

absl::StatusOr<OpRun> StatsCostRun(const BenchConfig& config, bool w2, bool statistics,
                                   char instance) {
  const std::string name = w2 ? "W2-stats" : "W1-stats";
  const std::string on_off = statistics ? "on" : "off";
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup =
      SetUpWrites(config, absl::StrCat(name, "-", on_off, "-", std::string(1, instance)),
                  w2 ? SyncMode::kStrict : SyncMode::kAsync, {"s"}, statistics);
  if (!setup.ok()) return setup.status();
  // W1: as many appends a side as W1 (more would make the page cache's writeback part of
  // the measurement), a quarter in each WAL, in 40 rounds of 1,250.
  OpRun run = NewRun(name, config.Scaled(w2 ? 500 : 50000), *setup);
  run.result.variant = absl::StrCat(on_off, " ", std::string(1, instance));
  run.op = AppendOp(setup->get(), /*shared_stream=*/true);
  run.time_each_op = w2;  // as W1 and W2
  return run;
}

absl::StatusOr<OpRun> W3StrictBatchRun(const BenchConfig& config) {
  constexpr uint64_t kBatchSize = 100;
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup =
      SetUpWrites(config, "W3", SyncMode::kStrict, {"w3"});
  if (!setup.ok()) return setup.status();
  WriteSetup* const s = setup->get();
  s->batch.assign(kBatchSize, s->payload);
  OpRun run = NewRun("W3", config.Scaled(2000), *setup);
  run.op = [s](int) { return s->wal->AppendBatch("w3", s->batch).status(); };
  run.records_per_op = kBatchSize;
  return run;
}

absl::StatusOr<OpRun> StrictWritersRun(const BenchConfig& config, const std::string& name,
                                       int threads, bool shared_stream) {
  std::vector<std::string> streams;
  for (int t = 0; t < (shared_stream ? 1 : threads); ++t) streams.push_back(absl::StrCat("s", t));
  absl::StatusOr<std::shared_ptr<WriteSetup>> setup =
      SetUpWrites(config, absl::StrCat(name, "-", threads, shared_stream ? "-shared" : "-own"),
                  SyncMode::kStrict, std::move(streams));
  if (!setup.ok()) return setup.status();
  OpRun run = NewRun(name, config.Scaled(500) * threads, *setup);
  run.threads = threads;
  run.result.threads = threads;  // also for the sweep's one-thread point
  run.op = AppendOp(setup->get(), shared_stream);
  return run;
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
