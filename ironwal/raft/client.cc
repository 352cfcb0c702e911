#include "ironwal/raft/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ironwal {
namespace raft {

uint64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t MonotonicMillis() { return MonotonicMicros() / 1000; }

bool WaitFor(int timeout_ms, const std::function<bool()>& done) {
  const uint64_t end = MonotonicMillis() + timeout_ms;
  for (;;) {
    if (done()) return true;
    if (MonotonicMillis() >= end) return false;
    // Bounded polling on a condition (a real cluster runs on real timers).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

NodeConnection::~NodeConnection() { Disconnect(); }

void NodeConnection::Disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

absl::Status NodeConnection::Connect(const std::string& address, int timeout_ms) {
  Disconnect();
  address_ = address;
  std::vector<std::string> parts = absl::StrSplit(address, ':');
  int port = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port)) {
    return absl::InvalidArgumentError(absl::StrCat("connect ", address, ": not host:port"));
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, parts[0].c_str(), &sa.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("connect ", address, ": bad IPv4 address"));
  }
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    int err = errno;
    Disconnect();
    return absl::UnavailableError(absl::StrCat("connect ", address, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status NodeConnection::SendLine(absl::string_view line) {
  std::string out = absl::StrCat(line, "\n");
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      int err = errno;
      Disconnect();
      return absl::UnavailableError(absl::StrCat("send to ", address_, ": ", std::strerror(err)));
    }
    done += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NodeConnection::ReadLine() {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      int err = n == 0 ? ECONNRESET : errno;
      Disconnect();
      return absl::UnavailableError(absl::StrCat("read from ", address_, ": ", std::strerror(err)));
    }
    buffer_.append(chunk, n);
  }
}

absl::StatusOr<NodeStatus> QueryStatus(const std::string& address, int timeout_ms) {
  NodeConnection c;
  if (absl::Status s = c.Connect(address, timeout_ms); !s.ok()) return s;
  if (absl::Status s = c.SendLine("STATUS"); !s.ok()) return s;
  absl::StatusOr<std::string> line = c.ReadLine();
  if (!line.ok()) return line.status();
  std::vector<std::string> f = absl::StrSplit(*line, ' ');
  NodeStatus st;
  if (f.size() != 14 || f[0] != "STATE" || !absl::SimpleAtoi(f[13], &st.stored) ||
      !absl::SimpleAtoi(f[3], &st.leader) || !absl::SimpleAtoi(f[5], &st.term) ||
      !absl::SimpleAtoi(f[7], &st.applied) || !absl::SimpleAtoi(f[9], &st.last) ||
      !absl::SimpleAtoi(f[11], &st.commands)) {
    return absl::DataLossError(absl::StrCat("status from ", address, ": bad reply: ", *line));
  }
  st.state = f[1];
  return st;
}

absl::StatusOr<std::vector<std::string>> ReadCommands(const std::string& address, int timeout_ms) {
  NodeConnection c;
  if (absl::Status s = c.Connect(address, timeout_ms); !s.ok()) return s;
  if (absl::Status s = c.SendLine("READ"); !s.ok()) return s;
  absl::StatusOr<std::string> head = c.ReadLine();
  if (!head.ok()) return head.status();
  uint64_t n = 0;
  if (head->rfind("ENTRIES ", 0) != 0 || !absl::SimpleAtoi(head->substr(8), &n)) {
    return absl::DataLossError(absl::StrCat("read from ", address, ": bad reply: ", *head));
  }
  std::vector<std::string> out;
  for (uint64_t i = 0; i < n; ++i) {
    absl::StatusOr<std::string> line = c.ReadLine();
    if (!line.ok()) return line.status();
    out.push_back(*std::move(line));
  }
  return out;
}

absl::StatusOr<uint64_t> ClusterClient::Put(absl::string_view text, int deadline_ms) {
  const uint64_t end = MonotonicMillis() + deadline_ms;
  absl::Status last = absl::DeadlineExceededError("put: no attempt");
  while (MonotonicMillis() < end) {
    if (!connection_.connected()) {
      last = connection_.Connect(addresses_[leader_], timeout_ms_);
      if (!last.ok()) {
        leader_ = (leader_ + 1) % addresses_.size();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
    }
    absl::Status sent = connection_.SendLine(absl::StrCat("PUT ", text));
    absl::StatusOr<std::string> reply =
        sent.ok() ? connection_.ReadLine() : absl::StatusOr<std::string>(sent);
    if (!reply.ok()) {
      last = reply.status();
      leader_ = (leader_ + 1) % addresses_.size();
      continue;
    }
    uint64_t value = 0;
    if (reply->rfind("OK ", 0) == 0 && absl::SimpleAtoi(reply->substr(3), &value)) return value;
    last = absl::UnavailableError(absl::StrCat("put to ", addresses_[leader_], ": ", *reply));
    connection_.Disconnect();
    if (reply->rfind("NOTLEADER ", 0) == 0 && absl::SimpleAtoi(reply->substr(10), &value) &&
        value >= 1 && value <= addresses_.size()) {
      leader_ = value - 1;
    } else {
      leader_ = (leader_ + 1) % addresses_.size();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("put: no leader committed it within ",
                                                  deadline_ms, " ms; last: ", last.message()));
}

}  // namespace raft
}  // namespace ironwal
