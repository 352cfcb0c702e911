// WalOptions::allocate_ahead_bytes: a kAsync stream's open writer reserves disk space past
// its active segment's end ahead of its writes; sealed and closed segments hold only their
// frames; the synced modes, preallocate_bytes and 0 reserve nothing; a reservation a crash
// leaves behind is used by the next writes and released with them. SimEnv counts reserved
// space against its capacity (UsedBytes), as a file system does.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

constexpr char kRoot[] = "/w";
constexpr uint64_t kAhead = 1 << 20;

// The total size of the files under `dir`.
uint64_t FileBytes(Env* env, const std::string& dir) {
  uint64_t total = 0;
  absl::StatusOr<std::vector<Env::DirEntry>> entries = env->GetChildrenWithTypes(dir);
  EXPECT_OK(entries.status());
  if (!entries.ok()) return 0;
  for (const Env::DirEntry& entry : *entries) {
    const std::string path = dir + "/" + entry.name;
    if (entry.type == FileType::kDirectory) {
      total += FileBytes(env, path);
    } else {
      absl::StatusOr<uint64_t> size = env->GetFileSize(path);
      EXPECT_OK(size.status());
      if (size.ok()) total += *size;
    }
  }
  return total;
}

// Space held past the files' ends: what the Wal reserved.
uint64_t Reserved(SimEnv* env) { return env->UsedBytes() - FileBytes(env, kRoot); }

WalOptions Options(SimEnv* env, SyncMode mode) {
  WalOptions options;
  options.env = env;
  options.root = kRoot;
  options.sync_mode = mode;
  return options;
}

// Appends `n` entries of 1,000 bytes to `stream`.
void AppendEntries(Wal* wal, const std::string& stream, int n) {
  const std::string entry(1000, 'x');
  for (int i = 0; i < n; ++i) ASSERT_OK(wal->Append(stream, entry).status());
}

TEST(WalAllocateAheadTest, AnAsyncStreamReservesAheadUntilClose) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(Options(&env, SyncMode::kAsync)));
  AppendEntries(wal.get(), "s", 70);  // past the 64 KiB write buffer: one flush
  ASSERT_OK_AND_ASSIGN(const uint64_t written, env.GetFileSize("/w/s/00000000000000000000.wal"));
  ASSERT_GT(written, 64u << 10);
  EXPECT_EQ(Reserved(&env), kAhead - written)
      << "one stretch from the segment's start, less what the flush wrote into it";
  ASSERT_OK(wal->Close());
  EXPECT_EQ(Reserved(&env), 0u);
}

// Each sealed segment gives its reservation back: without that, every segment would keep
// up to a stretch past its frames.
TEST(WalAllocateAheadTest, SealedSegmentsHoldOnlyTheirFrames) {
  SimEnv env;
  WalOptions options = Options(&env, SyncMode::kAsync);
  options.max_segment_size = 256 << 10;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  AppendEntries(wal.get(), "s", 1000);  // about four segments
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal->GetStreamInfo("s"));
  ASSERT_GE(info.segment_count, 4u);
  EXPECT_LE(Reserved(&env), kAhead) << "only the active segment's writer holds a reservation";
  ASSERT_OK(wal->Close());
  EXPECT_EQ(Reserved(&env), 0u);
}

TEST(WalAllocateAheadTest, SyncedModesPreallocationAndZeroReserveNothing) {
  for (const SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly}) {
    SimEnv env;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(Options(&env, mode)));
    AppendEntries(wal.get(), "s", 70);
    EXPECT_EQ(Reserved(&env), 0u) << static_cast<int>(mode);
  }
  {
    SimEnv env;
    WalOptions options = Options(&env, SyncMode::kAsync);
    options.allocate_ahead_bytes = 0;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    AppendEntries(wal.get(), "s", 70);
    EXPECT_EQ(Reserved(&env), 0u) << "allocate_ahead_bytes = 0";
  }
  {
    // preallocate_bytes writes zeros ahead instead (they count as the file's size).
    SimEnv env;
    WalOptions options = Options(&env, SyncMode::kAsync);
    options.preallocate_bytes = 256 << 10;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    AppendEntries(wal.get(), "s", 70);
    ASSERT_OK(wal->Sync());
    EXPECT_EQ(Reserved(&env), 0u) << "preallocate_bytes";
  }
}

// An evicted writer (max_open_segments) gives its reservation back: streams that take
// turns at one open writer hold one reservation between them, not one each.
TEST(WalAllocateAheadTest, AnEvictedWriterReleasesItsReservation) {
  SimEnv env;
  WalOptions options = Options(&env, SyncMode::kAsync);
  options.max_open_segments = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  for (int round = 0; round < 3; ++round) {
    for (const char* stream : {"a", "b", "c"}) {
      AppendEntries(wal.get(), stream, 70);  // past a write buffer: a flush, attached
      ASSERT_OK(wal->Flush());
    }
  }
  EXPECT_LE(Reserved(&env), kAhead) << "more than the one open writer's reservation";
  ASSERT_OK(wal->Close());
  EXPECT_EQ(Reserved(&env), 0u);
}

// A crash keeps the reservation (the blocks, never bytes: the file's size and contents are
// what was synced). The next process's writes use it, and its close releases it.
TEST(WalAllocateAheadTest, ACrashLeftReservationIsUsedAndThenReleased) {
  SimEnv env;
  const WalOptions options = Options(&env, SyncMode::kAsync);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  AppendEntries(wal.get(), "s", 100);
  ASSERT_OK(wal->Sync());
  CrashOptions crash;
  crash.mode = CrashMode::kDropUnsynced;
  env.Crash(crash);
  wal.reset();
  EXPECT_GT(Reserved(&env), 0u) << "the simulated file system kept the reservation";
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(options));
  for (uint64_t id = 0; id < 100; ++id) {
    ASSERT_OK_AND_ASSIGN(const std::string entry, wal->Get("s", id));
    ASSERT_EQ(entry, std::string(1000, 'x')) << id;
  }
  AppendEntries(wal.get(), "s", 100);
  EXPECT_LE(Reserved(&env), kAhead);
  ASSERT_OK(wal->Close());
  EXPECT_EQ(Reserved(&env), 0u);
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(options));
  EXPECT_THAT(wal->Get("s", 199), IsOkAndHolds(std::string(1000, 'x')));
}

// A full disk: a reservation that cannot be had whole is released at once, so the streams'
// own writes get the space; nothing is lost and the appends go on.
TEST(WalAllocateAheadTest, NearAFullDiskTheWritesGetTheSpace) {
  SimEnvOptions sim;
  sim.capacity_bytes = 600 << 10;
  SimEnv env(sim);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(Options(&env, SyncMode::kAsync)));
  for (const char* stream : {"a", "b", "c", "d"}) AppendEntries(wal.get(), stream, 120);
  ASSERT_OK(wal->Sync());
  EXPECT_EQ(Reserved(&env), 0u);
  for (const char* stream : {"a", "b", "c", "d"}) {
    EXPECT_THAT(wal->Get(stream, 119), IsOkAndHolds(std::string(1000, 'x'))) << stream;
  }
}

}  // namespace
}  // namespace ironwal
