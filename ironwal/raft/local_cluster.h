// File: ironwal/raft/local_cluster.h
//
// A loopback cluster of raft_node processes for tests and the bench: free ports picked by
// the kernel, one data directory per node, start/kill/restart, bounded waits on
// conditions (never fixed sleeps), and each node's ironwal log read back once it stopped.
#ifndef IRONWAL_RAFT_LOCAL_CLUSTER_H_
#define IRONWAL_RAFT_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/raft/client.h"

namespace ironwal {
namespace raft {
namespace testing {

// What a stopped node's Wal stream holds.
struct StoredLog {
  uint64_t first_index = 0;
  std::vector<std::string> entries;  // index first_index + i; EncodeEntry's bytes
};

class Cluster {
 public:
  // `binary`: the raft_node executable; `root`: the directory for the nodes' data.
  Cluster(std::string binary, std::string root, int size, std::vector<std::string> common_flags);
  ~Cluster();  // SIGKILLs what still runs

  // Starts node `id` (1-based) with the common flags and `extra`, and waits until its log
  // says it serves (or 30 s pass). A node that exits before that (it could not bind a
  // port) is started again, up to 10 times; Unavailable, with what it said, after that.
  absl::Status Start(int id, const std::vector<std::string>& extra = {});
  // For the harness's own tests: `hook` runs in Start before each attempt to start a
  // node, with the node's id and the attempt's number (0, 1, ...), e.g. to free a port
  // the test held. Empty (the default): nothing runs.
  void set_start_attempt_hook(std::function<void(int id, int attempt)> hook) {
    start_attempt_hook_ = std::move(hook);
  }
  absl::Status StartAll();
  // Sends `sig` and, for SIGKILL/SIGTERM, waits for the exit; its wait status.
  absl::StatusOr<int> Stop(int id, int sig);
  // Waits up to timeout_ms for node `id` to exit by itself; its wait status.
  absl::StatusOr<int> WaitExit(int id, int timeout_ms);
  bool running(int id) const { return pids_[id - 1] > 0; }
  void Signal(int id, int sig);

  const std::vector<std::string>& client_addresses() const { return clients_; }
  std::string dir(int id) const;
  // The leader's id as the running nodes agree on it, within timeout_ms; 0 if none.
  int WaitForLeader(int timeout_ms);
  // Waits until every running node in `ids` has applied at least `commands` commands.
  bool WaitApplied(const std::vector<int>& ids, uint64_t commands, int timeout_ms);
  // The stream of a stopped node.
  absl::StatusOr<StoredLog> ReadLog(int id) const;

 private:
  // Forks and execs node `id`; its stderr goes to LogPath(id).
  absl::Status Spawn(int id, const std::vector<std::string>& extra);
  std::string LogPath(int id) const;

  std::string binary_;
  std::string root_;
  std::vector<std::string> common_flags_;
  std::vector<std::string> peers_;    // raft addresses
  std::vector<std::string> clients_;  // client addresses
  std::vector<pid_t> pids_;
  std::function<void(int id, int attempt)> start_attempt_hook_;
};

// The runfiles path of raft_node for a test.
std::string RaftNodeBinary();
// A fresh directory under TEST_TMPDIR.
std::string TestDir(const std::string& name);

}  // namespace testing
}  // namespace raft
}  // namespace ironwal

#endif  // IRONWAL_RAFT_LOCAL_CLUSTER_H_
