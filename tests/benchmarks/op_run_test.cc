// Tests RunInterleaved (benchmarks/op_run.h): how operations are cut into slices and
// interleaved, what a result counts, and errors. Nothing here looks at how long anything
// took, only at counts and order.
#include "benchmarks/op_run.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An OpRun named `name` of `total` operations that records, in `*log`, its name for every
// operation.
OpRun Logging(const std::string& name, uint64_t total, std::vector<std::string>* log) {
  OpRun run;
  run.result.name = name;
  run.total_ops = total;
  run.op = [name, log](int) {
    log->push_back(name);
    return absl::OkStatus();
  };
  return run;
}

TEST(OpRunTest, SlicesAreInterleavedRoundRobin) {
  std::vector<std::string> log;
  std::vector<OpRun> runs;
  runs.push_back(Logging("a", 4, &log));
  runs.push_back(Logging("b", 2, &log));
  ASSERT_OK_AND_ASSIGN(std::vector<Result> results, RunInterleaved(std::move(runs), 2));
  EXPECT_THAT(log, ElementsAre("a", "a", "b", "a", "a", "b"));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].name, "a");
  EXPECT_EQ(results[0].ops, 4u);
  EXPECT_EQ(results[1].ops, 2u);
}

TEST(OpRunTest, MoreRoundsThanOperationsRunsEachOperationOnce) {
  std::vector<std::string> log;
  std::vector<OpRun> runs;
  runs.push_back(Logging("a", 3, &log));
  ASSERT_OK_AND_ASSIGN(std::vector<Result> results, RunInterleaved(std::move(runs), 10));
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(results[0].ops, 3u);
  EXPECT_TRUE(results[0].p50_us.has_value());
}

TEST(OpRunTest, ThreadsEachRunTheirShareAndRecordsFollowOps) {
  std::atomic<int> per_thread[4] = {};
  OpRun run;
  run.result.name = "w";
  run.total_ops = 40;
  run.threads = 4;
  run.records_per_op = 100;
  run.op = [&per_thread](int t) {
    per_thread[t].fetch_add(1);
    return absl::OkStatus();
  };
  std::vector<OpRun> runs;
  runs.push_back(std::move(run));
  ASSERT_OK_AND_ASSIGN(std::vector<Result> results, RunInterleaved(std::move(runs), 3));
  for (int t = 0; t < 4; ++t) EXPECT_EQ(per_thread[t].load(), 10) << t;
  EXPECT_EQ(results[0].ops, 40u);
  EXPECT_EQ(results[0].threads, 4);
  EXPECT_EQ(results[0].records, 4000u);
}

TEST(OpRunTest, UntimedRunsCountOpsButReportNoPercentiles) {
  std::vector<std::string> log;
  OpRun run = Logging("w1", 5, &log);
  run.time_each_op = false;
  std::vector<OpRun> runs;
  runs.push_back(std::move(run));
  ASSERT_OK_AND_ASSIGN(std::vector<Result> results, RunInterleaved(std::move(runs), 2));
  EXPECT_EQ(results[0].ops, 5u);
  EXPECT_FALSE(results[0].p50_us.has_value());
}

TEST(OpRunTest, FinishRunsBeforeResourcesAreReleased) {
  auto resource = std::make_shared<int>(7);
  std::weak_ptr<int> watch = resource;
  bool alive_at_finish = false;
  std::vector<std::string> log;
  OpRun run = Logging("r", 1, &log);
  run.resources = std::move(resource);
  run.finish = [&](Result*) { alive_at_finish = !watch.expired(); };
  std::vector<OpRun> runs;
  runs.push_back(std::move(run));
  ASSERT_OK(RunInterleaved(std::move(runs), 1).status());
  EXPECT_TRUE(alive_at_finish);
  EXPECT_TRUE(watch.expired());
}

TEST(OpRunTest, AFailingOperationStopsTheRunAndNamesIt) {
  std::vector<std::string> log;
  std::vector<OpRun> runs;
  runs.push_back(Logging("ok", 4, &log));
  OpRun failing = Logging("bad", 4, &log);
  failing.op = [](int) { return absl::InternalError("disk on fire"); };
  runs.push_back(std::move(failing));
  const absl::StatusOr<std::vector<Result>> results = RunInterleaved(std::move(runs), 2);
  EXPECT_EQ(results.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(results.status().message()), HasSubstr("bad: disk on fire"));
  EXPECT_EQ(log.size(), 2u);  // the first slice of "ok" only
}

}  // namespace
}  // namespace bench
}  // namespace ironwal
