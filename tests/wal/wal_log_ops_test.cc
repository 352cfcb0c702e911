// The log primitives (issue 11): metadata, streams that start at any ID, reset, suffix
// truncation, exact front trimming, conditional append, range reads, delete. Each is
// checked live, after a clean reopen, and after the interrupted states recovery finishes
// (log.intent, stream.deleted) that a crash can leave.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace testing {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::DecodeHeadState;
using ::ironwal::internal::DecodeLostIds;
using ::ironwal::internal::DecodeSealedSizes;
using ::ironwal::internal::DecodeSegmentIndex;
using ::ironwal::internal::EncodeLogIntent;
using ::ironwal::internal::LogIntent;
using ::ironwal::internal::StagedSegmentName;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string E(uint64_t i) { return absl::StrCat("entry-", i); }

class LogOpsTest : public MemWalTest {
 protected:
  void SetUp() override {
    options_.max_segment_size = 400;  // a few frames per segment
    ASSERT_THAT(Open(), IsOk());
  }
  // Appends entries [from, to) one by one.
  void AppendRange(const std::string& s, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) ASSERT_THAT(wal_->Append(s, E(i)), IsOkAndHolds(i));
  }
  std::vector<std::string> Expected(uint64_t from, uint64_t to) {
    std::vector<std::string> out;
    for (uint64_t i = from; i < to; ++i) out.push_back(E(i));
    return out;
  }
  void ExpectLog(const std::string& s, uint64_t first, uint64_t next) {
    absl::StatusOr<StreamInfo> info = wal_->GetStreamInfo(s);
    ASSERT_THAT(info, IsOk());
    EXPECT_EQ(info->first_id, first);
    EXPECT_EQ(info->next_id, next);
    EXPECT_EQ(IterateAll(s, first), Expected(first, next));
    if (first > 0) {
      EXPECT_THAT(wal_->Get(s, first - 1), StatusIs(absl::StatusCode::kNotFound));
    }
    EXPECT_THAT(wal_->Get(s, next), StatusIs(absl::StatusCode::kOutOfRange));
  }
};

TEST_F(LogOpsTest, MetadataIsReplacedAndSurvivesReopen) {
  EXPECT_THAT(wal_->GetStreamMetadata("raft"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(wal_->PutStreamMetadata("raft", "term=1"), IsOk());  // creates the stream
  EXPECT_THAT(wal_->GetStreamMetadata("raft"), IsOkAndHolds("term=1"));
  ASSERT_THAT(wal_->PutStreamMetadata("raft", "term=2 vote=3"), IsOk());
  ASSERT_THAT(Reopen(), IsOk());
  EXPECT_THAT(wal_->GetStreamMetadata("raft"), IsOkAndHolds("term=2 vote=3"));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre("raft")));
  // Never set: empty. Too large: refused, the old value stays.
  AppendRange("other", 0, 1);
  EXPECT_THAT(wal_->GetStreamMetadata("other"), IsOkAndHolds(""));
  EXPECT_THAT(wal_->PutStreamMetadata("raft", std::string(format::kMaxStreamMetadataSize + 1, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(wal_->PutStreamMetadata("raft", std::string(format::kMaxStreamMetadataSize, 'x')),
              IsOk());
  EXPECT_THAT(wal_->GetStreamMetadata("raft"),
              IsOkAndHolds(std::string(format::kMaxStreamMetadataSize, 'x')));
}

TEST_F(LogOpsTest, DamagedMetadataIsDataLoss) {
  ASSERT_THAT(wal_->PutStreamMetadata("s", "hard state"), IsOk());
  FlipByte(JoinPath(StreamDir("s"), format::kStreamMetadataFileName), 10);
  EXPECT_THAT(wal_->GetStreamMetadata("s"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("stream.meta")));
}

TEST_F(LogOpsTest, CreateStreamStartsAtAnyId) {
  ASSERT_THAT(wal_->CreateStream("s", 1000), IsOk());
  EXPECT_THAT(wal_->CreateStream("s", 5), StatusIs(absl::StatusCode::kAlreadyExists));
  ExpectLog("s", 1000, 1000);
  EXPECT_THAT(wal_->Get("s", 999), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 1000, 1000);
  AppendRange("s", 1000, 1030);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 1000, 1030);
  EXPECT_EQ(SegmentStarts("s").front(), 1000u);
  AppendRange("t", 0, 1);
  EXPECT_THAT(wal_->CreateStream("t", 0), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(LogOpsTest, ResetDropsEverythingAndKeepsMetadata) {
  AppendRange("s", 0, 40);
  ASSERT_GT(SegmentStarts("s").size(), 2u);
  ASSERT_THAT(wal_->PutStreamMetadata("s", "m"), IsOk());
  ASSERT_THAT(wal_->ResetStream("s", 500), IsOk());
  ExpectLog("s", 500, 500);
  EXPECT_THAT(SegmentStarts("s"), IsEmpty());
  AppendRange("s", 500, 510);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 500, 510);
  EXPECT_THAT(wal_->GetStreamMetadata("s"), IsOkAndHolds("m"));
  // Back below: IDs are given again.
  ASSERT_THAT(wal_->ResetStream("s", 3), IsOk());
  AppendRange("s", 3, 5);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 3, 5);
  // A stream that does not exist is created.
  ASSERT_THAT(wal_->ResetStream("new", 7), IsOk());
  ExpectLog("new", 7, 7);
}

TEST_F(LogOpsTest, TruncateSuffixInsideTheActiveSegment) {
  AppendRange("s", 0, 5);
  ASSERT_THAT(wal_->TruncateSuffix("s", 3), IsOk());
  ExpectLog("s", 0, 3);
  AppendRange("s", 3, 6);  // IDs 3.. again, new bytes
  ExpectLog("s", 0, 6);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 0, 6);
  EXPECT_THAT(wal_->TruncateSuffix("s", 6), IsOk());  // no-op
  EXPECT_THAT(wal_->TruncateSuffix("s", 7), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(wal_->TruncateSuffix("nope", 0), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(wal_->TruncateSuffix("s", 0), IsOk());
  ExpectLog("s", 0, 0);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 0, 0);
}

TEST_F(LogOpsTest, TruncateSuffixAcrossSegments) {
  AppendRange("s", 0, 60);
  const std::vector<uint64_t> before = SegmentStarts("s");
  ASSERT_GT(before.size(), 3u);
  // A cut inside the second segment, and one exactly at a segment's start.
  const uint64_t inside = before[1] + 1;
  ASSERT_THAT(wal_->TruncateSuffix("s", inside), IsOk());
  ExpectLog("s", 0, inside);
  EXPECT_EQ(SegmentStarts("s"), std::vector<uint64_t>(before.begin(), before.begin() + 2));
  EXPECT_THAT(DecodeSegmentIndex(ReadFile(JoinPath(StreamDir("s"), "segments.idx"))),
              IsOkAndHolds(ElementsAre(before[0], before[1])));
  EXPECT_EQ(DecodeHeadState(ReadFile(JoinPath(StreamDir("s"), "head.state"))).value(), before[1]);
  AppendRange("s", inside, 60);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 0, 60);
  const std::vector<uint64_t> now = SegmentStarts("s");
  ASSERT_THAT(wal_->TruncateSuffix("s", now[2]), IsOk());
  ExpectLog("s", 0, now[2]);
  AppendRange("s", now[2], now[2] + 3);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 0, now[2] + 3);
}

TEST_F(LogOpsTest, TruncateSuffixInsideABatchKeepsItsFront) {
  ASSERT_THAT(wal_->AppendBatch("s", {"a", "b", "c", "d"}), IsOk());
  ASSERT_THAT(wal_->TruncateSuffix("s", 2), IsOk());
  EXPECT_EQ(IterateAll("s", 0), (std::vector<std::string>{"a", "b"}));
  ASSERT_THAT(wal_->Append("s", "C"), IsOkAndHolds(2));
  ASSERT_THAT(Reopen(), IsOk());
  EXPECT_EQ(IterateAll("s", 0), (std::vector<std::string>{"a", "b", "C"}));
  EXPECT_TRUE(wal_->recovery_report().empty());
}

// After a cut the durable frontier moves back: frames written after it, then torn or
// holed by a power loss, are a torn tail, not synced data that was damaged (the frame
// stamps of the frames after the cut claim the new frontier, not the old one: row K).
TEST(LogOpsCrashTest, TornAppendAfterTruncateSuffixIsATornTail) {
  for (const CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kKeepPrefix,
                               CrashMode::kKeepRandomBlocks, CrashMode::kTearBlock}) {
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      SCOPED_TRACE(absl::StrCat("crash mode ", static_cast<int>(mode), " seed ", seed));
      SimEnvOptions sim;
      sim.seed = seed;
      SimEnv env(sim);
      WalOptions options;
      options.env = &env;
      options.root = "/wal";
      options.sync_mode = SyncMode::kBatchOnly;
      std::unique_ptr<Wal> wal = *Wal::Open(options);
      ASSERT_THAT(wal->AppendBatch("s", std::vector<std::string>(40, "0123456789ab")), IsOk());
      ASSERT_THAT(wal->TruncateSuffix("s", 1), IsOk());
      for (int i = 1; i < 6; ++i) {
        ASSERT_THAT(wal->Append("s", std::string(100, 'a' + i)), IsOkAndHolds(i));
      }
      CrashOptions crash;
      crash.mode = mode;
      env.Crash(crash);
      wal.reset();
      absl::StatusOr<std::unique_ptr<Wal>> reopened = Wal::Open(options);
      ASSERT_THAT(reopened, IsOk());
      absl::StatusOr<StreamInfo> info = (*reopened)->GetStreamInfo("s");
      ASSERT_THAT(info, IsOk());
      EXPECT_GE(info->next_id, 1u);
      EXPECT_LE(info->next_id, 6u);
      EXPECT_THAT((*reopened)->Get("s", 0), IsOkAndHolds("0123456789ab"));
      for (uint64_t i = 1; i < info->next_id; ++i) {
        EXPECT_THAT((*reopened)->Get("s", i), IsOkAndHolds(std::string(100, 'a' + i)));
      }
    }
  }
}

TEST_F(LogOpsTest, InterruptedTruncateSuffixIsFinishedAtOpen) {
  AppendRange("s", 0, 60);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  const std::string dir = StreamDir("s");
  ASSERT_THAT(wal_->Close(), IsOk());
  // What a crash right after the intent leaves: the staged active segment and log.intent.
  LogIntent intent;
  intent.kind = LogIntent::Kind::kTruncateSuffix;
  intent.segments = {starts[0], starts[1]};
  intent.next_id = starts[1] + 1;
  const std::string old_active = ReadFile(SegmentPath("s", starts[1]));
  const uint64_t frame = 36 + E(starts[1]).size();
  intent.active_size = frame;
  intent.staged = true;
  WriteFile(JoinPath(dir, StagedSegmentName(starts[1])), old_active.substr(0, frame));
  WriteFile(JoinPath(dir, format::kLogIntentFileName), EncodeLogIntent(intent));
  ASSERT_THAT(Open(), IsOk());
  ExpectLog("s", 0, starts[1] + 1);
  EXPECT_EQ(SegmentStarts("s"), std::vector<uint64_t>(starts.begin(), starts.begin() + 2));
  EXPECT_THAT(Children(dir), ::testing::Not(::testing::Contains(format::kLogIntentFileName)));
  // Finished again from the state after the rename (the staged file is gone).
  ASSERT_THAT(wal_->Close(), IsOk());
  WriteFile(JoinPath(dir, format::kLogIntentFileName), EncodeLogIntent(intent));
  ASSERT_THAT(Open(), IsOk());
  ExpectLog("s", 0, starts[1] + 1);
  // A read-only opener refuses it rather than show a half-done state.
  ASSERT_THAT(wal_->Close(), IsOk());
  WriteFile(JoinPath(dir, format::kLogIntentFileName), EncodeLogIntent(intent));
  WalOptions ro = options_;
  ro.read_only = true;
  EXPECT_THAT(Wal::Open(ro),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("log.intent")));
  // Review finding 4: the whole root is refused (the documented contract); the message
  // names the stream, its directory and file, and what finishes the operation.
  const absl::Status refused = Wal::Open(ro).status();
  EXPECT_THAT(refused.message(), HasSubstr(absl::StrCat("open ", dir,
                                                        " (stream 's') read-only: "
                                                        "log.intent: an interrupted suffix")));
  EXPECT_THAT(refused.message(), HasSubstr("open the Wal read-write to finish it, or run "
                                           "`ironwal repair /wal`"));
  EXPECT_THAT(Children(dir), ::testing::Contains(format::kLogIntentFileName));
}

TEST_F(LogOpsTest, TrimFrontIsExactAndDurable) {
  AppendRange("s", 0, 60);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  const uint64_t first = starts[2] + 2;  // inside a kept segment
  absl::StatusOr<TruncateResult> r = wal_->TrimFront("s", first);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->first_id, first);
  EXPECT_EQ(r->segments_removed, 2u);
  ExpectLog("s", first, 60);
  EXPECT_THAT(wal_->NewIterator("s", first - 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->ReadRange("s", first - 1, 60, 1000), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", first, 60);
  // Lower: nothing changes. Past next: OutOfRange. Up to next: an empty log at 60.
  EXPECT_THAT(wal_->TrimFront("s", 3), IsOk());
  ExpectLog("s", first, 60);
  EXPECT_THAT(wal_->TrimFront("s", 61), StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_THAT(wal_->TrimFront("s", 60), IsOk());
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 60, 60);
  AppendRange("s", 60, 62);
  ExpectLog("s", 60, 62);
  // A suffix truncation keeps the trimmed first ID; below it is OutOfRange.
  EXPECT_THAT(wal_->TruncateSuffix("s", 59), StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_THAT(wal_->TruncateSuffix("s", 60), IsOk());
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 60, 60);
}

TEST_F(LogOpsTest, AppendBatchIfChecksTheNextId) {
  const std::vector<absl::string_view> two = {"a", "b"};
  EXPECT_THAT(wal_->AppendBatchIf("s", 5, two),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("next id is 0")));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(wal_->AppendBatchIf("s", 0, two), IsOkAndHolds(IdRange{0, 2}));
  EXPECT_THAT(wal_->AppendBatchIf("s", 0, two),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("next id is 2")));
  EXPECT_THAT(wal_->AppendBatchIf("s", 2, two), IsOkAndHolds(IdRange{2, 4}));
  EXPECT_THAT(wal_->AppendBatchIf("s", 4, {}), IsOkAndHolds(IdRange{4, 4}));
  EXPECT_THAT(wal_->AppendBatchIf("s", 3, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("next id is 4")));
  EXPECT_EQ(IterateAll("s", 0), (std::vector<std::string>{"a", "b", "a", "b"}));
}

TEST_F(LogOpsTest, ReadRangeHonoursTheBudget) {
  AppendRange("s", 0, 50);
  EXPECT_THAT(wal_->ReadRange("s", 3, 8, 1 << 20), IsOkAndHolds(Expected(3, 8)));
  EXPECT_THAT(wal_->ReadRange("s", 40, 1000, 1 << 20), IsOkAndHolds(Expected(40, 50)));
  // "entry-3" is 7 bytes: 20 bytes hold two entries, 0 bytes still one.
  EXPECT_THAT(wal_->ReadRange("s", 3, 8, 20), IsOkAndHolds(Expected(3, 5)));
  EXPECT_THAT(wal_->ReadRange("s", 3, 8, 21), IsOkAndHolds(Expected(3, 6)));
  EXPECT_THAT(wal_->ReadRange("s", 3, 8, 0), IsOkAndHolds(Expected(3, 4)));
  EXPECT_THAT(wal_->ReadRange("s", 5, 5, 100), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(wal_->ReadRange("s", 50, 51, 100), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(wal_->ReadRange("x", 0, 1, 100), StatusIs(absl::StatusCode::kNotFound));
  // Across every segment.
  EXPECT_THAT(wal_->ReadRange("s", 0, 50, 1 << 20), IsOkAndHolds(Expected(0, 50)));
}

TEST_F(LogOpsTest, DeleteStreamAndUseTheKeyAgain) {
  AppendRange("s", 0, 30);
  ASSERT_THAT(wal_->PutStreamMetadata("s", "m"), IsOk());
  ASSERT_THAT(wal_->DeleteStream("s"), IsOk());
  EXPECT_THAT(wal_->DeleteStream("s"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->Get("s", 0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->GetStreamMetadata("s"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(Children(options_.root), ::testing::Not(::testing::Contains("s")));
  ASSERT_THAT(Reopen(), IsOk());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(IsEmpty()));
  AppendRange("s", 0, 2);  // a new stream from 0
  EXPECT_THAT(wal_->GetStreamMetadata("s"), IsOkAndHolds(""));
  ASSERT_THAT(wal_->DeleteStream("s"), IsOk());
  AppendRange("s", 0, 3);  // without a reopen in between
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 0, 3);
}

TEST_F(LogOpsTest, InterruptedDeleteIsFinishedAtOpen) {
  AppendRange("s", 0, 30);
  ASSERT_THAT(wal_->Close(), IsOk());
  WriteFile(JoinPath(StreamDir("s"), format::kDeletedMarkerFileName), "IWDS");
  ASSERT_THAT(Open(), IsOk());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(Children(options_.root), ::testing::Not(::testing::Contains("s")));
}

// lost.ids and the operations that set the next ID (issue 11 §4). A stream whose frames of
// IDs [2, 6) were quarantined under kTruncate: its log is 0, 1, then 6.. in a new segment.
class LostIdsLogOpsTest : public LogOpsTest {
 protected:
  void SetUp() override {
    LogOpsTest::SetUp();
    AppendRange("s", 0, 6);
    ASSERT_THAT(wal_->Close(), IsOk());
    FlipByte(SegmentPath("s", 0), 2 * (36 + E(0).size()) + 40);
    options_.on_corruption = CorruptionPolicy::kTruncate;
    ASSERT_THAT(Open(), IsOk());
    options_.on_corruption = CorruptionPolicy::kError;
    ASSERT_THAT(wal_->Append("s", E(6)), IsOkAndHolds(6u));
    ASSERT_THAT(Reopen(), IsOk());
    ASSERT_EQ(LostIds(), "[2, 6)");
  }
  std::string LostIds() {
    const std::string path = JoinPath(StreamDir("s"), format::kLostIdsFileName);
    absl::StatusOr<std::string> contents = ReadFileToString(env_, path);
    if (absl::IsNotFound(contents.status())) return "none";
    absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ranges = DecodeLostIds(*contents);
    if (!ranges.ok()) return std::string(ranges.status().message());
    std::string out;
    for (const auto& [first, end] : *ranges) {
      absl::StrAppend(&out, out.empty() ? "" : " ", "[", first, ", ", end, ")");
    }
    return out;
  }
  // Appends [from, to), then checks the log live and after a reopen.
  void AppendAndReopen(uint64_t from, uint64_t to) {
    AppendRange("s", from, to);
    ExpectLog("s", 0, to);
    ASSERT_THAT(Reopen(), IsOk());
    ExpectLog("s", 0, to);
  }
};

// Before the fix, lost.ids kept [2, 6): the reopened stream jumped from 3 to 6 (its
// active segment "ended inside a lost range"), unlike the live one.
TEST_F(LostIdsLogOpsTest, ResetForgetsTheLostIds) {
  ASSERT_THAT(wal_->ResetStream("s", 0), IsOk());
  EXPECT_EQ(LostIds(), "none");
  AppendAndReopen(0, 3);
}

TEST_F(LostIdsLogOpsTest, TruncateSuffixBelowALostRangeForgetsIt) {
  ASSERT_THAT(wal_->TruncateSuffix("s", 1), IsOk());
  EXPECT_EQ(LostIds(), "none");
  ExpectLog("s", 0, 1);
  AppendAndReopen(1, 4);
}

TEST_F(LostIdsLogOpsTest, TruncateSuffixAtALostRangesStartEndsTheLogThere) {
  ASSERT_THAT(wal_->TruncateSuffix("s", 2), IsOk());
  EXPECT_EQ(LostIds(), "none");
  ExpectLog("s", 0, 2);
  EXPECT_EQ(SegmentStarts("s"), std::vector<uint64_t>{0});
  AppendAndReopen(2, 5);
}

TEST_F(LostIdsLogOpsTest, TruncateSuffixAtALostRangesEndKeepsIt) {
  ASSERT_THAT(wal_->TruncateSuffix("s", 6), IsOk());
  EXPECT_EQ(LostIds(), "[2, 6)");
  absl::StatusOr<StreamInfo> info = wal_->GetStreamInfo("s");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->next_id, 6u);
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds(E(1)));
  EXPECT_THAT(wal_->Get("s", 2), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(wal_->Append("s", "again"), IsOkAndHolds(6u));
  ASSERT_THAT(Reopen(), IsOk());
  EXPECT_THAT(wal_->GetStreamInfo("s"), IsOkAndHolds(::testing::Field(&StreamInfo::next_id, 7u)));
  EXPECT_THAT(wal_->Get("s", 6), IsOkAndHolds("again"));
  EXPECT_EQ(LostIds(), "[2, 6)");
}

TEST_F(LostIdsLogOpsTest, TruncateSuffixInsideALostRangeIsRefusedNamingIt) {
  EXPECT_THAT(wal_->TruncateSuffix("s", 4), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                     HasSubstr("IDs [2, 6) are lost (lost.ids)")));
  // Refused before anything changed: the stream is usable.
  EXPECT_THAT(wal_->Append("s", E(7)), IsOkAndHolds(7u));
  EXPECT_EQ(LostIds(), "[2, 6)");
}

// ApplyLogIntent drops sealed.sizes' entries at or past the new active segment: a segment
// cut or started again there is no longer the one sealed. Without it, the file keeps the
// old (larger) size of the segment that is active again and of the removed ones.
TEST_F(LogOpsTest, SuffixCutDropsSealedSizesAtOrPastTheNewActiveSegment) {
  AppendRange("s", 0, 30);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_GE(starts.size(), 3u);
  const std::string sizes_path = JoinPath(StreamDir("s"), format::kSealedSizesFileName);
  ASSERT_OK_AND_ASSIGN(const auto before, DecodeSealedSizes(ReadFile(sizes_path)));
  ASSERT_EQ(before.count(starts[1]), 1u);
  // Cut inside the second segment: it is the active one again, and shorter.
  ASSERT_THAT(wal_->TruncateSuffix("s", starts[1] + 1), IsOk());
  ASSERT_OK_AND_ASSIGN(const auto after, DecodeSealedSizes(ReadFile(sizes_path)));
  EXPECT_EQ(after.count(starts[0]), 1u);
  EXPECT_EQ(after.lower_bound(starts[1]), after.end());
  AppendRange("s", starts[1] + 1, starts[1] + 3);
  ASSERT_THAT(Reopen(), IsOk());
  ExpectLog("s", 0, starts[1] + 3);
}

// An I/O error reading first.id at open was taken for a missing file: the open went on
// with the trimmed IDs back (found by the exhaustive crash suite's failed recoveries). It
// fails the open now; the next one shows the trim.
TEST(LogOpsFaultTest, AnUnreadableFirstIdFailsTheOpenInsteadOfUndoingTheTrim) {
  SimEnv env(SimEnvOptions{});
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  {
    std::unique_ptr<Wal> wal = *Wal::Open(options);
    for (int i = 0; i < 5; ++i) ASSERT_THAT(wal->Append("s", E(i)), IsOkAndHolds(i));
    ASSERT_THAT(wal->TrimFront("s", 3), IsOk());
    ASSERT_THAT(wal->Close(), IsOk());
  }
  for (const SimOp op : {SimOp::kOpenRead, SimOp::kRead}) {
    SCOPED_TRACE(SimOpName(op));
    FaultRule rule;
    rule.op = op;
    rule.path_pattern = "*/first.id";
    rule.max_fires = 1;
    env.AddFaultRule(rule);
    absl::StatusOr<std::unique_ptr<Wal>> failed = Wal::Open(options);
    if (failed.ok()) {
      EXPECT_THAT((*failed)->GetStreamInfo("s"),
                  IsOkAndHolds(::testing::Field(&StreamInfo::first_id, 3u)));
    }
    EXPECT_FALSE(failed.ok());
    env.ClearFaultRules();
  }
  std::unique_ptr<Wal> wal = *Wal::Open(options);
  EXPECT_THAT(wal->GetStreamInfo("s"), IsOkAndHolds(::testing::Field(&StreamInfo::first_id, 3u)));
  EXPECT_THAT(wal->Get("s", 2), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
