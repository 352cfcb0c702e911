// LZ4 frame compress/decompress throughput (bytes/s of uncompressed data) on log-like,
// compressible input, and on random (incompressible) input. The label gives the ratio.
//
//   tools/bazel run -c opt //benchmarks:lz4_frame_benchmark
#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"

#include "ironwal/util/lz4_frame.h"
#include "ironwal/util/random.h"

namespace ironwal {

using internal::Lz4FrameCompress;
using internal::Lz4FrameDecompress;
using internal::Random;

namespace {

// `n` bytes of lines like "ts=1700000123 account=00042 op=debit amount=913\n".
std::string LogLikeBytes(size_t n) {
  Random rng(7);
  std::string out;
  while (out.size() < n) {
    out +=
        absl::StrFormat("ts=%d account=%05d op=%s amount=%d\n", 1700000000 + out.size(),
                        rng.Uniform(1000), rng.OneIn(2) ? "debit" : "credit", rng.Uniform(100000));
  }
  out.resize(n);
  return out;
}

std::string Input(const benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  if (state.range(1) == 0) return LogLikeBytes(n);
  Random rng(n);
  return rng.Bytes(n);
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bytes", "random"});
  for (int64_t n : {1024, 16384, 65536, 1 << 20}) b->Args({n, 0});
  b->Args({65536, 1});
}

void BM_Lz4FrameCompress(benchmark::State& state) {
  const std::string input = Input(state);
  size_t compressed = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> out = Lz4FrameCompress(input);
    if (!out.ok()) {
      state.SkipWithError("compress failed");
      return;
    }
    compressed = out->size();
    benchmark::DoNotOptimize(out->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetLabel(absl::StrFormat("ratio %.2f", static_cast<double>(input.size()) / compressed));
}
BENCHMARK(BM_Lz4FrameCompress)->Apply(Args);

void BM_Lz4FrameDecompress(benchmark::State& state) {
  const std::string input = Input(state);
  absl::StatusOr<std::string> compressed = Lz4FrameCompress(input);
  if (!compressed.ok()) {
    state.SkipWithError("compress failed");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<std::string> out = Lz4FrameDecompress(*compressed, input.size());
    if (!out.ok()) {
      state.SkipWithError("decompress failed");
      return;
    }
    benchmark::DoNotOptimize(out->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_Lz4FrameDecompress)->Apply(Args);

}  // namespace
}  // namespace ironwal
