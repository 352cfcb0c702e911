// Every crash state of a small ShardedWal workload (issue 12): 2 shards, appends,
// CreateCheckpoint, more appends, CreateCheckpoint, CompactCheckpoints(1), more appends,
// PruneBeforeCheckpoint, in each sync mode. As in //tests/crash:exhaustive_crash_test: the
// workload runs once on a SimEnv to count its mutating operations (the open included); then
// for every boundary k it runs again with a power cut at operation k, and for every allowed
// combination of the unsynced changes a power loss could keep or lose (crash_plans.h; a
// boundary with more than kMaxStatesPerBoundary combinations would be sampled, seeded by
// the operation count; none is, and IRONWAL_SWEEP_FULL=1 raises the cap) a clone is
// crashed and reopened. After each recovery:
//   - ShardedWal opens, and every checkpoint it lists loads;
//   - the latest checkpoint is the last acknowledged one or one whose CreateCheckpoint
//     failed at the cut (never an older one, never "none" after an acknowledged one);
//   - every acknowledged checkpoint that no acknowledged compaction removed (while a
//     compaction is in flight: the one it keeps) is listed with the data it was given;
//   - no shard's first retained ID is above the latest checkpoint's offset, and no offset
//     is past the shard's recovered next ID;
//   - replaying each shard from the latest checkpoint yields acknowledged entries (or the
//     value of an append that failed at the cut) under their IDs, and every entry that was
//     promised durable from there on.
// The number of crash states checked is printed.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/sharded/sharded_wal.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"

#include "tests/crash/crash_plans.h"
#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::Random;

namespace {

constexpr uint32_t kShards = 2;
constexpr uint64_t kMaxStatesPerBoundary = 512;
constexpr uint64_t kMaxStatesPerBoundaryFull = uint64_t{1} << 16;

// What the workload was promised, and what was in flight when the power was cut.
struct Model {
  std::vector<std::map<uint64_t, std::string>> entries{kShards};     // acknowledged
  std::vector<uint64_t> durable{std::vector<uint64_t>(kShards, 0)};  // promised below this
  std::vector<std::set<std::string>> failed{kShards};                // values of failed appends
  std::map<std::string, CheckpointData> checkpoints;                 // acknowledged, must be listed
  std::string last_checkpoint;               // last acknowledged ("" for none)
  std::set<std::string> failed_checkpoints;  // CreateCheckpoint failed
  uint64_t checkpoints_compacted = 0;        // by the acknowledged compaction
  uint64_t segments_pruned = 0;              // by the acknowledged prune
};

class Workload {
 public:
  Workload(ShardedWal* wal, SyncMode mode, Model* model) : wal_(wal), mode_(mode), m_(model) {}

  void Run() {
    for (int i = 0; i < 3; ++i) Append(i);
    Checkpoint("c1");
    for (int i = 3; i < 5; ++i) Append(i);
    MixedBatch(5);
    Checkpoint("c2");
    Compact(1);
    for (int i = 9; i < 11; ++i) Append(i);
    Prune();
  }

 private:
  void Append(int i) {
    const std::string key = absl::StrCat("k", i);
    const std::string value = absl::StrCat("v", i, "-", std::string(40 + 10 * i, 'x'));
    absl::StatusOr<ShardedId> at = wal_->Append(key, value);
    if (!at.ok()) {
      m_->failed[wal_->RouteKey(key)].insert(value);
      return;
    }
    m_->entries[at->shard][at->id] = value;
    if (mode_ == SyncMode::kStrict) Promise(at->shard, at->id + 1);
  }

  // Entries first..first+3 in one AppendBatch over keys of both shards.
  void MixedBatch(int first) {
    std::vector<std::string> keys, values;
    std::vector<KeyValue> batch;
    for (int i = first; i < first + 4; ++i) {
      keys.push_back(absl::StrCat("k", i));
      values.push_back(absl::StrCat("b", i, "-", std::string(30 + 10 * i, 'y')));
    }
    for (size_t i = 0; i < keys.size(); ++i) batch.push_back({keys[i], values[i]});
    absl::StatusOr<std::vector<ShardedId>> ids = wal_->AppendBatch(batch);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!ids.ok()) {
        m_->failed[wal_->RouteKey(keys[i])].insert(values[i]);
        continue;
      }
      const ShardedId& at = (*ids)[i];
      m_->entries[at.shard][at.id] = values[i];
      if (mode_ != SyncMode::kAsync) Promise(at.shard, at.id + 1);
    }
  }

  void Checkpoint(const std::string& id) {
    absl::StatusOr<CheckpointData> data = wal_->CreateCheckpoint(id);
    if (!data.ok()) {
      m_->failed_checkpoints.insert(id);
      return;
    }
    m_->checkpoints[id] = *data;
    m_->last_checkpoint = id;
    for (uint32_t s = 0; s < kShards; ++s) Promise(s, data->offsets[s]);
  }

  void Compact(size_t keep_n) {
    // In flight, the compaction may remove all but the latest keep_n (here: the last).
    ASSERT_EQ(keep_n, 1u);
    std::map<std::string, CheckpointData> kept;
    if (!m_->last_checkpoint.empty()) {
      kept[m_->last_checkpoint] = m_->checkpoints[m_->last_checkpoint];
    }
    m_->checkpoints = kept;
    absl::StatusOr<CompactionStats> stats = wal_->CompactCheckpoints(keep_n);
    if (stats.ok())
      m_->checkpoints_compacted = stats->checkpoints_before - stats->checkpoints_after;
  }

  void Prune() {
    if (m_->last_checkpoint.empty()) return;
    absl::StatusOr<PruneStats> stats = wal_->PruneBeforeCheckpoint(m_->last_checkpoint);
    if (stats.ok()) m_->segments_pruned = stats->segments_deleted;
  }

  void Promise(uint32_t shard, uint64_t next) {
    m_->durable[shard] = std::max(m_->durable[shard], next);
  }

  ShardedWal* const wal_;
  const SyncMode mode_;
  Model* const m_;
};

WalOptions Options(SimEnv* env, SyncMode mode) {
  WalOptions options;
  options.env = env;
  options.root = "/sharded";
  options.sync_mode = mode;
  options.max_segment_size = 256;
  options.max_entries_per_segment = 2;
  return options;
}

struct Ran {
  std::unique_ptr<SimEnv> env;
  Model model;
  uint64_t ops = 0;
};

// Runs the workload on a fresh SimEnv with a power cut at mutating op `cut` (UINT64_MAX:
// none). The ShardedWal is dropped without Close (the crash comes first).
Ran RunWorkload(SyncMode mode, uint64_t cut) {
  Ran r;
  r.env = ::ironwal::testing::NewCrashSuiteEnv();
  if (cut != UINT64_MAX) r.env->SetPowerCutAt(cut);
  absl::StatusOr<std::unique_ptr<ShardedWal>> wal =
      ShardedWal::Open(Options(r.env.get(), mode), kShards);
  if (wal.ok()) Workload(wal->get(), mode, &r.model).Run();
  r.ops = r.env->mutating_ops();
  return r;
}

uint64_t NextId(ShardedWal* wal, uint32_t s, uint64_t* first) {
  absl::StatusOr<StreamInfo> info = wal->wal()->GetStreamInfo(wal->ShardStream(s));
  *first = info.ok() ? info->first_id : 0;
  return info.ok() ? info->next_id : 0;
}

// The checkpoints: returns "" or the violation. Sets *latest_offsets.
std::string CheckCheckpoints(ShardedWal* wal, const Model& m, std::vector<uint64_t>* from) {
  for (const CheckpointInfo& c : wal->ListCheckpoints()) {
    absl::StatusOr<CheckpointData> data = wal->LoadCheckpoint(c.user_id);
    if (!data.ok())
      return absl::StrCat("listed ", c.user_id, " does not load: ", data.status().ToString());
  }
  for (const auto& [id, data] : m.checkpoints) {
    absl::StatusOr<CheckpointData> loaded = wal->LoadCheckpoint(id);
    if (!loaded.ok())
      return absl::StrCat("acknowledged ", id, " lost: ", loaded.status().ToString());
    if (!(*loaded == data)) return absl::StrCat("acknowledged ", id, " changed");
  }
  absl::StatusOr<NamedCheckpoint> latest = wal->LoadLatestCheckpoint();
  if (!latest.ok()) {
    if (!m.last_checkpoint.empty()) {
      return absl::StrCat("no latest checkpoint after ", m.last_checkpoint, ": ",
                          latest.status().ToString());
    }
    from->assign(kShards, 0);
    return "";
  }
  const std::string& id = latest->user_id;
  if (id != m.last_checkpoint && !m.failed_checkpoints.count(id)) {
    return absl::StrCat("the latest checkpoint is ", id, ", the last acknowledged is '",
                        m.last_checkpoint, "'");
  }
  if (latest->data.offsets.size() != kShards) return "latest has the wrong shard count";
  *from = latest->data.offsets;
  for (uint32_t s = 0; s < kShards; ++s) {
    uint64_t first;
    const uint64_t next = NextId(wal, s, &first);
    if ((*from)[s] > next) {
      return absl::StrCat(id, " claims shard ", s, " up to ", (*from)[s], ", only ", next,
                          " survived");
    }
    if (first > (*from)[s] && next > 0) {
      return absl::StrCat("shard ", s, " starts at ", first, ", past ", id, "'s offset ",
                          (*from)[s]);
    }
  }
  return "";
}

std::string CheckShard(ShardedWal* wal, const Model& m, uint32_t s, uint64_t from) {
  absl::StatusOr<std::map<uint64_t, std::string>> got = testing::ReadShard(wal, s, from);
  if (!got.ok()) return absl::StrCat("replay from ", from, ": ", got.status().ToString());
  const std::map<uint64_t, std::string>& want = m.entries[s];
  for (const auto& [id, value] : *got) {
    auto it = want.find(id);
    if (it != want.end() ? it->second != value : !m.failed[s].count(value)) {
      return absl::StrCat("entry ", id, " was never acknowledged as it reads");
    }
  }
  for (auto it = want.lower_bound(from); it != want.end() && it->first < m.durable[s]; ++it) {
    if (!got->count(it->first)) return absl::StrCat("durable entry ", it->first, " lost");
  }
  return "";
}

std::string RecoverAndCheck(SimEnv* env, SyncMode mode, const Model& m) {
  absl::StatusOr<std::unique_ptr<ShardedWal>> wal = ShardedWal::Open(Options(env, mode), kShards);
  if (!wal.ok()) return absl::StrCat("the open failed: ", wal.status().ToString());
  std::vector<uint64_t> from;
  std::string error = CheckCheckpoints(wal->get(), m, &from);
  for (uint32_t s = 0; s < kShards && error.empty(); ++s) {
    error = CheckShard(wal->get(), m, s, from[s]);
    if (!error.empty()) error = absl::StrCat("shard ", s, ": ", error);
  }
  return error;
}

TEST(ShardedExhaustiveCrashTest, EveryCrashStateOfACheckpointAndCompactionWorkloadRecovers) {
  const bool full = ::ironwal::testing::EnvNumber("IRONWAL_SWEEP_FULL", 0) != 0;
  const uint64_t max_states = full ? kMaxStatesPerBoundaryFull : kMaxStatesPerBoundary;
  uint64_t total = 0, total_sampled = 0;
  for (SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync}) {
    SCOPED_TRACE(absl::StrCat("sync mode ", static_cast<int>(mode)));
    const Ran uncut = RunWorkload(mode, UINT64_MAX);
    const uint64_t ops = uncut.ops;
    ASSERT_FALSE(HasFailure()) << "the workload fails without any crash";
    // Without a crash, the workload does what it is for: both checkpoints acknowledged,
    // the first compacted away, segments below the second pruned on every shard.
    ASSERT_EQ(uncut.model.last_checkpoint, "c2");
    ASSERT_EQ(uncut.model.checkpoints_compacted, 1u);
    ASSERT_GE(uncut.model.segments_pruned, uint64_t{kShards});
    for (uint32_t s = 0; s < kShards; ++s) ASSERT_GE(uncut.model.entries[s].size(), 2u);
    Random rng(ops);
    uint64_t states = 0, sampled_boundaries = 0;
    for (uint64_t cut = 0; cut <= ops; ++cut) {
      Ran ran = RunWorkload(mode, cut == ops ? UINT64_MAX : cut);
      bool sampled = false;
      const std::vector<CrashPlan> plans =
          ::ironwal::testing::CrashPlans(ran.env->PendingChanges(), &rng, max_states, &sampled);
      sampled_boundaries += sampled;
      for (const CrashPlan& plan : plans) {
        ++states;
        std::unique_ptr<SimEnv> crashed = ran.env->Clone();
        crashed->Crash(plan);
        const std::string error = RecoverAndCheck(crashed.get(), mode, ran.model);
        ASSERT_EQ(error, "") << "cut at op " << cut << " of " << ops << ", "
                             << ::ironwal::testing::DescribeCrashPlan(plan);
      }
    }
    std::cout << "sharded exhaustive crash states (sync mode " << static_cast<int>(mode)
              << "): " << ops + 1 << " boundaries (" << sampled_boundaries << " sampled), "
              << states << " crash states\n";
    total += states;
    total_sampled += sampled_boundaries;
  }
  std::cout << "sharded exhaustive crash states: " << total << " in all; " << total_sampled
            << " boundaries sampled"
            << (total_sampled == 0 || full ? "" : " (IRONWAL_SWEEP_FULL=1: every combination)")
            << "\n";
  RecordProperty("crash_states", static_cast<int>(total));
}

}  // namespace
}  // namespace sharded
}  // namespace ironwal
