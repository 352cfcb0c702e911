// The whole public API through the umbrella header alone: this file includes nothing of
// ironwal but ironwal/ironwal.h (and the standard library and GoogleTest), so a call, type
// or macro the public API lacks, or one only an internal header declares, fails to compile
// here. Every call's result is checked. The header-comment examples are compiled as written
// in header_examples_test.cc.
//
// Runs on the real file system under TEST_TMPDIR (Env::Default(): MemEnv and SimEnv have
// headers of their own, outside the umbrella).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/ironwal.h"
#include "ironwal/testing/test_knobs.h"

namespace {

using ironwal::IdRange;
using ironwal::Iterator;
using ironwal::StreamInfo;
using ironwal::TruncateResult;
using ironwal::TxnWriter;
using ironwal::Wal;
using ironwal::WalOptions;

// A fresh root under TEST_TMPDIR for each test.
std::string FreshRoot(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  const std::string root = ironwal::JoinPath(tmp, "umbrella_" + name);
  ironwal::Env* env = ironwal::Env::Default();
  absl::StatusOr<std::vector<std::string>> streams = env->GetChildren(root);
  EXPECT_TRUE(absl::IsNotFound(streams.status())) << root << " exists already";
  return root;
}

std::unique_ptr<Wal> OpenOrDie(const WalOptions& options) {
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  EXPECT_TRUE(wal.ok()) << wal.status();
  return wal.ok() ? *std::move(wal) : nullptr;
}

// The macros as a caller uses them, in a function returning absl::Status.
absl::Status AppendTwoAndRead(Wal* wal, std::string* second) {
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t a, wal->Append("macro", "one"));
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t b, wal->Append("macro", "two"));
  if (b != a + 1) return absl::InternalError("IDs are not consecutive");
  IRONWAL_ASSIGN_OR_RETURN(*second, wal->Get("macro", b));
  IRONWAL_RETURN_IF_ERROR(wal->Sync());
  return absl::OkStatus();
}

TEST(UmbrellaTest, WritesAndReads) {
  WalOptions options;
  options.root = FreshRoot("writes");
  options.sync_mode = ironwal::SyncMode::kBatchOnly;
  options.compression = ironwal::Compression::kLz4;
  options.min_compression_size = 16;
  options.read_strategy = ironwal::ReadStrategy::kMmap;
  options.on_corruption = ironwal::CorruptionPolicy::kError;
  options.max_entry_size = ironwal::kMaxEntrySize;
  std::unique_ptr<Wal> wal = OpenOrDie(options);
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->options().root, options.root);
  EXPECT_STREQ(ironwal::SyncModeName(wal->options().sync_mode), "batch-only");
  EXPECT_TRUE(wal->recovery_report().empty());

  ASSERT_EQ(wal->Append("orders", "order #0").value(), 0u);
  const IdRange batch = wal->AppendBatch("orders", {"a", "b", "c"}).value();
  EXPECT_EQ(batch, (IdRange{1, 4}));
  EXPECT_EQ(batch.size(), 3u);
  const std::vector<std::string> owned = {"d", "e"};
  EXPECT_EQ(wal->AppendBatch("orders", owned).value(), (IdRange{4, 6}));

  TxnWriter txn = wal->NewTransaction("orders");
  ASSERT_TRUE(txn.Add("debit").ok());
  ASSERT_TRUE(txn.Add("credit").ok());
  EXPECT_EQ(txn.size(), 2u);
  EXPECT_EQ(txn.Commit().value(), (IdRange{6, 8}));
  EXPECT_EQ(txn.Commit().status().code(), absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(wal->Get("orders", 0).value(), "order #0");
  EXPECT_EQ(wal->Get("orders", 7).value(), "credit");
  EXPECT_EQ(wal->Get("orders", 8).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(wal->Get("nope", 0).status().code(), absl::StatusCode::kNotFound);

  // Tailing: 7 is visible, and durable (a transaction syncs in batch-only); 8 is not there
  // yet, and a deadline already reached on the Env's clock returns at once.
  const uint64_t now = wal->options().env->NowMicros();
  EXPECT_TRUE(wal->WaitFor("orders", 7, Wal::kNoDeadline).ok());
  EXPECT_TRUE(wal->WaitFor("orders", 7, now, ironwal::WaitCondition::kDurable).ok());
  EXPECT_EQ(wal->WaitFor("orders", 8, now, ironwal::WaitCondition::kVisible).code(),
            absl::StatusCode::kDeadlineExceeded);

  const uint64_t ids[] = {5, 1, 9};
  std::vector<absl::StatusOr<std::string>> got = wal->MultiGet("orders", ids);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value(), "e");
  EXPECT_EQ(got[1].value(), "a");
  EXPECT_EQ(got[2].status().code(), absl::StatusCode::kOutOfRange);

  std::unique_ptr<Iterator> it = wal->NewIterator("orders", 2, 5).value();
  std::vector<uint64_t> seen;
  std::string values;
  for (; it->Valid(); it->Next()) {
    seen.push_back(it->id());
    values += std::string(it->value());
  }
  EXPECT_TRUE(it->status().ok()) << it->status();
  EXPECT_EQ(seen, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(values, "bcd");
  it.reset();

  const std::vector<std::string> range = wal->ReadRange("orders", 1, Wal::kNoEnd, 2).value();
  EXPECT_EQ(range, (std::vector<std::string>{"a", "b"}));

  std::string second;
  ASSERT_TRUE(AppendTwoAndRead(wal.get(), &second).ok());
  EXPECT_EQ(second, "two");

  EXPECT_EQ(wal->ListStreams().value(), (std::vector<std::string>{"macro", "orders"}));
  const StreamInfo info = wal->GetStreamInfo("orders").value();
  EXPECT_EQ(info.key, "orders");
  EXPECT_EQ(info.first_id, 0u);
  EXPECT_EQ(info.next_id, 8u);
  EXPECT_EQ(info.segment_count, 1u);
  EXPECT_GT(info.bytes, 0u);
  EXPECT_TRUE(info.poisoned.ok());
  EXPECT_EQ(info.logical_bytes, 0u);  // Only with kPayloadSizes.

  const StreamInfo sized =
      wal->GetStreamInfo("orders", ironwal::StreamInfoDetail::kPayloadSizes).value();
  // 8 entries of 1 + 1 + 1 + 1 + 1 + 8 + 5 + 6 bytes, each with a 4-byte length.
  EXPECT_EQ(sized.logical_bytes, 8u * 4 + 24);
  EXPECT_GT(sized.stored_payload_bytes, 0u);

  EXPECT_TRUE(wal->Flush().ok());
  EXPECT_TRUE(wal->Sync().ok());
  EXPECT_TRUE(wal->Flush("orders").ok());
  EXPECT_TRUE(wal->Sync("orders").ok());
  // Not poisoned: nothing to recover.
  EXPECT_TRUE(wal->RecoverStream("orders").value().clean());
  EXPECT_TRUE(wal->Close().ok());
  EXPECT_TRUE(wal->Close().ok());  // Idempotent.
  EXPECT_EQ(wal->Append("orders", "late").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(UmbrellaTest, LogPrimitives) {
  WalOptions options;
  options.root = FreshRoot("primitives");
  options.max_segment_size = 128;  // A few frames per segment: Truncate has work.
  std::unique_ptr<Wal> wal = OpenOrDie(options);
  ASSERT_NE(wal, nullptr);

  ASSERT_TRUE(wal->CreateStream("raft", 100).ok());
  EXPECT_EQ(wal->CreateStream("raft", 5).code(), absl::StatusCode::kAlreadyExists);
  const std::string entry(40, 'x');
  for (int i = 0; i < 20; ++i) ASSERT_EQ(wal->Append("raft", entry).value(), 100u + i);
  EXPECT_GT(wal->GetStreamInfo("raft").value().segment_count, 3u);

  const absl::string_view more[] = {"y", "z"};
  EXPECT_EQ(wal->AppendBatchIf("raft", 120, more).value(), (IdRange{120, 122}));
  absl::StatusOr<IdRange> stale = wal->AppendBatchIf("raft", 120, more);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find("next id is 122"), absl::string_view::npos);

  ASSERT_TRUE(wal->TruncateSuffix("raft", 121).ok());
  EXPECT_EQ(wal->GetStreamInfo("raft").value().next_id, 121u);
  EXPECT_EQ(wal->Get("raft", 121).status().code(), absl::StatusCode::kOutOfRange);

  const TruncateResult truncated = wal->Truncate("raft", 110).value();
  EXPECT_GT(truncated.segments_removed, 0u);
  EXPECT_LE(truncated.first_id, 110u);
  const TruncateResult trimmed = wal->TrimFront("raft", 112).value();
  EXPECT_EQ(trimmed.first_id, 112u);
  EXPECT_EQ(wal->Get("raft", 111).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(wal->Get("raft", 112).value(), entry);
  // The payload walk counts whole frames from the one holding the first retained ID on.
  const StreamInfo sized =
      wal->GetStreamInfo("raft", ironwal::StreamInfoDetail::kPayloadSizes).value();
  EXPECT_EQ(sized.first_id, 112u);
  EXPECT_EQ(sized.logical_bytes, (120u - 112) * (4 + 40) + (4 + 1));

  ASSERT_TRUE(wal->PutStreamMetadata("raft", "term=7").ok());
  EXPECT_EQ(wal->GetStreamMetadata("raft").value(), "term=7");

  ASSERT_TRUE(wal->ResetStream("raft", 500).ok());
  const StreamInfo reset = wal->GetStreamInfo("raft").value();
  EXPECT_EQ(reset.first_id, 500u);
  EXPECT_EQ(reset.next_id, 500u);
  EXPECT_EQ(wal->GetStreamMetadata("raft").value(), "term=7");

  ASSERT_TRUE(wal->DeleteStream("raft").ok());
  EXPECT_EQ(wal->GetStreamInfo("raft").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(wal->ListStreams().value().empty());
  EXPECT_EQ(wal->DeleteStream("raft").code(), absl::StatusCode::kNotFound);
}

TEST(UmbrellaTest, StreamDirectoryNameAndRecoveryReport) {
  EXPECT_EQ(Wal::StreamDirectoryName("a/b c").value(), "a_b_c");
  EXPECT_EQ(Wal::StreamDirectoryName("").status().code(), absl::StatusCode::kInvalidArgument);

  WalOptions options;
  options.root = FreshRoot("recovery");
  {
    std::unique_ptr<Wal> wal = OpenOrDie(options);
    ASSERT_NE(wal, nullptr);
    ASSERT_EQ(wal->Append("s", "kept").value(), 0u);
    ASSERT_TRUE(wal->Close().ok());
  }
  // A torn tail: half a frame header after the last frame, as a crash mid-write leaves.
  const std::string dir = ironwal::JoinPath(options.root, Wal::StreamDirectoryName("s").value());
  const std::string segment = ironwal::JoinPath(dir, "00000000000000000000.wal");
  ironwal::Env* env = ironwal::Env::Default();
  const uint64_t size = env->GetFileSize(segment).value();
  {
    std::unique_ptr<ironwal::WritableFile> file = env->NewAppendableFile(segment).value();
    ASSERT_TRUE(file->Append(std::string(16, '\x4C')).ok());
    ASSERT_TRUE(file->Sync().ok());
  }
  std::unique_ptr<Wal> wal = OpenOrDie(options);
  ASSERT_NE(wal, nullptr);
  ASSERT_EQ(wal->recovery_report().size(), 1u);
  const ironwal::StreamRecoveryReport& report = wal->recovery_report()[0];
  EXPECT_EQ(report.dir, "s");
  EXPECT_EQ(report.tail, ironwal::ScanOutcome::kTorn);
  EXPECT_STREQ(ironwal::ScanOutcomeName(report.tail), "torn tail");
  EXPECT_EQ(report.cut_offset, size);
  EXPECT_EQ(report.cut_bytes, 16u);
  EXPECT_FALSE(report.clean());
  EXPECT_NE(report.ToString().find("torn tail"), std::string::npos) << report.ToString();
  EXPECT_EQ(wal->Get("s", 0).value(), "kept");
  EXPECT_EQ(env->GetFileSize(segment).value(), size);
}

// Every callback of EventListener, the Logger, and the per-mode append statistics.
class CountingListener : public ironwal::EventListener {
 public:
  void OnSegmentCreated(const ironwal::SegmentEvent& e) override { Note("segment+", e.path); }
  void OnSegmentSealed(const ironwal::SegmentEvent& e) override { Note("sealed", e.path); }
  void OnSegmentDeleted(const ironwal::SegmentEvent& e) override { Note("segment-", e.path); }
  void OnStreamCreated(const std::string& stream, uint64_t first_id) override {
    Note("created", stream + " " + std::to_string(first_id));
  }
  void OnStreamTruncated(const ironwal::TruncationEvent& e) override {
    Note("truncated", std::string(ironwal::TruncationKindName(e.kind)) + " " +
                          std::to_string(e.first_id) + " " + std::to_string(e.segments_removed));
  }
  void OnRecoveryFinished(const std::string& stream,
                          const ironwal::StreamRecoveryReport& report) override {
    Note("recovered", stream + (report.clean() ? " clean" : " not clean"));
  }
  void OnCorruption(const ironwal::CorruptionEvent& e) override { Note("corruption", e.path); }
  void OnStreamPoisoned(const std::string& stream, const absl::Status& status) override {
    Note("poisoned", stream + status.ToString());
  }
  void OnDiskFull(const std::string& stream, const absl::Status& status) override {
    Note("full", stream + status.ToString());
  }
  void OnDiskSpaceRecovered(const std::string& stream) override { Note("space", stream); }

  std::vector<std::string> events;

 private:
  void Note(const std::string& what, const std::string& detail) {
    events.push_back(what + " " + detail);
  }
};

class KeepingLogger : public ironwal::Logger {
 public:
  void Log(ironwal::LogLevel level, absl::string_view message) override {
    lines.push_back(std::string(ironwal::LogLevelName(level)) + ": " + std::string(message));
  }
  std::vector<std::string> lines;
};

TEST(UmbrellaTest, EventListenerLoggerAndStatisticsByMode) {
  WalOptions options;
  options.root = FreshRoot("events");
  options.max_entries_per_segment = 1;
  auto listener = std::make_shared<CountingListener>();
  auto logger = std::make_shared<KeepingLogger>();
  options.listeners.push_back(listener);
  options.logger = logger;
  std::unique_ptr<Wal> wal = OpenOrDie(options);
  ASSERT_NE(wal, nullptr);
  ASSERT_EQ(wal->Append("s", "a").value(), 0u);
  ASSERT_EQ(wal->Append("s", "b").value(), 1u);
  ASSERT_EQ(wal->Truncate("s", 1).value().segments_removed, 1u);
  const std::string seg0 =
      ironwal::JoinPath(ironwal::JoinPath(options.root, "s"), "00000000000000000000.wal");
  const std::string seg1 =
      ironwal::JoinPath(ironwal::JoinPath(options.root, "s"), "00000000000000000001.wal");
  EXPECT_EQ(listener->events, (std::vector<std::string>{
                                  "created s 0", "segment+ " + seg0, "sealed " + seg0,
                                  "segment+ " + seg1, "segment- " + seg0, "truncated front 1 1"}));
  const ironwal::Statistics stats = wal->GetStatistics();
  EXPECT_EQ(stats.append_strict_micros.count, 2u);
  EXPECT_EQ(stats.append_batch_only_micros.count + stats.append_async_micros.count, 0u);
  ASSERT_TRUE(wal->Close().ok());
  wal = OpenOrDie(options);
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(listener->events.back(), "recovered s clean");
  EXPECT_TRUE(logger->lines.empty());  // nothing to say about a healthy Wal
  EXPECT_STREQ(ironwal::LogLevelName(ironwal::LogLevel::kWarning), "warning");
  std::shared_ptr<ironwal::Logger> to_stderr = ironwal::NewStderrLogger();
  ASSERT_NE(to_stderr, nullptr);
  to_stderr->Log(ironwal::LogLevel::kInfo, "umbrella_test: the default logger writes this line");
}

}  // namespace
