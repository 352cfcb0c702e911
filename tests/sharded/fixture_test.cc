// ironwal 0.6.3's ShardedWal fixtures (sharded-basic, sharded-pruned) through ShardedWal:
//  - every file the manifest lists is there with its size;
//  - checkpoints.log scans to exactly the manifest's entries (offset, size, CRC, user_id,
//    timestamp, offsets), ending cleanly; HEAD names what the manifest says;
//  - opened (a copy, in memory) with the manifest's shard count, every shard reads as
//    the manifest says, every checkpoint loads as 0.6.3 loaded it, the list and the
//    latest are 0.6.3's, and iterating from each checkpoint gives the entries from there;
//  - opening changes no file of the fixture but adds SHARDS; read-only opens add nothing;
//  - replaying sharded-basic's calls writes byte-identical shards and HEAD, and a
//    checkpoints.log that differs only in each entry's timestamp and CRC;
//  - replaying sharded-pruned's calls gives the same checkpoints and compaction result.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/frame.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/sharded/checkpoint_log.h"
#include "ironwal/sharded/router.h"
#include "ironwal/sharded/sharded_wal.h"
#include "ironwal/sharded/shards_file.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/frame_stamps.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::StreamTag;

namespace {

using ::ironwal::sharded::testing::CopyTree;
using ::ironwal::sharded::testing::ReadShard;
using ::ironwal::testing::FixtureCheckpoint;
using ::ironwal::testing::FixtureStream;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::LoadShardedFixture;
using ::ironwal::testing::ShardedFixture;
using ::ironwal::testing::ShardedFixtureNames;
using ::ironwal::testing::ShardedFixtureOp;
using ::ironwal::testing::StatusIs;

WalOptions FixtureOptions(const ShardedFixture& f, Env* env, const std::string& root) {
  WalOptions options;
  options.env = env;
  options.root = root;
  options.max_segment_size = f.fixture.options.max_segment_size;
  options.sync_mode = SyncMode::kStrict;
  return options;
}

class ShardedFixtureTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_OK_AND_ASSIGN(f_, LoadShardedFixture(GetParam())); }
  ShardedFixture f_;
};

TEST_P(ShardedFixtureTest, FilesAreThere) {
  for (const auto& file : f_.fixture.files) {
    EXPECT_THAT(Env::Default()->GetFileSize(JoinPath(f_.fixture.dir, file.path)),
                IsOkAndHolds(file.size))
        << file.path;
  }
}

TEST_P(ShardedFixtureTest, CheckpointLogScansToTheManifestEntries) {
  ASSERT_OK_AND_ASSIGN(
      const LogScan scan,
      ScanCheckpointLog(Env::Default(), JoinPath(f_.fixture.root, kCheckpointLogName)));
  EXPECT_EQ(scan.file_size, f_.log_size);
  EXPECT_EQ(scan.valid_end, f_.log_size);
  EXPECT_EQ(scan.stop_reason, "");
  ASSERT_EQ(scan.entries.size(), f_.checkpoints.size());
  for (size_t i = 0; i < scan.entries.size(); ++i) {
    const ScannedEntry& got = scan.entries[i];
    const FixtureCheckpoint& want = f_.checkpoints[i];
    EXPECT_EQ(got.file_offset, want.file_offset);
    EXPECT_EQ(got.size, want.size);
    EXPECT_EQ(got.size, CheckpointEntrySize(want.user_id.size(), want.shard_count));
    EXPECT_EQ(got.crc32, want.crc32);
    EXPECT_EQ(got.entry.user_id, want.user_id);
    EXPECT_EQ(got.entry.data.timestamp_ns, want.timestamp_ns);
    EXPECT_EQ(got.entry.data.shard_count, want.shard_count);
    EXPECT_EQ(got.entry.data.offsets, want.offsets);
  }
  ASSERT_OK_AND_ASSIGN(const std::string head,
                       ReadFileToString(Env::Default(), JoinPath(f_.fixture.root, kHeadName)));
  EXPECT_EQ(DecodeHead(head), f_.head);
}

void ExpectShardReadsAsManifest(ShardedWal* wal, uint32_t shard, const FixtureStream* stream) {
  SCOPED_TRACE(absl::StrCat("shard ", shard));
  if (stream == nullptr) {
    EXPECT_THAT(ReadShard(wal, shard, 0), IsOkAndHolds(::testing::IsEmpty()));
    return;
  }
  EXPECT_THAT(ReadShard(wal, shard, stream->first_id), IsOkAndHolds(stream->entries));
  for (const auto& [id, bytes] : stream->deleted_entries) {
    EXPECT_THAT(wal->wal()->Get(stream->key, id), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_THAT(wal->wal()->Get(stream->key, stream->next_id),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_P(ShardedFixtureTest, ReadsAndLoadsAsIronwal06AndChangesNothingButShards) {
  MemEnv env;
  ASSERT_OK(CopyTree(Env::Default(), f_.fixture.root, &env, "/wal"));
  {
    ASSERT_OK_AND_ASSIGN(auto wal,
                         ShardedWal::Open(FixtureOptions(f_, &env, "/wal"), f_.shard_count));
    EXPECT_EQ(wal->checkpoint_log_report().torn_tail_bytes, 0u);
    for (uint32_t s = 0; s < f_.shard_count; ++s) {
      auto it = f_.fixture.streams.find(ShardName(s));
      ExpectShardReadsAsManifest(wal.get(), s,
                                 it == f_.fixture.streams.end() ? nullptr : &it->second);
    }
    std::vector<std::pair<std::string, uint64_t>> listed;
    for (const CheckpointInfo& c : wal->ListCheckpoints())
      listed.emplace_back(c.user_id, c.timestamp_ns);
    EXPECT_EQ(listed, f_.listed);
    EXPECT_EQ(wal->checkpoint_count(), f_.listed.size());
    for (const FixtureCheckpoint& c : f_.checkpoints) {
      if (c.superseded) continue;
      ASSERT_OK_AND_ASSIGN(const CheckpointData data, wal->LoadCheckpoint(c.user_id));
      EXPECT_EQ(data.offsets, c.offsets);
      EXPECT_EQ(data.timestamp_ns, c.timestamp_ns);
      EXPECT_EQ(data.shard_count, c.shard_count);
      for (uint32_t s = 0; s < f_.shard_count; ++s) {
        auto stream = f_.fixture.streams.find(ShardName(s));
        if (stream == f_.fixture.streams.end()) continue;
        std::map<uint64_t, std::string> want(stream->second.entries.lower_bound(c.offsets[s]),
                                             stream->second.entries.end());
        EXPECT_THAT(ReadShard(wal.get(), s, c.offsets[s]), IsOkAndHolds(want));
      }
    }
    ASSERT_OK_AND_ASSIGN(const NamedCheckpoint latest, wal->LoadLatestCheckpoint());
    EXPECT_EQ(latest.user_id, f_.latest);
  }
  for (const auto& file : f_.fixture.files) {
    const std::string relative = file.path.substr(file.path.find('/') + 1);  // drop "wal/"
    ASSERT_OK_AND_ASSIGN(const std::string ours,
                         ReadFileToString(&env, JoinPath("/wal", relative)));
    ASSERT_OK_AND_ASSIGN(const std::string theirs,
                         ReadFileToString(Env::Default(), JoinPath(f_.fixture.dir, file.path)));
    EXPECT_TRUE(ours == theirs) << file.path << " changed";
  }
  EXPECT_THAT(ReadShardsFile(&env, "/wal"), IsOkAndHolds(::testing::Optional(::testing::Field(
                                                &ShardsFile::shard_count, f_.shard_count))));
}

TEST_P(ShardedFixtureTest, ReadOnlyOpenWritesNothing) {
  MemEnv env;
  ASSERT_OK(CopyTree(Env::Default(), f_.fixture.root, &env, "/wal"));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> before, env.GetChildren("/wal"));
  WalOptions options = FixtureOptions(f_, &env, "/wal");
  options.read_only = true;
  {
    ASSERT_OK_AND_ASSIGN(auto wal, ShardedWal::Open(options, f_.shard_count));
    ASSERT_OK_AND_ASSIGN(const NamedCheckpoint latest, wal->LoadLatestCheckpoint());
    EXPECT_EQ(latest.user_id, f_.latest);
    EXPECT_THAT(wal->CreateCheckpoint("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_THAT(env.GetChildren("/wal"), IsOkAndHolds(before));
}

TEST_P(ShardedFixtureTest, AnotherShardCountIsRefused) {
  MemEnv env;
  ASSERT_OK(CopyTree(Env::Default(), f_.fixture.root, &env, "/wal"));
  // Without SHARDS (as 0.6 left it): the shard directories and checkpoints give it away.
  EXPECT_THAT(ShardedWal::Open(FixtureOptions(f_, &env, "/wal"), f_.shard_count - 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ShardedWal::Open(FixtureOptions(f_, &env, "/wal"), f_.shard_count * 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(ShardedWal::Open(FixtureOptions(f_, &env, "/wal"), f_.shard_count).status());
}

// Replays sharded.ops; returns the wal for inspection.
void Replay(const ShardedFixture& f, Env* env, const std::string& root) {
  std::unique_ptr<ShardedWal> wal;
  auto value = [&](const ShardedFixtureOp::Write& w) -> const std::string& {
    const FixtureStream& s = f.fixture.streams.at(ShardName(w.shard));
    auto it = s.entries.find(w.id);
    return it != s.entries.end() ? it->second : s.deleted_entries.at(w.id);
  };
  for (const ShardedFixtureOp& op : f.sharded_ops) {
    SCOPED_TRACE(op.op);
    if (op.op == "open") {
      ASSERT_OK_AND_ASSIGN(wal, ShardedWal::Open(FixtureOptions(f, env, root), f.shard_count));
    } else if (op.op == "close") {
      ASSERT_OK(wal->Close());
      wal.reset();
    } else if (op.op == "append") {
      const auto& w = op.writes[0];
      EXPECT_THAT(wal->Append(w.key, value(w)), IsOkAndHolds(ShardedId{w.shard, w.id}));
    } else if (op.op == "append_batch_for_key") {
      std::vector<absl::string_view> values;
      for (const auto& w : op.writes) values.push_back(value(w));
      ASSERT_OK_AND_ASSIGN(const ShardedRange range,
                           wal->AppendBatchForKey(op.writes[0].key, values));
      EXPECT_EQ(range.shard, op.writes[0].shard);
      EXPECT_EQ(range.ids.first, op.writes[0].id);
      EXPECT_EQ(range.ids.size(), op.writes.size());
    } else if (op.op == "append_batch") {
      std::vector<KeyValue> entries;
      std::vector<ShardedId> want;
      for (const auto& w : op.writes) {
        entries.push_back({w.key, value(w)});
        want.push_back({w.shard, w.id});
      }
      EXPECT_THAT(wal->AppendBatch(entries), IsOkAndHolds(want));
    } else if (op.op == "create_checkpoint") {
      ASSERT_OK_AND_ASSIGN(const CheckpointData data, wal->CreateCheckpoint(op.user_id));
      EXPECT_EQ(data.offsets, op.offsets);
    } else if (op.op == "prune_before_checkpoint") {
      ASSERT_OK(wal->PruneBeforeCheckpoint(op.user_id).status());
    } else if (op.op == "compact_checkpoints") {
      ASSERT_OK_AND_ASSIGN(const CompactionStats stats, wal->CompactCheckpoints(op.keep_n));
      EXPECT_EQ(stats.checkpoints_before, op.result[0]);
      EXPECT_EQ(stats.checkpoints_after, op.result[1]);
      EXPECT_EQ(stats.bytes_reclaimed, op.result[2]);
    } else {
      FAIL() << "unknown op " << op.op;
    }
  }
}

TEST_P(ShardedFixtureTest, ReplayWritesWhat06Wrote) {
  MemEnv env;
  Replay(f_, &env, "/wal");
  if (HasFatalFailure()) return;
  ASSERT_OK_AND_ASSIGN(const LogScan ours, ScanCheckpointLog(&env, "/wal/checkpoints.log"));
  ASSERT_EQ(ours.entries.size(), f_.checkpoints.size());
  for (size_t i = 0; i < ours.entries.size(); ++i) {
    EXPECT_EQ(ours.entries[i].entry.user_id, f_.checkpoints[i].user_id);
    EXPECT_EQ(ours.entries[i].entry.data.offsets, f_.checkpoints[i].offsets);
    EXPECT_EQ(ours.entries[i].file_offset, f_.checkpoints[i].file_offset);
  }
  EXPECT_THAT(
      ReadFileToString(&env, "/wal/HEAD"),
      IsOkAndHolds(ReadFileToString(Env::Default(), JoinPath(f_.fixture.root, "HEAD")).value()));
  if (GetParam() != "sharded-basic") return;  // 0.6 split two batches of sharded-pruned
  ASSERT_OK_AND_ASSIGN(const std::string log, ReadFileToString(&env, "/wal/checkpoints.log"));
  ASSERT_OK_AND_ASSIGN(
      const std::string want,
      ReadFileToString(Env::Default(), JoinPath(f_.fixture.root, "checkpoints.log")));
  ASSERT_EQ(log.size(), want.size());
  for (const FixtureCheckpoint& c : f_.checkpoints) {
    const size_t ts = c.file_offset + kEntryHeaderSize + 3 + c.user_id.size();
    auto masked = [&](std::string bytes) {
      bytes.replace(c.file_offset + 4, 4, 4, '\0');  // CRC
      bytes.replace(ts, 8, 8, '\0');                 // timestamp
      return bytes.substr(c.file_offset, c.size);
    };
    EXPECT_EQ(masked(log), masked(want)) << c.user_id;
  }
  for (const auto& file : f_.fixture.files) {
    const std::string relative = file.path.substr(file.path.find('/') + 1);
    if (relative == "checkpoints.log") continue;
    ASSERT_OK_AND_ASSIGN(const std::string ours,
                         ReadFileToString(&env, JoinPath("/wal", relative)));
    ASSERT_OK_AND_ASSIGN(const std::string theirs,
                         ReadFileToString(Env::Default(), JoinPath(f_.fixture.dir, file.path)));
    // Segments differ from 0.6's bytes only in the frame stamps (FORMAT.md).
    const bool segment = absl::EndsWith(relative, ".wal");
    std::vector<std::string> problems;
    const std::string compared =
        segment ? ::ironwal::testing::WithoutFrameStamps(
                      ours, StreamTag(relative.substr(0, relative.find('/'))), &problems)
                : ours;
    EXPECT_THAT(problems, ::testing::IsEmpty()) << file.path;
    EXPECT_TRUE(compared == theirs) << file.path << " differs";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ShardedFixtureTest, ::testing::ValuesIn(ShardedFixtureNames()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace sharded
}  // namespace ironwal
