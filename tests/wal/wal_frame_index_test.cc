// Frame index files (ironwal/stream/frame_index_file.h): written when a segment is sealed,
// they let a later process read a sealed segment without walking it; a damaged or stale
// one is ignored (and removed unless read-only), and the operations that hand IDs out
// again remove the ones they invalidate.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/fault_injection_env.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/maintenance.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

using ::ironwal::internal::FrameIndexFileName;
using ::ironwal::internal::SegmentFileName;
using ::ironwal::testing::FlipByte;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kRoot[] = "/w";
constexpr char kStream[] = "s";

// Counts the bytes read from segment files (names ending in ".wal").
class SegmentReadCountingEnv : public EnvWrapper {
 public:
  explicit SegmentReadCountingEnv(Env* target) : EnvWrapper(target) {}
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override {
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
        EnvWrapper::NewRandomAccessFile(path, options);
    if (fail_lost_ids && absl::EndsWith(path, "/lost.ids")) {
      return absl::UnavailableError(absl::StrCat("open ", path, ": injected"));
    }
    if (!file.ok() || path.size() < 4 || path.substr(path.size() - 4) != ".wal") return file;
    return std::unique_ptr<RandomAccessFile>(new Counting(*std::move(file), &segment_bytes_read));
  }
  uint64_t segment_bytes_read = 0;
  bool fail_lost_ids = false;  // opens of lost.ids fail

 private:
  class Counting : public RandomAccessFile {
   public:
    Counting(std::unique_ptr<RandomAccessFile> base, uint64_t* count)
        : base_(std::move(base)), count_(count) {}
    absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                           char* scratch) const override {
      absl::StatusOr<absl::string_view> bytes = base_->Read(offset, n, scratch);
      if (bytes.ok()) *count_ += bytes->size();
      return bytes;
    }
    absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }
    uint64_t MappedSize() const override { return base_->MappedSize(); }
    const std::string& path() const override { return base_->path(); }

   private:
    std::unique_ptr<RandomAccessFile> base_;
    uint64_t* const count_;
  };
};

std::string Entry(uint64_t id, size_t size) {
  std::string entry = absl::StrCat("entry-", id, "-");
  entry.resize(size, static_cast<char>('a' + id % 26));
  return entry;
}

class WalFrameIndexTest : public ::testing::Test {
 protected:
  WalFrameIndexTest() : counting_(&mem_) {
    options_.root = kRoot;
    options_.env = &counting_;
    options_.max_segment_size = 4096;
    options_.read_strategy = ReadStrategy::kPread;
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(kRoot, "/", kStream, "/", name);
  }
  bool Exists(const std::string& name) { return mem_.GetFileType(Path(name)).ok(); }

  // Appends `count` entries of `size` bytes (IDs from next_id_, their contents Entry(id)),
  // in batches of `batch`, through `wal`.
  void Append(Wal* wal, uint64_t count, size_t size, size_t batch = 1) {
    for (uint64_t done = 0; done < count;) {
      std::vector<std::string> entries;
      for (size_t i = 0; i < batch && done < count; ++i, ++done) {
        entries.push_back(Entry(next_id_ + i, size));
      }
      std::vector<absl::string_view> views(entries.begin(), entries.end());
      ASSERT_THAT(wal->AppendBatch(kStream, views),
                  IsOkAndHolds(IdRange{next_id_, next_id_ + entries.size()}));
      next_id_ += entries.size();
      contents_.insert(contents_.end(), entries.begin(), entries.end());
    }
  }
  void Write(uint64_t count, size_t size, size_t batch = 1) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    Append(wal.get(), count, size, batch);
    ASSERT_OK(wal->Close());
  }

  // The segments' start IDs, in order.
  std::vector<uint64_t> Segments() {
    std::vector<uint64_t> starts;
    absl::StatusOr<std::vector<std::string>> names = mem_.GetChildren(Path(""));
    EXPECT_OK(names.status());
    if (!names.ok()) return starts;
    for (const std::string& name : *names) {
      if (std::optional<uint64_t> id = internal::ParseSegmentFileName(name)) starts.push_back(*id);
    }
    return starts;
  }

  // Every entry read back by Get and by one scan, as written.
  void ExpectEveryEntry(Wal* wal) {
    for (uint64_t id = 0; id < next_id_; ++id) {
      ASSERT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id])) << "ID " << id;
    }
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal->NewIterator(kStream, 0));
    uint64_t id = 0;
    for (; it->Valid(); it->Next(), ++id) ASSERT_EQ(it->value(), contents_[id]) << "ID " << id;
    ASSERT_OK(it->status());
    EXPECT_EQ(id, next_id_);
  }

  MemEnv mem_;
  SegmentReadCountingEnv counting_;
  WalOptions options_;
  uint64_t next_id_ = 0;
  std::vector<std::string> contents_;  // by ID
};

// Each sealed segment gets one, the active segment none; a reopened Wal reads an entry of
// a sealed segment with one frame's bytes and the last frame's header, where without the
// file it walks the whole segment.
TEST_F(WalFrameIndexTest, ASealedSegmentIsReadWithoutAWalkAfterAReopen) {
  Write(200, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 4u);
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    EXPECT_TRUE(Exists(FrameIndexFileName(segments[i]))) << segments[i];
  }
  EXPECT_FALSE(Exists(FrameIndexFileName(segments.back())));

  const uint64_t id = segments[1] + 3;  // inside the second segment
  const uint64_t frame = 32 + 4 + 100;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    counting_.segment_bytes_read = 0;
    EXPECT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id]));
    EXPECT_LE(counting_.segment_bytes_read, 32 + frame);
    ExpectEveryEntry(wal.get());
    ASSERT_OK(wal->Close());
  }
  // The same Get without the file walks the segment (what the file saves).
  ASSERT_OK(mem_.RemoveFile(Path(FrameIndexFileName(segments[1]))));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  counting_.segment_bytes_read = 0;
  EXPECT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id]));
  EXPECT_GE(counting_.segment_bytes_read, (segments[2] - segments[1]) * frame);
}

// A segment a recovery cut under kTruncate (its last IDs recorded in lost.ids, the stream
// going on in a new segment past them) is walked once, then read by frame: its frames end
// where the lost range begins, not where the next segment starts, and that is no damage.
// (Each read walked all of it again before: the walk ended short of the next segment,
// was taken for damage, and a damaged segment's reader is never kept.)
TEST_F(WalFrameIndexTest, ASegmentCutByRecoveryIsWalkedOnceThenReadByFrame) {
  options_.max_segment_size = 64 << 10;  // everything in the active segment
  Write(40, 100);
  const uint64_t frame = 32 + 4 + 100;
  const uint64_t cut = 25;
  FlipByte(&mem_, Path(SegmentFileName(0)), cut * frame + 40);
  options_.on_corruption = CorruptionPolicy::kTruncate;
  for (int reopen = 0; reopen < 2; ++reopen) {
    SCOPED_TRACE(absl::StrCat("open ", reopen));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    if (reopen == 0) {
      ASSERT_EQ(wal->recovery_report().size(), 1u);
      ASSERT_EQ(wal->recovery_report()[0].lost_first, cut);
      ASSERT_EQ(wal->recovery_report()[0].lost_end, 40u);
    }
    ASSERT_THAT(wal->Get(kStream, 0), IsOkAndHolds(contents_[0]));  // walks the segment
    counting_.segment_bytes_read = 0;
    for (uint64_t id = 0; id < cut; ++id) {
      ASSERT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id])) << "ID " << id;
    }
    EXPECT_LE(counting_.segment_bytes_read, cut * frame) << "the segment was walked again";
    EXPECT_THAT(wal->Get(kStream, cut),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lost.ids")));
    EXPECT_THAT(wal->Get(kStream, 39), StatusIs(absl::StatusCode::kDataLoss));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal->NewIterator(kStream, 0));
    uint64_t id = 0;
    for (; it->Valid() && id < cut; it->Next(), ++id) {
      ASSERT_EQ(it->value(), contents_[id]) << "ID " << id;
    }
    EXPECT_EQ(id, cut);
    ASSERT_OK(wal->Close());
  }
}

// The same cut segment when lost.ids cannot be read at the first read of the segment
// (Stream::SealedFramesEnd falls back to the next segment's start): the walk finds the
// segment short, the kept IDs are still read right and the lost ones are DataLoss; once
// lost.ids can be read again nothing changes but the wording.
TEST_F(WalFrameIndexTest, ACutSegmentIsReadRightWhenLostIdsCannotBeRead) {
  options_.max_segment_size = 64 << 10;
  Write(40, 100);
  const uint64_t frame = 32 + 4 + 100;
  const uint64_t cut = 25;
  FlipByte(&mem_, Path(SegmentFileName(0)), cut * frame + 40);
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ASSERT_EQ(wal->recovery_report().size(), 1u);
  counting_.fail_lost_ids = true;
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(absl::StrCat("pass ", pass));
    for (uint64_t id = 0; id < cut; ++id) {
      ASSERT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id])) << "ID " << id;
    }
    EXPECT_THAT(wal->Get(kStream, cut), StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(wal->Get(kStream, 39), StatusIs(absl::StatusCode::kDataLoss));
    counting_.fail_lost_ids = false;
  }
  ASSERT_OK(wal->Close());
}

// A sealed segment without a frame index file whose walk meets damage (a frame header
// overwritten) is walked again on the next read (the damage may have been a bit flipped on
// the way from the disk), but once two walks stop at the same byte it is kept: the frames
// before the damage are then read by frame, and the IDs after it stay DataLoss naming the
// file. (Before, every read of the segment walked it again.)
TEST_F(WalFrameIndexTest, ADamagedSegmentIsWalkedTwiceThenReadByFrame) {
  options_.max_open_read_segments = 1;
  Write(200, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 4u);
  const uint64_t start = segments[1];
  const uint64_t frames = segments[2] - start;
  const uint64_t frame = 32 + 4 + 100;
  const uint64_t damaged = frames / 2;  // its header's magic overwritten
  ASSERT_OK(mem_.RemoveFile(Path(FrameIndexFileName(start))));
  FlipByte(&mem_, Path(SegmentFileName(start)), damaged * frame, 0x40);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  const uint64_t id = start + 1;
  std::vector<uint64_t> read;  // segment bytes read by each Get
  for (int get = 0; get < 4; ++get) {
    counting_.segment_bytes_read = 0;
    ASSERT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id])) << "Get " << get;
    read.push_back(counting_.segment_bytes_read);
  }
  EXPECT_GE(read[0], damaged * frame) << "the first Get walks";
  EXPECT_GE(read[1], damaged * frame) << "the second walks again";
  EXPECT_LE(read[2], frame) << "the third reads only the frame";
  EXPECT_LE(read[3], frame);
  const std::string path = Path(SegmentFileName(start));
  EXPECT_THAT(wal->Get(kStream, start + damaged),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
  EXPECT_THAT(wal->Get(kStream, segments[2] - 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
  // Every entry of the other segments reads back; with one reader kept, that evicts the
  // damaged segment's, whose index is not shelved (a reader on it would not know the IDs
  // after the damage are lost, and would call them cut out by a repair).
  for (uint64_t other = 0; other < next_id_; ++other) {
    if (other >= start && other < segments[2]) continue;
    ASSERT_THAT(wal->Get(kStream, other), IsOkAndHolds(contents_[other])) << "ID " << other;
  }
  EXPECT_THAT(
      wal->Get(kStream, start + damaged),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr(path), HasSubstr("bad frame magic"), Not(HasSubstr("lost.ids")))));
  EXPECT_THAT(wal->Get(kStream, id), IsOkAndHolds(contents_[id]));
  ASSERT_OK(wal->Close());
}

// A torn or damaged file, one describing other bytes (another segment's, copied over its
// name), or a segment whose last frame is not where the file says: the segment is walked,
// every entry reads back, and the file is removed (it is only a hint).
TEST_F(WalFrameIndexTest, ADamagedOrStaleFrameIndexIsWalkedPastAndRemoved) {
  Write(200, 100, 3);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 5u);
  const std::string damaged = FrameIndexFileName(segments[0]);
  FlipByte(&mem_, Path(damaged), 40);
  const std::string torn = FrameIndexFileName(segments[1]);
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFileToString(&mem_, Path(torn)));
  testing::WriteFileAtomicallyOrFail(&mem_, Path(torn), bytes.substr(0, bytes.size() / 2));
  const std::string other = FrameIndexFileName(segments[2]);
  ASSERT_OK_AND_ASSIGN(bytes, ReadFileToString(&mem_, Path(FrameIndexFileName(segments[3]))));
  testing::WriteFileAtomicallyOrFail(&mem_, Path(other), bytes);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    ExpectEveryEntry(wal.get());
    ASSERT_OK(wal->Close());
  }
  EXPECT_FALSE(Exists(damaged));
  EXPECT_FALSE(Exists(torn));
  EXPECT_FALSE(Exists(other));
  EXPECT_TRUE(Exists(FrameIndexFileName(segments[3])));
}

// A frame index that passes every check made when it is loaded (its CRC, start and end
// IDs, size, and the last frame's header and stamp) but frames the segment's middle
// otherwise: say the segment was copied from a replica of the same log that batched its
// appends differently. Reads through it would find no frame where it says; the hint must
// then give way to a walk, never make the entries unreadable. `swap` rewrites the file of
// segment 0 so: its first two frames (2 entries, then 1) described as (1, then 2).
class WalPlausibleFrameIndexTest : public WalFrameIndexTest {
 protected:
  void WriteAndMisframe() {
    {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
      Append(wal.get(), 2, 100, 2);
      Append(wal.get(), 100, 100, 1);
      ASSERT_OK(wal->Close());
    }
    ASSERT_GE(Segments().size(), 3u);
    const std::string path = Path(FrameIndexFileName(0));
    ASSERT_OK_AND_ASSIGN(const std::string bytes, ReadFileToString(&mem_, path));
    ASSERT_OK_AND_ASSIGN(internal::FrameIndexFile file, internal::DecodeFrameIndex(bytes));
    ASSERT_GE(file.frames.size(), 3u);
    ASSERT_EQ(file.frames[0].first, 2u);
    ASSERT_EQ(file.frames[1].first, 1u);
    std::swap(file.frames[0], file.frames[1]);
    testing::WriteFileAtomicallyOrFail(&mem_, path, internal::EncodeFrameIndex(file));
  }
};

// A restore from a replica misframes every sealed segment, not one: one iterator that
// seeks into each of them walks each instead, however many (a scan from a segment's
// start follows the headers, not the file; a Seek lands where the file says).
TEST_F(WalPlausibleFrameIndexTest, OneIteratorWalksEveryMisframedSegment) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    for (int i = 0; i < 60; ++i) {
      Append(wal.get(), 2, 100, 2);
      Append(wal.get(), 1, 100, 1);
    }
    ASSERT_OK(wal->Close());
  }
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 5u);
  for (size_t s = 0; s + 1 < segments.size(); ++s) {
    const std::string path = Path(FrameIndexFileName(segments[s]));
    ASSERT_OK_AND_ASSIGN(const std::string bytes, ReadFileToString(&mem_, path));
    ASSERT_OK_AND_ASSIGN(internal::FrameIndexFile file, internal::DecodeFrameIndex(bytes));
    size_t i = 0;  // two neighbours that differ, before the last frame
    while (i + 2 < file.frames.size() && file.frames[i] == file.frames[i + 1]) ++i;
    ASSERT_LT(i + 2, file.frames.size()) << segments[s];
    std::swap(file.frames[i], file.frames[i + 1]);
    testing::WriteFileAtomicallyOrFail(&mem_, path, internal::EncodeFrameIndex(file));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal->NewIterator(kStream, 0));
  for (size_t s = 0; s + 1 < segments.size(); ++s) {
    for (uint64_t id = segments[s] + 1; id < segments[s] + 4; ++id) {
      it->Seek(id);
      ASSERT_TRUE(it->Valid()) << "ID " << id << ": " << it->status();
      EXPECT_EQ(it->value(), contents_[id]) << "ID " << id;
    }
  }
  ASSERT_OK(it->status());
}

TEST_F(WalPlausibleFrameIndexTest, GetAndScanWalkInstead) {
  WriteAndMisframe();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    ExpectEveryEntry(wal.get());
    ASSERT_OK(wal->Close());
  }
  EXPECT_FALSE(Exists(FrameIndexFileName(0))) << "a read-write Wal removes the file";
}

TEST_F(WalPlausibleFrameIndexTest, EachKindOfReadWalksInstead) {
  for (int kind = 0; kind < 5; ++kind) {
    SCOPED_TRACE(kind);
    WriteAndMisframe();
    options_.read_only = true;  // leaves the file for the next kind
    options_.block_cache_size = kind == 4 ? 1 << 20 : 0;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    switch (kind) {
      case 0:
        EXPECT_THAT(wal->Get(kStream, 1), IsOkAndHolds(contents_[1]));
        break;
      case 1: {
        std::vector<absl::StatusOr<std::string>> got = wal->MultiGet(kStream, {2, 1, 0});
        ASSERT_EQ(got.size(), 3u);
        EXPECT_THAT(got[0], IsOkAndHolds(contents_[2]));
        EXPECT_THAT(got[1], IsOkAndHolds(contents_[1]));
        EXPECT_THAT(got[2], IsOkAndHolds(contents_[0]));
        break;
      }
      case 2:
        EXPECT_THAT(
            wal->ReadRange(kStream, 1, 4, 1 << 20),
            IsOkAndHolds(std::vector<std::string>{contents_[1], contents_[2], contents_[3]}));
        break;
      case 4:  // through the block cache (Wal::Impl::GetCached)
        EXPECT_THAT(wal->Get(kStream, 1), IsOkAndHolds(contents_[1]));
        EXPECT_THAT(wal->Get(kStream, 0), IsOkAndHolds(contents_[0]));
        break;
      case 3: {
        ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal->NewIterator(kStream, 1));
        ASSERT_TRUE(it->Valid()) << it->status();
        EXPECT_EQ(it->value(), contents_[1]);
        it->Next();
        ASSERT_TRUE(it->Valid()) << it->status();
        EXPECT_EQ(it->value(), contents_[2]);
        break;
      }
    }
    EXPECT_TRUE(Exists(FrameIndexFileName(0))) << "a read-only Wal removes nothing";
    ExpectEveryEntry(wal.get());
    wal.reset();
    options_.read_only = false;
    ASSERT_OK(mem_.RemoveFile(Path(FrameIndexFileName(0))));
    // The next kind starts from a fresh directory.
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, mem_.GetChildren(Path("")));
    for (const std::string& name : names) ASSERT_OK(mem_.RemoveFile(Path(name)));
    ASSERT_OK(mem_.RemoveDir(absl::StrCat(kRoot, "/", kStream)));
    next_id_ = 0;
    contents_.clear();
  }
}

// Damage in a segment whose file is right: the DataLoss is real. The walk that tells so
// happens once (later reads of the damaged frame read only it), the file stays, and the
// frames after the damage stay readable through it.
TEST_F(WalFrameIndexTest, DamageUnderARightFrameIndexIsWalkedOnceAndKeepsTheFile) {
  Write(100, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  const uint64_t frame = 32 + 4 + 100;
  FlipByte(&mem_, Path(SegmentFileName(0)), 3 * frame + 50);  // frame 3's payload
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  EXPECT_THAT(wal->Get(kStream, 3), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(wal->Get(kStream, 4), IsOkAndHolds(contents_[4]));
  counting_.segment_bytes_read = 0;
  EXPECT_THAT(wal->Get(kStream, 3), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_LE(counting_.segment_bytes_read, 4 * frame) << "walked again";
  EXPECT_TRUE(Exists(FrameIndexFileName(0)));
}

// A suffix truncation cuts the segment at the offset of the frame holding its first
// removed ID: through the stale file that offset is inside another frame, and the entries
// before the cut would go with it.
TEST_F(WalPlausibleFrameIndexTest, ASuffixTruncationCutsWhereTheFrameReallyIs) {
  WriteAndMisframe();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    // Keeps ID 0 of the first frame [0, 2); the file puts ID 1's frame inside that one.
    ASSERT_OK(wal->TruncateSuffix(kStream, 1));
    next_id_ = 1;
    contents_.resize(1);
    ExpectEveryEntry(wal.get());
    Append(wal.get(), 5, 100);
    ExpectEveryEntry(wal.get());
    ASSERT_OK(wal->Close());
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ExpectEveryEntry(wal.get());
}

// verify reads the files as the first read of each segment would, and compares them with
// its walk: a file a read would not take, one that frames the segment otherwise and one
// of no sealed segment are notes (a hint costs a walk, never an entry: no finding).
TEST_F(WalPlausibleFrameIndexTest, VerifyNotesTheFramesFilesReadsWouldGiveUp) {
  WriteAndMisframe();
  const std::vector<uint64_t> segments = Segments();
  MaintenanceOptions maintenance;
  maintenance.env = &mem_;
  {
    // Before any more damage: only the misframed file is noted.
    ASSERT_OK_AND_ASSIGN(const VerifyReport report, VerifyRoot(kRoot, maintenance));
    ASSERT_EQ(report.streams.size(), 1u);
    EXPECT_TRUE(report.clean());
    EXPECT_THAT(report.streams[0].notes,
                ElementsAre(HasSubstr(Path(FrameIndexFileName(0)) +
                                      ": does not describe the frame at byte 0")));
  }
  FlipByte(&mem_, Path(FrameIndexFileName(segments[1])), 40);
  ASSERT_OK_AND_ASSIGN(const std::string bytes,
                       ReadFileToString(&mem_, Path(FrameIndexFileName(segments[1]))));
  testing::WriteFileAtomicallyOrFail(&mem_, Path(FrameIndexFileName(segments.back())), bytes);
  ASSERT_OK_AND_ASSIGN(const VerifyReport report, VerifyRoot(kRoot, maintenance));
  EXPECT_TRUE(report.clean());
  EXPECT_THAT(
      report.streams[0].notes,
      UnorderedElementsAre(
          HasSubstr(Path(FrameIndexFileName(0)) + ": does not describe the frame at byte 0"),
          AllOf(HasSubstr(Path(FrameIndexFileName(segments[1]))),
                HasSubstr(": frame index: crc mismatch"),
                HasSubstr("reads walk the segment instead")),
          HasSubstr(Path(FrameIndexFileName(segments.back())) + ": no sealed segment starts")));
}

// A file far larger than any frame index of the segment could be is not read (nor one that
// is not a regular file: opening never blocks), and the segment is walked.
TEST_F(WalFrameIndexTest, AnOversizedOrIrregularFrameIndexIsNotRead) {
  Write(120, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  const std::string huge = FrameIndexFileName(segments[0]);
  testing::WriteFileAtomicallyOrFail(&mem_, Path(huge), std::string(1 << 20, 'x'));
  const std::string dir = FrameIndexFileName(segments[1]);
  ASSERT_OK(mem_.RemoveFile(Path(dir)));
  ASSERT_OK(mem_.CreateDir(Path(dir)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ExpectEveryEntry(wal.get());
  ASSERT_OK(wal->Close());
  EXPECT_FALSE(Exists(huge));
  EXPECT_TRUE(mem_.GetFileType(Path(dir)).ok());  // not a file: left alone
}

// A full disk while the file is written fails nothing: the rotation goes on, no file and
// no temporary file is left, and the segment is walked when first read.
TEST_F(WalFrameIndexTest, AFullDiskAtItsWriteOnlyCostsTheWalk) {
  FaultInjectionEnv faults(&mem_);
  FaultRule rule;
  rule.op = SimOp::kAppend;
  rule.fault = SimFault::kNoSpace;
  rule.path_pattern = "*.frames.tmp";
  faults.AddFaultRule(rule);
  options_.env = &faults;
  Write(120, 100);
  options_.env = &counting_;
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, mem_.GetChildren(Path("")));
  for (const std::string& name : names) {
    EXPECT_EQ(internal::ClassifyStreamFile(name).kind == internal::StreamFileKind::kFrameIndex ||
                  internal::ClassifyStreamFile(name).kind == internal::StreamFileKind::kTemp,
              false)
        << name;
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ExpectEveryEntry(wal.get());
}

// A read that fails while the last frame is checked says nothing about the file: the
// segment is walked for that read (the Get still answers), and the file stays for the
// next process. (It used to be removed as if it were wrong.)
TEST_F(WalFrameIndexTest, AFailedReadAtTheCheckKeepsTheFile) {
  Write(120, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  FaultInjectionEnv faults(&counting_);
  options_.env = &faults;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  FaultRule rule;
  rule.op = SimOp::kRead;
  rule.fault = SimFault::kIoError;
  rule.path_pattern = "*/" + SegmentFileName(segments[0]);
  rule.nth = 1;  // the first read of that segment: the check of its last frame
  rule.max_fires = 1;
  faults.AddFaultRule(rule);
  EXPECT_THAT(wal->Get(kStream, 2), IsOkAndHolds(contents_[2]));
  EXPECT_TRUE(Exists(FrameIndexFileName(segments[0])));
  ASSERT_OK(wal->Close());
}

// Read-only: the same damage is walked past, and nothing is removed.
TEST_F(WalFrameIndexTest, AReadOnlyOpenRemovesNothing) {
  Write(120, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  const std::string damaged = FrameIndexFileName(segments[0]);
  FlipByte(&mem_, Path(damaged), 40);
  options_.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ExpectEveryEntry(wal.get());
  ASSERT_OK(wal->Close());
  EXPECT_TRUE(Exists(damaged));
}

// A suffix truncation into a sealed segment hands its IDs out again: the frame indexes of
// that segment and every later one go before anything changes, and after new appends in
// another layout (batches, other sizes) sealed it again, a reopened Wal reads the new
// entries. Without the removal the old file (same start, other frames) would be found.
TEST_F(WalFrameIndexTest, ASuffixTruncationRemovesTheFrameIndexesItInvalidates) {
  Write(200, 100);
  std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 5u);
  const uint64_t cut = segments[2] + 5;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    ASSERT_OK(wal->TruncateSuffix(kStream, cut));
    next_id_ = cut;
    contents_.resize(cut);
    EXPECT_TRUE(Exists(FrameIndexFileName(segments[1])));
    for (size_t i = 2; i < segments.size(); ++i) {
      EXPECT_FALSE(Exists(FrameIndexFileName(segments[i]))) << segments[i];
    }
    Append(wal.get(), 150, 57, 4);
    ASSERT_OK(wal->Close());
  }
  EXPECT_TRUE(Exists(FrameIndexFileName(segments[2])));  // sealed again, anew
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ExpectEveryEntry(wal.get());
}

// A reset removes them all; a truncation those of the segments it removes.
TEST_F(WalFrameIndexTest, TruncationAndResetRemoveTheirFrameIndexes) {
  Write(200, 100);
  const std::vector<uint64_t> segments = Segments();
  ASSERT_GE(segments.size(), 5u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
  ASSERT_OK(wal->Truncate(kStream, segments[2]).status());
  EXPECT_FALSE(Exists(FrameIndexFileName(segments[0])));
  EXPECT_FALSE(Exists(FrameIndexFileName(segments[1])));
  EXPECT_TRUE(Exists(FrameIndexFileName(segments[2])));
  ASSERT_OK(wal->ResetStream(kStream, 7));
  absl::StatusOr<std::vector<std::string>> names = mem_.GetChildren(Path(""));
  ASSERT_OK(names.status());
  for (const std::string& name : *names) {
    EXPECT_EQ(internal::ClassifyStreamFile(name).kind == internal::StreamFileKind::kFrameIndex,
              false)
        << name;
  }
}

}  // namespace
}  // namespace ironwal
