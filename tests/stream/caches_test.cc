// ReaderCache (LRU of open segment readers) and WriterBudget (CLOCK over open writers).
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/writer_budget.h"
#include "ironwal/testing/status_matchers.h"

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

// A sealed segment's reader over an index of `frames` one-entry frames of 10 bytes.
std::shared_ptr<SegmentReader> SealedReader(MemEnv* env, uint64_t start, int frames) {
  const std::string path = "/s" + std::to_string(start);
  EXPECT_TRUE(WriteFileAtomically(env, path, "").ok());
  auto index = std::make_shared<OffsetIndex>(start);
  for (int i = 0; i < frames; ++i) index->Publish(start + i, 10 * i, 1, 10);
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

}  // namespace
}  // namespace internal
}  // namespace ironwal
