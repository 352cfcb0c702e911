// raft_bench: a 3-node loopback cluster of raft_node processes, with ironwal storage
// (preallocation off, then on) and with libraft's own libuv storage, in the same run:
// committed entries per second and p50/p99 commit latency (client send to "OK", i.e.
// committed and applied on the leader) at 1 and 16 concurrent clients, 128-byte entries.
//
//   tools/bazel run -c opt //ironwal/raft:raft_bench -- [--seconds=5] [--dir=/tmp/raft_bench]
//       [--clients=1,16] [--storages=ironwal-off,ironwal-on,uv] [--preallocate-bytes=N]
//
// Storages: ironwal-off is RaftStorageOptions::preallocate_bytes = 0; ironwal-on is
// --preallocate-bytes (default: RaftStorageOptions' default, 1 MiB); ironwal is the
// storage's default; uv is libraft's own.
//
// The data directories go under --dir (default: a fresh directory in /tmp); put it on the
// disk you mean to measure.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "ironwal/raft/client.h"
#include "ironwal/raft/local_cluster.h"
#include "ironwal/raft/raft_storage.h"

namespace ironwal {
namespace raft {
namespace {

struct Result {
  double entries_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t count = 0;
  uint64_t errors = 0;
};

std::string NodeBinary(const char* argv0) {
  std::string self = argv0;
  std::string dir = self.substr(0, self.find_last_of('/') + 1);
  return dir + "raft_node";
}

Result RunLoad(const std::vector<std::string>& clients, int concurrency, int seconds) {
  std::vector<std::vector<uint64_t>> latencies(concurrency);
  std::atomic<uint64_t> errors{0};
  const uint64_t end = MonotonicMillis() + seconds * 1000ull;
  const std::string body(120, 'x');  // padded to 128 bytes by raft_node
  std::vector<std::thread> threads;
  uint64_t start_us = MonotonicMicros();
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      ClusterClient client(clients);
      for (uint64_t i = 0; MonotonicMillis() < end; ++i) {
        std::string text = absl::StrCat(t, "-", i, "-", body).substr(0, 120);
        uint64_t t0 = MonotonicMicros();
        if (client.Put(text, 10000).ok()) {
          latencies[t].push_back(MonotonicMicros() - t0);
        } else {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  double elapsed_s = (MonotonicMicros() - start_us) / 1e6;
  std::vector<uint64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.count = all.size();
  r.errors = errors;
  r.entries_per_s = all.size() / elapsed_s;
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2] / 1000.0;
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)] / 1000.0;
  }
  return r;
}

// raft_node's flags for the storage named `storage` (see the file comment); empty if unknown.
std::vector<std::string> StorageFlags(const std::string& storage, uint64_t preallocate_bytes) {
  if (storage == "uv" || storage == "ironwal") return {"--storage=" + storage};
  if (storage == "ironwal-off") return {"--storage=ironwal", "--preallocate-bytes=0"};
  if (storage == "ironwal-on") {
    return {"--storage=ironwal", absl::StrCat("--preallocate-bytes=", preallocate_bytes)};
  }
  return {};
}

int Main(int argc, char** argv) {
  int seconds = 5;
  std::string root;
  std::vector<int> concurrencies = {1, 16};
  std::vector<std::string> storages = {"ironwal-off", "ironwal-on", "uv"};
  uint64_t preallocate_bytes = RaftStorageOptions::kDefaultPreallocateBytes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) {
      if (!absl::SimpleAtoi(a.substr(10), &seconds)) return 2;
    } else if (a.rfind("--dir=", 0) == 0) {
      root = a.substr(6);
    } else if (a.rfind("--clients=", 0) == 0) {
      concurrencies.clear();
      for (absl::string_view c : absl::StrSplit(a.substr(10), ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(c, &n)) return 2;
        concurrencies.push_back(n);
      }
    } else if (a.rfind("--storages=", 0) == 0) {
      storages = absl::StrSplit(a.substr(11), ',');
    } else if (a.rfind("--preallocate-bytes=", 0) == 0) {
      if (!absl::SimpleAtoi(a.substr(20), &preallocate_bytes)) return 2;
    } else {
      std::fprintf(stderr, "raft_bench: unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  for (const std::string& storage : storages) {
    if (StorageFlags(storage, preallocate_bytes).empty()) {
      std::fprintf(stderr, "raft_bench: unknown storage %s\n", storage.c_str());
      return 2;
    }
  }
  if (root.empty()) root = absl::StrCat("/tmp/raft_bench.", ::getpid());
  std::printf("%-11s %8s %12s %10s %10s %8s\n", "storage", "clients", "entries/s", "p50 ms",
              "p99 ms", "errors");
  for (int concurrency : concurrencies) {
    for (const std::string& storage : storages) {
      std::string dir = absl::StrCat(root, "/", storage, "-", concurrency);
      std::string cmd = absl::StrCat("rm -rf '", dir, "' && mkdir -p '", dir, "'");
      if (std::system(cmd.c_str()) != 0) return 1;
      testing::Cluster cluster(NodeBinary(argv[0]), dir, 3,
                               StorageFlags(storage, preallocate_bytes));
      if (!cluster.StartAll().ok() || cluster.WaitForLeader(30000) == 0) {
        std::fprintf(stderr, "raft_bench: no leader for %s\n", storage.c_str());
        return 1;
      }
      RunLoad(cluster.client_addresses(), concurrency, 1);  // warm up
      Result r = RunLoad(cluster.client_addresses(), concurrency, seconds);
      std::printf("%-11s %8d %12.0f %10.2f %10.2f %8llu\n", storage.c_str(), concurrency,
                  r.entries_per_s, r.p50_ms, r.p99_ms, (unsigned long long)r.errors);
      std::fflush(stdout);
    }
  }
  std::string cmd = absl::StrCat("rm -rf '", root, "'");
  return std::system(cmd.c_str()) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace raft
}  // namespace ironwal

int main(int argc, char** argv) { return ironwal::raft::Main(argc, argv); }
