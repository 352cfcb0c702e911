// ReaderCache (LRU of open segment readers) and WriterBudget (CLOCK over open writers).
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/writer_budget.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::shared_ptr<SegmentReader> Reader(MemEnv* env, uint64_t start) {
  const std::string path = "/r" + std::to_string(start);
  EXPECT_TRUE(WriteFileAtomically(env, path, "").ok());
  auto reader = SegmentReader::OpenActive(env, path, std::make_shared<OffsetIndex>(start),
                                          SegmentReaderOptions());
  EXPECT_TRUE(reader.ok()) << reader.status();
  return *reader;
}

TEST(ReaderCacheTest, EvictsTheLeastRecentlyUsed) {
  MemEnv env;
  ReaderCache cache(2);
  int owner;
  cache.Insert(&owner, 1, Reader(&env, 1));
  cache.Insert(&owner, 2, Reader(&env, 2));
  ASSERT_NE(cache.Lookup(&owner, 1), nullptr);  // 1 is now the most recent
  cache.Insert(&owner, 3, Reader(&env, 3));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Lookup(&owner, 1), nullptr);
  EXPECT_EQ(cache.Lookup(&owner, 2), nullptr);
  EXPECT_NE(cache.Lookup(&owner, 3), nullptr);
  int other;
  EXPECT_EQ(cache.Lookup(&other, 1), nullptr);
  cache.Erase(&owner, 1);
  EXPECT_EQ(cache.Lookup(&owner, 1), nullptr);
}

TEST(ReaderCacheTest, AnEvictedReaderStaysUsableByItsHolder) {
  MemEnv env;
  ReaderCache cache(1);
  int owner;
  std::shared_ptr<SegmentReader> held = Reader(&env, 1);
  cache.Insert(&owner, 1, held);
  cache.Insert(&owner, 2, Reader(&env, 2));
  EXPECT_EQ(cache.Lookup(&owner, 1), nullptr);
  EXPECT_EQ(held->start_id(), 1u);
  EXPECT_OK(held->file().Size().status());
}

// Hits after the first are answered by the thread's hint, without the lock (issue 17,
// W6), and still count as uses: the least recently used goes first.
TEST(ReaderCacheTest, HintHitsKeepTheLeastRecentlyUsedOrder) {
  MemEnv env;
  ReaderCache cache(2);
  int owner;
  cache.Insert(&owner, 1, Reader(&env, 1));
  cache.Insert(&owner, 2, Reader(&env, 2));
  ASSERT_NE(cache.Lookup(&owner, 2), nullptr);  // locked: leaves a hint
  ASSERT_NE(cache.Lookup(&owner, 1), nullptr);  // locked: leaves a hint
  const uint64_t hits = ReaderCache::ThreadHintHits();
  ASSERT_NE(cache.Lookup(&owner, 2), nullptr);  // by the hint: 2 is now the most recent
  EXPECT_EQ(ReaderCache::ThreadHintHits(), hits + 1);
  cache.Insert(&owner, 3, Reader(&env, 3));
  EXPECT_EQ(cache.Lookup(&owner, 1), nullptr);
  EXPECT_NE(cache.Lookup(&owner, 2), nullptr);
  EXPECT_NE(cache.Lookup(&owner, 3), nullptr);
}

// A hint names a slot only while the cache is unchanged, and holds no reader: an erased,
// replaced or evicted reader is never returned, and an evicted one closes when its last
// user lets go.
TEST(ReaderCacheTest, AHintNeverReturnsAnErasedReplacedOrEvictedReader) {
  MemEnv env;
  ReaderCache cache(1);
  int owner;
  std::weak_ptr<SegmentReader> first;
  {
    std::shared_ptr<SegmentReader> reader = Reader(&env, 1);
    first = reader;
    cache.Insert(&owner, 1, std::move(reader));
  }
  const uint64_t hits = ReaderCache::ThreadHintHits();
  ASSERT_NE(cache.Lookup(&owner, 1), nullptr);
  ASSERT_NE(cache.Lookup(&owner, 1), nullptr);
  EXPECT_EQ(ReaderCache::ThreadHintHits(), hits + 1);
  cache.Erase(&owner, 1);
  EXPECT_EQ(cache.Lookup(&owner, 1), nullptr);
  EXPECT_TRUE(first.expired());
  std::shared_ptr<SegmentReader> second = Reader(&env, 1);
  cache.Insert(&owner, 1, second);
  EXPECT_EQ(cache.Lookup(&owner, 1), second);  // locked: a new hint
  cache.Insert(&owner, 1, Reader(&env, 1));    // replaced
  EXPECT_NE(cache.Lookup(&owner, 1), second);
  std::weak_ptr<SegmentReader> third = cache.Lookup(&owner, 1);
  ASSERT_NE(cache.Lookup(&owner, 1), nullptr);  // by the hint
  cache.Insert(&owner, 2, Reader(&env, 2));     // evicts 1
  EXPECT_EQ(cache.Lookup(&owner, 1), nullptr);
  EXPECT_TRUE(third.expired());
  ReaderCache another(1);  // another cache: this thread's hints are not its own
  EXPECT_EQ(another.Lookup(&owner, 2), nullptr);
}

// Threads looking up and inserting readers of more segments than the cache holds (as
// Stream::ReaderFor does on a miss): every hit is the segment asked for, and the cache
// never holds more than its capacity. Run under TSan by .ci/run.
TEST(ReaderCacheTest, ConcurrentLookupsWithEvictionReturnTheSegmentAskedFor) {
  MemEnv env;
  ReaderCache cache(3);
  int owner;
  constexpr int kSegments = 8;
  std::vector<std::shared_ptr<SegmentReader>> readers;
  for (int i = 0; i < kSegments; ++i) readers.push_back(Reader(&env, i));
  std::atomic<int> wrong{0};
  std::atomic<uint64_t> hint_hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Random rng(100 + t);
      for (int i = 0; i < 20000; ++i) {
        // Mostly a thread's own two segments (hint hits), sometimes any (evictions).
        const uint64_t start =
            rng.OneIn(8) ? rng.Uniform(kSegments) : (2 * t + rng.Uniform(2)) % kSegments;
        std::shared_ptr<SegmentReader> reader = cache.Lookup(&owner, start);
        if (reader == nullptr) {
          cache.Insert(&owner, start, readers[start]);
        } else if (reader->start_id() != start) {
          wrong.fetch_add(1);
        }
      }
      hint_hits.fetch_add(ReaderCache::ThreadHintHits());
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0) << "threads seeded 100 to 103";
  EXPECT_LE(cache.size(), 3u);
  EXPECT_GT(hint_hits.load(), 0u);
}

// A sealed segment's reader over an index of `frames` one-entry frames of 40 bytes.
std::shared_ptr<SegmentReader> SealedReader(MemEnv* env, uint64_t start, int frames) {
  const std::string path = "/s" + std::to_string(start);
  EXPECT_TRUE(WriteFileAtomically(env, path, "").ok());
  auto index = std::make_shared<OffsetIndex>(start);
  for (int i = 0; i < frames; ++i) index->Publish(start + i, 40 * i, 1, 40);
  auto reader = SegmentReader::OpenSealedIndexed(env, path, index, SegmentReaderOptions());
  EXPECT_TRUE(reader.ok()) << reader.status();
  return *reader;
}

TEST(ReaderCacheTest, EvictedSealedReadersLeaveTheirIndexOnABoundedShelf) {
  MemEnv env;
  const uint64_t one = SealedReader(&env, 0, 100)->index().MemoryUsage();
  ReaderCache cache(1, /*index_bytes=*/2 * one + one / 2);  // room for two indexes
  int owner;
  std::shared_ptr<SegmentReader> first = SealedReader(&env, 1000, 100);
  cache.Insert(&owner, 1000, first);
  cache.Insert(&owner, 2000, SealedReader(&env, 2000, 100));
  EXPECT_EQ(cache.ShelvedIndex(&owner, 1000), first->shared_index());
  cache.Insert(&owner, 3000, SealedReader(&env, 3000, 100));
  cache.Insert(&owner, 4000, Reader(&env, 4000));  // an active reader's index is not shelved
  cache.Insert(&owner, 5000, Reader(&env, 5000));
  EXPECT_EQ(cache.shelved_count(), 2u);
  EXPECT_LE(cache.shelved_bytes(), 2 * one + one / 2);
  EXPECT_EQ(cache.ShelvedIndex(&owner, 1000), nullptr);  // the least recently used went
  EXPECT_NE(cache.ShelvedIndex(&owner, 2000), nullptr);
  EXPECT_NE(cache.ShelvedIndex(&owner, 3000), nullptr);
  EXPECT_EQ(cache.ShelvedIndex(&owner, 4000), nullptr);
  cache.Erase(&owner, 2000);  // its file changes: the index goes too
  EXPECT_EQ(cache.ShelvedIndex(&owner, 2000), nullptr);
  EXPECT_EQ(cache.shelved_count(), 1u);
}

TEST(WriterBudgetTest, NamesVictimsBeyondTheCapacityButNeverTheOpener) {
  WriterBudget budget(2);
  WriterBudget::Member a, b, c;
  EXPECT_THAT(budget.Opened(&a), IsEmpty());
  EXPECT_THAT(budget.Opened(&b), IsEmpty());
  const std::vector<WriterBudget::Member*> victims = budget.Opened(&c);
  ASSERT_EQ(victims.size(), 1u);
  EXPECT_NE(victims[0], &c);
  EXPECT_EQ(budget.open_count(), 2u);
}

TEST(WriterBudgetTest, RecentlyTouchedMembersSurviveTheClock) {
  for (const bool touch_b : {false, true}) {
    SCOPED_TRACE(touch_b ? "b touched" : "nothing touched");
    WriterBudget budget(3);
    WriterBudget::Member a, b, c, d, e;
    budget.Opened(&a);
    budget.Opened(&b);
    budget.Opened(&c);
    // Every bit is set: the hand clears a, b and c and takes a.
    EXPECT_THAT(budget.Opened(&d), ElementsAre(&a));
    // b and c are unreferenced now; d just opened. A write to b gives it a second chance.
    if (touch_b) b.Touch();
    EXPECT_THAT(budget.Opened(&e), ElementsAre(touch_b ? &c : &b));
  }
}

TEST(WriterBudgetTest, ClosedAndReinstateKeepTheCount) {
  WriterBudget budget(1);
  WriterBudget::Member a, b;
  budget.Opened(&a);
  EXPECT_THAT(budget.Opened(&b), ElementsAre(&a));
  budget.Reinstate(&a);  // a could not close
  EXPECT_EQ(budget.open_count(), 2u);
  budget.Closed(&a);
  budget.Closed(&a);
  EXPECT_EQ(budget.open_count(), 1u);
}

TEST(WriterBudgetTest, BufferedNamesTheOldestPastTheLimit) {
  WriterBudget budget(8, /*buffer_limit=*/100);
  WriterBudget::Member a, b, c;
  EXPECT_THAT(budget.Buffered(&a, 60), IsEmpty());
  EXPECT_THAT(budget.Buffered(&b, 30), IsEmpty());
  // 110 buffered: a, the oldest, holds more than the excess of 10.
  EXPECT_THAT(budget.Buffered(&c, 20), ElementsAre(&a));
  EXPECT_EQ(budget.buffered_total(), 110u);
  // Shrinking names no one, even over the limit.
  EXPECT_THAT(budget.Buffered(&c, 10), IsEmpty());
}

TEST(WriterBudgetTest, AMemberIsNamedToOneCallerUntilReleased) {
  WriterBudget budget(8, /*buffer_limit=*/100);
  WriterBudget::Member a, b, c, d, e;
  budget.Buffered(&a, 60);
  budget.Buffered(&b, 30);
  ASSERT_THAT(budget.Buffered(&c, 20), ElementsAre(&a));
  // Another thread's growth while a is being flushed: a's 60 bytes are on their way
  // out, so 160 buffered is within the limit plus them, and no one is named (before,
  // every such growth named a again and queued on its lock).
  EXPECT_THAT(budget.Buffered(&d, 50), IsEmpty());
  // Past the limit plus a's bytes: the next oldest after a covers the excess of 20.
  EXPECT_THAT(budget.Buffered(&e, 20), ElementsAre(&b));
  // a wrote its buffer and reported it, then was released: it counts no more, and b's
  // 30 are still on their way out, so 120 is within the limit plus them.
  EXPECT_THAT(budget.Buffered(&a, 0), IsEmpty());
  budget.Released(&a);
  EXPECT_EQ(budget.buffered_total(), 120u);
  EXPECT_THAT(budget.Buffered(&c, 25), IsEmpty());
  // b could not write (a full disk): released with its bytes, it is the oldest again
  // and is named again by the next growth past the limit.
  budget.Released(&b);
  EXPECT_THAT(budget.Buffered(&d, 55), ElementsAre(&b));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
