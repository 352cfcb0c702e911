// CRC-32 (zlib polynomial) throughput: the dispatching Crc32Extend (PCLMUL folding on CPUs
// that have it) and the portable slice-by-8 path, over sizes from one small frame to 1 MiB;
// and the frame checks of a scan (Crc32Of17AndTailMatching over 64 frames laid end to end,
// every payload of the given size, or of sizes varying around it when the second argument
// is 1).
//
//   tools/bazel run -c opt //benchmarks:crc32_benchmark
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "ironwal/util/crc32.h"
#include "ironwal/util/random.h"

namespace ironwal {

using internal::Random;

namespace {

template <uint32_t (*Fn)(uint32_t, const char*, size_t)>
void BM_Crc32(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Random rng(n);
  const std::string data = rng.Bytes(n);
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = Fn(crc, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {16, 64, 160, 256, 1024, 4096, 16384, 65536, 1 << 20}) b->Arg(n);
}

void BM_Crc32Dispatch(benchmark::State& state) {
  state.SetLabel(internal::Crc32UsesPclmul() ? "pclmul" : "portable");
  BM_Crc32<Crc32Extend>(state);
}
BENCHMARK(BM_Crc32Dispatch)->Apply(Sizes);

void BM_Crc32Portable(benchmark::State& state) { BM_Crc32<internal::Crc32ExtendPortable>(state); }
BENCHMARK(BM_Crc32Portable)->Apply(Sizes);

void BM_FrameChecks(benchmark::State& state) {
  const size_t payload = static_cast<size_t>(state.range(0));
  const bool varied = state.range(1) != 0;
  Random rng(payload);
  constexpr size_t kFrames = 64;
  const std::string bytes = rng.Bytes(kFrames * (32 + 2 * payload + 16));
  std::vector<internal::Crc32Of17AndTailItem> items;
  size_t at = 0;
  uint64_t checked_bytes = 0;
  for (size_t i = 0; i < kFrames; ++i) {
    const size_t n = varied ? payload / 2 + rng.Uniform(payload + 1) : payload;
    const char* frame = bytes.data() + at;
    items.push_back(
        {frame + 8, frame + 32, n, internal::Crc32Of17AndTail(frame + 8, frame + 32, n)});
    at += 32 + n;
    checked_bytes += 17 + n;
  }
  for (auto _ : state) {
    size_t matching = internal::Crc32Of17AndTailMatching(items.data(), items.size());
    benchmark::DoNotOptimize(matching);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kFrames));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * checked_bytes));
}
BENCHMARK(BM_FrameChecks)->ArgsProduct({{4, 60, 132, 500}, {0, 1}});

}  // namespace
}  // namespace ironwal
