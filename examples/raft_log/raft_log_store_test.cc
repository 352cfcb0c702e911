// Unit tests of RaftLogStore, method by method, on MemEnv (and SimEnv where a crash or the
// sync mode matters).
#include "examples/raft_log/raft_log_store.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/ironwal.h"
#include "ironwal/testing/status_matchers.h"

namespace raft_log {
namespace {

using ::absl::StatusCode;
using ::ironwal::testing::IsOk;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

RaftEntry E(uint64_t index, uint64_t term, std::string data = "") {
  if (data.empty()) data = "e" + std::to_string(index) + "t" + std::to_string(term);
  return RaftEntry{index, term, data};
}

class RaftLogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    wal_.reset();
    ironwal::WalOptions options;
    options.env = &env_;
    options.root = "/raft";
    options.max_segment_size = 256;  // several segments: cuts and trims cross them
    wal_ = ironwal::Wal::Open(options).value();
    auto store = RaftLogStore::Open(wal_.get(), "group-1");
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }

  // Every entry's term, FirstIndex() to LastIndex().
  std::vector<uint64_t> Terms() {
    std::vector<uint64_t> terms;
    auto entries = store_->Entries(store_->FirstIndex(), store_->LastIndex() + 1, SIZE_MAX);
    EXPECT_THAT(entries, IsOk());
    if (!entries.ok()) return terms;
    for (const RaftEntry& e : *entries) terms.push_back(e.term);
    return terms;
  }

  ironwal::MemEnv env_;
  std::unique_ptr<ironwal::Wal> wal_;
  std::unique_ptr<RaftLogStore> store_;
};

TEST_F(RaftLogStoreTest, NewLogIsEmptyFromIndexOne) {
  EXPECT_EQ(store_->FirstIndex(), 1);
  EXPECT_EQ(store_->LastIndex(), 0);
  EXPECT_THAT(store_->Term(0), IsOkAndHolds(0));
  EXPECT_THAT(store_->Term(1), StatusIs(StatusCode::kOutOfRange));
  EXPECT_EQ(store_->HardState(), RaftHardState());
  EXPECT_EQ(store_->Snapshot(), RaftSnapshotMeta());
}

TEST_F(RaftLogStoreTest, AppendAndReadBack) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 2, "payload")}), IsOk());
  EXPECT_EQ(store_->LastIndex(), 3);
  EXPECT_THAT(store_->Term(3), IsOkAndHolds(2));
  EXPECT_THAT(store_->Entries(1, 4, SIZE_MAX),
              IsOkAndHolds(ElementsAre(E(1, 1), E(2, 1), E(3, 2, "payload"))));
  // Stored as 8 bytes of term + payload; the budget counts that, at least one entry.
  EXPECT_THAT(store_->Entries(1, 4, 0), IsOkAndHolds(ElementsAre(E(1, 1))));
  EXPECT_THAT(store_->Entries(1, 4, 2 * (8 + 4)), IsOkAndHolds(ElementsAre(E(1, 1), E(2, 1))));
  EXPECT_THAT(store_->Entries(2, 2, SIZE_MAX), IsOkAndHolds(ElementsAre()));
  EXPECT_THAT(store_->Entries(1, 5, SIZE_MAX), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(store_->Entries(0, 2, SIZE_MAX), StatusIs(StatusCode::kNotFound));
  // The stream holds the Raft indexes as IDs.
  EXPECT_THAT(wal_->GetStreamInfo("group-1"), IsOk());
  EXPECT_EQ(wal_->GetStreamInfo("group-1")->next_id, 4);
}

TEST_F(RaftLogStoreTest, NonContiguousInputIsRejected) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1)}), IsOk());
  EXPECT_THAT(store_->Append({E(3, 1), E(5, 1)}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("consecutive")));
  EXPECT_THAT(store_->Append({E(4, 1)}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("gap after the last index 2")));
  EXPECT_THAT(store_->Append({E(3, 1), E(2, 1)}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(store_->LastIndex(), 2);
  EXPECT_THAT(store_->Append({}), IsOk());
}

TEST_F(RaftLogStoreTest, ConflictingSuffixIsReplaced) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 1), E(4, 1), E(5, 1)}), IsOk());
  // AppendEntries from a new leader: 2 and 3 match, 4 conflicts; 5 goes with it.
  ASSERT_THAT(store_->Append({E(2, 1), E(3, 1), E(4, 3, "new")}), IsOk());
  EXPECT_EQ(store_->LastIndex(), 4);
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 1, 3));
  EXPECT_THAT(store_->Entries(4, 5, SIZE_MAX), IsOkAndHolds(ElementsAre(E(4, 3, "new"))));
  Reopen();
  EXPECT_EQ(store_->LastIndex(), 4);
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 1, 3));
}

TEST_F(RaftLogStoreTest, MatchingEntriesDoNotCutALongerLog) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 2), E(4, 2)}), IsOk());
  // A stale AppendEntries whose entries are all in the log: nothing changes.
  ASSERT_THAT(store_->Append({E(2, 1), E(3, 2)}), IsOk());
  EXPECT_EQ(store_->LastIndex(), 4);
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 2, 2));
  // Matching then new entries: only the new ones are appended.
  ASSERT_THAT(store_->Append({E(4, 2), E(5, 2), E(6, 2)}), IsOk());
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 2, 2, 2, 2));
}

TEST_F(RaftLogStoreTest, ConflictAtACommittedIndexIsRefused) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 1)}), IsOk());
  ASSERT_THAT(store_->SetHardState({1, 0, 2}), IsOk());
  EXPECT_THAT(store_->Append({E(2, 2)}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("committed")));
  EXPECT_THAT(store_->TruncateSuffix(2), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 1));
  EXPECT_THAT(store_->Append({E(3, 2)}), IsOk());  // above the commit index: cut and replaced
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 2));
}

TEST_F(RaftLogStoreTest, TruncateSuffix) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 1), E(4, 2)}), IsOk());
  EXPECT_THAT(store_->TruncateSuffix(6), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(store_->TruncateSuffix(0), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(store_->TruncateSuffix(5), IsOk());  // no-op
  ASSERT_THAT(store_->TruncateSuffix(3), IsOk());
  EXPECT_EQ(store_->LastIndex(), 2);
  EXPECT_THAT(store_->Term(3), StatusIs(StatusCode::kOutOfRange));
  ASSERT_THAT(store_->Append({E(3, 5)}), IsOk());
  Reopen();
  EXPECT_THAT(Terms(), ElementsAre(1, 1, 5));
}

TEST_F(RaftLogStoreTest, CompactKeepsTheTermOfItsLastEntry) {
  for (uint64_t i = 1; i <= 20; ++i) ASSERT_THAT(store_->Append({E(i, 1 + i / 8)}), IsOk());
  EXPECT_THAT(store_->Compact(5), StatusIs(StatusCode::kFailedPrecondition));  // not committed
  ASSERT_THAT(store_->SetHardState({3, 1, 15}), IsOk());
  EXPECT_THAT(store_->Compact(21), StatusIs(StatusCode::kOutOfRange));
  ASSERT_THAT(store_->Compact(12), IsOk());
  EXPECT_EQ(store_->FirstIndex(), 13);
  EXPECT_THAT(store_->Term(12), IsOkAndHolds(2));
  EXPECT_THAT(store_->Term(11), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->Entries(12, 14, SIZE_MAX), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->Compact(7), IsOk());  // below the base: nothing to do
  EXPECT_EQ(store_->FirstIndex(), 13);
  Reopen();
  EXPECT_EQ(store_->FirstIndex(), 13);
  EXPECT_EQ(store_->LastIndex(), 20);
  EXPECT_THAT(store_->Term(12), IsOkAndHolds(2));
  EXPECT_EQ(wal_->GetStreamInfo("group-1")->first_id, 13);
  // Entries the base covers are skipped by Append; so are matching ones.
  ASSERT_THAT(store_->Append({E(11, 2), E(12, 2), E(13, 2), E(21, 4)}),
              StatusIs(StatusCode::kInvalidArgument));  // not consecutive
  ASSERT_THAT(store_->Append({E(10, 2), E(11, 2), E(12, 2), E(13, 2)}), IsOk());
  EXPECT_EQ(store_->LastIndex(), 20);
}

TEST_F(RaftLogStoreTest, HardStateRoundTripsAndNeverGoesBack) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 2)}), IsOk());
  ASSERT_THAT(store_->SetHardState({2, 7, 1}), IsOk());
  EXPECT_THAT(store_->SetHardState({1, 7, 1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("term 1 is below 2")));
  EXPECT_THAT(store_->SetHardState({2, 8, 1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("replaces vote 7")));
  EXPECT_THAT(store_->SetHardState({2, 7, 0}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->SetHardState({2, 7, 4}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("past the last index 3")));
  ASSERT_THAT(store_->SetHardState({3, 0, 3}), IsOk());
  ASSERT_THAT(store_->SetHardState({3, 9, 3}), IsOk());  // a vote cast in the new term
  Reopen();
  EXPECT_EQ(store_->HardState(), (RaftHardState{3, 9, 3}));
  // Metadata is one fixed-width record with a version byte.
  auto raw = wal_->GetStreamMetadata("group-1");
  ASSERT_THAT(raw, IsOk());
  EXPECT_EQ(raw->size(), 58);
  EXPECT_EQ((*raw)[0], 1);
}

TEST_F(RaftLogStoreTest, ApplySnapshotRestartsTheLog) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 2), E(4, 2)}), IsOk());
  ASSERT_THAT(store_->SetHardState({2, 1, 3}), IsOk());
  EXPECT_THAT(store_->ApplySnapshot(2, 1), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_THAT(store_->ApplySnapshot(10, 4), IsOk());
  EXPECT_EQ(store_->FirstIndex(), 11);
  EXPECT_EQ(store_->LastIndex(), 10);
  EXPECT_THAT(store_->Term(10), IsOkAndHolds(4));
  EXPECT_THAT(store_->Term(9), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(store_->Snapshot(), (RaftSnapshotMeta{10, 4}));
  EXPECT_EQ(store_->HardState(), (RaftHardState{2, 1, 10}));  // commit raised to it
  ASSERT_THAT(store_->Append({E(11, 4), E(12, 4)}), IsOk());
  Reopen();
  EXPECT_EQ(store_->FirstIndex(), 11);
  EXPECT_EQ(store_->LastIndex(), 12);
  EXPECT_THAT(store_->Term(10), IsOkAndHolds(4));
  EXPECT_EQ(store_->Snapshot(), (RaftSnapshotMeta{10, 4}));
  EXPECT_EQ(store_->HardState(), (RaftHardState{2, 1, 10}));
  EXPECT_THAT(Terms(), ElementsAre(4, 4));
  // A snapshot inside the log also drops all of it.
  ASSERT_THAT(store_->ApplySnapshot(11, 4), IsOk());
  EXPECT_EQ(store_->LastIndex(), 11);
  EXPECT_THAT(store_->Entries(12, 13, SIZE_MAX), StatusIs(StatusCode::kOutOfRange));
}

TEST_F(RaftLogStoreTest, SnapshotAtTheCommitIndexMustCarryItsTerm) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 2), E(3, 2)}), IsOk());
  ASSERT_THAT(store_->SetHardState({2, 0, 2}), IsOk());
  EXPECT_THAT(store_->ApplySnapshot(2, 3),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("committed entry's term 2")));
  EXPECT_EQ(store_->LastIndex(), 3);
  EXPECT_THAT(store_->ApplySnapshot(2, 2), IsOk());
  EXPECT_EQ(store_->FirstIndex(), 3);
  EXPECT_EQ(store_->LastIndex(), 2);
}

// A snapshot at the base index does not move the front: the entries past it are cut first
// (so that no crash can leave the new record over the old log).
TEST_F(RaftLogStoreTest, SnapshotAtTheBaseIndexDropsTheLogToo) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1), E(3, 1), E(4, 1)}), IsOk());
  ASSERT_THAT(store_->SetHardState({1, 0, 2}), IsOk());
  ASSERT_THAT(store_->Compact(2), IsOk());
  ASSERT_THAT(store_->ApplySnapshot(2, 1), IsOk());
  EXPECT_EQ(store_->FirstIndex(), 3);
  EXPECT_EQ(store_->LastIndex(), 2);
  EXPECT_EQ(store_->Snapshot(), (RaftSnapshotMeta{2, 1}));
  Reopen();
  EXPECT_EQ(store_->LastIndex(), 2);
  EXPECT_EQ(store_->Snapshot(), (RaftSnapshotMeta{2, 1}));
}

TEST_F(RaftLogStoreTest, OpenRefusesDamagedMetadata) {
  ASSERT_THAT(store_->SetHardState({1, 0, 0}), IsOk());
  store_.reset();
  ASSERT_THAT(wal_->PutStreamMetadata("group-1", "short"), IsOk());
  EXPECT_THAT(RaftLogStore::Open(wal_.get(), "group-1"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("5 bytes, expected 58")));
  std::string wrong_version(58, '\0');
  wrong_version[0] = 2;
  ASSERT_THAT(wal_->PutStreamMetadata("group-1", wrong_version), IsOk());
  EXPECT_THAT(RaftLogStore::Open(wal_.get(), "group-1"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("version 2")));
}

TEST_F(RaftLogStoreTest, OpenRefusesAStreamFromIdZero) {
  ASSERT_THAT(wal_->Append("plain", "x"), IsOk());
  EXPECT_THAT(RaftLogStore::Open(wal_.get(), "plain"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("ID 0")));
}

TEST_F(RaftLogStoreTest, GroupsAreIndependent) {
  auto other = RaftLogStore::Open(wal_.get(), "group-2");
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1)}), IsOk());
  ASSERT_THAT((*other)->Append({E(1, 7)}), IsOk());
  EXPECT_EQ(store_->LastIndex(), 2);
  EXPECT_EQ((*other)->LastIndex(), 1);
  EXPECT_THAT((*other)->Term(1), IsOkAndHolds(7));
}

// A second writer to the same stream (a stale store) is caught by AppendBatchIf.
TEST_F(RaftLogStoreTest, AStaleWriterCannotSlipIn) {
  ASSERT_THAT(store_->Append({E(1, 1)}), IsOk());
  ASSERT_THAT(wal_->Append("group-1", std::string(8, '\0')), IsOk());  // someone else
  EXPECT_THAT(store_->Append({E(2, 1)}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("next id is 3")));
  EXPECT_THAT(store_->Append({E(2, 1)}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("reopen")));
}

// The recovery of an interrupted Compact / ApplySnapshot: the record is written, the stream
// not yet changed (as a crash between the two steps leaves it).
TEST_F(RaftLogStoreTest, OpenFinishesAnInterruptedCompact) {
  for (uint64_t i = 1; i <= 10; ++i) ASSERT_THAT(store_->Append({E(i, 1)}), IsOk());
  ASSERT_THAT(store_->SetHardState({1, 0, 8}), IsOk());
  std::string meta = wal_->GetStreamMetadata("group-1").value();
  meta[1] = 1;                                                    // front op: compact
  for (int i = 0; i < 8; ++i) meta[2 + 40 + i] = i == 0 ? 6 : 0;  // base index 6
  for (int i = 0; i < 8; ++i) meta[2 + 48 + i] = i == 0 ? 1 : 0;  // base term 1
  store_.reset();
  ASSERT_THAT(wal_->PutStreamMetadata("group-1", meta), IsOk());
  auto store = RaftLogStore::Open(wal_.get(), "group-1");
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->FirstIndex(), 7);
  EXPECT_EQ(wal_->GetStreamInfo("group-1")->first_id, 7);
  EXPECT_THAT((*store)->Term(6), IsOkAndHolds(1));
  EXPECT_EQ((*store)->LastIndex(), 10);
}

TEST_F(RaftLogStoreTest, OpenFinishesAnInterruptedSnapshot) {
  for (uint64_t i = 1; i <= 10; ++i) ASSERT_THAT(store_->Append({E(i, 1)}), IsOk());
  std::string meta = wal_->GetStreamMetadata("group-1").value();
  if (meta.empty()) meta.assign(58, '\0');
  meta[0] = 1;
  meta[1] = 2;       // front op: snapshot
  meta[2 + 16] = 5;  // commit 5
  meta[2 + 24] = 5;  // snapshot index 5
  meta[2 + 32] = 3;  // snapshot term 3
  meta[2 + 40] = 5;  // base index 5
  meta[2 + 48] = 3;  // base term 3
  store_.reset();
  ASSERT_THAT(wal_->PutStreamMetadata("group-1", meta), IsOk());
  auto store = RaftLogStore::Open(wal_.get(), "group-1");
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->FirstIndex(), 6);
  EXPECT_EQ((*store)->LastIndex(), 5);  // the whole old log is gone
  EXPECT_THAT((*store)->Term(5), IsOkAndHolds(3));
  EXPECT_EQ((*store)->Snapshot(), (RaftSnapshotMeta{5, 3}));
}

TEST_F(RaftLogStoreTest, OpenRefusesACommitIndexPastTheLog) {
  ASSERT_THAT(store_->Append({E(1, 1), E(2, 1)}), IsOk());
  ASSERT_THAT(store_->SetHardState({1, 0, 2}), IsOk());
  store_.reset();
  ASSERT_THAT(wal_->TruncateSuffix("group-1", 2), IsOk());  // behind the store's back
  EXPECT_THAT(RaftLogStore::Open(wal_.get(), "group-1"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("commit index 2 is past the last")));
}

// Durable when it returns in kAsync too: Append syncs the batch itself.
TEST(RaftLogStoreSyncTest, AppendIsDurableInAsyncMode) {
  for (bool through_store : {true, false}) {
    SCOPED_TRACE(through_store ? "through the store" : "plain AppendBatchIf");
    ironwal::SimEnv env;
    ironwal::WalOptions options;
    options.env = &env;
    options.root = "/raft";
    options.sync_mode = ironwal::SyncMode::kAsync;
    {
      auto wal = ironwal::Wal::Open(options).value();
      auto store = RaftLogStore::Open(wal.get(), "g").value();
      if (through_store) {
        ASSERT_THAT(store->Append({E(1, 1), E(2, 1)}), IsOk());
      } else {
        const std::vector<absl::string_view> raw = {"12345678", "12345678"};
        ASSERT_THAT(wal->AppendBatchIf("g", 1, raw), IsOk());
      }
      ironwal::CrashOptions crash;
      crash.mode = ironwal::CrashMode::kDropUnsynced;
      env.Crash(crash);
    }
    auto wal = ironwal::Wal::Open(options).value();
    auto store = RaftLogStore::Open(wal.get(), "g").value();
    // What the store relies on: a kAsync AppendBatchIf alone is not durable.
    EXPECT_EQ(store->LastIndex(), through_store ? 2 : 0);
  }
}

}  // namespace
}  // namespace raft_log
