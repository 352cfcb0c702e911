// CRC-32 (zlib polynomial) throughput: the dispatching Crc32Extend (PCLMUL folding on CPUs
// that have it) and the portable slice-by-8 path, over sizes from one small frame to 1 MiB.
//
//   tools/bazel run -c opt //benchmarks:crc32_benchmark
#include <cstdint>
#include <string>

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

}  // namespace
}  // namespace ironwal
