// open_probe: times Wal::Open of a root holding N streams, for strace/perf of the open
// path (issue 17's W9 row). `open_probe ROOT N create` makes N streams of one entry each;
// `open_probe ROOT N open [REPEATS] [async_append] [deferred]` opens it REPEATS times,
// printing each open's milliseconds, and with async_append appends once to every stream
// after the last open (kAsync); with deferred, opens with defer_stream_recovery and
// prints after each open how long RecoverPendingStreams then takes. Single-threaded;
// prints numbers, asserts nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "ironwal/ironwal.h"

namespace {

using ironwal::Wal;
using ironwal::WalOptions;

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: open_probe ROOT N create|open [REPEATS] [async_append] [deferred]\n");
    return 2;
  }
  WalOptions options;
  options.root = argv[1];
  const long n = std::atol(argv[2]);
  const std::string mode = argv[3];
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 1;
  bool append = false;
  for (int i = 5; i < argc; ++i) {
    if (std::string(argv[i]) == "async_append") append = true;
    if (std::string(argv[i]) == "deferred") options.defer_stream_recovery = true;
  }
  options.sync_mode = ironwal::SyncMode::kAsync;
  if (mode == "create") {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
    if (!wal.ok()) return Fail(wal.status());
    for (long i = 0; i < n; ++i) {
      absl::StatusOr<uint64_t> id = (*wal)->Append(absl::StrCat("s", i), "payload");
      if (!id.ok()) return Fail(id.status());
    }
    return (*wal)->Close().ok() ? 0 : 1;
  }
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
    const auto end = std::chrono::steady_clock::now();
    if (!wal.ok()) return Fail(wal.status());
    std::printf("open%s %ld streams: %.1f ms\n", options.defer_stream_recovery ? " deferred" : "",
                n, std::chrono::duration<double, std::milli>(end - start).count());
    if (options.defer_stream_recovery && !append) {
      const auto a = std::chrono::steady_clock::now();
      const absl::Status recovered = (*wal)->RecoverPendingStreams();
      if (!recovered.ok()) return Fail(recovered);
      const auto b = std::chrono::steady_clock::now();
      std::printf("recover pending: %.1f ms\n",
                  std::chrono::duration<double, std::milli>(b - a).count());
    }
    if (append && r + 1 == repeats) {
      const auto a = std::chrono::steady_clock::now();
      for (long i = 0; i < n; ++i) {
        absl::StatusOr<uint64_t> id = (*wal)->Append(absl::StrCat("s", i), "payload");
        if (!id.ok()) return Fail(id.status());
      }
      const auto b = std::chrono::steady_clock::now();
      std::printf("first appends: %.1f ms\n",
                  std::chrono::duration<double, std::milli>(b - a).count());
    }
    absl::Status closed = (*wal)->Close();
    if (!closed.ok()) return Fail(closed);
  }
  return 0;
}
