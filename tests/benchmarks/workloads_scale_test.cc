// Runs the scale workloads W9-W11 (benchmarks/workloads_scale.h) at --scale 1000 in
// TEST_TMPDIR: each returns its curve's points, with counts that say the work was done, and
// leaves nothing behind. Nothing here looks at how long anything took.
#include "benchmarks/workloads_scale.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace bench {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

class WorkloadsScaleTest : public ::testing::Test {
 protected:
  WorkloadsScaleTest() {
    const std::string tmp = ::ironwal::testing::TestTmpDir();
    config_.dir = tmp + "/scale";
    std::filesystem::create_directories(config_.dir);
    config_.scale = 1000;
  }
  ~WorkloadsScaleTest() override { std::filesystem::remove_all(config_.dir); }

  std::vector<std::string> Variants(const std::vector<Result>& results, const char* name) {
    std::vector<std::string> variants;
    for (const Result& r : results) {
      if (r.is_probe) continue;
      EXPECT_EQ(r.name, name);
      EXPECT_GT(r.ops, 0u) << r.variant;
      variants.push_back(r.variant);
    }
    return variants;
  }
  bool Empty() const { return std::filesystem::is_empty(config_.dir); }

  BenchConfig config_;
};

TEST_F(WorkloadsScaleTest, W9PrintsEachStreamCount) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Result> results, RunW9ManyStreams(config_));
  // 1, 4, 100 and 1,000 streams divided by 1000: one stream each. Each point: the appends,
  // then Open eager and deferred (and the deferred recovery) alternating twice.
  std::vector<std::string> point = {"async n=1", "strict n=1"};
  for (int round = 0; round < 2; ++round) {
    point.insert(point.end(), {"open n=1", "open deferred n=1", "recover pending n=1"});
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 4; ++i) expected.insert(expected.end(), point.begin(), point.end());
  EXPECT_THAT(Variants(results, "W9"), ElementsAreArray(expected));
  EXPECT_EQ(results[0].ops, 4u * 25);  // 4 threads x 25,000 / 1000
  for (size_t i = 2; i < 8; ++i) EXPECT_TRUE(results[i].ms.has_value()) << results[i].variant;
  EXPECT_TRUE(Empty());
}

TEST_F(WorkloadsScaleTest, W10PrintsOpenAndGetsPerSize) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Result> results, RunW10BigLog(config_));
  EXPECT_THAT(Variants(results, "W10"),
              ElementsAre("open cold 1MiB", "get cold 1MiB", "get warm 1MiB", "open cold 1MiB",
                          "get cold 1MiB", "get warm 1MiB", "open cold 1MiB", "get cold 1MiB",
                          "get warm 1MiB"));
  EXPECT_GT(*results[0].records, 6000u);  // 1 MiB of 164-byte frames
  // After each point's warm Gets, the probe of a miss's system calls (it checks that each
  // read found a frame).
  std::vector<std::string> probes;
  for (const Result& r : results) {
    if (!r.is_probe) continue;
    probes.push_back(r.name);
    EXPECT_EQ(r.ops, 5u) << r.name;  // 5,000 / 1000
    EXPECT_GT(*r.p50_us, 0) << r.name;
  }
  EXPECT_THAT(probes, ElementsAre("open_pread_close 1MiB", "open_pread_close 1MiB",
                                  "open_pread_close 1MiB"));
  EXPECT_TRUE(results[3].is_probe);
  EXPECT_TRUE(Empty());
}

TEST_F(WorkloadsScaleTest, W11PrintsWriterReadersAndTail) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Result> results, RunW11Mixed(config_));
  EXPECT_THAT(Variants(results, "W11"),
              ElementsAre("writer strict", "readers x4 get", "tail scan"));
  EXPECT_EQ(results[0].ops, 2u);
  EXPECT_GE(results[1].ops, 4u * 100);  // each reader's minimum, even if it starts late
  EXPECT_EQ(results[2].ops, 202u);      // the tailer saw every entry, the writer's included
  EXPECT_TRUE(Empty());
}

}  // namespace
}  // namespace bench
}  // namespace ironwal
