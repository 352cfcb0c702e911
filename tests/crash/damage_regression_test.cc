// The smallest reproductions of what the byte-level sweeps found (each failed before its
// fix): one test per defect, named after the behaviour now required.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/coding.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

namespace format = internal::format;
using internal::EncodeFixed32;
using internal::EncodeSegmentIndex;
using internal::ParseSegmentFileName;
using internal::SegmentFileName;

namespace {

using ::ironwal::testing::CutFile;
using ::ironwal::testing::FlipByte;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::ReadFileOrFail;
using ::ironwal::testing::StatusIs;
using ::ironwal::testing::WriteFileOrFail;
using ::testing::AllOf;
using ::testing::HasSubstr;

class DamageRegressionTest : public ::testing::Test {
 protected:
  DamageRegressionTest() {
    options_.env = &env_;
    options_.root = "/wal";
  }

  absl::Status Open() {
    wal_.reset();
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options_);
    if (!wal.ok()) return wal.status();
    wal_ = *std::move(wal);
    return absl::OkStatus();
  }
  void Close() {
    ASSERT_OK(wal_->Close());
    wal_.reset();
  }
  // Appends "e0".."e{n-1}" (20 bytes each: one 56-byte frame each) to `stream`.
  void Fill(const std::string& stream, int n) {
    for (int i = 0; i < n; ++i) ASSERT_OK(wal_->Append(stream, Entry(i)));
  }
  static std::string Entry(int i) {
    std::string e = "e" + std::to_string(i);
    e.resize(20, '.');
    return e;
  }
  std::string Path(const std::string& dir, absl::string_view name) {
    return JoinPath(JoinPath(options_.root, dir), name);
  }
  std::string Segment(const std::string& dir, uint64_t start) {
    return Path(dir, SegmentFileName(start));
  }
  std::vector<uint64_t> Segments(const std::string& dir) {
    std::vector<uint64_t> starts;
    absl::StatusOr<std::vector<std::string>> names = env_.GetChildren(JoinPath(options_.root, dir));
    EXPECT_OK(names.status());
    for (const std::string& name : names.value_or(std::vector<std::string>())) {
      if (auto id = ParseSegmentFileName(name)) starts.push_back(*id);
    }
    return starts;
  }
  const StreamRecoveryReport* Report(const std::string& dir) {
    for (const auto& r : wal_->recovery_report()) {
      if (r.dir == dir) return &r;
    }
    return nullptr;
  }
  // The report of `dir`, or an empty one (and a failure) when recovery found nothing.
  StreamRecoveryReport ReportOrEmpty(const std::string& dir) {
    const StreamRecoveryReport* r = Report(dir);
    EXPECT_NE(r, nullptr) << "no recovery report for " << dir;
    return r != nullptr ? *r : StreamRecoveryReport();
  }

  MemEnv env_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
};

// A synced segment cut exactly at a frame boundary used to open clean, silently dropping
// acknowledged, synced entries (the scan only judged frames it could not verify).
TEST_F(DamageRegressionTest, SegmentCutAtAFrameBoundaryBelowItsFrontierIsRowH) {
  ASSERT_OK(Open());
  Fill("s", 5);
  Close();
  const std::string seg = Segment("s", 0);
  CutFile(&env_, seg, 3 * 56);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr(seg + "@168"), HasSubstr("row H"),
                                     HasSubstr("before the durable frontier"))));
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK(Open());
  const StreamRecoveryReport* report = Report("s");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->tail_row, 'H');
  EXPECT_EQ(report->cut_offset, 168u);
  EXPECT_EQ(report->quarantine_file, "") << "no bytes to keep aside";
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(3u));
  Close();
  ASSERT_OK(Open());
  EXPECT_TRUE(wal_->recovery_report().empty());
}

// A damaged header in a sealed segment made the whole segment unreadable; the frames
// before it are intact and readable, the damaged frame's IDs are DataLoss naming the file
// and offset, and so are the IDs after it when the segment must be walked (the walk cannot
// find them); with the segment's frame index file (written when it was sealed) they are
// found and read back, each checked by its CRC.
TEST_F(DamageRegressionTest, HeaderDamageInASealedSegmentKeepsTheFramesBeforeIt) {
  options_.max_segment_size = 300;  // five frames per segment
  ASSERT_OK(Open());
  Fill("s", 12);
  Close();
  const std::string seg = Segment("s", 0);
  FlipByte(&env_, seg, 3 * 56);  // frame 3's magic
  const std::string frame_index = JoinPath(Dirname(seg), internal::FrameIndexFileName(0));
  ASSERT_OK_AND_ASSIGN(const std::string hint, ReadFileToString(&env_, frame_index));
  for (const bool indexed : {true, false}) {
    SCOPED_TRACE(indexed ? "with the frame index" : "walked");
    if (!indexed) {
      ASSERT_OK(env_.RemoveFile(frame_index));
    }
    ASSERT_OK(Open());
    for (int id = 0; id < 3; ++id) EXPECT_THAT(wal_->Get("s", id), IsOkAndHolds(Entry(id)));
    EXPECT_THAT(wal_->Get("s", 3), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(seg + "@168")));
    if (indexed) {
      EXPECT_THAT(wal_->Get("s", 4), IsOkAndHolds(Entry(4)));
    } else {
      EXPECT_THAT(wal_->Get("s", 4),
                  StatusIs(absl::StatusCode::kDataLoss, HasSubstr(seg + "@168")));
    }
    EXPECT_THAT(wal_->Get("s", 5), IsOkAndHolds(Entry(5)));
    ASSERT_OK_AND_ASSIGN(auto it, wal_->NewIterator("s", 0));
    int n = 0;
    for (; it->Valid(); it->Next()) EXPECT_EQ(it->id(), n++);
    EXPECT_EQ(n, 3);
    EXPECT_THAT(it->status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(seg)));
    Close();
    // A damaged segment's frame index is kept (it describes the segment's frames).
    if (indexed) {
      EXPECT_THAT(ReadFileToString(&env_, frame_index), IsOkAndHolds(hint));
    }
  }
}

// uncompressed_size is not covered by the frame's CRC. A flipped high bit made each read
// of the frame allocate and zero up to 4 GiB, then fail with a message naming no file.
TEST_F(DamageRegressionTest, FlippedLz4UncompressedSizeIsDataLossNamingTheFile) {
  options_.compression = Compression::kLz4;
  options_.min_compression_size = 64;
  ASSERT_OK(Open());
  const std::string entry(500, 'z');
  ASSERT_OK(wal_->Append("s", entry));
  ASSERT_OK(wal_->Append("s", "after"));
  Close();
  const std::string seg = Segment("s", 0);
  std::string bytes = ReadFileOrFail(&env_, seg);
  ASSERT_EQ(bytes[format::kCodecOffset], 1) << "the first frame is LZ4";
  EncodeFixed32(&bytes[format::kUncompressedSizeOffset], 0xF0000000u);
  WriteFileOrFail(&env_, seg, bytes);
  ASSERT_OK(Open());  // Not covered by the CRC: recovery cannot see it.
  EXPECT_THAT(wal_->Get("s", 0),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(seg + "@0"), HasSubstr("cannot decode"))));
  EXPECT_THAT(wal_->MultiGet("s", {0})[0],
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(seg + "@0")));
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("after"));
}

// An empty segments.idx (a file cut to nothing) made the stream start over at segment 0
// as its active segment, losing every later segment's IDs and reusing them.
TEST_F(DamageRegressionTest, EmptySegmentIndexIsRebuilt) {
  options_.max_segment_size = 300;
  ASSERT_OK(Open());
  Fill("s", 12);
  Close();
  WriteFileOrFail(&env_, Path("s", format::kSegmentIndexFileName), "");
  ASSERT_OK(Open());
  EXPECT_TRUE(ReportOrEmpty("s").index_rebuilt);
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(12u));
  EXPECT_THAT(wal_->Get("s", 11), IsOkAndHolds(Entry(11)));
}

// segments.idx's first entry damaged (0 -> 1): the missing "first segment" was dropped as
// truncated and the real first segment removed as a truncation's leftover. Neither
// truncation order leaves that state: the index is rebuilt and nothing is removed.
TEST_F(DamageRegressionTest, IndexWithADamagedFirstEntryDoesNotRemoveData) {
  options_.max_segment_size = 300;
  ASSERT_OK(Open());
  Fill("s", 12);
  Close();
  const std::vector<uint64_t> starts = Segments("s");
  ASSERT_EQ(starts.size(), 3u);
  std::vector<uint64_t> damaged = starts;
  damaged[0] = 1;
  WriteFileOrFail(&env_, Path("s", format::kSegmentIndexFileName), EncodeSegmentIndex(damaged));
  ASSERT_OK(Open());
  EXPECT_TRUE(ReportOrEmpty("s").index_rebuilt);
  EXPECT_TRUE(ReportOrEmpty("s").removed_files.empty());
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds(Entry(0)));
  EXPECT_EQ(Segments("s"), starts);
}

// A stream.key copied from another stream's directory made two streams claim one key and
// the real one unreachable by its own key.
TEST_F(DamageRegressionTest, StreamKeyThatMapsToAnotherDirectoryIsIgnored) {
  ASSERT_OK(Open());
  Fill("a", 1);
  Fill("user/7", 2);
  Close();
  WriteFileOrFail(&env_, Path("user_7", format::kStreamKeyFileName),
                  ReadFileOrFail(&env_, Path("a", format::kStreamKeyFileName)));
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(std::vector<std::string>{"a", "user_7"}));
  EXPECT_THAT(wal_->Get("user/7", 1), IsOkAndHolds(Entry(1)));
  EXPECT_THAT(wal_->Append("user/7", "x"), IsOkAndHolds(2u));  // records the key again
  Close();
  ASSERT_OK(Open());
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(std::vector<std::string>{"a", "user/7"}));
}

// The active segment removed although durable.pos says part of it was synced: it was
// taken for a never-created segment, silently dropping synced entries.
TEST_F(DamageRegressionTest, MissingActiveSegmentThatHeldSyncedDataIsRowH) {
  options_.max_segment_size = 300;
  ASSERT_OK(Open());
  Fill("s", 12);
  Close();
  const uint64_t active = Segments("s").back();
  ASSERT_OK(env_.RemoveFile(Segment("s", active)));
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr(Segment("s", active)), HasSubstr("row H"))));
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK(Open());
  EXPECT_EQ(ReportOrEmpty("s").tail_row, 'H');
  EXPECT_THAT(wal_->Append("s", "x"), IsOkAndHolds(active));
}

// A segment copied from another stream under an unused name was adopted as a segment the
// index had missed, serving the other stream's bytes for this stream's IDs.
TEST_F(DamageRegressionTest, SegmentFromAnotherStreamIsRefused) {
  options_.max_segment_size = 300;
  ASSERT_OK(Open());
  Fill("a", 12);  // segments 0, 5, 10
  Fill("b", 3);   // segment 0 only
  Close();
  WriteFileOrFail(&env_, Segment("b", 5), ReadFileOrFail(&env_, Segment("a", 5)));
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr("/wal/b"), HasSubstr(SegmentFileName(5)),
                                     HasSubstr("does not continue"))));
}

}  // namespace
}  // namespace ironwal
