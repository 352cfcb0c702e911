#include "ironwal/index/offset_index.h"

#include <atomic>
#include <cstdint>
#include <iostream>
#include <thread>
#include <utility>
#include <vector>

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

// The publication protocol (offset_index.h): Publish writes the new end's slot without a
// lock, then the frame count with release; a new chunk (and, when full, a new directory)
// is listed before the count. A reader racing the writer through many chunks must see, at
// every moment, a prefix of the frames with no gap and no partial frame: every frame it
// finds has the ID range and byte range the writer gave it (sizes and entry counts vary,
// so a frame whose end slot were not yet written would show a wrong one), each starts
// where the one before ends, and the published end agrees with the last frame.
uint32_t EntriesOf(uint64_t i) { return static_cast<uint32_t>(1 + i % 3); }
uint64_t SizeOf(uint64_t i) { return 30 + (i * 7) % 50; }

TEST(OffsetIndexTest, AReaderRacingTheWriterSeesWholeFramesWithoutGaps) {
  constexpr uint64_t kStart = 1000;
  constexpr uint64_t kFrames = 20000;  // 64-slot chunks first, then about 20 more
  OffsetIndex index(kStart);
  // The expected frames, computed before the race (the reader only reads them).
  std::vector<FrameLocation> expected(kFrames);
  uint64_t id = kStart;
  uint64_t offset = 0;
  for (uint64_t i = 0; i < kFrames; ++i) {
    expected[i] = FrameLocation{id, offset, EntriesOf(i), SizeOf(i)};
    id += EntriesOf(i);
    offset += SizeOf(i);
  }
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checks{0};
  std::atomic<bool> reader_stopped{false};
  std::thread reader([&] {
    struct Stopped {
      std::atomic<bool>* flag;
      ~Stopped() { flag->store(true); }
    } stopped{&reader_stopped};  // also when an ASSERT returns early
    uint64_t probe = 0;
    while (!done.load()) {
      // The end is stored after the count: a reader that sees an end finds the frames
      // below it counted.
      const uint64_t end = index.end_id();
      const size_t count = index.frame_count();
      ASSERT_LE(end, count == 0 ? kStart : expected[count - 1].end_id()) << count;
      if (count == 0) continue;
      // The last counted frame and one more spot (walking the whole prefix over time).
      const FrameLocation& last = expected[count - 1];
      ASSERT_THAT(index.Find(last.end_id() - 1),
                  Optional(IsFrame(last.start_id, last.offset, last.entry_count, last.size)));
      ASSERT_THAT(index.FrameAt(last.offset),
                  Optional(IsFrame(last.start_id, last.offset, last.entry_count, last.size)));
      const FrameLocation& some = expected[probe % count];
      ASSERT_THAT(index.Find(some.start_id),
                  Optional(IsFrame(some.start_id, some.offset, some.entry_count, some.size)));
      ASSERT_EQ(index.EndOffsetBelow(some.end_id()), some.end_offset());
      ASSERT_EQ(index.EndOffsetBelow(some.start_id), some.offset);
      // Past what it has seen counted, at most the frames published since.
      const uint64_t published_end = index.EndOffsetBelow(UINT64_MAX);
      ASSERT_GE(published_end, last.end_offset());
      probe = probe * 31 + 17;
      checks.fetch_add(1);
    }
  });
  for (uint64_t i = 0; i < kFrames; ++i) {
    const FrameLocation& f = expected[i];
    index.Publish(f.start_id, f.offset, f.entry_count, f.size);
    // Every 16 frames the writer waits for one more reader check, so that the reader's
    // checks are spread over the whole growth (every chunk and directory added) however
    // the threads are scheduled: a spin on the reader's progress, not a sleep.
    if (i % 16 == 0) {
      while (checks.load() < i / 16 && !reader_stopped.load()) {
      }
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(index.frame_count(), kFrames);
  EXPECT_EQ(index.end_id(), id);
  EXPECT_EQ(index.end_offset(), offset);
  for (uint64_t i = 0; i < kFrames; ++i) {
    const FrameLocation& f = expected[i];
    ASSERT_THAT(index.Find(f.end_id() - 1),
                Optional(IsFrame(f.start_id, f.offset, f.entry_count, f.size)))
        << i;
  }
  std::cout << checks.load() << " reader checks during the race\n";
}

// Publish after PublishAll made a walk's arrays a chunk, and PublishAll after Publish added
// chunks (slots past the end uninitialised): the index stays whole.
TEST(OffsetIndexTest, PublishAndPublishAllAlternate) {
  OffsetIndex index(0);
  OffsetIndex::Frames walk;
  walk.Reserve(3);
  for (uint64_t i = 0; i < 3; ++i) walk.Add(i, i * 10);
  index.PublishAll(std::move(walk), 3, 30);
  for (uint64_t i = 3; i < 200; ++i) index.Publish(i, i * 10, 1, 10);
  OffsetIndex::Frames more;
  for (uint64_t i = 200; i < 205; ++i) more.Add(i, i * 10);
  index.PublishAll(std::move(more), 205, 2050);
  index.Publish(205, 2050, 2, 20);
  EXPECT_EQ(index.frame_count(), 206u);
  EXPECT_EQ(index.end_id(), 207u);
  EXPECT_EQ(index.end_offset(), 2070u);
  for (uint64_t i = 0; i < 205; ++i) {
    ASSERT_THAT(index.Find(i), Optional(IsFrame(i, i * 10, 1, 10))) << i;
    ASSERT_THAT(index.FrameAt(i * 10), Optional(IsFrame(i, i * 10, 1, 10))) << i;
  }
  EXPECT_THAT(index.Find(206), Optional(IsFrame(205, 2050, 2, 20)));
  EXPECT_EQ(index.Find(207), std::nullopt);
  EXPECT_EQ(index.EndOffsetBelow(205), 2050u);
  EXPECT_EQ(index.EndOffsetBelow(207), 2070u);
}

}  // namespace

// What a reader loads: the current directory's chunks (it reads them after, without a lock).
class OffsetIndexTestPeer {
 public:
  struct ChunkAt {
    uint64_t first_slot;
    const OffsetIndex::Slot* starts;
    const OffsetIndex::Slot* offsets;
  };
  static std::vector<ChunkAt> Chunks(const OffsetIndex& index) {
    const OffsetIndex::View view = index.Load();
    std::vector<ChunkAt> chunks;
    for (size_t k = 0; k < view.chunk_count; ++k) {
      chunks.push_back({view.chunks[k].first_slot, view.chunks[k].starts, view.chunks[k].offsets});
    }
    return chunks;
  }
  static const void* Directory(const OffsetIndex& index) {
    return index.directory_.load(std::memory_order_acquire);
  }
};

namespace {

// Readers take no lock, so the index may grow between a reader's loading the chunks'
// addresses and its reading them: a chunk, once listed, never moves and is never freed,
// and a directory replaced when it filled stays readable. The chunks a reader loaded
// before the publisher added many more (by Publish and by PublishAll) still hold the
// frames it may read, at the same addresses; under ASan (CI runs this test with it) a
// freed chunk or directory would be reported as a use after free.
TEST(OffsetIndexTest, AChunkNeverMoves) {
  OffsetIndex index(0);
  for (uint64_t i = 0; i < 63; ++i) index.Publish(i, i * 10, 1, 10);  // the first chunk, full
  const std::vector<OffsetIndexTestPeer::ChunkAt> before = OffsetIndexTestPeer::Chunks(index);
  ASSERT_EQ(before.size(), 1u);
  const OffsetIndex::Slot* const starts = before[0].starts;
  const OffsetIndex::Slot* const offsets = before[0].offsets;
  const void* const directory = OffsetIndexTestPeer::Directory(index);
  uint64_t next = 63;
  for (; next < 3000; ++next) index.Publish(next, next * 10, 1, 10);
  OffsetIndex::Frames walk;
  for (; next < 3010; ++next) walk.Add(next, next * 10);
  index.PublishAll(std::move(walk), 3010, 30100);
  index.Publish(3010, 30100, 1, 10);
  const std::vector<OffsetIndexTestPeer::ChunkAt> after = OffsetIndexTestPeer::Chunks(index);
  ASSERT_GT(after.size(), 4u) << "the directory was replaced at least once";
  ASSERT_NE(OffsetIndexTestPeer::Directory(index), directory);
  EXPECT_EQ(after[0].starts, starts) << "the first chunk moved";
  EXPECT_EQ(after[0].offsets, offsets);
  for (uint64_t i = 0; i <= 63; ++i) {  // the 63 frames and their end
    ASSERT_EQ(starts[i].value, i);
    ASSERT_EQ(offsets[i].value, i * 10);
  }
  // Each chunk starts at the previous one's last used slot, which both hold, and every
  // frame is found in its chunk.
  for (size_t k = 1; k < after.size(); ++k) {
    const OffsetIndexTestPeer::ChunkAt& chunk = after[k];
    ASSERT_GT(chunk.first_slot, after[k - 1].first_slot) << k;
    ASSERT_EQ(chunk.starts[0].value, chunk.first_slot) << k;
    ASSERT_EQ(after[k - 1].starts[chunk.first_slot - after[k - 1].first_slot].value,
              chunk.first_slot)
        << k;
  }
  EXPECT_EQ(index.frame_count(), 3011u);
  for (uint64_t i = 0; i < 3011; ++i) {
    ASSERT_THAT(index.Find(i), Optional(IsFrame(i, i * 10, 1, 10))) << i;
    ASSERT_THAT(index.FrameAt(i * 10), Optional(IsFrame(i, i * 10, 1, 10))) << i;
    ASSERT_EQ(index.EndOffsetBelow(i), i * 10) << i;
  }
  uint64_t visited = 0;
  index.ForEachFrame([&](const FrameLocation& frame) {
    ASSERT_EQ(frame.start_id, visited);
    ASSERT_EQ(frame.offset, visited * 10);
    ASSERT_EQ(frame.size, 10u);
    ++visited;
  });
  EXPECT_EQ(visited, 3011u);
}

// A walk reserved more than it found: the chunk its arrays become keeps that room, and
// the writer's next frames go into it (no new chunk) until it is full.
TEST(OffsetIndexTest, PublishFillsTheRoomAWalkReserved) {
  OffsetIndex index(0);
  OffsetIndex::Frames walk;
  walk.Reserve(20);  // 21 slots: 3 frames and their end leave 17
  for (uint64_t i = 0; i < 3; ++i) walk.Add(i, i * 10);
  index.PublishAll(std::move(walk), 3, 30);
  const std::vector<OffsetIndexTestPeer::ChunkAt> walked = OffsetIndexTestPeer::Chunks(index);
  ASSERT_EQ(walked.size(), 1u);
  uint64_t next = 3;
  for (; next < 20; ++next) index.Publish(next, next * 10, 1, 10);  // slots 4..20
  ASSERT_EQ(OffsetIndexTestPeer::Chunks(index).size(), 1u) << "the reserved room was not used";
  EXPECT_EQ(walked[0].starts[20].value, 20u);
  EXPECT_EQ(walked[0].offsets[20].value, 200u);
  index.Publish(next, next * 10, 1, 10);  // slot 21: past the room, a chunk from slot 20
  const std::vector<OffsetIndexTestPeer::ChunkAt> grown = OffsetIndexTestPeer::Chunks(index);
  ASSERT_EQ(grown.size(), 2u);
  EXPECT_EQ(grown[1].first_slot, 20u);
  for (uint64_t i = 0; i <= 20; ++i) {
    ASSERT_THAT(index.Find(i), Optional(IsFrame(i, i * 10, 1, 10))) << i;
  }
}

// Growth copies nothing and leaves little spare: an index built by Publish, and one that
// took a walk's arrays and then grew by one frame, hold at most about a quarter more than
// their frames' slots (16 bytes a frame), and no replaced arrays.
TEST(OffsetIndexTest, GrowthKeepsTheSpareSlotsSmall) {
  constexpr uint64_t kFrames = 100000;
  constexpr size_t kSlotBytes = 2 * sizeof(uint64_t);
  OffsetIndex published(0);
  for (uint64_t i = 0; i < kFrames; ++i) published.Publish(i, i * 10, 1, 10);
  EXPECT_LE(published.MemoryUsage(), kFrames * kSlotBytes * 5 / 4 + 8192);
  EXPECT_GE(published.MemoryUsage(), kFrames * kSlotBytes);

  OffsetIndex walked(0);
  OffsetIndex::Frames walk;
  walk.Reserve(kFrames);
  for (uint64_t i = 0; i < kFrames; ++i) walk.Add(i, i * 10);
  walked.PublishAll(std::move(walk), kFrames, kFrames * 10);
  const size_t after_walk = walked.MemoryUsage();
  walked.Publish(kFrames, kFrames * 10, 1, 10);
  EXPECT_LE(walked.MemoryUsage(), after_walk + kFrames * kSlotBytes / 4 + 8192);
  EXPECT_THAT(walked.Find(kFrames), Optional(IsFrame(kFrames, kFrames * 10, 1, 10)));
  EXPECT_THAT(walked.Find(kFrames - 1), Optional(IsFrame(kFrames - 1, (kFrames - 1) * 10, 1, 10)));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
