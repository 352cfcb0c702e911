// Recovery of a large active segment on the real file system, whose scan PosixEnv splits
// in two halves verified at once (segment_scan.h, ScanOptions::env): every entry reads back
// after a clean reopen, and damage in either half is found at its frame, as one walk finds
// it. (tests/segment/segment_scan_split_test compares the split with one walk byte for
// byte; this runs it through Wal::Open with real threads, also under the sanitizers.)
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/env_wrapper.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

namespace fs = std::filesystem;

using ::ironwal::testing::IsOkAndHolds;

// Entries of kEntryBytes random bytes, one per frame: frames of kFrameBytes.
constexpr uint64_t kEntryBytes = 1000;
constexpr uint64_t kFrameBytes = kEntryBytes + 36;  // a 32-byte header and a 4-byte length
// Enough entries for a split scan, with room past its threshold.
constexpr uint64_t kEntries = (internal::kSplitScanMinBytes + (1 << 20)) / kFrameBytes;

std::string FreshRoot(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  const std::string root = tmp + "/" + name;
  fs::remove_all(root);
  return root;
}

std::string Entry(uint64_t id) { return internal::Random(id + 1).Bytes(kEntryBytes); }

// The stream's one segment file under `root`.
std::string TheSegment(const std::string& root) {
  std::vector<std::string> segments;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() == ".wal") segments.push_back(entry.path().string());
  }
  EXPECT_EQ(segments.size(), 1u);
  return segments.empty() ? std::string() : segments[0];
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x10);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
  ASSERT_TRUE(file.good()) << path << "@" << offset;
}

// PosixEnv, counting the threads it starts.
class CountingEnv final : public EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(Env::Default()) {}
  std::unique_ptr<Thread> StartThread(std::function<void()> fn) override {
    ++started_;
    return target()->StartThread(std::move(fn));
  }
  int started() const { return started_; }

 private:
  int started_ = 0;
};

class WalSplitRecoveryTest : public ::testing::TestWithParam<ReadStrategy> {
 protected:
  WalOptions Options(const std::string& root) {
    WalOptions options;
    options.root = root;
    options.env = &env_;
    options.read_strategy = GetParam();
    options.on_corruption = CorruptionPolicy::kTruncate;
    return options;
  }

  // Writes kEntries entries into a fresh root and closes it; returns the root.
  std::string Populate(const std::string& name) {
    const std::string root = FreshRoot(name);
    WalOptions options = Options(root);
    options.sync_mode = SyncMode::kAsync;
    auto wal = Wal::Open(options);
    EXPECT_TRUE(wal.ok()) << wal.status();
    if (!wal.ok()) return root;
    for (uint64_t id = 0; id < kEntries; ++id) {
      EXPECT_THAT((*wal)->Append("s", Entry(id)), IsOkAndHolds(id));
    }
    EXPECT_TRUE((*wal)->Close().ok());
    EXPECT_EQ(fs::file_size(TheSegment(root)), kEntries * kFrameBytes);
    return root;
  }

  // Reopens `root`, expects the active segment cut at entry `cut` (kEntries: not cut; the
  // IDs from the cut on are recorded as lost) and every entry before it intact.
  void ReopenExpectingCutAt(const std::string& root, uint64_t cut) {
    const int started = env_.started();
    auto wal = Wal::Open(Options(root));
    ASSERT_TRUE(wal.ok()) << wal.status();
    EXPECT_EQ(env_.started(), started + 1) << "the scan was not split";
    if (cut == kEntries) {
      EXPECT_TRUE((*wal)->recovery_report().empty());
    } else {
      ASSERT_EQ((*wal)->recovery_report().size(), 1u);
      const StreamRecoveryReport& report = (*wal)->recovery_report()[0];
      EXPECT_EQ(report.tail, ScanOutcome::kCorrupt) << report.ToString();
      EXPECT_EQ(report.tail_row, 'H') << report.ToString();
      EXPECT_EQ(report.cut_offset, cut * kFrameBytes) << report.ToString();
      EXPECT_EQ(report.lost_first, cut) << report.ToString();
      EXPECT_EQ(report.lost_end, kEntries) << report.ToString();
    }
    auto info = (*wal)->GetStreamInfo("s");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->next_id, kEntries);
    for (uint64_t id = 0; id < cut; ++id) {
      auto entry = (*wal)->Get("s", id);
      ASSERT_TRUE(entry.ok()) << "ID " << id << ": " << entry.status();
      ASSERT_EQ(*entry, Entry(id)) << "ID " << id;
    }
    EXPECT_TRUE((*wal)->Close().ok());
  }

  CountingEnv env_;
};

TEST_P(WalSplitRecoveryTest, EveryEntryReadsBackAfterAReopen) {
  const std::string root = Populate("clean");
  ReopenExpectingCutAt(root, kEntries);
  ReopenExpectingCutAt(root, kEntries);
}

TEST_P(WalSplitRecoveryTest, DamageInTheSecondHalfIsFoundAtItsFrame) {
  const std::string root = Populate("second-half");
  const uint64_t damaged = kEntries * 3 / 4;
  FlipByte(TheSegment(root), damaged * kFrameBytes + 36 + 500);  // inside the payload
  ReopenExpectingCutAt(root, damaged);
}

TEST_P(WalSplitRecoveryTest, DamageInTheFirstHalfIsFoundAtItsFrame) {
  const std::string root = Populate("first-half");
  const uint64_t damaged = kEntries / 4;
  FlipByte(TheSegment(root), damaged * kFrameBytes + 36 + 500);
  ReopenExpectingCutAt(root, damaged);
}

// The first frame past the middle, where the second walker begins.
TEST_P(WalSplitRecoveryTest, DamageAtTheMiddleIsFoundAtItsFrame) {
  const std::string root = Populate("middle");
  const uint64_t damaged = (kEntries * kFrameBytes / 2 + kFrameBytes - 1) / kFrameBytes;
  FlipByte(TheSegment(root), damaged * kFrameBytes + 40);
  ReopenExpectingCutAt(root, damaged);
}

INSTANTIATE_TEST_SUITE_P(Strategies, WalSplitRecoveryTest,
                         ::testing::Values(ReadStrategy::kPread, ReadStrategy::kMmap),
                         [](const ::testing::TestParamInfo<ReadStrategy>& info) {
                           return info.param == ReadStrategy::kPread ? std::string("Pread")
                                                                     : std::string("Mmap");
                         });

}  // namespace
}  // namespace ironwal
