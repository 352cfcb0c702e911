#include "ironwal/segment/segment_writer.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SegmentWriterTest, FramesStayInTheBufferUntilFlushed) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  ASSERT_OK_AND_ASSIGN(const FrameLocation a, writer->AppendFrame(0, {"abc"}, {}));
  ASSERT_OK_AND_ASSIGN(const FrameLocation b, writer->AppendFrame(1, {"d", "e"}, {}));
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(a.size, 39u);
  EXPECT_EQ(b.offset, 39u);
  EXPECT_EQ(b.entry_count, 2u);
  EXPECT_EQ(writer->size(), 39u + 42);
  EXPECT_EQ(writer->flushed_size(), 0u);
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(0u));
  std::string copy;
  EXPECT_TRUE(writer->ReadBuffered(39, 42, &copy));
  EXPECT_EQ(copy.size(), 42u);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(writer->flushed_size(), 81u);
  EXPECT_EQ(writer->synced_size(), 0u);
  EXPECT_FALSE(writer->ReadBuffered(39, 42, &copy));
  ASSERT_OK(writer->Sync());
  EXPECT_EQ(writer->synced_size(), 81u);
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(81u));
}

TEST(SegmentWriterTest, SyncMakesFramesDurable) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  ASSERT_OK(env.SyncDir("/"));
  ASSERT_OK(writer->AppendFrame(0, {"durable"}, {}).status());
  ASSERT_OK(writer->Sync());
  ASSERT_OK(writer->AppendFrame(1, {"not yet"}, {}).status());
  ASSERT_OK(writer->Flush());
  ASSERT_OK_AND_ASSIGN(const std::string durable, env.DurableContents("/s.wal"));
  EXPECT_EQ(durable.size(), 32u + 4 + 7);
}

// Each frame's stamp records the distance back to what was synced when it was encoded,
// and the tag of the directory holding the file.
TEST(SegmentWriterTest, FramesAreStampedWithTheSyncedSizeAndTheDirectorysTag) {
  MemEnv env;
  ASSERT_OK(env.CreateDir("/orders"));
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/orders/0.wal", 0));
  ASSERT_OK(writer->AppendFrame(0, {"a"}, {}).status());
  ASSERT_OK(writer->AppendFrame(1, {"b"}, {}).status());
  ASSERT_OK(writer->Sync());
  const uint64_t synced = writer->synced_size();
  ASSERT_OK(writer->AppendFrame(2, {"c"}, {}).status());
  ASSERT_OK(writer->AppendFrame(3, {"d"}, {}).status());
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(const std::string bytes, ReadFileToString(&env, "/orders/0.wal"));
  const uint8_t tag = StreamTag("orders");
  std::vector<uint64_t> proven;
  for (uint64_t offset = 0; offset < bytes.size();) {
    ASSERT_OK_AND_ASSIGN(const FrameHeader h,
                         DecodeFrameHeader(absl::string_view(bytes).substr(offset)));
    ASSERT_EQ(ReadFrameStamp(h, tag).kind, StampReading::Kind::kThisStream);
    proven.push_back(ProvenFrontier(h, offset, tag));
    offset += h.frame_size();
  }
  EXPECT_THAT(proven, ::testing::ElementsAre(0u, 0u, synced, synced));
}

TEST(SegmentWriterTest, RollbackCutsBufferAndFile) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  ASSERT_OK(writer->AppendFrame(0, {"a"}, {}).status());
  ASSERT_OK(writer->Flush());
  const uint64_t good = writer->size();
  ASSERT_OK(writer->AppendFrame(1, {"b"}, {}).status());
  ASSERT_OK(writer->Flush());
  ASSERT_OK(writer->AppendFrame(2, {"c"}, {}).status());
  ASSERT_OK(writer->Rollback(good));
  EXPECT_EQ(writer->size(), good);
  EXPECT_EQ(writer->buffered_bytes(), 0u);
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(good));
  ASSERT_OK(writer->AppendFrame(1, {"b2"}, {}).status());
  ASSERT_OK(writer->Close());
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(good + 38));
}

TEST(SegmentWriterTest, ShortWriteLeavesTheRestBuffered) {
  SimEnvOptions options;
  SimEnv env(options);
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  ASSERT_OK(writer->AppendFrame(0, {std::string(100, 'x')}, {}).status());
  FaultRule rule;
  rule.op = SimOp::kAppend;
  rule.fault = SimFault::kShortWrite;
  rule.nth = 1;
  env.AddFaultRule(rule);
  EXPECT_THAT(writer->Flush(), StatusIs(absl::StatusCode::kInternal));
  EXPECT_LT(writer->flushed_size(), 136u);
  EXPECT_EQ(writer->flushed_size() + writer->buffered_bytes(), 136u);
  ASSERT_OK(writer->Flush());  // the rest goes out once the fault is spent
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(136u));
}

TEST(SegmentWriterTest, ReopenRequiresTheVerifiedSize) {
  MemEnv env;
  ASSERT_OK(WriteFileAtomically(&env, "/s.wal", std::string(50, 'x')));
  EXPECT_THAT(SegmentWriter::Reopen(&env, "/s.wal", 0, 40, 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expected 40")));
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Reopen(&env, "/s.wal", 0, 50, 50));
  EXPECT_EQ(writer->size(), 50u);
  EXPECT_EQ(writer->synced_size(), 50u);
}

// A parked writer (ReopenDetached: no system call at the open) checks the file's size when
// it first takes a descriptor: a file changed behind its back is refused with the path and
// both sizes, and the writer stays detached; the verified size is taken.
TEST(SegmentWriterTest, AttachOfAParkedWriterRequiresTheVerifiedSize) {
  MemEnv env;
  ASSERT_OK(WriteFileAtomically(&env, "/s.wal", std::string(50, 'x')));
  std::unique_ptr<SegmentWriter> writer = SegmentWriter::ReopenDetached(&env, "/s.wal", 0, 50, 50);
  EXPECT_TRUE(writer->detached());
  ASSERT_OK(WriteFileAtomically(&env, "/s.wal", std::string(60, 'x')));
  EXPECT_THAT(writer->Attach(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("/s.wal: file has 60 bytes, expected 50")));
  EXPECT_TRUE(writer->detached());
  ASSERT_OK(WriteFileAtomically(&env, "/s.wal", std::string(50, 'x')));
  ASSERT_OK(writer->Attach());
  EXPECT_FALSE(writer->detached());
  EXPECT_EQ(writer->size(), 50u);
}

// ExtendZeroed: zeros past the frames, synced; later frames are written over them (the
// file keeps its size), and Close cuts the zero tail durably.
TEST(SegmentWriterTest, FramesOverwriteTheZeroTailAndCloseCutsIt) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  ASSERT_OK(env.SyncDir("/"));
  ASSERT_OK(writer->AppendFrame(0, {"abc"}, {}).status());  // 39 bytes, buffered
  ASSERT_OK(writer->ExtendZeroed(4096));
  EXPECT_EQ(writer->flushed_size(), 39u);
  EXPECT_EQ(writer->synced_size(), 39u);  // the zeros' sync covers the frame
  EXPECT_EQ(writer->zeroed_end(), 4096u);
  ASSERT_OK_AND_ASSIGN(std::string durable, env.DurableContents("/s.wal"));
  ASSERT_EQ(durable.size(), 4096u);
  EXPECT_EQ(durable.find_first_not_of('\0', 39), std::string::npos);
  ASSERT_OK(writer->AppendFrame(1, {"d", "e"}, {}).status());  // 42 bytes
  ASSERT_OK(writer->Sync());
  EXPECT_EQ(writer->synced_size(), 81u);
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(4096u));
  ASSERT_OK_AND_ASSIGN(durable, env.DurableContents("/s.wal"));
  EXPECT_NE(durable[39], '\0');  // the second frame's magic, over the zeros
  EXPECT_EQ(durable.find_first_not_of('\0', 81), std::string::npos);
  ASSERT_OK(writer->ExtendZeroed(2048));  // already longer: nothing to do
  EXPECT_EQ(writer->zeroed_end(), 4096u);
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(durable, env.DurableContents("/s.wal"));
  EXPECT_EQ(durable.size(), 81u);
}

TEST(SegmentWriterTest, FramesPastTheZeroTailAreAppended) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  ASSERT_OK(writer->ExtendZeroed(50));
  ASSERT_OK(writer->AppendFrame(0, {"abc"}, {}).status());     // [0, 39): over zeros
  ASSERT_OK(writer->AppendFrame(1, {"d", "e"}, {}).status());  // [39, 81): 11 over, 31 after
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(writer->flushed_size(), 81u);
  EXPECT_EQ(writer->zeroed_end(), 81u);
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(81u));
}

TEST(SegmentWriterTest, CloseUnsyncedAndRollbackCutTheZeroTail) {
  MemEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
    ASSERT_OK(writer->AppendFrame(0, {"abc"}, {}).status());
    ASSERT_OK(writer->ExtendZeroed(1000));
    ASSERT_OK(writer->CloseUnsynced());
    EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(39u));
  }
  // Reopen (after an eviction) finds the file at the size its frames end at.
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Reopen(&env, "/s.wal", 0, 39, 39));
  ASSERT_OK(writer->ExtendZeroed(1000));
  ASSERT_OK(writer->AppendFrame(1, {"d"}, {}).status());
  ASSERT_OK(writer->Rollback(39));  // drops the buffered frame and the zero tail
  EXPECT_EQ(writer->size(), 39u);
  EXPECT_EQ(writer->zeroed_end(), 39u);
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(39u));
}

TEST(SegmentWriterTest, OversizedFrameIsInvalidArgumentAndLeavesNothing) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  EXPECT_THAT(writer->AppendFrame(0, {}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/s.wal@0")));
  EXPECT_EQ(writer->size(), 0u);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
