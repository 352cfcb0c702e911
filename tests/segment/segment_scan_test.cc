// One test per row of the decision table in ironwal/segment/segment_scan.h, and the
// sealed-segment walk.
#include "ironwal/segment/segment_scan.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/segment/segment_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::AddFrame;
using ::ironwal::testing::Frames;
using ::ironwal::testing::OpenRead;
using ::ironwal::testing::Put;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

class SegmentScanTest : public ::testing::Test {
 protected:
  // Scans `bytes` as the active segment starting at `start`.
  SegmentScan Scan(const std::string& bytes, uint64_t start = 0, ScanOptions options = {}) {
    Put(&env_, "/seg.wal", bytes);
    index_ = std::make_unique<OffsetIndex>(start);
    auto file = OpenRead(&env_, "/seg.wal");
    absl::StatusOr<SegmentScan> scan = ScanActiveSegment(*file, start, options, index_.get());
    EXPECT_TRUE(scan.ok()) << scan.status();
    return scan.ok() ? *scan : SegmentScan();
  }
  static ScanOptions Frontier(uint64_t offset) {
    ScanOptions o;
    o.durable_offset_known = true;
    o.durable_offset = offset;
    return o;
  }

  MemEnv env_;
  std::unique_ptr<OffsetIndex> index_;
};

TEST_F(SegmentScanTest, RowA_CleanEndKeepsEverything) {
  const std::string bytes = Frames(5, 4);
  const SegmentScan scan = Scan(bytes, 5);
  EXPECT_EQ(scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.row, 'A');
  EXPECT_EQ(scan.valid_end, bytes.size());
  EXPECT_EQ(scan.end_id, 9u);
  EXPECT_EQ(index_->end_id(), 9u);
  EXPECT_EQ(index_->frame_count(), 4u);
}

TEST_F(SegmentScanTest, RowA_EmptySegmentIsClean) {
  const SegmentScan scan = Scan("", 5);
  EXPECT_EQ(scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.end_id, 5u);
}

TEST_F(SegmentScanTest, RowB_HeaderCutShortIsTorn) {
  const std::string bytes = Frames(0, 3);
  const SegmentScan scan = Scan(bytes.substr(0, bytes.size() - 30));  // 7 header bytes left
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'B');
  EXPECT_EQ(scan.end_id, 2u);
}

TEST_F(SegmentScanTest, RowC_ZerosAfterTheLastFrameAreTorn) {
  const std::string bytes = Frames(0, 2);
  const SegmentScan scan = Scan(bytes + std::string(4096, '\0'));
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'C');
  EXPECT_EQ(scan.valid_end, bytes.size());
}

TEST_F(SegmentScanTest, RowD_PayloadRunningPastTheEndIsTornNotExtended) {
  const std::string bytes = Frames(0, 2);
  const SegmentScan scan = Scan(bytes.substr(0, bytes.size() - 1));
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'D');
  EXPECT_EQ(scan.end_id, 1u);
  EXPECT_EQ(scan.file_size, bytes.size() - 1);
}

TEST_F(SegmentScanTest, RowE_BadCrcOnTheLastFrameIsTorn) {
  std::string bytes = Frames(0, 3);
  bytes[bytes.size() - 1] ^= 0x20;
  const SegmentScan scan = Scan(bytes);
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'E');
  EXPECT_THAT(scan.reason, HasSubstr("crc"));
}

TEST_F(SegmentScanTest, RowF_FrameWhoseIdsDoNotContinueIsTorn) {
  std::string bytes = Frames(0, 2);
  AddFrame(&bytes, 40, {"stale"});
  const SegmentScan scan = Scan(bytes);
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'F');
  EXPECT_EQ(scan.end_id, 2u);
}

TEST_F(SegmentScanTest, RowG_BadFrameWithValidFramesAfterAndNoFrontierIsCorrupt) {
  std::string bytes = Frames(0, 4);
  const uint64_t second = bytes.find("e1") - 32 - 4;
  bytes[second + 40] ^= 0x01;  // payload of frame 1
  const SegmentScan scan = Scan(bytes);
  EXPECT_EQ(scan.outcome, ScanOutcome::kCorrupt);
  EXPECT_EQ(scan.row, 'G');
  ASSERT_TRUE(scan.next_valid_offset.has_value());
  EXPECT_GT(*scan.next_valid_offset, second);
}

TEST_F(SegmentScanTest, RowH_DamageBeforeTheFrontierIsCorrupt) {
  std::string bytes = Frames(0, 4);
  bytes[bytes.size() - 1] ^= 0x01;  // the last frame, but it was synced
  const SegmentScan scan = Scan(bytes, 0, Frontier(bytes.size()));
  EXPECT_EQ(scan.outcome, ScanOutcome::kCorrupt);
  EXPECT_EQ(scan.row, 'H');
}

TEST_F(SegmentScanTest, RowH_FileEndingBeforeTheFrontierIsCorrupt) {
  const std::string bytes = Frames(0, 4);
  const std::string two = Frames(0, 2);  // ends on a frame boundary
  const SegmentScan scan = Scan(two, 0, Frontier(bytes.size()));
  EXPECT_EQ(scan.outcome, ScanOutcome::kCorrupt);
  EXPECT_EQ(scan.row, 'H');
}

TEST_F(SegmentScanTest, RowI_HolePastTheFrontierWithValidFramesAfterIsTorn) {
  std::string bytes = Frames(0, 6);
  const uint64_t third = bytes.find("e2") - 32 - 4;
  std::fill(bytes.begin() + third, bytes.begin() + third + 20, '\0');
  const SegmentScan scan = Scan(bytes, 0, Frontier(0));
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'I');
  EXPECT_TRUE(scan.next_valid_offset.has_value());
  EXPECT_EQ(scan.end_id, 2u);
}

TEST_F(SegmentScanTest, RowJ_FirstFrameAtAnotherIdIsTheWrongSegment) {
  const SegmentScan scan = Scan(Frames(100, 2), /*start=*/0);
  EXPECT_EQ(scan.outcome, ScanOutcome::kWrongSegment);
  EXPECT_EQ(scan.row, 'J');
}

class IndexSealedSegmentTest : public SegmentScanTest {
 protected:
  absl::Status Index(const std::string& bytes, uint64_t start, std::optional<uint64_t> end) {
    Put(&env_, "/sealed.wal", bytes);
    index_ = std::make_unique<OffsetIndex>(start);
    auto file = OpenRead(&env_, "/sealed.wal");
    return IndexSealedSegment(*file, start, end, 4096, index_.get());
  }
};

TEST_F(IndexSealedSegmentTest, CleanRunIsIndexed) {
  std::string bytes = Frames(10, 3);
  AddFrame(&bytes, 13, {"a", "b"});
  ASSERT_OK(Index(bytes, 10, 15));
  EXPECT_EQ(index_->end_id(), 15u);
  EXPECT_EQ(index_->frame_count(), 4u);
}

// What was expected is said in the frame's terms (it said "frame holds IDs [11, 12),
// expected 11" for a frame that does start at 11).
TEST_F(IndexSealedSegmentTest, AMisfitFrameSaysWhatWasExpectedInTheSameTerms) {
  EXPECT_THAT(Index(Frames(10, 3), 10, 11),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("frame holds IDs [11, 12), past the next segment, which "
                                 "starts at ID 11")));
  EXPECT_THAT(Index(Frames(11, 2), 10, 13),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("frame holds IDs [11, 12), expected a frame starting at ID 10")));
}

TEST_F(IndexSealedSegmentTest, AnythingElseIsDataLossNamingTheFileAndOffset) {
  const std::string bytes = Frames(10, 3);
  EXPECT_THAT(Index(bytes, 10, 14),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("next segment starts at 14")));
  EXPECT_THAT(Index(bytes.substr(0, bytes.size() - 3), 10, 13),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("/sealed.wal@")));
  EXPECT_THAT(Index(bytes + std::string(40, '\0'), 10, 13),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));
  EXPECT_THAT(Index(Frames(11, 2), 10, 13), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace ironwal
