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
      ASSERT_EQ(frame->offset, frame->start_id * 40);
      ASSERT_EQ(frame->size, 40u);
    }
  });
  for (uint64_t i = 0; i < 20000; ++i) index.Publish(i, i * 40, 1, 40);
  done = true;
  reader.join();
  EXPECT_EQ(index.frame_count(), 20000u);
  EXPECT_GT(index.MemoryUsage(), 20000u * 8);
}

// The publication protocol (offset_index.h): Publish writes the new end's slot without a
// lock, then the frame count with release; a new chunk (and, when full, a new directory)
// is listed before the count. A reader racing the writer through many chunks must see, at
// every moment, a prefix of the frames with no gap and no partial frame: every frame it
// finds has the ID range and byte range the writer gave it (sizes and entry counts vary,
// so a frame whose end slot were not yet written would show a wrong one), each starts
// where the one before ends, and the published end agrees with the last frame.
uint32_t EntriesOf(uint64_t i) { return static_cast<uint32_t>(1 + i % 3); }
uint64_t SizeOf(uint64_t i) { return 32 + (i * 7) % 50; }

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
  for (uint64_t i = 0; i < 3; ++i) walk.Add(i, i * 40);
  index.PublishAll(std::move(walk), 3, 120);
  for (uint64_t i = 3; i < 200; ++i) index.Publish(i, i * 40, 1, 40);
  OffsetIndex::Frames more;
  for (uint64_t i = 200; i < 205; ++i) more.Add(i, i * 40);
  index.PublishAll(std::move(more), 205, 8200);
  index.Publish(205, 8200, 2, 80);
  EXPECT_EQ(index.frame_count(), 206u);
  EXPECT_EQ(index.end_id(), 207u);
  EXPECT_EQ(index.end_offset(), 8280u);
  for (uint64_t i = 0; i < 205; ++i) {
    ASSERT_THAT(index.Find(i), Optional(IsFrame(i, i * 40, 1, 40))) << i;
    ASSERT_THAT(index.FrameAt(i * 40), Optional(IsFrame(i, i * 40, 1, 40))) << i;
  }
  EXPECT_THAT(index.Find(206), Optional(IsFrame(205, 8200, 2, 80)));
  EXPECT_EQ(index.Find(207), std::nullopt);
  EXPECT_EQ(index.EndOffsetBelow(205), 8200u);
  EXPECT_EQ(index.EndOffsetBelow(207), 8280u);
}

}  // namespace

// What a reader loads: the current directory's chunks (it reads them after, without a lock).
class OffsetIndexTestPeer {
 public:
  struct ChunkAt {
    uint64_t first_slot;
    uint64_t first_id;
    uint64_t first_offset;
    const OffsetIndex::Slot* starts;
    const OffsetIndex::Slot* offsets;

    // The values of the chunk's slot j (slots hold them relative to the chunk).
    uint64_t IdAt(size_t j) const { return first_id + starts[j].value; }
    uint64_t OffsetAt(size_t j) const {
      return first_offset + OffsetIndex::kMinFrameSize * j + offsets[j].value;
    }
  };
  static std::vector<ChunkAt> Chunks(const OffsetIndex& index) {
    const OffsetIndex::View view = index.Load();
    std::vector<ChunkAt> chunks;
    for (size_t k = 0; k < view.chunk_count; ++k) {
      const OffsetIndex::Chunk& chunk = view.chunks[k];
      chunks.push_back(
          {chunk.first_slot, chunk.first_id, chunk.first_offset, chunk.starts, chunk.offsets});
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
  for (uint64_t i = 0; i < 63; ++i) index.Publish(i, i * 40, 1, 40);  // the first chunk, full
  const std::vector<OffsetIndexTestPeer::ChunkAt> before = OffsetIndexTestPeer::Chunks(index);
  ASSERT_EQ(before.size(), 1u);
  const OffsetIndex::Slot* const starts = before[0].starts;
  const OffsetIndex::Slot* const offsets = before[0].offsets;
  const void* const directory = OffsetIndexTestPeer::Directory(index);
  uint64_t next = 63;
  for (; next < 3000; ++next) index.Publish(next, next * 40, 1, 40);
  OffsetIndex::Frames walk;
  for (; next < 3010; ++next) walk.Add(next, next * 40);
  index.PublishAll(std::move(walk), 3010, 3010 * 40);
  index.Publish(3010, 3010 * 40, 1, 40);
  const std::vector<OffsetIndexTestPeer::ChunkAt> after = OffsetIndexTestPeer::Chunks(index);
  ASSERT_GT(after.size(), 4u) << "the directory was replaced at least once";
  ASSERT_NE(OffsetIndexTestPeer::Directory(index), directory);
  EXPECT_EQ(after[0].starts, starts) << "the first chunk moved";
  EXPECT_EQ(after[0].offsets, offsets);
  for (uint64_t i = 0; i <= 63; ++i) {  // the 63 frames and their end
    ASSERT_EQ(before[0].IdAt(i), i);
    ASSERT_EQ(before[0].OffsetAt(i), i * 40);
  }
  // Each chunk starts at the previous one's last used slot, which both hold, and every
  // frame is found in its chunk.
  for (size_t k = 1; k < after.size(); ++k) {
    const OffsetIndexTestPeer::ChunkAt& chunk = after[k];
    ASSERT_GT(chunk.first_slot, after[k - 1].first_slot) << k;
    ASSERT_EQ(chunk.IdAt(0), chunk.first_slot) << k;
    ASSERT_EQ(chunk.OffsetAt(0), chunk.first_slot * 40) << k;
    ASSERT_EQ(after[k - 1].IdAt(chunk.first_slot - after[k - 1].first_slot), chunk.first_slot) << k;
    ASSERT_EQ(after[k - 1].OffsetAt(chunk.first_slot - after[k - 1].first_slot),
              chunk.first_slot * 40)
        << k;
  }
  EXPECT_EQ(index.frame_count(), 3011u);
  for (uint64_t i = 0; i < 3011; ++i) {
    ASSERT_THAT(index.Find(i), Optional(IsFrame(i, i * 40, 1, 40))) << i;
    ASSERT_THAT(index.FrameAt(i * 40), Optional(IsFrame(i, i * 40, 1, 40))) << i;
    ASSERT_EQ(index.EndOffsetBelow(i), i * 40) << i;
  }
  uint64_t visited = 0;
  index.ForEachFrame([&](const FrameLocation& frame) {
    ASSERT_EQ(frame.start_id, visited);
    ASSERT_EQ(frame.offset, visited * 40);
    ASSERT_EQ(frame.size, 40u);
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
  for (uint64_t i = 0; i < 3; ++i) walk.Add(i, i * 40);
  index.PublishAll(std::move(walk), 3, 120);
  const std::vector<OffsetIndexTestPeer::ChunkAt> walked = OffsetIndexTestPeer::Chunks(index);
  ASSERT_EQ(walked.size(), 1u);
  uint64_t next = 3;
  for (; next < 20; ++next) index.Publish(next, next * 40, 1, 40);  // slots 4..20
  ASSERT_EQ(OffsetIndexTestPeer::Chunks(index).size(), 1u) << "the reserved room was not used";
  EXPECT_EQ(walked[0].IdAt(20), 20u);
  EXPECT_EQ(walked[0].OffsetAt(20), 800u);
  index.Publish(next, next * 40, 1, 40);  // slot 21: past the room, a chunk from slot 20
  const std::vector<OffsetIndexTestPeer::ChunkAt> grown = OffsetIndexTestPeer::Chunks(index);
  ASSERT_EQ(grown.size(), 2u);
  EXPECT_EQ(grown[1].first_slot, 20u);
  for (uint64_t i = 0; i <= 20; ++i) {
    ASSERT_THAT(index.Find(i), Optional(IsFrame(i, i * 40, 1, 40))) << i;
  }
}

// Growth copies nothing and leaves little spare: an index built by Publish, and one that
// took a walk's arrays and then grew by one frame, hold at most about a quarter more than
// their frames' slots (8 bytes a frame), and no replaced arrays.
TEST(OffsetIndexTest, GrowthKeepsTheSpareSlotsSmall) {
  constexpr uint64_t kFrames = 100000;
  constexpr size_t kSlotBytes = 2 * sizeof(uint32_t);
  OffsetIndex published(0);
  for (uint64_t i = 0; i < kFrames; ++i) published.Publish(i, i * 40, 1, 40);
  EXPECT_LE(published.MemoryUsage(), kFrames * kSlotBytes * 5 / 4 + 8192);
  EXPECT_GE(published.MemoryUsage(), kFrames * kSlotBytes);

  OffsetIndex walked(0);
  OffsetIndex::Frames walk;
  walk.Reserve(kFrames);
  for (uint64_t i = 0; i < kFrames; ++i) walk.Add(i, i * 40);
  walked.PublishAll(std::move(walk), kFrames, kFrames * 40);
  const size_t after_walk = walked.MemoryUsage();
  walked.Publish(kFrames, kFrames * 40, 1, 40);
  EXPECT_LE(walked.MemoryUsage(), after_walk + kFrames * kSlotBytes / 4 + 8192);
  EXPECT_THAT(walked.Find(kFrames), Optional(IsFrame(kFrames, kFrames * 40, 1, 40)));
  EXPECT_THAT(walked.Find(kFrames - 1), Optional(IsFrame(kFrames - 1, (kFrames - 1) * 40, 1, 40)));
}

// Find for frames of several entries guesses the frame from the ID's place among the
// index's IDs (exact when every frame holds as many), then searches: every ID of uniform
// batches, of batches of mixed sizes, and of a log whose frames hold 1 to 1,000 entries
// is found in its own frame, by Publish and by a walk, across chunks.
TEST(OffsetIndexTest, FramesOfSeveralEntriesAreFoundWhereverTheGuessLands) {
  for (const auto& entries_of : std::vector<uint32_t (*)(uint64_t)>{
           [](uint64_t) -> uint32_t { return 10; },
           [](uint64_t i) -> uint32_t { return static_cast<uint32_t>(1 + i % 7); },
           [](uint64_t i) -> uint32_t { return i % 50 == 3 ? 1000 : 2; }}) {
    std::vector<FrameLocation> frames;
    uint64_t id = 500, offset = 0;
    for (uint64_t i = 0; i < 700; ++i) {
      frames.push_back(FrameLocation{id, offset, entries_of(i), 40 + i % 9});
      id = frames.back().end_id();
      offset = frames.back().end_offset();
    }
    OffsetIndex published(500);
    OffsetIndex walked(500);
    OffsetIndex::Frames walk;
    for (const FrameLocation& f : frames) {
      published.Publish(f.start_id, f.offset, f.entry_count, f.size);
      walk.Add(f.start_id, f.offset);
    }
    walked.PublishAll(std::move(walk), id, offset);
    for (const OffsetIndex* index : {&published, &walked}) {
      for (const FrameLocation& f : frames) {
        for (uint64_t in = f.start_id; in < f.end_id(); ++in) {
          ASSERT_THAT(index->Find(in),
                      Optional(IsFrame(f.start_id, f.offset, f.entry_count, f.size)))
              << in;
        }
      }
      EXPECT_EQ(index->Find(id), std::nullopt);
      EXPECT_EQ(index->Find(499), std::nullopt);
    }
  }
}

// Slots hold 32-bit values relative to their chunk. Frames as large as the format allows
// (2^32 - 1 entries; a header and 2^32 - 1 bytes) soon leave that range: each value that
// does not fit starts a chunk of its own, by Publish and in a walk's parts, and every
// search decodes the right 64-bit IDs and offsets across them.
constexpr uint64_t kMostEntries = UINT32_MAX;
constexpr uint64_t kLargestFrame = OffsetIndex::kMinFrameSize + UINT32_MAX;

// Frame i of a log mixing the largest frames with small ones.
FrameLocation HugeOrSmall(uint64_t i, uint64_t start_id, uint64_t offset) {
  const bool huge = i % 3 != 1;
  return FrameLocation{start_id, offset, static_cast<uint32_t>(huge ? kMostEntries : 1 + i % 5),
                       huge ? kLargestFrame - i % 2 : OffsetIndex::kMinFrameSize + i};
}

std::vector<FrameLocation> HugeFrames(uint64_t first_id, size_t count) {
  std::vector<FrameLocation> frames;
  uint64_t id = first_id, offset = 0;
  for (size_t i = 0; i < count; ++i) {
    frames.push_back(HugeOrSmall(i, id, offset));
    id = frames.back().end_id();
    offset = frames.back().end_offset();
  }
  return frames;
}

void ExpectFindsEach(const OffsetIndex& index, const std::vector<FrameLocation>& frames) {
  ASSERT_EQ(index.frame_count(), frames.size());
  for (const FrameLocation& f : frames) {
    const auto is_f = Optional(IsFrame(f.start_id, f.offset, f.entry_count, f.size));
    ASSERT_THAT(index.Find(f.start_id), is_f) << f.start_id;
    ASSERT_THAT(index.Find(f.end_id() - 1), is_f) << f.start_id;
    ASSERT_THAT(index.FrameAt(f.offset), is_f) << f.offset;
    ASSERT_EQ(index.FrameAt(f.offset + 1), std::nullopt) << f.offset;
    ASSERT_EQ(index.EndOffsetBelow(f.start_id), f.offset);
    ASSERT_EQ(index.EndOffsetBelow(f.end_id()), f.end_offset());
  }
  EXPECT_EQ(index.end_id(), frames.back().end_id());
  EXPECT_EQ(index.end_offset(), frames.back().end_offset());
  EXPECT_EQ(index.Find(frames.back().end_id()), std::nullopt);
  size_t visited = 0;
  index.ForEachFrame([&](const FrameLocation& f) {
    const FrameLocation& want = frames[visited++];
    ASSERT_EQ(f.start_id, want.start_id);
    ASSERT_EQ(f.offset, want.offset);
    ASSERT_EQ(f.size, want.size);
  });
  EXPECT_EQ(visited, frames.size());
}

TEST(OffsetIndexTest, ValuesBeyond32BitsStartChunksOfTheirOwn) {
  const std::vector<FrameLocation> frames = HugeFrames(7, 40);
  OffsetIndex published(7);
  for (const FrameLocation& f : frames)
    published.Publish(f.start_id, f.offset, f.entry_count, f.size);
  EXPECT_GT(OffsetIndexTestPeer::Chunks(published).size(), 20u);
  ExpectFindsEach(published, frames);

  // A walk of the same frames: in parts, published at once; then the same frames walked
  // in two halves joined by Append (a split scan).
  OffsetIndex walked(7);
  OffsetIndex::Frames walk;
  walk.Reserve(frames.size());
  for (const FrameLocation& f : frames) walk.Add(f.start_id, f.offset);
  EXPECT_EQ(walk.size(), frames.size());
  walked.PublishAll(std::move(walk), frames.back().end_id(), frames.back().end_offset());
  EXPECT_GT(OffsetIndexTestPeer::Chunks(walked).size(), 20u);
  ExpectFindsEach(walked, frames);

  for (size_t split : {size_t{1}, size_t{2}, size_t{3}, size_t{20}, size_t{39}}) {
    SCOPED_TRACE(split);
    OffsetIndex joined(7);
    OffsetIndex::Frames first, second;
    for (size_t i = 0; i < frames.size(); ++i) {
      (i < split ? first : second).Add(frames[i].start_id, frames[i].offset);
    }
    first.Append(std::move(second));
    EXPECT_EQ(first.size(), frames.size());
    joined.PublishAll(std::move(first), frames.back().end_id(), frames.back().end_offset());
    ExpectFindsEach(joined, frames);
  }
}

// Small frames whose IDs and offsets are far past 2^32 fit as long as each chunk spans
// less: the values are relative to the chunk.
TEST(OffsetIndexTest, FarIdsAndOffsetsAreRelativeToTheirChunk) {
  constexpr uint64_t kFar = uint64_t{1} << 40;
  OffsetIndex index(kFar);
  index.Publish(kFar, 0, 1, kLargestFrame);  // two of the largest frames: offsets past 2^33
  index.Publish(kFar + 1, kLargestFrame, 1, kLargestFrame);
  const uint64_t base = 2 * kLargestFrame;
  auto is_small = [&](uint64_t i) {
    return Optional(IsFrame(kFar + 2 + 2 * i, base + 50 * i, 2, 50));
  };
  OffsetIndex::Frames walk;
  for (uint64_t i = 0; i < 100; ++i) walk.Add(kFar + 2 + 2 * i, base + 50 * i);
  index.PublishAll(std::move(walk), kFar + 202, base + 5000);
  for (uint64_t i = 100; i < 300; ++i) index.Publish(kFar + 2 + 2 * i, base + 50 * i, 2, 50);
  // The second large frame's end does not fit the first chunk (2^33 - 2 bytes past its
  // first slot): a chunk of its own; then the walk's part and the chunks after it.
  const std::vector<OffsetIndexTestPeer::ChunkAt> chunks = OffsetIndexTestPeer::Chunks(index);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].first_slot, 1u);
  EXPECT_EQ(chunks[1].OffsetAt(1), base);
  for (uint64_t i = 0; i < 300; ++i) {
    ASSERT_THAT(index.Find(kFar + 2 + 2 * i + 1), is_small(i)) << i;
    ASSERT_THAT(index.FrameAt(base + 50 * i), is_small(i)) << i;
  }
  EXPECT_THAT(index.Find(kFar + 1), Optional(IsFrame(kFar + 1, kLargestFrame, 1, kLargestFrame)));
  EXPECT_EQ(index.Find(kFar - 1), std::nullopt);
  EXPECT_EQ(index.FrameAt(base - 50), std::nullopt);
}

TEST(OffsetIndexDeathTest, AFrameIsAtLeastItsHeaderAndAtMostTheFormatsLargest) {
  OffsetIndex index(0);
  EXPECT_DEATH(index.Publish(0, 0, 1, OffsetIndex::kMinFrameSize - 1), "a frame is its 32-byte");
  EXPECT_DEATH(index.Publish(0, 0, 1, kLargestFrame + 1), "a frame is its 32-byte");
  index.Publish(0, 0, 1, kLargestFrame);
  EXPECT_EQ(index.end_offset(), kLargestFrame);
  // A walk's frame smaller than a header dies when it is added, one too large when its
  // end is.
  EXPECT_DEATH(
      {
        OffsetIndex::Frames too_small;
        too_small.Add(1, kLargestFrame);
        too_small.Add(2, kLargestFrame + 31);
      },
      "frames out of order");
  OffsetIndex::Frames too_large;
  too_large.Add(1, kLargestFrame);
  EXPECT_DEATH(index.PublishAll(std::move(too_large), 2, 2 * kLargestFrame + 1),
               "larger than the format allows");
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
