// Tests of SimEnv's crash model: what each CrashMode keeps, directory entries, the
// fsync-failure semantics, PendingChanges/CrashPlan, Clone, handles after a crash and
// determinism from the seed. Fault rules, capacity, power cuts and the trace are in
// sim_env_fault_test.cc.
#include "ironwal/env/sim_env.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kBlock = 4096;
constexpr int kSeeds = 64;

// `n` non-zero bytes that differ from their neighbours, so misplaced or zeroed bytes show.
std::string Pattern(size_t n, int salt = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
  return s;
}

SimEnvOptions Seeded(uint64_t seed) {
  SimEnvOptions options;
  options.seed = seed;
  return options;
}

CrashOptions Mode(CrashMode mode, bool keep_dir_ops = false) {
  CrashOptions crash;
  crash.mode = mode;
  crash.keep_unsynced_dir_ops = keep_dir_ops;
  return crash;
}

class SimEnvTest : public ::testing::Test {
 protected:
  // /d exists durably in `env`.
  static void MakeDurableDir(SimEnv* env) {
    ASSERT_OK(env->CreateDir("/d"));
    ASSERT_OK(env->SyncDir("/"));
  }

  // Creates /d/f durably (name synced), with `synced` synced and `unsynced` appended after.
  static void WriteFile(SimEnv* env, absl::string_view synced, absl::string_view unsynced) {
    ASSERT_OK_AND_ASSIGN(auto file, env->NewWritableFile("/d/f"));
    ASSERT_OK(env->SyncDir("/d"));
    ASSERT_OK(file->Append(synced));
    ASSERT_OK(file->Sync());
    ASSERT_OK(file->Append(unsynced));
  }

  // Creates /d/f durably, appends `data` and fails the Sync that follows (one injected
  // EIO). Returns the open file, or nullptr (after a test failure).
  static std::unique_ptr<WritableFile> AppendThenFailSync(SimEnv* env, absl::string_view data) {
    absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile("/d/f");
    EXPECT_OK(file);
    if (!file.ok()) return nullptr;
    EXPECT_OK(env->SyncDir("/d"));
    EXPECT_OK((*file)->Append(data));
    FaultRule rule;
    rule.op = SimOp::kSync;
    rule.nth = 1;
    env->AddFaultRule(rule);
    EXPECT_THAT((*file)->Sync(), StatusIs(absl::StatusCode::kInternal));
    return *std::move(file);
  }

  static std::string Contents(SimEnv* env, const std::string& path) {
    absl::StatusOr<std::string> contents = ReadFileToString(env, path);
    return contents.ok() ? *contents : absl::StrCat("<", contents.status().ToString(), ">");
  }
};

TEST_F(SimEnvTest, DropUnsyncedKeepsExactlyTheSyncedPrefix) {
  SimEnv env;
  MakeDurableDir(&env);
  const std::string all = Pattern(3 * kBlock + 100);
  WriteFile(&env, all.substr(0, 5000), all.substr(5000));
  EXPECT_EQ(Contents(&env, "/d/f"), all);  // Reads see the page cache.
  EXPECT_THAT(env.DurableContents("/d/f"), IsOkAndHolds(all.substr(0, 5000)));
  env.Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_EQ(Contents(&env, "/d/f"), all.substr(0, 5000));
}

TEST_F(SimEnvTest, KeepPrefixKeepsAPrefixOfTheVolatileImageExtendingTheDurableOne) {
  const std::string all = Pattern(5 * kBlock);
  std::set<size_t> sizes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    SimEnv env(Seeded(seed));
    MakeDurableDir(&env);
    WriteFile(&env, all.substr(0, 5000), all.substr(5000));
    env.Crash(Mode(CrashMode::kKeepPrefix));
    const std::string after = Contents(&env, "/d/f");
    ASSERT_GE(after.size(), 5000u);
    ASSERT_LE(after.size(), all.size());
    EXPECT_EQ(after, all.substr(0, after.size()));
    sizes.insert(after.size());
  }
  // The cut is byte-granular and random: many different lengths, not only block ends.
  EXPECT_GT(sizes.size(), kSeeds / 2);
  EXPECT_TRUE(std::any_of(sizes.begin(), sizes.end(), [](size_t s) { return s % kBlock != 0; }));
}

TEST_F(SimEnvTest, KeepRandomBlocksKeepsWholeBlocksAndZeroFillsHoles) {
  const std::string all = Pattern(16 * kBlock);
  bool saw_hole = false;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    SimEnv env(Seeded(seed));
    MakeDurableDir(&env);
    WriteFile(&env, "", all);  // Nothing durable but the name.
    env.Crash(Mode(CrashMode::kKeepRandomBlocks));
    const std::string after = Contents(&env, "/d/f");
    ASSERT_EQ(after.size() % kBlock, 0u);
    bool lost_before = false;
    for (size_t b = 0; b < after.size() / kBlock; ++b) {
      const std::string block = after.substr(b * kBlock, kBlock);
      const bool kept = block == all.substr(b * kBlock, kBlock);
      ASSERT_TRUE(kept || block == std::string(kBlock, '\0')) << "block " << b;
      if (kept && lost_before) saw_hole = true;
      lost_before |= !kept;
    }
  }
  EXPECT_TRUE(saw_hole);
}

TEST_F(SimEnvTest, KeepRandomBlocksReadsLostBlocksAsTheirDurableBytes) {
  bool saw_old = false, saw_new = false;
  for (int seed = 0; seed < 16; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    SimEnv env(Seeded(seed));
    MakeDurableDir(&env);
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile("/d/f"));
    ASSERT_OK(env.SyncDir("/d"));
    ASSERT_OK(file->Append(std::string(4 * kBlock, 'x')));
    ASSERT_OK(file->Sync());
    ASSERT_OK(file->Truncate(0));  // Rewrite in place: same length, new bytes.
    ASSERT_OK(file->Append(std::string(4 * kBlock, 'y')));
    env.Crash(Mode(CrashMode::kKeepRandomBlocks));
    const std::string after = Contents(&env, "/d/f");
    ASSERT_EQ(after.size(), 4 * kBlock);
    for (size_t b = 0; b < 4; ++b) {
      const std::string block = after.substr(b * kBlock, kBlock);
      saw_old |= block == std::string(kBlock, 'x');
      saw_new |= block == std::string(kBlock, 'y');
      ASSERT_TRUE(block == std::string(kBlock, 'x') || block == std::string(kBlock, 'y'));
    }
  }
  EXPECT_TRUE(saw_old && saw_new);
}

TEST_F(SimEnvTest, TearBlockTearsOneBlockAtSectorGranularity) {
  const std::string all = Pattern(3 * kBlock);
  bool saw_partly_new_block = false;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    SimEnv env(Seeded(seed));
    MakeDurableDir(&env);
    WriteFile(&env, "", all);
    env.Crash(Mode(CrashMode::kTearBlock));
    const std::string after = Contents(&env, "/d/f");
    // Blocks before the torn one survive; the torn one is the last, full length, with a
    // whole number of new sectors (but not all of them) followed by zeros.
    ASSERT_EQ(after.size() % kBlock, 0u);
    ASSERT_GE(after.size(), kBlock);
    const size_t torn_start = after.size() - kBlock;
    size_t new_bytes = 0;
    while (new_bytes < kBlock && after[torn_start + new_bytes] == all[torn_start + new_bytes]) {
      ++new_bytes;
    }
    EXPECT_EQ(after.substr(0, torn_start), all.substr(0, torn_start));
    EXPECT_EQ(new_bytes % 512, 0u);
    EXPECT_LT(new_bytes, kBlock);
    EXPECT_EQ(after.substr(torn_start + new_bytes), std::string(kBlock - new_bytes, '\0'));
    saw_partly_new_block |= new_bytes > 0;
  }
  EXPECT_TRUE(saw_partly_new_block);
}

TEST_F(SimEnvTest, UnsyncedCreateIsLostAndSyncDirKeepsIt) {
  for (const bool sync_dir : {false, true}) {
    SCOPED_TRACE(absl::StrCat("sync_dir=", sync_dir));
    SimEnv env;
    MakeDurableDir(&env);
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile("/d/new"));
    ASSERT_OK(file->Append("data"));
    ASSERT_OK(file->Sync());  // Data durable; the name only with SyncDir.
    if (sync_dir) {
      ASSERT_OK(env.SyncDir("/d"));
    }
    env.Crash(Mode(CrashMode::kKeepPrefix));
    if (sync_dir) {
      EXPECT_EQ(Contents(&env, "/d/new"), "data");
    } else {
      EXPECT_THAT(env.GetChildren("/d"), IsOkAndHolds(IsEmpty()));
    }
  }
}

TEST_F(SimEnvTest, UnsyncedCreateDirLosesItsWholeSubtree) {
  SimEnv env;
  MakeDurableDir(&env);
  ASSERT_OK(env.CreateDir("/d/sub"));
  ASSERT_OK(WriteFileAtomically(&env, "/d/sub/f", "x"));  // Syncs /d/sub, not /d.
  env.Crash(Mode(CrashMode::kKeepRandomBlocks));
  EXPECT_THAT(env.IsDirectory("/d/sub"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SimEnvTest, UnsyncedRenameRevertsToTheOldNameWithItsData) {
  for (const bool sync_dir : {false, true}) {
    SCOPED_TRACE(absl::StrCat("sync_dir=", sync_dir));
    SimEnv env;
    MakeDurableDir(&env);
    ASSERT_OK(WriteFileAtomically(&env, "/d/old", "contents"));
    ASSERT_OK(env.RenameFile("/d/old", "/d/new"));
    if (sync_dir) {
      ASSERT_OK(env.SyncDir("/d"));
    }
    env.Crash(Mode(CrashMode::kDropUnsynced));
    const std::string survivor = sync_dir ? "new" : "old";
    EXPECT_THAT(env.GetChildren("/d"), IsOkAndHolds(ElementsAre(survivor)));
    EXPECT_EQ(Contents(&env, "/d/" + survivor), "contents");
  }
}

TEST_F(SimEnvTest, UnsyncedRenameOverAFileRevertsBothNames) {
  SimEnv env;
  MakeDurableDir(&env);
  ASSERT_OK(WriteFileAtomically(&env, "/d/CURRENT", "v1"));
  {
    ASSERT_OK_AND_ASSIGN(auto tmp, env.NewWritableFile("/d/CURRENT.tmp"));
    ASSERT_OK(tmp->Append("v2"));
    ASSERT_OK(tmp->Sync());
  }
  ASSERT_OK(env.RenameFile("/d/CURRENT.tmp", "/d/CURRENT"));
  env.Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_EQ(Contents(&env, "/d/CURRENT"), "v1");
}

TEST_F(SimEnvTest, CrossDirectoryRenameIsDurableOnlyWithBothDirectoriesSynced) {
  SimEnv env;
  ASSERT_OK(env.CreateDir("/a"));
  ASSERT_OK(env.CreateDir("/b"));
  ASSERT_OK(env.SyncDir("/"));
  ASSERT_OK(WriteFileAtomically(&env, "/a/f", "x"));
  ASSERT_OK(env.RenameFile("/a/f", "/b/f"));
  ASSERT_OK(env.SyncDir("/b"));  // Only the target: the source entry comes back too.
  std::unique_ptr<SimEnv> both = env.Clone();
  ASSERT_OK(both->SyncDir("/a"));
  env.Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_EQ(Contents(&env, "/a/f"), "x");
  EXPECT_EQ(Contents(&env, "/b/f"), "x");
  both->Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_THAT(both->GetChildren("/a"), IsOkAndHolds(IsEmpty()));
  EXPECT_EQ(Contents(both.get(), "/b/f"), "x");
}

TEST_F(SimEnvTest, UnsyncedRemoveReverts) {
  SimEnv env;
  MakeDurableDir(&env);
  ASSERT_OK(WriteFileAtomically(&env, "/d/f", "kept"));
  ASSERT_OK(env.RemoveFile("/d/f"));
  EXPECT_THAT(env.DurableContents("/d/f"), IsOkAndHolds("kept"));
  env.Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_EQ(Contents(&env, "/d/f"), "kept");
}

TEST_F(SimEnvTest, KeepUnsyncedDirOpsKeepsAPrefixInOrder) {
  std::set<std::vector<std::string>> outcomes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    SimEnv env(Seeded(seed));
    MakeDurableDir(&env);
    for (const char* name : {"c", "a", "b"}) {  // Created in this order, listed sorted.
      ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(absl::StrCat("/d/", name)));
    }
    env.Crash(Mode(CrashMode::kDropUnsynced, /*keep_dir_ops=*/true));
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> children, env.GetChildren("/d"));
    outcomes.insert(children);
  }
  using Names = std::vector<std::string>;
  EXPECT_EQ(outcomes, (std::set<Names>{{}, {"c"}, {"a", "c"}, {"a", "b", "c"}}));
}

TEST_F(SimEnvTest, FailedSyncDropsTheDataButReadsBackAndTheNextSyncSucceeds) {
  SimEnv env;
  MakeDurableDir(&env);
  std::unique_ptr<WritableFile> file = AppendThenFailSync(&env, "lost");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(Contents(&env, "/d/f"), "lost");  // Still in the page cache.
  EXPECT_OK(file->Sync());                    // Reports success: nothing is dirty.
  EXPECT_THAT(env.PendingChanges(), IsEmpty());
  env.Crash(Mode(CrashMode::kKeepPrefix));
  EXPECT_EQ(Contents(&env, "/d/f"), "");
}

TEST_F(SimEnvTest, FsyncFailureKeepsDirtyKeepsTheDataForTheNextSync) {
  SimEnvOptions options;
  options.fsync_failure_keeps_dirty = true;
  SimEnv env(options);
  MakeDurableDir(&env);
  std::unique_ptr<WritableFile> file = AppendThenFailSync(&env, "kept");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(env.DurableContents("/d/f"), IsOkAndHolds(""));
  EXPECT_OK(file->Sync());
  env.Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_EQ(Contents(&env, "/d/f"), "kept");
}

TEST_F(SimEnvTest, BlockRewrittenAfterAFailedSyncIsSyncedWhole) {
  SimEnv env;
  MakeDurableDir(&env);
  std::unique_ptr<WritableFile> file = AppendThenFailSync(&env, "AAAA");
  ASSERT_NE(file, nullptr);
  ASSERT_OK(file->Append("BBBB"));  // Dirties block 0 again, as a write to the page would.
  ASSERT_OK(file->Sync());
  EXPECT_THAT(env.DurableContents("/d/f"), IsOkAndHolds("AAAABBBB"));
}

// The fsync-failure defence of recovery: the dropped bytes, written again over themselves,
// are dirty again and the next sync makes them durable; a crash before it keeps the
// durable bytes (here none: the file reads as its durable length).
TEST_F(SimEnvTest, BytesWrittenAgainInPlaceAfterAFailedSyncBecomeDurable) {
  SimEnv env;
  MakeDurableDir(&env);
  std::unique_ptr<WritableFile> file = AppendThenFailSync(&env, "AAAA");
  ASSERT_NE(file, nullptr);
  ASSERT_OK(file->WriteAt(0, "AAAA"));
  EXPECT_EQ(env.PendingChanges().size(), 1u);  // block 0 (the failed sync cleaned the length)
  std::unique_ptr<SimEnv> crashed = env.Clone();
  crashed->Crash(Mode(CrashMode::kDropUnsynced));
  EXPECT_EQ(Contents(crashed.get(), "/d/f"), "");
  ASSERT_OK(file->Sync());
  EXPECT_THAT(env.DurableContents("/d/f"), IsOkAndHolds("AAAA"));
  const std::vector<TraceRecord> trace = env.Trace();
  bool traced = false;
  for (const TraceRecord& r : trace) {
    traced |= r.ToString().find("write /d/f@0+4 OK") != std::string::npos;
  }
  EXPECT_TRUE(traced) << "WriteAt is traced as a write at its offset";
}

TEST_F(SimEnvTest, KeepPrefixCanKeepTheShrinkOfATruncatedFile) {
  std::set<size_t> sizes;
  for (int seed = 0; seed < 16; ++seed) {
    SimEnv env(Seeded(seed));
    MakeDurableDir(&env);
    WriteFile(&env, std::string(100, 'x'), "");
    ASSERT_OK_AND_ASSIGN(auto file, env.NewAppendableFile("/d/f"));
    ASSERT_OK(file->Truncate(10));  // Only the length is dirty.
    env.Crash(Mode(CrashMode::kKeepPrefix));
    const std::string after = Contents(&env, "/d/f");
    EXPECT_EQ(after, std::string(after.size(), 'x'));
    sizes.insert(after.size());
  }
  EXPECT_EQ(sizes, (std::set<size_t>{10, 100}));
}

TEST_F(SimEnvTest, PendingChangesListsBlocksLengthAndDirectoryChanges) {
  SimEnv env;
  MakeDurableDir(&env);
  WriteFile(&env, "", Pattern(2 * kBlock + 1));
  ASSERT_OK(env.CreateDir("/d/sub"));
  std::vector<std::string> described;
  for (const PendingChange& change : env.PendingChanges()) described.push_back(change.description);
  EXPECT_THAT(described, ElementsAre("mkdir /d/sub", "block 0 of /d/f", "block 1 of /d/f",
                                     "block 2 of /d/f", "length of /d/f: 0 -> 8193"));
}

TEST_F(SimEnvTest, CrashPlanKeepsExactlyTheListedChangesAndTearsOneBlock) {
  SimEnv env;
  MakeDurableDir(&env);
  const std::string all = Pattern(3 * kBlock);
  WriteFile(&env, "", all);
  ASSERT_OK_AND_ASSIGN(auto other, env.NewWritableFile("/d/other"));  // Unsynced create.
  CrashPlan plan;
  uint64_t inode = 0;
  for (const PendingChange& change : env.PendingChanges()) {
    if (change.kind != PendingChange::Kind::kBlock) continue;
    inode = change.inode;
    if (change.block != 1) plan.keep.push_back(change);
  }
  plan.tear = true;
  plan.torn_inode = inode;
  plan.torn_block = 1;
  plan.torn_bytes = 100;
  env.Crash(plan);
  std::string expected = all;
  std::fill(expected.begin() + kBlock + 100, expected.begin() + 2 * kBlock, '\0');
  EXPECT_EQ(Contents(&env, "/d/f"), expected);
  EXPECT_THAT(env.GetChildren("/d"), IsOkAndHolds(ElementsAre("f")));
}

TEST_F(SimEnvTest, CrashPlanKeepingEverythingGivesTheVolatileStateAndNothingTheDurable) {
  for (const bool keep_all : {false, true}) {
    SCOPED_TRACE(absl::StrCat("keep_all=", keep_all));
    SimEnv env;
    MakeDurableDir(&env);
    const std::string all = Pattern(2 * kBlock + 7);
    WriteFile(&env, all.substr(0, 3000), all.substr(3000));
    ASSERT_OK(WriteFileAtomically(&env, "/d/g", "g"));
    ASSERT_OK(env.RenameFile("/d/g", "/d/h"));
    ASSERT_OK(env.CreateDir("/d/sub"));
    CrashPlan plan;
    if (keep_all) plan.keep = env.PendingChanges();
    env.Crash(plan);
    if (keep_all) {
      EXPECT_EQ(Contents(&env, "/d/f"), all);
      EXPECT_THAT(env.GetChildren("/d"), IsOkAndHolds(ElementsAre("f", "h", "sub")));
    } else {
      EXPECT_EQ(Contents(&env, "/d/f"), all.substr(0, 3000));
      EXPECT_THAT(env.GetChildren("/d"), IsOkAndHolds(ElementsAre("f", "g")));
    }
    EXPECT_THAT(env.PendingChanges(), IsEmpty());
  }
}

TEST_F(SimEnvTest, CrashPlanKeepsADirectoryChangeOnlyWithTheOlderOnes) {
  SimEnv env;
  MakeDurableDir(&env);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(absl::StrCat("/d/", name)));
  }
  CrashPlan plan;
  for (const PendingChange& change : env.PendingChanges()) {
    if (change.description == "create /d/b") plan.keep.push_back(change);
  }
  ASSERT_EQ(plan.keep.size(), 1u);
  env.Crash(plan);
  EXPECT_THAT(env.GetChildren("/d"), IsOkAndHolds(ElementsAre("a", "b")));
}

TEST_F(SimEnvTest, CloneIsIndependentAndCrashesTheSameWay) {
  SimEnv env(Seeded(7));
  MakeDurableDir(&env);
  WriteFile(&env, "", Pattern(8 * kBlock));
  std::unique_ptr<SimEnv> clone = env.Clone();
  // Writes to either do not show in the other.
  ASSERT_OK(WriteFileAtomically(&env, "/d/only-original", "o"));
  EXPECT_THAT(clone->GetChildren("/d"), IsOkAndHolds(ElementsAre("f")));
  ASSERT_OK(env.RemoveFile("/d/only-original"));
  ASSERT_OK(env.SyncDir("/d"));
  // The generator was copied too: the same crash gives the same bytes.
  env.Crash(Mode(CrashMode::kKeepRandomBlocks));
  EXPECT_EQ(Contents(clone.get(), "/d/f"), Pattern(8 * kBlock));  // Unaffected.
  clone->Crash(Mode(CrashMode::kKeepRandomBlocks));
  EXPECT_EQ(Contents(clone.get(), "/d/f"), Contents(&env, "/d/f"));
}

TEST_F(SimEnvTest, CrashInvalidatesHandlesAndReleasesLocks) {
  SimEnv env;
  MakeDurableDir(&env);
  ASSERT_OK(WriteFileAtomically(&env, "/d/f", "abc"));
  ASSERT_OK_AND_ASSIGN(auto writer, env.NewAppendableFile("/d/f"));
  RandomAccessFileOptions mmap;
  mmap.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto reader, env.NewRandomAccessFile("/d/f", mmap));
  ASSERT_OK_AND_ASSIGN(absl::string_view view, reader->Read(0, 3, nullptr));
  ASSERT_OK_AND_ASSIGN(auto lock, env.LockFile("/d/LOCK"));
  env.Crash(Mode(CrashMode::kDropUnsynced));
  constexpr auto kFailedPrecondition = absl::StatusCode::kFailedPrecondition;
  EXPECT_THAT(writer->Append("x"), StatusIs(kFailedPrecondition));
  EXPECT_THAT(writer->Sync(), StatusIs(kFailedPrecondition));
  EXPECT_THAT(reader->Read(0, 3, nullptr), StatusIs(kFailedPrecondition));
  EXPECT_THAT(reader->Size(), StatusIs(kFailedPrecondition));
  EXPECT_EQ(view, "abc");  // Views stay valid while the file object lives.
  EXPECT_THAT(writer->Close(), StatusIs(kFailedPrecondition));
  EXPECT_OK(writer->Close());  // A second Close is OK.
  // The lock is gone with the crash; the old FileLock must not release a new holder.
  ASSERT_OK_AND_ASSIGN(auto relock, env.LockFile("/d/LOCK"));
  lock.reset();
  EXPECT_THAT(env.LockFile("/d/LOCK"), StatusIs(kFailedPrecondition));
  // New handles work.
  ASSERT_OK_AND_ASSIGN(auto fresh, env.NewAppendableFile("/d/f"));
  EXPECT_OK(fresh->Append("d"));
  EXPECT_EQ(Contents(&env, "/d/f"), "abcd");
}

TEST_F(SimEnvTest, OpenHandleKeepsARemovedFilesDataAndSpace) {
  SimEnv env;
  MakeDurableDir(&env);
  ASSERT_OK(WriteFileAtomically(&env, "/d/f", "12345"));
  ASSERT_OK_AND_ASSIGN(auto reader, env.NewRandomAccessFile("/d/f", {}));
  ASSERT_OK(env.RemoveFile("/d/f"));
  EXPECT_EQ(env.UsedBytes(), 5u);
  char scratch[8];
  EXPECT_THAT(reader->Read(0, 8, scratch), IsOkAndHolds("12345"));
  reader.reset();
  EXPECT_EQ(env.UsedBytes(), 0u);
}

// A workload whose crash state depends on the seed: many unsynced blocks in several files,
// unsynced directory changes, and a one_in fault.
struct RunResult {
  std::vector<std::string> files;
  std::vector<std::string> trace;
};

RunResult RunWorkload(uint64_t seed) {
  SimEnv env(Seeded(seed));
  FaultRule rule;
  rule.op = SimOp::kAppend;
  rule.fault = SimFault::kShortWrite;
  rule.one_in = 5;
  env.AddFaultRule(rule);
  RunResult result;
  if (!env.CreateDir("/w").ok()) return result;
  for (int i = 0; i < 4; ++i) {
    auto file = env.NewWritableFile(absl::StrCat("/w/", i));
    if (!file.ok()) return result;
    for (int j = 0; j < 6; ++j) (*file)->Append(Pattern(3000 + 100 * j, i + j)).IgnoreError();
    if (i % 2 == 0) (*file)->Sync().IgnoreError();
  }
  env.SyncDir("/").IgnoreError();
  env.Crash(Mode(CrashMode::kKeepRandomBlocks, /*keep_dir_ops=*/true));
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::string> contents = ReadFileToString(&env, absl::StrCat("/w/", i));
    result.files.push_back(contents.ok() ? *contents : contents.status().ToString());
  }
  for (const TraceRecord& record : env.Trace()) result.trace.push_back(record.ToString());
  return result;
}

TEST_F(SimEnvTest, SameSeedGivesIdenticalFilesAndTraceAndOtherSeedsDiffer) {
  const RunResult first = RunWorkload(42);
  const RunResult second = RunWorkload(42);
  EXPECT_EQ(first.files, second.files);
  EXPECT_EQ(first.trace, second.trace);
  EXPECT_GT(first.trace.size(), 24u);
  const RunResult other = RunWorkload(43);
  EXPECT_NE(first.files, other.files);
  EXPECT_NE(first.trace, other.trace);  // Different short writes.
}

// A relative path resolves from "/", SimEnv's working directory, so the README's default
// root ("./wal_data") works in simulation as it does on disk.
TEST_F(SimEnvTest, RelativePathsResolveFromTheRoot) {
  SimEnv env;
  ASSERT_OK(env.CreateDir("./rel"));
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile("rel/f"));
  ASSERT_OK(file->Append("abc"));
  ASSERT_OK(file->Sync());
  EXPECT_EQ(Contents(&env, "/rel/f"), "abc");
  EXPECT_EQ(Contents(&env, "./rel/f"), "abc");
  EXPECT_THAT(env.NewWritableFile(std::string("rel/a\0b", 8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ironwal
