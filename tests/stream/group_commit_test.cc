// Group commit, deterministically: the first appender's fsync is held at a gate while
// three more appenders queue behind it; when the gate opens, the three share one sync.
// And a write after a failed sync fails at once. The queue's own rules, without files:
// write_queue_test.cc.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/stream/stream.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// A MemEnv whose segment files' Sync waits at a gate, and counts syncs.
class GateEnv : public MemEnv {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Wrap(MemEnv::NewWritableFile(path));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return Wrap(MemEnv::NewAppendableFile(path));
  }

  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks until a sync is waiting at the closed gate.
  void AwaitWaiter() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return waiting_ > 0; });
  }
  int syncs() {
    std::lock_guard<std::mutex> l(mu_);
    return syncs_;
  }

 private:
  // Forwards everything (WritableFileWrapper) but Sync, which waits at the gate first.
  class File : public WritableFileWrapper {
   public:
    File(GateEnv* env, std::unique_ptr<WritableFile> base)
        : WritableFileWrapper(std::move(base)), env_(env) {}
    absl::Status Sync() override {
      if (absl::EndsWith(path(), ".wal")) env_->Pass();
      return WritableFileWrapper::Sync();
    }

   private:
    GateEnv* env_;
  };

  absl::StatusOr<std::unique_ptr<WritableFile>> Wrap(
      absl::StatusOr<std::unique_ptr<WritableFile>> file) {
    if (!file.ok()) return file;
    return std::unique_ptr<WritableFile>(new File(this, *std::move(file)));
  }
  void Pass() {
    std::unique_lock<std::mutex> l(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(l, [&] { return open_; });
    --waiting_;
    ++syncs_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
  int syncs_ = 0;
};

// A kStrict stream "s" under /w of `env`.
struct StrictStream {
  explicit StrictStream(Env* env) : readers(4), writers(4) {
    shared.options.env = env;
    shared.options.root = "/w";
    shared.options.sync_mode = SyncMode::kStrict;
    shared.options.max_entry_size = 1 << 20;
    shared.readers = &readers;
    shared.writers = &writers;
    stream = Stream::CreateNew(&shared, "s", "s");
  }
  ReaderCache readers;
  WriterBudget writers;
  Stream::Shared shared;
  std::unique_ptr<Stream> stream;
};

TEST(GroupCommitTest, WritersQueuedBehindASyncShareTheNextOne) {
  GateEnv env;
  ASSERT_OK(env.CreateDir("/w"));
  StrictStream strict(&env);
  Stream* stream = strict.stream.get();
  ASSERT_OK(stream->Append({"warm-up"}, false).status());  // creates the files
  const int before = env.syncs();

  env.Close();
  std::vector<uint64_t> ids(4);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { ids[0] = stream->Append({"leader"}, false)->first; });
  env.AwaitWaiter();  // the leader is inside its fsync
  for (int i = 1; i < 4; ++i) {
    threads.emplace_back([&, i] { ids[i] = stream->Append({"follower"}, false)->first; });
  }
  while (stream->queued_writes() < 4) std::this_thread::yield();
  env.Open();
  for (auto& t : threads) t.join();

  EXPECT_EQ(ids[0], 1u);
  EXPECT_THAT(std::vector<uint64_t>(ids.begin() + 1, ids.end()), UnorderedElementsAre(2u, 3u, 4u));
  EXPECT_EQ(env.syncs() - before, 2) << "one sync for the leader, one for the three behind it";
  EXPECT_EQ(stream->next_id(), 5u);
  ASSERT_OK(stream->CloseWriter());
}

// On a Stream: once a sync failed, the stream is poisoned and a later write fails at once,
// with the first error, and touches no file.
TEST(GroupCommitTest, AWriteAfterAPoisonFailsAtOnce) {
  SimEnvOptions sim;
  sim.micros_per_call = 0;
  SimEnv env(sim);
  ASSERT_OK(env.CreateDir("/w"));
  StrictStream strict(&env);
  Stream* stream = strict.stream.get();
  ASSERT_OK(stream->Append({"warm-up"}, false).status());

  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.path_pattern = "*.wal";
  const int id = env.AddFaultRule(rule);
  EXPECT_FALSE(stream->Append({"fails"}, false).ok());
  env.RemoveFaultRule(id);

  int ops = 0;
  env.SetHook([&](const SimOpInfo&) -> std::optional<SimFault> {
    ++ops;
    return std::nullopt;
  });
  const absl::Status after = stream->Append({"after"}, false).status();
  EXPECT_THAT(after, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("poisoned")));
  EXPECT_THAT(stream->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                       HasSubstr("poisoned by an earlier failure")));
  EXPECT_EQ(ops, 0);
  EXPECT_EQ(stream->next_id(), 1u);
  env.SetHook(nullptr);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
