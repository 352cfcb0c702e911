// The Wal on MemEnv (no disk, no syscalls): what the library itself costs per Append
// (kAsync), per warm Get (kMmap and kPread) and per record of an iterator scan, with
// 128-byte entries as in benchmarks/README.md. Compare with `ironwal bench` (real disk) to
// see how much of a workload is the library and how much the file system.
//
//   tools/bazel run -c opt //benchmarks:wal_benchmark
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

using internal::Random;

namespace {

constexpr size_t kPayloadSize = 128;
constexpr uint64_t kRecords = 200000;  // W6/W7's history
constexpr char kStream[] = "s";

std::string Payload() { return Random(1).Bytes(kPayloadSize); }

WalOptions Options(Env* env, SyncMode mode, ReadStrategy strategy) {
  WalOptions options;
  options.env = env;
  options.root = "/wal";
  options.sync_mode = mode;
  options.read_strategy = strategy;
  return options;
}

ReadStrategy Strategy(const benchmark::State& state) {
  return state.range(0) == 0 ? ReadStrategy::kMmap : ReadStrategy::kPread;
}

void BM_AppendAsync(benchmark::State& state) {
  MemEnv env;
  WalOptions options = Options(&env, SyncMode::kAsync, ReadStrategy::kPread);
  options.max_segment_size = 8 << 20;
  std::unique_ptr<Wal> wal = Wal::Open(options).value();
  const std::string payload = Payload();
  uint64_t next = 0;
  for (auto _ : state) {
    absl::StatusOr<uint64_t> id = wal->Append(kStream, payload);
    if (!id.ok()) {
      state.SkipWithError("Append failed");
      return;
    }
    next = *id + 1;
    if ((next & 0xffff) == 0) {  // keep memory bounded: drop whole old segments
      state.PauseTiming();
      if (!wal->Truncate(kStream, next).ok()) state.SkipWithError("Truncate failed");
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPayloadSize));
}
BENCHMARK(BM_AppendAsync);

// A MemEnv holding kRecords single-entry frames, built once and shared by the read
// benchmarks (each opens its own Wal on it).
MemEnv* PopulatedEnv() {
  static MemEnv* const env = [] {
    auto* e = new MemEnv();
    std::unique_ptr<Wal> wal =
        Wal::Open(Options(e, SyncMode::kAsync, ReadStrategy::kPread)).value();
    const std::string payload = Payload();
    for (uint64_t i = 0; i < kRecords; ++i) wal->Append(kStream, payload).value();
    wal->Close().IgnoreError();
    return e;
  }();
  return env;
}

void BM_GetWarm(benchmark::State& state) {
  const ReadStrategy strategy = Strategy(state);
  std::unique_ptr<Wal> wal =
      Wal::Open(Options(PopulatedEnv(), SyncMode::kStrict, strategy)).value();
  Random rng(42);
  std::vector<uint64_t> ids(1 << 16);
  for (uint64_t& id : ids) id = rng.Uniform(kRecords);
  for (uint64_t id : ids) wal->Get(kStream, id).value();  // warm
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> value = wal->Get(kStream, ids[i++ & (ids.size() - 1)]);
    if (!value.ok()) {
      state.SkipWithError("Get failed");
      return;
    }
    benchmark::DoNotOptimize(value->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(strategy == ReadStrategy::kMmap ? "mmap" : "pread");
}
BENCHMARK(BM_GetWarm)->ArgName("pread")->Arg(0)->Arg(1);

void BM_IteratorScan(benchmark::State& state) {
  const ReadStrategy strategy = Strategy(state);
  std::unique_ptr<Wal> wal =
      Wal::Open(Options(PopulatedEnv(), SyncMode::kStrict, strategy)).value();
  uint64_t records = 0;
  for (auto _ : state) {
    std::unique_ptr<Iterator> it = wal->NewIterator(kStream, 0).value();
    for (; it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++records;
    }
    if (!it->status().ok()) {
      state.SkipWithError("scan failed");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(records * kPayloadSize));
  state.SetLabel(strategy == ReadStrategy::kMmap ? "mmap" : "pread");
}
BENCHMARK(BM_IteratorScan)->ArgName("pread")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ironwal
