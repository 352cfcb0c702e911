// append_profile: a small, deterministic driver of W1's kAsync appends for instruction-count
// profiling, with statistics on or off, so the cost of WalOptions::statistics can be read in
// instructions per append (which, unlike wall clock, the machine's load does not move). It
// opens a fresh WAL (kAsync, one stream), makes `warmup` appends untimed, then `appends`
// appends of 128 bytes in ProfiledAppends -- the function to give callgrind's
// --toggle-collect:
//
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*ProfiledAppends*'
//       bazel-bin/benchmarks/append_profile on 100000     (one command line)
//
// Arguments: on|off (statistics), appends. Instructions per append = the toggled total /
// appends. Prints the last ID so nothing is optimised away; exits 1 on error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

constexpr char kStream[] = "w1";
constexpr uint64_t kWarmup = 1000;

__attribute__((noinline)) uint64_t ProfiledAppends(Wal* wal, absl::string_view payload,
                                                   uint64_t appends, absl::Status* status) {
  uint64_t last = 0;
  for (uint64_t i = 0; i < appends; ++i) {
    absl::StatusOr<uint64_t> id = wal->Append(kStream, payload);
    if (!id.ok()) {
      *status = id.status();
      return last;
    }
    last = *id;
  }
  return last;
}

absl::Status Run(const std::string& root, bool statistics, uint64_t appends, uint64_t* last) {
  WalOptions options;
  options.root = root;
  options.sync_mode = SyncMode::kAsync;
  options.statistics = statistics;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok()) return wal.status();
  const std::string payload = internal::Random(42).Bytes(128);
  absl::Status status;
  for (uint64_t i = 0; i < kWarmup && status.ok(); ++i) {
    status = (*wal)->Append(kStream, payload).status();
  }
  if (status.ok()) *last = ProfiledAppends(wal->get(), payload, appends, &status);
  absl::Status closed = (*wal)->Close();
  return status.ok() ? closed : status;
}

int Main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: append_profile on|off APPENDS\n");
    return 2;
  }
  const absl::string_view mode = argv[1];
  const uint64_t appends = std::strtoull(argv[2], nullptr, 10);
  char dir[] = "/tmp/append_profile.XXXXXX";
  if ((mode != "on" && mode != "off") || appends == 0 || mkdtemp(dir) == nullptr) return 2;
  uint64_t last = 0;
  const absl::Status status = Run(std::string(dir) + "/wal", mode == "on", appends, &last);
  std::printf("last id %llu: %s\n", static_cast<unsigned long long>(last),
              status.ToString().c_str());
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace ironwal

int main(int argc, char** argv) { return ironwal::Main(argc, argv); }
