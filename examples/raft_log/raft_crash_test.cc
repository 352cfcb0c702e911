// A seeded SimEnv crash test of RaftLogStore: a simulated Raft node (leader appends,
// AppendEntries from new leaders that rewrite a suffix, stale AppendEntries, commit index
// advances, new terms and votes, compactions, snapshot installs, suffix truncations) runs
// on a store whose SimEnv loses the power at random points; the node's host then crashes
// (a seeded CrashMode), reopens and checks, against an oracle of what each call made
// durable:
//   (1) no entry at an index <= the durable commit index is lost or changed;
//   (2) log matching: every entry the store reports is the one the oracle says was last
//       durably written at that index (or, for the call the crash interrupted, the one it
//       was writing);
//   (3) FirstIndex() <= LastIndex() + 1; the hard state's term and vote never go back;
//   (4) after a snapshot install the log starts at its index + 1 and Term(its index) is its
//       term;
// and that the whole state is exactly one the oracle allows: the state after the last
// call that returned, or one the interrupted call passes through or ends in. Some crashes
// hit the reopen itself (a power cut at a seeded operation of the recovery), and the next
// reopen must still pass. A second test cuts the power at every mutating operation of each
// kind of call, a third at every sync of a few workloads.
//
//   IRONWAL_SEED=n            run seed n alone (both tests)
//   IRONWAL_SEEDS=n           seeds of the random sweep (default 120)
//   IRONWAL_SYNC_SWEEP_SEEDS  workloads of the every-sync sweep (default 2); not passed
//                             through by .bazelrc: --test_env=IRONWAL_SYNC_SWEEP_SEEDS=n
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

#include "ironwal/env/sim_env.h"
#include "ironwal/ironwal.h"
#include "ironwal/testing/test_knobs.h"

#include "examples/raft_log/raft_log_store.h"

namespace raft_log {
namespace {

// The test knobs, read in this one place.
struct Knobs {
  std::optional<uint64_t> seed;  // IRONWAL_SEED
  uint64_t seeds = 120;
  uint64_t sync_sweep_seeds = 2;

  static Knobs Read() {
    Knobs k;
    if (std::getenv("IRONWAL_SEED") != nullptr)
      k.seed = ironwal::testing::EnvNumber("IRONWAL_SEED", 0);
    k.seeds = ironwal::testing::EnvNumber("IRONWAL_SEEDS", k.seeds);
    k.sync_sweep_seeds =
        ironwal::testing::EnvNumber("IRONWAL_SYNC_SWEEP_SEEDS", k.sync_sweep_seeds);
    return k;
  }
};

// splitmix64: the test's own seeded generator.
class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed) {}
  uint64_t Next() {
    uint64_t z = (x_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t x_;
};

// --- The oracle -----------------------------------------------------------------------

struct Model {
  std::map<uint64_t, RaftEntry> log;  // the indexes (base.index, last]
  RaftSnapshotMeta base;
  RaftSnapshotMeta snapshot;
  RaftHardState hs;

  uint64_t last() const { return log.empty() ? base.index : log.rbegin()->first; }
  uint64_t TermAt(uint64_t i) const { return i == base.index ? base.term : log.at(i).term; }
  bool operator==(const Model& o) const {
    return log == o.log && base == o.base && snapshot == o.snapshot && hs == o.hs;
  }
};

std::string Describe(const Model& m) {
  std::string terms;
  for (const auto& [i, e] : m.log) absl::StrAppend(&terms, terms.empty() ? "" : ",", e.term);
  return absl::StrCat("base=", m.base.index, "/", m.base.term, " snap=", m.snapshot.index, "/",
                      m.snapshot.term, " hs=", m.hs.term, "/", m.hs.vote, "/", m.hs.commit, " log(",
                      m.base.index + 1, "..", m.last(), ")=[", terms, "]");
}

// Raft's AppendEntries receiver, rules 3 and 4, as the states the log passes through: the
// log after a conflicting suffix is deleted (if one is), then the log with the new entries.
std::vector<Model> ModelAppend(Model m, const std::vector<RaftEntry>& entries) {
  std::vector<Model> states;
  for (const RaftEntry& e : entries) {
    if (e.index <= m.base.index) continue;
    auto it = m.log.find(e.index);
    if (it != m.log.end() && it->second.term == e.term) continue;
    if (it != m.log.end()) {
      m.log.erase(it, m.log.end());
      states.push_back(m);
    }
    m.log[e.index] = e;
  }
  states.push_back(m);
  return states;
}

// --- The workload ----------------------------------------------------------------------

enum class Kind {
  kLeaderAppend,     // the node leads: new entries in its term
  kNewLeader,        // a new term; its leader overwrites part of the uncommitted suffix
  kStaleAppend,      // a delayed AppendEntries of entries the log already has
  kCommit,           // the commit index advances
  kVote,             // a new term and a vote in it
  kCompact,          // the state machine snapshotted: compact the log up to a committed index
  kSnapshot,         // a snapshot from the leader is installed
  kTruncate,         // a direct suffix truncation above the commit index
  kCutSoon,          // the power will go at one of the next mutating operations
  kCrash,            // the host crashes between two calls
  kCrashInRecovery,  // the host crashes, and the power goes again during the reopen
};

struct Op {
  Kind kind = Kind::kLeaderAppend;
  uint64_t a = 0;
  uint64_t b = 0;
};

const char* KindName(Kind k) {
  static const char* const kNames[] = {
      "leader-append", "new-leader", "stale-append",     "commit",
      "vote",          "compact",    "snapshot",         "truncate",
      "cut-soon",      "crash",      "crash-in-recovery"};
  return kNames[static_cast<int>(k)];
}

std::string DescribeOp(const Op& op) {
  return absl::StrCat(KindName(op.kind), " a=", op.a, " b=", op.b);
}

std::vector<Op> Generate(uint64_t seed, size_t count, bool crashes) {
  Rng rng(seed * 7919 + 17);
  // Weights, in Kind order.
  const uint64_t weights[] = {
      30, 8, 5, 14, 4, 5, 3, 4, crashes ? 6u : 0u, crashes ? 3u : 0u, crashes ? 2u : 0u};
  uint64_t total = 0;
  for (uint64_t w : weights) total += w;
  std::vector<Op> ops;
  for (size_t n = 0; n < count; ++n) {
    uint64_t pick = rng.Uniform(total);
    int kind = 0;
    while (pick >= weights[kind]) pick -= weights[kind++];
    // kCutSoon: a is how many mutating operations pass before the cut.
    const uint64_t range = static_cast<Kind>(kind) == Kind::kCutSoon ? 40 : 1000;
    ops.push_back({static_cast<Kind>(kind), rng.Next() % range, rng.Next() % 1000});
  }
  ops.push_back({Kind::kCrash, rng.Next() % 1000, rng.Next() % 1000});  // always checked last
  return ops;
}

std::string Payload(uint64_t seed, uint64_t index, uint64_t term, uint64_t salt) {
  return absl::StrCat("s", seed, "i", index, "t", term, "-", std::string(salt % 160, 'p'));
}

// --- The run ---------------------------------------------------------------------------

// When the hook cuts the power: at a mutating operation's index, or at the n-th sync.
struct CutPlan {
  uint64_t at_mutating = UINT64_MAX;
  uint64_t at_sync = 0;  // 0: never
  uint64_t syncs_seen = 0;
  bool fired = false;
};

class RaftRun {
 public:
  RaftRun(uint64_t seed, uint64_t cut_at_sync) : seed_(seed), env_(SimOptions(seed)) {
    plan_.at_sync = cut_at_sync;
    CutPlan* plan = &plan_;
    env_.SetHook([plan](const ironwal::SimOpInfo& info) -> std::optional<ironwal::SimFault> {
      if (plan->fired || info.mutating_index == ironwal::SimOpInfo::kNotMutating) {
        return std::nullopt;  // reads go on after a cut
      }
      const bool sync = info.op == ironwal::SimOp::kSync || info.op == ironwal::SimOp::kSyncDir;
      if (sync && ++plan->syncs_seen == plan->at_sync) plan->fired = true;
      if (info.mutating_index >= plan->at_mutating) plan->fired = true;
      if (!plan->fired) return std::nullopt;
      plan->at_mutating = UINT64_MAX;
      return ironwal::SimFault::kPowerCut;
    });
    options_.env = &env_;
    options_.root = "/raft";
    options_.sync_mode = static_cast<ironwal::SyncMode>(seed % 3);
    options_.max_segment_size = 400 + 300 * (seed % 4);
  }

  // The violations found; the seed and the steps so far in every message.
  std::vector<std::string> Execute(const std::vector<Op>& ops) {
    candidates_ = {acked_};
    if (!OpenAll("first open", /*cut_allowed=*/true)) {
      if (!violations_.empty()) return violations_;
      ++cuts_;  // the cut hit the creation of the log
      CrashAndRecover(Op{Kind::kCrash, CrashChoice(), 0});
    }
    for (size_t i = 0; i < ops.size() && violations_.empty(); ++i) {
      step_ = absl::StrCat("op ", i, " (", DescribeOp(ops[i]), ")");
      Apply(ops[i]);
    }
    return violations_;
  }

  uint64_t syncs_seen() const { return plan_.syncs_seen; }
  int crashes() const { return crashes_; }
  int cuts() const { return cuts_; }  // calls a power cut failed

 private:
  static ironwal::SimEnvOptions SimOptions(uint64_t seed) {
    ironwal::SimEnvOptions sim;
    sim.seed = seed;
    sim.block_size = seed % 2 == 0 ? 512 : 4096;
    sim.record_trace = false;
    return sim;
  }

  void Violation(const std::string& what) {
    violations_.push_back(absl::StrCat("seed ", seed_, ", ", step_, ": ", what));
  }

  // False when an open failed: a violation, unless cut_allowed and the power was cut.
  bool OpenAll(const std::string& what, bool cut_allowed = false) {
    auto wal = ironwal::Wal::Open(options_);
    if (!wal.ok() && cut_allowed && plan_.fired) return false;
    if (!wal.ok()) {
      Violation(absl::StrCat(what, ": Wal::Open: ", wal.status().ToString()));
      return false;
    }
    wal_ = *std::move(wal);
    auto store = RaftLogStore::Open(wal_.get(), "raft-group");
    if (!store.ok() && cut_allowed && plan_.fired) return false;
    if (!store.ok()) {
      Violation(absl::StrCat(what, ": RaftLogStore::Open: ", store.status().ToString()));
      return false;
    }
    store_ = *std::move(store);
    return true;
  }

  // One call of the store with the states it may leave: OK means the last of them is
  // durable; an error under a power cut means the crash may leave any of them, or none.
  void Call(const absl::Status& status, const std::vector<Model>& states) {
    if (status.ok()) {
      acked_ = states.back();
      candidates_ = {acked_};
      return;
    }
    if (!plan_.fired) {
      Violation("unexpected error: " + status.ToString());
      return;
    }
    ++cuts_;
    candidates_ = {acked_};
    candidates_.insert(candidates_.end(), states.begin(), states.end());
    CrashAndRecover(Op{Kind::kCrash, CrashChoice(), 0});
  }

  bool Powered() const { return !plan_.fired; }

  // The crash mode of a crash after a cut: varies with the crash and the sync cut at.
  uint64_t CrashChoice() const {
    return seed_ + 5 * static_cast<uint64_t>(crashes_) + plan_.at_sync;
  }

  void Apply(const Op& op) {
    const Model& m = acked_;
    const uint64_t last = m.last();
    const uint64_t floor = std::max(m.hs.commit, m.base.index);  // nothing at or below is cut
    Kind kind = op.kind;
    if (m.hs.term == 0 && kind != Kind::kCutSoon && kind != Kind::kCrash &&
        kind != Kind::kCrashInRecovery) {
      kind = Kind::kVote;  // a node starts by entering term 1
    }
    switch (kind) {
      case Kind::kLeaderAppend: {
        std::vector<RaftEntry> entries;
        for (uint64_t k = 0; k < 1 + op.a % 4; ++k) {
          const uint64_t index = last + 1 + k;
          entries.push_back({index, m.hs.term, Payload(seed_, index, m.hs.term, op.b + k)});
        }
        return AppendCall(entries);
      }
      case Kind::kNewLeader:
        return NewLeader(op);
      case Kind::kStaleAppend: {
        if (last == 0) return;
        // From up to 2 below the base (entries the snapshot covers: skipped) to some index.
        const uint64_t from =
            std::max<uint64_t>(1, m.base.index + 1 - std::min<uint64_t>(m.base.index, op.a % 3));
        if (from > last) return;
        const uint64_t to = from + op.b % (last - from + 1);
        std::vector<RaftEntry> entries;
        for (uint64_t i = from; i <= to; ++i) {
          entries.push_back(i <= m.base.index ? RaftEntry{i, 0, "covered"} : m.log.at(i));
        }
        return AppendCall(entries);
      }
      case Kind::kCommit: {
        RaftHardState hs = m.hs;
        hs.commit += op.a % (last - hs.commit + 1);
        return HardStateCall(hs);
      }
      case Kind::kVote: {
        RaftHardState hs = m.hs;
        hs.term += 1;
        hs.vote = op.a % 4;  // 0: no vote yet
        return HardStateCall(hs);
      }
      case Kind::kCompact: {
        if (m.hs.commit <= m.base.index) return;
        const uint64_t index = m.base.index + 1 + op.a % (m.hs.commit - m.base.index);
        Model after = m;
        after.base = {index, m.TermAt(index)};
        after.log.erase(after.log.begin(), after.log.upper_bound(index));
        return Call(store_->Compact(index), {after});
      }
      case Kind::kSnapshot:
        return Snapshot(op);
      case Kind::kTruncate: {
        if (last <= floor) return;
        const uint64_t index = floor + 1 + op.a % (last - floor);
        Model after = m;
        after.log.erase(after.log.lower_bound(index), after.log.end());
        return Call(store_->TruncateSuffix(index), {after});
      }
      case Kind::kCutSoon:
        if (plan_.at_mutating == UINT64_MAX) {
          plan_.at_mutating = env_.mutating_ops() + op.a;
        }
        return;
      case Kind::kCrash:
      case Kind::kCrashInRecovery:
        return CrashAndRecover(op);
    }
  }

  void AppendCall(const std::vector<RaftEntry>& entries) {
    Call(store_->Append(entries), ModelAppend(acked_, entries));
  }

  void HardStateCall(const RaftHardState& hs) {
    Model after = acked_;
    after.hs = hs;
    Call(store_->SetHardState(hs), {after});
  }

  // A leader's snapshot at or past the commit index, possibly past the log's end. Its
  // term: the committed entry's at the commit index (Raft never changes one), else the
  // current term.
  void Snapshot(const Op& op) {
    const Model& m = acked_;
    const uint64_t index = m.hs.commit + op.a % (m.last() - m.hs.commit + 5);
    const uint64_t term = index == m.hs.commit ? m.TermAt(index) : m.hs.term;
    std::vector<Model> states;
    if (index == m.base.index && m.last() > index) {  // the store cuts the suffix first
      states.push_back(m);
      states.back().log.clear();
    }
    Model after = m;
    after.log.clear();
    after.base = after.snapshot = {index, term};
    after.hs.commit = index;
    states.push_back(after);
    Call(store_->ApplySnapshot(index, term), states);
  }

  // A new leader in term + 1 (the node voted for it) sends AppendEntries starting a few
  // entries below the point where its log departs from ours: those match, the rest is new.
  void NewLeader(const Op& op) {
    RaftHardState hs = acked_.hs;
    hs.term += 1;
    hs.vote = 1 + op.a % 3;
    HardStateCall(hs);
    if (violations_.size() > 0 || acked_.hs.term != hs.term) return;  // crashed meanwhile
    const Model& m = acked_;
    const uint64_t floor = std::max(m.hs.commit, m.base.index);
    const uint64_t depart = floor + 1 + op.b % (m.last() - floor + 1);  // in (floor, last + 1]
    const uint64_t from = std::max(m.base.index + 1, depart - std::min<uint64_t>(depart, op.a % 3));
    std::vector<RaftEntry> entries;
    for (uint64_t i = from; i < depart; ++i) entries.push_back(m.log.at(i));
    for (uint64_t k = 0; k < 1 + op.b % 3; ++k) {
      entries.push_back({depart + k, hs.term, Payload(seed_, depart + k, hs.term, op.a + k)});
    }
    AppendCall(entries);
  }

  // The host dies (the power goes, if it has not), crashes in a seeded mode, reopens, and
  // checks; kCrashInRecovery first crashes a reopen at one of its mutating operations.
  void CrashAndRecover(const Op& op) {
    ++crashes_;
    Crash(op.a);
    if (op.kind == Kind::kCrashInRecovery) {
      plan_.at_mutating = env_.mutating_ops() + op.b % 12;
      auto wal = ironwal::Wal::Open(options_);
      if (wal.ok()) wal_ = *std::move(wal);
      if (wal_ != nullptr && Powered()) {
        auto store = RaftLogStore::Open(wal_.get(), "raft-group");
        if (store.ok()) store_ = *std::move(store);
        // The reopen finished before the cut: the state it found is the one from now on.
        if (store_ != nullptr && Powered()) Check("reopen before the crash in recovery");
      }
      Crash(op.a / 4);
    }
    // A cut planned for a sync can hit this reopen too: a crash in recovery again.
    while (!OpenAll("reopen", /*cut_allowed=*/true)) {
      if (!violations_.empty()) return;
      ++cuts_;
      Crash(op.a / 16);
    }
    Check("reopen");
  }

  void Crash(uint64_t choice) {
    env_.SetPowerCutAt(env_.mutating_ops());  // the process writes nothing more
    store_.reset();
    wal_.reset();
    ironwal::CrashOptions crash;
    crash.mode = static_cast<ironwal::CrashMode>(choice % 4);
    crash.keep_unsynced_dir_ops = (choice / 4) % 2 == 1;
    env_.Crash(crash);
    plan_.at_mutating = UINT64_MAX;
    plan_.fired = false;
  }

  // Reads the whole state back and checks it; the node then goes on from it.
  void Check(const std::string& when) {
    Model got;
    got.hs = store_->HardState();
    got.snapshot = store_->Snapshot();
    const uint64_t first = store_->FirstIndex();
    const uint64_t last = store_->LastIndex();
    if (first == 0 || first > last + 1) {
      return Violation(
          absl::StrCat(when, ": (3) FirstIndex ", first, " > LastIndex ", last, " + 1"));
    }
    got.base.index = first - 1;
    absl::StatusOr<uint64_t> base_term = store_->Term(first - 1);
    if (!base_term.ok())
      return Violation(when + ": Term(first - 1): " + base_term.status().ToString());
    got.base.term = *base_term;
    auto entries = store_->Entries(first, last + 1, SIZE_MAX);
    if (!entries.ok()) return Violation(when + ": Entries: " + entries.status().ToString());
    for (RaftEntry& e : *entries) got.log[e.index] = e;
    if (got.log.size() != last + 1 - first) return Violation(when + ": Entries is short");
    CheckInvariants(when, got);
    bool allowed = false;
    for (const Model& c : candidates_) allowed |= got == c;
    if (!allowed) {
      std::vector<std::string> lines;
      for (const Model& c : candidates_) lines.push_back(Describe(c));
      Violation(absl::StrCat(when, ": state ", Describe(got),
                             " is none of the allowed: ", absl::StrJoin(lines, " | ")));
    }
    acked_ = got;
    candidates_ = {got};
  }

  void CheckInvariants(const std::string& when, const Model& got) {
    const Model& a = acked_;
    // (1) The durable commit index's entries (those the log still holds).
    if (got.hs.commit < a.hs.commit) {
      Violation(absl::StrCat(when, ": (1) commit index went back from ", a.hs.commit, " to ",
                             got.hs.commit));
    }
    for (uint64_t i = got.base.index + 1; i <= a.hs.commit; ++i) {
      auto it = got.log.find(i);
      if (a.log.count(i) == 0) continue;  // below the acknowledged base
      if (it == got.log.end() || !(it->second == a.log.at(i))) {
        return Violation(absl::StrCat(when, ": (1) committed entry ", i, " lost or changed"));
      }
    }
    // (2) Every entry is one the oracle allows at its index.
    for (const auto& [i, e] : got.log) {
      bool known = false;
      for (const Model& c : candidates_) known |= c.log.count(i) > 0 && c.log.at(i) == e;
      if (!known)
        return Violation(absl::StrCat(when, ": (2) entry ", i, " term ", e.term,
                                      " was never durably written there"));
    }
    // (3) Term and vote.
    if (got.hs.term < a.hs.term ||
        (got.hs.term == a.hs.term && a.hs.vote != 0 && got.hs.vote != a.hs.vote)) {
      Violation(absl::StrCat(when, ": (3) hard state went back from term ", a.hs.term, " vote ",
                             a.hs.vote, " to term ", got.hs.term, " vote ", got.hs.vote));
    }
    // (4) The snapshot: the log starts right after it unless compacted past it since.
    if (got.snapshot.index < a.snapshot.index) {
      Violation(absl::StrCat(when, ": (4) snapshot went back to ", got.snapshot.index));
    }
    if (got.snapshot.index > 0 && got.base.index == got.snapshot.index &&
        got.base.term != got.snapshot.term) {
      Violation(absl::StrCat(when, ": (4) Term(", got.snapshot.index, ") is ", got.base.term,
                             ", the snapshot's term is ", got.snapshot.term));
    }
    if (got.snapshot.index > got.base.index) {
      Violation(absl::StrCat(when, ": (4) the log starts at ", got.base.index + 1,
                             ", before the snapshot's end ", got.snapshot.index));
    }
  }

  const uint64_t seed_;
  ironwal::SimEnv env_;
  CutPlan plan_;
  ironwal::WalOptions options_;
  std::unique_ptr<ironwal::Wal> wal_;
  std::unique_ptr<RaftLogStore> store_;
  Model acked_;                    // the state after the last call that returned OK
  std::vector<Model> candidates_;  // the states a crash now may leave
  std::vector<std::string> violations_;
  std::string step_ = "start";
  int crashes_ = 0;
  int cuts_ = 0;
};

std::string Report(const std::vector<std::string>& violations, uint64_t seed) {
  return absl::StrCat(absl::StrJoin(violations, "\n"), "\nreplay: IRONWAL_SEED=", seed,
                      " tools/bazel test //examples/raft_log:raft_crash_test --test_output=all");
}

TEST(RaftCrashTest, RandomCrashesKeepTheRaftInvariants) {
  const Knobs knobs = Knobs::Read();
  const uint64_t first = knobs.seed.value_or(0);
  const uint64_t count = knobs.seed.has_value() ? 1 : knobs.seeds;
  int cuts = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    RaftRun run(seed, /*cut_at_sync=*/0);
    const std::vector<std::string> violations = run.Execute(Generate(seed, 120, true));
    ASSERT_TRUE(violations.empty()) << Report(violations, seed);
    cuts += run.cuts();
  }
  // The sweep cannot pass by never interrupting a call.
  EXPECT_GE(cuts, static_cast<int>(count)) << "power cuts that failed a call";
}

// Directed: each kind of call, in a state where it does its most, cut at every one of its
// mutating operations in turn, each followed by a crash in each mode (keeping unsynced
// directory changes or not, by turns).
TEST(RaftCrashTest, APowerCutAtEveryStepOfEachCall) {
  const Op vote{Kind::kVote, 1, 0};
  const Op append4{Kind::kLeaderAppend, 3, 0};  // entries 1..4, term 1
  const std::vector<std::pair<std::string, std::vector<Op>>> scenarios = {
      // commit 2, compacted to 2, then a snapshot at 2: the suffix is cut first.
      {"snapshot at the base",
       {vote, append4, {Kind::kCommit, 2, 0}, {Kind::kCompact, 1, 0}, {Kind::kSnapshot, 0, 0}}},
      {"snapshot past the log", {vote, append4, {Kind::kCommit, 2, 0}, {Kind::kSnapshot, 5, 0}}},
      {"compact", {vote, append4, {Kind::kCommit, 3, 0}, {Kind::kCompact, 1, 0}}},
      {"conflicting suffix", {vote, append4, {Kind::kCommit, 1, 0}, {Kind::kNewLeader, 0, 1}}},
      {"truncate suffix", {vote, append4, {Kind::kCommit, 1, 0}, {Kind::kTruncate, 0, 0}}},
      {"hard state", {vote, append4, {Kind::kCommit, 2, 0}}},
  };
  for (const auto& [name, ops] : scenarios) {
    int cut_runs = 0;
    for (uint64_t k = 0;; ++k) {
      int cuts = 0;
      for (uint64_t mode = 0; mode < 4; ++mode) {
        const uint64_t crash = mode + 4 * (k % 2);  // unsynced dir ops kept for odd k
        std::vector<Op> run_ops = ops;
        run_ops.insert(run_ops.end() - 1, Op{Kind::kCutSoon, k, 0});
        run_ops.push_back(Op{Kind::kCrash, crash, 0});
        RaftRun run(/*seed=*/mode, /*cut_at_sync=*/0);
        const std::vector<std::string> violations = run.Execute(run_ops);
        ASSERT_TRUE(violations.empty()) << name << ", cut at mutating operation " << k
                                        << " of the call, crash mode " << mode << ":\n"
                                        << absl::StrJoin(violations, "\n");
        cuts += run.cuts();
      }
      if (cuts == 0) break;  // the call finished before operation k
      ++cut_runs;
    }
    EXPECT_GE(cut_runs, 3) << name;
  }
}

TEST(RaftCrashTest, APowerCutAtEverySyncKeepsTheRaftInvariants) {
  const Knobs knobs = Knobs::Read();
  const uint64_t first = knobs.seed.has_value() ? *knobs.seed : 1000;
  const uint64_t count = knobs.seed.has_value() ? 1 : knobs.sync_sweep_seeds;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    const std::vector<Op> ops = Generate(seed, 40, false);
    RaftRun dry(seed, 0);
    ASSERT_TRUE(dry.Execute(ops).empty()) << "seed " << seed;
    const uint64_t syncs = dry.syncs_seen();
    ASSERT_GT(syncs, 20) << "seed " << seed;
    for (uint64_t n = 1; n <= syncs; ++n) {
      RaftRun run(seed, n);
      const std::vector<std::string> violations = run.Execute(ops);
      ASSERT_TRUE(violations.empty())
          << "power cut at sync " << n << " of " << syncs << ": " << Report(violations, seed);
      ASSERT_EQ(run.cuts(), 1) << "seed " << seed << " sync " << n << ": no call was cut";
    }
  }
}

}  // namespace
}  // namespace raft_log
