// VerifyRoot and RepairRoot (ironwal/wal/maintenance.h) as library calls, and "a failed
// repair changes nothing" (issue 8 §7): an I/O error at each I/O a repair makes, in turn,
// must leave a directory that a repair run again turns into exactly what an
// uninterrupted repair makes, with every entry it keeps.
#include "ironwal/wal/maintenance.h"

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

using internal::ClassifyStreamFile;
using internal::DecodeDurablePos;
using internal::DecodeSealedSizes;
using internal::DurablePos;
using internal::ParseSegmentFileName;
using internal::StreamFileKind;

namespace {

using ::ironwal::testing::ReadTreeOrFail;

using ::testing::HasSubstr;

constexpr char kRoot[] = "/wal";
constexpr int kEntries = 30;

std::string Entry(int i) { return absl::StrCat("entry ", i, std::string(60, 'e')); }

WalOptions Options(Env* env) {
  WalOptions options;
  options.env = env;
  options.root = kRoot;
  options.max_segment_size = 1024;
  options.sync_mode = SyncMode::kStrict;
  return options;
}

void Overwrite(Env* env, const std::string& path, uint64_t offset, absl::string_view bytes) {
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewAppendableFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->WriteAt(offset, bytes).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
}

void Replace(Env* env, const std::string& path, absl::string_view contents) {
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append(contents).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
}

// Stream "s" over several segments, closed cleanly, then damaged so that a repair has
// every kind of step to make: a flipped byte in a synced frame of the active segment
// with valid frames after it (quarantined and cut), a malformed head.state (rewritten),
// a leftover temp file (removed).
std::unique_ptr<SimEnv> DamagedRoot() {
  SimEnvOptions sim;
  sim.seed = 5;
  auto env = std::make_unique<SimEnv>(sim);
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(env.get()));
    EXPECT_TRUE(wal.ok()) << wal.status();
    if (!wal.ok()) return env;
    for (int i = 0; i < kEntries; ++i) EXPECT_TRUE((*wal)->Append("s", Entry(i)).ok());
    EXPECT_TRUE((*wal)->Close().ok());
  }
  const std::string dir = JoinPath(kRoot, "s");
  absl::StatusOr<std::vector<std::string>> children = env->GetChildren(dir);
  EXPECT_TRUE(children.ok());
  std::string active;
  for (const std::string& name : *children) {
    if (ParseSegmentFileName(name).has_value()) active = name;  // sorted: the last
  }
  Overwrite(env.get(), JoinPath(dir, active), 40, "\xff");  // the first frame's payload
  Replace(env.get(), JoinPath(dir, "head.state"), "\x07");
  Replace(env.get(), JoinPath(dir, "segments.idx.tmp"), "leftover");
  return env;
}

std::map<std::string, std::string> TreeOf(Env* env) { return ReadTreeOrFail(env, kRoot); }

std::string Describe(const absl::StatusOr<RepairReport>& report) {
  if (!report.ok()) return report.status().ToString();
  std::string out;
  for (const StreamRepair& repair : report->streams) {
    absl::StrAppend(&out, "status: ", repair.status.ToString(), "\n");
    for (const Finding& f : repair.before.findings)
      absl::StrAppend(&out, "before: ", f.ToString(), "\n");
    for (const std::string& a : repair.actions) absl::StrAppend(&out, a, "\n");
    if (repair.after.has_value()) {
      for (const Finding& f : repair.after->findings)
        absl::StrAppend(&out, "after: ", f.ToString(), "\n");
    }
  }
  return out;
}

// durable.pos may be left behind the one an uninterrupted repair writes, as a rotation
// interrupted at its last step leaves it: behind the truth is always safe (FORMAT.md).
// sealed.sizes may miss an entry (it only checks, and its write is allowed to fail).
bool FrontierBehind(const std::string& path, const std::string& got, const std::string& want) {
  if (Basename(path) == "sealed.sizes") {
    absl::StatusOr<std::map<uint64_t, uint64_t>> a = DecodeSealedSizes(got);
    absl::StatusOr<std::map<uint64_t, uint64_t>> b = DecodeSealedSizes(want);
    if (!a.ok() || !b.ok()) return false;
    for (const auto& [start, size] : *a) {
      auto it = b->find(start);
      if (it == b->end() || it->second != size) return false;
    }
    return true;
  }
  if (Basename(path) != "durable.pos") return false;
  absl::StatusOr<DurablePos> a = DecodeDurablePos(got);
  absl::StatusOr<DurablePos> b = DecodeDurablePos(want);
  return a.ok() && b.ok() && a->segment_start_id < b->segment_start_id;
}

// A segment's frame index file is a hint written without a sync: a crash may leave it
// empty, torn or gone, and readers then walk the segment (frame_index_file.h).
bool IsFrameIndex(const std::string& path) {
  return ClassifyStreamFile(Basename(path)).kind == StreamFileKind::kFrameIndex;
}

void ExpectTree(Env* env, const std::map<std::string, std::string>& expected) {
  const std::map<std::string, std::string> tree = TreeOf(env);
  for (const auto& [path, contents] : expected) {
    if (IsFrameIndex(path)) continue;
    auto it = tree.find(path);
    if (it == tree.end()) {
      ADD_FAILURE() << path << " missing";
    } else if (it->second != contents && !FrontierBehind(path, it->second, contents)) {
      ADD_FAILURE() << path << " differs: " << it->second.size() << " bytes, expected "
                    << contents.size();
    }
  }
  for (const auto& [path, contents] : tree) {
    if (expected.count(path) == 0 && !IsFrameIndex(path)) ADD_FAILURE() << "extra file " << path;
  }
}

// What an uninterrupted repair of `damaged` leaves, and how many I/O operations and
// mutating operations it makes.
struct CleanRepair {
  std::map<std::string, std::string> tree;
  uint64_t ops = 0;
  uint64_t mutating_ops = 0;
};

RepairOptions InEnv(Env* env);

CleanRepair RepairUninterrupted(const SimEnv& damaged) {
  CleanRepair result;
  std::unique_ptr<SimEnv> clean = damaged.Clone();
  uint64_t* ops = &result.ops;
  clean->SetHook([ops](const SimOpInfo&) -> std::optional<SimFault> {
    ++*ops;
    return std::nullopt;
  });
  const uint64_t mutating_before = clean->mutating_ops();
  absl::StatusOr<RepairReport> once = RepairRoot(kRoot, InEnv(clean.get()));
  clean->SetHook(SimHook());
  EXPECT_TRUE(once.ok() && once->clean()) << Describe(once);
  result.mutating_ops = clean->mutating_ops() - mutating_before;
  result.tree = TreeOf(clean.get());
  return result;
}

RepairOptions InEnv(Env* env) {
  RepairOptions options;
  options.scope.env = env;
  return options;
}

TEST(MaintenanceTest, VerifyAndRepairAreLibraryCalls) {
  std::unique_ptr<SimEnv> env = DamagedRoot();
  MaintenanceOptions scope;
  scope.env = env.get();
  ASSERT_OK_AND_ASSIGN(const VerifyReport before, VerifyRoot(kRoot, scope));
  ASSERT_EQ(before.streams.size(), 1u);
  EXPECT_FALSE(before.clean());
  EXPECT_TRUE(before.streams[0].repairable());
  ASSERT_OK_AND_ASSIGN(const RepairReport repaired, RepairRoot(kRoot, InEnv(env.get())));
  ASSERT_EQ(repaired.streams.size(), 1u);
  EXPECT_TRUE(repaired.clean()) << repaired.streams[0].status;
  EXPECT_THAT(absl::StrJoin(repaired.streams[0].actions, "\n"), HasSubstr("head.state"));
  ASSERT_OK_AND_ASSIGN(const VerifyReport after, VerifyRoot(kRoot, scope));
  EXPECT_TRUE(after.clean());
  ASSERT_OK_AND_ASSIGN(const std::optional<StreamInfo> info, InspectStream(env.get(), kRoot, "s"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->next_id, after.streams[0].next_id);
}

// Issue 8 §2: the IDs of frames a repair quarantines are never handed out again. The
// damaged frame of DamagedRoot is followed by valid frames up to ID kEntries - 1: after the
// repair the next append gets kEntries, and the cut IDs read as DataLoss.
TEST(MaintenanceTest, RepairNeverHandsOutTheIdsOfQuarantinedFrames) {
  std::unique_ptr<SimEnv> env = DamagedRoot();
  ASSERT_OK_AND_ASSIGN(const RepairReport repaired, RepairRoot(kRoot, InEnv(env.get())));
  ASSERT_TRUE(repaired.clean()) << Describe(repaired);
  EXPECT_THAT(
      absl::StrJoin(repaired.streams[0].actions, "\n"),
      HasSubstr(absl::StrCat(") recorded as lost (lost.ids); the stream continues at ", kEntries)));
  MaintenanceOptions scope;
  scope.env = env.get();
  ASSERT_OK_AND_ASSIGN(const VerifyReport verified, VerifyRoot(kRoot, scope));
  EXPECT_TRUE(verified.clean());
  ASSERT_EQ(verified.streams.size(), 1u);
  ASSERT_EQ(verified.streams[0].lost.size(), 1u);
  const auto [lost_first, lost_end] = verified.streams[0].lost[0];
  EXPECT_EQ(lost_end, static_cast<uint64_t>(kEntries));
  EXPECT_THAT(absl::StrJoin(verified.streams[0].notes, "\n"), HasSubstr("cut out of the log"));
  for (int reopen = 0; reopen < 2; ++reopen) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(Options(env.get())));
    ASSERT_OK_AND_ASSIGN(const uint64_t id, wal->Append("s", "after the repair"));
    EXPECT_EQ(id, static_cast<uint64_t>(kEntries + reopen)) << "a lost ID was handed out again";
    for (uint64_t lost = lost_first; lost < lost_end; ++lost) {
      EXPECT_TRUE(absl::IsDataLoss(wal->Get("s", lost).status())) << "ID " << lost;
    }
    ASSERT_OK_AND_ASSIGN(const std::string before, wal->Get("s", lost_first - 1));
    EXPECT_EQ(before, Entry(static_cast<int>(lost_first - 1)));
    ASSERT_TRUE(wal->Close().ok());
  }
}

// Review finding 1: lost.ids had three readers with different policies. A damaged one
// is now DataLoss for every opener alike, and none of them changes a file: which IDs were
// lost is unknown, and going on could hand them out again or overwrite the record.
TEST(MaintenanceTest, ADamagedLostIdsRefusesTheStreamForEveryReader) {
  std::unique_ptr<SimEnv> env = DamagedRoot();
  ASSERT_OK_AND_ASSIGN(const RepairReport repaired, RepairRoot(kRoot, InEnv(env.get())));
  ASSERT_TRUE(repaired.clean()) << Describe(repaired);
  const std::string lost_ids = JoinPath(JoinPath(kRoot, "s"), "lost.ids");
  Replace(env.get(), lost_ids, "IWLI junk");
  const std::map<std::string, std::string> damaged = TreeOf(env.get());

  for (const bool read_only : {false, true}) {
    for (const CorruptionPolicy policy : {CorruptionPolicy::kError, CorruptionPolicy::kTruncate}) {
      SCOPED_TRACE(absl::StrCat("read_only=", read_only, " policy=", static_cast<int>(policy)));
      WalOptions options = Options(env.get());
      options.read_only = read_only;
      options.on_corruption = policy;
      absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
      EXPECT_TRUE(absl::IsDataLoss(wal.status())) << wal.status();
      EXPECT_THAT(wal.status().message(), HasSubstr("lost.ids"));
    }
  }
  MaintenanceOptions scope;
  scope.env = env.get();
  ASSERT_OK_AND_ASSIGN(const VerifyReport verified, VerifyRoot(kRoot, scope));
  ASSERT_EQ(verified.streams.size(), 1u);
  EXPECT_FALSE(verified.clean());
  EXPECT_FALSE(verified.streams[0].repairable());
  absl::StatusOr<RepairReport> repair = RepairRoot(kRoot, InEnv(env.get()));
  EXPECT_FALSE(repair.ok() && repair->clean()) << Describe(repair);
  absl::StatusOr<std::optional<StreamInfo>> info = InspectStream(env.get(), kRoot, "s");
  EXPECT_TRUE(absl::IsDataLoss(info.status())) << info.status();
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> lost =
      ReadLostIds(env.get(), kRoot, "s");
  EXPECT_TRUE(absl::IsDataLoss(lost.status())) << lost.status();
  EXPECT_THAT(lost.status().message(), HasSubstr(lost_ids));
  EXPECT_TRUE(TreeOf(env.get()) == damaged) << "a refusal changed a file";
}

// An I/O error (EIO) at each I/O of a repair in turn: the repair fails, and repairing
// again then gives the very files an uninterrupted repair gives.
TEST(MaintenanceTest, AnIoErrorAtAnyStepOfARepairIsCompletedByTheNextRepair) {
  std::unique_ptr<SimEnv> damaged = DamagedRoot();
  ASSERT_FALSE(::testing::Test::HasFailure());
  const CleanRepair uninterrupted = RepairUninterrupted(*damaged);
  const uint64_t ops = uninterrupted.ops;
  const std::map<std::string, std::string>& expected = uninterrupted.tree;
  ASSERT_GT(ops, 20u);
  uint64_t failed = 0;
  for (uint64_t k = 0; k < ops; ++k) {
    SCOPED_TRACE(absl::StrCat("EIO at I/O ", k, " of ", ops));
    std::unique_ptr<SimEnv> env = damaged->Clone();
    uint64_t seen = 0;
    env->SetHook([&seen, k](const SimOpInfo&) -> std::optional<SimFault> {
      if (seen++ == k) return SimFault::kIoError;
      return std::nullopt;
    });
    absl::StatusOr<RepairReport> first = RepairRoot(kRoot, InEnv(env.get()));
    env->SetHook(SimHook());
    if (!first.ok() || !first->clean()) ++failed;
    ASSERT_OK_AND_ASSIGN(const RepairReport again, RepairRoot(kRoot, InEnv(env.get())));
    EXPECT_TRUE(again.clean()) << Describe(first) << "\nthen:\n" << Describe(again);
    ExpectTree(env.get(), expected);
    if (::testing::Test::HasFailure()) break;
  }
  std::cout << "repair: " << ops << " I/O operations, an EIO at each; " << failed
            << " failed the repair\n";
  EXPECT_GT(failed, 0u);
}

// The process dies (the OS keeps what it was given) or the power fails (only synced data
// stays) at each mutating operation of a repair in turn: the next repair completes it.
TEST(MaintenanceTest, ACrashAtAnyStepOfARepairIsCompletedByTheNextRepair) {
  std::unique_ptr<SimEnv> damaged = DamagedRoot();
  ASSERT_FALSE(::testing::Test::HasFailure());
  const CleanRepair uninterrupted = RepairUninterrupted(*damaged);
  ASSERT_GT(uninterrupted.mutating_ops, 5u);
  for (uint64_t k = 0; k < uninterrupted.mutating_ops; ++k) {
    for (bool power_loss : {false, true}) {
      SCOPED_TRACE(absl::StrCat("crash at mutating op ", k, " of ", uninterrupted.mutating_ops,
                                power_loss ? ", a power loss" : ", a process kill"));
      std::unique_ptr<SimEnv> env = damaged->Clone();
      env->SetPowerCutAt(env->mutating_ops() + k);
      // (A cut at the write of sealed.sizes, which may fail, does not fail the repair.)
      absl::StatusOr<RepairReport> first = RepairRoot(kRoot, InEnv(env.get()));
      if (power_loss) {
        env->Crash(CrashOptions());
      } else {
        CrashPlan plan;
        plan.keep = env->PendingChanges();
        env->Crash(plan);
      }
      absl::StatusOr<RepairReport> again = RepairRoot(kRoot, InEnv(env.get()));
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_TRUE(again->clean()) << Describe(first) << "\nthen:\n" << Describe(again);
      ExpectTree(env.get(), uninterrupted.tree);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace ironwal
