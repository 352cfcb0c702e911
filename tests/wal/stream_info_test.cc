// GetStreamInfo(stream, StreamInfoDetail::kPayloadSizes): the entry bytes before and after
// compression, from the frame headers, with what is still in a kAsync buffer, and DataLoss
// where the IDs of the frames do not continue.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

class StreamInfoTest : public ::ironwal::testing::MemWalTest {};

TEST_F(StreamInfoTest, BasicDetailLeavesThePayloadSizesAtZero) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "abc"));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo("s"));
  EXPECT_EQ(info.logical_bytes, 0u);
  EXPECT_EQ(info.stored_payload_bytes, 0u);
  ASSERT_OK_AND_ASSIGN(const StreamInfo same, wal_->GetStreamInfo("s", StreamInfoDetail::kBasic));
  EXPECT_EQ(same.logical_bytes, 0u);
  EXPECT_EQ(same.next_id, 1u);
}

TEST_F(StreamInfoTest, RawFramesStoreWhatTheyHold) {
  options_.max_segment_size = 200;  // Several segments: every one is walked.
  ASSERT_OK(Open());
  for (int i = 0; i < 12; ++i) ASSERT_OK(wal_->Append("s", std::string(30, 'a' + i)));
  ASSERT_OK(wal_->AppendBatch("s", {"x", "yy"}));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info,
                       wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes));
  EXPECT_GT(info.segment_count, 2u);
  EXPECT_EQ(info.logical_bytes, 12u * (4 + 30) + (4 + 1) + (4 + 2));
  EXPECT_EQ(info.stored_payload_bytes, info.logical_bytes);
}

TEST_F(StreamInfoTest, CompressedFramesStoreLess) {
  options_.compression = Compression::kLz4;
  options_.min_compression_size = 0;
  ASSERT_OK(Open());
  for (int i = 0; i < 10; ++i) ASSERT_OK(wal_->Append("s", std::string(1000, 'z')));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info,
                       wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes));
  EXPECT_EQ(info.logical_bytes, 10u * (4 + 1000));
  EXPECT_GT(info.stored_payload_bytes, 0u);
  EXPECT_LT(info.stored_payload_bytes, info.logical_bytes / 4);
}

TEST_F(StreamInfoTest, AsyncFramesStillBufferedAreCounted) {
  options_.sync_mode = SyncMode::kAsync;
  options_.write_buffer_size = 1 << 20;  // Nothing reaches the file before the walk.
  ASSERT_OK(Open());
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "entry"));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info,
                       wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes));
  EXPECT_EQ(info.next_id, 3u);
  EXPECT_EQ(info.logical_bytes, 3u * (4 + 5));
}

TEST_F(StreamInfoTest, FramesBelowATrimAreNotCounted) {
  ASSERT_OK(Open());
  for (int i = 0; i < 5; ++i) ASSERT_OK(wal_->Append("s", "12345"));
  ASSERT_OK(wal_->TrimFront("s", 3));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info,
                       wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes));
  EXPECT_EQ(info.first_id, 3u);
  EXPECT_EQ(info.logical_bytes, 2u * (4 + 5));
}

TEST_F(StreamInfoTest, AStreamCreatedEmptyHasNoPayload) {
  ASSERT_OK(Open());
  // No segment file exists until the first write.
  ASSERT_OK(wal_->CreateStream("s", 5));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info,
                       wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes));
  EXPECT_EQ(info.first_id, 5u);
  EXPECT_EQ(info.next_id, 5u);
  EXPECT_EQ(info.logical_bytes, 0u);
  ASSERT_OK(wal_->Append("s", "abc"));
  ASSERT_OK_AND_ASSIGN(const StreamInfo after,
                       wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes));
  EXPECT_EQ(after.logical_bytes, after.stored_payload_bytes);
  EXPECT_GT(after.logical_bytes, 0u);
}

TEST_F(StreamInfoTest, UnknownStreamIsNotFound) {
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->GetStreamInfo("nope", StreamInfoDetail::kPayloadSizes),
              StatusIs(absl::StatusCode::kNotFound));
}

// A sealed segment whose second frame header is damaged: the walk stops there, and the
// next segment starts past the IDs it has seen.
TEST_F(StreamInfoTest, IdsThatDoNotContinueAreDataLoss) {
  options_.max_segment_size = 120;  // Two 46-byte frames per segment.
  ASSERT_OK(Open());
  for (int i = 0; i < 6; ++i) ASSERT_OK(wal_->Append("s", "0123456789"));
  ASSERT_OK_AND_ASSIGN(const StreamInfo before, wal_->GetStreamInfo("s"));
  ASSERT_GT(before.segment_count, 2u);
  ASSERT_OK(wal_->Close());
  wal_.reset();
  FlipByte(SegmentPath("s", 0), 46, 0x7F);  // The magic of frame 1.
  options_.read_only = true;
  ASSERT_OK(Open());  // A read-only open publishes the frames before the damage.
  EXPECT_THAT(wal_->GetStreamInfo("s", StreamInfoDetail::kPayloadSizes),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr(SegmentPath("s", 2) + "@0: the frame holds IDs [2, 3), but "
                                                       "the IDs before it end at 1")));
}

}  // namespace
}  // namespace ironwal
