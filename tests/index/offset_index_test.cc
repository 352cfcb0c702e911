#include "ironwal/index/offset_index.h"

#include <atomic>
#include <thread>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace internal {
namespace {

using ::testing::Optional;

MATCHER_P4(IsFrame, start, offset, count, size, "") {
  return arg.start_id == static_cast<uint64_t>(start) &&
         arg.offset == static_cast<uint64_t>(offset) &&
         arg.entry_count == static_cast<uint32_t>(count) && arg.size == static_cast<uint64_t>(size);
}

TEST(OffsetIndexTest, EmptyIndexFindsNothing) {
  OffsetIndex index(100);
  EXPECT_EQ(index.end_id(), 100u);
  EXPECT_EQ(index.end_offset(), 0u);
  EXPECT_EQ(index.Find(100), std::nullopt);
  EXPECT_EQ(index.frame_count(), 0u);
}

TEST(OffsetIndexTest, FindsTheFrameHoldingEachId) {
  OffsetIndex index(10);
  index.Publish(10, 0, 1, 36);   // [10, 11)
  index.Publish(11, 36, 3, 50);  // [11, 14)
  index.Publish(14, 86, 2, 40);  // [14, 16)
  EXPECT_EQ(index.end_id(), 16u);
  EXPECT_EQ(index.end_offset(), 126u);
  EXPECT_THAT(index.Find(10), Optional(IsFrame(10, 0, 1, 36)));
  EXPECT_THAT(index.Find(12), Optional(IsFrame(11, 36, 3, 50)));
  EXPECT_THAT(index.Find(13), Optional(IsFrame(11, 36, 3, 50)));
  EXPECT_THAT(index.Find(15), Optional(IsFrame(14, 86, 2, 40)));
  EXPECT_EQ(index.Find(9), std::nullopt);
  EXPECT_EQ(index.Find(16), std::nullopt);
  EXPECT_THAT(index.FrameAt(36), Optional(IsFrame(11, 36, 3, 50)));
  EXPECT_EQ(index.FrameAt(37), std::nullopt);
}

// Where a reader bounded by an ID stops: before the frame holding it.
TEST(OffsetIndexTest, EndOffsetBelowStopsBeforeTheFrameHoldingTheId) {
  OffsetIndex index(10);
  EXPECT_EQ(index.EndOffsetBelow(10), 0u);
  EXPECT_EQ(index.EndOffsetBelow(99), 0u);
  index.Publish(10, 0, 1, 36);   // [10, 11)
  index.Publish(11, 36, 3, 50);  // [11, 14)
  index.Publish(14, 86, 2, 40);  // [14, 16)
  EXPECT_EQ(index.EndOffsetBelow(5), 0u);
  EXPECT_EQ(index.EndOffsetBelow(10), 0u);
  EXPECT_EQ(index.EndOffsetBelow(11), 36u);
  EXPECT_EQ(index.EndOffsetBelow(12), 36u);  // inside [11, 14): that frame is left out
  EXPECT_EQ(index.EndOffsetBelow(14), 86u);
  EXPECT_EQ(index.EndOffsetBelow(15), 86u);
  EXPECT_EQ(index.EndOffsetBelow(16), 126u);
  EXPECT_EQ(index.EndOffsetBelow(1000), 126u);
}

TEST(OffsetIndexDeathTest, FramesMustBePublishedBackToBack) {
  OffsetIndex index(0);
  index.Publish(0, 0, 2, 40);
  EXPECT_DEATH(index.Publish(3, 40, 1, 36), "frame 3 after 2");
  EXPECT_DEATH(index.Publish(2, 41, 1, 36), "frame at 41 after 40");
  EXPECT_DEATH(index.Publish(2, 40, 0, 36), "IRONWAL_CHECK failed");
}

// A walk's frames published at once: taken over by an empty index, appended to one that
// has frames; the frames' sizes and entry counts follow from where the next one starts.
TEST(OffsetIndexTest, PublishAllPublishesAWalksFrames) {
  OffsetIndex index(10);
  OffsetIndex::Frames first;
  first.Reserve(1000);  // far too much: given back
  first.Add(10, 0);
  first.Add(11, 36);
  index.PublishAll(std::move(first), /*end_id=*/14, /*end_offset=*/86);
  EXPECT_EQ(index.end_id(), 14u);
  EXPECT_EQ(index.end_offset(), 86u);
  EXPECT_LT(index.MemoryUsage(), sizeof(OffsetIndex) + 200 * sizeof(uint64_t));
  OffsetIndex::Frames more;
  more.Add(14, 86);
  index.PublishAll(std::move(more), 16, 126);
  index.Publish(16, 126, 1, 36);
  EXPECT_EQ(index.frame_count(), 4u);
  EXPECT_THAT(index.Find(10), Optional(IsFrame(10, 0, 1, 36)));
  EXPECT_THAT(index.Find(13), Optional(IsFrame(11, 36, 3, 50)));
  EXPECT_THAT(index.Find(15), Optional(IsFrame(14, 86, 2, 40)));
  EXPECT_THAT(index.Find(16), Optional(IsFrame(16, 126, 1, 36)));
  index.PublishAll(OffsetIndex::Frames(), 99, 999);  // nothing to publish: unchanged
  EXPECT_EQ(index.end_id(), 17u);
}

TEST(OffsetIndexDeathTest, PublishAllChecksTheFramesContinueAndIncrease) {
  OffsetIndex index(0);
  index.Publish(0, 0, 2, 40);
  OffsetIndex::Frames gap;
  gap.Add(3, 40);
  EXPECT_DEATH(index.PublishAll(std::move(gap), 4, 76), "frame 3 after 2");
  OffsetIndex::Frames unordered;
  unordered.Add(2, 40);
  unordered.Add(2, 76);
  EXPECT_DEATH(index.PublishAll(std::move(unordered), 4, 112), "frames out of order");
  OffsetIndex::Frames past_end;
  past_end.Add(2, 40);
  EXPECT_DEATH(index.PublishAll(std::move(past_end), 2, 76), "frames out of order");
}

TEST(OffsetIndexTest, ReadersNeverSeeAFrameBeforeItIsPublished) {
  OffsetIndex index(0);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      const uint64_t end = index.end_id();
      if (end == 0) continue;
      // Everything below a published end is findable and consistent.
      auto frame = index.Find(end - 1);
      ASSERT_TRUE(frame.has_value()) << end;
      ASSERT_EQ(frame->offset, frame->start_id * 10);
      ASSERT_EQ(frame->size, 10u);
    }
  });
  for (uint64_t i = 0; i < 20000; ++i) index.Publish(i, i * 10, 1, 10);
  done = true;
  reader.join();
  EXPECT_EQ(index.frame_count(), 20000u);
  EXPECT_GT(index.MemoryUsage(), 20000u * 16);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
