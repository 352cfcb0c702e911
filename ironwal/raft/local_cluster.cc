#include "ironwal/raft/local_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/ironwal.h"
#include "ironwal/raft/raft_storage.h"

namespace ironwal {
namespace raft {
namespace testing {
namespace {

// A port the kernel says is free now (bound to port 0, then released), never one this
// process handed out before: the kernel may give a just-released port to the next bind(0),
// and two nodes of one cluster given one port would leave the second unable to listen
// (it exits at start while the test's queries reach the node holding the port).
int FreePort() {
  static std::set<int>* const given = new std::set<int>();
  for (int tries = 0; tries < 100; ++tries) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    ::close(fd);
    const int port = ntohs(sa.sin_port);
    if (given->insert(port).second) return port;
  }
  return 0;  // none new: the node fails to start and says so
}

// The whole file at `path`, or "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

}  // namespace

std::string RaftNodeBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", workspace ? workspace : "ironwal",
                      "/ironwal/raft/raft_node");
}

std::string TestDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp ? tmp : "/tmp", "/", name);
  std::string cmd = absl::StrCat("rm -rf '", dir, "' && mkdir -p '", dir, "'");
  if (std::system(cmd.c_str()) != 0) std::abort();
  return dir;
}

Cluster::Cluster(std::string binary, std::string root, int size,
                 std::vector<std::string> common_flags)
    : binary_(std::move(binary)),
      root_(std::move(root)),
      common_flags_(std::move(common_flags)),
      pids_(size, 0) {
  for (int i = 0; i < size; ++i) {
    peers_.push_back(absl::StrCat("127.0.0.1:", FreePort()));
    clients_.push_back(absl::StrCat("127.0.0.1:", FreePort()));
  }
}

Cluster::~Cluster() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] > 0) (void)Stop(static_cast<int>(i) + 1, SIGKILL);
  }
}

std::string Cluster::dir(int id) const { return absl::StrCat(root_, "/n", id); }

absl::Status Cluster::Spawn(int id, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {binary_, absl::StrCat("--id=", id), "--dir=" + dir(id),
                                   "--cluster=" + absl::StrJoin(peers_, ","),
                                   "--client-port=" + clients_[id - 1].substr(10)};
  args.insert(args.end(), common_flags_.begin(), common_flags_.end());
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  const std::string log = LogPath(id);
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "a", stderr);
    (void)f;
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  pids_[id - 1] = pid;
  return absl::OkStatus();
}

std::string Cluster::LogPath(int id) const { return absl::StrCat(root_, "/n", id, ".log"); }

// A node that cannot bind its ports exits at start (status 1) before its log says it
// serves: the kernel's free ports (FreePort) can be taken by another process (an outgoing
// connection, a parallel test) before the node binds them, and a restarted node's port
// can be held for a moment. Such a start is tried again, up to kStartAttempts times, with
// the same ports (the other nodes know them); a node that serves, or that keeps running
// without saying so within the wait, is left to the test.
absl::Status Cluster::Start(int id, const std::vector<std::string>& extra) {
  constexpr int kStartAttempts = 10;
  std::string why;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    const std::string log = LogPath(id);
    const size_t before = ReadFileOrEmpty(log).size();
    if (start_attempt_hook_) start_attempt_hook_(id, attempt);
    absl::Status spawned = Spawn(id, extra);
    if (!spawned.ok()) return spawned;
    const pid_t pid = pids_[id - 1];
    int status = 0;
    bool exited = false;
    WaitFor(30000, [&] {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        return true;
      }
      return ReadFileOrEmpty(log).find(": serving", before) != std::string::npos;
    });
    if (!exited) return absl::OkStatus();
    pids_[id - 1] = 0;
    why = ReadFileOrEmpty(log).substr(before);
  }
  return absl::UnavailableError(
      absl::StrCat("node ", id, " exited at start ", kStartAttempts, " times; last said: ", why));
}

absl::Status Cluster::StartAll() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    absl::Status s = Start(static_cast<int>(i) + 1);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void Cluster::Signal(int id, int sig) {
  if (pids_[id - 1] > 0) ::kill(pids_[id - 1], sig);
}

absl::StatusOr<int> Cluster::Stop(int id, int sig) {
  Signal(id, sig);
  return WaitExit(id, 20000);
}

absl::StatusOr<int> Cluster::WaitExit(int id, int timeout_ms) {
  pid_t pid = pids_[id - 1];
  if (pid <= 0) return absl::FailedPreconditionError(absl::StrCat("node ", id, " not running"));
  int status = 0;
  bool exited = WaitFor(timeout_ms, [&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
  if (!exited) {
    return absl::DeadlineExceededError(
        absl::StrCat("node ", id, " still runs after ", timeout_ms, " ms"));
  }
  pids_[id - 1] = 0;
  return status;
}

int Cluster::WaitForLeader(int timeout_ms) {
  int leader = 0;
  WaitFor(timeout_ms, [&] {
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] <= 0) continue;
      absl::StatusOr<NodeStatus> s = QueryStatus(clients_[i], 1000);
      if (s.ok() && s->state == "leader") {
        leader = static_cast<int>(i) + 1;
        return true;
      }
    }
    return false;
  });
  return leader;
}

bool Cluster::WaitApplied(const std::vector<int>& ids, uint64_t commands, int timeout_ms) {
  return WaitFor(timeout_ms, [&] {
    for (int id : ids) {
      absl::StatusOr<NodeStatus> s = QueryStatus(clients_[id - 1], 1000);
      if (!s.ok() || s->commands < commands) return false;
    }
    return true;
  });
}

absl::StatusOr<StoredLog> Cluster::ReadLog(int id) const {
  WalOptions options;
  options.root = dir(id) + "/wal";
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok()) return wal.status();
  absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(RaftStorage::kStream);
  if (!info.ok()) return info.status();
  StoredLog log;
  log.first_index = info->first_id;
  while (log.first_index + log.entries.size() < info->next_id) {
    uint64_t lo = log.first_index + log.entries.size();
    absl::StatusOr<std::vector<std::string>> chunk =
        (*wal)->ReadRange(RaftStorage::kStream, lo, info->next_id, 8 << 20);
    if (!chunk.ok()) return chunk.status();
    for (std::string& e : *chunk) log.entries.push_back(std::move(e));
  }
  return log;
}

}  // namespace testing
}  // namespace raft
}  // namespace ironwal
