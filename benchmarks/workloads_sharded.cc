#include "benchmarks/workloads_sharded.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "ironwal/sharded/sharded_wal.h"

#include "benchmarks/workloads_internal.h"

namespace ironwal {
namespace bench {
namespace {

using internal::Annotate;

constexpr int kThreads = 4;
constexpr int kKeysPerThread = 64;

// A ShardedWal in a scratch directory; every shard created by one untimed append.
struct ShardedSetup {
  explicit ShardedSetup(ScratchDir d) : dir(std::move(d)) {}
  ScratchDir dir;  // destroyed after the wal
  std::unique_ptr<sharded::ShardedWal> wal;
  std::string payload = MakePayload();
  std::vector<std::vector<std::string>> keys;  // per thread
  std::vector<uint64_t> next;                  // per thread: the next key to use
};

absl::StatusOr<std::shared_ptr<ShardedSetup>> SetUpSharded(const BenchConfig& config,
                                                           const std::string& name, int shards) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, name);
  if (!dir.ok()) return Annotate(name, dir.status());
  auto setup = std::make_shared<ShardedSetup>(std::move(*dir));
  WalOptions options;
  options.root = setup->dir.Join("wal");
  options.sync_mode = SyncMode::kStrict;
  absl::StatusOr<std::unique_ptr<sharded::ShardedWal>> wal =
      sharded::ShardedWal::Open(options, shards);
  if (!wal.ok()) return Annotate(name, wal.status());
  setup->wal = std::move(*wal);
  for (int t = 0; t < kThreads; ++t) {
    setup->keys.emplace_back();
    for (int k = 0; k < kKeysPerThread; ++k) setup->keys[t].push_back(absl::StrCat(t, "/", k));
  }
  setup->next.assign(kThreads, 0);
  std::vector<bool> created(shards, false);
  for (const auto& keys : setup->keys) {
    for (const std::string& key : keys) {
      if (created[setup->wal->RouteKey(key)]) continue;
      created[setup->wal->RouteKey(key)] = true;
      absl::Status s = setup->wal->Append(key, setup->payload).status();
      if (!s.ok()) return Annotate(name, s);
    }
  }
  return setup;
}

OpRun NewRun(const std::string& name, uint64_t total_ops, int threads,
             std::shared_ptr<ShardedSetup> setup) {
  OpRun run;
  run.result.name = name;
  run.result.threads = threads;
  run.total_ops = total_ops;
  run.threads = threads;
  run.resources = std::move(setup);
  return run;
}

}  // namespace

absl::StatusOr<OpRun> ShardedWritersRun(const BenchConfig& config, int shards) {
  const std::string name = absl::StrCat("SH", shards);
  absl::StatusOr<std::shared_ptr<ShardedSetup>> setup = SetUpSharded(config, name, shards);
  if (!setup.ok()) return setup.status();
  ShardedSetup* s = setup->get();
  OpRun run = NewRun(name, config.Scaled(500) * kThreads, kThreads, *setup);
  run.op = [s](int t) {
    const std::string& key = s->keys[t][s->next[t]++ % kKeysPerThread];
    return s->wal->Append(key, s->payload).status();
  };
  return run;
}

absl::StatusOr<OpRun> CheckpointRun(const BenchConfig& config) {
  absl::StatusOr<std::shared_ptr<ShardedSetup>> setup = SetUpSharded(config, "CK", 4);
  if (!setup.ok()) return setup.status();
  ShardedSetup* s = setup->get();
  OpRun run = NewRun("CK", config.Scaled(200), 1, *setup);
  run.op = [s](int) { return s->wal->CreateCheckpoint("bench").status(); };
  return run;
}

}  // namespace bench
}  // namespace ironwal
