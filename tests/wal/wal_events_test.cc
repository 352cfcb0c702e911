// EventListener and Logger (ironwal/wal/event_listener.h) on SimEnv: a workload with a
// known number of rotations, creations and truncations gets exactly those events, in
// order; a failed fsync gives one OnStreamPoisoned; a full disk one OnDiskFull and, once a
// write gets through, one OnDiskSpaceRecovered; corruption found at open and a crash with
// a reopen give their recovery events once per stream; listeners that call back into the
// Wal from their callbacks, from several threads, do not deadlock.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/event_listener.h"
#include "ironwal/wal/wal.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Records every event as one line.
class RecordingListener : public EventListener {
 public:
  void OnSegmentCreated(const SegmentEvent& e) override {
    Add(absl::StrCat("segment+ ", e.stream, " ", e.start_id), e.path);
  }
  void OnSegmentSealed(const SegmentEvent& e) override {
    Add(absl::StrCat("sealed ", e.stream, " ", e.start_id), e.path);
  }
  void OnSegmentDeleted(const SegmentEvent& e) override {
    Add(absl::StrCat("segment- ", e.stream, " ", e.start_id), e.path);
  }
  void OnStreamCreated(const std::string& stream, uint64_t first_id) override {
    Add(absl::StrCat("created ", stream, " ", first_id));
  }
  void OnStreamTruncated(const TruncationEvent& e) override {
    Add(absl::StrCat("truncated ", e.stream, " ", TruncationKindName(e.kind), " [", e.first_id,
                     ", ", e.next_id, ") -", e.segments_removed));
  }
  void OnRecoveryFinished(const std::string& stream, const StreamRecoveryReport& r) override {
    Add(absl::StrCat("recovered ", stream, r.clean() ? " clean" : " not clean"));
    absl::MutexLock lock(&mu_);
    reports_.push_back(r);
  }
  void OnCorruption(const CorruptionEvent& e) override {
    Add(absl::StrCat("corruption ", e.stream, " @", e.offset), e.path);
  }
  void OnStreamPoisoned(const std::string& stream, const absl::Status& status) override {
    Add(absl::StrCat("poisoned ", stream, " ", absl::StatusCodeToString(status.code())));
  }
  void OnDiskFull(const std::string& stream, const absl::Status& status) override {
    Add(absl::StrCat("disk full ", stream, " ", absl::StatusCodeToString(status.code())));
  }
  void OnDiskSpaceRecovered(const std::string& stream) override {
    Add(absl::StrCat("space ", stream));
  }

  // The events so far, and forgets them.
  std::vector<std::string> Take() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    out.swap(events_);
    paths_.clear();
    return out;
  }
  std::vector<std::string> paths() {
    absl::MutexLock lock(&mu_);
    return paths_;
  }
  std::vector<StreamRecoveryReport> reports() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }

 private:
  void Add(std::string event, std::string path = "") {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
    if (!path.empty()) paths_.push_back(std::move(path));
  }

  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> paths_ ABSL_GUARDED_BY(mu_);
  std::vector<StreamRecoveryReport> reports_ ABSL_GUARDED_BY(mu_);
};

class RecordingLogger : public Logger {
 public:
  void Log(LogLevel level, absl::string_view message) override {
    absl::MutexLock lock(&mu_);
    lines_.push_back(absl::StrCat(LogLevelName(level), ": ", message));
  }
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

struct SimEnvHolder {
  SimEnv sim_env_;
};

class WalEventsTest : public ::testing::Test,
                      protected SimEnvHolder,
                      public ::ironwal::testing::WalTestBase {
 public:
  WalEventsTest() : WalTestBase(&sim_env_) {
    options_.max_entries_per_segment = 2;
    options_.listeners.push_back(listener_);
    options_.logger = logger_;
  }

 protected:
  void AddFault(SimOp op, SimFault fault, const std::string& key, int max_fires) {
    FaultRule rule;
    rule.op = op;
    rule.fault = fault;
    rule.path_pattern = StreamDir(key) + "/*.wal";
    rule.max_fires = max_fires;
    sim_env_.AddFaultRule(rule);
  }

  std::shared_ptr<RecordingListener> listener_ = std::make_shared<RecordingListener>();
  std::shared_ptr<RecordingLogger> logger_ = std::make_shared<RecordingLogger>();
};

TEST_F(WalEventsTest, AWorkloadGetsExactlyItsEventsInOrder) {
  ASSERT_OK(Open());
  EXPECT_THAT(listener_->Take(), IsEmpty());  // an empty root: nothing to recover
  for (int i = 0; i < 5; ++i) ASSERT_THAT(wal_->Append("s", "e"), IsOkAndHolds(i));
  EXPECT_THAT(listener_->Take(), ElementsAre("created s 0", "segment+ s 0", "sealed s 0",
                                             "segment+ s 2", "sealed s 2", "segment+ s 4"));
  EXPECT_THAT(listener_->paths(), IsEmpty());

  ASSERT_OK(wal_->Truncate("s", 4).status());
  EXPECT_THAT(listener_->Take(),
              ElementsAre("segment- s 0", "segment- s 2", "truncated s front [4, 5) -2"));
  ASSERT_OK(wal_->Truncate("s", 4).status());  // removes nothing: no event
  ASSERT_OK(wal_->TrimFront("s", 4).status());
  EXPECT_THAT(listener_->Take(), IsEmpty());
  ASSERT_OK(wal_->TrimFront("s", 5).status());  // inside the active segment
  EXPECT_THAT(listener_->Take(), ElementsAre("truncated s front [5, 5) -0"));

  for (int i = 5; i < 8; ++i) ASSERT_THAT(wal_->Append("s", "f"), IsOkAndHolds(i));
  EXPECT_THAT(listener_->Take(), ElementsAre("sealed s 4", "segment+ s 6"));
  ASSERT_OK(wal_->TruncateSuffix("s", 6));
  EXPECT_THAT(listener_->Take(), ElementsAre("segment- s 6", "truncated s suffix [5, 6) -1"));
  ASSERT_OK(wal_->TruncateSuffix("s", 6));  // at the next ID: a no-op
  EXPECT_THAT(listener_->Take(), IsEmpty());

  ASSERT_OK(wal_->ResetStream("s", 100));
  EXPECT_THAT(listener_->Take(),
              ElementsAre("segment- s 4", "segment+ s 100", "truncated s reset [100, 100) -1"));
  ASSERT_OK(wal_->DeleteStream("s"));
  EXPECT_THAT(listener_->Take(), ElementsAre("segment- s 100", "truncated s delete [0, 0) -1"));

  ASSERT_OK(wal_->CreateStream("t", 10));
  ASSERT_OK(wal_->PutStreamMetadata("u", "meta"));
  ASSERT_OK(wal_->PutStreamMetadata("u", "again"));  // exists: no event
  ASSERT_OK(wal_->ResetStream("v", 7));              // absent: created
  ASSERT_OK(wal_->Append("s", "back"));              // after the delete: created again
  EXPECT_THAT(listener_->Take(),
              ElementsAre("created t 10", "segment+ t 10", "created u 0", "segment+ u 0",
                          "created v 7", "segment+ v 7", "created s 0", "segment+ s 0"));
  // Reads, syncs and stream info have no events.
  ASSERT_OK(wal_->Get("s", 0).status());
  ASSERT_OK(wal_->Sync());
  ASSERT_OK(wal_->GetStreamInfo("t").status());
  ASSERT_OK(wal_->Close());
  EXPECT_THAT(listener_->Take(), IsEmpty());
  EXPECT_THAT(logger_->lines(), IsEmpty());  // a healthy Wal says nothing
}

TEST_F(WalEventsTest, SegmentEventsNameTheSegmentFiles) {
  ASSERT_OK(Open());
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "e"));
  EXPECT_THAT(listener_->paths(),
              ElementsAre(SegmentPath("s", 0), SegmentPath("s", 0), SegmentPath("s", 2)));
}

TEST_F(WalEventsTest, BatchesAreNeverSplitSoOneBatchRotatesOnce) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  listener_->Take();
  ASSERT_OK(wal_->AppendBatch("s", {"b", "c"}));  // does not fit segment 0: a new one
  EXPECT_THAT(listener_->Take(), ElementsAre("sealed s 0", "segment+ s 1"));
}

TEST_F(WalEventsTest, FailedSyncPoisonsOnceAndRecoverStreamReportsRecovery) {
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  listener_->Take();
  AddFault(SimOp::kSync, SimFault::kIoError, "s", 1);
  EXPECT_THAT(wal_->Append("s", "b"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(wal_->Append("s", "c"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wal_->Sync("s"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(listener_->Take(), ElementsAre("poisoned s INTERNAL"));
  ASSERT_EQ(logger_->lines().size(), 1u);
  EXPECT_THAT(logger_->lines()[0], HasSubstr("error: wal /wal, stream 's': poisoned"));

  ASSERT_OK(wal_->RecoverStream("s").status());
  ASSERT_OK(wal_->RecoverStream("s").status());  // not poisoned any more: nothing done
  EXPECT_THAT(listener_->Take(), ElementsAre("recovered s clean"));
  EXPECT_THAT(wal_->Append("s", "d"), IsOkAndHolds(1u));
  EXPECT_THAT(listener_->Take(), IsEmpty());
}

TEST_F(WalEventsTest, FullDiskOnceThenRecoveredByTheFirstWriteThatGetsThrough) {
  options_.max_entries_per_segment = 100;
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  listener_->Take();
  AddFault(SimOp::kAppend, SimFault::kNoSpace, "s", 2);
  EXPECT_THAT(wal_->Append("s", "b"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(wal_->Append("s", "c"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(listener_->Take(), ElementsAre("disk full s RESOURCE_EXHAUSTED"));
  EXPECT_THAT(wal_->Append("s", "d"), IsOkAndHolds(1u));
  EXPECT_THAT(wal_->Append("s", "e"), IsOkAndHolds(2u));
  EXPECT_THAT(listener_->Take(), ElementsAre("space s"));
  EXPECT_THAT(logger_->lines(), ElementsAre(HasSubstr("warning: wal /wal, stream 's': disk full"),
                                            HasSubstr("info: wal /wal, stream 's': writing")));
}

TEST_F(WalEventsTest, FullDiskThenPoisonThenRecoverStream) {
  options_.sync_mode = SyncMode::kAsync;  // the buffer is kept over a full disk
  ASSERT_OK(Open());
  ASSERT_OK(wal_->Append("s", "a"));
  listener_->Take();
  AddFault(SimOp::kAppend, SimFault::kNoSpace, "s", 1);
  EXPECT_THAT(wal_->Flush("s"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(listener_->Take(), ElementsAre("disk full s RESOURCE_EXHAUSTED"));
  AddFault(SimOp::kSync, SimFault::kIoError, "s", 1);
  // The flush gets through (space again), then the sync fails and poisons.
  EXPECT_THAT(wal_->Sync("s"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(listener_->Take(), ElementsAre("space s", "poisoned s INTERNAL"));
  ASSERT_OK(wal_->RecoverStream("s").status());
  EXPECT_THAT(listener_->Take(), ElementsAre(::testing::StartsWith("recovered s ")));
}

TEST_F(WalEventsTest, CorruptionFoundAtOpenIsReportedWithTheRecovery) {
  options_.max_entries_per_segment = 100;
  options_.on_corruption = CorruptionPolicy::kTruncate;
  ASSERT_OK(Open());
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "entry " + std::to_string(i)));
  ASSERT_OK(wal_->Append("t", "fine"));
  ASSERT_OK(wal_->Close());
  listener_->Take();
  // A byte of the first frame's payload: valid frames follow, so not a torn tail.
  FlipByte(SegmentPath("s", 0), internal::format::kFrameHeaderSize + 5);
  ASSERT_OK(Open());
  EXPECT_THAT(listener_->paths(), ElementsAre(SegmentPath("s", 0)));
  EXPECT_THAT(listener_->Take(),
              ElementsAre("corruption s @0", "recovered s not clean", "recovered t clean"));
  const std::vector<StreamRecoveryReport> reports = listener_->reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].tail, ScanOutcome::kCorrupt);
  EXPECT_EQ(reports[0].lost_end - reports[0].lost_first, 3u);
  ASSERT_NE(Report(reports[0].dir), nullptr);
  EXPECT_EQ(Report(reports[0].dir)->ToString(), reports[0].ToString());
  const std::vector<std::string> lines = logger_->lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("error: wal /wal, stream 's': corruption in " +
                                  SegmentPath("s", 0) + "@0"));
  EXPECT_THAT(lines[1], HasSubstr("warning: wal /wal, stream 's': recovery was not clean"));
}

TEST_F(WalEventsTest, RefusedOpenLogsTheError) {
  options_.max_entries_per_segment = 100;
  ASSERT_OK(Open());
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "entry " + std::to_string(i)));
  ASSERT_OK(wal_->Close());
  listener_->Take();
  FlipByte(SegmentPath("s", 0), internal::format::kFrameHeaderSize + 5);
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(listener_->Take(), IsEmpty());
  EXPECT_THAT(logger_->lines(), ElementsAre(HasSubstr("error: open failed: DATA_LOSS")));
}

TEST_F(WalEventsTest, CrashAndReopenReportsEachStreamOnce) {
  options_.sync_mode = SyncMode::kAsync;  // the crash loses buffered entries: torn tails
  ASSERT_OK(Open());
  for (const char* key : {"a", "b", "c"}) {
    for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append(key, "x"));
  }
  ASSERT_OK(wal_->Sync("a"));
  listener_->Take();
  CrashOptions crash;
  crash.mode = CrashMode::kDropUnsynced;
  sim_env_.Crash(crash);
  wal_.reset();
  listener_->Take();  // what the destructor's Close said after the crash does not count
  ASSERT_OK(Open());
  std::vector<std::string> events = listener_->Take();
  std::sort(events.begin(), events.end());
  ASSERT_EQ(events.size(), 3u) << ::testing::PrintToString(events);
  EXPECT_THAT(events[0], HasSubstr("recovered a "));
  EXPECT_THAT(events[1], HasSubstr("recovered b "));
  EXPECT_THAT(events[2], HasSubstr("recovered c "));
  ASSERT_OK(Reopen());  // a clean close and open: once more each, clean
  EXPECT_THAT(listener_->Take(),
              ElementsAre("recovered a clean", "recovered b clean", "recovered c clean"));
}

// A listener that calls back into the Wal from every callback: reads, and on a sealed
// segment an append to another stream (whose events come after, in the same delivery).
class CallingBackListener : public RecordingListener {
 public:
  void OnSegmentSealed(const SegmentEvent& e) override {
    RecordingListener::OnSegmentSealed(e);
    Wal* w = wal.load();
    absl::StatusOr<StreamInfo> info = w->GetStreamInfo(e.stream);
    EXPECT_TRUE(info.ok()) << info.status();
    if (info.ok()) {
      EXPECT_GT(info->active_segment_start_id, e.start_id);
    }
    EXPECT_TRUE(w->ListStreams().ok());
    if (e.stream != "log") {
      EXPECT_TRUE(w->Append("log", e.stream).ok());
    }
  }
  void OnSegmentCreated(const SegmentEvent& e) override {
    RecordingListener::OnSegmentCreated(e);
    EXPECT_TRUE(wal.load()->GetStreamInfo(e.stream).ok());
  }
  std::atomic<Wal*> wal{nullptr};
};

TEST_F(WalEventsTest, ListenerMayCallBackIntoTheWal) {
  auto listener = std::make_shared<CallingBackListener>();
  options_.listeners = {listener};
  ASSERT_OK(Open());
  listener->wal = wal_.get();
  for (int i = 0; i < 3; ++i) ASSERT_OK(wal_->Append("s", "e"));
  // The append to "log" in the callback of "sealed s 0" comes after the events queued
  // before that callback ran ("segment+ s 2"), in the same delivery.
  EXPECT_THAT(listener->Take(), ElementsAre("created s 0", "segment+ s 0", "sealed s 0",
                                            "segment+ s 2", "created log 0", "segment+ log 0"));
}

// Threads appending to their streams, and to "log" from the callbacks, on a MemEnv: the
// listener sees every rotation once, and nothing deadlocks (run under TSan by .ci/run).
TEST(WalEventsThreadsTest, CallbacksIntoTheWalFromManyThreadsDoNotDeadlock) {
  MemEnv env;
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  options.max_entries_per_segment = 3;
  auto listener = std::make_shared<CallingBackListener>();
  options.listeners = {listener};
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  ASSERT_OK(wal.status());
  listener->wal = wal->get();
  constexpr int kThreads = 4;
  constexpr int kAppends = 60;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = absl::StrCat("s", t);
      for (int i = 0; i < kAppends; ++i) EXPECT_OK((*wal)->Append(key, "x").status());
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> events = listener->Take();
  for (int t = 0; t < kThreads; ++t) {
    const std::string key = absl::StrCat("s", t);
    int sealed = 0;
    int created = 0;
    for (const std::string& e : events) {
      if (e.rfind("sealed " + key + " ", 0) == 0) ++sealed;
      if (e.rfind("segment+ " + key + " ", 0) == 0) ++created;
    }
    EXPECT_EQ(sealed, kAppends / 3 - 1) << key;
    EXPECT_EQ(created, kAppends / 3) << key;
  }
  // "log" got one entry per sealed segment of the others.
  absl::StatusOr<StreamInfo> log = (*wal)->GetStreamInfo("log");
  ASSERT_OK(log.status());
  EXPECT_EQ(log->next_id, static_cast<uint64_t>(kThreads * (kAppends / 3 - 1)));
  ASSERT_OK((*wal)->Close());
}

}  // namespace
}  // namespace ironwal
