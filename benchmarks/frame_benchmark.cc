// Frame encode and decode: one 128-byte entry per frame (a single append) and 100 per
// frame (a W3 batch), raw and with LZ4. Decoding is what a reader does with a frame it has
// read: parse the header, check the CRC, split the entries.
//
//   tools/bazel run -c opt //benchmarks:frame_benchmark
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "benchmark/benchmark.h"

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/util/random.h"

namespace ironwal {

namespace format = internal::format;
using internal::AppendFrame;
using internal::DecodedPayload;
using internal::DecodeFrameHeader;
using internal::DecodePayload;
using internal::FrameEncodeOptions;
using internal::FrameHeader;
using internal::Random;
using internal::RawEntryAt;
using internal::VerifyFramePayload;

namespace {

constexpr size_t kPayloadSize = 128;

// 128-byte, somewhat compressible entries (LZ4 has something to find across a batch).
std::vector<std::string> Entries(size_t count) {
  Random rng(11);
  std::vector<std::string> entries;
  for (size_t i = 0; i < count; ++i) {
    std::string e = absl::StrFormat("account=%05d op=%s amount=%d ", rng.Uniform(1000),
                                    rng.OneIn(2) ? "debit" : "credit", rng.Uniform(100000));
    e.resize(kPayloadSize, '.');
    entries.push_back(std::move(e));
  }
  return entries;
}

FrameEncodeOptions Options(const benchmark::State& state) {
  FrameEncodeOptions options;
  options.lz4 = state.range(1) != 0;
  return options;
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"entries", "lz4"});
  b->Args({1, 0})->Args({100, 0})->Args({100, 1});
}

void BM_EncodeFrame(benchmark::State& state) {
  const std::vector<std::string> owned = Entries(static_cast<size_t>(state.range(0)));
  const std::vector<absl::string_view> entries(owned.begin(), owned.end());
  const FrameEncodeOptions options = Options(state);
  std::string dst;
  uint64_t id = 0;
  for (auto _ : state) {
    dst.clear();
    if (!AppendFrame(id, entries, options, &dst).ok()) {
      state.SkipWithError("AppendFrame failed");
      return;
    }
    id += entries.size();
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * entries.size() * kPayloadSize));
  state.SetLabel(absl::StrFormat("%d bytes on disk", dst.size()));
}
BENCHMARK(BM_EncodeFrame)->Apply(Args);

void BM_DecodeFrame(benchmark::State& state) {
  const std::vector<std::string> owned = Entries(static_cast<size_t>(state.range(0)));
  const std::vector<absl::string_view> entries(owned.begin(), owned.end());
  std::string frame;
  if (!AppendFrame(0, entries, Options(state), &frame).ok()) {
    state.SkipWithError("AppendFrame failed");
    return;
  }
  const absl::string_view payload = absl::string_view(frame).substr(format::kFrameHeaderSize);
  for (auto _ : state) {
    absl::StatusOr<FrameHeader> header = DecodeFrameHeader(frame);
    if (!header.ok() || !VerifyFramePayload(*header, payload).ok()) {
      state.SkipWithError("bad frame");
      return;
    }
    absl::StatusOr<DecodedPayload> decoded = DecodePayload(*header, payload);
    if (!decoded.ok()) {
      state.SkipWithError("DecodePayload failed");
      return;
    }
    benchmark::DoNotOptimize(decoded->entries().data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * entries.size() * kPayloadSize));
}
BENCHMARK(BM_DecodeFrame)->Apply(Args);

// The single-Get path on a raw frame: header, CRC, then only the wanted entry.
void BM_DecodeOneEntry(benchmark::State& state) {
  const std::vector<std::string> owned = Entries(static_cast<size_t>(state.range(0)));
  const std::vector<absl::string_view> entries(owned.begin(), owned.end());
  std::string frame;
  if (!AppendFrame(0, entries, FrameEncodeOptions(), &frame).ok()) {
    state.SkipWithError("AppendFrame failed");
    return;
  }
  const absl::string_view payload = absl::string_view(frame).substr(format::kFrameHeaderSize);
  const uint64_t index = entries.size() / 2;
  for (auto _ : state) {
    absl::StatusOr<FrameHeader> header = DecodeFrameHeader(frame);
    if (!header.ok() || !VerifyFramePayload(*header, payload).ok()) {
      state.SkipWithError("bad frame");
      return;
    }
    absl::StatusOr<absl::string_view> entry = RawEntryAt(payload, header->entry_count, index);
    if (!entry.ok()) {
      state.SkipWithError("RawEntryAt failed");
      return;
    }
    benchmark::DoNotOptimize(entry->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeOneEntry)->Arg(1)->Arg(100);

}  // namespace
}  // namespace ironwal
