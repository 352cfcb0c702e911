// FaultInjectionEnv (ironwal/env/fault_injection_env.h) over MemEnv and over PosixEnv under
// TEST_TMPDIR: unsynced data and directory entries dropped by SimulatePowerLoss, synced ones
// kept; fault rules by n-th call; power cut; a Wal that survives a power loss on the real
// disk.
#include "ironwal/env/fault_injection_env.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/posix_env.h"
#include "ironwal/ironwal.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

// Param: true = PosixEnv under TEST_TMPDIR, false = MemEnv.
class FaultInjectionEnvTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      const std::string tmp = ::ironwal::testing::TestTmpDir();
      std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      for (char& c : name) {
        if (c == '/') c = '_';
      }
      root_ = tmp + "/fault_env_" + name;
      base_ = Env::Default();
      RemoveTree(root_);
    } else {
      mem_ = std::make_unique<MemEnv>();
      base_ = mem_.get();
      root_ = "/fault_env";
    }
    env_ = std::make_unique<FaultInjectionEnv>(base_, /*seed=*/42);
    ASSERT_OK(CreateDirRecursively(env_.get(), root_));
  }

  void RemoveTree(const std::string& path) {
    absl::StatusOr<bool> dir = base_->IsDirectory(path);
    if (!dir.ok()) return;
    if (*dir) {
      const std::vector<std::string> children = base_->GetChildren(path).value();
      for (const std::string& child : children) {
        RemoveTree(JoinPath(path, child));
      }
      ASSERT_OK(base_->RemoveDir(path));
    } else {
      ASSERT_OK(base_->RemoveFile(path));
    }
  }

  // Creates `name` under root_ with `synced` synced, then `unsynced` appended; syncs the
  // directory when `sync_dir`.
  std::unique_ptr<WritableFile> Write(const std::string& name, const std::string& synced,
                                      const std::string& unsynced, bool sync_dir) {
    auto file = env_->NewWritableFile(JoinPath(root_, name));
    EXPECT_OK(file);
    EXPECT_OK((*file)->Append(synced));
    EXPECT_OK((*file)->Sync());
    EXPECT_OK((*file)->Append(unsynced));
    if (sync_dir) {
      EXPECT_OK(env_->SyncDir(root_));
    }
    return std::move(*file);
  }

  std::string Path(const std::string& name) const { return JoinPath(root_, name); }

  // A Wal under root_/wal on the fault-injecting Env.
  WalOptions Options(SyncMode mode) const {
    WalOptions options;
    options.env = env_.get();
    options.root = Path("wal");
    options.sync_mode = mode;
    return options;
  }

  std::unique_ptr<MemEnv> mem_;
  Env* base_ = nullptr;
  std::string root_;
  std::unique_ptr<FaultInjectionEnv> env_;
};

TEST_P(FaultInjectionEnvTest, UnsyncedAppendsAreDroppedSyncedKept) {
  std::unique_ptr<WritableFile> file = Write("f", "synced|", "unsynced", /*sync_dir=*/true);
  EXPECT_THAT(ReadFileToString(base_, Path("f")), IsOkAndHolds("synced|unsynced"));
  EXPECT_THAT(env_->SyncedSize(Path("f")), IsOkAndHolds(7u));
  ASSERT_OK(env_->SimulatePowerLoss());
  EXPECT_THAT(ReadFileToString(base_, Path("f")), IsOkAndHolds("synced|"));
  // The old handle is invalidated.
  EXPECT_THAT(file->Append("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(file->Close(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(file->Close());
  // A reopened file appends at the synced end.
  ASSERT_OK_AND_ASSIGN(file, env_->NewAppendableFile(Path("f")));
  ASSERT_OK(file->Append("more"));
  ASSERT_OK(file->Close());
  EXPECT_THAT(ReadFileToString(base_, Path("f")), IsOkAndHolds("synced|more"));
}

TEST_P(FaultInjectionEnvTest, AFailedSyncFreezesTheSyncedLength) {
  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.nth = 2;
  env_->AddFaultRule(rule);
  std::unique_ptr<WritableFile> file = Write("f", "one|", "two|", /*sync_dir=*/true);
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kInternal, HasSubstr("sync")));
  ASSERT_OK(file->Append("three"));
  ASSERT_OK(file->Sync());  // reports success, as Linux does, but makes nothing durable
  ASSERT_OK(env_->SimulatePowerLoss());
  EXPECT_THAT(ReadFileToString(base_, Path("f")), IsOkAndHolds("one|"));
}

TEST_P(FaultInjectionEnvTest, AnUnsyncedCreationDisappearsASyncedOneStays) {
  std::unique_ptr<WritableFile> early = Write("early", "data", "", /*sync_dir=*/false);
  ASSERT_OK(env_->CreateDir(Path("subdir")));
  std::unique_ptr<WritableFile> kept = Write("kept", "data", "", /*sync_dir=*/false);
  ASSERT_OK(env_->SyncDir(root_));  // makes "early", "kept" and "subdir" durable
  ASSERT_OK_AND_ASSIGN(auto in_subdir, env_->NewWritableFile(Path("subdir/x")));
  ASSERT_OK(in_subdir->Sync());
  ASSERT_OK_AND_ASSIGN(auto late, env_->NewWritableFile(Path("late")));
  ASSERT_OK(late->Append("bytes"));
  ASSERT_OK(late->Sync());
  ASSERT_OK(env_->CreateDir(Path("late_dir")));
  ASSERT_OK(env_->SimulatePowerLoss());
  EXPECT_THAT(base_->GetChildren(root_),
              IsOkAndHolds(std::vector<std::string>{"early", "kept", "subdir"}));
  EXPECT_THAT(base_->GetChildren(Path("subdir")), IsOkAndHolds(std::vector<std::string>{}));
  EXPECT_THAT(ReadFileToString(base_, Path("kept")), IsOkAndHolds("data"));
}

TEST_P(FaultInjectionEnvTest, AnUnsyncedRenameIsUndoneAndTheReplacedFileRestored) {
  Write("target", "old", "", /*sync_dir=*/true)->Close().IgnoreError();
  Write("tmp", "new", "", /*sync_dir=*/true)->Close().IgnoreError();
  ASSERT_OK(env_->RenameFile(Path("tmp"), Path("target")));
  EXPECT_THAT(ReadFileToString(base_, Path("target")), IsOkAndHolds("new"));
  ASSERT_OK(env_->SimulatePowerLoss());
  EXPECT_THAT(ReadFileToString(base_, Path("target")), IsOkAndHolds("old"));
  EXPECT_THAT(ReadFileToString(base_, Path("tmp")), IsOkAndHolds("new"));

  // WriteFileAtomically syncs the directory: the rename survives.
  ASSERT_OK(WriteFileAtomically(env_.get(), Path("target"), "atomic"));
  ASSERT_OK(env_->SimulatePowerLoss());
  EXPECT_THAT(ReadFileToString(base_, Path("target")), IsOkAndHolds("atomic"));
}

TEST_P(FaultInjectionEnvTest, RulesFireOnTheNthMatchingCall) {
  FaultRule rule;
  rule.op = SimOp::kAppend;
  rule.path_pattern = "*/w?";
  rule.nth = 3;
  const int id = env_->AddFaultRule(rule);
  ASSERT_OK_AND_ASSIGN(auto other, env_->NewWritableFile(Path("other")));
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile(Path("w1")));
  ASSERT_OK(other->Append("not counted"));
  ASSERT_OK(file->Append("1"));
  ASSERT_OK(file->Append("2"));
  EXPECT_THAT(file->Append("3"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("append " + Path("w1") + "@2")));
  ASSERT_OK(file->Append("4"));
  EXPECT_EQ(env_->FaultFires(id), 1u);
  EXPECT_THAT(ReadFileToString(base_, Path("w1")), IsOkAndHolds("124"));

  FaultRule no_space;
  no_space.op = SimOp::kCreateDir;
  no_space.fault = SimFault::kNoSpace;
  env_->AddFaultRule(no_space);
  EXPECT_THAT(env_->CreateDir(Path("d")), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(base_->IsDirectory(Path("d")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(FaultInjectionEnvTest, ShortWritesAreSeeded) {
  std::optional<uint64_t> first;
  for (int run = 0; run < 2; ++run) {
    FaultInjectionEnv env(base_, /*seed=*/7);
    FaultRule rule;
    rule.fault = SimFault::kShortWrite;
    env.AddFaultRule(rule);
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(Path("short")));
    EXPECT_THAT(file->Append(std::string(100, 'x')), StatusIs(absl::StatusCode::kInternal));
    EXPECT_LT(file->Size(), 100u);
    if (first.has_value()) {
      EXPECT_EQ(file->Size(), *first);
    }
    first = file->Size();
  }
}

// Which appends a one_in rule fails: "x" for a failure, "." for a success.
std::string OneInPattern(Env* base, const std::string& path, uint64_t seed) {
  FaultInjectionEnv env(base, seed);
  FaultRule rule;
  rule.one_in = 3;
  env.AddFaultRule(rule);
  std::string pattern;
  auto file = env.NewWritableFile(path);
  EXPECT_OK(file);
  for (int i = 0; i < 40; ++i) pattern += (*file)->Append("a").ok() ? "." : "x";
  return pattern;
}

TEST_P(FaultInjectionEnvTest, OneInRulesAreDrawnFromTheSeed) {
  const std::string a = OneInPattern(base_, Path("one_in"), 1);
  std::cout << "seed 1: " << a << "\n";
  EXPECT_EQ(OneInPattern(base_, Path("one_in"), 1), a);
  EXPECT_NE(OneInPattern(base_, Path("one_in"), 2), a);
  EXPECT_NE(a.find('x'), std::string::npos);
  EXPECT_NE(a.find('.'), std::string::npos);
}

TEST_P(FaultInjectionEnvTest, APowerCutStopsEveryMutationUntilThePowerLoss) {
  FaultRule rule;
  rule.op = SimOp::kSync;
  rule.fault = SimFault::kPowerCut;
  rule.nth = 2;
  env_->AddFaultRule(rule);
  std::unique_ptr<WritableFile> file = Write("f", "one|", "two|", /*sync_dir=*/true);
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kAborted, HasSubstr("power cut")));
  EXPECT_TRUE(env_->power_cut());
  EXPECT_THAT(file->Append("x"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(env_->CreateDir(Path("d")), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(env_->GetFileSize(Path("f")), IsOkAndHolds(8u));  // reads still work
  ASSERT_OK(env_->SimulatePowerLoss());
  EXPECT_FALSE(env_->power_cut());
  EXPECT_THAT(ReadFileToString(base_, Path("f")), IsOkAndHolds("one|"));
  EXPECT_OK(env_->CreateDir(Path("d")));
}

TEST_P(FaultInjectionEnvTest, TheHookCanCutThePower) {
  env_->SetHook([](const SimOpInfo& info) -> std::optional<SimFault> {
    if (info.op == SimOp::kAppend && info.length == 3) return SimFault::kPowerCut;
    return std::nullopt;
  });
  std::unique_ptr<WritableFile> file = Write("f", "one|", "", /*sync_dir=*/true);
  EXPECT_THAT(file->Append("two"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_TRUE(env_->power_cut());
}

// Cuts the power with the Wal open, destroys it (its last writes fail), drops the unsynced
// data and reopens: returns every entry of stream "s".
std::vector<std::string> CrashAndReopen(FaultInjectionEnv* env, std::unique_ptr<Wal> wal,
                                        const WalOptions& options) {
  bool cut = true;
  env->SetHook([&cut](const SimOpInfo& info) -> std::optional<SimFault> {
    const bool mutating = info.mutating_index != SimOpInfo::kNotMutating;
    return cut && mutating ? std::optional<SimFault>(SimFault::kPowerCut) : std::nullopt;
  });
  wal.reset();
  cut = false;
  env->SetHook(nullptr);
  EXPECT_OK(env->SimulatePowerLoss());
  absl::StatusOr<std::unique_ptr<Wal>> reopened = Wal::Open(options);
  EXPECT_OK(reopened);
  if (!reopened.ok()) return {};
  std::vector<std::string> entries;
  absl::StatusOr<std::unique_ptr<Iterator>> it = (*reopened)->NewIterator("s", 0);
  if (absl::IsNotFound(it.status())) return entries;
  EXPECT_OK(it);
  if (!it.ok()) return {};
  for (; (*it)->Valid(); (*it)->Next()) entries.emplace_back((*it)->value());
  EXPECT_OK((*it)->status());
  return entries;
}

TEST_P(FaultInjectionEnvTest, AStrictWalKeepsEveryAcknowledgedEntry) {
  const WalOptions options = Options(SyncMode::kStrict);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 50; ++i) {
    acknowledged.push_back("entry-" + std::to_string(i));
    ASSERT_THAT(wal->Append("s", acknowledged.back()), IsOkAndHolds(uint64_t(i)));
  }
  EXPECT_EQ(CrashAndReopen(env_.get(), std::move(wal), options), acknowledged);
}

TEST_P(FaultInjectionEnvTest, AnAsyncWalReopensWithAGapFreePrefix) {
  const WalOptions options = Options(SyncMode::kAsync);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  std::vector<std::string> appended;
  for (int i = 0; i < 50; ++i) {
    appended.push_back("entry-" + std::to_string(i));
    ASSERT_OK(wal->Append("s", appended.back()));
    if (i == 19) {
      ASSERT_OK(wal->Sync());
    }
    if (i == 34) {
      ASSERT_OK(wal->Flush());  // in the file, not synced
    }
  }
  std::vector<std::string> survived = CrashAndReopen(env_.get(), std::move(wal), options);
  ASSERT_GE(survived.size(), 20u);  // what Sync() made durable
  ASSERT_LE(survived.size(), appended.size());
  EXPECT_EQ(survived,
            std::vector<std::string>(appended.begin(), appended.begin() + survived.size()));
}

INSTANTIATE_TEST_SUITE_P(Envs, FaultInjectionEnvTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Posix") : std::string("Mem");
                         });

}  // namespace
}  // namespace ironwal
