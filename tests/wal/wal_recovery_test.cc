// Recovery: ironwal 0.6's tests/recovery.rs scenarios (parity or better), one test per row
// of the decision table in ironwal/segment/segment_scan.h, and regressions for the 0.6
// defects recovery fixes (W3, W4, W16, W19, W20).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/util/coding.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {

namespace format = internal::format;
using internal::AppendFrame;
using internal::DurablePos;
using internal::EncodeDurablePos;
using internal::EncodeHeadState;
using internal::EncodeSegmentIndex;
using internal::EncodeTruncateIntent;
using internal::FrameEncodeOptions;
using internal::SegmentFileName;

namespace {

using ::ironwal::testing::IsOk;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class WalRecoveryTest : public ::ironwal::testing::MemWalTest {
 protected:
  void SetUp() override { ASSERT_OK(Open()); }

  // Appends `n` entries "e0".."e{n-1}" of `size` bytes to `stream`.
  void Fill(const std::string& stream, int n, size_t size = 20) {
    for (int i = 0; i < n; ++i) {
      std::string e = "e" + std::to_string(i);
      e.resize(size, '.');
      ASSERT_OK(wal_->Append(stream, e));
    }
  }
  std::string Entry(int i, size_t size = 20) {
    std::string e = "e" + std::to_string(i);
    e.resize(size, '.');
    return e;
  }
  // Closes, and opens again with segments of at most `size` bytes (so that a few entries
  // make sealed segments).
  absl::Status ReopenWithSegmentSize(uint64_t size) {
    absl::Status closed = wal_->Close();
    if (!closed.ok()) return closed;
    options_.max_segment_size = size;
    return Open();
  }

  // Moves `stream`'s durable frontier back to the start of segment `segment`, as if none
  // of its bytes had been synced before a crash (a clean Close syncs everything, so
  // damaging a closed segment is otherwise damage to synced data: row H).
  void ForgetSyncs(const std::string& stream, uint64_t segment = 0) {
    DurablePos pos;
    pos.segment_start_id = segment;
    WriteFile(JoinPath(StreamDir(stream), format::kDurablePosFileName), EncodeDurablePos(pos));
  }
};

// 0.6 test_partial_write_recovery + defect W3: 0.6 counted the torn frame and zero-extended
// the file, making its ID permanently unreadable. Row D: cut, never extended.
TEST_F(WalRecoveryTest, TornPayloadIsCutAndItsIdReused) {
  Fill("s", 2);
  ASSERT_OK(wal_->Close());
  const std::string seg = SegmentPath("s", 0);
  const uint64_t frame = 32 + 4 + 20;
  ForgetSyncs("s");
  CutFile(seg, 2 * frame - 10);
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(Entry(0)));
  EXPECT_THAT(wal_->Get("s", 1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(FileSize(seg), frame);
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail, ScanOutcome::kTorn);
  EXPECT_EQ(report->tail_row, 'D');
  EXPECT_EQ(report->cut_bytes, frame - 10);
  EXPECT_THAT(wal_->Append("s", "again"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("again"));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("again"));
}

// 0.6 test_partial_header_recovery. Row B.
TEST_F(WalRecoveryTest, HeaderCutShortIsCut) {
  Fill("s", 2);
  ASSERT_OK(wal_->Close());
  CutFile(SegmentPath("s", 0), 56 + 10);
  ForgetSyncs("s");
  ASSERT_OK(Open());
  EXPECT_EQ(Report("s")->tail_row, 'B');
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(1u));
}

// 0.6 test_zero_pad_recovery. Row Z: a zero tail is the clean end, cut without a report.
TEST_F(WalRecoveryTest, ZeroFilledTailIsCut) {
  Fill("s", 1);
  ASSERT_OK(wal_->Close());
  const std::string seg = SegmentPath("s", 0);
  WriteFile(seg, ReadFile(seg) + std::string(1024, '\0'));
  ForgetSyncs("s");
  ASSERT_OK(Open());
  EXPECT_EQ(Report("s"), nullptr);
  EXPECT_EQ(FileSize(seg), 56u);
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(1u));
}

TEST_F(WalRecoveryTest, GarbageTailIsCut) {
  Fill("s", 3);
  ASSERT_OK(wal_->Close());
  ForgetSyncs("s");
  const std::string seg = SegmentPath("s", 0);
  WriteFile(seg, ReadFile(seg) + "this is not a frame header, just noise at the tail");
  ASSERT_OK(Open());
  EXPECT_EQ(Report("s")->tail_row, 'C');
  EXPECT_THAT(IterateAll("s", 0), ElementsAre(Entry(0), Entry(1), Entry(2)));
}

// Row E, and defect W4: 0.6 never checked CRCs at recovery.
TEST_F(WalRecoveryTest, LastFrameWithBadCrcIsCut) {
  Fill("s", 3);
  ASSERT_OK(wal_->Close());
  const std::string seg = SegmentPath("s", 0);
  FlipByte(seg, 2 * 56 + 40);  // payload of the last frame
  ForgetSyncs("s");
  ASSERT_OK(Open());
  EXPECT_EQ(Report("s")->tail_row, 'E');
  EXPECT_THAT(wal_->Get("s", 2), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(2u));
}

// Row F: a CRC-valid frame whose IDs do not continue (e.g. a stale frame) ends the log.
TEST_F(WalRecoveryTest, FrameWithIdsThatDoNotContinueIsCut) {
  Fill("s", 2);
  ASSERT_OK(wal_->Close());
  ForgetSyncs("s");
  std::string stale;
  ASSERT_OK(AppendFrame(/*start_id=*/7, {"stale"}, FrameEncodeOptions(), &stale));
  const std::string seg = SegmentPath("s", 0);
  WriteFile(seg, ReadFile(seg) + stale);
  ASSERT_OK(Open());
  EXPECT_EQ(Report("s")->tail_row, 'F');
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(2u));
}

// Row J: a segment whose first frame belongs to other IDs is not this stream's file.
TEST_F(WalRecoveryTest, SegmentHoldingOtherIdsRefusesToOpen) {
  Fill("s", 1);
  ASSERT_OK(wal_->Close());
  std::string foreign;
  ASSERT_OK(AppendFrame(/*start_id=*/100, {"foreign"}, FrameEncodeOptions(), &foreign));
  WriteFile(SegmentPath("s", 0), foreign);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row J")));
}

// Row H: damage before the durable frontier is corruption of synced data.
TEST_F(WalRecoveryTest, DamageInSyncedDataRefusesToOpenUnderError) {
  Fill("s", 10);
  ASSERT_OK(wal_->Close());  // Close moves the frontier to the synced end.
  const std::string seg = SegmentPath("s", 0);
  FlipByte(seg, 9 * 56 + 40);  // even the last frame: it was synced
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row H")));
  EXPECT_EQ(FileSize(seg), 10 * 56u) << "nothing may change under kError";
}

// A segment shorter than its durable frontier lost synced bytes: row H, not a torn tail.
TEST_F(WalRecoveryTest, SegmentCutBelowItsFrontierRefusesToOpen) {
  Fill("s", 3);
  ASSERT_OK(wal_->Close());
  CutFile(SegmentPath("s", 0), 2 * 56 + 10);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row H")));
}

// Row H under kTruncate: the damaged bytes go to a quarantine file and are reported.
TEST_F(WalRecoveryTest, DamageInSyncedDataIsQuarantinedUnderTruncate) {
  Fill("s", 10);
  ASSERT_OK(wal_->Close());
  const std::string seg = SegmentPath("s", 0);
  const std::string before = ReadFile(seg);
  FlipByte(seg, 4 * 56 + 40);
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK(Open());
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail, ScanOutcome::kCorrupt);
  EXPECT_EQ(report->tail_row, 'H');
  EXPECT_EQ(report->cut_offset, 4 * 56u);
  EXPECT_EQ(report->quarantine_file, "00000000000000000000.wal.corrupt-224");
  std::string kept = before.substr(4 * 56);
  kept[40] ^= 1;
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), report->quarantine_file)), kept);
  // The cut bytes held frames of IDs up to 9: those IDs are recorded as lost and never
  // handed out again (issue 8 §2); the stream continues at 10, in a new segment.
  EXPECT_EQ(report->lost_first, 4u);
  EXPECT_EQ(report->lost_end, 10u);
  EXPECT_THAT(wal_->GetStreamInfo("s"), IsOkAndHolds(::testing::Field(&StreamInfo::next_id, 10u)));
  EXPECT_THAT(wal_->Get("s", 4), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(wal_->Append("s", "next"), IsOkAndHolds(10u));
  // The next open is clean: the frontier was moved back to the cut.
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->recovery_report(), IsEmpty());
}

// Row G: a directory without durable.pos and frame stamps (written by ironwal 0.6): a bad
// frame with valid frames after it cannot be told from corruption, so kError refuses.
TEST_F(WalRecoveryTest, BadFrameFollowedByValidFramesWithoutFrontierRefuses) {
  Fill("s", 5);
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->RemoveFile(JoinPath(StreamDir("s"), format::kDurablePosFileName)));
  std::string contents = ReadFile(SegmentPath("s", 0));
  for (size_t frame = 0; frame < 5; ++frame) {  // ironwal 0.6 writes zeros there
    std::fill_n(&contents[frame * 56 + format::kReservedOffset], format::kReservedSize, '\0');
  }
  WriteFile(SegmentPath("s", 0), contents);
  FlipByte(SegmentPath("s", 0), 2 * 56 + 40);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("row G")));
}

// Row I: past a known frontier, holes left by a crash in unsynced data are a torn tail;
// the bytes after the hole are kept aside.
TEST_F(WalRecoveryTest, HoleInUnsyncedDataIsCutAndKeptAside) {
  options_.sync_mode = SyncMode::kAsync;  // Nothing synced while writing: stamps say so.
  ASSERT_OK(Reopen());
  Fill("s", 6);
  ASSERT_OK(wal_->Close());
  ForgetSyncs("s");  // As if the process had died before any sync.
  const std::string seg = SegmentPath("s", 0);
  std::string contents = ReadFile(seg);
  std::fill(contents.begin() + 2 * 56, contents.begin() + 3 * 56, '\0');  // a hole
  WriteFile(seg, contents);
  ASSERT_OK(Open());
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail, ScanOutcome::kTorn);
  EXPECT_EQ(report->tail_row, 'I');
  EXPECT_FALSE(report->quarantine_file.empty());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre(Entry(0), Entry(1)));
}

// Row A, and W5: recovery verifies at open, so reads before the first write are right.
TEST_F(WalRecoveryTest, CleanSegmentNeedsNoRepair) {
  Fill("s", 3);
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->recovery_report(), IsEmpty());
  EXPECT_THAT(IterateAll("s", 0), ElementsAre(Entry(0), Entry(1), Entry(2)));
}

// 0.6 test_bit_rot_detection: a flipped byte in a sealed segment is DataLoss on read.
TEST_F(WalRecoveryTest, BitRotInASealedSegmentIsDataLossOnRead) {
  ASSERT_OK(ReopenWithSegmentSize(200));
  Fill("s", 10);
  ASSERT_OK(wal_->Close());
  FlipByte(SegmentPath("s", 0), 56 + 40);  // ID 1
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Get("s", 1), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("crc")));
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(Entry(0)));
  EXPECT_THAT(wal_->Get("s", 9), IsOkAndHolds(Entry(9)));
  ASSERT_OK_AND_ASSIGN(auto it, wal_->NewIterator("s", 0));
  ASSERT_TRUE(it->Valid());
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_THAT(it->status(), StatusIs(absl::StatusCode::kDataLoss));
}

// 0.6 test_index_rebuild_on_missing_file.
TEST_F(WalRecoveryTest, MissingSegmentIndexIsRebuilt) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 3);
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->RemoveFile(JoinPath(StreamDir("s"), "segments.idx")));
  ASSERT_OK(Open());
  EXPECT_TRUE(Report("s")->index_rebuilt);
  EXPECT_THAT(IterateAll("s", 0), ElementsAre(Entry(0), Entry(1), Entry(2)));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(3u));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->recovery_report(), IsEmpty()) << "the rebuilt index was written back";
}

// 0.6 test_malformed_index_rebuild, and W16: 0.6 accepted an unsorted index and took its
// last element as the newest segment.
TEST_F(WalRecoveryTest, MalformedOrUnsortedIndexIsRebuilt) {
  Fill("s", 1);
  ASSERT_OK(wal_->Close());
  const std::string idx = JoinPath(StreamDir("s"), "segments.idx");
  WriteFile(idx, std::string(3, '\x01'));
  ASSERT_OK(Open());
  EXPECT_TRUE(Report("s")->index_rebuilt);
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(Entry(0)));
  ASSERT_OK(wal_->Close());
  WriteFile(idx, EncodeSegmentIndex({0, 100, 50}));
  ASSERT_OK(Open());
  EXPECT_TRUE(Report("s")->index_rebuilt);
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(1u)) << "0.6 would continue at 50";
}

// 0.6 test_zombie_index_recovery: an index that missed rotations while head.state names a
// newer segment is rebuilt from the listing.
TEST_F(WalRecoveryTest, StaleIndexIsRebuiltWhenHeadStateNamesANewerSegment) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 5);
  ASSERT_OK(wal_->Close());
  ASSERT_GE(SegmentStarts("s").size(), 3u);
  WriteFile(JoinPath(StreamDir("s"), "segments.idx"), EncodeSegmentIndex({0}));
  ASSERT_OK(Open());
  EXPECT_TRUE(Report("s")->index_rebuilt);
  for (int i = 0; i < 5; ++i) EXPECT_THAT(wal_->Get("s", i), IsOkAndHolds(Entry(i)));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(5u));
}

// An index missing recent entries without head.state still finds the data-bearing
// segments: a segment holding data is never ignored.
TEST_F(WalRecoveryTest, UnlistedSegmentHoldingDataIsAdopted) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 5);
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->RemoveFile(JoinPath(StreamDir("s"), "head.state")));
  WriteFile(JoinPath(StreamDir("s"), "segments.idx"), EncodeSegmentIndex({0}));
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(5u));
}

// 0.6 test_segment_gap_handling: a missing middle segment loses IDs; this library says so
// at open instead of returning None for them later.
TEST_F(WalRecoveryTest, MissingMiddleSegmentIsDataLoss) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 6);
  ASSERT_OK(wal_->Close());
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_GE(starts.size(), 3u);
  ASSERT_OK(env_->RemoveFile(SegmentPath("s", starts[1])));
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("missing")));
}

// 0.6 test_empty_segment_recovery: a stray empty next segment (an interrupted rotation)
// is tolerated and removed.
TEST_F(WalRecoveryTest, StrayEmptySegmentIsRemoved) {
  Fill("s", 1);
  ASSERT_OK(wal_->Close());
  WriteFile(SegmentPath("s", 1), "");
  ASSERT_OK(Open());
  EXPECT_THAT(Report("s")->removed_files, ElementsAre(SegmentFileName(1)));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("x"));
}

// 0.6 test_missing_head_state_recovery.
TEST_F(WalRecoveryTest, MissingHeadStateIsFine) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 4);
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->RemoveFile(JoinPath(StreamDir("s"), "head.state")));
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Get("s", 3), IsOkAndHolds(Entry(3)));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(4u));
}

// W19: a bad head.state made 0.6 refuse to open the whole WAL; it is only a hint.
TEST_F(WalRecoveryTest, CorruptHeadStateIsIgnored) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 4);
  ASSERT_OK(wal_->Close());
  WriteFile(JoinPath(StreamDir("s"), "head.state"), "\x07garbage");
  ASSERT_OK(Open());
  EXPECT_THAT(Report("s")->head_state_problem, HasSubstr("version"));
  // Rewritten, because ironwal 0.6 would refuse the directory with the bad one.
  EXPECT_EQ(ReadFile(JoinPath(StreamDir("s"), "head.state")),
            EncodeHeadState(SegmentStarts("s").back()));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(4u));
}

// 0.6 test_repair_on_restart_preserves_data.
TEST_F(WalRecoveryTest, ReopenAndAppendKeepsAnEmptyEntry) {
  ASSERT_OK(wal_->Append("s", ""));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(""));
}

// W20: 0.6 treated every directory under the root as a stream and wrote into it.
TEST_F(WalRecoveryTest, ForeignDirectoriesAreLeftAlone) {
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->CreateDir("/wal/not-a-stream"));
  WriteFile("/wal/not-a-stream/notes.txt", "hello");
  WriteFile("/wal/readme.txt", "root files are ignored too");
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre()));
  EXPECT_THAT(Children("/wal/not-a-stream"), ElementsAre("notes.txt"));
}

TEST_F(WalRecoveryTest, LeftoverTempFilesAreRemoved) {
  Fill("s", 1);
  ASSERT_OK(wal_->Close());
  WriteFile(JoinPath(StreamDir("s"), "segments.idx.tmp"), "partial");
  ASSERT_OK(Open());
  EXPECT_THAT(Children(StreamDir("s")), Not(Contains("segments.idx.tmp")));
}

// A crash right after segments.idx was rewritten by Truncate, before the files were
// removed: truncate.intent confirms that the files below the index are leftovers; they
// are removed (the intent last), and their IDs stay gone.
TEST_F(WalRecoveryTest, TruncatedSegmentsNeverComeBack) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 6);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_OK(wal_->Close());
  std::vector<uint64_t> kept(starts.begin() + 2, starts.end());
  WriteFile(JoinPath(StreamDir("s"), "truncate.intent"), EncodeTruncateIntent(kept.front()));
  WriteFile(JoinPath(StreamDir("s"), "segments.idx"), EncodeSegmentIndex(kept));
  ASSERT_OK(Open());
  EXPECT_EQ(Report("s")->removed_files.size(), 3u);  // two segments and the intent
  EXPECT_THAT(Children(StreamDir("s")), Not(Contains("truncate.intent")));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo("s"));
  EXPECT_EQ(info.first_id, starts[2]);
  EXPECT_THAT(wal_->Get("s", 0), StatusIs(absl::StatusCode::kNotFound));
}

// The same files below the index's first ID without truncate.intent: not a truncation (a
// damaged segments.idx), so nothing is removed and the index is rebuilt from the files.
TEST_F(WalRecoveryTest, SegmentsBelowTheIndexWithoutATruncateIntentAreKept) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 6);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_OK(wal_->Close());
  std::vector<uint64_t> kept(starts.begin() + 2, starts.end());
  WriteFile(JoinPath(StreamDir("s"), "segments.idx"), EncodeSegmentIndex(kept));
  ASSERT_OK(Open());
  EXPECT_TRUE(Report("s")->removed_files.empty());
  EXPECT_TRUE(Report("s")->index_rebuilt);
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo("s"));
  EXPECT_EQ(info.first_id, 0u);
  EXPECT_OK(wal_->Get("s", 0).status());
}

// Truncate writes truncate.intent before it rewrites segments.idx and removes it after
// the files: a truncation that finished leaves none.
TEST_F(WalRecoveryTest, TruncateLeavesNoIntentBehind) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 6);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_OK_AND_ASSIGN(const TruncateResult result, wal_->Truncate("s", starts[2]));
  EXPECT_EQ(result.first_id, starts[2]);
  EXPECT_THAT(Children(StreamDir("s")), Not(Contains("truncate.intent")));
}

// ironwal 0.6's truncate removed files first: an index naming missing leading segments.
TEST_F(WalRecoveryTest, IndexNamingRemovedLeadingSegmentsIsCorrected) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 6);
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_OK(wal_->Close());
  ASSERT_OK(env_->RemoveFile(SegmentPath("s", starts[0])));
  ASSERT_OK(Open());
  EXPECT_TRUE(Report("s")->index_rewritten);
  EXPECT_THAT(wal_->GetStreamInfo("s"),
              IsOkAndHolds(::testing::Field(&StreamInfo::first_id, starts[1])));
}

// Issue 8 section 4: a start ID appended to segments.idx past the next ID (no such
// segment) was accepted as an empty active segment, and the next append got that ID: a
// permanent gap. Under kError the open refuses; under kTruncate (as `ironwal repair`)
// the entry is dropped, since no file holds its IDs.
TEST_F(WalRecoveryTest, IndexEntryPastTheNextIdIsRefusedOrDropped) {
  Fill("s", 5);
  ASSERT_OK(wal_->Close());
  const std::string idx = JoinPath(StreamDir("s"), "segments.idx");
  WriteFile(idx, EncodeSegmentIndex({0, 500}));
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("IDs [5, 500)")));
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(5u));
  ASSERT_OK(wal_->Close());
  EXPECT_EQ(ReadFile(idx), EncodeSegmentIndex({0}));
}

// Issue 8 section 7: an extra start ID inside the log (segments.idx rewritten as 0 and 5,
// no segment byte touched) hid IDs 5.. and appends reused them. The entry lies inside
// segment 0, so it is dropped: nothing is hidden and no ID is handed out twice.
TEST_F(WalRecoveryTest, IndexEntryInsideASegmentIsDropped) {
  Fill("s", 10);
  ASSERT_OK(wal_->Close());
  WriteFile(JoinPath(StreamDir("s"), "segments.idx"), EncodeSegmentIndex({0, 5}));
  ASSERT_OK(Open());
  for (int i = 0; i < 10; ++i) EXPECT_THAT(wal_->Get("s", i), IsOkAndHolds(Entry(i)));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(10u));
}

// Two sealed segments merged into one file (the second removed): a listed segment is
// missing, but the frames of the one before reach the next, so no ID is lost and the
// open drops the stale entry instead of refusing.
TEST_F(WalRecoveryTest, MergedSegmentFilesLoseNoId) {
  ASSERT_OK(ReopenWithSegmentSize(100));
  Fill("s", 6);
  ASSERT_OK(wal_->Close());
  const std::vector<uint64_t> starts = SegmentStarts("s");
  ASSERT_GE(starts.size(), 3u);
  WriteFile(SegmentPath("s", starts[0]),
            ReadFile(SegmentPath("s", starts[0])) + ReadFile(SegmentPath("s", starts[1])));
  ASSERT_OK(env_->RemoveFile(SegmentPath("s", starts[1])));
  ASSERT_OK(Open());
  for (int i = 0; i < 6; ++i) EXPECT_THAT(wal_->Get("s", i), IsOkAndHolds(Entry(i)));
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(6u));
}

// A power cut at any step of CreateStream(s, 5) leaves the stream absent or created at 5:
// never present at 0 (a directory holding only stream.key, left before segments.idx
// recorded the first ID, used to open as an empty stream from 0).
TEST(WalCreateCrashTest, APowerCutLeavesTheStreamAbsentOrAtItsFirstId) {
  uint64_t absent = 0;
  uint64_t created = 0;
  for (uint64_t k = 0; k < 16; ++k) {
    SCOPED_TRACE(absl::StrCat("power cut at mutating operation ", k, " of CreateStream"));
    SimEnv env;
    WalOptions options;
    options.env = &env;
    options.root = "/w";
    {
      std::unique_ptr<Wal> wal = Wal::Open(options).value();
      env.SetPowerCutAt(env.mutating_ops() + k);
      (void)wal->CreateStream("s", 5);
      CrashOptions crash;
      crash.mode = CrashMode::kDropUnsynced;
      env.Crash(crash);
    }
    std::unique_ptr<Wal> wal = Wal::Open(options).value();
    absl::StatusOr<StreamInfo> info = wal->GetStreamInfo("s");
    absl::StatusOr<std::vector<std::string>> streams = wal->ListStreams();
    ASSERT_THAT(streams, IsOk());
    if (info.ok()) {
      ++created;
      EXPECT_EQ(info->first_id, 5u);
      EXPECT_EQ(info->next_id, 5u);
      EXPECT_THAT(*streams, ::testing::ElementsAre("s"));
      EXPECT_THAT(wal->Append("s", "x"), IsOkAndHolds(5u));
    } else {
      ++absent;
      EXPECT_THAT(info, StatusIs(absl::StatusCode::kNotFound));
      EXPECT_THAT(*streams, ::testing::IsEmpty());
      // The key is free: a creation now starts where it is asked to.
      EXPECT_THAT(wal->CreateStream("s", 7), IsOk());
      EXPECT_THAT(wal->Append("s", "x"), IsOkAndHolds(7u));
    }
  }
  // Both outcomes were reached, so the sweep crossed the creation.
  EXPECT_GT(absent, 0u);
  EXPECT_GT(created, 0u);
}

}  // namespace
}  // namespace ironwal
