// The router against ironwal 0.6.3: every routing vector (205 keys x 9 shard counts, with
// the 64-bit hash before the modulo) and every key the sharded fixtures used.
#include "ironwal/sharded/router.h"

#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace sharded {
namespace {

using ::ironwal::testing::LoadRoutingVectors;
using ::ironwal::testing::LoadShardedFixture;
using ::ironwal::testing::RoutingVector;
using ::ironwal::testing::ShardedFixture;
using ::ironwal::testing::ShardedFixtureNames;

TEST(RouterTest, MatchesEveryRoutingVectorOfIronwal06) {
  ASSERT_OK_AND_ASSIGN(const std::vector<RoutingVector> vectors, LoadRoutingVectors());
  ASSERT_EQ(vectors.size(), 205u);
  for (const RoutingVector& v : vectors) {
    SCOPED_TRACE(absl::CEscape(v.key));
    EXPECT_EQ(RouteHash(v.key), v.hash);
    ASSERT_EQ(v.shards.size(), 9u);
    for (const auto& [count, shard] : v.shards) EXPECT_EQ(RouteKey(v.key, count), shard) << count;
  }
}

TEST(RouterTest, MatchesTheFixturesRouting) {
  for (const std::string& name : ShardedFixtureNames()) {
    ASSERT_OK_AND_ASSIGN(const ShardedFixture fixture, LoadShardedFixture(name));
    ASSERT_FALSE(fixture.routing.empty());
    for (const auto& [key, shard] : fixture.routing) {
      EXPECT_EQ(RouteKey(key, fixture.shard_count), shard) << name << " " << absl::CEscape(key);
    }
  }
}

TEST(RouterTest, HashesTheLengthPrefix) {
  // Without the u64 length prefix SipHash-1-3("") would be another value; 0.6's is this.
  EXPECT_EQ(RouteHash(""), 0xbd60acb658c79e45ull);
  EXPECT_NE(RouteHash(std::string(1, '\0')), RouteHash(""));
}

TEST(RouterTest, ShardNames) {
  EXPECT_EQ(ShardName(0), "shard_00");
  EXPECT_EQ(ShardName(7), "shard_07");
  EXPECT_EQ(ShardName(12), "shard_12");
  EXPECT_EQ(ShardName(100), "shard_100");
  EXPECT_EQ(ParseShardName("shard_07"), 7u);
  EXPECT_EQ(ParseShardName("shard_100"), 100u);
  EXPECT_EQ(ParseShardName("shard_7"), std::nullopt);
  EXPECT_EQ(ParseShardName("shard_007"), std::nullopt);
  EXPECT_EQ(ParseShardName("shard_x1"), std::nullopt);
  EXPECT_EQ(ParseShardName("orders"), std::nullopt);
}

}  // namespace
}  // namespace sharded
}  // namespace ironwal
