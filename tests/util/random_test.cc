#include "ironwal/util/random.h"

#include <set>

#include "gtest/gtest.h"

namespace ironwal {
namespace internal {
namespace {

TEST(RandomTest, SameSeedSameSequence) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, SequenceIsPinnedAcrossPlatforms) {
  // xoshiro256** seeded by splitmix64(0): a change here changes every seeded test.
  Random rng(0);
  const uint64_t first = rng.Next();
  Random again(0);
  EXPECT_EQ(first, again.Next());
  EXPECT_EQ(first, 0x99EC5F36CB75F2B4ull);
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  Random rng(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng.Uniform(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(rng.Uniform(0), 0u);
  EXPECT_EQ(rng.Uniform(1), 0u);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng.Range(5, 7);
    ASSERT_GE(v, 5u);
    ASSERT_LE(v, 7u);
  }
}

TEST(RandomTest, OneInIsRoughlyRight) {
  Random rng(11);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += rng.OneIn(4);
  EXPECT_GT(hits, 23000);
  EXPECT_LT(hits, 27000);
  EXPECT_TRUE(rng.OneIn(1));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
