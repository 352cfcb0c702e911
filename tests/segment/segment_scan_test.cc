// One test per row of the decision table in ironwal/segment/segment_scan.h, and the
// sealed-segment walk.
#include "ironwal/segment/segment_scan.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/segment/segment_test_util.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::AddFrame;
using ::ironwal::testing::AddStampedFrame;
using ::ironwal::testing::Frames;
using ::ironwal::testing::OpenRead;
using ::ironwal::testing::StatusIs;
using ::ironwal::testing::WriteFileAtomicallyOrFail;
using ::testing::HasSubstr;

class SegmentScanTest : public ::testing::Test {
 protected:
  // Scans `bytes` as the active segment starting at `start`.
  SegmentScan Scan(const std::string& bytes, uint64_t start = 0, ScanOptions options = {}) {
    WriteFileAtomicallyOrFail(&env_, "/seg.wal", bytes);
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

TEST_F(SegmentScanTest, RowC_JunkAfterTheLastFrameIsTorn) {
  const std::string bytes = Frames(0, 2);
  const SegmentScan scan = Scan(bytes + std::string(4096, 'j'));
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'C');
  EXPECT_EQ(scan.valid_end, bytes.size());
}

TEST_F(SegmentScanTest, RowZ_ZerosToTheEndAreACleanEnd) {
  const std::string bytes = Frames(5, 2);
  const SegmentScan scan = Scan(bytes + std::string(3 << 20, '\0'), 5);  // > one read chunk
  EXPECT_EQ(scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.row, 'Z');
  EXPECT_EQ(scan.valid_end, bytes.size());
  EXPECT_EQ(scan.file_size, bytes.size() + (3 << 20));
  EXPECT_EQ(scan.end_id, 7u);
  EXPECT_EQ(index_->end_id(), 7u);
  EXPECT_THAT(scan.reason, HasSubstr("zero tail"));
}

TEST_F(SegmentScanTest, RowZ_ZerosShorterThanAHeaderAreACleanEnd) {
  const std::string bytes = Frames(0, 2);
  const SegmentScan scan = Scan(bytes + std::string(10, '\0'));
  EXPECT_EQ(scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.row, 'Z');
  EXPECT_EQ(scan.valid_end, bytes.size());
}

TEST_F(SegmentScanTest, RowZ_AnAllZeroSegmentIsEmptyAndClean) {
  const SegmentScan scan = Scan(std::string(1 << 20, '\0'), 5);
  EXPECT_EQ(scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.row, 'Z');
  EXPECT_EQ(scan.valid_end, 0u);
  EXPECT_EQ(scan.end_id, 5u);
}

TEST_F(SegmentScanTest, RowZ_ZerosPastAKnownFrontierAreACleanEnd) {
  const std::string bytes = Frames(0, 3);
  const SegmentScan scan = Scan(bytes + std::string(4096, '\0'), 0, Frontier(bytes.size()));
  EXPECT_EQ(scan.outcome, ScanOutcome::kClean);
  EXPECT_EQ(scan.row, 'Z');
}

// One non-zero byte anywhere in the zeros, even the last one, is damage as before.
TEST_F(SegmentScanTest, RowZ_ANonZeroByteInTheZerosIsNotAZeroTail) {
  const std::string bytes = Frames(0, 2);
  for (const size_t at : {size_t{0}, size_t{100}, size_t{(2 << 20) - 1}}) {
    std::string tail(2 << 20, '\0');
    tail[at] = 0x01;
    const SegmentScan scan = Scan(bytes + tail);
    EXPECT_EQ(scan.outcome, ScanOutcome::kTorn) << "non-zero byte at " << at;
    EXPECT_EQ(scan.row, 'C') << "non-zero byte at " << at;
    EXPECT_EQ(scan.valid_end, bytes.size());
  }
}

// Zeros where the durable frontier says synced frames were are missing data (row H).
TEST_F(SegmentScanTest, RowZ_ZerosBeforeTheFrontierAreCorruptNotAZeroTail) {
  const std::string four = Frames(0, 4);
  const std::string two = Frames(0, 2);
  const SegmentScan scan = Scan(two + std::string(4096, '\0'), 0, Frontier(four.size()));
  EXPECT_EQ(scan.outcome, ScanOutcome::kCorrupt);
  EXPECT_EQ(scan.row, 'H');
  EXPECT_EQ(scan.valid_end, two.size());
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

// Frames this library writes carry a stamp (frame.h). The scans' files are "/seg.wal" and
// "/sealed.wal": their stream tag is that of the directory name "".
const uint8_t kTag = StreamTag("");
const uint8_t kOtherTag = StreamTag("another stream");

// `count` stamped frames from ID 0, written as kStrict does with groups of one: each
// after everything before it was synced.
std::string StrictFrames(int count, uint8_t tag = kTag) {
  std::string bytes;
  for (int i = 0; i < count; ++i) AddStampedFrame(&bytes, i, bytes.size(), tag);
  return bytes;
}

TEST_F(SegmentScanTest, RowK_DamageBeforeAFrontierALaterFrameProvesIsCorrupt) {
  std::string bytes = StrictFrames(6);
  const uint64_t frame = bytes.size() / 6;
  bytes[2 * frame + 37] ^= 0x01;  // payload of frame 2; durable.pos says nothing was synced
  const SegmentScan scan = Scan(bytes, 0, Frontier(0));
  EXPECT_EQ(scan.outcome, ScanOutcome::kCorrupt);
  EXPECT_EQ(scan.row, 'K');
  EXPECT_EQ(scan.valid_end, 2 * frame);
  EXPECT_EQ(scan.proving_frame_offset, 3 * frame);
  EXPECT_EQ(scan.proving_frame_frontier, 3 * frame);
  EXPECT_THAT(ScanRowMeaning(scan), HasSubstr("synced"));
  // The same damage in frames whose stamps claim nothing was synced: a hole (row I).
  std::string unsynced;
  for (int i = 0; i < 6; ++i) AddStampedFrame(&unsynced, i, 0, kTag);
  unsynced[2 * frame + 37] ^= 0x01;
  EXPECT_EQ(Scan(unsynced, 0, Frontier(0)).row, 'I');
}

TEST_F(SegmentScanTest, RowK_TheProofMayLieBeyondMoreDamage) {
  std::string bytes;
  std::vector<uint64_t> at;
  for (int i = 0; i < 7; ++i) {
    // Frames 3-5 were one group (written when 3 started); 6 came after it was synced.
    const uint64_t synced = i <= 3 ? bytes.size() : i < 6 ? at[3] : bytes.size();
    at.push_back(AddStampedFrame(&bytes, i, synced, kTag));
  }
  bytes[at[3] + 37] ^= 0x01;  // X
  bytes[at[5] + 37] ^= 0x01;  // a second damaged frame before the proof
  const SegmentScan scan = Scan(bytes, 0, Frontier(0));
  EXPECT_EQ(scan.row, 'K');
  EXPECT_EQ(scan.valid_end, at[3]);
  EXPECT_EQ(scan.next_valid_offset, at[4]);
  EXPECT_EQ(scan.proving_frame_offset, at[6]);
}

TEST_F(SegmentScanTest, RowK_OnlyThisStreamsStampsProveAnything) {
  std::string bytes;
  for (int i = 0; i < 3; ++i) AddStampedFrame(&bytes, i, bytes.size(), kTag);
  const uint64_t damaged = bytes.size();
  bytes[2 * (damaged / 3) + 37] ^= 0x01;
  for (int i = 3; i < 6; ++i) AddStampedFrame(&bytes, i, bytes.size(), kOtherTag);
  const SegmentScan scan = Scan(bytes, 0, Frontier(0));
  EXPECT_EQ(scan.outcome, ScanOutcome::kTorn);
  EXPECT_EQ(scan.row, 'I');
}

TEST_F(SegmentScanTest, VerifiedStampsProveTheFrontier) {
  std::string bytes;
  for (int i = 0; i < 4; ++i) AddStampedFrame(&bytes, i, bytes.size() / 2, kTag);
  const uint64_t last = 3 * (bytes.size() / 4);
  const SegmentScan scan = Scan(bytes, 0, Frontier(0));
  EXPECT_EQ(scan.row, 'A');
  EXPECT_EQ(scan.proven_frontier, last / 2);
  // ironwal 0.6's frames (no stamp) prove nothing.
  EXPECT_EQ(Scan(Frames(0, 4), 0, Frontier(0)).proven_frontier, 0u);
}

TEST_F(SegmentScanTest, RowL_SegmentWrittenForAnotherStreamIsTheWrongSegment) {
  const SegmentScan scan = Scan(StrictFrames(3, kOtherTag));
  EXPECT_EQ(scan.outcome, ScanOutcome::kWrongSegment);
  EXPECT_EQ(scan.row, 'L');
  EXPECT_THAT(scan.reason, HasSubstr("/seg.wal belongs to another stream"));
  EXPECT_EQ(scan.valid_end, 0u);
  EXPECT_EQ(scan.end_id, 0u);
  EXPECT_EQ(index_->frame_count(), 0u) << "nothing of another stream is published";
}

TEST_F(SegmentScanTest, RowL_OneDamagedStampIsIgnored) {
  // A flip in one frame's reserved bytes implies a random tag: that frame's stamp says
  // nothing, its data is intact. Likewise in a segment of ironwal 0.6's frames.
  for (std::string bytes : {StrictFrames(3), Frames(0, 3)}) {
    bytes[bytes.size() / 3 + format::kStampCheckOffset] ^= 0x10;
    const SegmentScan scan = Scan(bytes);
    EXPECT_EQ(scan.row, 'A');
    EXPECT_EQ(scan.end_id, 3u);
  }
}

// The scan verifies the frames at hand (in the mapping or the read-ahead buffer) on a fast
// path and the rest one by one (issue 17, W8). A CRC error in any frame -- the first, the
// last, one cut by a buffer boundary -- is found at that frame's offset, through a
// mapping and through pread with a small buffer, and only the frames before it are
// published.
TEST_F(SegmentScanTest, ACorruptFrameAnywhereIsFoundAtItsOffset) {
  std::string bytes;
  std::vector<uint64_t> offsets;
  for (int i = 0; i < 120; ++i) {
    // Payloads of 1 to 700 bytes: boundaries of the 4 KiB buffer fall inside frames, and
    // payloads on both sides of the one-pass CRC's limit.
    offsets.push_back(AddFrame(&bytes, i, {std::string(1 + (i * 37) % 700, 'a' + i % 26)}));
  }
  for (const bool mmap : {false, true}) {
    for (size_t k = 0; k < offsets.size(); ++k) {
      std::string bad = bytes;
      bad[offsets[k] + format::kFrameHeaderSize + 2] ^= 0x10;  // a payload byte
      WriteFileAtomicallyOrFail(&env_, "/seg.wal", bad);
      OffsetIndex index(0);
      auto file = OpenRead(&env_, "/seg.wal", mmap);
      ScanOptions options;
      options.buffer_size = 4096;
      ASSERT_OK_AND_ASSIGN(const SegmentScan scan, ScanActiveSegment(*file, 0, options, &index));
      const bool last = k + 1 == offsets.size();
      SCOPED_TRACE(absl::StrCat(mmap ? "mmap" : "pread", " frame ", k));
      EXPECT_EQ(scan.row, last ? 'E' : 'G');
      EXPECT_EQ(scan.outcome, last ? ScanOutcome::kTorn : ScanOutcome::kCorrupt);
      EXPECT_THAT(scan.reason, HasSubstr("frame crc mismatch"));
      EXPECT_EQ(scan.valid_end, offsets[k]);
      EXPECT_EQ(scan.end_id, k);
      if (!last) {
        EXPECT_EQ(scan.next_valid_offset, offsets[k + 1]);
      }
      EXPECT_EQ(index.frame_count(), k);
      EXPECT_EQ(index.end_id(), k);
      EXPECT_EQ(index.end_offset(), offsets[k]);
    }
  }
}

class IndexSealedSegmentTest : public SegmentScanTest {
 protected:
  absl::Status Index(const std::string& bytes, uint64_t start, std::optional<uint64_t> end) {
    WriteFileAtomicallyOrFail(&env_, "/sealed.wal", bytes);
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

TEST_F(IndexSealedSegmentTest, SegmentWrittenForAnotherStreamIsDataLoss) {
  EXPECT_THAT(Index(StrictFrames(3, kOtherTag), 0, 3),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("/sealed.wal@0: segment /sealed.wal belongs to another stream")));
  EXPECT_EQ(index_->frame_count(), 0u);
  ASSERT_OK(Index(StrictFrames(3), 0, 3));
  EXPECT_EQ(index_->frame_count(), 3u);
}

TEST_F(IndexSealedSegmentTest, CheckSegmentStreamAppliesRowLAlone) {
  WriteFileAtomicallyOrFail(&env_, "/sealed.wal",
                            StrictFrames(3, kOtherTag) + std::string(40, '\0'));
  EXPECT_THAT(CheckSegmentStream(*OpenRead(&env_, "/sealed.wal"), 4096),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("belongs to another stream")));
  WriteFileAtomicallyOrFail(&env_, "/sealed.wal", StrictFrames(3) + std::string(40, '\0'));
  EXPECT_OK(CheckSegmentStream(*OpenRead(&env_, "/sealed.wal"), 4096));
  WriteFileAtomicallyOrFail(&env_, "/sealed.wal",
                            Frames(7, 3));  // ironwal 0.6's frames: nothing to tell
  EXPECT_OK(CheckSegmentStream(*OpenRead(&env_, "/sealed.wal"), 4096));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
