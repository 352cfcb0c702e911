// IronwalIo, the raft_io, driven the way libraft drives it (its methods called on a libuv
// loop thread, callbacks awaited on the loop), with the storage on SimEnv and libraft's uv
// raft_io (unstarted) behind it for init/close. Only storage calls are exercised here;
// tests/raft/cluster_test.cc runs whole clusters.
#include "ironwal/raft/ironwal_io.h"

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <raft.h>
#include <raft/uv.h>
}
#include <uv.h>

#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/raft/local_cluster.h"
#include "ironwal/raft/raft_storage.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace raft {
namespace {

struct AppendReq {
  struct raft_io_append req;
  int status = -1;
  bool done = false;
  std::vector<std::string> payloads;  // owned memory of the entries
  std::vector<struct raft_entry> entries;
};

class IronwalIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_EQ(raft_uv_tcp_init(&transport_, &loop_), 0);
    scratch_ = testing::TestDir("uv-scratch");
    ASSERT_EQ(raft_uv_init(&uv_io_, &loop_, scratch_.c_str(), &transport_), 0);
    Create();
  }

  void Create() {
    IronwalIoOptions options;
    options.storage.env = &env_;
    options.storage.dir = "/node";
    options.on_failure = [this](const absl::Status& status) {
      ++failures_;
      failure_ = status;
    };
    ASSERT_OK_AND_ASSIGN(io_, IronwalIo::Create(&loop_, &uv_io_, options));
    ASSERT_EQ(io()->init(io(), 1, "127.0.0.1:1"), 0) << io()->errmsg;
  }

  void TearDown() override {
    if (io_) Close();
    raft_uv_close(&uv_io_);
    raft_uv_tcp_close(&transport_);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  void Close() {
    bool closed = false;
    io()->data = &closed;
    io()->close(io(), [](struct raft_io* io) { *static_cast<bool*>(io->data) = true; });
    RunUntil([&] { return closed; });
    io_.reset();
  }

  struct raft_io* io() {
    return io_->io();
  }

  template <typename F>
  void RunUntil(F done) {
    while (!done()) uv_run(&loop_, UV_RUN_ONCE);
  }

  std::unique_ptr<AppendReq> Append(uint64_t term, const std::vector<std::string>& payloads) {
    auto r = std::make_unique<AppendReq>();
    r->payloads = payloads;
    for (std::string& p : r->payloads) {
      struct raft_entry e;
      std::memset(&e, 0, sizeof(e));
      e.term = term;
      e.type = RAFT_COMMAND;
      e.buf.base = &p[0];
      e.buf.len = p.size();
      r->entries.push_back(e);
    }
    r->req.data = r.get();
    int rv =
        io()->append(io(), &r->req, r->entries.data(), static_cast<unsigned>(r->entries.size()),
                     [](struct raft_io_append* req, int status) {
                       auto* r = static_cast<AppendReq*>(req->data);
                       r->status = status;
                       r->done = true;
                     });
    EXPECT_EQ(rv, 0);
    return r;
  }

  // The storage as a restarted node sees it (the io closed first).
  RaftState Reload() {
    Close();
    RaftStorageOptions options;
    options.env = &env_;
    options.dir = "/node";
    auto storage = RaftStorage::Open(options);
    EXPECT_OK(storage.status());
    auto state = (*storage)->Load();
    EXPECT_OK(state.status());
    return *state;
  }

  void Load(size_t expect_entries) {
    raft_term term;
    raft_id vote;
    struct raft_snapshot* snapshot = nullptr;
    raft_index start;
    struct raft_entry* entries = nullptr;
    size_t n = 0;
    ASSERT_EQ(io()->load(io(), &term, &vote, &snapshot, &start, &entries, &n), 0);
    EXPECT_EQ(n, expect_entries);
    for (size_t i = 0; i < n; ++i) raft_free(entries[i].buf.base);
    raft_free(entries);
    EXPECT_EQ(snapshot, nullptr);
  }

  SimEnv env_;
  uv_loop_t loop_;
  struct raft_uv_transport transport_;
  struct raft_io uv_io_;
  std::string scratch_;
  std::unique_ptr<IronwalIo> io_;
  int failures_ = 0;
  absl::Status failure_;
};

TEST_F(IronwalIoTest, BootstrapTermAndVoteAreStoredAndBootstrapIsRefusedTwice) {
  Load(0);
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  ASSERT_EQ(raft_configuration_add(&conf, 1, "127.0.0.1:1", RAFT_VOTER), 0);
  ASSERT_EQ(io()->bootstrap(io(), &conf), 0);
  EXPECT_EQ(io()->bootstrap(io(), &conf), RAFT_CANTBOOTSTRAP);
  raft_configuration_close(&conf);
  ASSERT_EQ(io()->set_term(io(), 4), 0);
  ASSERT_EQ(io()->set_vote(io(), 2), 0);
  RaftState state = Reload();
  EXPECT_EQ(state.term, 4u);
  EXPECT_EQ(state.vote, 2u);
  ASSERT_EQ(state.entries.size(), 1u);
  EXPECT_EQ(state.entries[0].type, RAFT_CHANGE);
  EXPECT_EQ(failures_, 0);
}

TEST_F(IronwalIoTest, RecoverAppendsTheNewConfigurationAfterTheLog) {
  Load(0);
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  ASSERT_EQ(raft_configuration_add(&conf, 1, "127.0.0.1:1", RAFT_VOTER), 0);
  EXPECT_EQ(io()->recover(io(), &conf), RAFT_INVALID);  // nothing to recover yet
  ASSERT_EQ(io()->bootstrap(io(), &conf), 0);
  ASSERT_EQ(raft_configuration_add(&conf, 2, "127.0.0.1:2", RAFT_VOTER), 0);
  ASSERT_EQ(io()->recover(io(), &conf), 0);
  struct raft_buffer encoded;
  ASSERT_EQ(raft_configuration_encode(&conf, &encoded), 0);
  const std::string expected(static_cast<const char*>(encoded.base), encoded.len);
  raft_free(encoded.base);
  raft_configuration_close(&conf);
  RaftState state = Reload();
  ASSERT_EQ(state.entries.size(), 2u);
  EXPECT_EQ(state.entries[1], (LogEntry{1, RAFT_CHANGE, expected}));
  EXPECT_EQ(failures_, 0);
}

TEST_F(IronwalIoTest, AppendsCompleteOnTheLoopAfterOneSyncForAllThatWaited) {
  Load(0);
  // Hold the writer in its first fsync until every later append is queued: they must then
  // share one sync (group commit).
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool holding = false;
  env_.SetHook([&](const SimOpInfo& op) -> std::optional<SimFault> {
    if (op.op == SimOp::kSync && !release) {
      std::unique_lock<std::mutex> lock(mu);
      holding = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return std::nullopt;
  });
  std::vector<std::unique_ptr<AppendReq>> reqs;
  reqs.push_back(Append(1, {"a0"}));
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return holding; });
  }
  for (int i = 1; i < 10; ++i) reqs.push_back(Append(1, {"a" + std::to_string(i), "b"}));
  uv_run(&loop_, UV_RUN_NOWAIT);
  for (auto& r : reqs) EXPECT_FALSE(r->done) << "completed before its sync";
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  RunUntil([&] {
    for (auto& r : reqs) {
      if (!r->done) return false;
    }
    return true;
  });
  env_.SetHook(nullptr);
  for (auto& r : reqs) EXPECT_EQ(r->status, 0);
  EXPECT_EQ(io_->appends_written(), 10u);
  EXPECT_EQ(io_->syncs_done(), 2u);
  RaftState state = Reload();
  ASSERT_EQ(state.entries.size(), 19u);
  EXPECT_EQ(state.start_index, 1u);
  EXPECT_EQ(state.entries[0].payload, "a0");
  EXPECT_EQ(state.entries[1].payload, "a1");
  EXPECT_EQ(state.entries[2].payload, "b");
  EXPECT_EQ(state.entries[17].payload, "a9");
}

TEST_F(IronwalIoTest, TruncateIsOrderedWithAppends) {
  Load(0);
  auto first = Append(1, {"x1", "x2", "x3", "x4", "x5"});
  ASSERT_EQ(io()->truncate(io(), 3), 0);
  auto second = Append(2, {"y3", "y4"});
  RunUntil([&] { return first->done && second->done; });
  EXPECT_EQ(first->status, 0);
  EXPECT_EQ(second->status, 0);
  RaftState state = Reload();
  ASSERT_EQ(state.entries.size(), 4u);
  EXPECT_EQ(state.entries[1].payload, "x2");
  EXPECT_EQ(state.entries[2].payload, "y3");
  EXPECT_EQ(state.entries[2].term, 2u);
}

TEST_F(IronwalIoTest, SnapshotPutTrimsAndSnapshotGetReturnsIt) {
  Load(0);
  std::vector<std::string> payloads;
  for (int i = 1; i <= 50; ++i) payloads.push_back("e" + std::to_string(i));
  auto appended = Append(1, payloads);
  std::string data = "fsm-state";
  struct raft_buffer buf {
    &data[0], data.size()
  };
  struct raft_snapshot snapshot;
  std::memset(&snapshot, 0, sizeof(snapshot));
  snapshot.index = 40;
  snapshot.term = 1;
  snapshot.configuration_index = 1;
  raft_configuration_init(&snapshot.configuration);
  ASSERT_EQ(raft_configuration_add(&snapshot.configuration, 1, "127.0.0.1:1", RAFT_VOTER), 0);
  snapshot.bufs = &buf;
  snapshot.n_bufs = 1;
  struct raft_io_snapshot_put put;
  int put_status = -1;
  put.data = &put_status;
  ASSERT_EQ(io()->snapshot_put(io(), 5, &put, &snapshot,
                               [](struct raft_io_snapshot_put* req, int status) {
                                 *static_cast<int*>(req->data) = status;
                               }),
            0);
  raft_configuration_close(&snapshot.configuration);
  struct raft_io_snapshot_get get;
  struct Got {
    bool done = false;
    int status = -1;
    struct raft_snapshot* snapshot = nullptr;
  } got;
  get.data = &got;
  ASSERT_EQ(
      io()->snapshot_get(io(), &get,
                         [](struct raft_io_snapshot_get* req, struct raft_snapshot* s, int status) {
                           auto* g = static_cast<Got*>(req->data);
                           g->done = true;
                           g->status = status;
                           g->snapshot = s;
                         }),
      0);
  RunUntil([&] { return appended->done && put_status != -1 && got.done; });
  EXPECT_EQ(appended->status, 0);
  EXPECT_EQ(put_status, 0);
  ASSERT_EQ(got.status, 0);
  ASSERT_NE(got.snapshot, nullptr);
  EXPECT_EQ(got.snapshot->index, 40u);
  ASSERT_EQ(got.snapshot->configuration.n, 1u);
  EXPECT_STREQ(got.snapshot->configuration.servers[0].address, "127.0.0.1:1");
  ASSERT_EQ(got.snapshot->n_bufs, 1u);
  EXPECT_EQ(std::string(static_cast<char*>(got.snapshot->bufs[0].base), got.snapshot->bufs[0].len),
            "fsm-state");
  raft_configuration_close(&got.snapshot->configuration);
  raft_free(got.snapshot->bufs[0].base);
  raft_free(got.snapshot->bufs);
  raft_free(got.snapshot);
  RaftState state = Reload();
  EXPECT_EQ(state.start_index, 36u);  // 40 - 5 + 1: exact front trim
  ASSERT_EQ(state.entries.size(), 15u);
  EXPECT_EQ(state.entries[0].payload, "e36");
}

TEST_F(IronwalIoTest, AnFsyncErrorFailsThatAppendAndEveryLaterStorageCall) {
  Load(0);
  auto ok = Append(1, {"ok"});
  RunUntil([&] { return ok->done; });
  ASSERT_EQ(ok->status, 0);
  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.max_fires = 1;
  env_.AddFaultRule(rule);
  auto failed = Append(1, {"lost"});
  RunUntil([&] { return failed->done && failures_ > 0; });
  EXPECT_EQ(failed->status, RAFT_IOERR);
  EXPECT_EQ(failures_, 1);
  EXPECT_FALSE(failure_.ok());
  // The fault fired once, yet nothing later succeeds: fail-stop.
  auto later = Append(1, {"later"});
  RunUntil([&] { return later->done; });
  EXPECT_EQ(later->status, RAFT_IOERR);
  EXPECT_EQ(io()->set_term(io(), 9), RAFT_IOERR);
  EXPECT_EQ(failures_, 1);
}

}  // namespace
}  // namespace raft
}  // namespace ironwal
