// File: ironwal/raft/client.h
//
// The client side of raft_node's line protocol (one request line, one response line;
// READ's response is followed by its entries, one per line), over blocking TCP sockets:
//
//   PUT <text>   -> OK <n>          committed and applied as the n-th command
//                   NOTLEADER <id>  (0: leader unknown)    ERR <message>
//   READ         -> ENTRIES <n>, then the n applied commands in order
//   STATUS       -> STATE <leader|follower|candidate|unavailable> LEADER <id> TERM <t>
//                   APPLIED <index> LAST <index> COMMANDS <n> STORED <index>
//
// ClusterClient finds the leader (following NOTLEADER hints, trying the next node when
// one does not answer) within a deadline. Not thread-safe: one per thread.
#ifndef IRONWAL_RAFT_CLIENT_H_
#define IRONWAL_RAFT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace raft {

class NodeConnection {
 public:
  NodeConnection() = default;
  ~NodeConnection();
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // "host:port"; each later read waits at most timeout_ms.
  absl::Status Connect(const std::string& address, int timeout_ms);
  bool connected() const { return fd_ >= 0; }
  void Disconnect();
  absl::Status SendLine(absl::string_view line);
  absl::StatusOr<std::string> ReadLine();

 private:
  int fd_ = -1;
  std::string address_;
  std::string buffer_;
};

struct NodeStatus {
  std::string state;
  uint64_t leader = 0;
  uint64_t term = 0;
  uint64_t applied = 0;
  uint64_t last = 0;
  uint64_t commands = 0;
  uint64_t stored = 0;  // the last index the node's storage has made durable
};

// One request to one node.
absl::StatusOr<NodeStatus> QueryStatus(const std::string& address, int timeout_ms);
absl::StatusOr<std::vector<std::string>> ReadCommands(const std::string& address, int timeout_ms);

class ClusterClient {
 public:
  // `addresses[i]` is the client address of server id i + 1.
  explicit ClusterClient(std::vector<std::string> addresses, int timeout_ms = 2000)
      : addresses_(std::move(addresses)), timeout_ms_(timeout_ms) {}

  // Submits `text` (no newline) to the leader until it is committed or `deadline_ms`
  // (milliseconds of trying) passes; the command's sequence number.
  absl::StatusOr<uint64_t> Put(absl::string_view text, int deadline_ms);

 private:
  std::vector<std::string> addresses_;
  int timeout_ms_;
  size_t leader_ = 0;
  NodeConnection connection_;
};

// Monotonic milliseconds (for deadlines and latencies; never stored).
uint64_t MonotonicMillis();
uint64_t MonotonicMicros();
// Polls `done` every 20 ms until it returns true or `timeout_ms` pass.
bool WaitFor(int timeout_ms, const std::function<bool()>& done);

}  // namespace raft
}  // namespace ironwal

#endif  // IRONWAL_RAFT_CLIENT_H_
