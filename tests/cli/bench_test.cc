// Tests the logic of `ironwal bench` (ironwal/cli/bench.h): arguments, exit codes, one
// JSON line per workload and device probe, the table, cleanup. It runs the real workloads
// at --scale 1000 (a second or so) under TEST_TMPDIR and never looks at how fast they were.
#include "ironwal/cli/bench.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/json.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

namespace ironwal {
namespace cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

struct BenchRun {
  int code = -1;
  std::string out;
  std::string err;
};

BenchRun Bench(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  BenchRun run;
  run.code = RunBench(args, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

class BenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tmp = ::ironwal::testing::TestTmpDir();
    dir_ = tmp + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(std::filesystem::create_directories(dir_));
  }

  // What is left in dir_ (the run's temporary directory must be gone).
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  std::string dir_;
};

TEST_F(BenchTest, JsonPrintsOneParseableLinePerWorkloadAndProbe) {
  const BenchRun run = Bench({"--scale", "1000", "--json", "--dir", dir_});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.err, IsEmpty());  // no progress bar: stderr is not a terminal here

  std::vector<std::string> workloads;
  std::vector<std::string> probes;
  for (absl::string_view line : absl::StrSplit(run.out, '\n', absl::SkipEmpty())) {
    SCOPED_TRACE(std::string(line));
    ASSERT_OK_AND_ASSIGN(testing::Json json, testing::Json::Parse(line));
    ASSERT_EQ(json.type(), testing::Json::Type::kObject);
    EXPECT_GT(json["ops"].AsUint64(), 0u);
    EXPECT_GT(json["ops_per_s"].AsDouble(), 0.0);
    EXPECT_EQ(json["scale"].AsUint64(), 1000u);
    if (json.Has("probe")) {
      probes.push_back(json["probe"].AsString());
      continue;
    }
    std::string name = json["workload"].AsString();
    if (json.Has("strategy")) name += "/" + json["strategy"].AsString();
    workloads.push_back(name);
    if (name.rfind("W8", 0) == 0) {
      EXPECT_GT(json["ms"].AsDouble(), 0.0);
    }
    if (name.rfind("W7", 0) == 0) {
      EXPECT_GT(json["mb_per_s"].AsDouble(), 0.0);
    }
    if (name == "W2" || name.rfind("W6", 0) == 0) {
      EXPECT_TRUE(json.Has("p99_us"));
    }
  }
  EXPECT_THAT(workloads, UnorderedElementsAre("W1", "W1-reserve", "W1-reserve", "W2", "W2-prealloc",
                                              "W2-prealloc", "W3", "W4", "W5", "SH1", "SH2", "SH4",
                                              "SH8", "CK", "W6/mmap", "W6/pread", "W7/mmap",
                                              "W7/pread", "W8/pread", "W8/mmap"));
  EXPECT_THAT(probes, UnorderedElementsAre(
                          "write_128", "append_128_fdatasync", "overwrite_4k_fdatasync",
                          "overwrite_4k_zeroed_fdatasync", "overwrite_128_zeroed_fdatasync",
                          "append_16k_fdatasync", "append_13232_fdatasync",
                          "4x_append_128_fdatasync", "pread_frame_random"));
  EXPECT_THAT(Leftovers(), IsEmpty());
}

TEST_F(BenchTest, TablePrintsEveryWorkloadAndItsTargets) {
  const BenchRun run = Bench({"--scale", "1000", "--dir=" + dir_});
  ASSERT_EQ(run.code, 0) << run.err;
  for (const char* id : {"W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"}) {
    EXPECT_THAT(run.out, HasSubstr(std::string("\n  ") + id)) << id;
  }
  EXPECT_THAT(run.out, HasSubstr("append_128_fdatasync"));
  EXPECT_THAT(run.out, HasSubstr("counts divided by 1000"));
  // W1 with allocate_ahead_bytes on is compared with off, in the same run.
  EXPECT_THAT(run.out, ::testing::ContainsRegex("W1-reserve on .*x W1-reserve off rate"));
  EXPECT_THAT(run.out, HasSubstr("checks met"));
  EXPECT_THAT(run.out, ::testing::ContainsRegex("(PASS|MISS) +p50 <= 1.1x device"));
  EXPECT_THAT(Leftovers(), IsEmpty());
}

TEST_F(BenchTest, BadUsageExitsTwoWithAMessage) {
  const std::vector<std::vector<std::string>> bad = {
      {"--bogus"},      {"--dir"},          {"--dir="}, {"--scale"},
      {"--scale", "0"}, {"--scale", "ten"}, {"extra"}};
  for (const std::vector<std::string>& args : bad) {
    SCOPED_TRACE(args[0]);
    const BenchRun run = Bench(args);
    EXPECT_EQ(run.code, 2);
    EXPECT_THAT(run.err, HasSubstr("ironwal bench: "));
    EXPECT_THAT(run.err, HasSubstr("usage: ironwal bench"));
    EXPECT_THAT(run.out, IsEmpty());
  }
  EXPECT_THAT(Bench({"--bogus"}).err, HasSubstr("unknown argument --bogus"));
  EXPECT_THAT(Leftovers(), IsEmpty());
}

TEST_F(BenchTest, HelpDocumentsEveryFlag) {
  const BenchRun run = Bench({"--help"});
  EXPECT_EQ(run.code, 0);
  for (const char* flag : {"--quick", "--dir DIR", "--json", "--only LIST", "--scale N"}) {
    EXPECT_THAT(run.out, HasSubstr(flag));
  }
}

TEST_F(BenchTest, OnlyRunsTheNamedWorkloads) {
  const BenchRun run = Bench({"--scale", "1000", "--json", "--dir", dir_, "--only", "W2,W7"});
  ASSERT_EQ(run.code, 0) << run.err;
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(run.out, '\n', absl::SkipEmpty())) {
    ASSERT_OK_AND_ASSIGN(testing::Json json, testing::Json::Parse(line));
    names.push_back(json.Has("probe") ? json["probe"].AsString() : json["workload"].AsString());
  }
  // W6 and W7 share their populated WAL, so they run together (with W6's probe).
  EXPECT_THAT(names, ::testing::ElementsAre("W2", "W6", "W6", "W7", "W7", "pread_frame_random"));
  EXPECT_THAT(Leftovers(), IsEmpty());
}

// The cost of statistics: W1 and W2 with WalOptions::statistics on and off, in one run.
TEST_F(BenchTest, StatsComparesStatisticsOnAndOff) {
  const BenchRun run = Bench({"--scale", "1000", "--dir", dir_, "--only", "stats"});
  ASSERT_EQ(run.code, 0) << run.err;
  // Four WALs a side, and the cost on the last row of each workload.
  for (const char* w : {"W1-stats ", "W2-stats "}) {
    for (const char* variant :
         {"off a", "on a", "on b", "off b", "off c", "on c", "on d", "off d"}) {
      EXPECT_THAT(run.out, HasSubstr(absl::StrCat(w, variant))) << run.out;
    }
  }
  // W1 (50 appends a WAL at this scale) has a slice in each of the 40 rounds, W2 one.
  EXPECT_THAT(run.out, ::testing::ContainsRegex(
                           "W1-stats off d [^\n]*stats cost median -?[0-9.]+% \\(quartiles"));
  EXPECT_THAT(run.out,
              ::testing::ContainsRegex("W2-stats off d [^\n]*stats cost -?[0-9.]+% of off"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("\n  W3")));
  EXPECT_THAT(Bench({"--help"}).out, HasSubstr("--stats"));
  EXPECT_THAT(Leftovers(), IsEmpty());
}

TEST_F(BenchTest, MissingDirectoryExitsOne) {
  const BenchRun run = Bench({"--scale", "1000", "--dir", dir_ + "/missing"});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.err, HasSubstr(dir_ + "/missing"));
}

}  // namespace
}  // namespace cli
}  // namespace ironwal
