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

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/ironwal.h"
#include "ironwal/raft/raft_storage.h"

namespace ironwal {
namespace raft {
namespace testing {
namespace {

// The lowest ephemeral port: the kernel hands out ports from there up to connect() and to
// bind(port 0), so a port below it that is free now stays free unless another process
// picks the same one.
int EphemeralLow() {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    int lo = 0;
    int hi = 0;
    if (std::fscanf(f, "%d %d", &lo, &hi) == 2 && lo > 2048) low = lo;
    std::fclose(f);
  }
  return low;
}

// Whether 127.0.0.1:port can be bound now.
bool CanBind(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  ::close(fd);
  return ok;
}

// A port for a node to listen on that nothing holds now. Not from the ephemeral range: a
// port bound to 0 and released there could be handed at once to another process's
// outgoing connection or bind(0) (parallel test shards running clusters of their own),
// and a node that cannot bind its port exits at start while the test talks to whatever
// took it. Below that range the candidates start at a point drawn from this process's
// ID, so parallel test processes walk different ports, and each is checked by a bind.
int FreePort() {
  static int next = -1;
  const int low = 10000;
  const int span = EphemeralLow() - low;
  if (next < 0) next = static_cast<int>((static_cast<unsigned>(::getpid()) * 7919u) % span);
  for (int tries = 0; tries < span; ++tries) {
    const int port = low + next;
    next = (next + 1) % span;
    if (CanBind(port)) return port;
  }
  return 0;  // none free: the node fails to start and says so
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

absl::Status Cluster::Start(int id, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {binary_, absl::StrCat("--id=", id), "--dir=" + dir(id),
                                   "--cluster=" + absl::StrJoin(peers_, ","),
                                   "--client-port=" + clients_[id - 1].substr(10)};
  args.insert(args.end(), common_flags_.begin(), common_flags_.end());
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  std::string log = absl::StrCat(root_, "/n", id, ".log");
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
