// Real processes on the real disk (issue: deterministic torture suite, section 4): a
// writer child on PosixEnv is killed with SIGKILL, the parent reopens the WAL and checks
// that every acknowledged entry is there and each stream is a clean prefix of what the
// children wrote.
//
// The child is this test binary run again (posix_spawn of /proc/self/exe) with
// IRONWAL_SIGKILL_CHILD set; before gtest starts it opens the WAL under TEST_TMPDIR and
// appends deterministic entries (their bytes are a function of the round's seed, the
// stream and the ID) to three streams, single appends and batches, and after each append
// returns it writes a record of the IDs it got to a pipe (fd 3). The parent reads the pipe
// and kills the child after a seeded number of acknowledgements: no sleeps, no clocks.
//
// What must survive a process kill (the page cache survives it):
//   kStrict, kBatchOnly  every ID the child was given: the entry had been handed to the OS
//                        (kStrict: synced; kBatchOnly: single appends written, batches
//                        synced) before the append returned.
//   kAsync               every ID acknowledged before the child's last Flush() returned
//                        (the child reports each Flush); later ones may still have been in
//                        the process's buffer.
// Beyond that the log may hold more (a write that completed before the kill whose
// acknowledgement never reached the pipe), but only the bytes written for those IDs, with
// no gap. Open must succeed under CorruptionPolicy::kError: a process kill cannot damage
// anything that was synced, at most tear the last write.
//
// Rounds append to the same WAL; some use a tiny max_segment_size so that the kill often
// lands inside a segment rotation.
//
//   IRONWAL_SEED=n      seeds the rounds (default 1); a failure prints the round and seed.
//   IRONWAL_SIGKILL_ROUNDS=n  rounds per sync mode (default 4).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

extern char** environ;

namespace ironwal {

using internal::DecodeFixed32;
using internal::DecodeFixed64;
using internal::EncodeFixed32;
using internal::EncodeFixed64;
using internal::Random;

using ::ironwal::testing::EnvNumber;
namespace {

constexpr char kChildEnvVar[] = "IRONWAL_SIGKILL_CHILD";
constexpr int kAckFd = 3;
constexpr const char* kStreams[] = {"orders", "user/7", "audit"};
constexpr size_t kStreamCount = 3;

// Exit codes of a child that stopped by itself (it should only ever die by SIGKILL).
constexpr int kChildBadArgs = 20;
constexpr int kChildOpenFailed = 21;
constexpr int kChildAppendFailed = 22;
constexpr int kChildWrongId = 23;
constexpr int kChildPipeFailed = 24;
constexpr int kChildDone = 25;

// One pipe record: a stream's acknowledged IDs [first, first + count), or (stream 0xFF)
// "everything acknowledged so far has been flushed to the OS".
constexpr size_t kRecordSize = 13;
constexpr uint8_t kFlushedRecord = 0xFF;

// The bytes of entry `id` of stream `stream` as written by the round with `seed`: mostly
// small, sometimes several pages (so that a write can be cut by the kill).
std::string EntryFor(uint64_t seed, size_t stream, uint64_t id) {
  Random rng(seed * 0x9E3779B97F4A7C15ull ^ (stream + 1) * 0xBF58476D1CE4E5B9ull ^ id);
  const size_t size = rng.OneIn(20) ? rng.Range(3000, 9000) : rng.Uniform(200);
  std::string bytes = rng.Bytes(size);
  if (size >= 8) EncodeFixed64(&bytes[0], id);  // readable in a hex dump
  return bytes;
}

struct ChildConfig {
  std::string root;
  SyncMode mode = SyncMode::kStrict;
  uint64_t seed = 0;
  uint64_t max_segment_size = 0;
};

std::string EncodeConfig(const ChildConfig& c) {
  return absl::StrCat(c.root, "|", static_cast<int>(c.mode), "|", c.seed, "|", c.max_segment_size);
}

bool DecodeConfig(const std::string& text, ChildConfig* c) {
  std::vector<std::string> parts = absl::StrSplit(text, '|');
  int mode;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[1], &mode) ||
      !absl::SimpleAtoi(parts[2], &c->seed) || !absl::SimpleAtoi(parts[3], &c->max_segment_size)) {
    return false;
  }
  c->root = parts[0];
  c->mode = static_cast<SyncMode>(mode);
  return true;
}

bool WriteRecord(uint8_t stream, uint64_t first, uint32_t count) {
  char record[kRecordSize];
  record[0] = static_cast<char>(stream);
  EncodeFixed64(record + 1, first);
  EncodeFixed32(record + 9, count);
  for (;;) {  // kRecordSize < PIPE_BUF: written whole or not at all.
    const ssize_t n = write(kAckFd, record, kRecordSize);
    if (n == static_cast<ssize_t>(kRecordSize)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// The child: appends until it is killed (or a bound it should never reach).
[[noreturn]] void RunChild(const char* config_text) {
  ChildConfig config;
  if (!DecodeConfig(config_text, &config)) _exit(kChildBadArgs);
  WalOptions options;
  options.root = config.root;
  options.sync_mode = config.mode;
  options.max_segment_size = config.max_segment_size;
  options.write_buffer_size = 16 << 10;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok()) _exit(kChildOpenFailed);
  uint64_t next[kStreamCount] = {};
  for (size_t s = 0; s < kStreamCount; ++s) {
    absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(kStreams[s]);
    next[s] = info.ok() ? info->next_id : 0;
  }
  Random rng(config.seed);
  for (int op = 1; op <= 200000; ++op) {
    const size_t s = static_cast<size_t>(rng.Uniform(kStreamCount));
    const uint32_t count = rng.OneIn(3) ? static_cast<uint32_t>(rng.Range(2, 6)) : 1;
    std::vector<std::string> entries;
    for (uint32_t i = 0; i < count; ++i) entries.push_back(EntryFor(config.seed, s, next[s] + i));
    uint64_t first;
    if (count == 1) {
      absl::StatusOr<uint64_t> id = (*wal)->Append(kStreams[s], entries[0]);
      if (!id.ok()) _exit(kChildAppendFailed);
      first = *id;
    } else {
      absl::StatusOr<IdRange> ids = (*wal)->AppendBatch(kStreams[s], entries);
      if (!ids.ok()) _exit(kChildAppendFailed);
      first = ids->first;
    }
    if (first != next[s]) _exit(kChildWrongId);
    next[s] += count;
    if (!WriteRecord(static_cast<uint8_t>(s), first, count)) _exit(kChildPipeFailed);
    if (config.mode == SyncMode::kAsync && op % 16 == 0) {
      if (!(*wal)->Flush().ok()) _exit(kChildAppendFailed);
      if (!WriteRecord(kFlushedRecord, 0, 0)) _exit(kChildPipeFailed);
    }
  }
  _exit(kChildDone);
}

[[maybe_unused]] const int kChildMode = [] {
  const char* config = std::getenv(kChildEnvVar);
  if (config != nullptr) RunChild(config);
  return 0;
}();

// What the parent knows about one stream: which round wrote which IDs, and what it must
// find after the next kill.
struct StreamState {
  // From `first`, IDs were written by the round with `seed`.
  struct Writer {
    uint64_t first;
    uint64_t seed;
  };
  std::vector<Writer> writers;
  uint64_t recovered = 0;  // next ID after the last check
  uint64_t acked = 0;      // end of the IDs acknowledged this round
  uint64_t must_keep = 0;  // end of the IDs that must survive this round's kill

  std::string Expected(size_t stream, uint64_t id) const {
    uint64_t seed = 0;
    for (const Writer& w : writers) {
      if (w.first <= id) seed = w.seed;
    }
    return EntryFor(seed, stream, id);
  }
};

struct Round {
  SyncMode mode;
  uint64_t seed;
  uint64_t max_segment_size;
  uint64_t kill_after;  // acknowledgements
};

const char* ModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kStrict:
      return "kStrict";
    case SyncMode::kBatchOnly:
      return "kBatchOnly";
    case SyncMode::kAsync:
      return "kAsync";
  }
  return "?";
}

class SigkillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tmp = ::ironwal::testing::TestTmpDir();
    static int calls = 0;
    root_ = JoinPath(tmp, absl::StrCat("sigkill_test.", getpid(), ".", ++calls));
    ASSERT_OK(CreateDirRecursively(Env::Default(), root_));
  }

  // Spawns the child for `round`; returns its pid and the read end of its ack pipe.
  void Spawn(const Round& round, pid_t* pid, int* ack_fd) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    ChildConfig config{root_, round.mode, round.seed, round.max_segment_size};
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.push_back(absl::StrCat(kChildEnvVar, "=", EncodeConfig(config)));
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(&s[0]);
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], kAckFd);  // dup2 clears O_CLOEXEC
    char exe[] = "/proc/self/exe";
    char* argv[] = {exe, nullptr};
    const int spawned = posix_spawn(pid, exe, &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    ASSERT_EQ(spawned, 0) << std::strerror(spawned);
    *ack_fd = fds[0];
  }

  // Reads acknowledgements, kills the child after round.kill_after of them, reads the rest
  // (acknowledgements written before the kill), and reaps the child.
  void RunRound(const Round& round, std::map<size_t, StreamState>* streams) {
    pid_t pid;
    int fd;
    ASSERT_NO_FATAL_FAILURE(Spawn(round, &pid, &fd));
    // Whatever happens below, the child does not outlive this round.
    struct Guard {
      pid_t pid;
      int fd;
      bool reaped = false;
      ~Guard() {
        if (fd >= 0) close(fd);
        if (!reaped) {
          kill(pid, SIGKILL);
          int status;
          while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
          }
        }
      }
    } guard{pid, fd};
    uint64_t acks = 0;
    bool killed = false;
    std::string buffer;
    char chunk[4096];
    for (;;) {
      const ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t used = 0;
      for (; buffer.size() - used >= kRecordSize; used += kRecordSize) {
        const uint8_t stream = static_cast<uint8_t>(buffer[used]);
        if (stream == kFlushedRecord) {
          for (auto& [s, state] : *streams) state.must_keep = state.acked;
          continue;
        }
        const uint64_t first = DecodeFixed64(buffer.data() + used + 1);
        const uint32_t count = DecodeFixed32(buffer.data() + used + 9);
        StreamState& state = (*streams)[stream];
        EXPECT_EQ(first, state.acked) << "stream " << kStreams[stream];
        state.acked = first + count;
        if (round.mode != SyncMode::kAsync) state.must_keep = state.acked;
        if (++acks == round.kill_after && !killed) {
          ASSERT_EQ(kill(pid, SIGKILL), 0);
          killed = true;
        }
      }
      buffer.erase(0, used);
    }
    close(fd);
    guard.fd = -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) ASSERT_EQ(errno, EINTR);
    guard.reaped = true;
    ASSERT_TRUE(killed) << "the child stopped after " << acks << " acknowledgements, exit "
                        << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    EXPECT_TRUE(buffer.empty()) << "a partial acknowledgement record";
    acks_ += acks;
  }

  // Reopens the WAL and checks every stream against what the children acknowledged.
  void Check(const Round& round, std::map<size_t, StreamState>* streams) {
    WalOptions options;
    options.root = root_;
    options.max_segment_size = round.max_segment_size;
    options.on_corruption = CorruptionPolicy::kError;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    for (const StreamRecoveryReport& r : wal->recovery_report()) {
      EXPECT_TRUE(r.tail == ScanOutcome::kClean || r.tail == ScanOutcome::kTorn) << r.ToString();
      if (r.tail != ScanOutcome::kClean) ++torn_tails_;
    }
    for (auto& [s, state] : *streams) {
      SCOPED_TRACE(kStreams[s]);
      absl::StatusOr<StreamInfo> found = wal->GetStreamInfo(kStreams[s]);
      if (absl::IsNotFound(found.status())) {
        EXPECT_EQ(state.must_keep, 0u) << "a stream with acknowledged entries is gone";
        continue;  // Not created before the kill.
      }
      ASSERT_OK_AND_ASSIGN(const StreamInfo info, std::move(found));
      EXPECT_EQ(info.first_id, 0u);
      EXPECT_GE(info.next_id, state.must_keep) << "acknowledged IDs were lost";
      if (info.next_id > state.acked) ++unacked_survivors_;
      ASSERT_OK_AND_ASSIGN(auto it, wal->NewIterator(kStreams[s], 0));
      uint64_t id = 0;
      for (; it->Valid(); it->Next(), ++id) {
        ASSERT_EQ(it->id(), id);
        ASSERT_EQ(it->value(), state.Expected(s, id)) << "ID " << id;
      }
      ASSERT_OK(it->status());
      EXPECT_EQ(id, info.next_id);
      if (info.next_id > 0) {  // (a stream created just before the kill may be empty)
        ASSERT_OK_AND_ASSIGN(const std::string last, wal->Get(kStreams[s], info.next_id - 1));
        EXPECT_EQ(last, state.Expected(s, info.next_id - 1));
      }
      EXPECT_EQ(wal->Get(kStreams[s], info.next_id).status().code(), absl::StatusCode::kOutOfRange);
      state.recovered = state.acked = state.must_keep = info.next_id;
      checked_ += info.next_id;
    }
    ASSERT_OK(wal->Close());
  }

  void RunRounds(const std::vector<Round>& rounds) {
    std::map<size_t, StreamState> streams;
    for (size_t s = 0; s < kStreamCount; ++s) streams[s];
    for (size_t i = 0; i < rounds.size(); ++i) {
      const Round& round = rounds[i];
      SCOPED_TRACE(absl::StrCat("round ", i, " (", ModeName(round.mode), ", seed ", round.seed,
                                ", kill after ", round.kill_after, " acks, max_segment_size ",
                                round.max_segment_size, "), IRONWAL_SEED=", base_seed_));
      for (auto& [s, state] : streams) state.writers.push_back({state.recovered, round.seed});
      ASSERT_NO_FATAL_FAILURE(RunRound(round, &streams));
      ASSERT_NO_FATAL_FAILURE(Check(round, &streams));
    }
  }

  std::vector<Round> MakeRounds(uint64_t salt, SyncMode mode, uint64_t max_segment_size) {
    std::vector<Round> rounds;
    Random rng(base_seed_ * 1000 + salt);
    const uint64_t n = EnvNumber("IRONWAL_SIGKILL_ROUNDS", 4);
    for (uint64_t i = 0; i < n; ++i) {
      rounds.push_back({mode, rng.Next(), max_segment_size, rng.Range(1, 120)});
    }
    return rounds;
  }

  void TearDown() override {
    std::cout << "sigkill: " << kills_ << " kills, " << acks_ << " acknowledgements, " << checked_
              << " entries checked, " << torn_tails_ << " torn tails cut, " << unacked_survivors_
              << " streams held unacknowledged writes\n";
  }

  const uint64_t base_seed_ = EnvNumber("IRONWAL_SEED", 1);
  std::string root_;
  uint64_t acks_ = 0;
  uint64_t kills_ = 0;
  uint64_t checked_ = 0;
  uint64_t torn_tails_ = 0;
  uint64_t unacked_survivors_ = 0;
};

TEST_F(SigkillTest, EveryAcknowledgedEntrySurvivesInEverySyncMode) {
  std::vector<Round> rounds;
  for (SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync}) {
    for (const Round& r : MakeRounds(static_cast<uint64_t>(mode), mode, 64 << 10)) {
      rounds.push_back(r);
    }
  }
  kills_ = rounds.size();
  RunRounds(rounds);
}

TEST_F(SigkillTest, KilledWhileRotatingSegments) {
  // Segments of a few frames: most kills land in or near a rotation.
  std::vector<Round> rounds;
  for (SyncMode mode : {SyncMode::kStrict, SyncMode::kBatchOnly, SyncMode::kAsync}) {
    for (const Round& r : MakeRounds(10 + static_cast<uint64_t>(mode), mode, 700)) {
      rounds.push_back(r);
    }
  }
  kills_ = rounds.size();
  RunRounds(rounds);
}

}  // namespace
}  // namespace ironwal
