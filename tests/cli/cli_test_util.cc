#include "tests/cli/cli_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/wal/wal.h"

extern char** environ;

namespace ironwal {
namespace testing {

using ::ironwal::internal::SegmentFileName;

namespace {

namespace fs = std::filesystem;

std::string TmpDir() { return ::ironwal::testing::TestTmpDir(); }

// Waits for `pid` up to `timeout_ms` (0: forever) through a pidfd; kills it (SIGKILL) when
// the time runs out. The wait status, and whether it was killed.
int WaitOrKill(pid_t pid, int timeout_ms, bool* timed_out) {
  *timed_out = false;
  if (timeout_ms > 0) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      pollfd ready = {pidfd, POLLIN, 0};
      int rc;
      do {
        rc = ::poll(&ready, 1, timeout_ms);
      } while (rc < 0 && errno == EINTR);
      ::close(pidfd);
      if (rc == 0) {
        *timed_out = true;
        ::kill(pid, SIGKILL);
      }
    } else {
      ADD_FAILURE() << "pidfd_open: errno " << errno;
    }
  }
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited != pid) ADD_FAILURE() << "waitpid failed: errno " << errno;
  return status;
}

}  // namespace

std::string ToolPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/ironwal/ironwal/cli/ironwal");
}

ToolResult RunTool(const std::vector<std::string>& args, const std::string& input,
                   const RunOptions& options) {
  static std::atomic<int> runs{0};
  const std::string base = absl::StrCat(TmpDir(), "/tool-run-", ++runs);
  std::vector<std::string> words = {ToolPath()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(&word[0]);
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string in = base + ".in", out = base + ".out", err = base + ".err";
  int pipe_fds[2] = {-1, -1};
  if (options.stdin_pipe) {
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe: errno " << errno;
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], 0);
  } else {
    WriteBytes(in, input);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  }
  const std::string& stdout_path = options.stdout_path.empty() ? out : options.stdout_path;
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ToolResult result;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (options.stdin_pipe) {
    ::close(pipe_fds[0]);
    // Small inputs only: the pipe's buffer takes them without the tool reading.
    if (spawned == 0 && !input.empty() &&
        ::write(pipe_fds[1], input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
      ADD_FAILURE() << "write to the tool's standard input failed";
    }
    ::close(pipe_fds[1]);
  }
  if (spawned != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": error " << spawned;
    return result;
  }
  const int status = WaitOrKill(pid, options.timeout_ms, &result.timed_out);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (options.stdout_path.empty()) result.out = ReadBytes(out);
  result.err = ReadBytes(err);
  return result;
}

std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(TmpDir(), "/", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void CopyTree(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive);
  for (const auto& entry : fs::recursive_directory_iterator(to)) {
    fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  fs::permissions(to, fs::perms::owner_write, fs::perm_options::add);
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    files[fs::relative(entry.path(), dir).string()] = ReadBytes(entry.path().string());
  }
  return files;
}

// The byte surgery of ironwal/testing/file_surgery.h, on the real disk.
std::string ReadBytes(const std::string& path) {
  return ::ironwal::testing::ReadFileOrFail(Env::Default(), path);
}

void WriteBytes(const std::string& path, absl::string_view contents) {
  ::ironwal::testing::WriteFileOrFail(Env::Default(), path, contents);
}

void AppendBytes(const std::string& path, absl::string_view contents) {
  ::ironwal::testing::AppendToFile(Env::Default(), path, contents);
}

void FlipByte(const std::string& path, uint64_t offset) {
  ::ironwal::testing::FlipByte(Env::Default(), path, offset, static_cast<char>(0xFF));
}

bool FileExists(const std::string& path) { return fs::exists(path); }

void RemoveFile(const std::string& path) { EXPECT_TRUE(fs::remove(path)) << path; }

std::string Seg(const std::string& root, const std::string& stream, uint64_t start) {
  return absl::StrCat(root, "/", stream, "/", SegmentFileName(start));
}

std::string EntryFor(uint64_t id) { return absl::StrFormat("entry-%04d", id); }

void WriteEntries(const std::string& root, const std::string& stream, int count,
                  uint64_t max_segment_size) {
  WalOptions options;
  options.root = root;
  options.max_segment_size = max_segment_size;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  ASSERT_TRUE(wal.ok()) << wal.status();
  absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(stream);
  const uint64_t first = info.ok() ? info->next_id : 0;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<uint64_t> id = (*wal)->Append(stream, EntryFor(first + i));
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_EQ(*id, first + i);
  }
  absl::Status closed = (*wal)->Close();
  ASSERT_TRUE(closed.ok()) << closed;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace testing
}  // namespace ironwal
