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
}  // namespace ironwal
