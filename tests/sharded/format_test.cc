// The bytes ShardedWal writes, field by field against 0.6's layout (checkpoints.log entry,
// HEAD), the codecs' checks, and the scan's bounded reading of damaged logs.
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/sharded/checkpoint_log.h"
#include "ironwal/sharded/sharded_wal.h"
#include "ironwal/sharded/shards_file.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::DecodeFixed32;
using ::ironwal::internal::DecodeFixed64;
using ::ironwal::internal::PutFixed32;

namespace {

using ::ironwal::sharded::testing::MemOptions;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;

uint16_t Fixed16(absl::string_view s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) |
                               (static_cast<uint8_t>(s[at + 1]) << 8));
}

TEST(CheckpointFormatTest, EntryWrittenByShardedWalHas06Layout) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto wal, ShardedWal::Open(MemOptions(&env), 3));
  for (int i = 0; i < 10; ++i) ASSERT_OK(wal->Append(absl::StrCat("k", i), "v").status());
  const uint64_t before_us = env.NowMicros();
  ASSERT_OK_AND_ASSIGN(const CheckpointData data, wal->CreateCheckpoint("raft-17"));
  const uint64_t after_us = env.NowMicros();
  ASSERT_OK_AND_ASSIGN(const std::string log, ReadFileToString(&env, "/wal/checkpoints.log"));

  const size_t u = 7, s = 3;
  ASSERT_EQ(log.size(), 25 + u + 8 * s);
  EXPECT_EQ(log.substr(0, 4), std::string("\x43\x4B\x50\x54"));
  EXPECT_EQ(DecodeFixed32(log.data() + 8), log.size() - 12);        // payload_len
  EXPECT_EQ(DecodeFixed32(log.data() + 4), Crc32(log.substr(12)));  // crc over payload only
  EXPECT_EQ(log[12], 1);                                            // version
  EXPECT_EQ(Fixed16(log, 13), u);                                   // user_id_len
  EXPECT_EQ(log.substr(15, u), "raft-17");
  const uint64_t ts = DecodeFixed64(log.data() + 15 + u);  // nanoseconds
  EXPECT_EQ(ts, data.timestamp_ns);
  EXPECT_GT(ts, before_us * 1000);
  EXPECT_LT(ts, after_us * 1000);
  EXPECT_EQ(ts % 1000, 0u);
  EXPECT_EQ(Fixed16(log, 23 + u), s);  // shard_count
  uint64_t sum = 0;
  for (size_t i = 0; i < s; ++i) {
    const uint64_t offset = DecodeFixed64(log.data() + 25 + u + 8 * i);
    EXPECT_EQ(offset, data.offsets[i]);
    sum += offset;
  }
  EXPECT_EQ(sum, 10u);

  ASSERT_OK_AND_ASSIGN(const std::string head, ReadFileToString(&env, "/wal/HEAD"));
  EXPECT_EQ(head, std::string("\x07\x00", 2) + "raft-17");
}

TEST(CheckpointFormatTest, SizeMatches06Example) {
  // 0.6's own test: user_id of 3 bytes, 1 shard -> 36 bytes.
  ASSERT_OK_AND_ASSIGN(const std::string bytes, EncodeCheckpointEntry({"abc", {{42}, 7, 1}}));
  EXPECT_EQ(bytes.size(), 36u);
  EXPECT_EQ(CheckpointEntrySize(3, 1), 36u);
  ASSERT_OK_AND_ASSIGN(const CheckpointEntry back, DecodeCheckpointEntry(bytes));
  EXPECT_EQ(back.user_id, "abc");
  EXPECT_EQ(back.data, (CheckpointData{{42}, 7, 1}));
}

TEST(CheckpointFormatTest, DecodeRejectsEveryDamagedField) {
  ASSERT_OK_AND_ASSIGN(const std::string good, EncodeCheckpointEntry({"abc", {{1, 2}, 7, 2}}));
  auto damaged = [&](size_t at, char value) {
    std::string bytes = good;
    bytes[at] = value;
    return DecodeCheckpointEntry(bytes).status();
  };
  EXPECT_THAT(damaged(0, 'X'), StatusIs(absl::StatusCode::kDataLoss));  // magic
  EXPECT_THAT(damaged(4, 0), StatusIs(absl::StatusCode::kDataLoss));    // crc
  EXPECT_THAT(damaged(8, 0), StatusIs(absl::StatusCode::kDataLoss));    // length
  EXPECT_THAT(damaged(20, 9), StatusIs(absl::StatusCode::kDataLoss));   // payload byte
  EXPECT_THAT(DecodeCheckpointEntry(good.substr(0, good.size() - 1)).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(EncodeCheckpointEntry({"", {{1}, 0, 1}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeCheckpointEntry({std::string(65536, 'x'), {{1}, 0, 1}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(EncodeCheckpointEntry({std::string(65535, 'x'), {{1}, 0, 1}}).status());
}

TEST(CheckpointFormatTest, HeadCodec) {
  EXPECT_THAT(EncodeHead("ckpt-3"), IsOkAndHolds(std::string("\x06\x00", 2) + "ckpt-3"));
  EXPECT_EQ(DecodeHead(std::string("\x06\x00", 2) + "ckpt-3"), "ckpt-3");
  EXPECT_EQ(DecodeHead(""), std::nullopt);
  EXPECT_EQ(DecodeHead(std::string("\x00\x00", 2)), std::nullopt);
  EXPECT_EQ(DecodeHead(std::string("\x09\x00", 2) + "short"), std::nullopt);
}

// 0.6 allocated payload_len bytes (up to 4 GiB) before checking anything (§W25 there).
TEST(CheckpointFormatTest, ScanNeverTrustsAHugeLength) {
  MemEnv env;
  ASSERT_OK(env.CreateDir("/wal"));
  std::string log = "CKPT";
  PutFixed32(&log, 0);
  PutFixed32(&log, 0xFFFFFFF0u);
  log += "tail";
  ASSERT_OK(WriteFileAtomically(&env, "/wal/checkpoints.log", log));
  ASSERT_OK_AND_ASSIGN(const LogScan scan, ScanCheckpointLog(&env, "/wal/checkpoints.log"));
  EXPECT_TRUE(scan.entries.empty());
  EXPECT_EQ(scan.valid_end, 0u);
  EXPECT_THAT(scan.stop_reason, ::testing::HasSubstr("impossible payload length"));
  EXPECT_THAT(DecodeEntryHeader(log), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ShardsFileTest, RoundTripsAndRejectsGarbage) {
  const ShardsFile file{8, "siphash13-k0-0-k1-0-u64le-len-prefix"};
  const std::string text = EncodeShardsFile(file);
  EXPECT_EQ(text,
            "ironwal-sharded 1\nshard_count 8\nrouting siphash13-k0-0-k1-0-u64le-len-prefix\n");
  ASSERT_OK_AND_ASSIGN(const ShardsFile back, DecodeShardsFile(text, "/w/SHARDS"));
  EXPECT_EQ(back.shard_count, 8u);
  EXPECT_THAT(DecodeShardsFile("ironwal-sharded 1\nshard_count 0\nrouting x\n", "/w/SHARDS"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeShardsFile(text.substr(0, 20), "/w/SHARDS"),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace sharded
}  // namespace ironwal
