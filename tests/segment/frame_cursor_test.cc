#include "ironwal/segment/frame_cursor.h"

#include <string>

#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/segment/segment_test_util.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::AddFrame;
using ::ironwal::testing::Frames;
using ::ironwal::testing::OpenRead;
using ::ironwal::testing::WriteFileAtomicallyOrFail;

class FrameCursorTest : public ::testing::TestWithParam<bool> {  // mmap?
 protected:
  MemEnv env_;
};

TEST_P(FrameCursorTest, WalksFramesThenEnds) {
  std::string bytes = Frames(0, 3);
  AddFrame(&bytes, 3, {std::string(10000, 'b'), "c"});  // bigger than the read buffer
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  auto file = OpenRead(&env_, "/s.wal", GetParam());
  FrameCursor cursor(file.get(), 0, bytes.size(), /*buffer_size=*/64);
  for (uint64_t id = 0; id < 4; ++id) {
    ASSERT_OK_AND_ASSIGN(FrameCursor::Item item, cursor.Next());
    ASSERT_EQ(item.kind, FrameCursor::Kind::kFrame);
    EXPECT_EQ(item.header.start_id, id);
    EXPECT_EQ(item.payload.size(), item.header.disk_size);
    EXPECT_OK(VerifyFramePayload(item.header, item.payload));
  }
  ASSERT_OK_AND_ASSIGN(FrameCursor::Item end, cursor.Next());
  EXPECT_EQ(end.kind, FrameCursor::Kind::kEnd);
  EXPECT_EQ(end.offset, bytes.size());
}

TEST_P(FrameCursorTest, ReportsWhatIsNotAFrame) {
  const std::string good = Frames(0, 1);
  const struct {
    std::string tail;
    FrameCursor::Kind kind;
  } cases[] = {
      {std::string(10, 'x'), FrameCursor::Kind::kTruncatedHeader},
      {std::string(64, '\0'), FrameCursor::Kind::kBadHeader},
      {Frames(1, 1).substr(0, 35), FrameCursor::Kind::kTruncatedPayload},
  };
  for (const auto& c : cases) {
    WriteFileAtomicallyOrFail(&env_, "/s.wal", good + c.tail);
    auto file = OpenRead(&env_, "/s.wal", GetParam());
    FrameCursor cursor(file.get(), 0, good.size() + c.tail.size(), 4096);
    ASSERT_OK(cursor.Next().status());
    ASSERT_OK_AND_ASSIGN(FrameCursor::Item item, cursor.Next());
    EXPECT_EQ(item.kind, c.kind);
    EXPECT_EQ(item.offset, good.size());
    EXPECT_EQ(cursor.offset(), good.size()) << "only a frame moves the cursor";
  }
}

TEST_P(FrameCursorTest, LimitHidesWhatIsNotPublishedYet) {
  const std::string bytes = Frames(0, 3);
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  auto file = OpenRead(&env_, "/s.wal", GetParam());
  const uint64_t one = Frames(0, 1).size();
  FrameCursor cursor(file.get(), 0, one, 4096);
  ASSERT_OK(cursor.Next().status());
  ASSERT_OK_AND_ASSIGN(FrameCursor::Item end, cursor.Next());
  EXPECT_EQ(end.kind, FrameCursor::Kind::kEnd);
  cursor.set_limit(bytes.size());
  ASSERT_OK_AND_ASSIGN(FrameCursor::Item next, cursor.Next());
  EXPECT_EQ(next.kind, FrameCursor::Kind::kFrame);
  EXPECT_EQ(next.header.start_id, 1u);
}

// BytesAtHand is the file's bytes from the cursor, never past the limit: the whole rest
// of a mapping, or what the read-ahead buffer holds (nothing before the first read).
TEST_P(FrameCursorTest, BytesAtHandAreTheFilesBytesUpToTheLimit) {
  const std::string bytes = Frames(0, 20);
  WriteFileAtomicallyOrFail(&env_, "/s.wal", bytes);
  auto file = OpenRead(&env_, "/s.wal", GetParam());
  const uint64_t limit = bytes.size() - 7;
  FrameCursor cursor(file.get(), 0, limit, /*buffer_size=*/64);
  if (GetParam()) {
    EXPECT_EQ(cursor.BytesAtHand(), absl::string_view(bytes).substr(0, limit));
  } else {
    EXPECT_TRUE(cursor.BytesAtHand().empty());
  }
  ASSERT_OK_AND_ASSIGN(const FrameCursor::Item first, cursor.Next());
  ASSERT_EQ(first.kind, FrameCursor::Kind::kFrame);
  const absl::string_view hand = cursor.BytesAtHand();
  ASSERT_FALSE(hand.empty());
  EXPECT_EQ(hand, absl::string_view(bytes).substr(cursor.offset(), hand.size()));
  EXPECT_LE(cursor.offset() + hand.size(), limit);
  cursor.Skip(3);
  EXPECT_EQ(cursor.BytesAtHand(), hand.substr(3));
  cursor.Seek(limit);
  EXPECT_TRUE(cursor.BytesAtHand().empty());
}

INSTANTIATE_TEST_SUITE_P(ReadStrategies, FrameCursorTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Mmap" : "Pread"; });

}  // namespace
}  // namespace internal
}  // namespace ironwal
