#include "ironwal/segment/segment_reader.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/lz4_frame.h"

#include "tests/segment/segment_test_util.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::AddFrame;
using ::ironwal::testing::Frames;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::ironwal::testing::WriteFileAtomicallyOrFail;
using ::testing::HasSubstr;

class SegmentReaderTest : public ::testing::TestWithParam<bool> {  // mmap?
 protected:
  SegmentReaderOptions Options() const {
    SegmentReaderOptions o;
    o.use_mmap = GetParam();
    return o;
  }
  MemEnv env_;
};

TEST_P(SegmentReaderTest, SealedSegmentReadsEveryEntry) {
  std::string bytes = Frames(10, 3);
  AddFrame(&bytes, 13, {"x", "yy", "zzz"});
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  ASSERT_OK_AND_ASSIGN(auto reader, SegmentReader::OpenSealed(&env_, "/s.wal", 10, 16, Options()));
  for (uint64_t id = 10; id < 16; ++id) {
    auto where = reader->index().Find(id);
    ASSERT_TRUE(where.has_value()) << id;
    ASSERT_OK_AND_ASSIGN(VerifiedFrame frame, reader->ReadFrame(*where));
    const std::string expected = id < 13
                                     ? "e" + std::to_string(id)
                                     : std::string(static_cast<size_t>(id - 12), "xyz"[id - 13]);
    EXPECT_THAT(frame.Entry(id), IsOkAndHolds(expected));
  }
}

TEST_P(SegmentReaderTest, CompressedFramesDecode) {
  std::string bytes;
  FrameEncodeOptions lz4;
  lz4.lz4 = true;
  lz4.min_compression_size = 0;
  const std::string big(5000, 'q');
  ASSERT_OK(AppendFrame(0, {big, "tail"}, lz4, &bytes));
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  ASSERT_OK_AND_ASSIGN(auto reader, SegmentReader::OpenSealed(&env_, "/s.wal", 0, 2, Options()));
  ASSERT_OK_AND_ASSIGN(VerifiedFrame frame, reader->ReadFrame(*reader->index().Find(1)));
  EXPECT_EQ(frame.header().codec, format::Codec::kLz4);
  EXPECT_THAT(frame.Entry(0), IsOkAndHolds(big));
  EXPECT_THAT(frame.Entry(1), IsOkAndHolds("tail"));
}

TEST_P(SegmentReaderTest, CorruptFrameIsDataLossNamingFileAndOffset) {
  std::string bytes = Frames(0, 3);
  const uint64_t second = Frames(0, 1).size();
  bytes[second + 33] ^= 0x40;
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  ASSERT_OK_AND_ASSIGN(auto reader, SegmentReader::OpenSealed(&env_, "/s.wal", 0, 3, Options()));
  EXPECT_THAT(reader->ReadFrame(*reader->index().Find(1)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("/s.wal@" + std::to_string(second) + ": frame crc")));
  EXPECT_OK(reader->ReadFrame(*reader->index().Find(0)).status());
  EXPECT_OK(reader->ReadFrame(*reader->index().Find(2)).status());
}

TEST_P(SegmentReaderTest, ActiveReaderFollowsTheLiveIndex) {
  auto index = std::make_shared<OffsetIndex>(0);
  std::string bytes = Frames(0, 2);
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  ASSERT_OK_AND_ASSIGN(auto reader, SegmentReader::OpenActive(&env_, "/s.wal", index, Options()));
  EXPECT_EQ(reader->index().Find(0), std::nullopt);  // nothing published yet
  index->Publish(0, 0, 1, Frames(0, 1).size());
  ASSERT_OK_AND_ASSIGN(VerifiedFrame frame, reader->ReadFrame(*reader->index().Find(0)));
  EXPECT_THAT(frame.Entry(0), IsOkAndHolds("e0"));
  // The file grows after the reader opened (and mapped) it; the new frame still reads.
  bytes += Frames(2, 1);
  auto file = env_.NewAppendableFile("/s.wal");
  ASSERT_OK(file.status());
  ASSERT_OK((*file)->Append(Frames(2, 1)));
  index->Publish(1, Frames(0, 1).size(), 1, Frames(1, 1).size());
  index->Publish(2, Frames(0, 2).size(), 1, Frames(2, 1).size());
  ASSERT_OK_AND_ASSIGN(VerifiedFrame last, reader->ReadFrame(*reader->index().Find(2)));
  EXPECT_THAT(last.Entry(2), IsOkAndHolds("e2"));
}

INSTANTIATE_TEST_SUITE_P(ReadStrategies, SegmentReaderTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Mmap" : "Pread"; });

TEST(SegmentReaderFaultTest, TransientBitFlipIsReadAgainNotReported) {
  SimEnv env;
  WriteFileAtomicallyOrFail(&env, "/s.wal", Frames(0, 2));
  SegmentReaderOptions options;
  ASSERT_OK_AND_ASSIGN(auto reader, SegmentReader::OpenSealed(&env, "/s.wal", 0, 2, options));
  FaultRule flip;
  flip.op = SimOp::kRead;
  flip.fault = SimFault::kBitFlip;
  flip.max_fires = 1;
  const int id = env.AddFaultRule(flip);
  ASSERT_OK_AND_ASSIGN(VerifiedFrame frame, reader->ReadFrame(*reader->index().Find(1)));
  EXPECT_THAT(frame.Entry(1), IsOkAndHolds("e1"));
  EXPECT_EQ(env.FaultFires(id), 1u);
}

TEST(SegmentReaderFaultTest, PersistentBitFlipIsDataLoss) {
  SimEnv env;
  WriteFileAtomicallyOrFail(&env, "/s.wal", Frames(0, 2));
  ASSERT_OK_AND_ASSIGN(auto reader,
                       SegmentReader::OpenSealed(&env, "/s.wal", 0, 2, SegmentReaderOptions()));
  FaultRule flip;
  flip.op = SimOp::kRead;
  flip.fault = SimFault::kBitFlip;
  env.AddFaultRule(flip);
  EXPECT_THAT(reader->ReadFrame(*reader->index().Find(1)), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
