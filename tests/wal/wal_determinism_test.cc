// Determinism on SimEnv: the same seed and the same calls give the same trace of Env
// operations and the same bytes after a simulated crash, with many streams. Everything
// in ironwal/wal that visits several streams (Close, Sync, Flush, ListStreams, the
// destructor) must do so in a fixed order, not in hash-map order.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {

using internal::Random;

namespace {

using ::ironwal::testing::ReadTreeOrFail;

constexpr int kStreams = 16;

struct Outcome {
  std::vector<std::string> trace;            // every Env operation, in order
  std::map<std::string, std::string> files;  // path -> bytes after the crash
};

// `ops` seeded calls over kStreams streams. Every few calls a Sync, Flush, ListStreams or
// Truncate, which visit or touch many streams.
void RunOps(Wal* wal, Random* rnd, int ops) {
  for (int i = 0; i < ops; ++i) {
    const std::string stream = absl::StrCat("stream-", rnd->Uniform(kStreams));
    const std::string entry = rnd->Bytes(rnd->Range(0, 300));
    switch (rnd->Uniform(20)) {
      case 0:
        ASSERT_OK(wal->Sync());
        break;
      case 1:
        ASSERT_OK(wal->Flush());
        break;
      case 2:
        ASSERT_OK(wal->ListStreams().status());
        break;
      case 3: {
        absl::StatusOr<StreamInfo> info = wal->GetStreamInfo(stream);
        if (info.ok()) {
          ASSERT_OK(wal->Truncate(stream, info->next_id / 2).status());
        }
        break;
      }
      case 4:
      case 5:
        ASSERT_OK(wal->AppendBatch(stream, {entry, entry, "x"}).status());
        break;
      default:
        ASSERT_OK(wal->Append(stream, entry).status());
    }
  }
}

// Opens, runs, closes, opens again, runs, crashes with the Wal open, and records the
// trace (the destructor's calls on dead handles included) and the surviving files.
void RunWorkload(uint64_t seed, SyncMode mode, Outcome* out) {
  SimEnvOptions sim;
  sim.seed = seed;
  sim.block_size = 512;
  SimEnv env(sim);
  WalOptions options;
  options.env = &env;
  options.root = "/w";
  options.sync_mode = mode;
  options.max_segment_size = 2048;
  options.max_open_segments = 5;  // the writer budget closes writers as streams rotate
  options.max_open_read_segments = 4;
  options.write_buffer_size = 1024;
  Random rnd(seed);
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
    ASSERT_OK(wal.status());
    RunOps(wal->get(), &rnd, 300);
    ASSERT_OK((*wal)->Close());
  }
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
    ASSERT_OK(wal.status());
    RunOps(wal->get(), &rnd, 300);
    CrashOptions crash;
    crash.mode = CrashMode::kKeepRandomBlocks;
    crash.keep_unsynced_dir_ops = true;
    env.Crash(crash);
  }  // ~Wal closes the streams on dead handles: traced too.
  for (const TraceRecord& r : env.Trace()) out->trace.push_back(r.ToString());
  out->files = ReadTreeOrFail(&env, "/w");
}

// The first line where two traces differ, for the failure message.
std::string FirstDifference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return absl::StrCat("line ", i, ":\n  ", a[i], "\n  ", b[i]);
  }
  return absl::StrCat("lengths ", a.size(), " and ", b.size());
}

class WalDeterminismTest : public ::testing::TestWithParam<SyncMode> {};

TEST_P(WalDeterminismTest, SameSeedSameTraceAndSameBytesAfterCrash) {
  const uint64_t seed = ::ironwal::testing::EnvNumber("IRONWAL_SEED", 1);
  const uint64_t repeats = ::ironwal::testing::EnvNumber("IRONWAL_DETERMINISM_REPEATS", 10);
  std::cout << "seed " << seed << " (IRONWAL_SEED), " << repeats
            << " runs (IRONWAL_DETERMINISM_REPEATS)" << std::endl;
  Outcome first;
  ASSERT_NO_FATAL_FAILURE(RunWorkload(seed, GetParam(), &first));
  ASSERT_GT(first.trace.size(), 1000u);
  ASSERT_GT(first.files.size(), static_cast<size_t>(kStreams));
  for (uint64_t i = 1; i < repeats; ++i) {
    Outcome again;
    ASSERT_NO_FATAL_FAILURE(RunWorkload(seed, GetParam(), &again));
    ASSERT_TRUE(again.trace == first.trace)
        << "run " << i << " of seed " << seed << ": the traces differ at "
        << FirstDifference(first.trace, again.trace);
    ASSERT_TRUE(again.files == first.files)
        << "run " << i << " of seed " << seed << ": the post-crash files differ";
  }
}

// One outcome as bytes: the trace lines, then each file's path, size and bytes.
std::string Serialize(const Outcome& outcome) {
  std::string text;
  for (const std::string& line : outcome.trace) absl::StrAppend(&text, line, "\n");
  for (const auto& [path, bytes] : outcome.files) {
    absl::StrAppend(&text, "file ", path, " ", bytes.size(), "\n", bytes, "\n");
  }
  return text;
}

// The child side of RunInChildProcess: with IRONWAL_DETERMINISM_CHILD="<mode> <path>" set
// (by the parent), runs the workload and writes its serialized outcome to <path>.
// Without it, one run of the kStrict workload, which must be non-trivial.
TEST(WalDeterminismChild, Run) {
  const char* child = std::getenv("IRONWAL_DETERMINISM_CHILD");
  int mode = static_cast<int>(SyncMode::kStrict);
  char path[4096] = "";
  if (child != nullptr) {
    ASSERT_EQ(std::sscanf(child, "%d %4095s", &mode, path), 2) << child;
  }
  Outcome outcome;
  ASSERT_NO_FATAL_FAILURE(RunWorkload(::ironwal::testing::EnvNumber("IRONWAL_SEED", 1),
                                      static_cast<SyncMode>(mode), &outcome));
  EXPECT_GT(outcome.trace.size(), 1000u);
  if (child != nullptr) std::ofstream(path, std::ios::binary) << Serialize(outcome);
}

// Runs the workload in a new process (this test binary again, exec'd: a fresh address
// space layout, so anything seeded per process, such as a hash function's seed, differs)
// and returns its outcome, serialized, through a file.
std::string RunInChildProcess(SyncMode mode, const std::string& path) {
  const std::string setting = absl::StrCat(static_cast<int>(mode), " ", path);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("IRONWAL_DETERMINISM_CHILD", setting.c_str(), 1);
    for (const char* parents : {"GTEST_OUTPUT", "XML_OUTPUT_FILE", "TEST_PREMATURE_EXIT_FILE"}) {
      ::unsetenv(parents);  // the parent's result files are the parent's
    }
    const char* argv[] = {"wal_determinism_test", "--gtest_filter=WalDeterminismChild.Run",
                          nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(argv));
    std::_Exit(127);
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The same seed in two other processes gives this process's trace and bytes.
TEST_P(WalDeterminismTest, SameSeedSameTraceAndBytesInSeparateProcesses) {
  const uint64_t seed = ::ironwal::testing::EnvNumber("IRONWAL_SEED", 1);
  const std::string dir = ::ironwal::testing::TestTmpDir();
  Outcome here;
  ASSERT_NO_FATAL_FAILURE(RunWorkload(seed, GetParam(), &here));
  const std::string expected = Serialize(here);
  for (int child = 0; child < 2; ++child) {
    const std::string got = RunInChildProcess(
        GetParam(), absl::StrCat(dir, "/determinism-", static_cast<int>(GetParam()), "-", child));
    ASSERT_EQ(got.size(), expected.size()) << "child " << child << " of seed " << seed;
    ASSERT_TRUE(got == expected) << "child " << child << " of seed " << seed
                                 << " differs from this process's run";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, WalDeterminismTest,
                         ::testing::Values(SyncMode::kStrict, SyncMode::kBatchOnly,
                                           SyncMode::kAsync),
                         ::ironwal::testing::SyncModeTestName);

}  // namespace
}  // namespace ironwal
