// The core API, parity with ironwal 0.6's tests/basic_io.rs and iterator.rs, run with both
// read strategies.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOk;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class WalBasicTest : public ::ironwal::testing::MemWalTest,
                     public ::testing::WithParamInterface<ReadStrategy> {
 protected:
  void SetUp() override {
    options_.read_strategy = GetParam();
    ASSERT_OK(Open());
  }
};

TEST_P(WalBasicTest, SingleAppendsGetIdsFromZeroAndReadBack) {
  EXPECT_THAT(wal_->Append("orders", "order-0"), IsOkAndHolds(0u));
  EXPECT_THAT(wal_->Append("orders", "order-1"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Append("orders", ""), IsOkAndHolds(2u));
  EXPECT_THAT(wal_->Get("orders", 0), IsOkAndHolds("order-0"));
  EXPECT_THAT(wal_->Get("orders", 1), IsOkAndHolds("order-1"));
  EXPECT_THAT(wal_->Get("orders", 2), IsOkAndHolds(""));
}

TEST_P(WalBasicTest, BatchGetsConsecutiveIdsAndTheNextAppendFollows) {
  ASSERT_OK_AND_ASSIGN(const IdRange ids,
                       wal_->AppendBatch("users", std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ids, (IdRange{0, 3}));
  EXPECT_THAT(wal_->Get("users", 1), IsOkAndHolds("b"));
  EXPECT_THAT(wal_->Append("users", "d"), IsOkAndHolds(3u));
}

// As the README and wal.h show it: a braced list of literals or strings (this was an
// ambiguous overload, and did not compile).
TEST_P(WalBasicTest, BatchTakesABracedList) {
  EXPECT_THAT(wal_->AppendBatch("users", {"a", "b"}), IsOkAndHolds(IdRange{0, 2}));
  const std::string c = "c";
  EXPECT_THAT(wal_->AppendBatch("users", {c, std::string("d"), absl::string_view("e")}),
              IsOkAndHolds(IdRange{2, 5}));
  EXPECT_THAT(wal_->Get("users", 4), IsOkAndHolds("e"));
}

TEST_P(WalBasicTest, EmptyBatchWritesNothingAndReturnsTheNextId) {
  EXPECT_THAT(wal_->AppendBatch("s", std::vector<std::string>{}), IsOkAndHolds(IdRange{0, 0}));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre()));  // Not created.
  ASSERT_OK(wal_->Append("s", "x"));
  EXPECT_THAT(wal_->AppendBatch("s", std::vector<std::string>{}), IsOkAndHolds(IdRange{1, 1}));
}

TEST_P(WalBasicTest, TransactionCommitsAsOneRange) {
  ASSERT_OK(wal_->Append("ledger", "before"));
  TxnWriter txn = wal_->NewTransaction("ledger");
  ASSERT_OK(txn.Add("debit"));
  ASSERT_OK(txn.Add("credit"));
  EXPECT_EQ(txn.size(), 2u);
  EXPECT_THAT(txn.Commit(), IsOkAndHolds(IdRange{1, 3}));
  EXPECT_THAT(wal_->Get("ledger", 2), IsOkAndHolds("credit"));
  EXPECT_THAT(txn.Commit(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(txn.Add("late"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(WalBasicTest, AbortedTransactionWritesNothing) {
  TxnWriter txn = wal_->NewTransaction("ledger");
  ASSERT_OK(txn.Add("x"));
  txn.Abort();
  EXPECT_THAT(txn.Commit(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->GetStreamInfo("ledger"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(WalBasicTest, EmptyTransactionReturnsAnEmptyRangeAtTheNextId) {
  ASSERT_OK(wal_->Append("ledger", "x"));
  TxnWriter txn = wal_->NewTransaction("ledger");
  EXPECT_THAT(txn.Commit(), IsOkAndHolds(IdRange{1, 1}));  // 0.6 returned 0..0
}

TEST_P(WalBasicTest, DataAndIdsSurviveAReopen) {
  ASSERT_OK(wal_->Append("s", "zero"));
  ASSERT_OK(Reopen());
  EXPECT_THAT(wal_->Get("s", 0), IsOkAndHolds("zero"));
  EXPECT_THAT(wal_->Append("s", "one"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Get("s", 1), IsOkAndHolds("one"));
}

TEST_P(WalBasicTest, StreamsHaveIndependentIds) {
  ASSERT_OK(wal_->Append("a", "a0"));
  ASSERT_OK(wal_->Append("a", "a1"));
  EXPECT_THAT(wal_->Append("b", "b0"), IsOkAndHolds(0u));
  EXPECT_THAT(wal_->Get("a", 1), IsOkAndHolds("a1"));
  EXPECT_THAT(wal_->Get("b", 0), IsOkAndHolds("b0"));
  EXPECT_THAT(wal_->ListStreams(), IsOkAndHolds(ElementsAre("a", "b")));
}

TEST_P(WalBasicTest, ReadsOutsideTheStreamGetDistinctCodes) {
  ASSERT_OK(wal_->Append("s", "x"));
  EXPECT_THAT(wal_->Get("s", 1), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("next ID 1")));
  EXPECT_THAT(wal_->Get("nope", 0), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(wal_->NewIterator("nope", 0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal_->NewIterator("s", 5), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_P(WalBasicTest, SequentialIterationYieldsEveryEntryThenEnds) {
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back("entry-" + std::to_string(i));
    ASSERT_OK(wal_->Append("s", expected.back()));
  }
  EXPECT_EQ(IterateAll("s", 0), expected);
}

TEST_P(WalBasicTest, IterationCrossesSegments) {
  options_.max_segment_size = 500;
  ASSERT_OK(Reopen());
  for (int i = 0; i < 20; ++i) ASSERT_OK(wal_->Append("s", std::string(60, 'a' + i)));
  EXPECT_GT(SegmentStarts("s").size(), 2u);
  const std::vector<std::string> from10 = IterateAll("s", 10);
  ASSERT_EQ(from10.size(), 10u);
  EXPECT_EQ(from10.front(), std::string(60, 'k'));
  EXPECT_EQ(from10.back(), std::string(60, 't'));
}

TEST_P(WalBasicTest, IterationStartsInTheMiddleOfABatch) {
  std::vector<std::string> first, second;
  for (int i = 0; i < 10; ++i) first.push_back("a" + std::to_string(i));
  for (int i = 0; i < 10; ++i) second.push_back("b" + std::to_string(i));
  ASSERT_OK(wal_->AppendBatch("s", first));
  ASSERT_OK(wal_->AppendBatch("s", second));
  const std::vector<std::string> from5 = IterateAll("s", 5);
  ASSERT_EQ(from5.size(), 15u);
  EXPECT_EQ(from5.front(), "a5");
  EXPECT_EQ(IterateAll("s", 15).front(), "b5");
}

TEST_P(WalBasicTest, IteratorWithAnEndStopsThere) {
  for (int i = 0; i < 10; ++i) ASSERT_OK(wal_->Append("s", std::to_string(i)));
  ASSERT_OK_AND_ASSIGN(auto it, wal_->NewIterator("s", 3, 6));
  std::vector<std::string> seen;
  for (; it->Valid(); it->Next()) seen.emplace_back(it->value());
  EXPECT_THAT(seen, ElementsAre("3", "4", "5"));
  EXPECT_OK(it->status());
}

TEST_P(WalBasicTest, IteratorSeesLaterAppendsAfterSeek) {
  ASSERT_OK(wal_->Append("s", "0"));
  ASSERT_OK_AND_ASSIGN(auto it, wal_->NewIterator("s", 0));
  ASSERT_TRUE(it->Valid());
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_OK(it->status());
  ASSERT_OK(wal_->Append("s", "1"));
  it->Seek(1);
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "1");
}

TEST_P(WalBasicTest, IteratorAtTheNextIdIsEmptyButValid) {
  ASSERT_OK(wal_->Append("s", "0"));
  ASSERT_OK_AND_ASSIGN(auto it, wal_->NewIterator("s", 1));
  EXPECT_FALSE(it->Valid());
  EXPECT_OK(it->status());
}

TEST_P(WalBasicTest, MultiGetReturnsResultsInRequestOrder) {
  ASSERT_OK(wal_->AppendBatch("s", std::vector<std::string>{"a", "b", "c"}));
  ASSERT_OK(wal_->Append("s", "d"));
  const std::vector<uint64_t> ids = {3, 0, 9, 1, 1};
  std::vector<absl::StatusOr<std::string>> got = wal_->MultiGet("s", ids);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_THAT(got[0], IsOkAndHolds("d"));
  EXPECT_THAT(got[1], IsOkAndHolds("a"));
  EXPECT_THAT(got[2], StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(got[3], IsOkAndHolds("b"));
  EXPECT_THAT(got[4], IsOkAndHolds("b"));
  EXPECT_TRUE(wal_->MultiGet("s", {}).empty());
  EXPECT_THAT(wal_->MultiGet("nope", std::vector<uint64_t>{0})[0],
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(WalBasicTest, StreamInfoReportsIdsSegmentsAndBytes) {
  ASSERT_OK(wal_->Append("s", std::string(100, 'x')));
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo("s"));
  EXPECT_EQ(info.key, "s");
  EXPECT_TRUE(info.key_known);
  EXPECT_EQ(info.first_id, 0u);
  EXPECT_EQ(info.next_id, 1u);
  EXPECT_EQ(info.segment_count, 1u);
  EXPECT_EQ(info.bytes, 136u);
  EXPECT_OK(info.poisoned);
}

TEST_P(WalBasicTest, ClosedWalRefusesEverything) {
  ASSERT_OK(wal_->Append("s", "x"));
  ASSERT_OK(wal_->Close());
  EXPECT_OK(wal_->Close());
  EXPECT_THAT(wal_->Append("s", "y"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->Get("s", 0), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(WalBasicTest, SecondOpenOfTheSameRootIsRefused) {
  EXPECT_THAT(Wal::Open(options_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another")));
  ASSERT_OK(wal_->Close());
  EXPECT_OK(Wal::Open(options_));
}

TEST_P(WalBasicTest, InvalidOptionsAreRejected) {
  WalOptions bad = options_;
  bad.max_open_segments = 0;
  EXPECT_THAT(Wal::Open(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_open")));
  bad = options_;
  bad.root = "";
  EXPECT_THAT(Wal::Open(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = options_;
  bad.env = nullptr;
  EXPECT_THAT(Wal::Open(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(WalBasicTest, EntryOverTheLimitIsRejectedAndChangesNothing) {
  ASSERT_OK(wal_->Close());
  options_.max_entry_size = 10;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "ok"));
  EXPECT_THAT(wal_->Append("s", std::string(11, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_entry_size")));
  EXPECT_THAT(wal_->AppendBatch("s", std::vector<std::string>{"a", std::string(11, 'x')}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(wal_->Append("s", "next"), IsOkAndHolds(1u));
}

INSTANTIATE_TEST_SUITE_P(ReadStrategies, WalBasicTest,
                         ::testing::Values(ReadStrategy::kPread, ReadStrategy::kMmap),
                         [](const auto& info) {
                           return info.param == ReadStrategy::kPread ? "Pread" : "Mmap";
                         });

}  // namespace
}  // namespace ironwal
