// WalOptions::preallocate_bytes: frames are written over synced zeros; the zero tail is
// cut when a segment is sealed or the Wal closed, and after a crash it reads as the clean
// end of the active segment (segment_scan.h, row Z) for the opener, read-only openers,
// iterators and Get.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/names.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

constexpr char kRoot[] = "/w";

// A file that counts its WriteAtDurable calls (which then run as the default: WriteAt, Sync).
class DurableWriteCountingFile : public WritableFileWrapper {
 public:
  DurableWriteCountingFile(std::unique_ptr<WritableFile> file, int* count)
      : WritableFileWrapper(std::move(file)), count_(count) {}
  absl::Status WriteAtDurable(uint64_t offset, absl::string_view data) override {
    ++*count_;
    return WritableFileWrapper::WriteAtDurable(offset, data);
  }

 private:
  int* const count_;
};

// An Env whose writable files count their WriteAtDurable calls.
class DurableWriteCountingEnv : public EnvWrapper {
 public:
  DurableWriteCountingEnv(Env* target, int* count) : EnvWrapper(target), count_(count) {}
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Wrap(EnvWrapper::NewWritableFile(path));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return Wrap(EnvWrapper::NewAppendableFile(path));
  }

 private:
  absl::StatusOr<std::unique_ptr<WritableFile>> Wrap(
      absl::StatusOr<std::unique_ptr<WritableFile>> file) {
    if (!file.ok()) return file.status();
    return std::unique_ptr<WritableFile>(new DurableWriteCountingFile(*std::move(file), count_));
  }
  int* const count_;
};

class WalPreallocateTest : public ::testing::Test {
 protected:
  WalPreallocateTest() {
    options_.root = kRoot;
    options_.env = &env_;
    options_.preallocate_bytes = 4096;
  }

  std::string SegmentPath(uint64_t start) const {
    return absl::StrCat(kRoot, "/", Wal::StreamDirectoryName("s").value(), "/",
                        SegmentFileName(start));
  }

  // The scan of segment `start` as it is on disk now (pread, whatever its size).
  SegmentScan Scan(uint64_t start) {
    auto file = env_.NewRandomAccessFile(SegmentPath(start), RandomAccessFileOptions());
    EXPECT_TRUE(file.ok()) << file.status();
    OffsetIndex index(start);
    absl::StatusOr<SegmentScan> scan = ScanActiveSegment(**file, start, ScanOptions(), &index);
    EXPECT_TRUE(scan.ok()) << scan.status();
    return scan.ok() ? *scan : SegmentScan();
  }

  void AppendEntries(Wal* wal, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      ASSERT_THAT(wal->Append("s", absl::StrCat("entry-", i)), IsOkAndHolds(i));
    }
  }

  void ExpectEntries(Wal* wal, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      EXPECT_THAT(wal->Get("s", i), IsOkAndHolds(absl::StrCat("entry-", i)));
    }
    ASSERT_OK_AND_ASSIGN(auto it, wal->NewIterator("s", 0));
    uint64_t seen = 0;
    for (; it->Valid(); it->Next()) ++seen;
    EXPECT_OK(it->status());
    EXPECT_EQ(seen, n);
  }

  // kAsync: 10 entries synced (zeros filled), 4 more flushed over the zeros unsynced, a
  // crash in `mode`; then the synced entries and the zeros after them must remain, and
  // recovery must leave a writable stream without the zero tail.
  void AsyncCrashAfterSync(CrashMode mode) {
    options_.sync_mode = SyncMode::kAsync;
    {
      ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
      AppendEntries(wal.get(), 0, 10);
      ASSERT_OK(wal->Sync());
      AppendEntries(wal.get(), 10, 14);
      ASSERT_OK(wal->Flush());  // over the zeros, unsynced
      CrashOptions crash;
      crash.mode = mode;
      env_.Crash(crash);
    }
    const SegmentScan crashed = Scan(0);
    EXPECT_GE(crashed.file_size, crashed.valid_end + 4096 / 2) << "the synced zeros survive";
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
    ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal->GetStreamInfo("s"));
    EXPECT_GE(info.next_id, 10u) << "the synced entries survive";
    ExpectEntries(wal.get(), info.next_id);
    EXPECT_EQ(Scan(0).row, 'A') << "recovery cuts the zero tail";
    AppendEntries(wal.get(), info.next_id, info.next_id + 2);
    ASSERT_OK(wal->Sync());
    ExpectEntries(wal.get(), info.next_id + 2);
  }

  SimEnv env_;
  WalOptions options_;
};

TEST_F(WalPreallocateTest, FramesGoOverSyncedZerosAndReadersStopAtTheFrames) {
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  AppendEntries(wal.get(), 0, 10);
  const SegmentScan scan = Scan(0);
  EXPECT_EQ(scan.row, 'Z');
  EXPECT_EQ(scan.end_id, 10u);
  EXPECT_GE(scan.file_size, scan.valid_end + 4096 / 2);
  ExpectEntries(wal.get(), 10);
  // A read-only opener sees the zero tail as the end too, and changes nothing.
  WalOptions read_only = options_;
  read_only.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto reader, Wal::Open(read_only));
  ExpectEntries(reader.get(), 10);
  EXPECT_THAT(env_.GetFileSize(SegmentPath(0)), IsOkAndHolds(scan.file_size));
  ASSERT_OK(wal->Close());
  EXPECT_EQ(Scan(0).row, 'A') << "Close cuts the zero tail";
}

TEST_F(WalPreallocateTest, AfterACrashTheZeroTailIsACleanEndAndIsCut) {
  {
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
    AppendEntries(wal.get(), 0, 10);
    CrashOptions crash;
    crash.mode = CrashMode::kDropUnsynced;
    env_.Crash(crash);
  }
  ASSERT_EQ(Scan(0).row, 'Z') << "the synced zeros survive the crash";
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  for (const StreamRecoveryReport& report : wal->recovery_report()) {
    EXPECT_EQ(report.tail, ScanOutcome::kClean) << report.ToString();
  }
  EXPECT_EQ(wal->GetStatistics().recoveries_not_clean, 0u);
  EXPECT_EQ(Scan(0).row, 'A') << "recovery cuts the zero tail";
  ExpectEntries(wal.get(), 10);
  AppendEntries(wal.get(), 10, 12);
  ExpectEntries(wal.get(), 12);
}

// The zero-fill runs after the group's frames are durable. A full disk during it only
// stops it: the append succeeds, the stream stays writable, and a later group fills again.
TEST_F(WalPreallocateTest, AFullDiskDuringTheZeroFillOnlyStopsIt) {
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  const std::string segment = SegmentPath(0);
  auto full = std::make_shared<bool>(true);
  auto refused = std::make_shared<int>(0);
  env_.SetHook([full, refused, segment](const SimOpInfo& op) -> std::optional<SimFault> {
    // Zero-fill appends are large; frames here are tens of bytes.
    if (!*full || op.op != SimOp::kAppend || op.path != segment || op.length < 1024) {
      return std::nullopt;
    }
    ++*refused;
    return SimFault::kNoSpace;
  });
  AppendEntries(wal.get(), 0, 10);
  EXPECT_GE(*refused, 1);
  ExpectEntries(wal.get(), 10);
  *full = false;
  AppendEntries(wal.get(), 10, 12);
  env_.SetHook(nullptr);
  const SegmentScan scan = Scan(0);
  EXPECT_EQ(scan.row, 'Z') << "the next group filled again";
  EXPECT_GE(scan.file_size, scan.valid_end + 4096 / 2);
  ExpectEntries(wal.get(), 12);
}

// A failed sync of the zero-fill poisons the stream for later writes, but the group whose
// frames were already durable succeeded: its callers get their IDs, and the entries stay.
TEST_F(WalPreallocateTest, AFailedSyncOfTheZeroFillPoisonsLaterWritesOnly) {
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  AppendEntries(wal.get(), 0, 3);
  const std::string segment = SegmentPath(0);
  auto armed = std::make_shared<bool>(false);
  auto failed = std::make_shared<int>(0);
  env_.SetHook([armed, failed, segment](const SimOpInfo& op) -> std::optional<SimFault> {
    if (op.path != segment) return std::nullopt;
    if (op.op == SimOp::kAppend && op.length >= 1024) *armed = true;  // a zero-fill
    if (op.op != SimOp::kSync || !*armed || *failed > 0) return std::nullopt;
    ++*failed;
    return SimFault::kIoError;
  });
  uint64_t next = 3;
  while (*failed == 0 && next < 1000) {
    ASSERT_THAT(wal->Append("s", absl::StrCat("entry-", next)), IsOkAndHolds(next))
        << "an append whose frame was durable before the zero-fill's sync failed";
    ++next;
  }
  env_.SetHook(nullptr);
  ASSERT_EQ(*failed, 1);
  EXPECT_FALSE(wal->Append("s", "refused").ok()) << "the stream is poisoned";
  ASSERT_OK(wal->RecoverStream("s"));
  ExpectEntries(wal.get(), next);
}

// A sealed segment is exactly its frames, as ironwal 0.6 writes them.
TEST_F(WalPreallocateTest, RotationSealsSegmentsWithoutAZeroTail) {
  options_.max_segment_size = 300;
  options_.preallocate_bytes = 200;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  AppendEntries(wal.get(), 0, 30);
  ASSERT_OK_AND_ASSIGN(
      const std::vector<std::string> names,
      env_.GetChildren(absl::StrCat(kRoot, "/", Wal::StreamDirectoryName("s").value())));
  std::vector<uint64_t> starts;
  for (const std::string& name : names) {
    if (std::optional<uint64_t> start = ParseSegmentFileName(name)) starts.push_back(*start);
  }
  ASSERT_GE(starts.size(), 3u);
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    const SegmentScan scan = Scan(starts[i]);
    EXPECT_EQ(scan.row, 'A') << "segment " << starts[i];
    EXPECT_EQ(scan.end_id, starts[i + 1]);
  }
  EXPECT_EQ(Scan(starts.back()).row, 'Z') << "the active segment has one";
  ExpectEntries(wal.get(), 30);
}

// kAsync: appends never sync, so Sync() keeps the zeros. Before the first Sync there are
// none; after it the file is longer than its frames, and the frames written until the next
// Sync go over the zeros (writes inside the file, never appends), so that Sync's fdatasync
// records no size change.
TEST_F(WalPreallocateTest, AsyncSyncWritesTheZerosAndLaterFramesGoOverThem) {
  options_.sync_mode = SyncMode::kAsync;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  AppendEntries(wal.get(), 0, 10);
  ASSERT_OK(wal->Flush());
  EXPECT_EQ(Scan(0).row, 'A') << "appends alone do not fill";
  ASSERT_OK(wal->Sync());
  const SegmentScan filled = Scan(0);
  ASSERT_EQ(filled.row, 'Z');
  EXPECT_EQ(filled.end_id, 10u);
  EXPECT_GE(filled.file_size, filled.valid_end + 4096 / 2);
  const std::string segment = SegmentPath(0);
  auto appends = std::make_shared<int>(0);
  auto writes_inside = std::make_shared<int>(0);
  env_.SetHook([segment, appends, writes_inside](const SimOpInfo& op) -> std::optional<SimFault> {
    if (op.path != segment) return std::nullopt;
    if (op.op == SimOp::kAppend) ++*appends;
    if (op.op == SimOp::kWriteAt) ++*writes_inside;
    return std::nullopt;
  });
  AppendEntries(wal.get(), 10, 20);
  ASSERT_OK(wal->Sync("s"));
  env_.SetHook(nullptr);
  EXPECT_EQ(*appends, 0) << "the frames went over the zeros";
  EXPECT_GE(*writes_inside, 1);
  const SegmentScan after = Scan(0);
  EXPECT_EQ(after.row, 'Z');
  EXPECT_EQ(after.end_id, 20u);
  EXPECT_EQ(after.file_size, filled.file_size) << "no zero-fill while more than half is left";
  ExpectEntries(wal.get(), 20);
  ASSERT_OK(wal->Close());
  EXPECT_EQ(Scan(0).row, 'A') << "Close cuts the zero tail";
}

// kAsync, a stream evicted from max_open_segments: its writer is detached (no descriptor)
// and its zeros are cut; a Sync of it must not fill zeros again through a descriptor opened
// for the call, or a later rotation or Close (which a detached writer ends with a sync
// alone) would leave them: a sealed segment or a closed log with a zero tail.
TEST_F(WalPreallocateTest, AsyncEvictedStreamsKeepNoZeroTail) {
  options_.sync_mode = SyncMode::kAsync;
  options_.max_open_segments = 1;
  options_.max_segment_size = 600;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  AppendEntries(wal.get(), 0, 3);
  ASSERT_OK(wal->Sync());
  ASSERT_EQ(Scan(0).row, 'Z') << "an attached writer keeps zeros";
  ASSERT_OK(wal->Append("t", "x").status());  // takes the one descriptor: s is detached
  EXPECT_EQ(Scan(0).row, 'A') << "detaching cuts the zeros";
  uint64_t next = 3;
  for (int round = 0; round < 6; ++round) {
    AppendEntries(wal.get(), next, next + 4);  // in memory; later ones rotate
    next += 4;
    ASSERT_OK(wal->Sync());
    ASSERT_OK(wal->Append("t", "x").status());  // s stays evicted
  }
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal->GetStreamInfo("s"));
  ASSERT_GE(info.segment_count, 2u) << "the workload must rotate while detached";
  ExpectEntries(wal.get(), next);
  ASSERT_OK(wal->Close());
  ASSERT_OK_AND_ASSIGN(
      const std::vector<std::string> names,
      env_.GetChildren(absl::StrCat(kRoot, "/", Wal::StreamDirectoryName("s").value())));
  for (const std::string& name : names) {
    if (std::optional<uint64_t> start = ParseSegmentFileName(name)) {
      EXPECT_EQ(Scan(*start).row, 'A') << "segment " << *start << " ends at its frames";
    }
  }
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(options_));
  ExpectEntries(wal.get(), next);
}

// kAsync: the Syncs keep extending the zeros as the frames use them up.
TEST_F(WalPreallocateTest, AsyncSyncsExtendTheZerosAsFramesUseThemUp) {
  options_.sync_mode = SyncMode::kAsync;
  options_.preallocate_bytes = 512;
  ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
  for (uint64_t i = 0; i < 100; i += 5) {
    AppendEntries(wal.get(), i, i + 5);
    ASSERT_OK(wal->Sync());
    const SegmentScan scan = Scan(0);
    ASSERT_EQ(scan.row, 'Z') << "after entry " << i + 5;
    EXPECT_EQ(scan.end_id, i + 5);
    EXPECT_GE(scan.file_size, scan.valid_end + 512 / 2) << "after entry " << i + 5;
  }
  ExpectEntries(wal.get(), 100);
}

// kAsync: what Sync made durable survives a crash with the zeros after it; frames written
// over the zeros after that Sync are lost or kept whole, and recovery is clean either way
// (the zeros, or zeros after a torn frame, end the segment).
TEST_F(WalPreallocateTest, AsyncAfterACrashTheSyncedEntriesAndTheZeroTailRemain) {
  AsyncCrashAfterSync(CrashMode::kDropUnsynced);
}

TEST_F(WalPreallocateTest, AsyncAfterATornCrashTheSyncedEntriesAndTheZeroTailRemain) {
  AsyncCrashAfterSync(CrashMode::kTearBlock);
}

// Over the zeros with nothing else unsynced, a sync writes the frames durably in one call
// (WritableFile::WriteAtDurable: pwritev2 with RWF_DSYNC on Linux) instead of a write and
// an fdatasync; otherwise (the first group, before any zeros) it writes and syncs.
TEST_F(WalPreallocateTest, SyncsOverTheZerosAreDurableWrites) {
  for (SyncMode mode : {SyncMode::kAsync, SyncMode::kStrict}) {
    SCOPED_TRACE(static_cast<int>(mode));
    int durable_writes = 0;
    DurableWriteCountingEnv counting(&env_, &durable_writes);
    options_.env = &counting;
    options_.sync_mode = mode;
    options_.root = mode == SyncMode::kAsync ? "/async" : "/strict";
    ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options_));
    ASSERT_OK(wal->Append("s", "first").status());
    ASSERT_OK(wal->Sync());
    EXPECT_EQ(durable_writes, 0) << "no zeros yet under the first group";
    for (int i = 1; i <= 5; ++i) {
      ASSERT_OK(wal->Append("s", absl::StrCat("entry-", i)).status());
      ASSERT_OK(wal->Sync());
      EXPECT_EQ(durable_writes, i);
    }
    ASSERT_OK(wal->Close());
    options_.env = &env_;
    ASSERT_OK_AND_ASSIGN(auto reopened, Wal::Open(options_));
    EXPECT_THAT(reopened->Get("s", 5), IsOkAndHolds("entry-5"));
  }
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
