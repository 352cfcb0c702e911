// Real 3-node clusters of raft_node processes on loopback, with ironwal storage: commit
// and identical logs, SIGKILL of the leader, a snapshot to a lagging node, a conflicting
// uncommitted suffix truncated, and fail-stop on an fsync EIO; and the harness's Start
// starting again a node that exits before it serves (its port held by the test). Real
// timers: every wait is bounded polling on a condition.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/raft/client.h"
#include "ironwal/raft/codec.h"
#include "ironwal/raft/local_cluster.h"
#include "ironwal/raft/raft_storage.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace raft {
namespace testing {
namespace {

constexpr int kWaitMs = 30000;
const std::vector<std::string> kFlags = {"--election-timeout-ms=1000", "--heartbeat-ms=100"};

// The applied command texts that an entry of the stored log carries (padding removed).
std::string CommandText(const std::string& stored) {
  absl::StatusOr<LogEntry> e = DecodeEntry(stored, "test");
  if (!e.ok() || e->type != 1) return "";
  std::string text = e->payload;
  text.erase(text.find_last_not_of('\0') + 1);
  return text;
}

void PutAll(ClusterClient* client, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_OK(client->Put(absl::StrCat(prefix, i), kWaitMs).status()) << prefix << i;
  }
}

void StopAll(Cluster* c, const std::vector<int>& ids) {
  for (int id : ids) {
    ASSERT_OK_AND_ASSIGN(int status, c->Stop(id, SIGTERM));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node " << id << " " << status;
  }
}

// Every index two stored logs both hold has the same entry.
void ExpectSameWhereBothHold(const StoredLog& a, const StoredLog& b, const std::string& what) {
  uint64_t lo = std::max(a.first_index, b.first_index);
  uint64_t hi = std::min(a.first_index + a.entries.size(), b.first_index + b.entries.size());
  for (uint64_t i = lo; i < hi; ++i) {
    ASSERT_EQ(a.entries[i - a.first_index], b.entries[i - b.first_index]) << what << " index " << i;
  }
}

TEST(ClusterTest, CommitsAThousandEntriesAndEveryLogHoldsThemAtTheSameIndexes) {
  Cluster c(RaftNodeBinary(), TestDir("commit"), 3, kFlags);
  ASSERT_OK(c.StartAll());
  ASSERT_NE(c.WaitForLeader(kWaitMs), 0);
  ClusterClient client(c.client_addresses());
  PutAll(&client, "e", 1000);
  ASSERT_TRUE(c.WaitApplied({1, 2, 3}, 1000, kWaitMs));
  StopAll(&c, {1, 2, 3});
  std::vector<StoredLog> logs;
  for (int id = 1; id <= 3; ++id) {
    ASSERT_OK_AND_ASSIGN(StoredLog log, c.ReadLog(id));
    EXPECT_EQ(log.first_index, 1u);
    logs.push_back(std::move(log));
  }
  for (int i = 1; i < 3; ++i) {
    ASSERT_EQ(logs[i].entries.size(), logs[0].entries.size()) << "node " << i + 1;
    ExpectSameWhereBothHold(logs[0], logs[i], absl::StrCat("node 1 vs ", i + 1));
  }
  std::vector<std::string> commands;
  for (const std::string& e : logs[0].entries) {
    if (!CommandText(e).empty()) commands.push_back(CommandText(e));
  }
  ASSERT_EQ(commands.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(commands[i], absl::StrCat("e", i));
}

TEST(ClusterTest, SigkillOfTheLeaderLosesNothingAndTheNodeCatchesUp) {
  Cluster c(RaftNodeBinary(), TestDir("sigkill"), 3, kFlags);
  ASSERT_OK(c.StartAll());
  int old_leader = c.WaitForLeader(kWaitMs);
  ASSERT_NE(old_leader, 0);
  ClusterClient client(c.client_addresses());
  PutAll(&client, "a", 200);
  ASSERT_OK(c.Stop(old_leader, SIGKILL).status());
  int new_leader = c.WaitForLeader(kWaitMs);
  ASSERT_NE(new_leader, 0);
  EXPECT_NE(new_leader, old_leader);
  PutAll(&client, "b", 200);
  ASSERT_OK(c.Start(old_leader));
  ASSERT_TRUE(c.WaitApplied({1, 2, 3}, 400, kWaitMs));
  std::vector<std::vector<std::string>> applied;
  for (int id = 1; id <= 3; ++id) {
    ASSERT_OK_AND_ASSIGN(auto commands, ReadCommands(c.client_addresses()[id - 1], 5000));
    applied.push_back(commands);
  }
  StopAll(&c, {1, 2, 3});
  std::set<std::string> have(applied[0].begin(), applied[0].end());
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(have.count(absl::StrCat("a", i))) << "lost a" << i;
    EXPECT_TRUE(have.count(absl::StrCat("b", i))) << "lost b" << i;
  }
  ASSERT_OK_AND_ASSIGN(StoredLog reference, c.ReadLog(new_leader));
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(applied[id - 1], applied[0]) << "node " << id;
    ASSERT_OK_AND_ASSIGN(StoredLog log, c.ReadLog(id));
    EXPECT_EQ(log.first_index + log.entries.size(),
              reference.first_index + reference.entries.size())
        << "node " << id;
    ExpectSameWhereBothHold(reference, log, absl::StrCat("node ", id));
  }
}

TEST(ClusterTest, ALaggingNodeReceivesASnapshotAndItsLogStartsAfterIt) {
  std::vector<std::string> flags = kFlags;
  flags.push_back("--snapshot-threshold=64");
  flags.push_back("--snapshot-trailing=16");
  Cluster c(RaftNodeBinary(), TestDir("snapshot"), 3, flags);
  ASSERT_OK(c.StartAll());
  int leader = c.WaitForLeader(kWaitMs);
  ASSERT_NE(leader, 0);
  int lagging = leader == 3 ? 2 : 3;
  ASSERT_OK(c.Stop(lagging, SIGKILL).status());
  ClusterClient client(c.client_addresses());
  PutAll(&client, "s", 400);
  ASSERT_OK(c.Start(lagging));
  ASSERT_TRUE(c.WaitApplied({1, 2, 3}, 400, kWaitMs));
  ASSERT_OK_AND_ASSIGN(auto lagging_commands,
                       ReadCommands(c.client_addresses()[lagging - 1], 5000));
  ASSERT_OK_AND_ASSIGN(auto leader_commands, ReadCommands(c.client_addresses()[leader - 1], 5000));
  StopAll(&c, {1, 2, 3});
  EXPECT_EQ(lagging_commands, leader_commands);
  RaftStorageOptions options;
  options.dir = c.dir(lagging);
  ASSERT_OK_AND_ASSIGN(auto storage, RaftStorage::Open(options));
  ASSERT_OK_AND_ASSIGN(auto snapshot, storage->GetSnapshot());
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_TRUE(snapshot->installed) << "the lagging node's snapshot was not sent by the leader";
  EXPECT_GT(snapshot->index, 64u);
  ASSERT_OK_AND_ASSIGN(StreamInfo info, storage->LogInfo());
  EXPECT_EQ(info.first_id, snapshot->index + 1);
  storage.reset();
  ASSERT_OK_AND_ASSIGN(StoredLog lagging_log, c.ReadLog(lagging));
  ASSERT_OK_AND_ASSIGN(StoredLog leader_log, c.ReadLog(leader));
  ExpectSameWhereBothHold(leader_log, lagging_log, "lagging vs leader");
}

TEST(ClusterTest, AConflictingUncommittedSuffixIsTruncatedAndReplaced) {
  Cluster c(RaftNodeBinary(), TestDir("conflict"), 3, kFlags);
  ASSERT_OK(c.StartAll());
  int old_leader = c.WaitForLeader(kWaitMs);
  ASSERT_NE(old_leader, 0);
  std::vector<int> others;
  for (int id = 1; id <= 3; ++id) {
    if (id != old_leader) others.push_back(id);
  }
  ClusterClient client(c.client_addresses());
  PutAll(&client, "c", 20);
  ASSERT_OK_AND_ASSIGN(NodeStatus before, QueryStatus(c.client_addresses()[old_leader - 1], 2000));
  // The followers freeze: what the leader appends now cannot commit.
  for (int id : others) c.Signal(id, SIGSTOP);
  NodeConnection raw;
  ASSERT_OK(raw.Connect(c.client_addresses()[old_leader - 1], 2000));
  for (int i = 0; i < 5; ++i) ASSERT_OK(raw.SendLine(absl::StrCat("PUT u", i)));
  ASSERT_TRUE(WaitFor(kWaitMs, [&] {
    absl::StatusOr<NodeStatus> s = QueryStatus(c.client_addresses()[old_leader - 1], 1000);
    return s.ok() && s->stored >= before.last + 5;
  }));
  ASSERT_OK(c.Stop(old_leader, SIGKILL).status());
  // The frozen followers die before reading what the leader sent them (it waits in their
  // sockets), and restart from their ironwal directories without the suffix.
  for (int id : others) {
    ASSERT_OK(c.Stop(id, SIGKILL).status());
    ASSERT_OK(c.Start(id));
  }
  ASSERT_OK_AND_ASSIGN(StoredLog stale, c.ReadLog(old_leader));
  std::vector<uint64_t> uncommitted;  // indexes of u0..u4 in the old leader's log
  for (size_t i = 0; i < stale.entries.size(); ++i) {
    if (CommandText(stale.entries[i]).rfind("u", 0) == 0)
      uncommitted.push_back(stale.first_index + i);
  }
  ASSERT_EQ(uncommitted.size(), 5u);
  ASSERT_NE(c.WaitForLeader(kWaitMs), 0);
  PutAll(&client, "n", 10);
  ASSERT_OK(c.Start(old_leader));
  ASSERT_TRUE(c.WaitApplied({1, 2, 3}, 30, kWaitMs));
  ASSERT_OK_AND_ASSIGN(auto commands, ReadCommands(c.client_addresses()[old_leader - 1], 5000));
  StopAll(&c, {1, 2, 3});
  for (const std::string& cmd : commands) EXPECT_NE(cmd.rfind("u", 0), 0u) << cmd << " applied";
  ASSERT_OK_AND_ASSIGN(StoredLog healed, c.ReadLog(old_leader));
  for (uint64_t index : uncommitted) {
    ASSERT_LT(index - healed.first_index, healed.entries.size());
    EXPECT_EQ(CommandText(healed.entries[index - healed.first_index]).rfind("u", 0),
              std::string::npos)
        << "index " << index << " kept its uncommitted entry";
  }
  for (int id : others) {
    ASSERT_OK_AND_ASSIGN(StoredLog log, c.ReadLog(id));
    EXPECT_EQ(log.entries.size(), healed.entries.size());
    ExpectSameWhereBothHold(log, healed, absl::StrCat("node ", id));
  }
}

TEST(ClusterTest, AnFsyncErrorStopsThatNodeAndTheOthersGoOn) {
  Cluster c(RaftNodeBinary(), TestDir("failstop"), 3, kFlags);
  ASSERT_OK(c.Start(1));
  ASSERT_OK(c.Start(2));
  ASSERT_OK(c.Start(3, {"--fail-fsync-after=40"}));
  ASSERT_NE(c.WaitForLeader(kWaitMs), 0);
  ClusterClient client(c.client_addresses());
  PutAll(&client, "f", 300);
  ASSERT_OK_AND_ASSIGN(int status, c.WaitExit(3, kWaitMs));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << "wait status " << status;
  ASSERT_TRUE(c.WaitApplied({1, 2}, 300, kWaitMs));
  StopAll(&c, {1, 2});
  ASSERT_OK_AND_ASSIGN(StoredLog one, c.ReadLog(1));
  ASSERT_OK_AND_ASSIGN(StoredLog two, c.ReadLog(2));
  ASSERT_OK_AND_ASSIGN(StoredLog failed, c.ReadLog(3));
  ExpectSameWhereBothHold(one, two, "node 1 vs 2");
  ExpectSameWhereBothHold(one, failed, "node 1 vs the failed node 3");
  EXPECT_LT(failed.entries.size(), one.entries.size());
}

// The ironwal CLI's output (stdout and stderr) and exit code for `args`.
std::pair<std::string, int> RunCli(const std::string& args) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string cmd = absl::StrCat(srcdir, "/", workspace, "/ironwal/cli/ironwal ", args, " 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  int status = ::pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(ClusterTest, TheIronwalCliVerifiesAndDumpsANodesDirectory) {
  Cluster c(RaftNodeBinary(), TestDir("cli"), 3, kFlags);
  ASSERT_OK(c.StartAll());
  ASSERT_NE(c.WaitForLeader(kWaitMs), 0);
  ClusterClient client(c.client_addresses());
  PutAll(&client, "cli-entry-", 10);
  ASSERT_TRUE(c.WaitApplied({1, 2, 3}, 10, kWaitMs));
  StopAll(&c, {1, 2, 3});
  const std::string wal = c.dir(2) + "/wal";
  auto [verify, verify_code] = RunCli("verify " + wal);
  EXPECT_EQ(verify_code, 0) << verify;
  EXPECT_NE(verify.find("raft-log: ok: IDs [1, "), std::string::npos) << verify;
  auto [ls, ls_code] = RunCli("ls " + wal);
  EXPECT_EQ(ls_code, 0) << ls;
  EXPECT_NE(ls.find("raft-log"), std::string::npos) << ls;
  // Entry 1 is the bootstrap configuration; the commands follow in order.
  auto [dump, dump_code] = RunCli("dump " + wal + " raft-log --from 1 --to 12");
  EXPECT_EQ(dump_code, 0) << dump;
  EXPECT_NE(dump.find("cli-entry-0"), std::string::npos) << dump;
  EXPECT_NE(dump.find("cli-entry-9"), std::string::npos) << dump;
  EXPECT_LT(dump.find("cli-entry-0"), dump.find("cli-entry-9")) << dump;
  // A damaged node directory is reported, not passed: flip a byte inside the segment.
  ASSERT_OK_AND_ASSIGN(StoredLog log, c.ReadLog(2));
  const std::string segment = wal + "/raft-log/00000000000000000001.wal";
  FILE* f = std::fopen(segment.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, -20, SEEK_END);
  int ch = std::fgetc(f);
  std::fseek(f, -20, SEEK_END);
  std::fputc(ch ^ 0x40, f);
  std::fclose(f);
  auto [damaged, damaged_code] = RunCli("verify " + wal);
  EXPECT_NE(damaged_code, 0) << damaged;
}

// A socket listening on the loopback port of `address` ("127.0.0.1:PORT"), so that no
// node can bind it until it is closed; -1 when that fails.
int HoldPort(const std::string& address) {
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(address.find(':') + 1), &port)) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 1) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// How many times `needle` occurs in `text`.
int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Start's retry (local_cluster.cc): the node's client port is held by the test, so its
// first start exits before it serves; the hook frees the port before the second attempt,
// which serves on the same port.
TEST(ClusterStartTest, ANodeThatExitsAtStartIsStartedAgainOnTheSamePorts) {
  const std::string root = TestDir("start_again");
  Cluster c(RaftNodeBinary(), root, 3, kFlags);
  const std::string address = c.client_addresses()[0];
  int held = HoldPort(address);
  ASSERT_GE(held, 0) << "cannot hold " << address;
  std::vector<int> attempts;
  c.set_start_attempt_hook([&](int id, int attempt) {
    EXPECT_EQ(id, 1);
    attempts.push_back(attempt);
    if (attempt == 1) {
      ::close(held);
      held = -1;
    }
  });
  ASSERT_OK(c.Start(1));
  if (held >= 0) ::close(held);
  EXPECT_EQ(attempts, (std::vector<int>{0, 1}));
  EXPECT_TRUE(c.running(1));
  ASSERT_OK(QueryStatus(address, kWaitMs).status()) << "the node serves on " << address;
  const std::string log = ReadWholeFile(root + "/n1.log");
  EXPECT_EQ(Count(log, absl::StrCat("listen on ", address, " failed")), 1) << log;
  EXPECT_EQ(Count(log, ": serving"), 1) << log;
  ASSERT_OK_AND_ASSIGN(int status, c.Stop(1, SIGTERM));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// With the port held throughout, Start gives up after 10 attempts, all on that port, with
// Unavailable carrying what the node said.
TEST(ClusterStartTest, ANodeThatNeverServesIsUnavailableAfterTenAttempts) {
  const std::string root = TestDir("never_serves");
  Cluster c(RaftNodeBinary(), root, 3, kFlags);
  const std::string address = c.client_addresses()[0];
  const int held = HoldPort(address);
  ASSERT_GE(held, 0) << "cannot hold " << address;
  int attempts = 0;
  c.set_start_attempt_hook([&](int, int attempt) { EXPECT_EQ(attempt, attempts++); });
  const absl::Status started = c.Start(1);
  ::close(held);
  EXPECT_EQ(started.code(), absl::StatusCode::kUnavailable) << started;
  EXPECT_THAT(std::string(started.message()),
              ::testing::HasSubstr("node 1 exited at start 10 times; last said: "));
  EXPECT_THAT(std::string(started.message()),
              ::testing::HasSubstr(absl::StrCat("listen on ", address, " failed")));
  EXPECT_EQ(attempts, 10);
  EXPECT_FALSE(c.running(1));
  const std::string log = ReadWholeFile(root + "/n1.log");
  EXPECT_EQ(Count(log, absl::StrCat("listen on ", address, " failed")), 10) << log;
  EXPECT_EQ(Count(log, ": serving"), 0) << log;
}

}  // namespace
}  // namespace testing
}  // namespace raft
}  // namespace ironwal
