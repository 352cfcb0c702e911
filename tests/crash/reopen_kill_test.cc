// Reopens killed at each of their I/O calls, on the real disk (issue 8, "make the suites
// find these"), as a user meets it: `ironwal append` killed by SIGKILL, then the next
// `ironwal append` killed while it recovers, again and again.
//
// 1. A writer process (a fork of this test) appends kEntries kStrict entries to two streams
//    on PosixEnv under TEST_TMPDIR; each returned, so each is acknowledged. Its last append
//    is torn: FaultyEnv writes half of the frame and raises SIGKILL. The durable frontier
//    (durable.pos) is still at the start of the segments, so the next open has the whole
//    verified tail to make durable, and a torn frame to cut.
// 2. For N = 1, 2, ...: a copy of that directory is reopened by a child process through
//    FaultyEnv, which raises SIGKILL at the reopen's N-th I/O call (every Env and file call
//    counts: opens, reads, writes, syncs, truncates, renames, removes, directory syncs,
//    locks). If the open succeeds, the child appends one entry and reports its
//    acknowledgement on a pipe. The parent then opens the copy (CorruptionPolicy::kError)
//    and checks every acknowledged entry, byte for byte, with no gap. The loop ends when a
//    reopen makes fewer than N calls.
// 3. The same, with the N-th call failing instead (ENOSPC for calls that write or create,
//    EIO for the others) in this process, then a reopen without faults.
//
// Deterministic: no clock, no random choice; the kill points are the call counts.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/env/env.h"
#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/io_error.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

using internal::IoError;

namespace {

constexpr int kEntries = 24;
constexpr const char* kStreams[] = {"orders", "user/7"};
constexpr char kReopenEntry[] = "appended by the reopen";

// Exit codes of children that stopped by themselves.
constexpr int kChildOpenFailed = 30;
constexpr int kChildAppendFailed = 31;
constexpr int kChildDone = 32;
constexpr int kChildNotKilled = 33;

std::string Entry(size_t stream, int i) {
  // Mostly small, every fifth one over a page, so that frames straddle pages.
  std::string e = absl::StrCat(kStreams[stream], " entry ", i, " ");
  e.resize(i % 5 == 4 ? 5000 + static_cast<size_t>(i) : 60 + static_cast<size_t>(i) * 7,
           static_cast<char>('a' + i % 26));
  return e;
}

// An Env over PosixEnv that counts every I/O call and, at call number `fail_at` (1-based),
// raises SIGKILL (kKill) or fails the call (kError: ENOSPC for a call that writes or
// creates, EIO otherwise). kTearNextAppend: the first Append from then on writes half its
// bytes, then raises SIGKILL.
class FaultyEnv : public EnvWrapper {
 public:
  enum class Action { kNone, kKill, kError, kTearNextAppend };

  explicit FaultyEnv(Env* target) : EnvWrapper(target) {}

  void Arm(Action action, uint64_t fail_at) {
    action_ = action;
    fail_at_ = fail_at;
  }
  uint64_t calls() const { return calls_.load(); }

  // Counts one call of `op` on `path`; kills, or returns the injected error, at fail_at.
  absl::Status Tick(const char* op, const std::string& path, bool writes) {
    const uint64_t n = ++calls_;
    if (n != fail_at_) return absl::OkStatus();
    if (action_ == Action::kKill) raise(SIGKILL);
    if (action_ != Action::kError) return absl::OkStatus();
    return IoError(op, path, writes ? ENOSPC : EIO);
  }
  bool TearNow() const { return action_ == Action::kTearNextAppend; }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    IRONWAL_RETURN_IF_ERROR(Tick("open", path, true));
    return Wrap(EnvWrapper::NewWritableFile(path));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    IRONWAL_RETURN_IF_ERROR(Tick("open", path, true));
    return Wrap(EnvWrapper::NewAppendableFile(path));
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    IRONWAL_RETURN_IF_ERROR(Tick("list", dir, false));
    return EnvWrapper::GetChildren(dir);
  }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    IRONWAL_RETURN_IF_ERROR(Tick("stat", path, false));
    return EnvWrapper::GetFileSize(path);
  }
  absl::StatusOr<bool> IsDirectory(const std::string& path) override {
    IRONWAL_RETURN_IF_ERROR(Tick("stat", path, false));
    return EnvWrapper::IsDirectory(path);
  }
  absl::Status CreateDir(const std::string& dir) override {
    IRONWAL_RETURN_IF_ERROR(Tick("mkdir", dir, true));
    return EnvWrapper::CreateDir(dir);
  }
  absl::Status RemoveFile(const std::string& path) override {
    IRONWAL_RETURN_IF_ERROR(Tick("remove", path, false));
    return EnvWrapper::RemoveFile(path);
  }
  absl::Status RemoveDir(const std::string& dir) override {
    IRONWAL_RETURN_IF_ERROR(Tick("rmdir", dir, false));
    return EnvWrapper::RemoveDir(dir);
  }
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    IRONWAL_RETURN_IF_ERROR(Tick("rename", from, true));
    return EnvWrapper::RenameFile(from, to);
  }
  absl::Status SyncDir(const std::string& dir) override {
    IRONWAL_RETURN_IF_ERROR(Tick("sync dir", dir, false));
    return EnvWrapper::SyncDir(dir);
  }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    IRONWAL_RETURN_IF_ERROR(Tick("lock", path, true));
    return EnvWrapper::LockFile(path);
  }

 private:
  class File : public WritableFileWrapper {
   public:
    File(FaultyEnv* env, std::unique_ptr<WritableFile> target)
        : WritableFileWrapper(std::move(target)), env_(env) {}
    absl::Status Append(absl::string_view data) override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("append", path(), true));
      if (env_->TearNow()) {
        WritableFileWrapper::Append(data.substr(0, data.size() / 2)).IgnoreError();
        raise(SIGKILL);
      }
      return WritableFileWrapper::Append(data);
    }
    absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("write", path(), true));
      return WritableFileWrapper::WriteAt(offset, data);
    }
    absl::Status Sync() override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("sync", path(), false));
      return WritableFileWrapper::Sync();
    }
    absl::Status Truncate(uint64_t size) override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("truncate", path(), false));
      return WritableFileWrapper::Truncate(size);
    }
    absl::Status Allocate(uint64_t offset, uint64_t length) override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("allocate", path(), true));
      return WritableFileWrapper::Allocate(offset, length);
    }
    absl::Status Close() override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("close", path(), false));
      return WritableFileWrapper::Close();
    }

   private:
    FaultyEnv* const env_;
  };

  class ReadFile : public RandomAccessFileWrapper {
   public:
    ReadFile(FaultyEnv* env, std::unique_ptr<RandomAccessFile> target)
        : RandomAccessFileWrapper(std::move(target)), env_(env) {}
    absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                           char* scratch) const override {
      IRONWAL_RETURN_IF_ERROR(env_->Tick("read", path(), false));
      return RandomAccessFileWrapper::Read(offset, n, scratch);
    }

   private:
    FaultyEnv* const env_;
  };

  absl::StatusOr<std::unique_ptr<WritableFile>> Wrap(
      absl::StatusOr<std::unique_ptr<WritableFile>> file) {
    if (!file.ok()) return file;
    return std::unique_ptr<WritableFile>(new File(this, *std::move(file)));
  }

  std::atomic<uint64_t> calls_{0};
  Action action_ = Action::kNone;
  uint64_t fail_at_ = 0;
};

absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultyEnv::NewRandomAccessFile(
    const std::string& path, const RandomAccessFileOptions& options) {
  IRONWAL_RETURN_IF_ERROR(Tick("open", path, false));
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
      EnvWrapper::NewRandomAccessFile(path, options);
  if (!file.ok()) return file;
  return std::unique_ptr<RandomAccessFile>(new ReadFile(this, *std::move(file)));
}

WalOptions Options(Env* env, const std::string& root) {
  WalOptions options;
  options.env = env;
  options.root = root;
  options.sync_mode = SyncMode::kStrict;
  options.on_corruption = CorruptionPolicy::kError;
  return options;
}

// Copies the directory tree `from` to `to` (which must not exist) on the real disk.
void CopyTree(const std::string& from, const std::string& to) {
  Env* env = Env::Default();
  ASSERT_OK(env->CreateDir(to));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> children, env->GetChildren(from));
  for (const std::string& name : children) {
    const std::string source = JoinPath(from, name);
    ASSERT_OK_AND_ASSIGN(const bool is_dir, env->IsDirectory(source));
    if (is_dir) {
      ASSERT_NO_FATAL_FAILURE(CopyTree(source, JoinPath(to, name)));
      continue;
    }
    ASSERT_OK_AND_ASSIGN(const std::string contents, ReadFileToString(env, source));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file,
                         env->NewWritableFile(JoinPath(to, name)));
    ASSERT_OK(file->Append(contents));
    ASSERT_OK(file->Close());
  }
}

// Waits for `pid`; returns its wait status.
int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// The writer (child): kEntries acknowledged appends per stream, then a torn append.
[[noreturn]] void RunWriter(const std::string& root) {
  FaultyEnv env(Env::Default());
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(&env, root));
  if (!wal.ok()) _exit(kChildOpenFailed);
  for (int i = 0; i < kEntries; ++i) {
    for (size_t s = 0; s < 2; ++s) {
      absl::StatusOr<uint64_t> id = (*wal)->Append(kStreams[s], Entry(s, i));
      if (!id.ok() || *id != static_cast<uint64_t>(i)) _exit(kChildAppendFailed);
    }
  }
  env.Arm(FaultyEnv::Action::kTearNextAppend, 0);
  (*wal)->Append(kStreams[0], std::string(9000, 't')).IgnoreError();
  _exit(kChildNotKilled);
}

// A reopen (child) killed at its I/O call `kill_at`: opens, appends kReopenEntry to stream
// 0, and writes one byte to `ack_fd` once that append is acknowledged.
[[noreturn]] void RunReopen(const std::string& root, uint64_t kill_at, int ack_fd) {
  FaultyEnv env(Env::Default());
  env.Arm(FaultyEnv::Action::kKill, kill_at);
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(&env, root));
  if (!wal.ok()) _exit(kChildOpenFailed);
  if (!(*wal)->Append(kStreams[0], kReopenEntry).ok()) _exit(kChildAppendFailed);
  const char ack = 'A';
  if (write(ack_fd, &ack, 1) != 1) _exit(kChildAppendFailed);
  if (!(*wal)->Close().ok()) _exit(kChildAppendFailed);
  _exit(kChildDone);
}

class ReopenKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tmp = ::ironwal::testing::TestTmpDir();
    static int tests = 0;  // One directory per test, also under --gtest_repeat.
    dir_ = JoinPath(tmp, absl::StrCat("reopen_kill.", getpid(), ".", ++tests));
    ASSERT_OK(CreateDirRecursively(Env::Default(), dir_));
    base_ = JoinPath(dir_, "killed-writer");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) RunWriter(base_);
    const int status = Reap(pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer should die by SIGKILL in its torn append; status " << status
        << (WIFEXITED(status) ? absl::StrCat(", exit ", WEXITSTATUS(status)) : "");
  }

  // Opens `root` on the real disk and checks every acknowledged entry: kEntries per stream,
  // plus kReopenEntry on stream 0 when `reopen_acked`; nothing else but, at most, that one
  // entry (a reopen killed after its write, before its acknowledgement).
  void Check(const std::string& root, bool reopen_acked, const std::string& what) {
    SCOPED_TRACE(what);
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(Env::Default(), root));
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (size_t s = 0; s < 2; ++s) {
      SCOPED_TRACE(kStreams[s]);
      ASSERT_OK_AND_ASSIGN(const StreamInfo info, (*wal)->GetStreamInfo(kStreams[s]));
      EXPECT_EQ(info.first_id, 0u);
      const uint64_t acked = kEntries + (s == 0 && reopen_acked ? 1 : 0);
      ASSERT_GE(info.next_id, acked) << "acknowledged entries were lost";
      ASSERT_LE(info.next_id, kEntries + (s == 0 ? 1u : 0u)) << "entries never written";
      ASSERT_OK_AND_ASSIGN(auto it, (*wal)->NewIterator(kStreams[s], 0));
      uint64_t id = 0;
      for (; it->Valid(); it->Next(), ++id) {
        ASSERT_EQ(it->id(), id);
        ASSERT_EQ(it->value(), id < kEntries ? Entry(s, static_cast<int>(id)) : kReopenEntry)
            << "ID " << id;
      }
      ASSERT_OK(it->status());
      EXPECT_EQ(id, info.next_id);
      ++checked_;
    }
    ASSERT_OK((*wal)->Close());
  }

  std::string dir_;
  std::string base_;
  uint64_t checked_ = 0;
};

TEST_F(ReopenKillTest, ReopenKilledAtEachOfItsIoCallsLosesNoAcknowledgedEntry) {
  uint64_t kills = 0;
  bool done = false;
  for (uint64_t n = 1; !done && n < 10000; ++n) {
    const std::string root = JoinPath(dir_, absl::StrCat("kill-at-", n));
    ASSERT_NO_FATAL_FAILURE(CopyTree(base_, root));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0) << std::strerror(errno);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
      close(fds[0]);
      RunReopen(root, n, fds[1]);
    }
    close(fds[1]);
    const int status = Reap(pid);
    char ack;
    const bool acked = read(fds[0], &ack, 1) == 1;
    close(fds[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == kChildDone) {
      done = true;  // The reopen made fewer than n calls.
    } else {
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "reopen killed at call " << n << ": status " << status
          << (WIFEXITED(status) ? absl::StrCat(", exit ", WEXITSTATUS(status)) : "");
      ++kills;
    }
    ASSERT_NO_FATAL_FAILURE(
        Check(root, acked, absl::StrCat("after a reopen killed at its I/O call ", n)));
  }
  EXPECT_TRUE(done) << "the reopen never finished";
  EXPECT_GT(kills, 10u);
  std::cout << "reopen kills: " << kills << " reopens killed, one at each I/O call; " << checked_
            << " streams checked\n";
}

TEST_F(ReopenKillTest, ReopenFailingAtEachOfItsIoCallsLosesNoAcknowledgedEntry) {
  uint64_t failures = 0;
  for (uint64_t n = 1; n < 10000; ++n) {
    const std::string root = JoinPath(dir_, absl::StrCat("fail-at-", n));
    ASSERT_NO_FATAL_FAILURE(CopyTree(base_, root));
    FaultyEnv env(Env::Default());
    env.Arm(FaultyEnv::Action::kError, n);
    bool acked = false;
    {
      absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(Options(&env, root));
      if (wal.ok()) {
        acked = (*wal)->Append(kStreams[0], kReopenEntry).ok();
        (*wal)->Close().IgnoreError();
      }
    }
    ASSERT_NO_FATAL_FAILURE(
        Check(root, acked, absl::StrCat("after a reopen whose I/O call ", n, " failed")));
    if (env.calls() < n) break;  // Nothing failed: every call has had its turn.
    ++failures;
  }
  EXPECT_GT(failures, 10u);
  std::cout << "reopen faults: " << failures << " reopens failed, one at each I/O call; "
            << checked_ << " streams checked\n";
}

}  // namespace
}  // namespace ironwal
