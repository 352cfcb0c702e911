// The examples in the public headers' comments, compiled as written (with the umbrella
// header and the header whose example it is) and run. Each block between "Example from" and "End of
// example" is the header's text; the names it leaves to the reader (payload, Consume, WaitForMore,
// ...) are declared around it. If a header's example changes, change it here too.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/ironwal.h"
#include "ironwal/testing/seed_sweep.h"

namespace ironwal {
namespace {

// ironwal/ironwal.h
absl::StatusOr<uint64_t> IronwalHeaderExample(Env* env_for_test, absl::string_view payload) {
  // Example from ironwal/ironwal.h (with the Env a test needs set).
  ironwal::WalOptions options;
  options.root = "/var/lib/app/wal";
  options.env = env_for_test;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<ironwal::Wal> wal, ironwal::Wal::Open(options));
  return wal->Append("orders", payload);
  // End of example.
}

// ironwal/wal/wal.h
absl::Status WalHeaderExample(Env* env, std::vector<std::string>* consumed) {
  const std::string payload = "p";
  const absl::string_view a = "a", b = "b", c = "c";
  // Example from ironwal/wal/wal.h (with the Env a test needs set).
  WalOptions options;
  options.root = "/var/lib/app/wal";
  options.env = env;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(options));
  IRONWAL_ASSIGN_OR_RETURN(uint64_t id, wal->Append("orders", payload));
  IRONWAL_ASSIGN_OR_RETURN(IdRange ids, wal->AppendBatch("orders", {a, b, c}));
  IRONWAL_ASSIGN_OR_RETURN(std::string entry, wal->Get("orders", id));
  IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", 0));
  for (; it->Valid(); it->Next()) consumed->emplace_back(it->value());
  IRONWAL_ASSIGN_OR_RETURN(TruncateResult t, wal->Truncate("orders", 1000));
  // End of example.
  consumed->push_back(entry);
  if (ids.size() != 3 || t.segments_removed != 0) return absl::InternalError("unexpected");
  return absl::OkStatus();
}

// ironwal/wal/iterator.h
absl::Status IteratorHeaderExamples(Wal* wal, std::vector<uint64_t>* consumed, int* waits) {
  const auto Consume = [&](uint64_t id, absl::string_view value) {
    if (value != std::to_string(id)) ADD_FAILURE() << id << " holds " << value;
    consumed->push_back(id);
  };
  {
    // Example from ironwal/wal/iterator.h (first).
    IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", /*start_id=*/0));
    for (; it->Valid(); it->Next()) Consume(it->id(), it->value());
    IRONWAL_RETURN_IF_ERROR(it->status());  // OK at the end; DataLoss if a frame failed
    // End of example.
  }
  // The tailing loop: the first wait appends an entry, the second cuts the log below the
  // iterator's position, so that its Seek fails (OutOfRange) and the loop returns.
  const auto WaitForMore = [&] {
    if (++*waits == 1) {
      wal->Append("orders", std::to_string(consumed->size() / 2)).IgnoreError();
    } else {
      wal->TruncateSuffix("orders", 1).IgnoreError();
    }
  };
  const uint64_t start = 0;
  IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", start));
  // Example from ironwal/wal/iterator.h (tailing).
  uint64_t next = start;
  for (;;) {
    it->Seek(next);
    for (; it->Valid(); it->Next(), ++next) Consume(it->id(), it->value());
    IRONWAL_RETURN_IF_ERROR(it->status());
    WaitForMore();
  }
  // End of example.
}

// ironwal/wal/txn_writer.h
absl::StatusOr<IdRange> TxnWriterHeaderExample(Wal* wal) {
  const std::string debit = "-10", credit = "+10";
  // Example from ironwal/wal/txn_writer.h.
  TxnWriter txn = wal->NewTransaction("ledger");
  IRONWAL_RETURN_IF_ERROR(txn.Add(debit));
  IRONWAL_RETURN_IF_ERROR(txn.Add(credit));
  IRONWAL_ASSIGN_OR_RETURN(IdRange ids, txn.Commit());
  // End of example.
  return ids;
}

// ironwal/status_macros.h ("..." replaced by using the three results).
absl::Status Frob(Env* env) {
  // Example from ironwal/status_macros.h.
  IRONWAL_RETURN_IF_ERROR(env->CreateDir("/a"));
  IRONWAL_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize("/a/b"));
  IRONWAL_ASSIGN_OR_RETURN(auto file, env->NewWritableFile("/a/c"));
  // End of example.
  return file->Append(std::to_string(size));
}

// ironwal/env/env_wrapper.h
// Example from ironwal/env/env_wrapper.h (the two classes).
// A WritableFileWrapper whose Sync() counts, then syncs.
class CountingFile : public WritableFileWrapper {
 public:
  CountingFile(std::unique_ptr<WritableFile> file, std::atomic<int>* syncs)
      : WritableFileWrapper(std::move(file)), syncs_(syncs) {}
  absl::Status Sync() override {
    ++*syncs_;
    return WritableFileWrapper::Sync();
  }

 private:
  std::atomic<int>* const syncs_;
};

// Fails the directory syncs of one stream, and counts the syncs of the files it
// creates (a Wal creates its segments with NewWritableFile).
class FlakyEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  absl::Status SyncDir(const std::string& dir) override {
    if (dir == "/data/orders") return absl::InternalError("sync dir " + dir + ": EIO");
    return EnvWrapper::SyncDir(dir);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, EnvWrapper::NewWritableFile(path));
    return std::unique_ptr<WritableFile>(new CountingFile(std::move(file), &syncs_));
  }
  int syncs() const { return syncs_.load(); }

 private:
  std::atomic<int> syncs_{0};
};
// End of example.

// ironwal/env/mem_env.h
absl::StatusOr<uint64_t> MemEnvHeaderExample() {
  // Example from ironwal/env/mem_env.h.
  MemEnv env;
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  // End of example.
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(options));
  IRONWAL_RETURN_IF_ERROR(wal->Append("s", "x").status());
  IRONWAL_RETURN_IF_ERROR(wal->Close());
  wal.reset();
  // Nothing is lost without a crash model: a second Wal on the same MemEnv sees the entry.
  IRONWAL_ASSIGN_OR_RETURN(wal, Wal::Open(options));
  IRONWAL_ASSIGN_OR_RETURN(std::string entry, wal->Get("s", 0));
  if (entry != "x") return absl::InternalError("entry 0 is " + entry);
  return wal->GetStreamInfo("s")->next_id;
}

// ironwal/env/sim_env.h: the workload appends 3 synced entries, then 50 written but not
// synced (kAsync, flushed); after the crash the 3 synced ones must be there and nothing beyond the
// 53 appended. Returns the next ID after the crash.
absl::StatusOr<uint64_t> SimEnvHeaderExample(uint64_t seed) {
  WalOptions wal_options;
  wal_options.root = "/w";
  wal_options.sync_mode = SyncMode::kAsync;
  // Example from ironwal/env/sim_env.h (its "..." lines written out).
  SimEnvOptions options;
  options.seed = seed;
  SimEnv env(options);
  // ... run the workload on &env ...
  wal_options.env = &env;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(wal_options));  // after env
  for (int i = 0; i < 53; ++i) {
    IRONWAL_RETURN_IF_ERROR(wal->Append("s", std::to_string(i)).status());
    if (i == 2) IRONWAL_RETURN_IF_ERROR(wal->Sync());
  }
  IRONWAL_RETURN_IF_ERROR(wal->Flush());  // written to the "OS", not synced
  env.SetPowerCutAt(env.mutating_ops());  // the power fails: nothing more is written
  // ... destroy the old objects (their last writes fail) ...
  wal.reset();
  CrashOptions crash;
  crash.mode = CrashMode::kKeepRandomBlocks;
  env.Crash(crash);
  // ... reopen on &env, check what survived ...
  IRONWAL_ASSIGN_OR_RETURN(wal, Wal::Open(wal_options));
  // End of example.
  IRONWAL_ASSIGN_OR_RETURN(StreamInfo info, wal->GetStreamInfo("s"));
  for (uint64_t id = 0; id < info.next_id; ++id) {
    IRONWAL_ASSIGN_OR_RETURN(std::string entry, wal->Get("s", id));
    if (entry != std::to_string(id)) return absl::InternalError("entry " + entry);
  }
  return info.next_id;
}

// ironwal/testing/seed_sweep.h: a toy workload whose "bug" is an operation 7 anywhere
// before an operation 2. Seed s generates (i * (s + 1)) % 10 for i = 0..9: seeds 0 to 5
// pass, seed 6 (0 7 4 1 8 5 2 9 6 3) is the first to fail, and shrinks to "7", "2".
struct MyOp {
  int value = 0;
};
bool g_seven_before_two_is_a_bug = false;

std::vector<MyOp> Generate(uint64_t seed) {
  std::vector<MyOp> ops;
  for (uint64_t i = 0; i < 10; ++i) ops.push_back(MyOp{static_cast<int>(i * (seed + 1) % 10)});
  return ops;
}

std::vector<std::string> RunWorkload(uint64_t seed, const std::vector<MyOp>& ops) {
  bool seven = false;
  for (const MyOp& op : ops) {
    seven |= op.value == 7;
    if (g_seven_before_two_is_a_bug && seven && op.value == 2) {
      return {"seed " + std::to_string(seed) + ": 2 after 7"};
    }
  }
  return {};
}

std::string Describe(const MyOp& op) { return "op " + std::to_string(op.value); }

void SeedSweepHeaderExample() {
  using ::ironwal::testing::RunSeedSweep;
  using ::ironwal::testing::SeedFailure;
  using ::ironwal::testing::SeedSweepOptions;
  // Example from ironwal/testing/seed_sweep.h.
  SeedSweepOptions options = SeedSweepOptions::FromEnvironment(/*default_seeds=*/500);
  options.replay_command = "tools/bazel test //my:crash_test --test_output=all";
  std::optional<SeedFailure<MyOp>> failure =
      RunSeedSweep<MyOp>(options, Generate, RunWorkload, Describe);
  if (failure.has_value()) ADD_FAILURE() << failure->report;
  // End of example.
}

// ironwal/wal/wal.h (WaitFor). Consume closes the Wal after ID 2, which ends the loop: the
// iterator reads on, and the next WaitFor returns Cancelled.
absl::Status WaitForHeaderExample(Wal* wal, uint64_t start, std::vector<uint64_t>* consumed) {
  const auto Consume = [&](uint64_t id, absl::string_view value) {
    if (value != std::to_string(id)) ADD_FAILURE() << id << " holds " << value;
    consumed->push_back(id);
    if (id == 2) wal->Close().IgnoreError();
  };
  // Example from ironwal/wal/wal.h (WaitFor).
  uint64_t next = start;
  IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", next));
  for (;;) {
    const uint64_t deadline = wal->options().env->NowMicros() + 1000000;
    absl::Status ready = wal->WaitFor("orders", next, deadline, WaitCondition::kVisible);
    if (absl::IsDeadlineExceeded(ready)) continue;  // idle: check for shutdown, ...
    IRONWAL_RETURN_IF_ERROR(ready);                 // closed, deleted, truncated, ...
    for (it->Seek(next); it->Valid(); it->Next(), ++next) Consume(it->id(), it->value());
    IRONWAL_RETURN_IF_ERROR(it->status());
  }
  // End of example.
}

std::unique_ptr<Wal> OpenOn(Env* env) {
  WalOptions options;
  options.env = env;
  options.root = "/w";
  return Wal::Open(options).value();
}

TEST(HeaderExamplesTest, Umbrella) {
  MemEnv env;
  EXPECT_EQ(IronwalHeaderExample(&env, "x").value(), 0u);
  EXPECT_EQ(IronwalHeaderExample(&env, "y").value(), 1u);
}

TEST(HeaderExamplesTest, Wal) {
  MemEnv env;
  std::vector<std::string> consumed;
  ASSERT_TRUE(WalHeaderExample(&env, &consumed).ok());
  EXPECT_EQ(consumed, (std::vector<std::string>{"p", "a", "b", "c", "p"}));
}

TEST(HeaderExamplesTest, WaitFor) {
  MemEnv env;
  std::unique_ptr<Wal> wal = OpenOn(&env);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(wal->Append("orders", std::to_string(i)).value(), static_cast<uint64_t>(i));
  std::vector<uint64_t> consumed;
  const absl::Status tailed = WaitForHeaderExample(wal.get(), 1, &consumed);
  EXPECT_EQ(tailed.code(), absl::StatusCode::kCancelled) << tailed;
  EXPECT_EQ(consumed, (std::vector<uint64_t>{1, 2}));
}

TEST(HeaderExamplesTest, IteratorAndTailing) {
  MemEnv env;
  std::unique_ptr<Wal> wal = OpenOn(&env);
  ASSERT_EQ(wal->Append("orders", "0").value(), 0u);
  ASSERT_EQ(wal->Append("orders", "1").value(), 1u);
  std::vector<uint64_t> consumed;
  int waits = 0;
  const absl::Status tailed = IteratorHeaderExamples(wal.get(), &consumed, &waits);
  EXPECT_EQ(tailed.code(), absl::StatusCode::kOutOfRange) << tailed;
  EXPECT_EQ(waits, 2);
  // The plain loop read 0 and 1; the tailing loop 0 and 1, then 2 once it was appended.
  EXPECT_EQ(consumed, (std::vector<uint64_t>{0, 1, 0, 1, 2}));
}

TEST(HeaderExamplesTest, TxnWriter) {
  MemEnv env;
  std::unique_ptr<Wal> wal = OpenOn(&env);
  EXPECT_EQ(TxnWriterHeaderExample(wal.get()).value(), (IdRange{0, 2}));
  EXPECT_EQ(wal->Get("ledger", 1).value(), "+10");
}

TEST(HeaderExamplesTest, StatusMacros) {
  MemEnv env;
  // CreateDir succeeds, GetFileSize of the missing /a/b returns early: /a/c is never made.
  EXPECT_EQ(Frob(&env).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(env.IsDirectory("/a").value());
  EXPECT_TRUE(absl::IsNotFound(env.GetFileSize("/a/c").status()));
  // A second run stops at the first macro: /a exists.
  EXPECT_EQ(Frob(&env).code(), absl::StatusCode::kAlreadyExists);
}

TEST(HeaderExamplesTest, EnvWrapper) {
  MemEnv mem;
  // The example's lines, on a MemEnv instead of the real disk.
  FlakyEnv env(&mem);
  WalOptions options;
  options.env = &env;
  options.root = "/data";
  std::unique_ptr<Wal> wal = Wal::Open(options).value();
  // Creating "orders" syncs /data/orders: the injected error, naming the directory.
  const absl::StatusOr<uint64_t> failed = wal->Append("orders", "o");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal) << failed.status();
  EXPECT_NE(failed.status().message().find("sync dir /data/orders: EIO"), std::string::npos)
      << failed.status();
  // Other streams work, and every kStrict append syncs its segment through CountingFile.
  const int before = env.syncs();
  ASSERT_EQ(wal->Append("events", "e0").value(), 0u);
  ASSERT_EQ(wal->Append("events", "e1").value(), 1u);
  EXPECT_GE(env.syncs(), before + 2);
  const int after_appends = env.syncs();
  EXPECT_EQ(wal->Get("events", 1).value(), "e1");
  EXPECT_EQ(env.syncs(), after_appends) << "a read syncs nothing";
}

TEST(HeaderExamplesTest, MemEnv) { EXPECT_EQ(MemEnvHeaderExample().value(), 1u); }

TEST(HeaderExamplesTest, SimEnv) {
  // Synced entries survive every seed; how many unsynced ones do depends on the seed, and
  // some seed among the first 20 keeps some and loses others.
  bool kept_some = false, lost_some = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const absl::StatusOr<uint64_t> next = SimEnvHeaderExample(seed);
    ASSERT_TRUE(next.ok()) << "seed " << seed << ": " << next.status();
    EXPECT_GE(*next, 3u) << "seed " << seed;
    EXPECT_LE(*next, 53u) << "seed " << seed;
    kept_some |= *next > 3;
    lost_some |= *next < 53;
  }
  EXPECT_TRUE(kept_some);
  EXPECT_TRUE(lost_some);
}

// The example reads the sweep from IRONWAL_SEED*: pin it to its default (seeds 0..499).
void ClearSeedKnobs() {
  unsetenv("IRONWAL_SEED");
  unsetenv("IRONWAL_SEED_START");
  unsetenv("IRONWAL_SEEDS");
}

TEST(HeaderExamplesTest, SeedSweepPasses) {
  ClearSeedKnobs();
  g_seven_before_two_is_a_bug = false;
  SeedSweepHeaderExample();  // records no failure
}

TEST(HeaderExamplesTest, SeedSweepReportsTheFirstFailingSeedShrunk) {
  ClearSeedKnobs();
  g_seven_before_two_is_a_bug = true;
  EXPECT_NONFATAL_FAILURE(SeedSweepHeaderExample(),
                          "seed=6 fails; shrunk from 10 to 2 operations\n"
                          "violations:\n  seed 6: 2 after 7\n"
                          "operations:\n  op 7\n  op 2\n"
                          "replay: IRONWAL_SEED=6 tools/bazel test //my:crash_test "
                          "--test_output=all");
  g_seven_before_two_is_a_bug = false;
}

}  // namespace
}  // namespace ironwal
