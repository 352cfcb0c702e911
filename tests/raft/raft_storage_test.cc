// RaftStorage (the storage half of //ironwal/raft's raft_io) on SimEnv: what Load returns
// after each storage call, across simulated crashes, and fail-stop after an fsync error.
#include "ironwal/raft/raft_storage.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/raft/codec.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace raft {
namespace {

using ::ironwal::testing::StatusIs;

constexpr char kDir[] = "/node";

LogEntry Entry(uint64_t term, const std::string& payload) { return LogEntry{term, 1, payload}; }

std::vector<LogEntry> Entries(uint64_t term, int n, const std::string& prefix) {
  std::vector<LogEntry> out;
  for (int i = 0; i < n; ++i) out.push_back(Entry(term, prefix + std::to_string(i)));
  return out;
}

class RaftStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<RaftStorage> OpenStorage() {
    RaftStorageOptions options;
    options.env = &env_;
    options.dir = kDir;
    options.max_segment_size = max_segment_size_;
    // The default preallocate_bytes (1 MiB) is capped at max_segment_size: the zeros fill
    // each segment, so every test below runs over preallocated zeros.
    auto storage = RaftStorage::Open(options);
    EXPECT_OK(storage.status());
    return storage.ok() ? *std::move(storage) : nullptr;
  }
  // Closes `storage`, crashes (unsynced data dropped) and reopens.
  std::unique_ptr<RaftStorage> CrashAndReopen(std::unique_ptr<RaftStorage> storage) {
    storage.reset();
    env_.Crash(CrashOptions());
    return OpenStorage();
  }
  // The stream's only segment file's size (the test below keeps one segment).
  uint64_t SegmentFileSize() {
    const std::string stream_dir =
        std::string(kDir) + "/wal/" + Wal::StreamDirectoryName(RaftStorage::kStream).value();
    auto names = env_.GetChildren(stream_dir);
    EXPECT_OK(names.status());
    for (const std::string& name : names.ok() ? *names : std::vector<std::string>()) {
      // A segment is named by 20 digits and ".wal" (FORMAT.md).
      if (name.size() == 24 && name.compare(20, 4, ".wal") == 0) {
        auto size = env_.GetFileSize(stream_dir + "/" + name);
        EXPECT_OK(size.status());
        return size.ok() ? *size : 0;
      }
    }
    ADD_FAILURE() << "no segment in " << stream_dir;
    return 0;
  }

  uint64_t max_segment_size_ = 4096;  // several segments: trims and truncations cross them
  SimEnv env_;
};

// RaftStorageOptions::preallocate_bytes (on by default): Sync leaves zeros ahead of the
// frames, so the next group's appends go over them; a crash leaves them as a clean end.
TEST_F(RaftStorageTest, SyncKeepsZerosAheadThatACrashLeavesAsACleanEnd) {
  max_segment_size_ = 64ull << 20;
  auto storage = OpenStorage();
  ASSERT_OK(storage->Append(1, Entries(1, 20, "a")));
  ASSERT_OK(storage->Sync());
  const uint64_t zeroed = SegmentFileSize();
  EXPECT_GE(zeroed, RaftStorageOptions::kDefaultPreallocateBytes) << "zeros ahead after Sync";
  ASSERT_OK(storage->Append(21, Entries(1, 20, "b")));
  ASSERT_OK(storage->Sync());
  EXPECT_EQ(SegmentFileSize(), zeroed) << "the second group went over the zeros";
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_EQ(state.entries.size(), 40u);
  EXPECT_EQ(state.entries[39].payload, "b19");
  ASSERT_OK(storage->Append(41, Entries(1, 1, "c")));
  ASSERT_OK(storage->Sync());
}

TEST_F(RaftStorageTest, NewStorageLoadsEmptyFromIndexOne) {
  auto storage = OpenStorage();
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  EXPECT_EQ(state.term, 0u);
  EXPECT_EQ(state.vote, 0u);
  EXPECT_FALSE(state.snapshot.has_value());
  EXPECT_EQ(state.start_index, 1u);
  EXPECT_TRUE(state.entries.empty());
}

TEST_F(RaftStorageTest, BootstrapWritesTermOneAndEntryOneOnce) {
  auto storage = OpenStorage();
  LogEntry conf{1, 3, "configuration"};
  ASSERT_OK(storage->Bootstrap(conf));
  EXPECT_FALSE(storage->Bootstrap(conf).ok());
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  EXPECT_EQ(state.term, 1u);
  ASSERT_EQ(state.entries.size(), 1u);
  EXPECT_EQ(state.entries[0], conf);
  EXPECT_FALSE(storage->Bootstrap(conf).ok());
}

TEST_F(RaftStorageTest, TermAndVoteAreDurableAtReturn) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->SetTerm(7));
  ASSERT_OK(storage->SetVote(3));
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  EXPECT_EQ(state.term, 7u);
  EXPECT_EQ(state.vote, 3u);
  ASSERT_OK(storage->SetTerm(8));  // a new term clears the vote
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(state, storage->Load());
  EXPECT_EQ(state.term, 8u);
  EXPECT_EQ(state.vote, 0u);
}

TEST_F(RaftStorageTest, AppendsKeepTheirIndexesAndNextIndexIsChecked) {
  auto storage = OpenStorage();
  std::vector<LogEntry> first = Entries(1, 50, "a");
  ASSERT_OK(storage->Append(1, first));
  ASSERT_OK(storage->Append(51, Entries(1, 10, "b")));
  ASSERT_OK(storage->Sync());
  ASSERT_OK(storage->Append(61, Entries(1, 5, "c")));  // made durable by the close
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_EQ(state.entries.size(), 65u);
  EXPECT_EQ(state.entries[0], first[0]);
  EXPECT_EQ(state.entries[59].payload, "b9");
  EXPECT_EQ(state.entries[64].payload, "c4");
  // An append at any index but the next is refused (and fails the storage: fail-stop).
  EXPECT_FALSE(storage->Append(70, Entries(1, 1, "gap")).ok());
  EXPECT_FALSE(storage->SetTerm(2).ok());
}

TEST_F(RaftStorageTest, TruncateRemovesTheSuffixAcrossSegments) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->Append(1, Entries(1, 200, "x")));
  ASSERT_OK(storage->Truncate(42));
  ASSERT_OK(storage->Append(42, Entries(2, 3, "y")));
  ASSERT_OK(storage->Sync());
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_EQ(state.entries.size(), 44u);
  EXPECT_EQ(state.entries[40], Entry(1, "x40"));
  EXPECT_EQ(state.entries[41], Entry(2, "y0"));
  EXPECT_EQ(state.entries[43], Entry(2, "y2"));
}

SnapshotRecord Snapshot(uint64_t index, uint64_t term, const std::string& data) {
  SnapshotRecord s;
  s.index = index;
  s.term = term;
  s.configuration_index = 1;
  s.servers = {{1, 1, "127.0.0.1:9001"}, {2, 1, "127.0.0.1:9002"}};
  s.data = data;
  return s;
}

TEST_F(RaftStorageTest, SnapshotWithTrailingTrimsTheFrontExactly) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->Append(1, Entries(1, 300, "e")));
  ASSERT_OK(storage->PutSnapshot(Snapshot(250, 1, "state-250"), 20));
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_EQ(state.snapshot->index, 250u);
  EXPECT_EQ(state.snapshot->data, "state-250");
  EXPECT_FALSE(state.snapshot->installed);
  ASSERT_EQ(state.snapshot->servers.size(), 2u);
  EXPECT_EQ(state.snapshot->servers[1].address, "127.0.0.1:9002");
  EXPECT_EQ(state.start_index, 231u);  // 250 - 20 + 1
  ASSERT_EQ(state.entries.size(), 70u);
  EXPECT_EQ(state.entries[0].payload, "e230");
  // A second snapshot replaces the first.
  ASSERT_OK(storage->PutSnapshot(Snapshot(290, 1, "state-290"), 5));
  ASSERT_OK_AND_ASSIGN(auto got, storage->GetSnapshot());
  EXPECT_EQ(got->data, "state-290");
  ASSERT_OK_AND_ASSIGN(auto names, env_.GetChildren(std::string(kDir) + "/snapshots"));
  EXPECT_EQ(names.size(), 1u);
}

TEST_F(RaftStorageTest, InstalledSnapshotRestartsTheLogAfterIt) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->Append(1, Entries(1, 10, "old")));
  ASSERT_OK(storage->PutSnapshot(Snapshot(500, 3, "leader-state"), 0));
  ASSERT_OK(storage->Append(501, Entries(3, 2, "new")));
  ASSERT_OK(storage->Sync());
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_TRUE(state.snapshot->installed);
  EXPECT_EQ(state.start_index, 501u);
  ASSERT_EQ(state.entries.size(), 2u);
  EXPECT_EQ(state.entries[0], Entry(3, "new0"));
}

TEST_F(RaftStorageTest, LoadFinishesAnInstallCutBeforeTheLogReset) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->Append(1, Entries(1, 10, "old")));
  ASSERT_OK(storage->Sync());
  // The install's last step, the log reset, fails: the snapshot file is durable already.
  FaultRule rule;
  rule.op = SimOp::kRename;
  rule.path_pattern = "/node/wal/*";
  int id = env_.AddFaultRule(rule);
  EXPECT_FALSE(storage->PutSnapshot(Snapshot(500, 3, "leader-state"), 0).ok());
  EXPECT_GE(env_.FaultFires(id), 1u);
  env_.ClearFaultRules();
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_EQ(state.snapshot->index, 500u);
  EXPECT_EQ(state.start_index, 501u);
  EXPECT_TRUE(state.entries.empty());
}

TEST_F(RaftStorageTest, RecoverAppendsTheConfigurationWithTheLastTermDurably) {
  auto storage = OpenStorage();
  const LogEntry conf{99, 3, "new-configuration"};
  // Never bootstrapped: nothing to recover, and nothing is written.
  EXPECT_THAT(storage->Recover(conf).status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(storage->failure());
  ASSERT_OK(storage->Append(1, Entries(2, 30, "a")));
  ASSERT_OK(storage->Append(31, Entries(5, 3, "b")));
  ASSERT_OK_AND_ASSIGN(uint64_t index, storage->Recover(conf));
  EXPECT_EQ(index, 34u);
  storage = CrashAndReopen(std::move(storage));  // durable at return
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  ASSERT_EQ(state.entries.size(), 34u);
  EXPECT_EQ(state.entries[32].payload, "b2");  // the entries before it are all kept
  EXPECT_EQ(state.entries[33], (LogEntry{5, 3, "new-configuration"}));
  // Appends go on after it.
  ASSERT_OK(storage->Append(35, Entries(6, 1, "c")));
}

TEST_F(RaftStorageTest, RecoverAfterAnInstalledSnapshotUsesTheSnapshotTerm) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->PutSnapshot(Snapshot(500, 7, "leader-state"), 0));
  ASSERT_OK_AND_ASSIGN(uint64_t index, storage->Recover(LogEntry{0, 3, "conf"}));
  EXPECT_EQ(index, 501u);
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  EXPECT_EQ(state.start_index, 501u);
  ASSERT_EQ(state.entries.size(), 1u);
  EXPECT_EQ(state.entries[0], (LogEntry{7, 3, "conf"}));
}

TEST_F(RaftStorageTest, FsyncErrorStopsTheStorageForGood) {
  auto storage = OpenStorage();
  ASSERT_OK(storage->Append(1, Entries(1, 3, "ok")));
  ASSERT_OK(storage->Sync());
  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.max_fires = 1;
  env_.AddFaultRule(rule);
  ASSERT_OK(storage->Append(4, Entries(1, 3, "lost")));
  EXPECT_FALSE(storage->Sync().ok());
  EXPECT_FALSE(storage->failure().ok());
  // The fault fired once; every later call still fails: nothing more is written.
  EXPECT_FALSE(storage->Sync().ok());
  EXPECT_FALSE(storage->SetTerm(5).ok());
  EXPECT_FALSE(storage->Append(7, Entries(1, 1, "after")).ok());
  EXPECT_FALSE(storage->Load().ok());
  storage = CrashAndReopen(std::move(storage));
  ASSERT_OK_AND_ASSIGN(RaftState state, storage->Load());
  EXPECT_EQ(state.term, 0u);
  ASSERT_GE(state.entries.size(), 3u);
  EXPECT_EQ(state.entries[2].payload, "ok2");
}

TEST_F(RaftStorageTest, CodecRejectsDamage) {
  std::string bytes = EncodeSnapshot(Snapshot(9, 2, "data"));
  ASSERT_OK(DecodeSnapshot(bytes, "t").status());
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeSnapshot(bad, "t").ok()) << "flip at " << i;
  }
  EXPECT_FALSE(DecodeSnapshot(bytes.substr(0, bytes.size() - 1), "t").ok());
  EXPECT_FALSE(DecodeEntry("short", "t").ok());
  uint64_t term, vote;
  EXPECT_FALSE(DecodeTermVote("IWRVxx", "t", &term, &vote).ok());
}

}  // namespace
}  // namespace raft
}  // namespace ironwal
