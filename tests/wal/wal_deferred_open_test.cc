// Deferred stream recovery (WalOptions::defer_stream_recovery, issue 17's W9): Open only
// lists the root, and each stream is recovered by the first call that needs it. Checked:
//  - for seeded workloads ended by SimEnv crashes, a deferred Wal shows exactly what an
//    eager one shows on a clone of the same disk: every stream's info, entries and
//    metadata, the listing, the recovery report, the statistics' recovery counters, the
//    errors, the IDs of the first appends (a torn tail is cut before them), and the files
//    both leave behind after the same appends and Close;
//  - Open's cost does not grow with the number of streams beyond the listing (counted in
//    SimEnv's trace, never timed);
//  - threads racing to first use a pending stream recover it once; recovery_report()
//    called on one thread while others first-use streams lists each report once, and the
//    references earlier calls returned stay valid and unchanged;
//  - a recovery that fails at first use returns Open's error, leaves the stream pending,
//    and the next call after the fault clears recovers it; read-only defers and writes
//    nothing;
//  - a full disk (ENOSPC) during a first-use recovery that must cut a torn tail and write:
//    ResourceExhausted naming the stream's file, the stream stays pending and loses
//    nothing, and the first call once there is space recovers it;
//  - deleted-stream markers and directories that are no stream behave as with eager Open.
// Seeds: IRONWAL_SEED=n runs one seed; IRONWAL_SEEDS=n runs seeds 0..n-1 (default 40).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

using ::ironwal::internal::Random;
using ::ironwal::testing::EnvNumber;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;

const std::vector<std::string>& Keys() {
  static const auto* keys = new std::vector<std::string>{"a", "b", "c d", "orders", "e.f", "z"};
  return *keys;
}

// The workloads poison streams on purpose (the power cut): their messages are noise.
class QuietLogger : public Logger {
 public:
  void Log(LogLevel, absl::string_view) override {}
};

WalOptions RandomOptions(Random* rng, Env* env) {
  WalOptions o;
  o.logger = std::make_shared<QuietLogger>();
  o.env = env;
  o.root = "/wal";
  const SyncMode modes[] = {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync};
  o.sync_mode = modes[rng->Uniform(3)];
  o.max_segment_size = 256 + rng->Uniform(2048);
  o.on_corruption = rng->OneIn(2) ? CorruptionPolicy::kError : CorruptionPolicy::kTruncate;
  o.compression = rng->OneIn(3) ? Compression::kLz4 : Compression::kNone;
  o.min_compression_size = 64;
  o.preallocate_bytes = rng->OneIn(4) ? 4096 : 0;
  o.max_open_segments = 1 + rng->Uniform(4);
  return o;
}

// One random call on `wal`; its outcome does not matter (the crash decides what stays).
void RandomCall(Wal* wal, Random* rng) {
  const std::string& key = Keys()[rng->Uniform(Keys().size())];
  absl::StatusOr<StreamInfo> info = wal->GetStreamInfo(key);
  const uint64_t first = info.ok() ? info->first_id : 0;
  const uint64_t next = info.ok() ? info->next_id : 0;
  const uint64_t some_id = first + rng->Uniform(next - first + 1);
  switch (rng->Uniform(12)) {
    case 0:
    case 1:
    case 2:
    case 3:
      wal->Append(key, rng->Bytes(rng->Uniform(300))).status().IgnoreError();
      break;
    case 4:
    case 5: {
      std::vector<std::string> batch(1 + rng->Uniform(5));
      for (std::string& e : batch) e = rng->Bytes(rng->Uniform(100));
      wal->AppendBatch(key, batch).status().IgnoreError();
      break;
    }
    case 6:
      wal->Truncate(key, some_id).status().IgnoreError();
      break;
    case 7:
      wal->TrimFront(key, some_id).status().IgnoreError();
      break;
    case 8:
      wal->TruncateSuffix(key, some_id).IgnoreError();
      break;
    case 9:
      if (rng->OneIn(3)) {
        wal->DeleteStream(key).IgnoreError();
      } else {
        wal->PutStreamMetadata(key, rng->Bytes(rng->Uniform(20))).IgnoreError();
      }
      break;
    case 10:
      wal->Sync(key).IgnoreError();
      break;
    default:
      wal->Sync().IgnoreError();
      break;
  }
}

// Flips one byte of one segment of one stream: damage recovery may refuse (kError).
void DamageASegment(SimEnv* env, Random* rng) {
  std::vector<std::string> segments;
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> dirs, env->GetChildren("/wal"));
  for (const std::string& dir : dirs) {
    absl::StatusOr<std::vector<std::string>> files = env->GetChildren(JoinPath("/wal", dir));
    if (!files.ok()) continue;  // LOCK
    for (const std::string& f : *files) {
      if (absl::EndsWith(f, ".wal")) segments.push_back(JoinPath(JoinPath("/wal", dir), f));
    }
  }
  if (segments.empty()) return;
  const std::string& path = segments[rng->Uniform(segments.size())];
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFileToString(env, path));
  if (bytes.empty()) return;
  bytes[rng->Uniform(bytes.size())] ^= 0x10;
  ASSERT_OK(WriteFileAtomically(env, path, bytes));
}

// A seeded workload on `env` (two sessions, the first closed cleanly), ended by a crash.
void RunWorkload(SimEnv* env, Random* rng, const WalOptions& options) {
  for (int session = 0; session < 2; ++session) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    const int calls = 20 + static_cast<int>(rng->Uniform(60));
    for (int i = 0; i < calls; ++i) RandomCall(wal.get(), rng);
    if (session == 0) {
      ASSERT_OK(wal->Close());
      continue;
    }
    // The power fails: nothing the destructor's Close does reaches the disk.
    env->SetPowerCutAt(env->mutating_ops());
    wal.reset();
    env->ClearPowerCut();
  }
  const CrashMode modes[] = {CrashMode::kDropUnsynced, CrashMode::kKeepPrefix,
                             CrashMode::kKeepRandomBlocks, CrashMode::kTearBlock};
  CrashOptions crash;
  crash.mode = modes[rng->Uniform(4)];
  crash.keep_unsynced_dir_ops = rng->OneIn(2);
  env->Crash(crash);
  if (rng->OneIn(3)) DamageASegment(env, rng);
}

// Everything a reader sees of `key`: its info, entries and metadata, or the errors.
std::string Describe(Wal* wal, const std::string& key) {
  absl::StatusOr<StreamInfo> info = wal->GetStreamInfo(key);
  if (!info.ok()) return "info: " + info.status().ToString();
  std::string out =
      absl::StrCat("key=", info->key, " known=", info->key_known, " first=", info->first_id,
                   " next=", info->next_id, " segments=", info->segment_count,
                   " active=", info->active_segment_start_id, " bytes=", info->bytes,
                   " poisoned=", info->poisoned.ToString(), "\n");
  absl::StatusOr<std::unique_ptr<Iterator>> it = wal->NewIterator(key, info->first_id);
  if (!it.ok()) return out + "iterate: " + it.status().ToString();
  for (; (*it)->Valid(); (*it)->Next()) {
    absl::StrAppend(&out, (*it)->id(), ":", absl::CEscape((*it)->value()), "\n");
  }
  absl::StrAppend(&out, "end: ", (*it)->status().ToString(), "\n");
  absl::StatusOr<std::string> meta = wal->GetStreamMetadata(key);
  absl::StrAppend(&out, "meta: ", meta.ok() ? absl::CEscape(*meta) : meta.status().ToString());
  return out;
}

std::string ReportText(const std::vector<StreamRecoveryReport>& reports) {
  std::string out;
  for (const StreamRecoveryReport& r : reports) absl::StrAppend(&out, r.dir, ": ", r.ToString());
  return out;
}

std::string RecoveryCounters(const Wal& wal) {
  const Statistics s = wal.GetStatistics();
  return absl::StrCat(s.streams_recovered, "/", s.recoveries_not_clean, "/", s.recovery_cut_bytes,
                      "/", s.recovery_lost_ids);
}

// Every file and directory under `dir`, with the files' bytes.
void Tree(Env* env, const std::string& dir, std::map<std::string, std::string>* out) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> children, env->GetChildren(dir));
  for (const std::string& name : children) {
    const std::string path = JoinPath(dir, name);
    ASSERT_OK_AND_ASSIGN(const bool is_dir, env->IsDirectory(path));
    if (is_dir) {
      (*out)[path + "/"] = "";
      Tree(env, path, out);
    } else {
      ASSERT_OK_AND_ASSIGN((*out)[path], ReadFileToString(env, path));
    }
  }
}

template <typename T>
std::string Text(const absl::StatusOr<T>& result, const std::string& value) {
  return result.ok() ? value : result.status().ToString();
}

// A call of kind `kind` to `key`, as the first one a deferred Wal gets for it: what it
// returned, as text (an append first: recovery and its repair must come before it).
std::string FirstCall(Wal* wal, const std::string& key, uint64_t kind) {
  switch (kind) {
    case 0: {
      absl::StatusOr<uint64_t> id = wal->Append(key, "first");
      return Text(id, id.ok() ? absl::StrCat(*id) : "");
    }
    case 1:
      return wal->Sync(key).ToString();
    case 2: {
      absl::StatusOr<std::string> entry = wal->Get(key, 0);
      return Text(entry, entry.ok() ? absl::CEscape(*entry) : "");
    }
    case 3: {
      std::string out;
      for (const auto& r : wal->MultiGet(key, {1, 0, 1})) {
        absl::StrAppend(&out, Text(r, r.ok() ? absl::CEscape(*r) : ""), ";");
      }
      return out;
    }
    case 4: {
      absl::StatusOr<std::vector<std::string>> range = wal->ReadRange(key, 0, 3, 1 << 20);
      return Text(range, range.ok() ? absl::StrCat(range->size()) : "");
    }
    case 5:
      return wal->WaitFor(key, 0, /*deadline_micros=*/0).ToString();
    case 6: {
      absl::StatusOr<StreamRecoveryReport> report = wal->RecoverStream(key);
      return Text(report, report.ok() ? report->ToString() : "");
    }
    case 7:
      return wal->DeleteStream(key).ToString();
    case 8: {
      TxnWriter txn = wal->NewTransaction(key);
      EXPECT_OK(txn.Add("t1"));
      EXPECT_OK(txn.Add("t2"));
      absl::StatusOr<IdRange> ids = txn.Commit();
      return Text(ids, ids.ok() ? absl::StrCat(ids->first, "..", ids->end) : "");
    }
    case 9: {
      absl::StatusOr<TruncateResult> t = wal->Truncate(key, 1);
      return Text(t, t.ok() ? absl::StrCat(t->segments_removed, " ", t->first_id) : "");
    }
    case 10:
      return wal->CreateStream(key, 5).ToString();
    default:
      return "";  // GetStreamInfo (Describe) first
  }
}

// One seed: the workload on one SimEnv, then an eager Open on it and a deferred Open on a
// clone, used in the same way (the deferred one's streams first touched in a random order,
// by a random kind of call).
// What the seeds covered: eager Opens that failed, and that reported repairs.
struct Coverage {
  int open_failed = 0;
  int reported = 0;
};

void CompareEagerAndDeferred(uint64_t seed, Coverage* coverage) {
  Random rng(seed);
  SimEnvOptions sim;
  sim.seed = seed;
  sim.record_trace = false;
  SimEnv eager_env(sim);
  const WalOptions eager_options = RandomOptions(&rng, &eager_env);
  RunWorkload(&eager_env, &rng, eager_options);
  if (::testing::Test::HasFatalFailure()) return;
  std::unique_ptr<SimEnv> lazy_env = eager_env.Clone();
  WalOptions lazy_options = eager_options;
  lazy_options.env = lazy_env.get();
  lazy_options.defer_stream_recovery = true;

  absl::StatusOr<std::unique_ptr<Wal>> eager = Wal::Open(eager_options);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> lazy, Wal::Open(lazy_options));
  if (!eager.ok()) {
    ++coverage->open_failed;
    // A stream eager Open cannot recover: the deferred Wal returns the same error when
    // it needs that stream, and keeps returning it.
    EXPECT_EQ(lazy->ListStreams().status().ToString(), eager.status().ToString());
    EXPECT_EQ(lazy->RecoverPendingStreams().ToString(), eager.status().ToString());
    // Sync() leaves pending streams alone (nothing was appended to them): it has nothing
    // to fail on, and the stream still refuses every call that needs it.
    EXPECT_OK(lazy->Sync());
    EXPECT_EQ(lazy->RecoverPendingStreams().ToString(), eager.status().ToString());
    return;
  }
  Wal* e = eager->get();
  std::vector<std::string> order = Keys();
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Uniform(i)]);
  for (const std::string& key : order) {
    SCOPED_TRACE("stream " + key);
    // The first call to the stream, the same on both.
    const uint64_t kind = rng.Uniform(12);
    EXPECT_EQ(FirstCall(lazy.get(), key, kind), FirstCall(e, key, kind)) << "kind " << kind;
    EXPECT_EQ(Describe(lazy.get(), key), Describe(e, key));
  }
  EXPECT_EQ(RecoveryCounters(*lazy), RecoveryCounters(*e)) << "before ListStreams";
  absl::StatusOr<std::vector<std::string>> eager_keys = e->ListStreams();
  absl::StatusOr<std::vector<std::string>> lazy_keys = lazy->ListStreams();
  ASSERT_OK(eager_keys.status());
  ASSERT_OK(lazy_keys.status());
  EXPECT_EQ(*lazy_keys, *eager_keys);
  EXPECT_EQ(ReportText(lazy->recovery_report()), ReportText(e->recovery_report()));
  if (!e->recovery_report().empty()) ++coverage->reported;
  EXPECT_EQ(RecoveryCounters(*lazy), RecoveryCounters(*e));
  for (const std::string& key : *eager_keys) {
    EXPECT_EQ(lazy->Append(key, "after").status().ToString(),
              e->Append(key, "after").status().ToString());
  }
  ASSERT_OK(e->Close());
  ASSERT_OK(lazy->Close());
  std::map<std::string, std::string> eager_tree, lazy_tree;
  Tree(&eager_env, "/wal", &eager_tree);
  Tree(lazy_env.get(), "/wal", &lazy_tree);
  ASSERT_EQ(lazy_tree.size(), eager_tree.size());
  for (auto l = lazy_tree.begin(), r = eager_tree.begin(); l != lazy_tree.end(); ++l, ++r) {
    ASSERT_EQ(l->first, r->first);
    EXPECT_TRUE(l->second == r->second) << l->first << " differs";
  }
}

TEST(WalDeferredOpenTest, ShowsExactlyWhatAnEagerOpenShowsAfterCrashes) {
  const char* one = std::getenv("IRONWAL_SEED");
  const uint64_t first = one != nullptr ? EnvNumber("IRONWAL_SEED", 0) : 0;
  const uint64_t count = one != nullptr ? 1 : EnvNumber("IRONWAL_SEEDS", 40);
  Coverage coverage;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed, " (rerun with IRONWAL_SEED=", seed, ")"));
    CompareEagerAndDeferred(seed, &coverage);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::printf("%d of %d seeds: eager Open failed; %d: recovery reported repairs\n",
              coverage.open_failed, static_cast<int>(count), coverage.reported);
  if (count >= 20) {  // The default run must cover both.
    EXPECT_GT(coverage.open_failed, 0);
    EXPECT_GT(coverage.reported, 0);
  }
}

class DeferredOpenFixture : public ::testing::Test {
 protected:
  DeferredOpenFixture() {
    options_.env = &env_;
    options_.root = "/wal";
  }
  // Streams s0 .. s{n-1} with `entries` entries each (those not made yet), closed cleanly.
  void MakeStreams(int n, int entries) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    for (int i = made_; i < n; ++i) {
      for (int j = 0; j < entries; ++j) {
        ASSERT_THAT(wal->Append(absl::StrCat("s", i), absl::StrCat("e", j)),
                    IsOkAndHolds(static_cast<uint64_t>(j)));
      }
    }
    ASSERT_OK(wal->Close());
    made_ = std::max(made_, n);
  }
  std::unique_ptr<Wal> OpenDeferred() {
    WalOptions deferred = options_;
    deferred.defer_stream_recovery = true;
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(deferred);
    EXPECT_OK(wal.status());
    return wal.ok() ? *std::move(wal) : nullptr;
  }

  SimEnv env_;
  WalOptions options_;
  int made_ = 0;
};

// The operations an Open made, but for the root's listing (SimEnv lists a directory with
// one GetChildren and one stat per child). `deferred`: fails if one touched a stream.
int OpsBeyondTheListing(const std::vector<TraceRecord>& trace, bool deferred) {
  int ops = 0;
  for (const TraceRecord& r : trace) {
    if (r.op == SimOp::kGetChildren && r.path == "/wal") continue;
    const bool child_of_root =
        absl::StartsWith(r.path, "/wal/") && r.path.find('/', 5) == std::string::npos;
    if (r.op == SimOp::kGetFileSize && child_of_root) continue;
    if (deferred) {
      EXPECT_FALSE(absl::StartsWith(r.path, "/wal/s")) << "Open touched " << r.path;
    }
    ++ops;
  }
  return ops;
}

TEST_F(DeferredOpenFixture, OpenCostsTheSameWhateverTheNumberOfStreams) {
  std::map<int, int> ops;  // streams -> ops beyond the listing
  for (int n : {1, 10, 100}) {
    MakeStreams(n, 2);
    env_.ClearTrace();
    std::unique_ptr<Wal> wal = OpenDeferred();
    ASSERT_NE(wal, nullptr);
    ops[n] = OpsBeyondTheListing(env_.Trace(), /*deferred=*/true);
    ASSERT_THAT(wal->Get(absl::StrCat("s", n - 1), 1), IsOkAndHolds("e1"));
  }
  EXPECT_EQ(ops[10], ops[1]);
  EXPECT_EQ(ops[100], ops[1]);
  EXPECT_LE(ops[1], 12) << "the root's lock and little else";
  // The eager Open of the same 100 streams, for scale: dozens of operations per stream.
  env_.ClearTrace();
  ASSERT_OK(Wal::Open(options_).status());
  EXPECT_GT(OpsBeyondTheListing(env_.Trace(), /*deferred=*/false), 1000);
}

// A Wal-wide Sync() (and Flush()) syncs the streams in use and leaves the pending ones
// alone: nothing was appended to them. A periodic Sync() does not recover the idle
// streams; what was appended to the busy one is durable (it survives a power cut).
TEST_F(DeferredOpenFixture, SyncOfTheWalLeavesPendingStreamsPending) {
  options_.statistics = true;
  options_.sync_mode = SyncMode::kAsync;
  MakeStreams(20, 2);
  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  ASSERT_THAT(wal->Append("s3", "busy"), IsOkAndHolds(2u));
  ASSERT_OK(wal->Flush());
  ASSERT_OK(wal->Sync());
  EXPECT_EQ(wal->GetStatistics().streams_recovered, 1u) << "only s3 was needed";
  // The power fails: nothing the destructor's Close does reaches the disk, and what was
  // not synced is lost.
  env_.SetPowerCutAt(env_.mutating_ops());
  wal.reset();
  env_.ClearPowerCut();
  env_.Crash(CrashOptions());
  ASSERT_OK_AND_ASSIGN(wal, Wal::Open(options_));
  EXPECT_THAT(wal->Get("s3", 2), IsOkAndHolds("busy"));
  EXPECT_THAT(wal->Get("s17", 1), IsOkAndHolds("e1"));
}

// Counts OnRecoveryFinished by stream.
class RecoveryCounter : public EventListener {
 public:
  void OnRecoveryFinished(const std::string& stream, const StreamRecoveryReport&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[stream];
  }
  std::map<std::string, int> counts() {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> counts_;
};

TEST_F(DeferredOpenFixture, ManyThreadsFirstUsingAPendingStreamRecoverItOnce) {
  options_.statistics = true;
  MakeStreams(4, 3);
  auto listener = std::make_shared<RecoveryCounter>();
  options_.listeners = {listener};
  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  constexpr int kThreads = 8;
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      // Every thread touches s0 first, then the others in its own order.
      for (int k = 0; k < 4; ++k) {
        const std::string key = absl::StrCat("s", (k * (t + 1)) % 4);
        absl::Status status =
            t % 2 == 0 ? wal->Get(key, 2).status() : wal->GetStreamInfo(key).status();
        if (!status.ok() && errors[t].empty()) errors[t] = status.ToString();
      }
      if (t == 0) {
        absl::Status listed = wal->ListStreams().status();
        if (!listed.ok()) errors[t] = listed.ToString();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const std::string& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(wal->GetStatistics().streams_recovered, 4u);
  const std::map<std::string, int> once = {{"s0", 1}, {"s1", 1}, {"s2", 1}, {"s3", 1}};
  EXPECT_EQ(listener->counts(), once);
  EXPECT_THAT(wal->ListStreams(), IsOkAndHolds(std::vector<std::string>{"s0", "s1", "s2", "s3"}));
  EXPECT_THAT(wal->Append("s0", "more"), IsOkAndHolds(3u));
}

TEST_F(DeferredOpenFixture, ARecoveryErrorAtFirstUseIsOpensErrorAndARetrySucceeds) {
  MakeStreams(2, 3);
  FaultRule rule;
  rule.op = SimOp::kGetChildren;
  rule.path_pattern = "/wal/s1";
  const int id = env_.AddFaultRule(rule);
  const absl::Status eager = Wal::Open(options_).status();
  ASSERT_FALSE(eager.ok());
  EXPECT_THAT(eager.message(), ::testing::HasSubstr("/wal/s1"));

  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  EXPECT_THAT(wal->Get("s0", 2), IsOkAndHolds("e2"));
  EXPECT_EQ(wal->Get("s1", 2).status(), eager);
  EXPECT_EQ(wal->Append("s1", "x").status(), eager) << "never created over the old stream";
  EXPECT_EQ(wal->ListStreams().status(), eager);
  EXPECT_EQ(wal->RecoverPendingStreams(), eager);
  EXPECT_TRUE(wal->recovery_report().empty());
  env_.RemoveFaultRule(id);
  EXPECT_THAT(wal->Append("s1", "x"), IsOkAndHolds(3u));
  EXPECT_THAT(wal->Get("s1", 2), IsOkAndHolds("e2"));
  EXPECT_THAT(wal->ListStreams(), IsOkAndHolds(std::vector<std::string>{"s0", "s1"}));
  EXPECT_OK(wal->RecoverPendingStreams());
}

TEST_F(DeferredOpenFixture, ReadOnlyDefersTooAndWritesNothing) {
  MakeStreams(3, 3);
  // A torn tail on s1: bytes past its last frame that are no frame.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> files, env_.GetChildren("/wal/s1"));
  std::string segment;
  for (const std::string& f : files) {
    if (absl::EndsWith(f, ".wal")) segment = JoinPath("/wal/s1", f);
  }
  ASSERT_FALSE(segment.empty()) << "no segment in /wal/s1";
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFileToString(&env_, segment));
  ASSERT_OK(WriteFileAtomically(&env_, segment, bytes + std::string(5, '\xab')));
  options_.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> eager, Wal::Open(options_));
  const std::string eager_report = ReportText(eager->recovery_report());
  EXPECT_THAT(eager_report, ::testing::HasSubstr("s1"));
  const uint64_t mutations = env_.mutating_ops();
  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  EXPECT_THAT(wal->Get("s1", 2), IsOkAndHolds("e2"));
  EXPECT_THAT(wal->Get("s1", 3), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(wal->Append("s1", "x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReportText(wal->recovery_report()), eager_report);
  EXPECT_THAT(wal->ListStreams(), IsOkAndHolds(std::vector<std::string>{"s0", "s1", "s2"}));
  ASSERT_OK(wal->Close());
  EXPECT_EQ(env_.mutating_ops(), mutations);
}

// A directory holding stream.deleted (an interrupted DeleteStream) and a directory that
// holds no stream, under both Opens.
class MarkersTest : public DeferredOpenFixture, public ::testing::WithParamInterface<bool> {};

TEST_P(MarkersTest, DeletedStreamsAndForeignDirectoriesBehaveAsEagerly) {
  MakeStreams(2, 3);
  ASSERT_OK(WriteFileAtomically(&env_,
                                JoinPath("/wal/s1", internal::format::kDeletedMarkerFileName),
                                internal::format::kDeletedMarkerMagic));
  ASSERT_OK(env_.CreateDir("/wal/notes"));
  ASSERT_OK(WriteFileAtomically(&env_, "/wal/notes/readme.txt", "not a stream"));
  WalOptions options = options_;
  options.defer_stream_recovery = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  if (GetParam()) {
    ASSERT_OK_AND_ASSIGN(const bool still, env_.IsDirectory("/wal/s1"));
    EXPECT_TRUE(still) << "a deferred Open touched the deleted stream";
  }
  EXPECT_THAT(wal->Get("s1", 0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal->GetStreamInfo("notes"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(wal->ListStreams(), IsOkAndHolds(std::vector<std::string>{"s0"}));
  EXPECT_THAT(env_.IsDirectory("/wal/s1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadFileToString(&env_, "/wal/notes/readme.txt"), IsOkAndHolds("not a stream"));
  EXPECT_THAT(wal->Append("s1", "again"), IsOkAndHolds(0u));  // a new stream from ID 0
  EXPECT_THAT(wal->CreateStream("s0", 7), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_TRUE(wal->recovery_report().empty());
}

INSTANTIATE_TEST_SUITE_P(EagerAndDeferred, MarkersTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Deferred" : "Eager";
                         });

// Creating a stream whose directory is still pending finds what it holds first.
TEST_F(DeferredOpenFixture, CreatingAPendingStreamFindsItsEntries) {
  MakeStreams(2, 3);
  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  EXPECT_THAT(wal->CreateStream("s0", 0), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(wal->AppendBatchIf("s1", 0, {"x"}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(wal->ResetStream("s1", 9));
  EXPECT_THAT(wal->Append("s1", "x"), IsOkAndHolds(9u));
  EXPECT_THAT(wal->Get("s0", 2), IsOkAndHolds("e2"));
}

// The active segment of stream directory `dir` (its last .wal file).
std::string ActiveSegment(Env* env, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> files = env->GetChildren(dir);
  std::string segment;
  if (!files.ok()) return segment;
  for (const std::string& f : *files) {
    if (absl::EndsWith(f, ".wal")) segment = JoinPath(dir, f);  // sorted: the last is active
  }
  return segment;
}

// Where the disk is full during s1's first-use recovery: kCapacity, the file system's
// space runs out (the cut frees the torn bytes, then the atomic rewrite of durable.pos
// needs more); kWriteAt, the rewrite of the verified bytes over themselves is refused.
enum class FullAt { kCapacity, kWriteAt };

class DiskFullAtFirstUseTest : public DeferredOpenFixture,
                               public ::testing::WithParamInterface<FullAt> {};

// A stream whose active segment has a torn tail and whose durable.pos lags (acknowledged
// kStrict appends, then a power cut): its first-use recovery must cut, rewrite, sync and
// move durable.pos. The disk is full at that point: the call that needed the stream fails
// with ResourceExhausted naming the stream's files, the stream stays pending (every call
// retries and fails alike; nothing is created over it; other streams work), and once there
// is space again the next call recovers it with every acknowledged entry. An eager Open
// afterwards agrees.
TEST_P(DiskFullAtFirstUseTest, FailsClearlyStaysPendingAndLosesNothing) {
  options_.statistics = true;
  constexpr int kAcked = 6;
  MakeStreams(1, kAcked);  // s0, closed cleanly: its recovery writes nothing
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options_));
    for (int j = 0; j < kAcked; ++j) {
      ASSERT_THAT(wal->Append("s1", absl::StrCat("b", j)), IsOkAndHolds(static_cast<uint64_t>(j)));
    }
    // The power fails: nothing the destructor's Close does reaches the disk.
    env_.SetPowerCutAt(env_.mutating_ops());
  }
  env_.ClearPowerCut();
  env_.Crash(CrashOptions());  // kStrict: every acknowledged append was synced
  const std::string segment = ActiveSegment(&env_, "/wal/s1");
  ASSERT_FALSE(segment.empty()) << "no segment in /wal/s1";
  constexpr size_t kTorn = 300;  // bytes past the last frame that are no frame
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> f, env_.NewAppendableFile(segment));
    ASSERT_OK(f->Append(std::string(kTorn, '\xab')));
    ASSERT_OK(f->Sync());
    ASSERT_OK(f->Close());
  }
  ASSERT_OK_AND_ASSIGN(const uint64_t torn_size, env_.GetFileSize(segment));

  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  int rule = -1;
  if (GetParam() == FullAt::kCapacity) {
    env_.SetCapacity(env_.UsedBytes() - kTorn);
  } else {
    FaultRule full;
    full.op = SimOp::kWriteAt;
    full.fault = SimFault::kNoSpace;
    full.path_pattern = "/wal/s1/*";
    rule = env_.AddFaultRule(full);
  }
  const absl::Status first = wal->Append("s1", "never acknowledged").status();
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(first.message(), ::testing::HasSubstr("/wal/s1/"));
  EXPECT_THAT(first.message(), ::testing::HasSubstr("ENOSPC"));
  // Still pending: each call tries again and fails alike; nothing was created over it.
  EXPECT_EQ(wal->Get("s1", 0).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(wal->GetStreamInfo("s1").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(wal->Append("s1", "never either").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(wal->RecoverPendingStreams().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(wal->recovery_report().empty()) << "s1's recovery never finished";
  EXPECT_EQ(wal->GetStatistics().streams_recovered, 1u) << "s0 only (recovery_report)";
  // The other stream works meanwhile.
  EXPECT_THAT(wal->Get("s0", kAcked - 1), IsOkAndHolds(absl::StrCat("e", kAcked - 1)));

  // Space again: the next call recovers s1, with every acknowledged entry.
  if (GetParam() == FullAt::kCapacity) {
    env_.SetCapacity(UINT64_MAX);
  } else {
    EXPECT_GT(env_.FaultFires(rule), 0u);
    env_.RemoveFaultRule(rule);
  }
  // What an eager Open of the disk as the failed attempt left it reports (the cut may be
  // done already: then nothing is left to report but a leftover durable.pos.tmp).
  std::unique_ptr<SimEnv> now = env_.Clone();
  WalOptions now_options = options_;
  now_options.env = now.get();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> eager_now, Wal::Open(now_options));
  for (int j = 0; j < kAcked; ++j) {
    EXPECT_THAT(wal->Get("s1", j), IsOkAndHolds(absl::StrCat("b", j))) << j;
  }
  EXPECT_THAT(wal->Get("s1", kAcked), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(wal->GetStatistics().streams_recovered, 2u);
  EXPECT_EQ(ReportText(wal->recovery_report()), ReportText(eager_now->recovery_report()));
  EXPECT_THAT(env_.GetFileSize(segment), IsOkAndHolds(torn_size - kTorn)) << "the torn tail is cut";
  EXPECT_THAT(wal->Append("s1", "after"), IsOkAndHolds(static_cast<uint64_t>(kAcked)));
  ASSERT_OK(wal->Close());

  // An eager Open agrees: every acknowledged entry, the one appended after, a clean tail.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> eager, Wal::Open(options_));
  for (int j = 0; j < kAcked; ++j) {
    EXPECT_THAT(eager->Get("s0", j), IsOkAndHolds(absl::StrCat("e", j))) << j;
    EXPECT_THAT(eager->Get("s1", j), IsOkAndHolds(absl::StrCat("b", j))) << j;
  }
  EXPECT_THAT(eager->Get("s1", kAcked), IsOkAndHolds("after"));
  EXPECT_THAT(eager->GetStreamInfo("s1"),
              IsOkAndHolds(::testing::Field(&StreamInfo::next_id, uint64_t{kAcked + 1})));
  EXPECT_TRUE(eager->recovery_report().empty()) << ReportText(eager->recovery_report());
}

INSTANTIATE_TEST_SUITE_P(WhereTheDiskIsFull, DiskFullAtFirstUseTest,
                         ::testing::Values(FullAt::kCapacity, FullAt::kWriteAt),
                         [](const ::testing::TestParamInfo<FullAt>& info) {
                           return info.param == FullAt::kCapacity ? "Capacity" : "WriteAt";
                         });

// Appends `n` bytes that are no frame to the active segment of `dir`.
void TearTail(Env* env, const std::string& dir, size_t n) {
  const std::string segment = ActiveSegment(env, dir);
  ASSERT_FALSE(segment.empty()) << "no segment in " << dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> f, env->NewAppendableFile(segment));
  ASSERT_OK(f->Append(std::string(n, '\xab')));
  ASSERT_OK(f->Close());
}

// One reference recovery_report() returned, and its text when it was returned.
struct ReportView {
  const std::vector<StreamRecoveryReport>* view;
  std::string text;
};

// recovery_report() called over and over on one thread while others first-use pending
// streams (a third of them with torn tails, so their recoveries report; listing faults
// make some recoveries fail and be retried, so reports arrive while calls are made). Every
// reference a call returned still reads as it did when returned, after later calls; every
// view is sorted by directory, without duplicates, and agrees with the final report row
// for row; the final report lists each torn stream exactly once, as an eager Open does.
TEST_F(DeferredOpenFixture, RecoveryReportRacingFirstUsesKeepsEarlierViewsValid) {
  constexpr int kStreams = 60;
  options_.logger = std::make_shared<QuietLogger>();
  MakeStreams(kStreams, 3);
  for (int i = 0; i < kStreams; i += 3) TearTail(&env_, absl::StrCat("/wal/s", i), 10 + i);
  if (HasFatalFailure()) return;
  std::unique_ptr<SimEnv> clone = env_.Clone();
  WalOptions clone_options = options_;
  clone_options.env = clone.get();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> eager, Wal::Open(clone_options));
  const std::string expected = ReportText(eager->recovery_report());
  ASSERT_EQ(eager->recovery_report().size(), static_cast<size_t>((kStreams + 2) / 3));

  std::unique_ptr<Wal> wal = OpenDeferred();
  ASSERT_NE(wal, nullptr);
  // A first view, deterministically partial: s13's recovery fails, so the call recovers
  // s0, s1, s10, s11 and s12 (directory-name order) and stops there.
  FaultRule stop;
  stop.op = SimOp::kGetChildren;
  stop.path_pattern = "/wal/s13";
  int rule = env_.AddFaultRule(stop);
  std::vector<ReportView> views;
  views.push_back({&wal->recovery_report(), ""});
  views[0].text = ReportText(*views[0].view);
  EXPECT_EQ(views[0].text, ReportText({eager->recovery_report()[0], eager->recovery_report()[1]}))
      << "s0 and s12";
  env_.RemoveFaultRule(rule);

  // Listing a stream's directory fails now and then: those recoveries fail at their first
  // step (before they change anything, so a retry reports what the eager Open did), the
  // stream stays pending, and its user retries.
  FaultRule flaky;
  flaky.op = SimOp::kGetChildren;
  flaky.path_pattern = "/wal/s*";
  flaky.one_in = 3;
  flaky.max_fires = 12;
  rule = env_.AddFaultRule(flaky);
  constexpr int kUsers = 3;
  std::atomic<int> users_left{kUsers};
  std::atomic<int> ready{0};  // all threads, the reporter included, start together
  std::vector<std::string> errors(kUsers);
  std::vector<std::thread> users;
  for (int t = 0; t < kUsers; ++t) {
    users.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() <= kUsers) {
      }
      Random rng(100 + t);
      std::vector<int> order(kStreams);
      for (int i = 0; i < kStreams; ++i) order[i] = i;
      for (int i = kStreams; i > 1; --i) std::swap(order[i - 1], order[rng.Uniform(i)]);
      for (int i : order) {
        const std::string key = absl::StrCat("s", i);
        // Thread 1 first uses each stream by GetStreamInfo, the others by Get.
        absl::Status used;
        for (int attempt = 0; attempt < 20; ++attempt) {  // at most 12 faults fire in all
          used = t == 1 ? wal->GetStreamInfo(key).status() : wal->Get(key, 2).status();
          if (used.ok()) break;
        }
        absl::StatusOr<std::string> entry = wal->Get(key, 2);
        if (!used.ok() || !entry.ok() || *entry != "e2") {
          errors[t] = absl::StrCat(key, ": ", used.ToString(), " ",
                                   entry.ok() ? *entry : entry.status().ToString());
          break;
        }
      }
      users_left.fetch_sub(1);
    });
  }
  // The reporter: keeps every distinct reference it was given, with its text then.
  ready.fetch_add(1);
  while (ready.load() <= kUsers) {
  }
  while (users_left.load() > 0) {
    const std::vector<StreamRecoveryReport>* view = &wal->recovery_report();
    if (view != views.back().view) views.push_back({view, ReportText(*view)});
  }
  for (std::thread& th : users) th.join();
  for (const std::string& error : errors) EXPECT_EQ(error, "");
  env_.RemoveFaultRule(rule);
  ASSERT_OK(wal->RecoverPendingStreams());
  const std::vector<StreamRecoveryReport>& final_view = wal->recovery_report();
  EXPECT_EQ(ReportText(final_view), expected);
  std::map<std::string, int> rows;
  for (const StreamRecoveryReport& r : final_view) ++rows[r.dir];
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(rows[absl::StrCat("s", i)], i % 3 == 0 ? 1 : 0) << "s" << i;
  }
  std::map<std::string, std::string> final_rows;
  for (const StreamRecoveryReport& r : final_view) final_rows[r.dir] = r.ToString();
  std::printf("%zu distinct views of the report\n", views.size());
  for (size_t v = 0; v < views.size(); ++v) {
    SCOPED_TRACE(absl::StrCat("view ", v));
    EXPECT_EQ(ReportText(*views[v].view), views[v].text) << "changed after it was returned";
    const std::vector<StreamRecoveryReport>& view = *views[v].view;
    for (size_t i = 0; i < view.size(); ++i) {
      if (i > 0) {
        EXPECT_LT(view[i - 1].dir, view[i].dir);
      }
      EXPECT_EQ(view[i].ToString(), final_rows[view[i].dir]) << view[i].dir;
    }
    if (v > 0) {
      EXPECT_GT(view.size(), views[v - 1].view->size());
    }
  }
}

}  // namespace
}  // namespace ironwal
