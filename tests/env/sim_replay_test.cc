// Tests of ReplayTrace (sim_trace.h): a trace recorded with trace_for_replay, saved, loaded
// and replayed against a fresh SimEnv gives identical results and identical files; a
// tampered trace is reported at the operation where the replay parts from it.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/env/sim_trace.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

using internal::Random;

namespace {

using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

SimEnvOptions ReplayOptions(uint64_t seed) {
  SimEnvOptions options;
  options.seed = seed;
  options.block_size = 512;
  options.trace_for_replay = true;
  return options;
}

// Every file of `env` (read from a clone, so `env`'s trace does not grow): path -> its
// bytes now and, after a '|', the bytes a kDropUnsynced crash would keep.
std::map<std::string, std::string> Files(const SimEnv& env) {
  std::unique_ptr<SimEnv> copy = env.Clone();
  std::map<std::string, std::string> files;
  std::vector<std::string> dirs = {"/"};
  while (!dirs.empty()) {
    const std::string dir = dirs.back();
    dirs.pop_back();
    absl::StatusOr<std::vector<std::string>> children = copy->GetChildren(dir);
    EXPECT_OK(children.status());
    if (!children.ok()) continue;
    for (const std::string& name : *children) {
      const std::string path = JoinPath(dir, name);
      if (copy->IsDirectory(path).value_or(false)) {
        dirs.push_back(path);
        files[path + "/"] = "(dir)";
        continue;
      }
      absl::StatusOr<std::string> durable = copy->DurableContents(path);
      files[path] = absl::StrCat(ReadFileToString(copy.get(), path).value_or("(unreadable)"), "|",
                                 durable.ok() ? *durable : "(not durable)");
    }
  }
  return files;
}

// One operation of every kind, with faults of every kind, two crashes and a power cut.
void EveryKindOfOperation(SimEnv* env) {
  ASSERT_OK(env->CreateDir("/d"));
  ASSERT_OK(env->SyncDir("/"));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, env->LockDir("/d", "LOCK"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> file_lock, env->LockFile("/d/other lock"));
    ASSERT_OK(env->UnlockFile(std::move(file_lock)));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> w, env->NewWritableFile("/d/a%b.log"));
  ASSERT_OK(w->Append(std::string("\0\x01 binary\xff", 10)));
  ASSERT_OK(w->WriteAt(2, "XY"));
  FaultRule short_write;
  short_write.op = SimOp::kAppend;
  short_write.fault = SimFault::kShortWrite;
  short_write.nth = 1;
  env->AddFaultRule(short_write);
  EXPECT_FALSE(w->Append("0123456789abcdef").ok());
  FaultRule eio;
  eio.op = SimOp::kSync;
  eio.nth = 1;
  env->AddFaultRule(eio);
  EXPECT_FALSE(w->Sync().ok());
  ASSERT_OK(w->Append("after"));
  ASSERT_OK(w->Sync());
  ASSERT_OK(w->Truncate(12));
  ASSERT_OK(w->Allocate(0, 4096));
  ASSERT_OK(w->Close());
  FaultRule flip;
  flip.op = SimOp::kRead;
  flip.fault = SimFault::kBitFlip;
  flip.nth = 2;
  env->AddFaultRule(flip);
  for (bool mmap : {false, true}) {
    RandomAccessFileOptions options;
    options.use_mmap = mmap;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<RandomAccessFile> r,
                         env->NewRandomAccessFile("/d/a%b.log", options));
    char scratch[16];
    ASSERT_OK(r->Read(0, 8, scratch).status());
    ASSERT_OK(r->Size().status());
  }
  ASSERT_OK(env->GetFileSize("/d/a%b.log").status());
  ASSERT_OK(env->IsDirectory("/d").status());
  ASSERT_OK(env->GetChildren("/d").status());
  EXPECT_FALSE(env->RemoveFile("/d/missing").ok());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> b, env->NewAppendableFile("/d/b"));
  ASSERT_OK(b->Append("unsynced"));
  ASSERT_OK(env->RenameFile("/d/b", "/d/c"));
  env->SetPowerCutAt(env->mutating_ops() + 1);
  ASSERT_OK(b->Append("x"));
  EXPECT_FALSE(b->Sync().ok());
  CrashOptions crash;
  crash.mode = CrashMode::kKeepPrefix;
  crash.keep_unsynced_dir_ops = true;
  env->Crash(crash);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> e, env->NewAppendableFile("/d/e"));
  ASSERT_OK(e->Append(std::string(1500, 'e')));
  CrashPlan plan;
  plan.keep = env->PendingChanges();
  plan.tear = true;
  plan.torn_inode = plan.keep.front().inode;
  plan.torn_block = 1;
  plan.torn_bytes = 100;
  env->Crash(plan);
  ASSERT_OK(env->CreateDir("/d/sub"));
  ASSERT_OK(env->RemoveDir("/d/sub"));
}

TEST(SimReplayTest, WithoutTheOptionTracesCarryNoReplayFields) {
  SimEnvOptions options = ReplayOptions(1);
  options.trace_for_replay = false;
  SimEnv env(options);
  ASSERT_NO_FATAL_FAILURE(EveryKindOfOperation(&env));
  for (const TraceRecord& r : env.Trace()) {
    EXPECT_EQ(r.handle, 0u) << r.ToString();
    EXPECT_EQ(r.arg, "") << r.ToString();
    EXPECT_EQ(r.data, "") << r.ToString();
    EXPECT_EQ(r.out, "") << r.ToString();
    EXPECT_NE(r.op, SimOp::kCrash);
    EXPECT_NE(r.op, SimOp::kRelease);
  }
  EXPECT_THAT(ReplayTrace(env.Trace(), &env),  // neither fresh nor recording for replay
              StatusIs(absl::StatusCode::kInvalidArgument));
  SimEnv fresh(ReplayOptions(1));
  EXPECT_THAT(ReplayTrace(env.Trace(), &fresh),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no fd=")));
}

TEST(SimReplayTest, ReplayFieldsSurviveTheTextForm) {
  SimEnv env(ReplayOptions(2));
  ASSERT_NO_FATAL_FAILURE(EveryKindOfOperation(&env));
  const std::vector<TraceRecord> trace = env.Trace();
  const std::string text = FormatTrace(trace);
  EXPECT_THAT(text, HasSubstr("write /d/a%b.log@2+2 OK fd=3 data=5859\n"));
  EXPECT_THAT(text, HasSubstr("lock /d/other lock OK fd=2 arg=file\n"));
  EXPECT_THAT(text, HasSubstr("crash / OK arg=keep-prefix,dirops,rng="));
  EXPECT_THAT(text, HasSubstr("crash / OK arg=plan,keep="));
  EXPECT_THAT(text, HasSubstr("release /d/other lock OK fd=2\n"));
  EXPECT_THAT(text, HasSubstr("list /d OK out=LOCK/a%25b.log/other%20lock\n"));
  ASSERT_OK_AND_ASSIGN(std::vector<TraceRecord> parsed, ParseTrace(text));
  EXPECT_EQ(DiffTraces(trace, parsed), "");
  EXPECT_EQ(FormatTrace(parsed), text);
  EXPECT_THAT(ParseTraceRecord("0 append /w/f@0+1 OK data=0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("data=")));
}

TEST(SimReplayTest, EveryKindOfOperationReplaysIdentically) {
  SimEnv env(ReplayOptions(3));
  ASSERT_NO_FATAL_FAILURE(EveryKindOfOperation(&env));
  const std::vector<TraceRecord> trace = env.Trace();
  // Replay on a SimEnv of another seed: the recorded draws decide, not the seed.
  SimEnv fresh(ReplayOptions(4));
  ASSERT_OK_AND_ASSIGN(ReplayReport report, ReplayTrace(trace, &fresh));
  EXPECT_TRUE(report.identical) << report.difference;
  EXPECT_EQ(report.replayed, trace.size());
  EXPECT_EQ(Files(fresh), Files(env));
  // A used SimEnv is refused.
  EXPECT_THAT(ReplayTrace(trace, &fresh), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A seeded multi-stream Wal workload under faults (short writes, failed syncs, bit flips,
// a power cut) with three crashes and recoveries.
void RecordWalWorkload(uint64_t seed, SimEnv* env) {
  Random rnd(seed);
  FaultRule rule;
  rule.op = SimOp::kAppend;
  rule.fault = SimFault::kShortWrite;
  rule.path_pattern = "*.wal";
  rule.one_in = 25;
  rule.max_fires = 2;
  env->AddFaultRule(rule);
  rule.op = SimOp::kSync;
  rule.fault = SimFault::kIoError;
  rule.one_in = 20;
  env->AddFaultRule(rule);
  rule.op = SimOp::kRead;
  rule.fault = SimFault::kBitFlip;
  rule.one_in = 15;
  env->AddFaultRule(rule);
  rule.op = SimOp::kSync;
  rule.fault = SimFault::kPowerCut;
  rule.one_in = 1;
  rule.nth = 8 + seed % 5;
  rule.max_fires = 1;
  env->AddFaultRule(rule);
  WalOptions options;
  options.env = env;
  options.root = "/w";
  options.max_segment_size = 1024;
  options.sync_mode = seed % 2 == 0 ? SyncMode::kStrict : SyncMode::kBatchOnly;
  for (int round = 0; round < 4; ++round) {
    {
      absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
      if (wal.ok()) {
        for (int i = 0; i < 60; ++i) {
          const std::string stream = absl::StrCat("s", rnd.Uniform(4));
          switch (rnd.Uniform(8)) {
            case 0:
              (*wal)->Sync().IgnoreError();
              break;
            case 1: {
              absl::StatusOr<std::unique_ptr<Iterator>> it = (*wal)->NewIterator(stream, 0);
              for (int n = 0; it.ok() && (*it)->Valid() && n < 20; ++n) (*it)->Next();
              break;
            }
            case 2:
              (*wal)->AppendBatch(stream, {rnd.Bytes(40), rnd.Bytes(90)}).status().IgnoreError();
              break;
            default:
              (*wal)->Append(stream, rnd.Bytes(rnd.Range(1, 200))).status().IgnoreError();
          }
        }
      }
      CrashOptions crash;
      crash.mode = static_cast<CrashMode>(rnd.Uniform(4));
      crash.keep_unsynced_dir_ops = rnd.OneIn(2);
      env->Crash(crash);
    }  // The Wal dies after the crash, on dead handles.
  }
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);  // reads everything back
  if (wal.ok()) {
    for (int s = 0; s < 4; ++s) {
      absl::StatusOr<std::unique_ptr<Iterator>> it = (*wal)->NewIterator(absl::StrCat("s", s), 0);
      while (it.ok() && (*it)->Valid()) (*it)->Next();
    }
  }
}

std::string TracePath(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  return JoinPath(tmp, name);
}

TEST(SimReplayTest, ASavedWalWorkloadReplaysToTheSameResultsAndFiles) {
  const uint64_t first = ::ironwal::testing::EnvNumber("IRONWAL_SEED", 1);
  const uint64_t seeds = std::getenv("IRONWAL_SEED") != nullptr
                             ? 1
                             : ::ironwal::testing::EnvNumber("IRONWAL_REPLAY_SEEDS", 6);
  std::map<std::string, int> seen;  // what the traces exercised
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed, " (IRONWAL_SEED)"));
    SimEnv env(ReplayOptions(seed));
    ASSERT_NO_FATAL_FAILURE(RecordWalWorkload(seed, &env));
    const std::string path = TracePath(absl::StrCat("wal-", seed, ".trace"));
    ASSERT_OK(SaveTrace(Env::Default(), path, env.Trace()));
    ASSERT_OK_AND_ASSIGN(std::vector<TraceRecord> loaded, LoadTrace(Env::Default(), path));
    ASSERT_EQ(DiffTraces(env.Trace(), loaded), "");
    for (const TraceRecord& r : loaded) {
      ++seen[SimOpName(r.op)];
      if (!r.injected.empty()) ++seen[r.injected.substr(0, 8)];
    }
    SimEnv fresh(ReplayOptions(seed + 1000));
    ASSERT_OK_AND_ASSIGN(ReplayReport report, ReplayTrace(loaded, &fresh));
    ASSERT_TRUE(report.identical) << report.difference;
    EXPECT_EQ(report.replayed, loaded.size());
    EXPECT_EQ(Files(fresh), Files(env)) << "the replayed files differ";
  }
  for (const char* what :
       {"crash", "release", "read", "append", "power cu", "short wr", "bit flip", "EIO"}) {
    EXPECT_GT(seen[what], 0) << "no trace had " << what;
  }
}

// The first read after trace[a] that returns the first byte trace[a] (an append) wrote,
// with nothing between them that could change or drop that byte; 0 if there is none.
size_t ReaderOfAppend(const std::vector<TraceRecord>& trace, size_t a) {
  const std::string& path = trace[a].path;
  const uint64_t at = trace[a].offset;
  for (size_t j = a + 1; j < trace.size(); ++j) {
    const TraceRecord& r = trace[j];
    if (r.op == SimOp::kCrash) return 0;
    const bool same_file =
        r.path == path || (r.op == SimOp::kRename && r.path.find(path) != std::string::npos);
    if (!same_file) continue;
    if (r.op == SimOp::kRead && r.result == absl::StatusCode::kOk && r.offset <= at &&
        at < r.offset + r.data.size()) {
      return j;
    }
    const bool writes_it = (r.op == SimOp::kAppend || r.op == SimOp::kWriteAt) && r.offset <= at &&
                           at < r.offset + r.length;
    if (writes_it || r.op == SimOp::kRename || r.op == SimOp::kRemoveFile ||
        (r.op == SimOp::kTruncate && r.offset <= at) ||
        (r.op == SimOp::kOpenWritable && r.arg == "truncate")) {
      return 0;
    }
  }
  return 0;
}

TEST(SimReplayTest, ATamperedByteIsReportedAtTheFirstReadOfIt) {
  SimEnv env(ReplayOptions(5));
  ASSERT_NO_FATAL_FAILURE(RecordWalWorkload(5, &env));
  std::vector<TraceRecord> trace = env.Trace();
  size_t a = 0, reader = 0;
  for (; a < trace.size() && reader == 0; ++a) {
    if (trace[a].op == SimOp::kAppend && trace[a].result == absl::StatusCode::kOk &&
        !trace[a].data.empty()) {
      reader = ReaderOfAppend(trace, a);
    }
  }
  ASSERT_NE(reader, 0u) << "no append whose byte is read back before a crash";
  --a;
  trace[a].data[0] = static_cast<char>(trace[a].data[0] ^ 0x20);
  SimEnv fresh(ReplayOptions(5));
  ASSERT_OK_AND_ASSIGN(ReplayReport report, ReplayTrace(trace, &fresh));
  std::cout << report.difference;
  ASSERT_FALSE(report.identical);
  EXPECT_EQ(report.first_difference, reader)
      << "tampered " << trace[a].ToString().substr(0, 80) << "\n"
      << report.difference;
  EXPECT_EQ(report.replayed, reader);
  EXPECT_THAT(report.difference,
              HasSubstr(absl::StrCat("replay differs at record ", reader, " of ")));
  EXPECT_THAT(report.difference,
              HasSubstr(absl::StrCat("data differs at byte ",
                                     trace[a].offset - trace[reader].offset, ": 0x")));
}

TEST(SimReplayTest, ARemovedOperationIsReportedWhereItIsMissing) {
  SimEnv env(ReplayOptions(6));
  ASSERT_NO_FATAL_FAILURE(RecordWalWorkload(6, &env));
  std::vector<TraceRecord> trace = env.Trace();
  size_t removed = 20;
  while (removed < trace.size() && trace[removed].op != SimOp::kSync) ++removed;
  ASSERT_LT(removed, trace.size());
  const uint64_t seq = trace[removed].seq;
  trace.erase(trace.begin() + removed);
  SimEnv fresh(ReplayOptions(6));
  ASSERT_OK_AND_ASSIGN(ReplayReport report, ReplayTrace(trace, &fresh));
  ASSERT_FALSE(report.identical);
  EXPECT_EQ(report.first_difference, removed) << report.difference;
  EXPECT_THAT(report.difference, HasSubstr(absl::StrCat("the trace lacks operation ", seq, ")")));
}

// Removed and renumbered (a trace edited by hand): no gap to see, so the replay parts from
// the trace where a result first changes: never before the removal.
TEST(SimReplayTest, ARemovedAndRenumberedAppendIsFoundWhereAResultChanges) {
  SimEnv env(ReplayOptions(7));
  ASSERT_NO_FATAL_FAILURE(RecordWalWorkload(7, &env));
  std::vector<TraceRecord> trace = env.Trace();
  size_t removed = 20;
  while (removed < trace.size() &&
         !(trace[removed].op == SimOp::kAppend && trace[removed].result == absl::StatusCode::kOk &&
           !trace[removed].data.empty())) {
    ++removed;
  }
  ASSERT_LT(removed, trace.size());
  trace.erase(trace.begin() + removed);
  for (size_t i = removed; i < trace.size(); ++i) --trace[i].seq;
  SimEnv fresh(ReplayOptions(7));
  ASSERT_OK_AND_ASSIGN(ReplayReport report, ReplayTrace(trace, &fresh));
  ASSERT_FALSE(report.identical) << "a missing append went unnoticed";
  EXPECT_GE(report.first_difference, removed) << report.difference;
}

}  // namespace
}  // namespace ironwal
