// Exhaustive crash states for small workloads (torture suite, part 2).
//
// For each workload below: run it on a SimEnv once to count the mutating operations it
// makes (opening the Wal included); then for every boundary k, run it again with a power
// cut at operation k (operations from k on fail and change nothing), list the unsynced
// changes a power loss could keep or lose (PendingChanges), and for every allowed
// combination of them (each unsynced block and length kept or lost; each directory keeping
// a prefix of its unsynced entries; plus a torn variant of the last kept block) crash a
// clone, reopen, and check the oracle (ironwal/testing/wal_model.h). When a boundary has
// more combinations than kMaxStatesPerBoundary, a seeded sample is taken that always
// includes "keep none" and "keep all". The numbers of states explored are printed.
//
// The recovery itself is crashed too (issue 8: no step of recovery may leave fewer
// readable acknowledged entries than there were before it started). For a seeded sample of
// those crash states (all of them with IRONWAL_SWEEP_FULL=1), the reopen that follows is
//   - cut at each of its mutating operations, and every allowed post-crash state of that
//     cut (the same plans, kMaxNestedStatesPerBoundary at most) is recovered again;
//   - failed at each of its I/O calls in turn (every call of every kind: EIO, and ENOSPC and
//     short writes where the call can have them): if the open succeeds all the same, it
//     must show everything; then the disk is reopened as it stands and after a power loss;
// and each time the oracle must find every entry the uninterrupted recovery found (the
// model adopts that recovery's result before the nested checks). The numbers of nested
// states and failed reopens are printed.
//
// The workloads cover appends, batches, transactions, rotation, Truncate, a reopen,
// appends over a preallocated zero tail (WalOptions::preallocate_bytes; kStrict,
// kBatchOnly, and kAsync where Sync fills it), kAsync appends to streams beyond
// max_open_segments (buffered by evicted writers, written later), and
// the log primitives (TruncateSuffix inside the active segment and across segments,
// ResetStream, CreateStream at N, TrimFront, PutStreamMetadata replacing a value,
// DeleteStream and the key used again): a crash in any of them recovers to the state
// before the operation or after it, as the model allows. Their recoveries are crashed in a
// sparser sample by default (kLogOpsNestedSampleOneIn; IRONWAL_SWEEP_FULL=1: every one).
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/testing/wal_model.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

#include "tests/crash/crash_plans.h"

namespace ironwal {

using internal::Random;

namespace {

using ::ironwal::testing::CrashPlans;
using ::ironwal::testing::DescribeCrashPlan;
using ::ironwal::testing::WalModel;

constexpr uint64_t kMaxStatesPerBoundary = 512;
// Per cut of a recovery, at most this many of its post-crash states are recovered again.
constexpr uint64_t kMaxNestedStatesPerBoundary = 32;
// The default run crashes the recovery of one outer crash state in this many (seeded).
constexpr uint64_t kNestedSampleOneIn = 12;
// The same for the log primitives' workloads, whose recoveries are longer (a log.intent
// or stream.deleted to finish first): the default run stays short.
constexpr uint64_t kLogOpsNestedSampleOneIn = 40;
constexpr char kRoot[] = "/crash";

// A workload: operations on an open Wal, each recorded in the model.
struct Workload {
  std::string name;
  WalOptions options;
  // Runs the operations; `wal` may be replaced (a reopen). `cut` is the power cut's
  // operation index (UINT64_MAX for none), to re-arm after a crash inside the workload.
  std::function<void(SimEnv*, uint64_t cut, std::unique_ptr<Wal>*, const WalOptions&, WalModel*)>
      run;
  // The default run crashes the recovery of one outer crash state in this many (seeded).
  uint64_t nested_one_in = kNestedSampleOneIn;
};

std::string Entry(const std::string& stream, uint64_t i, size_t size) {
  std::string e = absl::StrCat(stream, "#", i, ":");
  e.resize(size, static_cast<char>('a' + i % 26));
  return e;
}

void Append(Wal* wal, WalModel* model, const std::string& stream, const std::string& entry) {
  absl::StatusOr<uint64_t> id = wal->Append(stream, entry);
  absl::StatusOr<IdRange> range = id.ok() ? absl::StatusOr<IdRange>(IdRange{*id, *id + 1})
                                          : absl::StatusOr<IdRange>(id.status());
  const std::vector<std::string> entries = {entry};
  EXPECT_TRUE(model->OnAppend(stream, entries, /*batch=*/false, range).empty());
}

void Batch(Wal* wal, WalModel* model, const std::string& stream,
           const std::vector<std::string>& entries, bool txn) {
  absl::StatusOr<IdRange> range;
  if (txn) {
    TxnWriter t = wal->NewTransaction(stream);
    for (const auto& e : entries) EXPECT_TRUE(t.Add(e).ok());
    range = t.Commit();
  } else {
    range = wal->AppendBatch(stream, entries);
  }
  EXPECT_TRUE(model->OnAppend(stream, entries, /*batch=*/true, range).empty());
}

WalOptions Base(SyncMode mode) {
  WalOptions o;
  o.root = kRoot;
  o.sync_mode = mode;
  return o;
}

// Each check of a log primitive's result by the model: no violation.
void Expect(const std::vector<std::string>& violations) {
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
}

// The log primitives (issue 11): every crash state of each must recover to the state
// before it or after it (the model's oracle), and so must the crashes and failures of
// that recovery (a log.intent or stream.deleted it finishes).
void AddLogPrimitiveWorkloads(std::vector<Workload>* all) {
  WalOptions one_segment = Base(SyncMode::kStrict);
  all->push_back(
      {"a suffix truncation inside the active segment", one_segment,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 2; ++i) Append(wal->get(), model, "s", Entry("s", i, 30));
         Batch(wal->get(), model, "s", {Entry("s", 2, 20), Entry("s", 3, 20)}, false);
         // Inside the batch: its front is written again as a frame of its own.
         Expect(model->OnTruncateSuffix("s", 3, (*wal)->TruncateSuffix("s", 3)));
         Append(wal->get(), model, "s", Entry("s", 10, 30));
       },
       kLogOpsNestedSampleOneIn});
  WalOptions two_per_segment = Base(SyncMode::kStrict);
  two_per_segment.max_entries_per_segment = 2;
  all->push_back(
      {"a suffix truncation across segments", two_per_segment,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 5; ++i) Append(wal->get(), model, "s", Entry("s", i, 20));
         Expect(model->OnTruncateSuffix("s", 1, (*wal)->TruncateSuffix("s", 1)));
         Append(wal->get(), model, "s", Entry("s", 10, 20));
       },
       kLogOpsNestedSampleOneIn});
  all->push_back(
      {"a reset", two_per_segment,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 3; ++i) Append(wal->get(), model, "s", Entry("s", i, 20));
         Expect(model->OnReset("s", 7, (*wal)->ResetStream("s", 7)));
         Append(wal->get(), model, "s", Entry("s", 7, 20));
       },
       kLogOpsNestedSampleOneIn});
  all->push_back(
      {"a stream created at N", Base(SyncMode::kBatchOnly),
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         Expect(model->OnCreate("s", 5, (*wal)->CreateStream("s", 5)));
         Batch(wal->get(), model, "s", {Entry("s", 5, 20), Entry("s", 6, 20)}, false);
       },
       kLogOpsNestedSampleOneIn});
  all->push_back(
      {"an exact front trim", two_per_segment,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 5; ++i) Append(wal->get(), model, "s", Entry("s", i, 20));
         Expect(model->OnTrimFront("s", 3, (*wal)->TrimFront("s", 3)));
         Append(wal->get(), model, "s", Entry("s", 5, 20));
       },
       kLogOpsNestedSampleOneIn});
  all->push_back(
      {"metadata replaced", Base(SyncMode::kStrict),
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         Expect(model->OnPutMetadata("s", "term=1", (*wal)->PutStreamMetadata("s", "term=1")));
         Append(wal->get(), model, "s", Entry("s", 0, 20));
         Expect(model->OnPutMetadata("s", "term=2 vote=b",
                                     (*wal)->PutStreamMetadata("s", "term=2 vote=b")));
       },
       kLogOpsNestedSampleOneIn});
  all->push_back(
      {"a delete, then the key used again", two_per_segment,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 3; ++i) Append(wal->get(), model, "s", Entry("s", i, 20));
         Expect(model->OnPutMetadata("s", "m", (*wal)->PutStreamMetadata("s", "m")));
         Expect(model->OnDelete("s", (*wal)->DeleteStream("s")));
         Append(wal->get(), model, "s", Entry("s", 100, 20));
       },
       kLogOpsNestedSampleOneIn});
}

// WalOptions::preallocate_bytes: frames written over synced zeros, the zero tail
// extended, cut at rotation and left by every crash: every acknowledged entry survives.
void AddPreallocatedWorkloads(std::vector<Workload>* all) {
  WalOptions zeroed = Base(SyncMode::kStrict);
  zeroed.max_segment_size = 300;
  zeroed.preallocate_bytes = 160;
  all->push_back(
      {"strict appends over a zero tail, rotating", zeroed,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 6; ++i) Append(wal->get(), model, "s", Entry("s", i, 60));
       }});
  WalOptions zeroed_batches = zeroed;
  zeroed_batches.sync_mode = SyncMode::kBatchOnly;
  all->push_back(
      {"batch-only appends and a batch over a zero tail", zeroed_batches,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         Append(wal->get(), model, "s", Entry("s", 0, 40));
         Batch(wal->get(), model, "s", {Entry("s", 1, 30), Entry("s", 2, 50)}, false);
         Append(wal->get(), model, "s", Entry("s", 3, 40));
       }});
  // kAsync: Sync writes and syncs the zeros; the appends after it are flushed over them
  // unsynced (a crash may keep any of their blocks), the next Sync makes them durable, and
  // the segment fills up and rotates.
  WalOptions zeroed_async = zeroed;
  zeroed_async.sync_mode = SyncMode::kAsync;
  all->push_back(
      {"async appends over a zero tail filled by Sync, rotating", zeroed_async,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         Append(wal->get(), model, "s", Entry("s", 0, 40));
         model->OnSync((*wal)->Sync());
         Append(wal->get(), model, "s", Entry("s", 1, 50));
         Append(wal->get(), model, "s", Entry("s", 2, 30));
         (*wal)->Flush().IgnoreError();  // over the zeros, unsynced
         model->OnSync((*wal)->Sync());
         for (int i = 3; i < 6; ++i) Append(wal->get(), model, "s", Entry("s", i, 60));
         model->OnSync((*wal)->Sync());
       }});
}

// kAsync streams beyond max_open_segments: evicted writers keep their frames in memory
// without a descriptor and write them later (open, write, close) -- when their buffers
// together pass the limit, on a read, on a rotation, on Sync -- so every I/O step of those
// deferred writes is crashed. Its recoveries (three streams) are crashed in the sparser
// sample of the log primitives'.
void AddEvictedWriterWorkloads(std::vector<Workload>* all) {
  WalOptions evicting = Base(SyncMode::kAsync);
  evicting.max_open_segments = 1;
  evicting.write_buffer_size = 100;  // evicted buffers: 100 bytes together
  evicting.max_segment_size = 300;
  all->push_back(
      {"async appends to evicted streams, deferred writes, a read, sync", evicting,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 2; ++i) {
           for (const char* s : {"a", "b", "c"}) Append(wal->get(), model, s, Entry(s, i, 40));
         }
         (*wal)->Get("a", 1).status().IgnoreError();  // flushes "a" (may meet the cut)
         for (const char* s : {"a", "b", "c"}) Append(wal->get(), model, s, Entry(s, 2, 90));
         model->OnSync((*wal)->Sync());
       },
       kLogOpsNestedSampleOneIn});
}

// kAsync writers start parked after an open (a buffer, no descriptor): the first flush of
// a parked writer (its open, its check of the file's size, the write) and what follows it
// are crashed at every step, after an eager open and after a deferred one
// (defer_stream_recovery: the first append then also recovers the stream, so that
// recovery is crashed inside the workload, and every check after a crash reopens deferred
// too). The reopen is clean: Close synced everything before it.
void AddParkedWriterWorkloads(std::vector<Workload>* all) {
  for (const bool deferred : {false, true}) {
    WalOptions parked = Base(SyncMode::kAsync);
    parked.write_buffer_size = 200;
    parked.defer_stream_recovery = deferred;
    all->push_back({absl::StrCat("the first flush of a parked writer after ",
                                 deferred ? "a deferred" : "an eager", " open"),
                    parked,
                    [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions& options,
                       WalModel* model) {
                      for (int i = 0; i < 2; ++i) Append(wal->get(), model, "s", Entry("s", i, 50));
                      Append(wal->get(), model, "t", Entry("t", 0, 50));
                      const absl::Status closed = (*wal)->Close();
                      model->OnSync(closed);  // Close syncs what every stream holds
                      if (!closed.ok()) return;
                      wal->reset();
                      absl::StatusOr<std::unique_ptr<Wal>> reopened = Wal::Open(options);
                      if (!reopened.ok()) return;  // the power cut may hit the reopen itself
                      *wal = *std::move(reopened);
                      // 60-byte entries into a 200-byte buffer: the parked writer's first flush,
                      // then more appends to the attached writer; a read of "t" and a sync.
                      for (int i = 2; i < 7; ++i) Append(wal->get(), model, "s", Entry("s", i, 60));
                      (*wal)->Get("t", 0).status().IgnoreError();
                      Append(wal->get(), model, "t", Entry("t", 1, 30));
                      model->OnSync((*wal)->Sync());
                    },
                    kLogOpsNestedSampleOneIn});
  }
}

std::vector<Workload> Workloads() {
  std::vector<Workload> all;
  for (SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync}) {
    const std::string m = mode == SyncMode::kStrict      ? "strict"
                          : mode == SyncMode::kBatchOnly ? "batch-only"
                                                         : "async";
    all.push_back({"one append (" + m + ")", Base(mode),
                   [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&,
                      WalModel* model) { Append(wal->get(), model, "s", Entry("s", 0, 40)); }});
    all.push_back(
        {"a batch (" + m + ")", Base(mode),
         [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
           Batch(wal->get(), model, "s", {Entry("s", 0, 30), Entry("s", 1, 700), Entry("s", 2, 10)},
                 false);
           Append(wal->get(), model, "s", Entry("s", 3, 20));
         }});
  }
  WalOptions rotating = Base(SyncMode::kStrict);
  rotating.max_segment_size = 200;
  all.push_back(
      {"appends that rotate a segment", rotating,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 5; ++i) Append(wal->get(), model, "s", Entry("s", i, 60));
       }});
  WalOptions rotating_async = rotating;
  rotating_async.sync_mode = SyncMode::kAsync;
  all.push_back(
      {"async appends that rotate, then sync", rotating_async,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 5; ++i) Append(wal->get(), model, "s", Entry("s", i, 60));
         model->OnSync((*wal)->Sync());
       }});
  WalOptions truncating = rotating;
  truncating.max_entries_per_segment = 2;
  all.push_back(
      {"a truncation", truncating,
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         for (int i = 0; i < 6; ++i) Append(wal->get(), model, "s", Entry("s", i, 20));
         EXPECT_TRUE(model->OnTruncate("s", 4, (*wal)->Truncate("s", 4)).empty());
         Append(wal->get(), model, "s", Entry("s", 6, 20));
       }});
  all.push_back(
      {"a transaction on two streams", Base(SyncMode::kBatchOnly),
       [](SimEnv*, uint64_t, std::unique_ptr<Wal>* wal, const WalOptions&, WalModel* model) {
         Append(wal->get(), model, "a", Entry("a", 0, 50));
         Batch(wal->get(), model, "b", {Entry("b", 0, 40), Entry("b", 1, 40)}, true);
         Batch(wal->get(), model, "a", {Entry("a", 1, 40), Entry("a", 2, 40)}, true);
       }});
  all.push_back({"a reopen after a torn tail", Base(SyncMode::kAsync),
                 [](SimEnv* env, uint64_t cut, std::unique_ptr<Wal>* wal, const WalOptions& options,
                    WalModel* model) {
                   for (int i = 0; i < 3; ++i) Append(wal->get(), model, "s", Entry("s", i, 300));
                   // A process crash: the flushed but unsynced tail is torn by the power
                   // loss below; recovery cuts it, rewrites the rest durably, and appends.
                   (*wal)->Flush().IgnoreError();  // may meet the power cut
                   CrashOptions torn;
                   torn.mode = CrashMode::kTearBlock;
                   env->Crash(torn);
                   if (cut != UINT64_MAX) env->SetPowerCutAt(cut);  // Crash disarms it.
                   wal->reset();
                   absl::StatusOr<std::unique_ptr<Wal>> reopened = Wal::Open(options);
                   if (!reopened.ok()) return;  // the power cut may hit the reopen itself
                   *wal = *std::move(reopened);
                   EXPECT_TRUE(model->CheckRecovered(wal->get(), /*crashed=*/true).empty());
                   Append(wal->get(), model, "s", Entry("s", 100, 30));
                   Append(wal->get(), model, "s", Entry("s", 101, 30));
                 }});
  AddEvictedWriterWorkloads(&all);
  AddParkedWriterWorkloads(&all);
  AddPreallocatedWorkloads(&all);
  AddLogPrimitiveWorkloads(&all);
  return all;
}

// Runs `w` on a fresh SimEnv whose power is cut at mutating operation `cut` (none if
// UINT64_MAX). Returns the env, the model, and how many mutating operations ran.
struct Ran {
  std::unique_ptr<SimEnv> env;
  std::unique_ptr<WalModel> model;
  std::unique_ptr<Wal> wal;  // Left open: the crash comes before any Close.
  uint64_t ops = 0;
};

Ran RunWorkload(const Workload& w, uint64_t cut) {
  Ran r;
  r.env = ::ironwal::testing::NewCrashSuiteEnv();
  r.model = std::make_unique<WalModel>(w.options.sync_mode);
  if (cut != UINT64_MAX) r.env->SetPowerCutAt(cut);
  WalOptions options = w.options;
  options.env = r.env.get();
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (wal.ok()) {
    r.wal = *std::move(wal);
    w.run(r.env.get(), cut, &r.wal, options, r.model.get());
  }
  r.ops = r.env->mutating_ops();
  return r;
}

// Opens `env`, checks the oracle `model` (a copy: the caller's stays as it was) and returns
// the violations, or why the open failed.
std::vector<std::string> RecoverAndCheck(SimEnv* env, WalOptions options, WalModel model) {
  options.env = env;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok()) return {absl::StrCat("the open failed: ", wal.status().ToString())};
  return model.CheckRecovered(wal->get(), /*crashed=*/true);
}

// Counts of the nested checks.
struct Nested {
  uint64_t subjects = 0;    // outer crash states whose recovery was crashed and failed
  uint64_t states = 0;      // post-crash states of an interrupted recovery, recovered again
  uint64_t failed_ios = 0;  // reopens with an I/O error injected at one call
};

// Runs one open of `env` (whatever it returns) and drops the Wal. With `model`: an open
// that succeeds must show what the model expects (the violations, none if it failed).
std::vector<std::string> OpenOnce(SimEnv* env, WalOptions options,
                                  const WalModel* model = nullptr) {
  options.env = env;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok() || model == nullptr) return {};
  env->ClearFaultRules();  // the faults were for the open; the check reads without them
  WalModel copy = *model;
  return copy.CheckRecovered(wal->get(), /*crashed=*/true);
}

// Cuts the recovery of `pristine` at each of its mutating operations and recovers every
// (sampled) post-crash state again. `recovered`: the model after the uninterrupted recovery.
void CrashTheRecovery(const SimEnv& pristine, const WalModel& recovered, const WalOptions& options,
                      Random* rng, const std::string& where, Nested* nested) {
  uint64_t ops;
  {
    std::unique_ptr<SimEnv> probe = pristine.Clone();
    const uint64_t before = probe->mutating_ops();
    OpenOnce(probe.get(), options);
    ops = probe->mutating_ops() - before;
  }
  for (uint64_t cut = 0; cut < ops; ++cut) {
    std::unique_ptr<SimEnv> interrupted = pristine.Clone();
    interrupted->SetPowerCutAt(interrupted->mutating_ops() + cut);
    OpenOnce(interrupted.get(), options);
    for (const CrashPlan& plan :
         CrashPlans(interrupted->PendingChanges(), rng, kMaxNestedStatesPerBoundary)) {
      ++nested->states;
      std::unique_ptr<SimEnv> crashed = interrupted->Clone();
      crashed->Crash(plan);
      const std::vector<std::string> violations =
          RecoverAndCheck(crashed.get(), options, recovered);
      ASSERT_TRUE(violations.empty())
          << where << ", then the recovery cut at its mutating op " << cut << " of " << ops << ", "
          << DescribeCrashPlan(plan) << ":\n  " << absl::StrJoin(violations, "\n  ");
    }
  }
}

// The faults an operation of kind `op` can have (see SimFault).
std::vector<SimFault> FaultsOf(SimOp op) {
  std::vector<SimFault> faults = {SimFault::kIoError};
  if (op == SimOp::kAppend || op == SimOp::kWriteAt) faults.push_back(SimFault::kShortWrite);
  if (op == SimOp::kAppend || op == SimOp::kWriteAt || op == SimOp::kAllocate ||
      op == SimOp::kOpenWritable || op == SimOp::kCreateDir || op == SimOp::kRename) {
    faults.push_back(SimFault::kNoSpace);
  }
  return faults;
}

// Fails the recovery of `pristine` at each of its I/O calls in turn, then recovers as the
// disk stands (the process goes on, or was killed) and after a power loss.
void FailTheRecovery(const SimEnv& pristine, const WalModel& recovered, const WalOptions& options,
                     const std::string& where, Nested* nested) {
  for (int k = static_cast<int>(SimOp::kOpenWritable); k <= static_cast<int>(SimOp::kLock); ++k) {
    const SimOp op = static_cast<SimOp>(k);
    for (SimFault fault : FaultsOf(op)) {
      for (uint64_t nth = 1;; ++nth) {
        std::unique_ptr<SimEnv> failed = pristine.Clone();
        FaultRule rule;
        rule.op = op;
        rule.fault = fault;
        rule.nth = nth;
        rule.max_fires = 1;
        const int id = failed->AddFaultRule(rule);
        // An open that succeeds despite the fault must show everything too: a stream it
        // missed would be created again by the next write.
        std::vector<std::string> violations = OpenOnce(failed.get(), options, &recovered);
        if (failed->FaultFires(id) == 0) break;  // the recovery has no such call
        failed->ClearFaultRules();
        ++nested->failed_ios;
        const std::string what =
            absl::StrCat(where, ", then the recovery's ", SimOpName(op), " call ", nth,
                         " failed (fault ", static_cast<int>(fault), ")");
        ASSERT_TRUE(violations.empty())
            << what << ", yet the open succeeded:\n  " << absl::StrJoin(violations, "\n  ");
        std::unique_ptr<SimEnv> power_loss = failed->Clone();
        power_loss->Crash(CrashOptions());
        violations = RecoverAndCheck(power_loss.get(), options, recovered);
        ASSERT_TRUE(violations.empty())
            << what << ", then a power loss:\n  " << absl::StrJoin(violations, "\n  ");
        violations = RecoverAndCheck(failed.get(), options, recovered);
        ASSERT_TRUE(violations.empty())
            << what << ", then a reopen:\n  " << absl::StrJoin(violations, "\n  ");
      }
    }
  }
}

TEST(ExhaustiveCrashTest, EveryCrashStateOfSmallWorkloadsRecovers) {
  const bool full = ::ironwal::testing::EnvNumber("IRONWAL_SWEEP_FULL", 0) != 0;
  uint64_t total_states = 0;
  Nested total_nested;
  for (const Workload& w : Workloads()) {
    SCOPED_TRACE(w.name);
    const uint64_t ops = RunWorkload(w, UINT64_MAX).ops;
    ASSERT_FALSE(HasFailure()) << "the workload fails without any crash";
    Random rng(ops);
    Random nested_rng(ops * 31 + 7);
    Nested nested;
    uint64_t states = 0;
    for (uint64_t cut = 0; cut <= ops; ++cut) {
      Ran ran = RunWorkload(w, cut == ops ? UINT64_MAX : cut);
      for (const CrashPlan& plan :
           CrashPlans(ran.env->PendingChanges(), &rng, kMaxStatesPerBoundary)) {
        ++states;
        std::unique_ptr<SimEnv> crashed = ran.env->Clone();
        crashed->Crash(plan);
        const bool crash_the_recovery = full || nested_rng.OneIn(w.nested_one_in);
        std::unique_ptr<SimEnv> pristine = crash_the_recovery ? crashed->Clone() : nullptr;
        WalModel model = *ran.model;
        WalOptions options = w.options;
        options.env = crashed.get();
        const std::string where =
            absl::StrCat("cut at op ", cut, " of ", ops, ", ", DescribeCrashPlan(plan));
        {
          absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
          ASSERT_TRUE(wal.ok()) << where << ": " << wal.status();
          const std::vector<std::string> violations = model.CheckRecovered(wal->get(), true);
          ASSERT_TRUE(violations.empty()) << where << ":\n  " << absl::StrJoin(violations, "\n  ");
        }
        if (!crash_the_recovery) continue;
        ++nested.subjects;
        ASSERT_NO_FATAL_FAILURE(
            CrashTheRecovery(*pristine, model, w.options, &nested_rng, where, &nested));
        ASSERT_NO_FATAL_FAILURE(FailTheRecovery(*pristine, model, w.options, where, &nested));
      }
    }
    std::cout << "exhaustive crash states: " << w.name << ": " << ops + 1 << " boundaries, "
              << states << " crash states; the recovery of " << nested.subjects
              << " of them crashed into " << nested.states << " nested crash states and failed at "
              << nested.failed_ios << " I/O calls\n";
    total_states += states;
    total_nested.subjects += nested.subjects;
    total_nested.states += nested.states;
    total_nested.failed_ios += nested.failed_ios;
  }
  std::cout << "exhaustive crash states: " << total_states
            << " in all; nested: " << total_nested.states << " crash states of "
            << total_nested.subjects << " recoveries, " << total_nested.failed_ios
            << " failed I/O calls"
            << (full ? "" : " (a sample; IRONWAL_SWEEP_FULL=1 crashes every recovery)") << "\n";
  RecordProperty("crash_states", static_cast<int>(total_states));
  RecordProperty("nested_crash_states", static_cast<int>(total_nested.states));
  RecordProperty("failed_recovery_ios", static_cast<int>(total_nested.failed_ios));
}

}  // namespace
}  // namespace ironwal
