#include "ironwal/index/segment_index.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SegmentIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_.CreateDir("/s")); }
  MemEnv env_;
};

TEST_F(SegmentIndexTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadSegmentIndex(&env_, "/s"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SegmentIndexTest, RewriteThenAppendThenRead) {
  ASSERT_OK(RewriteSegmentIndex(&env_, "/s", {0}));
  ASSERT_OK(AppendSegmentIndex(&env_, "/s", 29));
  ASSERT_OK(AppendSegmentIndex(&env_, "/s", 55));
  EXPECT_THAT(ReadSegmentIndex(&env_, "/s"), IsOkAndHolds(ElementsAre(0u, 29u, 55u)));
  ASSERT_OK(RewriteSegmentIndex(&env_, "/s", {55}));
  EXPECT_THAT(ReadSegmentIndex(&env_, "/s"), IsOkAndHolds(ElementsAre(55u)));
  EXPECT_THAT(env_.GetChildren("/s"), IsOkAndHolds(ElementsAre("segments.idx")));
}

TEST_F(SegmentIndexTest, MalformedFileIsDataLossNamingIt) {
  ASSERT_OK(WriteFileAtomically(&env_, "/s/segments.idx", "12345"));
  EXPECT_THAT(ReadSegmentIndex(&env_, "/s"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("/s/segments.idx")));
}

TEST(SegmentIndexDurabilityTest, RewriteIsAtomicAndDurable) {
  SimEnv env;
  ASSERT_OK(env.CreateDir("/s"));
  ASSERT_OK(env.SyncDir("/"));
  ASSERT_OK(RewriteSegmentIndex(&env, "/s", {0, 7}));
  env.Crash(CrashOptions());  // drop everything unsynced
  EXPECT_THAT(ReadSegmentIndex(&env, "/s"), IsOkAndHolds(ElementsAre(0u, 7u)));
  ASSERT_OK(AppendSegmentIndex(&env, "/s", 9));
  env.Crash(CrashOptions());
  EXPECT_THAT(ReadSegmentIndex(&env, "/s"), IsOkAndHolds(ElementsAre(0u, 7u, 9u)));
}

TEST(FindSegmentTest, PicksTheLastStartAtOrBelow) {
  const std::vector<uint64_t> starts = {10, 20, 30};
  EXPECT_EQ(FindSegment(starts, 9), -1);
  EXPECT_EQ(FindSegment(starts, 10), 0);
  EXPECT_EQ(FindSegment(starts, 19), 0);
  EXPECT_EQ(FindSegment(starts, 20), 1);
  EXPECT_EQ(FindSegment(starts, 1000), 2);
  EXPECT_EQ(FindSegment({}, 5), -1);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
