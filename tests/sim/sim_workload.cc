#include "tests/sim/sim_workload.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/testing/random_wal_options.h"
#include "ironwal/testing/seed_sweep.h"
#include "ironwal/testing/wal_model.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace sim {

using ::ironwal::internal::Random;

namespace {

constexpr int kStreams = 3;
constexpr char kRoot[] = "/sim";

std::string StreamKey(int i) { return i == 2 ? "user/2" : absl::StrCat("s", i); }

const char* KindName(Op::Kind k) {
  switch (k) {
    case Op::Kind::kAppend:
      return "append";
    case Op::Kind::kBatch:
      return "batch";
    case Op::Kind::kTxn:
      return "txn";
    case Op::Kind::kTxnAbort:
      return "txn-abort";
    case Op::Kind::kGet:
      return "get";
    case Op::Kind::kMultiGet:
      return "multiget";
    case Op::Kind::kIterate:
      return "iterate";
    case Op::Kind::kTruncate:
      return "truncate";
    case Op::Kind::kSync:
      return "sync";
    case Op::Kind::kFlush:
      return "flush";
    case Op::Kind::kReopen:
      return "reopen";
    case Op::Kind::kCrash:
      return "crash";
    case Op::Kind::kPowerCut:
      return "power-cut";
    case Op::Kind::kFault:
      return "fault";
    case Op::Kind::kClearFaults:
      return "clear-faults";
    case Op::Kind::kSqueeze:
      return "squeeze";
    case Op::Kind::kRelease:
      return "release";
    case Op::Kind::kTruncateSuffix:
      return "truncate-suffix";
    case Op::Kind::kReset:
      return "reset";
    case Op::Kind::kCreate:
      return "create";
    case Op::Kind::kTrimFront:
      return "trim-front";
    case Op::Kind::kPutMetadata:
      return "put-metadata";
    case Op::Kind::kAppendIf:
      return "append-if";
    case Op::Kind::kReadRange:
      return "read-range";
    case Op::Kind::kDelete:
      return "delete";
  }
  return "?";
}

const char* FaultName(SimFault f) {
  switch (f) {
    case SimFault::kIoError:
      return "EIO";
    case SimFault::kShortWrite:
      return "short-write";
    case SimFault::kNoSpace:
      return "ENOSPC";
    case SimFault::kBitFlip:
      return "bit-flip";
    case SimFault::kPowerCut:
      return "power-cut";
  }
  return "?";
}

std::string Entry(Random* rng, size_t max) {
  const size_t n = rng->Uniform(max + 1);
  return rng->OneIn(2) ? rng->Bytes(n) : std::string(n, static_cast<char>('a' + rng->Uniform(26)));
}

FaultRule RandomFault(Random* rng) {
  static constexpr SimOp kWriteOps[] = {SimOp::kAppend,    SimOp::kWriteAt,    SimOp::kSync,
                                        SimOp::kRename,    SimOp::kSyncDir,    SimOp::kOpenWritable,
                                        SimOp::kCreateDir, SimOp::kRemoveFile, SimOp::kTruncate};
  FaultRule rule;
  switch (rng->Uniform(5)) {
    case 0:
      rule.op = SimOp::kAppend;
      rule.fault = SimFault::kShortWrite;
      break;
    case 1:
      rule.op = SimOp::kRead;
      rule.fault = rng->OneIn(2) ? SimFault::kBitFlip : SimFault::kIoError;
      break;
    case 2:
      rule.op = SimOp::kAppend;
      rule.fault = SimFault::kNoSpace;
      break;
    default:
      rule.op = kWriteOps[rng->Uniform(sizeof(kWriteOps) / sizeof(kWriteOps[0]))];
      rule.fault = SimFault::kIoError;
      break;
  }
  if (rng->OneIn(2)) {
    rule.nth = rng->Range(1, 6);
  } else {
    rule.one_in = rng->Range(2, 12);
  }
  rule.max_fires = rng->Range(1, 3);
  if (rng->OneIn(3)) rule.path_pattern = "*.wal";
  return rule;
}

}  // namespace

std::string Op::ToString() const {
  std::string s = KindName(kind);
  switch (kind) {
    case Kind::kAppend:
    case Kind::kBatch:
    case Kind::kTxn:
    case Kind::kTxnAbort: {
      std::vector<size_t> sizes;
      for (const auto& e : entries) sizes.push_back(e.size());
      absl::StrAppend(&s, " ", StreamKey(stream), " sizes=[", absl::StrJoin(sizes, ","), "]");
      break;
    }
    case Kind::kGet:
    case Kind::kMultiGet:
    case Kind::kIterate:
    case Kind::kTruncate:
    case Kind::kTruncateSuffix:
    case Kind::kReset:
    case Kind::kCreate:
    case Kind::kTrimFront:
    case Kind::kReadRange:
    case Kind::kDelete:
      absl::StrAppend(&s, " ", StreamKey(stream), " at ", frac);
      break;
    case Kind::kPutMetadata:
    case Kind::kAppendIf:
      absl::StrAppend(&s, " ", StreamKey(stream), " at ", frac, " entries=", entries.size());
      break;
    case Kind::kCrash:
      absl::StrAppend(&s, " mode=", static_cast<int>(crash.mode),
                      crash.keep_unsynced_dir_ops ? " keep-dir-ops" : "");
      break;
    case Kind::kPowerCut:
      absl::StrAppend(&s, " after ", cut_after, " mutating ops");
      break;
    case Kind::kFault:
      absl::StrAppend(&s, " ", SimOpName(rule.op), " ", FaultName(rule.fault), " ",
                      rule.path_pattern, " nth=", rule.nth, " one_in=", rule.one_in,
                      " max=", rule.max_fires);
      break;
    case Kind::kSqueeze:
      absl::StrAppend(&s, " +", squeeze, " bytes");
      break;
    default:
      break;
  }
  return s;
}

Workload Generate(uint64_t seed, size_t n_ops) {
  Random rng(seed);
  Workload w;
  w.seed = seed;
  w.sim.seed = seed;
  w.sim.block_size = rng.OneIn(2) ? 512 : 4096;
  WalOptions& o = w.options;
  testing::RandomWalOptionsRanges ranges;
  ranges.max_min_compression_size = 300;
  ranges.min_segment_size = 128;
  ranges.entries_limit_one_in = 3;
  ranges.max_entries_per_segment = 16;
  ranges.max_write_buffer_size = 1024;
  ranges.block_cache_one_in = 4;
  ranges.block_cache_size = 8192;
  testing::RandomizeWalOptions(&rng, ranges, &o);

  bool faults = false;
  for (size_t i = 0; i < n_ops; ++i) {
    Op op;
    op.stream = static_cast<int>(rng.Uniform(kStreams));
    op.frac = static_cast<double>(rng.Uniform(1001)) / 1000.0;
    if (rng.OneIn(8)) {
      // One of the log primitives.
      constexpr Op::Kind kLogOps[] = {Op::Kind::kTruncateSuffix, Op::Kind::kTruncateSuffix,
                                      Op::Kind::kReset,          Op::Kind::kCreate,
                                      Op::Kind::kTrimFront,      Op::Kind::kPutMetadata,
                                      Op::Kind::kAppendIf,       Op::Kind::kAppendIf,
                                      Op::Kind::kReadRange,      Op::Kind::kDelete};
      op.kind = kLogOps[rng.Uniform(sizeof(kLogOps) / sizeof(kLogOps[0]))];
      if (op.kind == Op::Kind::kPutMetadata) op.entries.push_back(Entry(&rng, 100));
      if (op.kind == Op::Kind::kAppendIf) {
        op.entries.resize(rng.Range(1, 4));
        for (auto& e : op.entries) e = Entry(&rng, 60);
      }
      w.ops.push_back(std::move(op));
      continue;
    }
    const uint64_t r = rng.Uniform(1000);
    if (r < 300) {
      op.kind = Op::Kind::kAppend;
      op.entries.push_back(Entry(&rng, 200));
    } else if (r < 450) {
      op.kind =
          rng.OneIn(3) ? Op::Kind::kTxn : (rng.OneIn(8) ? Op::Kind::kTxnAbort : Op::Kind::kBatch);
      op.entries.resize(rng.Range(1, 8));
      for (auto& e : op.entries) e = Entry(&rng, 100);
    } else if (r < 560) {
      op.kind = Op::Kind::kGet;
    } else if (r < 600) {
      op.kind = Op::Kind::kMultiGet;
    } else if (r < 650) {
      op.kind = Op::Kind::kIterate;
    } else if (r < 690) {
      op.kind = Op::Kind::kTruncate;
    } else if (r < 740) {
      op.kind = Op::Kind::kSync;
    } else if (r < 760) {
      op.kind = Op::Kind::kFlush;
    } else if (r < 800) {
      op.kind = Op::Kind::kReopen;
    } else if (r < 870) {
      op.kind = Op::Kind::kCrash;
      op.crash.mode = static_cast<CrashMode>(rng.Uniform(4));
      op.crash.keep_unsynced_dir_ops = rng.OneIn(2);
    } else if (r < 895) {
      op.kind = Op::Kind::kPowerCut;
      op.cut_after = rng.Uniform(20);
    } else if (r < 950) {
      op.kind = faults ? Op::Kind::kClearFaults : Op::Kind::kFault;
      if (!faults) op.rule = RandomFault(&rng);
      faults = !faults;
    } else if (r < 975) {
      op.kind = Op::Kind::kSqueeze;
      op.squeeze = rng.Uniform(600);
    } else {
      op.kind = Op::Kind::kRelease;
    }
    w.ops.push_back(std::move(op));
  }
  Op last;
  last.kind = Op::Kind::kCrash;
  last.crash.mode = static_cast<CrashMode>(rng.Uniform(4));
  w.ops.push_back(last);
  return w;
}

namespace {

// Runs one workload; the state of a run.
class Runner {
 public:
  explicit Runner(const Workload& w) : w_(w), env_(w.sim), model_(w.options.sync_mode) {
    options_ = w.options;
    options_.env = &env_;
    options_.root = kRoot;
  }

  Outcome Run() {
    Outcome out;
    if (!OpenOrFail(&out)) return Finish(std::move(out));
    for (size_t i = 0; i < w_.ops.size() && out.violations.empty(); ++i) {
      std::string result = Do(w_.ops[i], &out);
      out.log.push_back(absl::StrCat(i, ": ", w_.ops[i].ToString(), " -> ", result));
    }
    return Finish(std::move(out));
  }

 private:
  Outcome Finish(Outcome out) {
    const std::vector<TraceRecord> trace = env_.Trace();
    const size_t from = trace.size() > 40 ? trace.size() - 40 : 0;
    for (size_t i = from; i < trace.size(); ++i) out.trace.push_back(trace[i].ToString());
    return out;
  }

  void Violate(const std::vector<std::string>& v, Outcome* out) {
    out->violations.insert(out->violations.end(), v.begin(), v.end());
  }

  bool OpenOrFail(Outcome* out) {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options_);
    if (!wal.ok()) {
      out->violations.push_back("Wal::Open failed: " + wal.status().ToString());
      return false;
    }
    wal_ = *std::move(wal);
    return true;
  }

  // Faults and power cuts off, space back: recovery is checked on a healthy disk.
  void Heal() {
    env_.ClearFaultRules();
    env_.ClearPowerCut();
    env_.SetCapacity(UINT64_MAX);
    faults_active_ = false;
    power_cut_ = false;
    squeezed_ = false;
  }

  // Reads may fail (never return wrong data) while faults, a power cut or a full disk
  // are in effect.
  bool Degraded() const { return faults_active_ || power_cut_ || squeezed_; }

  std::string Recover(bool crashed, const CrashOptions& crash, Outcome* out) {
    std::string result = "ok";
    if (!crashed) {
      Heal();
      absl::Status closed = wal_->Close();
      if (!closed.ok()) result = "close: " + closed.ToString();
      wal_.reset();
    } else {
      // The process dies with the power: nothing the old Wal still holds may reach the
      // disk after the crash. (Destroyed after Crash(), it wrote a kAsync writer's buffer,
      // which needs no open handle, into the post-crash file: seed 12633.)
      env_.SetPowerCutAt(env_.mutating_ops());
      wal_.reset();
      env_.Crash(crash);
      Heal();
    }
    if (!OpenOrFail(out)) return "open failed";
    ++out->recoveries;
    Violate(model_.CheckRecovered(wal_.get(), crashed), out);
    return result;
  }

  uint64_t IdAt(const std::string& key, double frac, uint64_t extra) {
    const uint64_t first = model_.first_id(key);
    const uint64_t next = model_.next_id(key);
    return first + static_cast<uint64_t>(frac * static_cast<double>(next - first + extra));
  }

  std::string Do(const Op& op, Outcome* out) {
    const std::string key = StreamKey(op.stream);
    switch (op.kind) {
      case Op::Kind::kAppend: {
        absl::StatusOr<uint64_t> id = wal_->Append(key, op.entries[0]);
        absl::StatusOr<IdRange> range = id.ok() ? absl::StatusOr<IdRange>(IdRange{*id, *id + 1})
                                                : absl::StatusOr<IdRange>(id.status());
        Violate(model_.OnAppend(key, op.entries, false, range), out);
        return range.ok() ? absl::StrCat("id ", *id) : range.status().ToString();
      }
      case Op::Kind::kBatch:
      case Op::Kind::kTxn:
      case Op::Kind::kTxnAbort: {
        absl::StatusOr<IdRange> range;
        if (op.kind == Op::Kind::kBatch) {
          range = wal_->AppendBatch(key, op.entries);
        } else {
          TxnWriter txn = wal_->NewTransaction(key);
          for (const auto& e : op.entries) {
            if (!txn.Add(e).ok()) return "add failed";
          }
          if (op.kind == Op::Kind::kTxnAbort) {
            txn.Abort();
            return "aborted";
          }
          range = txn.Commit();
        }
        Violate(model_.OnAppend(key, op.entries, true, range), out);
        return range.ok() ? absl::StrCat("ids [", range->first, ",", range->end, ")")
                          : range.status().ToString();
      }
      case Op::Kind::kGet: {
        const uint64_t id = IdAt(key, op.frac, 1);
        absl::StatusOr<std::string> got = wal_->Get(key, id);
        Violate(model_.OnGet(key, id, got, Degraded()), out);
        return absl::StrCat("id ", id, ": ", got.ok() ? "ok" : got.status().ToString());
      }
      case Op::Kind::kMultiGet: {
        const uint64_t id = IdAt(key, op.frac, 0);
        const std::vector<uint64_t> ids = {id, id > 0 ? id - 1 : 0, id + 1};
        std::vector<absl::StatusOr<std::string>> got = wal_->MultiGet(key, ids);
        for (size_t i = 0; i < ids.size(); ++i) {
          Violate(model_.OnGet(key, ids[i], got[i], Degraded()), out);
        }
        return "done";
      }
      case Op::Kind::kIterate:
        return Iterate(key, IdAt(key, op.frac, 0), out);
      case Op::Kind::kTruncate: {
        const uint64_t keep =
            static_cast<uint64_t>(op.frac * static_cast<double>(model_.next_id(key) + 2));
        absl::StatusOr<TruncateResult> r = wal_->Truncate(key, keep);
        if (absl::IsNotFound(r.status()) && model_.next_id(key) == 0) return "no stream";
        Violate(model_.OnTruncate(key, keep, r), out);
        return r.ok() ? absl::StrCat("first ", r->first_id) : r.status().ToString();
      }
      case Op::Kind::kSync: {
        absl::Status s = wal_->Sync();
        model_.OnSync(s);
        return s.ToString();
      }
      case Op::Kind::kFlush:
        return wal_->Flush().ToString();
      case Op::Kind::kReopen:
        // After a power cut nothing can be closed cleanly: that reopen is a crash.
        return Recover(power_cut_, CrashOptions(), out);
      case Op::Kind::kCrash:
        return Recover(true, op.crash, out);
      case Op::Kind::kPowerCut:
        env_.SetPowerCutAt(env_.mutating_ops() + op.cut_after);
        model_.OnDisturbance();
        power_cut_ = true;
        return "armed";
      case Op::Kind::kFault:
        env_.AddFaultRule(op.rule);
        model_.OnDisturbance();
        faults_active_ = true;
        return "added";
      case Op::Kind::kClearFaults:
        env_.ClearFaultRules();
        faults_active_ = false;
        return "cleared";
      case Op::Kind::kSqueeze:
        env_.SetCapacity(env_.UsedBytes() + op.squeeze);
        model_.OnDisturbance();
        squeezed_ = true;
        return absl::StrCat("capacity ", env_.UsedBytes() + op.squeeze);
      case Op::Kind::kRelease:
        env_.SetCapacity(UINT64_MAX);
        squeezed_ = false;
        return "released";
      default:
        return DoLogOp(op, key, out);
    }
    return "?";
  }

  std::string DoLogOp(const Op& op, const std::string& key, Outcome* out) {
    const uint64_t next = model_.next_id(key);
    switch (op.kind) {
      case Op::Kind::kTruncateSuffix: {
        const uint64_t from = IdAt(key, op.frac, 0);
        const absl::Status s = wal_->TruncateSuffix(key, from);
        if (absl::IsNotFound(s) && next == 0) return "no stream";
        Violate(model_.OnTruncateSuffix(key, from, s), out);
        return absl::StrCat("from ", from, ": ", s.ToString());
      }
      case Op::Kind::kReset: {
        const uint64_t to = static_cast<uint64_t>(op.frac * static_cast<double>(next + 8));
        const absl::Status s = wal_->ResetStream(key, to);
        Violate(model_.OnReset(key, to, s), out);
        return absl::StrCat("to ", to, ": ", s.ToString());
      }
      case Op::Kind::kCreate: {
        const uint64_t first = static_cast<uint64_t>(op.frac * 100);
        const absl::Status s = wal_->CreateStream(key, first);
        Violate(model_.OnCreate(key, first, s), out);
        return absl::StrCat("at ", first, ": ", s.ToString());
      }
      case Op::Kind::kTrimFront: {
        const uint64_t first = IdAt(key, op.frac, 0);
        const absl::StatusOr<TruncateResult> r = wal_->TrimFront(key, first);
        if (absl::IsNotFound(r.status()) && next == 0) return "no stream";
        Violate(model_.OnTrimFront(key, first, r), out);
        return absl::StrCat("to ", first, ": ", r.status().ToString());
      }
      case Op::Kind::kPutMetadata: {
        const absl::Status s = wal_->PutStreamMetadata(key, op.entries[0]);
        Violate(model_.OnPutMetadata(key, op.entries[0], s), out);
        return s.ToString();
      }
      case Op::Kind::kAppendIf: {
        const uint64_t expected = op.frac < 0.2 ? next + 1 : next;
        const std::vector<absl::string_view> views(op.entries.begin(), op.entries.end());
        const absl::StatusOr<IdRange> r = wal_->AppendBatchIf(key, expected, views);
        Violate(model_.OnAppendIf(key, expected, op.entries, r), out);
        return absl::StrCat("expecting ", expected, ": ", r.status().ToString());
      }
      case Op::Kind::kReadRange: {
        const uint64_t lo = IdAt(key, op.frac, 0);
        const absl::StatusOr<std::vector<std::string>> r = wal_->ReadRange(key, lo, lo + 8, 300);
        if (absl::IsNotFound(r.status()) && next == 0) return "no stream";
        Violate(model_.OnReadRange(key, lo, lo + 8, 300, r, Degraded()), out);
        return absl::StrCat("from ", lo, ": ",
                            r.ok() ? absl::StrCat(r->size(), " entries") : r.status().ToString());
      }
      case Op::Kind::kDelete: {
        const absl::Status s = wal_->DeleteStream(key);
        if (absl::IsNotFound(s)) return "no stream";
        Violate(model_.OnDelete(key, s), out);
        return s.ToString();
      }
      default:
        return "?";
    }
  }

  std::string Iterate(const std::string& key, uint64_t from, Outcome* out) {
    absl::StatusOr<std::unique_ptr<Iterator>> it = wal_->NewIterator(key, from);
    if (!it.ok()) return it.status().ToString();
    uint64_t n = 0;
    for (; (*it)->Valid(); (*it)->Next(), ++n) {
      absl::StatusOr<std::string> value = std::string((*it)->value());
      Violate(model_.OnGet(key, (*it)->id(), value, Degraded()), out);
      if (!out->violations.empty()) break;
    }
    if (!(*it)->status().ok() && !Degraded() && !model_.disturbed() && !model_.poisoned(key)) {
      out->violations.push_back(
          absl::StrCat(key, ": iteration from ", from, " failed: ", (*it)->status().ToString()));
    }
    return absl::StrCat(n, " entries: ", (*it)->status().ToString());
  }

  const Workload& w_;
  SimEnv env_;
  testing::WalModel model_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
  bool faults_active_ = false;
  bool power_cut_ = false;
  bool squeezed_ = false;
};

}  // namespace

Outcome Run(const Workload& workload) { return Runner(workload).Run(); }

Workload Shrink(const Workload& failing, int max_runs) {
  Workload best = failing;
  best.ops = testing::ShrinkOps<Op>(
      failing.ops,
      [&failing](const std::vector<Op>& ops) {
        Workload candidate = failing;
        candidate.ops = ops;
        return !Run(candidate).violations.empty();
      },
      max_runs, /*keep_last=*/1);  // The final crash and recovery stay.
  return best;
}

std::string Describe(const Workload& workload, const Outcome& outcome) {
  std::string s = absl::StrCat("seed ", workload.seed, ": ", outcome.violations.size(),
                               " violation(s):\n  ", absl::StrJoin(outcome.violations, "\n  "));
  const WalOptions& o = workload.options;
  absl::StrAppend(
      &s, "\noptions: sync_mode=", static_cast<int>(o.sync_mode),
      " read_strategy=", static_cast<int>(o.read_strategy),
      " compression=", static_cast<int>(o.compression), " max_segment_size=", o.max_segment_size,
      " max_entries_per_segment=", o.max_entries_per_segment,
      " max_open_segments=", o.max_open_segments, " write_buffer_size=", o.write_buffer_size,
      " block_size=", workload.sim.block_size);
  absl::StrAppend(&s, "\noperations (", workload.ops.size(), "):\n  ",
                  absl::StrJoin(outcome.log, "\n  "));
  absl::StrAppend(&s, "\nlast SimEnv operations:\n  ", absl::StrJoin(outcome.trace, "\n  "));
  absl::StrAppend(&s, "\nreplay: IRONWAL_SEED=", workload.seed,
                  " tools/bazel test //tests/sim:sim_test --test_output=all");
  return s;
}

}  // namespace sim
}  // namespace ironwal
