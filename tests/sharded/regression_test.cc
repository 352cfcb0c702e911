// A regression test for each defect of ironwal 0.6.3's sharded layer (its S1-S16), named
// after it. S3, S4, S6 and S16 are races: they are in concurrency_test.cc. S15 (startup
// reads the whole log) is by design: CompactCheckpoints bounds it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/sharded/router.h"
#include "ironwal/sharded/sharded_wal.h"
#include "ironwal/sharded/shards_file.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace sharded {
namespace {

using ::ironwal::sharded::testing::MemOptions;
using ::ironwal::sharded::testing::ReadShard;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<ShardedWal> MustOpen(const WalOptions& options, uint32_t shards) {
  absl::StatusOr<std::unique_ptr<ShardedWal>> wal = ShardedWal::Open(options, shards);
  EXPECT_OK(wal.status());
  return wal.ok() ? *std::move(wal) : nullptr;
}

std::string LatestId(ShardedWal* wal) {
  absl::StatusOr<NamedCheckpoint> latest = wal->LoadLatestCheckpoint();
  return latest.ok() ? latest->user_id : std::string(latest.status().message());
}

absl::Status AppendToFile(Env* env, const std::string& path, absl::string_view bytes) {
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewAppendableFile(path);
  if (!file.ok()) return file.status();
  absl::Status s = (*file)->Append(bytes);
  if (s.ok()) s = (*file)->Sync();
  return s;
}

// S1: a torn checkpoint write is cut at open, so later checkpoints survive the next
// restart (0.6 appended them behind the garbage and lost them).
TEST(ShardedRegressionTest, S1_TornLogTailIsCutSoLaterCheckpointsSurvive) {
  MemEnv env;
  {
    auto wal = MustOpen(MemOptions(&env), 4);
    ASSERT_OK(wal->Append("k", "v").status());
    ASSERT_OK(wal->CreateCheckpoint("one").status());
  }
  ASSERT_OK_AND_ASSIGN(const std::string torn,
                       EncodeCheckpointEntry({"torn", {{9, 9, 9, 9}, 5, 4}}));
  ASSERT_OK(AppendToFile(&env, "/wal/checkpoints.log", torn.substr(0, 20)));
  {
    auto wal = MustOpen(MemOptions(&env), 4);
    EXPECT_EQ(wal->checkpoint_log_report().torn_tail_bytes, 20u);
    ASSERT_OK(wal->CreateCheckpoint("two").status());
  }
  auto wal = MustOpen(MemOptions(&env), 4);
  EXPECT_EQ(wal->checkpoint_count(), 2u);
  EXPECT_EQ(LatestId(wal.get()), "two");
  EXPECT_EQ(wal->checkpoint_log_report().torn_tail_bytes, 0u);
}

// S1's other half: damage followed by valid entries is not a torn tail; cutting would
// drop acknowledged checkpoints, so the open refuses and changes nothing.
TEST(ShardedRegressionTest, S1_DamageBeforeValidEntriesIsRefusedNotCut) {
  MemEnv env;
  {
    auto wal = MustOpen(MemOptions(&env), 2);
    ASSERT_OK(wal->CreateCheckpoint("one").status());
    ASSERT_OK(wal->CreateCheckpoint("two").status());
  }
  ASSERT_OK_AND_ASSIGN(std::string log, ReadFileToString(&env, "/wal/checkpoints.log"));
  log[20] ^= 1;  // inside "one"
  ASSERT_OK(WriteFileAtomically(&env, "/wal/checkpoints.log", log));
  EXPECT_THAT(ShardedWal::Open(MemOptions(&env), 2),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checkpoints.log@0")));
  EXPECT_THAT(ReadFileToString(&env, "/wal/checkpoints.log"), IsOkAndHolds(log));
}

// S2: a clean end of the log is not reported as damage.
TEST(ShardedRegressionTest, S2_CleanEndOfLogIsNotDamage) {
  MemEnv env;
  MustOpen(MemOptions(&env), 2)->CreateCheckpoint("one").IgnoreError();
  auto wal = MustOpen(MemOptions(&env), 2);
  EXPECT_EQ(wal->checkpoint_log_report().entries, 1u);
  EXPECT_EQ(wal->checkpoint_log_report().torn_tail_bytes, 0u);
  EXPECT_EQ(wal->checkpoint_log_report().torn_tail_reason, "");
}

// S5: compaction to 0 leaves no dangling HEAD; "latest" is then NotFound "no
// checkpoints", not a hard CheckpointNotFound for a vanished id.
TEST(ShardedRegressionTest, S5_CompactionKeepsHeadInStep) {
  MemEnv env;
  auto wal = MustOpen(MemOptions(&env), 2);
  ASSERT_OK(wal->CreateCheckpoint("a").status());
  ASSERT_OK(wal->CreateCheckpoint("b").status());
  ASSERT_OK(wal->CompactCheckpoints(1).status());
  EXPECT_EQ(LatestId(wal.get()), "b");
  ASSERT_OK(wal->CompactCheckpoints(0).status());
  EXPECT_THAT(wal->LoadLatestCheckpoint(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no checkpoints")));
  EXPECT_THAT(env.GetFileSize("/wal/HEAD"), StatusIs(absl::StatusCode::kNotFound));
}

// S13 (and S5): a HEAD that parses but names no indexed checkpoint is a hint to ignore.
TEST(ShardedRegressionTest, S13_HeadNamingUnknownCheckpointFallsBackToTheLog) {
  MemEnv env;
  {
    auto wal = MustOpen(MemOptions(&env), 2);
    ASSERT_OK(wal->CreateCheckpoint("a").status());
    ASSERT_OK(wal->CreateCheckpoint("b").status());
  }
  ASSERT_OK_AND_ASSIGN(const std::string head, EncodeHead("gone"));
  ASSERT_OK(WriteFileAtomically(&env, "/wal/HEAD", head));
  EXPECT_EQ(LatestId(MustOpen(MemOptions(&env), 2).get()), "b");
}

// Found by sim_test (seed 28): a crash between a checkpoint's log append and its HEAD
// rewrite left HEAD naming the previous checkpoint; trusting HEAD made "latest" one that
// pruning had already cut below. Latest follows the log, and open repairs HEAD.
TEST(ShardedRegressionTest, LatestFollowsTheLogWhenHeadLagsAfterPrune) {
  SimEnv env;
  WalOptions options = MemOptions(&env);
  options.max_segment_size = 512;
  {
    auto wal = MustOpen(options, 1);
    for (int i = 0; i < 20; ++i) ASSERT_OK(wal->Append("k", std::string(100, 'x')).status());
    ASSERT_OK(wal->CreateCheckpoint("old").status());
    for (int i = 0; i < 20; ++i) ASSERT_OK(wal->Append("k", std::string(100, 'x')).status());
    FaultRule rule;
    rule.op = SimOp::kRename;
    rule.path_pattern = "/wal/HEAD*";
    env.AddFaultRule(rule);
    EXPECT_THAT(wal->CreateCheckpoint("new").status(), StatusIs(absl::StatusCode::kInternal));
    env.ClearFaultRules();
    EXPECT_EQ(LatestId(wal.get()), "new");
    ASSERT_OK_AND_ASSIGN(const PruneStats stats, wal->PruneBeforeCheckpoint("new"));
    ASSERT_GT(stats.segments_deleted, 0u);
    env.Crash(CrashOptions());
  }
  auto wal = MustOpen(options, 1);
  ASSERT_OK_AND_ASSIGN(const NamedCheckpoint latest, wal->LoadLatestCheckpoint());
  EXPECT_EQ(latest.user_id, "new");
  EXPECT_OK(wal->NewShardIterator(0, latest.data.offsets[0]).status());
  EXPECT_THAT(ReadFileToString(&env, "/wal/HEAD"), IsOkAndHolds(std::string("\x03\x00new", 5)));
}

// S7: kAsync and kBatchOnly checkpoints cover every acknowledged append (0.6: single
// appends never advanced them) and never name an ID a power loss takes away (0.6: Async
// batches advanced them without any sync).
TEST(ShardedRegressionTest, S7_CheckpointsAreDurableAndCompleteInEveryMode) {
  for (SyncMode mode : {SyncMode::kAsync, SyncMode::kBatchOnly, SyncMode::kStrict}) {
    SCOPED_TRACE(static_cast<int>(mode));
    SimEnv env;
    WalOptions options = MemOptions(&env);
    options.sync_mode = mode;
    std::vector<uint64_t> acked(4, 0);
    CheckpointData cut;
    {
      auto wal = MustOpen(options, 4);
      for (int i = 0; i < 40; ++i) {
        ASSERT_OK_AND_ASSIGN(const ShardedId at, wal->Append(absl::StrCat("k", i), "v"));
        acked[at.shard] = at.id + 1;
      }
      ASSERT_OK_AND_ASSIGN(const ShardedRange r, wal->AppendBatchForKey("batch", {"x", "y"}));
      acked[r.shard] = r.ids.end;
      ASSERT_OK_AND_ASSIGN(cut, wal->CreateCheckpoint("c"));
      EXPECT_EQ(cut.offsets, acked);
      ASSERT_OK(wal->Append("after", "unsynced").status());
      env.Crash(CrashOptions());  // power loss: only synced bytes survive
    }
    auto wal = MustOpen(options, 4);
    ASSERT_OK_AND_ASSIGN(const CheckpointData loaded, wal->LoadCheckpoint("c"));
    EXPECT_EQ(loaded, cut);
    for (uint32_t s = 0; s < 4; ++s) {
      ASSERT_OK_AND_ASSIGN(const auto entries, ReadShard(wal.get(), s, 0));
      EXPECT_GE(entries.size(), cut.offsets[s]) << "shard " << s;
    }
  }
}

// S8 + S9: the shard count and routing are recorded; another count, or an unknown
// routing, is refused at open.
TEST(ShardedRegressionTest, S9_ShardCountAndRoutingRecordedAndChecked) {
  MemEnv env;
  MustOpen(MemOptions(&env), 4).reset();
  EXPECT_THAT(ReadShardsFile(&env, "/wal"), IsOkAndHolds(::testing::Optional(::testing::Field(
                                                &ShardsFile::routing, std::string(kRoutingName)))));
  EXPECT_THAT(ShardedWal::Open(MemOptions(&env), 5),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SHARDS records 4")));
  ASSERT_OK(WriteShardsFile(&env, "/wal", {4, "xxhash64"}));
  EXPECT_THAT(ShardedWal::Open(MemOptions(&env), 4),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown routing")));
  EXPECT_THAT(ShardedWal::Open(MemOptions(&env), 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

// S10: a mixed batch writes shards in shard order; when one fails the error says which
// shards were already written.
TEST(ShardedRegressionTest, S10_PartialMixedBatchNamesTheShardsWritten) {
  SimEnv env;
  auto wal = MustOpen(MemOptions(&env), 4);
  std::vector<std::string> keys;
  std::map<uint32_t, int> per_shard;
  for (int i = 0; per_shard.size() < 4; ++i) {
    keys.push_back(absl::StrCat("key", i));
    ++per_shard[wal->RouteKey(keys.back())];
  }
  FaultRule rule;
  rule.op = SimOp::kAppend;
  rule.path_pattern = "/wal/shard_02/*";
  env.AddFaultRule(rule);
  std::vector<KeyValue> batch;
  for (const std::string& k : keys) batch.push_back({k, "v"});
  const absl::Status status = wal->AppendBatch(batch).status();
  EXPECT_THAT(
      status,
      StatusIs(absl::StatusCode::kInternal,
               HasSubstr(absl::StrCat("shard 2 failed (already written: shard 0 ids 0..",
                                      per_shard[0], " shard 1 ids 0..", per_shard[1], ")"))));
  EXPECT_THAT(ReadShard(wal.get(), 0, 0), IsOkAndHolds(::testing::SizeIs(per_shard[0])));
  EXPECT_THAT(ReadShard(wal.get(), 3, 0), IsOkAndHolds(::testing::IsEmpty()));
}

// S11: after pruning to a newer checkpoint, replaying from an older one fails loudly
// (NotFound) instead of silently yielding nothing.
TEST(ShardedRegressionTest, S11_ReplayFromAPrunedAwayCheckpointIsNotFound) {
  MemEnv env;
  WalOptions options = MemOptions(&env);
  options.max_segment_size = 1024;
  auto wal = MustOpen(options, 1);
  for (int i = 0; i < 50; ++i) ASSERT_OK(wal->Append("k", std::string(100, 'x')).status());
  ASSERT_OK(wal->CreateCheckpoint("old").status());
  for (int i = 0; i < 50; ++i) ASSERT_OK(wal->Append("k", std::string(100, 'x')).status());
  ASSERT_OK(wal->CreateCheckpoint("new").status());
  ASSERT_OK_AND_ASSIGN(const PruneStats stats, wal->PruneBeforeCheckpoint("new"));
  ASSERT_GT(stats.segments_deleted, 0u);
  ASSERT_OK_AND_ASSIGN(const CheckpointData old, wal->LoadCheckpoint("old"));
  EXPECT_THAT(wal->NewShardIterator(0, old.offsets[0]), StatusIs(absl::StatusCode::kNotFound));
}

// A MemEnv whose clock the test sets.
class SteppedClockEnv : public MemEnv {
 public:
  uint64_t NowMicros() override { return now; }
  uint64_t now = 1000;
};

// S12: a clock step back changes neither "latest" nor what compaction keeps (log order);
// the list stays in timestamp order, as 0.6's.
TEST(ShardedRegressionTest, S12_LatestAndCompactionFollowLogOrderNotTheClock) {
  SteppedClockEnv env;
  auto wal = MustOpen(MemOptions(&env), 2);
  ASSERT_OK(wal->CreateCheckpoint("first").status());
  env.now = 500;  // stepped back
  ASSERT_OK(wal->CreateCheckpoint("second").status());
  std::vector<std::string> listed;
  for (const CheckpointInfo& c : wal->ListCheckpoints()) listed.push_back(c.user_id);
  EXPECT_THAT(listed, ::testing::ElementsAre("second", "first"));
  ASSERT_OK(WriteFileAtomically(&env, "/wal/HEAD", std::string("\x00\x00", 2)));  // no HEAD
  wal.reset();
  wal = MustOpen(MemOptions(&env), 2);
  EXPECT_EQ(LatestId(wal.get()), "second");
  ASSERT_OK(wal->CompactCheckpoints(1).status());
  EXPECT_EQ(LatestId(wal.get()), "second");
  EXPECT_THAT(wal->LoadCheckpoint("first"), StatusIs(absl::StatusCode::kNotFound));
}

// S14: a shard directory that is missing during pruning is nothing to prune.
TEST(ShardedRegressionTest, S14_MissingShardDirectoryIsNothingToPrune) {
  MemEnv env;
  WalOptions options = MemOptions(&env);
  options.max_segment_size = 1024;
  std::vector<uint64_t> offsets;
  {
    auto wal = MustOpen(options, 2);
    for (int i = 0; i < 200; ++i)
      ASSERT_OK(wal->Append(absl::StrCat(i), std::string(100, 'x')).status());
    ASSERT_OK_AND_ASSIGN(const CheckpointData data, wal->CreateCheckpoint("c"));
    ASSERT_GT(data.offsets[0], 0u);
    ASSERT_GT(data.offsets[1], 0u);
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> files, env.GetChildren("/wal/shard_00"));
  for (const std::string& f : files) ASSERT_OK(env.RemoveFile(JoinPath("/wal/shard_00", f)));
  ASSERT_OK(env.RemoveDir("/wal/shard_00"));
  auto wal = MustOpen(options, 2);
  ASSERT_OK_AND_ASSIGN(const PruneStats stats, wal->PruneBeforeCheckpoint("c"));
  EXPECT_EQ(stats.shards_pruned, 1u);
  EXPECT_GT(stats.segments_deleted, 0u);
}

}  // namespace
}  // namespace sharded
}  // namespace ironwal
