// Tests of sim_trace.h: trace files round-trip, and DiffTraces finds the first difference.
#include "ironwal/env/sim_trace.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace {

using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

// A trace with every kind of line: ranges, a truncate, a rename, injected faults (one with
// spaces in its text) and error results.
std::vector<TraceRecord> SampleTrace(uint64_t seed, const std::string& payload) {
  SimEnvOptions options;
  options.seed = seed;
  SimEnv env(options);
  EXPECT_OK(env.CreateDir("/w"));
  auto file = env.NewWritableFile("/w/a b.wal");  // A space in the path.
  EXPECT_OK(file);
  EXPECT_OK((*file)->Append(payload));
  FaultRule short_write;
  short_write.op = SimOp::kAppend;
  short_write.fault = SimFault::kShortWrite;
  short_write.nth = 1;
  env.AddFaultRule(short_write);
  EXPECT_FALSE((*file)->Append("0123456789").ok());
  EXPECT_OK((*file)->Truncate(3));
  EXPECT_OK((*file)->Allocate(0, 4096));
  EXPECT_OK(env.RenameFile("/w/a b.wal", "/w/c.wal"));
  EXPECT_FALSE(env.RemoveFile("/w/missing").ok());
  auto reader = env.NewRandomAccessFile("/w/c.wal", RandomAccessFileOptions());
  EXPECT_OK(reader);
  char scratch[8];
  EXPECT_OK((*reader)->Read(1, 2, scratch));
  return env.Trace();
}

TEST(SimTraceTest, FormatThenParseGivesTheSameRecords) {
  const std::vector<TraceRecord> trace = SampleTrace(1, "hello");
  ASSERT_GE(trace.size(), 9u);
  const std::string text = FormatTrace(trace);
  EXPECT_THAT(text, HasSubstr("(injected: short write "));
  EXPECT_THAT(text, HasSubstr("rename /w/a b.wal -> /w/c.wal OK"));
  ASSERT_OK_AND_ASSIGN(std::vector<TraceRecord> parsed, ParseTrace(text));
  ASSERT_EQ(parsed.size(), trace.size());
  for (size_t i = 0; i < trace.size(); ++i) {
    EXPECT_TRUE(SameOperation(parsed[i], trace[i])) << trace[i].ToString();
    EXPECT_EQ(parsed[i].seq, trace[i].seq);
    EXPECT_EQ(parsed[i].ToString(), trace[i].ToString());
  }
}

TEST(SimTraceTest, SaveAndLoadThroughAnyEnv) {
  MemEnv disk;
  ASSERT_OK(disk.CreateDir("/traces"));
  const std::vector<TraceRecord> trace = SampleTrace(2, "hello");
  ASSERT_OK(SaveTrace(&disk, "/traces/run.trace", trace));
  ASSERT_OK_AND_ASSIGN(std::vector<TraceRecord> loaded, LoadTrace(&disk, "/traces/run.trace"));
  EXPECT_EQ(DiffTraces(trace, loaded), "");
  EXPECT_THAT(LoadTrace(&disk, "/traces/none.trace"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(SimTraceTest, ParseNamesTheFirstBadLine) {
  EXPECT_THAT(ParseTrace("0 mkdir /w OK\n1 fly /w OK\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: parse trace record \"1 fly /w OK\": unknown operation")));
  EXPECT_THAT(ParseTraceRecord("x mkdir /w OK"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTraceRecord("0 mkdir /w MAYBE"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTraceRecord("0 append /w/f OK"),  // No range.
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTraceRecord("0 sync /w/f INTERNAL (injected: EIO"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTraceRecord("0 mkdir"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SimTraceTest, DiffTracesReportsTheFirstDifferenceWithContext) {
  const std::vector<TraceRecord> a = SampleTrace(3, "hello");
  EXPECT_EQ(DiffTraces(a, SampleTrace(3, "hello")), "");  // Deterministic.
  // Another payload length: the first append differs.
  const std::vector<TraceRecord> b = SampleTrace(3, "hello!");
  EXPECT_EQ(DiffTraces(a, b, /*context=*/2),
            "traces differ at operation 2 (expected 10 operations, got 10)\n"
            "    0 mkdir /w OK\n"
            "    1 open-write /w/a b.wal OK\n"
            "  - 2 append /w/a b.wal@0+5 OK\n"
            "  + 2 append /w/a b.wal@0+6 OK\n");
  // A trace that stops early.
  const std::vector<TraceRecord> shorter(a.begin(), a.begin() + 4);
  EXPECT_THAT(DiffTraces(a, shorter), HasSubstr("  + (actual trace ends here)"));
  EXPECT_THAT(DiffTraces(shorter, a), HasSubstr("  - (expected trace ends here)"));
}

}  // namespace
}  // namespace ironwal
