// Tests of SimEnv's fault injection: rules (each fault kind and each selector), capacity
// (ENOSPC), power cuts and the trace. The crash model is tested in sim_env_test.cc.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInternal = absl::StatusCode::kInternal;
constexpr auto kResourceExhausted = absl::StatusCode::kResourceExhausted;

FaultRule Rule(SimOp op, SimFault fault = SimFault::kIoError) {
  FaultRule rule;
  rule.op = op;
  rule.fault = fault;
  return rule;
}

class SimEnvFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(SimEnvOptions()); }

  void Reset(const SimEnvOptions& options) {
    env_ = std::make_unique<SimEnv>(options);
    ASSERT_OK(env_->CreateDir("/d"));
  }

  std::string Contents(const std::string& path) {
    absl::StatusOr<std::string> contents = ReadFileToString(env_.get(), path);
    return contents.ok() ? *contents : absl::StrCat("<", contents.status().ToString(), ">");
  }

  // Which of `count` one-byte appends to /d/f fail.
  std::vector<int> FailingAppends(int count) {
    std::vector<int> failing;
    auto file = env_->NewWritableFile("/d/f");
    if (!file.ok()) return {-1};
    for (int i = 0; i < count; ++i) {
      if (!(*file)->Append("x").ok()) failing.push_back(i);
    }
    return failing;
  }

  std::unique_ptr<SimEnv> env_;
};

TEST_F(SimEnvFaultTest, IoErrorOnAppendFailsWithoutEffect) {
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Append("abc"));
  env_->AddFaultRule(Rule(SimOp::kAppend));
  EXPECT_THAT(file->Append("def"), StatusIs(kInternal, HasSubstr("append /d/f@3")));
  EXPECT_EQ(file->Size(), 3u);
  EXPECT_EQ(Contents("/d/f"), "abc");
}

TEST_F(SimEnvFaultTest, ShortWriteWritesAProperPrefixThenFails) {
  const std::string data = "0123456789012345678901234567890123456789";
  int partial = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SimEnvOptions options;
    options.seed = seed;
    Reset(options);
    ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
    env_->AddFaultRule(Rule(SimOp::kAppend, SimFault::kShortWrite));
    EXPECT_THAT(file->Append(data), StatusIs(kInternal));
    const uint64_t written = file->Size();
    ASSERT_LT(written, data.size());
    EXPECT_EQ(env_->Trace().back().injected, absl::StrCat("short write ", written, "/40"));
    EXPECT_EQ(Contents("/d/f"), data.substr(0, written));
    partial += written > 0;
  }
  EXPECT_GT(partial, 10);
}

TEST_F(SimEnvFaultTest, NoSpaceRulesFailWithResourceExhaustedWithoutEffect) {
  env_->AddFaultRule(Rule(SimOp::kCreateDir, SimFault::kNoSpace));
  env_->AddFaultRule(Rule(SimOp::kOpenWritable, SimFault::kNoSpace));
  env_->AddFaultRule(Rule(SimOp::kRename, SimFault::kNoSpace));
  EXPECT_THAT(env_->CreateDir("/d/sub"), StatusIs(kResourceExhausted));
  EXPECT_THAT(env_->NewWritableFile("/d/f"), StatusIs(kResourceExhausted));
  EXPECT_THAT(env_->GetChildren("/d"), IsOkAndHolds(ElementsAre()));
}

TEST_F(SimEnvFaultTest, IoErrorsOnDirectoryOperationsHaveNoEffect) {
  ASSERT_OK(env_->SyncDir("/"));
  ASSERT_OK(WriteFileAtomically(env_.get(), "/d/f", "x"));
  for (SimOp op : {SimOp::kRemoveFile, SimOp::kRename, SimOp::kSyncDir, SimOp::kRemoveDir}) {
    env_->AddFaultRule(Rule(op));
  }
  ASSERT_OK(env_->CreateDir("/d/sub"));
  EXPECT_THAT(env_->RemoveFile("/d/f"), StatusIs(kInternal));
  EXPECT_THAT(env_->RenameFile("/d/f", "/d/g"), StatusIs(kInternal));
  EXPECT_THAT(env_->RemoveDir("/d/sub"), StatusIs(kInternal));
  EXPECT_THAT(env_->SyncDir("/d"), StatusIs(kInternal));
  EXPECT_THAT(env_->GetChildren("/d"), IsOkAndHolds(ElementsAre("f", "sub")));
  env_->Crash(CrashOptions());  // The failed SyncDir made nothing durable.
  EXPECT_THAT(env_->GetChildren("/d"), IsOkAndHolds(ElementsAre("f")));
}

TEST_F(SimEnvFaultTest, ReadIoErrorFails) {
  ASSERT_OK(WriteFileAtomically(env_.get(), "/d/f", "abc"));
  ASSERT_OK_AND_ASSIGN(auto reader, env_->NewRandomAccessFile("/d/f", {}));
  env_->AddFaultRule(Rule(SimOp::kRead));
  char scratch[4];
  EXPECT_THAT(reader->Read(0, 3, scratch), StatusIs(kInternal, HasSubstr("read /d/f@0")));
}

TEST_F(SimEnvFaultTest, BitFlipChangesOneReturnedBitAndNeverTheStoredData) {
  const std::string data(64, 'A');
  ASSERT_OK(WriteFileAtomically(env_.get(), "/d/f", data));
  for (const bool use_mmap : {false, true}) {
    SCOPED_TRACE(absl::StrCat("use_mmap=", use_mmap));
    RandomAccessFileOptions options;
    options.use_mmap = use_mmap;
    ASSERT_OK_AND_ASSIGN(auto reader, env_->NewRandomAccessFile("/d/f", options));
    FaultRule flip = Rule(SimOp::kRead, SimFault::kBitFlip);
    flip.max_fires = 1;
    const int id = env_->AddFaultRule(flip);
    std::string scratch(64, '\0');
    ASSERT_OK_AND_ASSIGN(absl::string_view view, reader->Read(0, 64, &scratch[0]));
    const std::string flipped(view);
    int bits = 0;
    for (size_t i = 0; i < 64; ++i) bits += __builtin_popcount((flipped[i] ^ 'A') & 0xff);
    EXPECT_EQ(bits, 1);
    EXPECT_EQ(env_->FaultFires(id), 1u);
    ASSERT_OK_AND_ASSIGN(absl::string_view clean, reader->Read(0, 64, &scratch[0]));
    EXPECT_EQ(clean, data);
    EXPECT_EQ(Contents("/d/f"), data);
  }
}

TEST_F(SimEnvFaultTest, NthFiresOnlyOnTheNthMatchingCall) {
  const int id = [&] {
    FaultRule rule = Rule(SimOp::kAppend);
    rule.nth = 3;
    return env_->AddFaultRule(rule);
  }();
  EXPECT_THAT(FailingAppends(6), ElementsAre(2));
  EXPECT_EQ(env_->FaultFires(id), 1u);
}

TEST_F(SimEnvFaultTest, OneInIsReproducibleFromTheSeed) {
  auto failures = [&](uint64_t seed) {
    SimEnvOptions options;
    options.seed = seed;
    Reset(options);
    FaultRule rule = Rule(SimOp::kAppend);
    rule.one_in = 4;
    env_->AddFaultRule(rule);
    return FailingAppends(400);
  };
  const std::vector<int> first = failures(1);
  EXPECT_GT(first.size(), 50u);  // About 100 expected.
  EXPECT_LT(first.size(), 150u);
  EXPECT_EQ(failures(1), first);
  EXPECT_NE(failures(2), first);
}

TEST_F(SimEnvFaultTest, PathPatternSelectsFiles) {
  FaultRule rule = Rule(SimOp::kAppend);
  rule.path_pattern = "*/wal-??.log";
  env_->AddFaultRule(rule);
  ASSERT_OK(env_->CreateDir("/d/x"));
  for (const char* path : {"/d/x/wal-01.log", "/d/wal-22.log"}) {
    ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile(path));
    EXPECT_THAT(file->Append("x"), StatusIs(kInternal)) << path;
  }
  for (const char* path : {"/d/wal-1.log", "/d/wal-01.logs", "/d/x/other.log"}) {
    ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile(path));
    EXPECT_OK(file->Append("x")) << path;
  }
}

TEST_F(SimEnvFaultTest, MaxFiresBoundsTheFires) {
  FaultRule rule = Rule(SimOp::kAppend);
  rule.max_fires = 2;
  const int id = env_->AddFaultRule(rule);
  EXPECT_THAT(FailingAppends(5), ElementsAre(0, 1));
  EXPECT_EQ(env_->FaultFires(id), 2u);
}

TEST_F(SimEnvFaultTest, RemoveFaultRuleStopsIt) {
  const int id = env_->AddFaultRule(Rule(SimOp::kAppend));
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  EXPECT_THAT(file->Append("x"), StatusIs(kInternal));
  env_->RemoveFaultRule(id);
  EXPECT_OK(file->Append("x"));
  EXPECT_EQ(env_->FaultFires(id), 1u);
  env_->AddFaultRule(Rule(SimOp::kAppend));
  env_->ClearFaultRules();
  EXPECT_OK(file->Append("x"));
}

TEST_F(SimEnvFaultTest, CapacityWritesWhatFitsThenFailsUntilSpaceIsFreed) {
  SimEnvOptions options;
  options.capacity_bytes = 100;
  Reset(options);
  ASSERT_OK_AND_ASSIGN(auto other, env_->NewWritableFile("/d/other"));
  ASSERT_OK(other->Append(std::string(30, 'o')));
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  const std::string data(100, 'x');
  EXPECT_THAT(file->Append(data), StatusIs(kResourceExhausted, HasSubstr("ENOSPC")));
  EXPECT_EQ(file->Size(), 70u);  // A short write of what fitted.
  EXPECT_EQ(env_->UsedBytes(), 100u);
  EXPECT_THAT(file->Append("y"), StatusIs(kResourceExhausted));
  // Removing a file frees its space (it has no other name and no open handle left).
  ASSERT_OK(env_->RemoveFile("/d/other"));
  EXPECT_EQ(env_->UsedBytes(), 100u);  // Still open.
  other.reset();
  EXPECT_OK(file->Append(std::string(30, 'y')));
  EXPECT_THAT(file->Append("z"), StatusIs(kResourceExhausted));
  env_->SetCapacity(1000);
  EXPECT_OK(file->Append("z"));
  EXPECT_EQ(Contents("/d/f"), std::string(70, 'x') + std::string(30, 'y') + "z");
}

TEST_F(SimEnvFaultTest, AllocatedSpaceStaysAvailableToItsFile) {
  SimEnvOptions options;
  options.capacity_bytes = 1000;
  Reset(options);
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Allocate(0, 800));
  EXPECT_EQ(env_->UsedBytes(), 800u);
  EXPECT_EQ(file->Size(), 0u);
  ASSERT_OK_AND_ASSIGN(auto other, env_->NewWritableFile("/d/other"));
  EXPECT_THAT(other->Append(std::string(300, 'o')), StatusIs(kResourceExhausted));
  EXPECT_EQ(other->Size(), 200u);
  EXPECT_OK(file->Append(std::string(800, 'x')));  // Inside its allocation.
  EXPECT_THAT(file->Allocate(0, 2000), StatusIs(kResourceExhausted));
}

// As ext4 and XFS: a truncation to the file's size or below frees what Allocate reserved
// past it (ironwal releases a segment's reservation so); an extension keeps it.
TEST_F(SimEnvFaultTest, TruncateReleasesTheSpaceReservedPastTheNewSize) {
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Append(std::string(100, 'x')));
  ASSERT_OK(file->Allocate(0, 800));
  EXPECT_EQ(env_->UsedBytes(), 800u);
  ASSERT_OK(file->Truncate(200));  // an extension: the reservation stays
  EXPECT_EQ(env_->UsedBytes(), 800u);
  ASSERT_OK(file->Truncate(200));  // the same size: released
  EXPECT_EQ(env_->UsedBytes(), 200u);
  ASSERT_OK(file->Allocate(0, 800));
  ASSERT_OK(file->Truncate(50));
  EXPECT_EQ(env_->UsedBytes(), 50u);
}

TEST_F(SimEnvFaultTest, PowerCutFailsThatOperationAndEveryLaterOneWithoutEffect) {
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Append("a"));
  const uint64_t next = env_->mutating_ops();
  env_->SetPowerCutAt(next + 1);
  EXPECT_OK(file->Append("b"));  // Index next: before the cut.
  EXPECT_THAT(file->Append("c"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(env_->CreateDir("/d/sub"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(env_->mutating_ops(), next + 4);  // Failed ones count too.
  EXPECT_EQ(env_->Trace().back().injected, "power cut");
  // Reads still work and see nothing of the failed operations.
  EXPECT_EQ(Contents("/d/f"), "ab");
  EXPECT_THAT(env_->GetChildren("/d"), IsOkAndHolds(ElementsAre("f")));
  // The power comes back with the crash.
  env_->Crash(CrashOptions());
  EXPECT_OK(env_->CreateDir("/d2"));
}

TEST_F(SimEnvFaultTest, TraceRecordsEveryOperationWithItsResult) {
  env_->ClearTrace();
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Append("0123456789"));
  FaultRule rule = Rule(SimOp::kSync);
  env_->AddFaultRule(rule);
  EXPECT_THAT(file->Sync(), StatusIs(kInternal));
  ASSERT_OK(file->Truncate(4));
  EXPECT_THAT(env_->RenameFile("/d/missing", "/d/g"), StatusIs(absl::StatusCode::kNotFound));
  std::vector<std::string> lines;
  for (const TraceRecord& record : env_->Trace()) lines.push_back(record.ToString());
  EXPECT_THAT(lines, ElementsAre("1 open-write /d/f OK", "2 append /d/f@0+10 OK",
                                 "3 sync /d/f INTERNAL (injected: EIO)", "4 truncate /d/f@4 OK",
                                 "5 rename /d/missing -> /d/g NOT_FOUND"));
}

TEST_F(SimEnvFaultTest, FaultsAreDecidedBeforeTheArgumentsAreChecked) {
  env_->AddFaultRule(Rule(SimOp::kRemoveFile));
  EXPECT_THAT(env_->RemoveFile("/d/missing"), StatusIs(kInternal, HasSubstr("EIO")));
}

TEST_F(SimEnvFaultTest, RenameRulesMatchEitherPath) {
  ASSERT_OK(WriteFileAtomically(env_.get(), "/d/a", "x"));
  FaultRule rule = Rule(SimOp::kRename);
  rule.path_pattern = "*.tmp";
  env_->AddFaultRule(rule);
  EXPECT_OK(env_->RenameFile("/d/a", "/d/b"));
  EXPECT_THAT(env_->RenameFile("/d/b", "/d/b.tmp"), StatusIs(kInternal));
  { ASSERT_OK_AND_ASSIGN(auto tmp, env_->NewWritableFile("/d/c.tmp")); }
  EXPECT_THAT(env_->RenameFile("/d/c.tmp", "/d/c"), StatusIs(kInternal));
  EXPECT_THAT(env_->GetChildren("/d"), IsOkAndHolds(ElementsAre("b", "c.tmp")));
}

TEST_F(SimEnvFaultTest, IoErrorOnCloseStillClosesTheFile) {
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  env_->AddFaultRule(Rule(SimOp::kClose));
  EXPECT_THAT(file->Close(), StatusIs(kInternal));
  EXPECT_THAT(file->Append("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(file->Close());
}

TEST_F(SimEnvFaultTest, BitFlipOnAMappedReadWithoutScratchUsesACopy) {
  ASSERT_OK(WriteFileAtomically(env_.get(), "/d/f", std::string(16, 'A')));
  RandomAccessFileOptions mmap;
  mmap.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto reader, env_->NewRandomAccessFile("/d/f", mmap));
  ASSERT_OK_AND_ASSIGN(absl::string_view clean, reader->Read(0, 16, nullptr));
  FaultRule flip = Rule(SimOp::kRead, SimFault::kBitFlip);
  flip.nth = 1;
  env_->AddFaultRule(flip);
  ASSERT_OK_AND_ASSIGN(absl::string_view flipped, reader->Read(0, 16, nullptr));
  EXPECT_NE(flipped, std::string(16, 'A'));
  EXPECT_EQ(clean, std::string(16, 'A'));  // The mapping itself is untouched.
  EXPECT_THAT(reader->Read(0, 16, nullptr), IsOkAndHolds(std::string(16, 'A')));
}

TEST_F(SimEnvFaultTest, LoweringTheCapacityBelowTheUsedBytesRefusesGrowthOnly) {
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Append(std::string(50, 'x')));
  env_->SetCapacity(10);
  EXPECT_EQ(Contents("/d/f"), std::string(50, 'x'));
  EXPECT_THAT(file->Append("y"), StatusIs(kResourceExhausted));
  EXPECT_OK(file->Truncate(5));
  EXPECT_OK(file->Append("12345"));
  EXPECT_THAT(file->Append("6"), StatusIs(kResourceExhausted));
}

TEST_F(SimEnvFaultTest, CloneContinuesTheOperationCountButNotTheTrace) {
  ASSERT_OK(env_->CreateDir("/d/sub"));
  const uint64_t ops = env_->mutating_ops();
  env_->SetPowerCutAt(ops);
  std::unique_ptr<SimEnv> clone = env_->Clone();
  EXPECT_EQ(clone->mutating_ops(), ops);
  EXPECT_OK(clone->CreateDir("/d/other"));  // No power cut in the clone.
  ASSERT_EQ(clone->Trace().size(), 1u);
  EXPECT_EQ(clone->Trace()[0].ToString(), "0 mkdir /d/other OK");
}

TEST_F(SimEnvFaultTest, NowMicrosAdvancesByMicrosPerCall) {
  SimEnvOptions options;
  options.micros_per_call = 10;
  SimEnv env(options);
  EXPECT_EQ(env.NowMicros(), 10u);
  EXPECT_EQ(env.NowMicros(), 20u);
}

TEST_F(SimEnvFaultTest, PowerCutRuleCutsAtTheNthMatchingOperation) {
  ASSERT_OK_AND_ASSIGN(auto f, env_->NewWritableFile("/d/f.wal"));
  ASSERT_OK_AND_ASSIGN(auto g, env_->NewWritableFile("/d/g.txt"));
  ASSERT_OK(env_->SyncDir("/"));
  ASSERT_OK(env_->SyncDir("/d"));
  FaultRule cut = Rule(SimOp::kSync, SimFault::kPowerCut);
  cut.path_pattern = "*.wal";
  cut.nth = 2;
  const int id = env_->AddFaultRule(cut);
  ASSERT_OK(f->Append("one"));
  ASSERT_OK(f->Sync());  // The 1st matching sync.
  ASSERT_OK(g->Sync());  // Not matching.
  ASSERT_OK(f->Append("two"));
  const uint64_t cut_index = env_->mutating_ops();
  EXPECT_THAT(f->Sync(), StatusIs(absl::StatusCode::kAborted, HasSubstr("power cut")));
  EXPECT_EQ(env_->FaultFires(id), 1u);
  EXPECT_THAT(g->Append("late"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(env_->mutating_ops(), cut_index + 2);
  EXPECT_EQ(Contents("/d/f.wal"), "onetwo");  // Reads still see the page cache.
  env_->Crash(CrashOptions());
  EXPECT_EQ(Contents("/d/f.wal"), "one");  // Only the first sync reached the disk.
  EXPECT_OK(env_->CreateDir("/after"));    // The power is back.
}

TEST_F(SimEnvFaultTest, HookSeesEachOperationBeforeItRunsAndDecidesItsFate) {
  std::vector<SimOpInfo> seen;
  env_->SetHook([&seen](const SimOpInfo& info) -> std::optional<SimFault> {
    seen.push_back(info);
    if (info.op == SimOp::kAppend && info.offset == 3) return SimFault::kIoError;
    if (info.op == SimOp::kRename) return SimFault::kPowerCut;
    return std::nullopt;
  });
  const uint64_t first_index = env_->mutating_ops();
  const uint64_t first_seq = env_->Trace().back().seq + 1;
  ASSERT_OK_AND_ASSIGN(auto file, env_->NewWritableFile("/d/f"));
  ASSERT_OK(file->Append("abc"));
  EXPECT_THAT(file->Append("def"), StatusIs(kInternal, HasSubstr("EIO")));
  ASSERT_OK(env_->GetChildren("/d"));
  EXPECT_THAT(env_->RenameFile("/d/f", "/d/g"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(env_->CreateDir("/d/x"), StatusIs(absl::StatusCode::kAborted));
  ASSERT_EQ(seen.size(), 5u);  // Not called for operations the power cut fails.
  EXPECT_EQ(seen[0].op, SimOp::kOpenWritable);
  EXPECT_EQ(seen[0].seq, first_seq);
  EXPECT_EQ(seen[0].mutating_index, first_index);
  EXPECT_EQ(seen[1].op, SimOp::kAppend);
  EXPECT_EQ(seen[1].offset, 0u);
  EXPECT_EQ(seen[1].length, 3u);
  EXPECT_EQ(seen[2].offset, 3u);
  EXPECT_EQ(seen[3].op, SimOp::kGetChildren);
  EXPECT_EQ(seen[3].mutating_index, SimOpInfo::kNotMutating);
  EXPECT_EQ(seen[4].path, "/d/f -> /d/g");
  EXPECT_EQ(seen[4].mutating_index, first_index + 3);
  EXPECT_EQ(Contents("/d/f"), "abc");
  env_->SetHook(nullptr);
  env_->Crash(CrashOptions());
  EXPECT_OK(env_->CreateDir("/y"));
}

TEST_F(SimEnvFaultTest, HookFaultWinsOverTheRulesWhichStillCount) {
  FaultRule second = Rule(SimOp::kCreateDir);
  second.nth = 2;
  const int id = env_->AddFaultRule(second);
  env_->SetHook([](const SimOpInfo& info) -> std::optional<SimFault> {
    if (info.path == "/d/1") return SimFault::kNoSpace;
    return std::nullopt;
  });
  EXPECT_THAT(env_->CreateDir("/d/1"), StatusIs(kResourceExhausted));  // Rule's 1st call.
  EXPECT_THAT(env_->CreateDir("/d/2"), StatusIs(kInternal));           // Rule's 2nd: fires.
  EXPECT_OK(env_->CreateDir("/d/3"));
  EXPECT_EQ(env_->FaultFires(id), 1u);
}

TEST_F(SimEnvFaultTest, HookAnsweringAFaultTheOperationCannotHaveAborts) {
  EXPECT_DEATH(
      {
        env_->SetHook(
            [](const SimOpInfo&) -> std::optional<SimFault> { return SimFault::kBitFlip; });
        (void)env_->CreateDir("/d/z");
      },
      "cannot have");
}

TEST_F(SimEnvFaultTest, ClockStandsStillUntilAdvancedWhenBothRatesAreZero) {
  SimEnvOptions options;
  options.micros_per_call = 0;
  SimEnv env(options);
  EXPECT_EQ(env.NowMicros(), 0u);
  ASSERT_OK(env.CreateDir("/d"));
  EXPECT_EQ(env.NowMicros(), 0u);
  env.AdvanceClock(250);
  EXPECT_EQ(env.NowMicros(), 250u);
  EXPECT_EQ(env.NowMicros(), 250u);
}

// The time each operation takes is drawn from the seed: the same seed gives the same
// clock, another seed another, and turning it on changes no crash choice of the seed.
TEST_F(SimEnvFaultTest, SeededOperationTimeIsReproducibleAndLeavesCrashChoicesAlone) {
  auto run = [](uint64_t seed, uint64_t max_micros_per_op) {
    SimEnvOptions options;
    options.seed = seed;
    options.micros_per_call = 0;
    options.max_micros_per_op = max_micros_per_op;
    SimEnv env(options);
    std::vector<uint64_t> clock;
    EXPECT_OK(env.CreateDir("/d"));
    EXPECT_OK(env.SyncDir("/"));
    auto file = env.NewWritableFile("/d/f");
    EXPECT_OK(file);
    EXPECT_OK(env.SyncDir("/d"));
    for (int i = 0; i < 8; ++i) {
      EXPECT_OK((*file)->Append(std::string(4096, static_cast<char>('a' + i))));
      clock.push_back(env.NowMicros());
    }
    CrashOptions crash;
    crash.mode = CrashMode::kKeepRandomBlocks;
    env.Crash(crash);
    absl::StatusOr<std::string> after = ReadFileToString(&env, "/d/f");
    return std::make_pair(clock, after.ok() ? *after : after.status().ToString());
  };
  const auto a = run(7, 100);
  EXPECT_EQ(a, run(7, 100));
  EXPECT_NE(a.first, run(8, 100).first);
  EXPECT_GT(a.first.back(), 0u);
  for (size_t i = 1; i < a.first.size(); ++i) EXPECT_LE(a.first[i - 1], a.first[i]);
  EXPECT_LE(a.first.back(), 100u * 12);   // 12 traced operations, at most 100 us each.
  EXPECT_EQ(a.second, run(7, 0).second);  // The same blocks survive the crash.
}

}  // namespace
}  // namespace ironwal
