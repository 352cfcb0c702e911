// Races inside one Stream, put in a fixed order with test points (ironwal/base/test_point.h)
// instead of left to the scheduler: what a reader sees while a writer is halfway through
// publishing or truncating.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/base/test_point.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/stream/stream.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

class StreamRaceTest : public ::testing::Test {
 protected:
  StreamRaceTest() : readers_(4), writers_(4) {
    shared_.options.env = &env_;
    shared_.options.root = "/w";
    shared_.options.sync_mode = SyncMode::kStrict;
    shared_.options.max_entry_size = 1 << 20;
    shared_.options.max_entries_per_segment = 2;
    shared_.readers = &readers_;
    shared_.writers = &writers_;
  }
  void SetUp() override {
    ASSERT_OK(env_.CreateDir("/w"));
    stream_ = Stream::CreateNew(&shared_, "s", "s");
  }
  void TearDown() override { ASSERT_OK(stream_->CloseWriter()); }

  // What a reader must see at any moment: every ID in [first_id(), next_id()) reads back,
  // every ID below first_id() is NotFound.
  void ExpectConsistent() {
    const uint64_t first = stream_->first_id();
    const uint64_t next = stream_->next_id();
    for (uint64_t id = 0; id < next; ++id) {
      absl::StatusOr<std::string> got = stream_->Get(id);
      if (id < first) {
        EXPECT_TRUE(absl::IsNotFound(got.status())) << "ID " << id << ": " << got.status();
      } else {
        EXPECT_THAT(got, IsOkAndHolds(absl::StrCat("v", id)))
            << "ID " << id << " with first_id " << first << ", next_id " << next;
      }
    }
  }

  MemEnv env_;
  ReaderCache readers_;
  WriterBudget writers_;
  Stream::Shared shared_;
  std::unique_ptr<Stream> stream_;
};

// Truncate must move first_id() together with the segment list: a reader in between saw
// the old first ID but a segment list without it ("ID 0 is below the first retained
// ID 0").
TEST_F(StreamRaceTest, TruncateMovesTheFirstIdWithTheSegmentList) {
  for (int i = 0; i < 10; ++i) ASSERT_OK(stream_->Append({absl::StrCat("v", i)}, false).status());
  int reached = 0;
  {
    ScopedTestPoint at("stream.truncate.listed", [&] {
      ++reached;
      ExpectConsistent();
    });
    absl::StatusOr<TruncateResult> truncated = stream_->Truncate(4);
    ASSERT_OK(truncated.status());
    EXPECT_EQ(truncated->first_id, 4u);
  }
  EXPECT_EQ(reached, 1);
  ExpectConsistent();
}

// A reader must never see an ID at or past next_id(): between publishing frames to the
// offset index and advancing next_id(), Get of the new ID is still OutOfRange.
TEST_F(StreamRaceTest, NewFramesStayOutOfReachUntilNextIdMoves) {
  ASSERT_OK(stream_->Append({"v0"}, false).status());
  int reached = 0;
  {
    ScopedTestPoint at("stream.publish.indexed", [&] {
      ++reached;
      EXPECT_EQ(stream_->next_id(), 1u);
      EXPECT_EQ(stream_->Get(1).status().code(), absl::StatusCode::kOutOfRange);
      ExpectConsistent();
    });
    ASSERT_OK(stream_->Append({"v1"}, false).status());
  }
  EXPECT_EQ(reached, 1);
  ExpectConsistent();
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
