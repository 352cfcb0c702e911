// Crashes and I/O errors during a reopen (issue 8, section 1): recovery must never leave
// fewer readable acknowledged entries than there were before it started.
//
// Each test writes kStrict entries, then loses the process or the power so that the
// durable frontier (durable.pos) is behind the verified end of the active segment: the
// reopen then has to make the verified tail durable. That step used to cut the segment back
// to the frontier and append the bytes again, so a crash or a full disk between the two
// wiped every entry past the frontier. Here the reopen is stopped at each of its mutating
// operations in turn (a power cut), or fails at its write with ENOSPC or EIO, and the next
// reopen must still show every acknowledged entry.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

constexpr char kRoot[] = "/wal";
constexpr int kEntries = 40;

std::string Entry(int i) { return absl::StrCat("acknowledged entry ", i, std::string(90, 'x')); }

WalOptions Options(SimEnv* env) {
  WalOptions options;
  options.env = env;
  options.root = kRoot;
  options.sync_mode = SyncMode::kStrict;
  return options;
}

// A process kill: everything the OS had survives (every pending change is kept).
void KillProcess(SimEnv* env) {
  CrashPlan plan;
  plan.keep = env->PendingChanges();
  env->Crash(plan);
}

// A SimEnv holding kEntries acknowledged kStrict entries of stream "s" in a segment whose
// durable frontier is still at its start (the writer was killed before any close).
std::unique_ptr<SimEnv> KilledWriter() {
  SimEnvOptions sim;
  sim.seed = 11;
  sim.block_size = 512;
  auto env = std::make_unique<SimEnv>(sim);
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(env.get()));
    EXPECT_TRUE(wal.ok()) << wal.status();
    if (!wal.ok()) return env;
    for (int i = 0; i < kEntries; ++i) {
      absl::StatusOr<uint64_t> id = (*wal)->Append("s", Entry(i));
      EXPECT_TRUE(id.ok() && *id == static_cast<uint64_t>(i)) << id.status();
    }
    KillProcess(env.get());
  }  // The stale Wal's handles were invalidated by the crash.
  return env;
}

// Reopens `env` and checks that every acknowledged entry is readable.
void ExpectEveryEntry(SimEnv* env, const std::string& what) {
  SCOPED_TRACE(what);
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(env));
  ASSERT_TRUE(wal.ok()) << wal.status();
  absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo("s");
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_GE(info->next_id, static_cast<uint64_t>(kEntries)) << "acknowledged entries were lost";
  for (int i = 0; i < kEntries; ++i) {
    absl::StatusOr<std::string> got = (*wal)->Get("s", static_cast<uint64_t>(i));
    ASSERT_TRUE(got.ok()) << "ID " << i << ": " << got.status();
    ASSERT_EQ(*got, Entry(i)) << "ID " << i;
  }
}

// How many mutating operations a reopen of `env` makes (on a clone).
uint64_t ReopenOps(const SimEnv& env) {
  std::unique_ptr<SimEnv> probe = env.Clone();
  const uint64_t before = probe->mutating_ops();
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(probe.get()));
  EXPECT_TRUE(wal.ok()) << wal.status();
  return probe->mutating_ops() - before;
}

// The reopen after a kill is stopped at each of its mutating operations, then the process
// dies (the OS keeps what it was given) or the power fails (only synced data stays).
TEST(ReopenCrashTest, CrashAtEveryStepOfTheReopenKeepsEveryAcknowledgedEntry) {
  std::unique_ptr<SimEnv> killed = KilledWriter();
  ASSERT_FALSE(::testing::Test::HasFailure());
  const uint64_t ops = ReopenOps(*killed);
  ASSERT_GT(ops, 2u) << "the reopen should make the tail durable";
  for (uint64_t k = 0; k < ops; ++k) {
    for (bool power_loss : {false, true}) {
      std::unique_ptr<SimEnv> env = killed->Clone();
      env->SetPowerCutAt(env->mutating_ops() + k);
      EXPECT_FALSE(Wal::Open(Options(env.get())).ok()) << "the power cut should stop it";
      if (power_loss) {
        env->Crash(CrashOptions());  // kDropUnsynced
      } else {
        KillProcess(env.get());
      }
      ExpectEveryEntry(env.get(),
                       absl::StrCat("reopen stopped at its mutating op ", k, " of ", ops,
                                    power_loss ? ", then a power loss" : ", then a process kill"));
    }
  }
}

// A full disk (or EIO, or a short write) while the reopen writes the tail again fails the
// open; once the fault is gone, the next open still finds every entry.
TEST(ReopenCrashTest, WriteErrorWhileMakingTheTailDurableLosesNothing) {
  for (SimFault fault : {SimFault::kNoSpace, SimFault::kIoError, SimFault::kShortWrite}) {
    std::unique_ptr<SimEnv> env = KilledWriter();
    ASSERT_FALSE(::testing::Test::HasFailure());
    FaultRule rule;
    rule.op = SimOp::kWriteAt;  // the reopen writes the tail again in place
    rule.fault = fault;
    rule.path_pattern = "*.wal";
    rule.max_fires = 1;
    env->AddFaultRule(rule);
    absl::StatusOr<std::unique_ptr<Wal>> failed = Wal::Open(Options(env.get()));
    EXPECT_FALSE(failed.ok()) << "the write fault should fail the open";
    failed = absl::UnknownError("closed");
    env->ClearFaultRules();
    ExpectEveryEntry(env.get(), absl::StrCat("fault ", static_cast<int>(fault)));
    KillProcess(env.get());
  }
}

// An I/O error on the stat of a stream's directory while the Wal lists the root used to
// hide the stream: the open succeeded without it, and the next append created the stream
// again over its own segment (ID 0 handed out again, every acknowledged entry gone).
TEST(ReopenCrashTest, IoErrorOnAStreamDirectoryFailsTheOpenRatherThanHidingTheStream) {
  std::unique_ptr<SimEnv> env = KilledWriter();
  ASSERT_FALSE(::testing::Test::HasFailure());
  FaultRule rule;
  rule.op = SimOp::kGetFileSize;  // IsDirectory
  rule.path_pattern = "/wal/s";
  rule.max_fires = 1;
  env->AddFaultRule(rule);
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(env.get()));
    ASSERT_EQ(env->FaultFires(0), 1u);
    if (wal.ok()) {
      absl::StatusOr<uint64_t> id = (*wal)->Append("s", "after the reopen");
      EXPECT_FALSE(id.ok() && *id < static_cast<uint64_t>(kEntries))
          << "ID " << *id << " handed out again";
    }
  }
  env->ClearFaultRules();
  ExpectEveryEntry(env.get(), "after an open that met EIO on the stream's directory");
}

}  // namespace
}  // namespace ironwal
