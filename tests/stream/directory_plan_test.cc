// PlanDirectory: one test per row of the decision table in
// ironwal/stream/directory_plan.h, on directory states built by hand (the function is
// pure), plus SettleDirectory doing the walks a plan asks for.
#include "ironwal/stream/directory_plan.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

// A stream directory's state, described file by file.
class Dir {
 public:
  Dir& Seg(uint64_t id, uint64_t size = 100) {
    entries_.push_back({SegmentFileName(id), true});
    state_.segment_sizes[id] = size;
    return *this;
  }
  Dir& Index(const std::vector<uint64_t>& ids) { return IndexBytes(EncodeSegmentIndex(ids)); }
  Dir& IndexBytes(std::string bytes) {
    entries_.push_back({format::kSegmentIndexFileName, true});
    state_.index = std::move(bytes);
    return *this;
  }
  Dir& Head(uint64_t id) { return HeadBytes(EncodeHeadState(id)); }
  Dir& HeadBytes(std::string bytes) {
    entries_.push_back({format::kHeadStateFileName, true});
    state_.head = std::move(bytes);
    return *this;
  }
  Dir& Intent(uint64_t first_id) {
    entries_.push_back({format::kTruncateIntentFileName, true});
    state_.truncate_intent = EncodeTruncateIntent(first_id);
    return *this;
  }
  Dir& Lost(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
    return LostBytes(EncodeLostIds(ranges));
  }
  Dir& LostBytes(std::string bytes) {
    entries_.push_back({format::kLostIdsFileName, true});
    state_.lost_ids = std::move(bytes);
    return *this;
  }
  Dir& Sealed(const std::map<uint64_t, uint64_t>& sizes) {
    entries_.push_back({format::kSealedSizesFileName, true});
    state_.sealed_sizes = EncodeSealedSizes(sizes);
    return *this;
  }
  Dir& File(std::string name, bool regular = true) {
    entries_.push_back({std::move(name), regular});
    return *this;
  }
  // Segment `id`'s frames end at `end_id` (cleanly: at the end of the file).
  Dir& Walk(uint64_t id, uint64_t end_id, bool clean = true) {
    state_.walked[id] = {end_id, clean, clean ? "" : "damage"};
    return *this;
  }
  DirectoryPlan Plan(bool repair = false) {
    state_.listing = ListStreamEntries(entries_);
    PlanOptions options;
    options.repair = repair;
    return PlanDirectory(state_, options);
  }

 private:
  DirectoryState state_;
  std::vector<StreamDirEntry> entries_;
};

bool Has(const DirectoryPlan& plan, char row) { return plan.rows.find(row) != std::string::npos; }

TEST(DirectoryPlanTest, RowANotAStream) {
  const DirectoryPlan plan = Dir().File("notes.txt").File("x.tmp").Plan();
  EXPECT_FALSE(plan.is_stream);
  EXPECT_EQ(plan.rows, "a");
  EXPECT_FALSE(plan.changes_disk());
}

TEST(DirectoryPlanTest, RowBAnIronwalNameThatIsNotARegularFileIsRefused) {
  const DirectoryPlan plan =
      Dir().Seg(0).Index({0}).File(SegmentFileName(100), /*regular=*/false).Plan(true);
  EXPECT_TRUE(Has(plan, 'b'));
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("is not a regular file")));
  EXPECT_EQ(plan.findings.front().fix, PlanFix::kNone);
  // Any type: a stream.key that is a link counts as well.
  EXPECT_TRUE(Has(Dir().Seg(0).Index({0}).File("stream.key", false).Plan(), 'b'));
}

TEST(DirectoryPlanTest, RowCTempFilesAreRemoved) {
  const DirectoryPlan plan = Dir().Seg(0).Index({0}).File("segments.idx.tmp").Plan();
  EXPECT_TRUE(Has(plan, 'c'));
  EXPECT_THAT(plan.remove, ElementsAre("segments.idx.tmp"));
  EXPECT_FALSE(plan.refusal.has_value());
}

TEST(DirectoryPlanTest, RowDMissingMalformedOrEmptyIndexIsRebuilt) {
  DirectoryPlan plan = Dir().Seg(0).Seg(4).Walk(0, 4).Plan();
  EXPECT_TRUE(Has(plan, 'd'));
  EXPECT_THAT(plan.segments, ElementsAre(0, 4));
  EXPECT_TRUE(plan.rewrite_index);
  EXPECT_EQ(plan.index_problem, "segments.idx is missing");

  plan = Dir().Seg(0).Seg(4).Walk(0, 4).IndexBytes(EncodeSegmentIndex({0}) + "x").Plan();
  EXPECT_TRUE(plan.index_rebuilt);
  EXPECT_THAT(plan.findings.front().offset, Optional(8u));

  plan = Dir().Seg(0).Seg(4).Walk(0, 4).IndexBytes("").Plan();
  EXPECT_EQ(plan.index_problem, "segments.idx is empty");
  EXPECT_THAT(plan.segments, ElementsAre(0, 4));

  // The index and every segment gone, head.state left: the entries were removed.
  plan = Dir().Head(0).Plan(true);
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("every segment file are missing")));
  // stream.key alone: a new stream that never wrote.
  plan = Dir().File("stream.key").Plan();
  EXPECT_TRUE(plan.fresh);
  EXPECT_FALSE(plan.refusal.has_value());
}

TEST(DirectoryPlanTest, RowEHeadStateNamingANewerSegmentRebuildsTheIndex) {
  const DirectoryPlan plan = Dir().Seg(0).Seg(4).Index({0}).Head(4).Walk(0, 4).Plan();
  EXPECT_TRUE(Has(plan, 'e'));
  EXPECT_THAT(plan.segments, ElementsAre(0, 4));
  EXPECT_FALSE(plan.refusal.has_value());
}

TEST(DirectoryPlanTest, RowFAnUnlistedSegmentHoldingDataIsAdopted) {
  const DirectoryPlan plan = Dir().Seg(0).Seg(4).Index({0}).Walk(0, 4).Plan();
  EXPECT_TRUE(Has(plan, 'f'));
  EXPECT_THAT(plan.segments, ElementsAre(0, 4));
  EXPECT_TRUE(plan.rewrite_index);
}

TEST(DirectoryPlanTest, RowGTruncateIntentConfirmsTheLeftoversBelowTheIndex) {
  const DirectoryPlan plan = Dir().Seg(0).Seg(4).Index({4}).Intent(4).Plan();
  EXPECT_TRUE(Has(plan, 'g'));
  EXPECT_THAT(plan.segments, ElementsAre(4));
  EXPECT_THAT(plan.remove, Contains(SegmentFileName(0)));
  EXPECT_THAT(plan.remove, Contains("truncate.intent"));
}

TEST(DirectoryPlanTest, RowHSegmentsBelowTheIndexWithoutAnIntentAreAdopted) {
  Dir dir;
  dir.Seg(0).Seg(4).Seg(8).Index({8});
  DirectoryPlan plan = dir.Plan();
  EXPECT_THAT(plan.walks_needed, ElementsAre(0, 4));  // the adopted boundaries are proved
  plan = dir.Walk(0, 4).Walk(4, 8).Plan();
  EXPECT_TRUE(Has(plan, 'h'));
  EXPECT_THAT(plan.remove, IsEmpty());
  EXPECT_THAT(plan.segments, ElementsAre(0, 4, 8));
  EXPECT_FALSE(plan.refusal.has_value());
  // An intent naming another first ID confirms nothing.
  EXPECT_TRUE(Has(Dir().Seg(0).Seg(4).Index({4}).Intent(2).Walk(0, 4).Plan(), 'h'));
  // Empty files below the index hold nothing: removed.
  plan = Dir().Seg(0, 0).Seg(4).Index({4}).Plan();
  EXPECT_THAT(plan.remove, ElementsAre(SegmentFileName(0)));
  EXPECT_THAT(plan.segments, ElementsAre(4));
}

TEST(DirectoryPlanTest, RowIAnEmptyUnlistedSegmentPastTheLastIsRemoved) {
  const DirectoryPlan plan = Dir().Seg(0).Seg(4, 0).Index({0}).Plan();
  EXPECT_TRUE(Has(plan, 'i'));
  EXPECT_THAT(plan.remove, ElementsAre(SegmentFileName(4)));
  EXPECT_THAT(plan.segments, ElementsAre(0));
}

TEST(DirectoryPlanTest, RowJMissingLeadingSegmentsAreDropped) {
  const DirectoryPlan plan = Dir().Seg(4).Seg(8).Index({0, 4, 8}).Plan();
  EXPECT_TRUE(Has(plan, 'j'));
  EXPECT_THAT(plan.segments, ElementsAre(4, 8));
  EXPECT_TRUE(plan.rewrite_index);
}

TEST(DirectoryPlanTest, RowKAMissingMiddleSegmentIsLostUnlessTheOneBeforeCoversIt) {
  DirectoryPlan plan = Dir().Seg(0).Seg(8).Index({0, 4, 8}).Walk(0, 4).Plan(true);
  EXPECT_TRUE(Has(plan, 'k'));
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("IDs [4, 8) are lost")));
  // Merged files: segment 0's frames run on to 8.
  plan = Dir().Seg(0).Seg(8).Index({0, 4, 8}).Walk(0, 8).Plan();
  EXPECT_FALSE(plan.refusal.has_value());
  EXPECT_THAT(plan.segments, ElementsAre(0, 8));
  EXPECT_TRUE(plan.rewrite_index);
}

TEST(DirectoryPlanTest, RowLAnActiveSegmentWithoutFramesMustStartWhereTheOneBeforeEnds) {
  // Where the segment before ends: ironwal 0.6 lists a segment before creating it.
  DirectoryPlan plan = Dir().Seg(0).Index({0, 5}).Walk(0, 5).Plan();
  EXPECT_THAT(plan.segments, ElementsAre(0, 5));
  EXPECT_FALSE(plan.active_exists);
  EXPECT_FALSE(Has(plan, 'l'));
  // Short of it (issue 8 section 4): refused under kError, dropped under repair.
  plan = Dir().Seg(0).Index({0, 500}).Plan();
  EXPECT_THAT(plan.walks_needed, ElementsAre(0));
  plan = Dir().Seg(0).Index({0, 500}).Walk(0, 5).Plan();
  EXPECT_TRUE(Has(plan, 'l'));
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("IDs [5, 500) are in no file")));
  plan = Dir().Seg(0).Index({0, 500}).Walk(0, 5).Plan(/*repair=*/true);
  EXPECT_FALSE(plan.refusal.has_value());
  EXPECT_THAT(plan.segments, ElementsAre(0));
  // Inside it (an extra start ID): dropped whatever the policy; an empty file goes too.
  plan = Dir().Seg(0).Seg(5, 0).Index({0, 5}).Walk(0, 10).Plan();
  EXPECT_FALSE(plan.refusal.has_value());
  EXPECT_THAT(plan.segments, ElementsAre(0));
  EXPECT_THAT(plan.remove, ElementsAre(SegmentFileName(5)));
}

TEST(DirectoryPlanTest, RowMAnAdoptedSegmentThatDoesNotContinueIsRefused) {
  const DirectoryPlan plan = Dir().Seg(0).Seg(4).Index({0}).Walk(0, 6).Plan(true);
  EXPECT_TRUE(Has(plan, 'm'));
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("may belong to another stream")));
}

TEST(DirectoryPlanTest, RowNAMalformedHeadStateIsRewritten) {
  const DirectoryPlan plan = Dir().Seg(0).Index({0}).HeadBytes("junk").Plan();
  EXPECT_TRUE(Has(plan, 'n'));
  EXPECT_THAT(plan.head_state_problem, Not(IsEmpty()));
  EXPECT_TRUE(plan.changes_disk());
}

TEST(DirectoryPlanTest, RowOATruncateIntentIsRemoved) {
  const DirectoryPlan plan = Dir().Seg(4).Index({4}).Intent(4).Plan();
  EXPECT_TRUE(Has(plan, 'o'));
  EXPECT_THAT(plan.remove, ElementsAre("truncate.intent"));
  EXPECT_THAT(plan.segments, ElementsAre(4));
}

TEST(DirectoryPlanTest, RowPAGapLostIdsRecordsIsAccepted) {
  // The active segment 10 (no frame yet) after 0, whose frames end at 8: IDs [8, 10) are
  // in no file. Recorded as lost by a repair: accepted under either policy.
  DirectoryPlan plan = Dir().Seg(0).Seg(10, 0).Index({0, 10}).Walk(0, 8).Lost({{8, 10}}).Plan();
  EXPECT_TRUE(Has(plan, 'p'));
  EXPECT_FALSE(plan.refusal.has_value());
  EXPECT_THAT(plan.segments, ElementsAre(0, 10));
  EXPECT_THAT(plan.lost, ElementsAre(std::make_pair(8u, 10u)));
  // A record that does not cover the whole gap explains nothing.
  plan = Dir().Seg(0).Seg(10, 0).Index({0, 10}).Walk(0, 8).Lost({{9, 10}}).Plan();
  EXPECT_FALSE(Has(plan, 'p'));
  EXPECT_TRUE(plan.refusal.has_value());
  // Nor does one for a segment whose walk stopped at damage.
  plan = Dir().Seg(0).Seg(10, 0).Index({0, 10}).Walk(0, 8, false).Lost({{8, 10}}).Plan();
  EXPECT_FALSE(Has(plan, 'p'));
  EXPECT_TRUE(plan.refusal.has_value());
  // An adopted segment (row m) continuing past a recorded gap.
  plan = Dir().Seg(0).Seg(10).Index({0}).Walk(0, 8).Lost({{8, 10}}).Plan(true);
  EXPECT_TRUE(Has(plan, 'p'));
  EXPECT_FALSE(plan.refusal.has_value());
  EXPECT_THAT(plan.segments, ElementsAre(0, 10));
}

TEST(DirectoryPlanTest, RowQAMalformedLostIdsIsRefusedEvenWhenNoGapNeedsIt) {
  // Which IDs were lost is unknown: an active segment that ends inside a lost range
  // (an interrupted continuation) would otherwise hand them out again.
  DirectoryPlan plan = Dir().Seg(0).Index({0}).LostBytes("junk").Plan();
  EXPECT_TRUE(Has(plan, 'q'));
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("lost.ids malformed")));
  EXPECT_THAT(plan.findings, Contains(::testing::Field(&PlanFinding::fix, PlanFix::kNone)));
  plan = Dir().Seg(0).Seg(10, 0).Index({0, 10}).Walk(0, 8).LostBytes("junk").Plan();
  EXPECT_TRUE(plan.refusal.has_value());
}

TEST(DirectoryPlanTest, RowRASealedSegmentShorterThanItWasSealedIsRefused) {
  // Segment 0 was sealed at 100 bytes and still holds them; 4 at 100 but holds 60.
  DirectoryPlan plan =
      Dir().Seg(0).Seg(4, 60).Seg(8).Index({0, 4, 8}).Sealed({{0, 100}, {4, 100}}).Plan(true);
  EXPECT_TRUE(Has(plan, 'r'));
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("holds 60 bytes but was sealed at 100")));
  // As long as when sealed (or longer, e.g. two files merged): accepted.
  plan = Dir().Seg(0).Seg(4, 160).Seg(8, 0).Index({0, 4, 8}).Sealed({{0, 100}, {4, 100}}).Plan();
  EXPECT_FALSE(Has(plan, 'r'));
  EXPECT_FALSE(plan.refusal.has_value());
  // The active segment is never checked against it; a malformed file is removed.
  plan = Dir().Seg(0).Seg(4, 10).Index({0, 4}).Sealed({{0, 100}, {4, 100}}).Plan();
  EXPECT_FALSE(plan.refusal.has_value());
  plan = Dir().Seg(0).Index({0}).File("sealed.sizes").Plan();
  EXPECT_FALSE(Has(plan, 'r'));  // Not read: the Dir helper gives it no bytes.
}

TEST(DirectoryPlanTest, LostIdsCoverAWholeRangeOnly) {
  const std::vector<std::pair<uint64_t, uint64_t>> lost = {{2, 4}, {4, 6}, {8, 9}};
  EXPECT_TRUE(LostIdsCover(lost, 2, 6));
  EXPECT_TRUE(LostIdsCover(lost, 3, 5));
  EXPECT_FALSE(LostIdsCover(lost, 1, 3));
  EXPECT_FALSE(LostIdsCover(lost, 5, 9));
  EXPECT_TRUE(LostIdsCover(lost, 8, 9));
}

TEST(DirectoryPlanTest, SettleDirectoryWalksWhatThePlanAsksFor) {
  MemEnv env;
  ASSERT_OK(env.CreateDir("/s"));
  // Segment 0 holds no frame: its walk ends at 0, short of the listed 500.
  ASSERT_OK(WriteFileAtomically(&env, "/s/" + SegmentFileName(0), ""));
  ASSERT_OK(WriteFileAtomically(&env, "/s/segments.idx", EncodeSegmentIndex({0, 500})));
  ASSERT_OK_AND_ASSIGN(DirectoryState state, ReadDirectoryState(&env, "/s"));
  ASSERT_OK_AND_ASSIGN(const DirectoryPlan plan,
                       SettleDirectory(&env, "/s", PlanOptions(), 4096, &state));
  EXPECT_TRUE(plan.walks_needed.empty());
  EXPECT_EQ(state.walked.at(0).end_id, 0u);
  EXPECT_THAT(plan.refusal, Optional(HasSubstr("IDs [0, 500)")));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
