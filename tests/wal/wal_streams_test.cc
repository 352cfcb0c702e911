// Stream keys (W2), truncation (0.6's tests/truncation.rs, W30), rotation rules (W8, W13,
// W14, W15), sync-mode visibility (W7), compression (tests/compression.rs), the writer
// budget (W28, W9) and read-only opens.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {

namespace format = internal::format;
using internal::DecodeFrameHeader;
using internal::EncodeHeadState;
using internal::EncodeSegmentIndex;
using internal::FrameHeader;

namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::ReadTreeOrFail;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class WalStreamsTest : public ::ironwal::testing::MemWalTest {
 protected:
  void SetUp() override { ASSERT_OK(Open()); }
  absl::Status OpenWith(uint64_t max_segment_size) {
    if (wal_ != nullptr) IRONWAL_RETURN_IF_ERROR(wal_->Close());
    options_.max_segment_size = max_segment_size;
    return Open();
  }
  // The frames of `path` as (start_id, entry_count, codec).
  std::vector<FrameHeader> Frames(const std::string& path) {
    std::vector<FrameHeader> frames;
    const std::string bytes = ReadFile(path);
    for (size_t offset = 0; offset < bytes.size();) {
      absl::StatusOr<FrameHeader> h = DecodeFrameHeader(absl::string_view(bytes).substr(offset));
      EXPECT_TRUE(h.ok()) << h.status();
      if (!h.ok()) break;
      frames.push_back(*h);
      offset += h->frame_size();
    }
    return frames;
  }
};

// --- Stream keys -------------------------------------------------------------------------

TEST_F(WalStreamsTest, KeysWithUnsafeCharactersKeepTheirIdsAcrossRestarts) {
  // W2: 0.6 keyed its in-memory map by the raw key but recovery by the directory name, so
  // after a restart "user/42" started again at ID 0 and overwrote segment 0.
  ASSERT_OK(wal_->Append("user/42", "a"));
  ASSERT_OK(wal_->Append("user/42", "b"));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->Append("user/42", "c"), IsOkAndHolds(2u));
  EXPECT_THAT(wal_->Get("user/42", 0), IsOkAndHolds("a"));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre("user/42")));
  EXPECT_THAT(Children("/wal"), ::testing::Contains("user_42"));
}

TEST_F(WalStreamsTest, StreamDirectoryNameIsWhereTheStreamLives) {
  ASSERT_OK(wal_->Append("user/42 \xc3\xa9", "a"));
  ASSERT_OK_AND_ASSIGN(const std::string dir, Wal::StreamDirectoryName("user/42 \xc3\xa9"));
  EXPECT_EQ(dir, "user_42__");  // One '_' per character, as ironwal 0.6 names it.
  EXPECT_THAT(Children("/wal"), ::testing::Contains(dir));
  EXPECT_THAT(Wal::StreamDirectoryName(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Wal::StreamDirectoryName(".."), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(WalStreamsTest, DifferentKeysForOneDirectoryAreRefused) {
  ASSERT_OK(wal_->Append("a/b", "x"));
  EXPECT_THAT(wal_->Append("a:b", "y"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("belongs to stream 'a/b'")));
  EXPECT_THAT(wal_->Get("a_b", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->Append("a:b", "y"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(wal_->Append("a/b", "y"), IsOkAndHolds(1u));
}

TEST_F(WalStreamsTest, UnusableKeysAreRejectedAndCreateNothing) {
  for (const std::string& key : {std::string(""), std::string("  "), std::string("."),
                                 std::string(".."), std::string("LOCK"), std::string(300, 'k')}) {
    EXPECT_THAT(wal_->Append(key, "x"), StatusIs(absl::StatusCode::kInvalidArgument))
        << "key '" << key << "'";
  }
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(Children("/wal"), ElementsAre("LOCK"));
}

TEST_F(WalStreamsTest, PathTraversalKeysStayInsideTheRoot) {
  ASSERT_OK(wal_->Append("../etc/passwd", "x"));
  EXPECT_THAT(Children("/wal"), ::testing::Contains(".._etc_passwd"));
  EXPECT_THAT(Children("/"), ElementsAre("wal"));
}

TEST_F(WalStreamsTest, Ironwal06DirectoryAdoptsTheFirstKeyThatWritesIt) {
  // A directory without stream.key, as ironwal 0.6 leaves it.
  ASSERT_OK(wal_->Append("user/7", "a"));
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->RemoveFile(JoinPath(StreamDir("user/7"), format::kStreamKeyFileName)));
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre("user_7")));  // best known
  EXPECT_THAT(wal_->Get("user:7", 0), IsOkAndHolds("a"));  // any key mapping there reads
  EXPECT_THAT(wal_->Append("user/7", "b"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Append("user:7", "c"), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre("user/7")));
}

TEST_F(WalStreamsTest, ThousandsOfStreamsWithATinyWriterBudget) {
  // W28: 0.6 could panic when its LRU evicted what it had just inserted.
  ASSERT_OK(wal_->Close());
  options_.max_open_segments = 2;
  options_.max_open_read_segments = 2;
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  constexpr int kStreams = 2000;
  for (int round = 0; round < 3; ++round) {
    for (int s = 0; s < kStreams; ++s) {
      ASSERT_THAT(wal_->Append("s" + std::to_string(s), std::to_string(round)),
                  IsOkAndHolds(static_cast<uint64_t>(round)));
    }
  }
  for (int s = 0; s < kStreams; s += 97) {
    EXPECT_THAT(wal_->Get("s" + std::to_string(s), 2), IsOkAndHolds("2"));
  }
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(::testing::SizeIs(kStreams)));
  EXPECT_THAT(wal_->Append("s1999", "x"), IsOkAndHolds(3u));
}

// Review finding 5: Close() synced the unsynced bytes of evicted kAsync/kBatchOnly writers
// but left durable.pos behind them, so the next open wrote their tails again and moved
// durable.pos: a reopen after Close changed files. Close now leaves what a clean shutdown
// leaves, and a reopen (and its Close) change no byte.
TEST_F(WalStreamsTest, AReopenAfterCloseWithEvictedWritersChangesNoFile) {
  for (const SyncMode mode : {SyncMode::kAsync, SyncMode::kBatchOnly}) {
    SCOPED_TRACE(SyncModeName(mode));
    ASSERT_OK(wal_->Close());
    options_.root = std::string("/evicted-") + SyncModeName(mode);
    options_.max_open_segments = 1;
    options_.sync_mode = mode;
    ASSERT_OK(Open());
    for (int round = 0; round < 3; ++round) {
      for (int s = 0; s < 4; ++s) {  // each append evicts the writer before it
        ASSERT_THAT(wal_->Append("s" + std::to_string(s), std::string(100 + s, 'a' + round)),
                    IsOkAndHolds(static_cast<uint64_t>(round)));
      }
    }
    ASSERT_OK(wal_->Close());
    const std::map<std::string, std::string> closed = ReadTreeOrFail(env_, options_.root, {"LOCK"});
    ASSERT_OK(Open());
    for (const StreamRecoveryReport& report : wal_->recovery_report()) {
      EXPECT_TRUE(report.clean()) << report.ToString();
    }
    for (int s = 0; s < 4; ++s) {
      EXPECT_THAT(IterateAll("s" + std::to_string(s), 0), ::testing::SizeIs(3));
    }
    ASSERT_OK(wal_->Close());
    const std::map<std::string, std::string> reopened =
        ReadTreeOrFail(env_, options_.root, {"LOCK"});
    EXPECT_TRUE(reopened == closed) << "the reopen changed a file";
    for (const auto& [path, contents] : reopened) {
      auto it = closed.find(path);
      if (it == closed.end() || it->second != contents) ADD_FAILURE() << "changed: " << path;
    }
    ASSERT_OK(Open());
  }
}

// Close claims an evicted writer's bytes in durable.pos only after reading them back and
// finding what this process wrote. Bytes changed behind its back are left for the next
// open to judge: durable.pos must never vouch for them.
TEST_F(WalStreamsTest, CloseDoesNotClaimEvictedBytesThatChangedBehindItsBack) {
  ASSERT_OK(wal_->Close());
  options_.root = "/evicted-damaged";
  options_.max_open_segments = 1;
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK(Open());
  for (int round = 0; round < 3; ++round) {
    for (int s = 0; s < 4; ++s) {  // each append evicts the writer before it
      ASSERT_THAT(wal_->Append("s" + std::to_string(s), std::string(100, 'a' + round)),
                  IsOkAndHolds(static_cast<uint64_t>(round)));
    }
  }
  const std::string damaged = JoinPath(StreamDir("s0"), "durable.pos");
  const std::string intact = JoinPath(StreamDir("s1"), "durable.pos");
  const std::string damaged_before = ReadFile(damaged);
  const std::string intact_before = ReadFile(intact);
  // Evicted kAsync writers keep their frames in memory until flushed: into the files.
  ASSERT_OK(wal_->Flush());
  const std::string segment = SegmentPath("s0", 0);
  FlipByte(segment, FileSize(segment) - 1);  // the last frame's last byte
  ASSERT_OK(wal_->Close());
  EXPECT_EQ(ReadFile(damaged), damaged_before) << "durable.pos vouched for changed bytes";
  EXPECT_NE(ReadFile(intact), intact_before) << "an intact evicted stream is claimed";
}

// --- Truncation --------------------------------------------------------------------------

// 0.6 test_basic_truncation: 10 entries per segment, 30 entries; truncate(15) drops segment 0.
TEST_F(WalStreamsTest, TruncateDropsWholeSegmentsBelowTheId) {
  ASSERT_OK(wal_->Close());
  options_.max_entries_per_segment = 10;
  ASSERT_OK(Open());
  for (int i = 0; i < 30; ++i) ASSERT_OK(wal_->Append("s", std::to_string(i)));
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 10u, 20u));
  ASSERT_OK_AND_ASSIGN(const TruncateResult r, wal_->Truncate("s", 15));
  EXPECT_EQ(r.segments_removed, 1u);
  EXPECT_EQ(r.first_id, 10u);
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(10u, 20u));
  EXPECT_THAT(wal_->Get("s", 10), IsOkAndHolds("10"));
  EXPECT_THAT(wal_->Get("s", 0), StatusIs(absl::StatusCode::kNotFound, HasSubstr("below")));
  EXPECT_THAT(wal_->NewIterator("s", 9), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(IterateAll("s", 10).size(), 20u);
  EXPECT_THAT(wal_->GetStreamInfo("s"), IsOkAndHolds(::testing::Field(&StreamInfo::first_id, 10u)));
}

// 0.6 test_truncate_active_safety: truncating past the head keeps the active segment.
TEST_F(WalStreamsTest, TruncatePastTheHeadKeepsTheActiveSegment) {
  ASSERT_OK(wal_->Close());
  options_.max_entries_per_segment = 10;
  ASSERT_OK(Open());
  for (int i = 0; i < 15; ++i) ASSERT_OK(wal_->Append("s", std::to_string(i)));
  ASSERT_OK_AND_ASSIGN(const TruncateResult r, wal_->Truncate("s", 100));
  EXPECT_EQ(r.segments_removed, 1u);
  EXPECT_THAT(wal_->Append("s", "15"), IsOkAndHolds(15u));
  EXPECT_THAT(wal_->Get("s", 14), IsOkAndHolds("14"));
  EXPECT_THAT(wal_->Truncate("s", 0),
              IsOkAndHolds(::testing::Field(&TruncateResult::segments_removed, 0u)));
}

// 0.6 test_index_rebuild_after_truncate: the truncation is durable across reopen.
TEST_F(WalStreamsTest, TruncationSurvivesReopen) {
  ASSERT_OK(wal_->Close());
  options_.max_entries_per_segment = 10;
  ASSERT_OK(Open());
  for (int i = 0; i < 30; ++i) ASSERT_OK(wal_->Append("s", std::to_string(i)));
  ASSERT_OK(wal_->Truncate("s", 25));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->recovery_report(), IsEmpty());
  EXPECT_THAT(wal_->Get("s", 20), IsOkAndHolds("20"));
  EXPECT_THAT(wal_->Get("s", 19), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), "segments.idx")), EncodeSegmentIndex({20}));
}

TEST_F(WalStreamsTest, TruncateOfAnUnknownStreamIsNotFoundAndCreatesNothing) {
  EXPECT_THAT(wal_->Truncate("ghost", 5), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(IsEmpty()));
}

// --- Rotation ----------------------------------------------------------------------------

// 0.6 test_segment_rotation_threshold.
TEST_F(WalStreamsTest, SegmentsRotateBeforeTheSizeLimit) {
  ASSERT_OK(OpenWith(1024));
  for (int i = 0; i < 20; ++i) ASSERT_OK(wal_->Append("s", std::string(100, 'a' + i)));
  const std::vector<uint64_t> starts = SegmentStarts("s");
  EXPECT_GT(starts.size(), 2u);
  for (uint64_t start : starts) EXPECT_LE(FileSize(SegmentPath("s", start)), 1024u);
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(std::string(100, 'a')));
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), "head.state")), EncodeHeadState(starts.back()));
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), "segments.idx")), EncodeSegmentIndex(starts));
}

// W8, W14: 0.6 split a batch that did not fit across frames and segments, so a crash
// could keep part of it. Here a batch is one frame, in one segment, always.
TEST_F(WalStreamsTest, ABatchIsNeverSplit) {
  ASSERT_OK(OpenWith(300));
  ASSERT_OK(wal_->Append("s", std::string(200, 'x')));
  std::vector<std::string> batch(10, std::string(50, 'b'));  // ~570 bytes > 300
  ASSERT_OK_AND_ASSIGN(const IdRange ids, wal_->AppendBatch("s", batch));
  EXPECT_EQ(ids, (IdRange{1, 11}));
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 1u));
  const std::vector<FrameHeader> frames = Frames(SegmentPath("s", 1));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].entry_count, 10u);
  EXPECT_THAT(wal_->Append("s", "after"), IsOkAndHolds(11u));
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 1u, 11u));
}

// W13: 0.6 counted entries per open handle, so the limit reset on every restart.
TEST_F(WalStreamsTest, EntryLimitHoldsAcrossRestarts) {
  ASSERT_OK(wal_->Close());
  options_.max_entries_per_segment = 5;
  ASSERT_OK(Open());
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "x"));
  ASSERT_OK(Reopen());
  for (int i = 0; i < 4; ++i) ASSERT_OK(wal_->Append("s", "x"));
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 5u));
  std::vector<std::string> three(3, "b");
  ASSERT_OK(wal_->AppendBatch("s", three));  // 2 + 3 <= 5: fits
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 5u));
  std::vector<std::string> two(2, "c");
  ASSERT_OK(wal_->AppendBatch("s", two));  // 5 + 2 > 5: rotates first
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 5u, 10u));
}

// W15: 0.6 rotated an empty segment, duplicating its start ID in segments.idx.
TEST_F(WalStreamsTest, AnEntryLargerThanASegmentGetsItsOwnSegmentOnce) {
  ASSERT_OK(OpenWith(100));
  ASSERT_OK(wal_->Append("s", std::string(500, 'x')));
  ASSERT_OK(wal_->Append("s", std::string(500, 'y')));
  EXPECT_THAT(SegmentStarts("s"), ElementsAre(0u, 1u));
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), "segments.idx")), EncodeSegmentIndex({0, 1}));
}

// --- Sync modes and visibility -----------------------------------------------------------

class WalSyncModeTest : public WalStreamsTest, public ::testing::WithParamInterface<SyncMode> {};

// W7: 0.6's Async batches stayed in a buffer readers could not see.
TEST_P(WalSyncModeTest, EverythingIsReadableAsSoonAsTheCallReturns) {
  ASSERT_OK(wal_->Close());
  options_.sync_mode = GetParam();
  ASSERT_OK(Open());
  ASSERT_OK_AND_ASSIGN(const uint64_t id, wal_->Append("s", "single"));
  EXPECT_THAT(wal_->Get("s", id), IsOkAndHolds("single"));
  ASSERT_OK_AND_ASSIGN(const IdRange ids,
                       wal_->AppendBatch("s", std::vector<std::string>{"b1", "b2"}));
  EXPECT_THAT(wal_->Get("s", ids.first + 1), IsOkAndHolds("b2"));
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("single", "b1", "b2"));
  ASSERT_OK(Reopen());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre("single", "b1", "b2"));
}

INSTANTIATE_TEST_SUITE_P(Modes, WalSyncModeTest,
                         ::testing::Values(SyncMode::kStrict, SyncMode::kBatchOnly,
                                           SyncMode::kAsync),
                         [](const auto& info) {
                           std::string name = SyncModeName(info.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

// --- Compression -------------------------------------------------------------------------

// 0.6 test_lz4_compression_effectiveness.
TEST_F(WalStreamsTest, Lz4ShrinksCompressibleEntries) {
  ASSERT_OK(wal_->Close());
  options_.compression = Compression::kLz4;
  options_.min_compression_size = 0;
  ASSERT_OK(Open());
  const std::string big(10000, 'A');
  ASSERT_OK(wal_->Append("s", big));
  EXPECT_LT(FileSize(SegmentPath("s", 0)), 1000u);
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(big));
}

// 0.6 test_compression_threshold_skip.
TEST_F(WalStreamsTest, EntriesBelowTheThresholdStayRaw) {
  ASSERT_OK(wal_->Close());
  options_.compression = Compression::kLz4;
  options_.min_compression_size = 1000;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", std::string(100, 'A')));
  EXPECT_EQ(FileSize(SegmentPath("s", 0)), 136u);
}

// 0.6 test_large_batch_compression and test_mixed_mode_read.
TEST_F(WalStreamsTest, CompressedAndRawFramesMixInOneStream) {
  ASSERT_OK(wal_->Close());
  options_.compression = Compression::kLz4;
  options_.min_compression_size = 0;
  ASSERT_OK(Open());
  std::vector<std::string> batch(100, std::string(1024, '\0'));
  ASSERT_OK(wal_->AppendBatch("s", batch));
  EXPECT_LT(FileSize(SegmentPath("s", 0)), 10240u);
  ASSERT_OK(wal_->Close());
  options_.compression = Compression::kNone;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "raw"));
  const std::vector<FrameHeader> frames = Frames(SegmentPath("s", 0));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].codec, format::Codec::kLz4);
  EXPECT_EQ(frames[1].codec, format::Codec::kRaw);
  const std::vector<std::string> all = IterateAll("s", 0);
  ASSERT_EQ(all.size(), 101u);
  EXPECT_EQ(all[50], std::string(1024, '\0'));
  EXPECT_EQ(all[100], "raw");
}

TEST_F(WalStreamsTest, BlockCacheServesRepeatedGets) {
  ASSERT_OK(wal_->Close());
  options_.block_cache_size = 1 << 20;
  options_.compression = Compression::kLz4;
  options_.min_compression_size = 0;
  ASSERT_OK(Open());
  std::vector<std::string> batch;
  for (int i = 0; i < 50; ++i) batch.push_back("entry number " + std::to_string(i));
  ASSERT_OK(wal_->AppendBatch("s", batch));
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 50; ++i) EXPECT_THAT(wal_->Get("s", i), IsOkAndHolds(batch[i]));
  }
}

// --- Read-only ---------------------------------------------------------------------------

TEST_F(WalStreamsTest, ReadOnlyOpenReadsWithoutTheLockAndChangesNothing) {
  ASSERT_OK(wal_->Append("s", "a"));
  ASSERT_OK(wal_->Append("s", "b"));
  ASSERT_OK(wal_->Close());
  wal_.reset();
  ASSERT_OK(env_->RemoveFile("/wal/LOCK"));
  const std::string seg = SegmentPath("s", 0);
  WriteFile(seg, ReadFile(seg) + std::string(7, '\x42'));  // a torn tail
  const std::string before = ReadFile(seg);
  const std::vector<std::string> files = Children(StreamDir("s"));

  WalOptions ro = options_;
  ro.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> reader, Wal::Open(ro));
  EXPECT_THAT(reader->Get("s", 1), IsOkAndHolds("b"));
  EXPECT_THAT(reader->Get("s", 2), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(reader->Append("s", "c"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->Append("new", "c"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->Truncate("s", 1), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(reader->recovery_report().size(), 1u);
  EXPECT_EQ(reader->recovery_report()[0].tail, ScanOutcome::kTorn);
  EXPECT_EQ(reader->recovery_report()[0].cut_bytes, 7u);
  EXPECT_EQ(ReadFile(seg), before);
  EXPECT_EQ(Children(StreamDir("s")), files);
  EXPECT_THAT(Children("/wal"), ElementsAre("s"));  // no LOCK taken

  // A writer may open beside it; the reader keeps working.
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Append("s", "c"), IsOkAndHolds(2u));
  EXPECT_THAT(reader->Get("s", 0), IsOkAndHolds("a"));
  WalOptions missing = ro;
  missing.root = "/nowhere";
  EXPECT_THAT(Wal::Open(missing), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace ironwal
