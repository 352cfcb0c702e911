// Stress: 4-8 threads mixing every public call (Append, AppendBatch, transactions, Get,
// MultiGet, short, full and tailing iterators, Truncate, Sync, Flush, ListStreams,
// GetStreamInfo, and Close with a reopen) over 1-8 streams, in every sync mode, both read
// strategies, LZ4 on and off, with tiny segments and small caches; on MemEnv, and for a
// short run on PosixEnv under TEST_TMPDIR.
//
// The oracle: each entry's bytes say which stream, writer and sequence number it is and
// end in a checksum; every read is checked against that and against the IDs its writer
// was given. At the end each stream's IDs must be exactly 0..next-1, each acknowledged
// once, and iteration must return them consecutively with the right bytes.
//
// A watchdog fails the test when no thread makes progress for kHangSeconds: it prints
// each thread's current operation and progress count, asks gdb for every thread's stack
// (when gdb can attach), and aborts. The watchdog is the only thing here that reads the
// clock; the workload itself is seeded and counted in operations.
//
// Knobs (passed through by .bazelrc): IRONWAL_STRESS_ROUNDS rounds (each its own seed and
// configuration), IRONWAL_STRESS_OPS operations per thread, IRONWAL_SEED the first seed.
// A long run: IRONWAL_STRESS_ROUNDS=200 IRONWAL_STRESS_OPS=20000.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/posix_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

using internal::NewPosixEnv;
using internal::Random;

namespace {

constexpr int kHangSeconds = 120;

// ---- Entries: "stream:writer:seq:filler#checksum" ----

struct EntryId {
  int stream = 0;
  int writer = 0;
  uint64_t seq = 0;
  friend bool operator==(const EntryId& a, const EntryId& b) {
    return a.stream == b.stream && a.writer == b.writer && a.seq == b.seq;
  }
};

uint64_t Fnv1a(absl::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

std::string MakeEntry(const EntryId& e, Random* rnd) {
  // Runs of one letter, so that LZ4 has something to compress.
  std::string filler(rnd->Uniform(300), static_cast<char>('a' + rnd->Uniform(3)));
  const std::string body = absl::StrCat(e.stream, ":", e.writer, ":", e.seq, ":", filler);
  return absl::StrCat(body, "#", Fnv1a(body));
}

absl::StatusOr<EntryId> DecodeEntry(absl::string_view entry) {
  const size_t hash_at = entry.rfind('#');
  uint64_t hash;
  if (hash_at == absl::string_view::npos || !absl::SimpleAtoi(entry.substr(hash_at + 1), &hash) ||
      hash != Fnv1a(entry.substr(0, hash_at))) {
    return absl::DataLossError(absl::StrCat("bad checksum: '", entry.substr(0, 80), "'"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(entry.substr(0, hash_at), ':');
  EntryId e;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &e.stream) ||
      !absl::SimpleAtoi(parts[1], &e.writer) || !absl::SimpleAtoi(parts[2], &e.seq)) {
    return absl::DataLossError(absl::StrCat("bad entry: '", entry.substr(0, 80), "'"));
  }
  return e;
}

std::string StreamKey(int stream) { return absl::StrCat("s", stream); }

// ---- The configuration of one round ----

struct Config {
  uint64_t seed = 0;
  int threads = 0;
  int streams = 0;
  int ops = 0;  // per thread
  WalOptions options;

  std::string ToString() const {
    return absl::StrCat("seed ", seed, ": ", threads, " threads, ", streams, " streams, ", ops,
                        " ops each, ", SyncModeName(options.sync_mode),
                        options.read_strategy == ReadStrategy::kMmap ? ", mmap" : ", pread",
                        options.compression == Compression::kLz4 ? ", lz4" : "", ", segments of ",
                        options.max_segment_size, " bytes, ", options.max_open_segments,
                        " writers, ", options.max_open_read_segments, " readers, block cache ",
                        options.block_cache_size);
  }
};

// Round `round` cycles through every sync mode x read strategy x compression; the rest
// is drawn from the seed.
Config MakeConfig(uint64_t seed, uint64_t round, int ops, Env* env, const std::string& root) {
  Random rnd(seed);
  Config c;
  c.seed = seed;
  c.threads = static_cast<int>(rnd.Range(4, 8));
  c.streams = static_cast<int>(rnd.Range(1, 8));
  c.ops = ops;
  WalOptions& o = c.options;
  o.env = env;
  o.root = root;
  const SyncMode modes[] = {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync};
  o.sync_mode = modes[round % 3];
  o.read_strategy = (round / 3) % 2 == 0 ? ReadStrategy::kPread : ReadStrategy::kMmap;
  o.compression = (round / 6) % 2 == 0 ? Compression::kNone : Compression::kLz4;
  o.min_compression_size = 64;
  o.max_segment_size = rnd.Range(512, 4096);
  o.max_entries_per_segment = rnd.OneIn(3) ? rnd.Range(2, 20) : UINT64_MAX;
  o.max_open_segments = rnd.Range(1, 4);
  o.max_open_read_segments = rnd.Range(1, 4);
  o.block_cache_size = rnd.OneIn(2) ? 0 : rnd.Range(1, 16) << 10;
  o.write_buffer_size = rnd.Range(256, 8192);
  o.read_buffer_size = rnd.Range(64, 4096);
  return c;
}

// ---- What each thread is doing, for the watchdog ----

struct ThreadState {
  std::atomic<const char*> op{"starting"};
  std::atomic<uint64_t> progress{0};
};

class Watchdog {
 public:
  explicit Watchdog(std::vector<ThreadState>* threads, std::string what)
      : threads_(threads), what_(std::move(what)), thread_([this] { Watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  uint64_t Total() const {
    uint64_t total = 0;
    for (const ThreadState& t : *threads_) total += t.progress.load(std::memory_order_relaxed);
    return total;
  }

  void Watch() {
    std::unique_lock<std::mutex> lock(mu_);
    uint64_t last = Total();
    int idle = 0;
    while (!done_) {
      cv_.wait_for(lock, std::chrono::seconds(1));
      const uint64_t now = Total();
      idle = now == last ? idle + 1 : 0;
      last = now;
      if (idle >= kHangSeconds) Hang();
    }
  }

  [[noreturn]] void Hang() {
    std::fprintf(stderr, "\nwatchdog: no progress for %d s in %s\n", kHangSeconds, what_.c_str());
    for (size_t i = 0; i < threads_->size(); ++i) {
      const ThreadState& t = (*threads_)[i];
      std::fprintf(stderr, "  thread %zu: in %s after %llu operations\n", i, t.op.load(),
                   static_cast<unsigned long long>(t.progress.load()));
    }
    const std::string gdb =
        absl::StrCat("gdb -p ", getpid(), " -batch -nx -ex 'thread apply all bt' 1>&2 2>/dev/null");
    std::fprintf(stderr, "watchdog: every thread's stack (%s):\n", gdb.c_str());
    std::fflush(stderr);
    if (std::system(gdb.c_str()) != 0) {
      std::fprintf(stderr, "watchdog: gdb could not attach; rerun and attach it yourself\n");
    }
    std::abort();
  }

  std::vector<ThreadState>* const threads_;
  const std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// ---- One round ----

// A Wal and whether it is being closed (its calls may then return "closed").
struct Epoch {
  std::shared_ptr<Wal> wal;
  std::atomic<bool> closing{false};
};

class StressRound {
 public:
  explicit StressRound(const Config& config)
      : c_(config), acked_(config.streams), states_(config.threads + 1) {}

  void Run() {
    const Watchdog watchdog(&states_, c_.ToString());
    ASSERT_NO_FATAL_FAILURE(Reopen(nullptr));
    std::vector<std::thread> threads;
    for (int t = 0; t < c_.threads; ++t) threads.emplace_back([this, t] { Worker(t); });
    for (std::thread& t : threads) t.join();
    states_.back().op = "final check";
    ASSERT_NO_FATAL_FAILURE(Reopen(Current()));
    ASSERT_NO_FATAL_FAILURE(FinalCheck());
    ASSERT_OK(Current()->wal->Close());
    std::cout << c_.ToString() << ": " << reopens_ << " reopens, " << closed_calls_
              << " calls refused by Close, " << truncations_ << " truncations" << std::endl;
  }

 private:
  std::shared_ptr<Epoch> Current() {
    std::lock_guard<std::mutex> lock(epoch_mu_);
    return epoch_;
  }

  // Closes `old` (if any) while other threads keep calling, and opens the Wal again.
  void Reopen(const std::shared_ptr<Epoch>& old) {
    if (old != nullptr) {
      old->closing = true;
      ASSERT_OK(old->wal->Close());
    }
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(c_.options);
    ASSERT_OK(wal.status());
    EXPECT_TRUE((*wal)->recovery_report().empty())
        << "a clean Close left something to recover: " << (*wal)->recovery_report()[0].ToString();
    auto epoch = std::make_shared<Epoch>();
    epoch->wal = *std::move(wal);
    std::lock_guard<std::mutex> lock(epoch_mu_);
    epoch_ = std::move(epoch);
  }

  // True for the error of a call refused because `e` is closing; fails on any other error.
  bool Refused(const absl::Status& status, const Epoch& e, const char* op) {
    if (status.ok()) return false;
    if (absl::IsFailedPrecondition(status) && absl::StrContains(status.message(), "is closed") &&
        e.closing.load()) {
      ++closed_calls_;
      return true;
    }
    ADD_FAILURE() << op << ": " << status;
    return true;
  }

  void Ack(int stream, const IdRange& ids, int writer, uint64_t first_seq) {
    std::lock_guard<std::mutex> lock(acked_mu_);
    for (uint64_t id = ids.first; id < ids.end; ++id) {
      const EntryId e{stream, writer, first_seq + (id - ids.first)};
      EXPECT_TRUE(acked_[stream].emplace(id, e).second)
          << "ID " << id << " of " << stream << " handed out twice";
    }
  }

  // Checks an entry read from `stream` at `id`.
  void CheckEntry(int stream, uint64_t id, absl::string_view value) {
    absl::StatusOr<EntryId> e = DecodeEntry(value);
    ASSERT_OK(e.status()) << "stream " << stream << " ID " << id;
    ASSERT_EQ(e->stream, stream) << "ID " << id << " holds an entry of another stream";
    std::lock_guard<std::mutex> lock(acked_mu_);
    auto it = acked_[stream].find(id);
    if (it != acked_[stream].end()) {
      ASSERT_TRUE(it->second == *e)
          << "stream " << stream << " ID " << id << " holds writer " << e->writer << " seq "
          << e->seq << ", acknowledged to " << it->second.writer << " seq " << it->second.seq;
    }
  }

  // A read of `id` failed with `status`: only NotFound of a truncated ID is allowed, or
  // anything from an iterator of a Wal that has been closed (the next Wal may have
  // removed the files under it).
  void CheckReadError(Epoch& e, int stream, uint64_t id, const absl::Status& status) {
    if (e.closing.load()) return;
    if (!absl::IsNotFound(status)) {
      Refused(status, e, "read");
      return;
    }
    absl::StatusOr<StreamInfo> info = e.wal->GetStreamInfo(StreamKey(stream));
    if (!info.ok()) {
      Refused(info.status(), e, "stream info");
      return;
    }
    EXPECT_LT(id, info->first_id) << "ID " << id << " is retained but read as " << status;
  }

  void Worker(int t);
  void DoAppends(Epoch& e, int t, Random* rnd, int stream, uint64_t* seq);
  void DoReads(Epoch& e, Random* rnd, int stream, const StreamInfo& info);
  void DoIterator(Epoch& e, Random* rnd, int stream, const StreamInfo& info);
  // Each thread's tailing iterator.
  struct Tail {
    std::shared_ptr<Epoch> epoch;  // declared first: the iterator goes before its Wal
    std::unique_ptr<Iterator> it;
    int stream = 0;
    uint64_t next = 0;
  };
  void DoTail(const std::shared_ptr<Epoch>& e, int stream, Tail* tail);
  void FinalCheck();

  const Config c_;
  std::mutex epoch_mu_;
  std::shared_ptr<Epoch> epoch_;
  std::mutex reopen_mu_;

  std::mutex acked_mu_;
  std::vector<std::map<uint64_t, EntryId>> acked_;
  std::vector<ThreadState> states_;
  std::atomic<uint64_t> reopens_{0};
  std::atomic<uint64_t> closed_calls_{0};
  std::atomic<uint64_t> truncations_{0};
};

void StressRound::Worker(int t) {
  ThreadState& state = states_[t];
  Random rnd(c_.seed * 1000 + static_cast<uint64_t>(t) + 1);
  uint64_t seq = 0;
  Tail tail;
  // About three reopens per round, whoever draws them.
  const uint64_t reopen_one_in = std::max<uint64_t>(1, uint64_t(c_.ops) * c_.threads / 3);
  for (int i = 0; i < c_.ops && !::testing::Test::HasFatalFailure(); ++i) {
    state.progress.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<Epoch> e = Current();
    const int stream = static_cast<int>(rnd.Uniform(c_.streams));
    const uint64_t kind = rnd.Uniform(100);
    if (rnd.OneIn(reopen_one_in)) {
      state.op = "close and reopen";
      std::unique_lock<std::mutex> lock(reopen_mu_, std::try_to_lock);
      if (lock.owns_lock() && Current() == e) {
        Reopen(e);
        ++reopens_;
      }
    } else if (kind < 45) {
      state.op = "append";
      DoAppends(*e, t, &rnd, stream, &seq);
    } else if (kind < 85) {
      state.op = "stream info";
      absl::StatusOr<StreamInfo> info = e->wal->GetStreamInfo(StreamKey(stream));
      if (absl::IsNotFound(info.status())) continue;  // not written yet
      if (Refused(info.status(), *e, "stream info")) continue;
      if (kind < 65) {
        DoReads(*e, &rnd, stream, *info);
      } else if (kind < 75) {
        DoIterator(*e, &rnd, stream, *info);
      } else if (kind < 83) {
        state.op = "tail";
        DoTail(e, stream, &tail);
      } else {
        state.op = "truncate";
        const uint64_t keep = rnd.Range(info->first_id, info->next_id);
        absl::StatusOr<TruncateResult> r = e->wal->Truncate(StreamKey(stream), keep);
        if (!Refused(r.status(), *e, "truncate")) {
          // Above `keep` only when another thread truncated further meanwhile; never back.
          EXPECT_GE(r->first_id, info->first_id);
          ++truncations_;
        }
      }
    } else {
      static const char* const kOps[] = {"sync", "flush", "list streams"};
      const uint64_t which = kind % 3;
      state.op = kOps[which];
      if (which == 0) {
        Refused(e->wal->Sync(), *e, "sync");
      } else if (which == 1) {
        Refused(e->wal->Flush(), *e, "flush");
      } else {
        absl::StatusOr<std::vector<std::string>> keys = e->wal->ListStreams();
        if (!Refused(keys.status(), *e, "list streams")) {
          EXPECT_TRUE(std::is_sorted(keys->begin(), keys->end()));
          EXPECT_LE(keys->size(), static_cast<size_t>(c_.streams));
        }
      }
    }
  }
  state.op = "done";
}

void StressRound::DoAppends(Epoch& e, int t, Random* rnd, int stream, uint64_t* seq) {
  const std::string key = StreamKey(stream);
  const uint64_t how = rnd->Uniform(10);
  const size_t count = how < 6 ? 1 : rnd->Uniform(5);  // batches and transactions: 0-4
  std::vector<std::string> entries;
  for (size_t i = 0; i < count; ++i) entries.push_back(MakeEntry({stream, t, *seq + i}, rnd));
  absl::StatusOr<IdRange> ids;
  if (how < 6) {
    absl::StatusOr<uint64_t> id = e.wal->Append(key, entries[0]);
    ids = id.ok() ? absl::StatusOr<IdRange>(IdRange{*id, *id + 1}) : id.status();
  } else if (how < 8) {
    ids = e.wal->AppendBatch(key, entries);
  } else {
    TxnWriter txn = e.wal->NewTransaction(key);
    for (const std::string& entry : entries) ASSERT_OK(txn.Add(entry));
    if (rnd->OneIn(5)) {
      txn.Abort();
      return;
    }
    ids = txn.Commit();
  }
  if (Refused(ids.status(), e, "append")) return;
  ASSERT_EQ(ids->size(), count) << "[" << ids->first << ", " << ids->end << ")";
  Ack(stream, *ids, t, *seq);
  *seq += count;
}

void StressRound::DoReads(Epoch& e, Random* rnd, int stream, const StreamInfo& info) {
  if (info.next_id == info.first_id) return;
  const std::string key = StreamKey(stream);
  if (rnd->OneIn(2)) {
    const uint64_t id = rnd->Range(info.first_id, info.next_id - 1);
    absl::StatusOr<std::string> got = e.wal->Get(key, id);
    if (got.ok()) return CheckEntry(stream, id, *got);
    return CheckReadError(e, stream, id, got.status());
  }
  std::vector<uint64_t> ids(rnd->Range(1, 8));
  for (uint64_t& id : ids) id = rnd->Range(info.first_id, info.next_id - 1);
  std::vector<absl::StatusOr<std::string>> got = e.wal->MultiGet(key, ids);
  ASSERT_EQ(got.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (got[i].ok()) {
      ASSERT_NO_FATAL_FAILURE(CheckEntry(stream, ids[i], *got[i]));
    } else {
      CheckReadError(e, stream, ids[i], got[i].status());
    }
  }
}

void StressRound::DoIterator(Epoch& e, Random* rnd, int stream, const StreamInfo& info) {
  const bool full = rnd->OneIn(4);
  const uint64_t start = full ? info.first_id : rnd->Range(info.first_id, info.next_id);
  const uint64_t limit = full ? UINT64_MAX : rnd->Range(1, 30);
  absl::StatusOr<std::unique_ptr<Iterator>> it = e.wal->NewIterator(StreamKey(stream), start);
  if (!it.ok()) return CheckReadError(e, stream, start, it.status());
  uint64_t expected = start;
  for (uint64_t n = 0; (*it)->Valid() && n < limit; (*it)->Next(), ++n, ++expected) {
    ASSERT_EQ((*it)->id(), expected);
    ASSERT_NO_FATAL_FAILURE(CheckEntry(stream, expected, (*it)->value()));
  }
  if (!(*it)->status().ok()) CheckReadError(e, stream, expected, (*it)->status());
  if (full && (*it)->status().ok()) {
    EXPECT_GE(expected, info.next_id);
  }
}

// One step of this thread's tailing iterator: read what is new, then Seek(next) to wait.
void StressRound::DoTail(const std::shared_ptr<Epoch>& e, int stream, Tail* tail) {
  if (tail->it == nullptr || tail->epoch != e) {
    *tail = Tail();
    absl::StatusOr<StreamInfo> info = e->wal->GetStreamInfo(StreamKey(stream));
    if (!info.ok()) return (void)Refused(info.status(), *e, "stream info");
    absl::StatusOr<std::unique_ptr<Iterator>> it =
        e->wal->NewIterator(StreamKey(stream), info->first_id);
    if (!it.ok()) return CheckReadError(*e, stream, info->first_id, it.status());
    tail->epoch = e;
    tail->it = *std::move(it);
    tail->stream = stream;
    tail->next = info->first_id;
  }
  Iterator& it = *tail->it;
  it.Seek(tail->next);
  for (int n = 0; it.Valid() && n < 50; it.Next(), ++n) {
    ASSERT_EQ(it.id(), tail->next) << "tailing iterator skipped or repeated";
    ASSERT_NO_FATAL_FAILURE(CheckEntry(tail->stream, tail->next, it.value()));
    ++tail->next;
  }
  if (!it.status().ok()) {
    // Truncated from under it: start again from the first retained ID.
    CheckReadError(*e, tail->stream, tail->next, it.status());
    *tail = Tail();
  }
}

void StressRound::FinalCheck() {
  Wal& wal = *Current()->wal;
  for (int s = 0; s < c_.streams; ++s) {
    std::lock_guard<std::mutex> lock(acked_mu_);
    const std::map<uint64_t, EntryId>& acked = acked_[s];
    absl::StatusOr<StreamInfo> info = wal.GetStreamInfo(StreamKey(s));
    if (acked.empty()) {
      EXPECT_TRUE(absl::IsNotFound(info.status()) || (info.ok() && info->next_id == 0));
      continue;
    }
    ASSERT_OK(info.status());
    // Gap-free: the acknowledged IDs are exactly 0 .. next_id - 1.
    ASSERT_EQ(acked.size(), info->next_id) << "stream " << s;
    ASSERT_EQ(acked.rbegin()->first, info->next_id - 1) << "stream " << s;
    absl::StatusOr<std::unique_ptr<Iterator>> it = wal.NewIterator(StreamKey(s), info->first_id);
    ASSERT_OK(it.status());
    uint64_t expected = info->first_id;
    for (; (*it)->Valid(); (*it)->Next(), ++expected) {
      ASSERT_EQ((*it)->id(), expected);
      absl::StatusOr<EntryId> e = DecodeEntry((*it)->value());
      ASSERT_OK(e.status());
      ASSERT_TRUE(*e == acked.at(expected)) << "stream " << s << " ID " << expected;
    }
    ASSERT_OK((*it)->status());
    EXPECT_EQ(expected, info->next_id) << "stream " << s;
  }
}

void RunRounds(const std::string& what, uint64_t rounds, uint64_t ops, Env* env,
               const std::string& root_base) {
  const uint64_t first_seed = ::ironwal::testing::EnvNumber("IRONWAL_SEED", 1);
  std::cout << what << ": seeds " << first_seed << ".." << first_seed + rounds - 1
            << " (IRONWAL_SEED, IRONWAL_STRESS_ROUNDS), " << ops
            << " ops per thread (IRONWAL_STRESS_OPS)" << std::endl;
  for (uint64_t round = 0; round < rounds; ++round) {
    const uint64_t seed = first_seed + round;
    const Config config = MakeConfig(seed, seed - 1, static_cast<int>(ops), env,
                                     JoinPath(root_base, absl::StrCat("round-", seed)));
    SCOPED_TRACE(config.ToString());
    StressRound r(config);
    ASSERT_NO_FATAL_FAILURE(r.Run());
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(WalStressTest, EveryCallAtOnceOnMemEnv) {
  MemEnv env;
  RunRounds("MemEnv", ::ironwal::testing::EnvNumber("IRONWAL_STRESS_ROUNDS", 12),
            ::ironwal::testing::EnvNumber("IRONWAL_STRESS_OPS", 1000), &env, "/stress");
}

TEST(WalStressTest, EveryCallAtOnceOnPosixEnv) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  std::unique_ptr<Env> env = NewPosixEnv();
  // One round per sync mode; a tenth of the MemEnv run's operations.
  RunRounds("PosixEnv", 3, ::ironwal::testing::EnvNumber("IRONWAL_STRESS_OPS", 1000) / 10 + 1,
            env.get(), JoinPath(tmp, "stress"));
}

}  // namespace
}  // namespace ironwal
