// ShardedWal under SimEnv crashes, power cuts and I/O faults. Each seed runs rounds of a
// random workload (appends, single-key and mixed batches, checkpoints, pruning to the
// latest checkpoint, compaction) in a random sync mode, with a power cut at a random
// operation and sometimes EIO faults, then crashes in a random CrashMode and reopens.
// After every recovery:
//   - every listed checkpoint loads, and every acknowledged checkpoint that compaction
//     kept is listed with the same data;
//   - no checkpoint names an ID past a shard's recovered next ID (never claims an ID
//     that was not durable);
//   - replaying every shard from the latest checkpoint yields exactly the acknowledged
//     entries from there: each recovered entry is the acknowledged one with its ID, and
//     every acknowledged entry that was promised durable is there (entries of calls
//     that failed may or may not be).
//
//   IRONWAL_SEED=n   run only seed n          IRONWAL_SEEDS=n   seeds 0..n-1 (default 150)
#include <cstdint>
#include <cstdlib>
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

#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::Random;

namespace {

using ::ironwal::testing::EnvNumber;

constexpr uint32_t kShards = 3;

// What the runs exercised, printed at the end.
struct Stats {
  uint64_t recoveries = 0, torn_log_tails = 0, checkpoints = 0, prunes = 0, compactions = 0;
};
Stats stats;

// What the workload was promised.
struct Model {
  std::vector<std::map<uint64_t, std::string>> entries{kShards};     // acknowledged
  std::vector<uint64_t> durable{std::vector<uint64_t>(kShards, 0)};  // promised below this
  std::vector<bool> uncertain{std::vector<bool>(kShards, false)};    // a write failed
  std::map<std::string, CheckpointData> checkpoints;                 // acknowledged, kept
};

class SimRun {
 public:
  explicit SimRun(uint64_t seed) : seed_(seed), rng_(seed) {
    SimEnvOptions options;
    options.seed = seed;
    options.record_trace = false;
    env_ = std::make_unique<SimEnv>(options);
    options_.env = env_.get();
    options_.root = "/wal";
    options_.max_segment_size = 512 << rng_.Uniform(3);
    options_.sync_mode = static_cast<SyncMode>(rng_.Uniform(3));
  }

  // Returns "" or what went wrong.
  std::string Go() {
    for (int round = 0; round < 4; ++round) {
      std::string error = Round(round);
      if (!error.empty()) return absl::StrCat("round ", round, ": ", error);
    }
    return "";
  }

 private:
  std::string Round(int round) {
    absl::StatusOr<std::unique_ptr<ShardedWal>> opened = ShardedWal::Open(options_, kShards);
    if (!opened.ok()) return absl::StrCat("open: ", opened.status().ToString());
    wal_ = *std::move(opened);
    stats.torn_log_tails += wal_->checkpoint_log_report().torn_tail_bytes > 0;
    if (round > 0) {
      ++stats.recoveries;
      std::string error = Check();
      if (!error.empty()) return error;
    }
    env_->SetPowerCutAt(env_->mutating_ops() + rng_.Range(20, 400));
    if (rng_.OneIn(3)) {
      FaultRule rule;
      rule.op = rng_.OneIn(2) ? SimOp::kSync : SimOp::kAppend;
      if (rule.op == SimOp::kAppend && rng_.OneIn(2)) rule.fault = SimFault::kShortWrite;
      if (rng_.OneIn(2)) rule.path_pattern = "/wal/checkpoints.log*";
      rule.one_in = 15;
      env_->AddFaultRule(rule);
    }
    for (int op = 0; op < 60; ++op) Step(op);
    env_->ClearFaultRules();
    CrashOptions crash;
    crash.mode = static_cast<CrashMode>(rng_.Uniform(4));
    crash.keep_unsynced_dir_ops = rng_.OneIn(2);
    // The process dies with the power: nothing the old ShardedWal still holds (a kAsync
    // writer's buffer) may reach the disk after the crash.
    env_->SetPowerCutAt(env_->mutating_ops());
    wal_.reset();
    env_->Crash(crash);
    env_->ClearPowerCut();
    return "";
  }

  std::string Value(int op, int i) {
    return absl::StrCat("s", seed_, "-", counter_++, "-", op, "-", i);
  }

  void Step(int op) {
    const uint64_t kind = rng_.Uniform(20);
    if (kind < 10) {
      const std::string key = absl::StrCat("k", rng_.Uniform(12));
      const std::string value = Value(op, 0);
      absl::StatusOr<ShardedId> at = wal_->Append(key, value);
      const uint32_t shard = wal_->RouteKey(key);
      if (!at.ok()) return Failed(shard);
      model_.entries[shard][at->id] = value;
      if (options_.sync_mode == SyncMode::kStrict) Promise(shard, at->id + 1);
    } else if (kind < 13) {
      std::vector<std::string> values = {Value(op, 0), Value(op, 1), Value(op, 2)};
      std::vector<absl::string_view> views(values.begin(), values.end());
      const std::string key = absl::StrCat("k", rng_.Uniform(12));
      absl::StatusOr<ShardedRange> r = wal_->AppendBatchForKey(key, views);
      if (!r.ok()) return Failed(wal_->RouteKey(key));
      for (uint64_t i = 0; i < 3; ++i) model_.entries[r->shard][r->ids.first + i] = values[i];
      if (options_.sync_mode != SyncMode::kAsync) Promise(r->shard, r->ids.end);
    } else if (kind < 15) {
      MixedBatch(op);
    } else if (kind < 18) {
      const std::string id = absl::StrCat("ckpt-", counter_++);
      absl::StatusOr<CheckpointData> data = wal_->CreateCheckpoint(id);
      if (!data.ok()) return;
      model_.checkpoints[id] = *data;
      ++stats.checkpoints;
      for (uint32_t s = 0; s < kShards; ++s) Promise(s, data->offsets[s]);
    } else if (kind < 19) {
      absl::StatusOr<NamedCheckpoint> latest = wal_->LoadLatestCheckpoint();
      if (!latest.ok()) return;
      absl::StatusOr<PruneStats> pruned = wal_->PruneBeforeCheckpoint(latest->user_id);
      stats.prunes += pruned.ok() && pruned->segments_deleted > 0;
    } else {
      absl::StatusOr<CompactionStats> result = wal_->CompactCheckpoints(rng_.Range(1, 3));
      stats.compactions += result.ok();
      std::set<std::string> listed;
      for (const CheckpointInfo& c : wal_->ListCheckpoints()) listed.insert(c.user_id);
      for (auto it = model_.checkpoints.begin(); it != model_.checkpoints.end();) {
        it = listed.count(it->first) && result.ok() ? std::next(it) : model_.checkpoints.erase(it);
      }
    }
  }

  void MixedBatch(int op) {
    std::vector<std::string> keys, values;
    for (int i = 0; i < 5; ++i) {
      keys.push_back(absl::StrCat("k", rng_.Uniform(12)));
      values.push_back(Value(op, i));
    }
    std::vector<KeyValue> batch;
    for (int i = 0; i < 5; ++i) batch.push_back({keys[i], values[i]});
    absl::StatusOr<std::vector<ShardedId>> ids = wal_->AppendBatch(batch);
    if (!ids.ok()) {
      for (const std::string& k : keys) Failed(wal_->RouteKey(k));
      return;
    }
    for (int i = 0; i < 5; ++i) {
      const ShardedId& at = (*ids)[i];
      model_.entries[at.shard][at.id] = values[i];
      if (options_.sync_mode != SyncMode::kAsync) Promise(at.shard, at.id + 1);
    }
  }

  void Promise(uint32_t shard, uint64_t next) {
    model_.durable[shard] = std::max(model_.durable[shard], next);
  }
  void Failed(uint32_t shard) { model_.uncertain[shard] = true; }

  std::string Check() {
    std::string error = CheckCheckpoints();
    if (!error.empty()) return error;
    absl::StatusOr<NamedCheckpoint> latest = wal_->LoadLatestCheckpoint();
    for (uint32_t s = 0; s < kShards; ++s) {
      const uint64_t from = latest.ok() ? latest->data.offsets[s] : 0;
      error = CheckShard(s, latest.ok() ? from : FirstId(s));
      if (!error.empty()) return absl::StrCat("shard ", s, ": ", error);
    }
    return "";
  }

  uint64_t FirstId(uint32_t s) {
    absl::StatusOr<StreamInfo> info = wal_->wal()->GetStreamInfo(wal_->ShardStream(s));
    return info.ok() ? info->first_id : 0;
  }

  std::string CheckCheckpoints() {
    for (const CheckpointInfo& c : wal_->ListCheckpoints()) {
      absl::StatusOr<CheckpointData> data = wal_->LoadCheckpoint(c.user_id);
      if (!data.ok()) return absl::StrCat("listed ", c.user_id, " does not load");
      for (uint32_t s = 0; s < kShards; ++s) {
        absl::StatusOr<StreamInfo> info = wal_->wal()->GetStreamInfo(wal_->ShardStream(s));
        const uint64_t next = info.ok() ? info->next_id : 0;
        if (data->offsets[s] > next) {
          return absl::StrCat(c.user_id, " claims shard ", s, " up to ", data->offsets[s],
                              ", only ", next, " survived");
        }
      }
    }
    for (const auto& [id, data] : model_.checkpoints) {
      absl::StatusOr<CheckpointData> loaded = wal_->LoadCheckpoint(id);
      if (!loaded.ok() || !(*loaded == data)) return absl::StrCat("acknowledged ", id, " lost");
    }
    return "";
  }

  std::string CheckShard(uint32_t s, uint64_t from) {
    absl::StatusOr<std::map<uint64_t, std::string>> got = testing::ReadShard(wal_.get(), s, from);
    if (!got.ok()) return absl::StrCat("replay from ", from, ": ", got.status().ToString());
    std::map<uint64_t, std::string>& want = model_.entries[s];
    uint64_t next = from;
    for (const auto& [id, value] : *got) {
      auto it = want.find(id);
      if (it == want.end() && !model_.uncertain[s]) return absl::StrCat("unknown entry ", id);
      if (it != want.end() && it->second != value) return absl::StrCat("entry ", id, " differs");
      want[id] = value;  // an entry of a failed call that survived: it is there now
      next = id + 1;
    }
    for (auto it = want.lower_bound(from); it != want.end() && it->first < model_.durable[s];
         ++it) {
      if (!got->count(it->first)) return absl::StrCat("durable entry ", it->first, " lost");
    }
    want.erase(want.lower_bound(std::max(next, FirstId(s))), want.end());  // gone for good
    model_.uncertain[s] = false;
    return "";
  }

  const uint64_t seed_;
  Random rng_;
  std::unique_ptr<SimEnv> env_;
  WalOptions options_;
  std::unique_ptr<ShardedWal> wal_;
  Model model_;
  uint64_t counter_ = 0;
};

TEST(ShardedSimTest, CheckpointsAndReplayHoldUnderCrashesAndFaults) {
  const bool one = std::getenv("IRONWAL_SEED") != nullptr;
  const uint64_t start = EnvNumber("IRONWAL_SEED", 0);
  const uint64_t count = one ? 1 : EnvNumber("IRONWAL_SEEDS", 150);
  for (uint64_t seed = start; seed < start + count; ++seed) {
    const std::string error = SimRun(seed).Go();
    ASSERT_EQ(error, "") << "seed=" << seed << " (replay: IRONWAL_SEED=" << seed << ")";
  }
  std::cout << "ran seeds " << start << ".." << start + count - 1 << ": " << stats.recoveries
            << " recoveries, " << stats.torn_log_tails << " torn log tails cut, "
            << stats.checkpoints << " checkpoints, " << stats.prunes << " prunes deleting, "
            << stats.compactions << " compactions\n";
}

}  // namespace
}  // namespace sharded
}  // namespace ironwal
