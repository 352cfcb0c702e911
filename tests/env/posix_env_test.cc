// Tests of what only PosixEnv does: locks across processes, the real errno of a full
// device, close-on-exec descriptors, views into a real mapping, fallocate, the fallback of
// a durable write when the kernel refuses RWF_DSYNC (forced by seccomp). The behaviour
// every Env shares is in env_conformance_test.cc. Files live under TEST_TMPDIR only.
#include "ironwal/env/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

extern char** environ;

namespace ironwal {

using internal::NewPosixEnv;

namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

// SecondProcessCannotTakeAHeldLock re-executes this test binary with this variable set to
// a lock path. The child then does nothing but try that lock, before gtest starts, and
// reports the outcome as its exit code.
constexpr char kLockChildEnvVar[] = "IRONWAL_POSIX_ENV_TEST_LOCK_CHILD";
constexpr int kChildLocked = 0;
constexpr int kChildRefused = 10;
constexpr int kChildOtherError = 11;

[[maybe_unused]] const int kLockChildMode = [] {
  const char* path = std::getenv(kLockChildEnvVar);
  if (path == nullptr) return 0;
  absl::StatusOr<std::unique_ptr<FileLock>> lock = Env::Default()->LockFile(path);
  if (lock.ok()) _exit(kChildLocked);
  _exit(absl::IsFailedPrecondition(lock.status()) ? kChildRefused : kChildOtherError);
}();

// Runs this binary as a lock child for `path` and returns its exit code (-1 if it did not
// exit normally).
int RunLockChild(const std::string& path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(absl::StrCat(kLockChildEnvVar, "=", path));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(&s[0]);
  envp.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};
  pid_t pid;
  if (posix_spawn(&pid, exe, nullptr, nullptr, argv, envp.data()) != 0) return -1;
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A fresh directory under TEST_TMPDIR for the current test (one per call, so that
// --gtest_repeat works).
std::string TestDir() {
  static int calls = 0;
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir =
      JoinPath(tmp, absl::StrCat("posix_env_test.", info->name(), ".", ++calls));
  EXPECT_THAT(CreateDirRecursively(Env::Default(), dir), testing::IsOk());
  return dir;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

// The open descriptors of this process.
std::set<int> OpenFds() {
  std::vector<int> listed;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return {};
  while (const struct dirent* entry = readdir(d)) {
    if (entry->d_name[0] != '.') listed.push_back(std::atoi(entry->d_name));
  }
  closedir(d);
  std::set<int> open;
  for (int fd : listed) {  // Drops the descriptor that listed the directory.
    if (fcntl(fd, F_GETFD) >= 0) open.insert(fd);
  }
  return open;
}

TEST(PosixEnvTest, SecondProcessCannotTakeAHeldLock) {
  Env* env = Env::Default();
  const std::string path = JoinPath(TestDir(), "LOCK");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, env->LockFile(path));
  EXPECT_EQ(RunLockChild(path), kChildRefused);
  ASSERT_OK(env->UnlockFile(std::move(lock)));
  EXPECT_EQ(RunLockChild(path), kChildLocked);
}

TEST(PosixEnvTest, SecondLockerInThisProcessIsRefused) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string path = JoinPath(TestDir(), "LOCK");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, env->LockFile(path));
  EXPECT_THAT(env->LockFile(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("held by another")));
  // Another PosixEnv of this process is another opener too.
  EXPECT_THAT(Env::Default()->LockFile(path), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(PosixEnvTest, LockCanBeTakenAgainAfterUnlock) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string path = JoinPath(TestDir(), "LOCK");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, env->LockFile(path));
  ASSERT_OK(env->UnlockFile(std::move(lock)));
  ASSERT_OK_AND_ASSIGN(lock, env->LockFile(path));
  lock.reset();  // Destroying a lock releases it too.
  EXPECT_OK(env->LockFile(path));
}

TEST(PosixEnvTest, AppendToAFullDeviceIsResourceExhaustedWithENOSPC) {
  std::unique_ptr<Env> env = NewPosixEnv();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file, env->NewAppendableFile("/dev/full"));
  EXPECT_THAT(file->Append("payload"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("append /dev/full@0: No space left on device (ENOSPC)")));
  EXPECT_EQ(file->Size(), 0u);  // Nothing reached the "file".
}

TEST(PosixEnvTest, EveryDescriptorIsCloseOnExec) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string dir = TestDir();
  const std::set<int> before = OpenFds();
  ASSERT_FALSE(before.empty());
  ASSERT_OK_AND_ASSIGN(auto writable, env->NewWritableFile(JoinPath(dir, "w")));
  ASSERT_OK(writable->Append("data"));
  ASSERT_OK_AND_ASSIGN(auto appendable, env->NewAppendableFile(JoinPath(dir, "a")));
  RandomAccessFileOptions mmap_options;
  mmap_options.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto pread_file,
                       env->NewRandomAccessFile(JoinPath(dir, "w"), RandomAccessFileOptions()));
  ASSERT_OK_AND_ASSIGN(auto mmap_file, env->NewRandomAccessFile(JoinPath(dir, "w"), mmap_options));
  ASSERT_OK_AND_ASSIGN(auto lock, env->LockFile(JoinPath(dir, "LOCK")));

  std::set<int> opened;
  for (int fd : OpenFds()) {
    if (before.count(fd) == 0) opened.insert(fd);
  }
  EXPECT_EQ(opened.size(), 5u);
  for (int fd : opened) {
    SCOPED_TRACE(absl::StrCat("fd ", fd));
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  }
}

TEST(PosixEnvTest, NoDescriptorOutlivesItsObject) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string dir = TestDir();
  const std::set<int> before = OpenFds();
  {
    ASSERT_OK_AND_ASSIGN(auto closed, env->NewWritableFile(JoinPath(dir, "closed")));
    ASSERT_OK(closed->Close());
    ASSERT_OK_AND_ASSIGN(auto dropped, env->NewAppendableFile(JoinPath(dir, "dropped")));
    ASSERT_OK(dropped->Append("x"));
    RandomAccessFileOptions mmap_options;
    mmap_options.use_mmap = true;
    ASSERT_OK_AND_ASSIGN(auto mapped,
                         env->NewRandomAccessFile(JoinPath(dir, "dropped"), mmap_options));
    ASSERT_OK_AND_ASSIGN(auto lock, env->LockFile(JoinPath(dir, "LOCK")));
    ASSERT_OK(env->UnlockFile(std::move(lock)));
    ASSERT_OK_AND_ASSIGN(auto kept, env->LockFile(JoinPath(dir, "LOCK2")));
    ASSERT_OK(env->GetChildren(dir).status());
    ASSERT_OK(env->SyncDir(dir));
    EXPECT_THAT(env->NewRandomAccessFile(dir, RandomAccessFileOptions()),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_EQ(OpenFds(), before);
}

TEST(PosixEnvTest, MmapReadsInsideTheMappingAreViewsIntoIt) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string path = JoinPath(TestDir(), "mapped");
  const std::string contents = Pattern(8192);
  ASSERT_OK_AND_ASSIGN(auto writer, env->NewWritableFile(path));
  ASSERT_OK(writer->Append(contents));
  RandomAccessFileOptions options;
  options.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto file, env->NewRandomAccessFile(path, options));
  ASSERT_EQ(file->MappedSize(), 8192u);

  std::vector<char> scratch(8192);
  ASSERT_OK_AND_ASSIGN(absl::string_view view, file->Read(100, 50, scratch.data()));
  EXPECT_EQ(view, contents.substr(100, 50));
  EXPECT_TRUE(view.data() < scratch.data() || view.data() >= scratch.data() + scratch.size());
  ASSERT_OK_AND_ASSIGN(absl::string_view whole, file->Read(0, 8192, nullptr));
  EXPECT_EQ(whole, contents);
  EXPECT_EQ(whole.data() + 100, view.data());  // One mapping serves both.
}

TEST(PosixEnvTest, ReadsPastTheMappingUsePreadAfterTheFileGrows) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string path = JoinPath(TestDir(), "growing");
  const std::string contents = Pattern(5000);
  ASSERT_OK_AND_ASSIGN(auto writer, env->NewWritableFile(path));
  ASSERT_OK(writer->Append(contents.substr(0, 4096)));
  RandomAccessFileOptions options;
  options.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto file, env->NewRandomAccessFile(path, options));
  ASSERT_OK(writer->Append(contents.substr(4096)));

  EXPECT_EQ(file->MappedSize(), 4096u);  // A mapping never grows.
  EXPECT_THAT(file->Size(), IsOkAndHolds(5000u));
  std::vector<char> scratch(1000);
  EXPECT_THAT(file->Read(4096, 100, nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(absl::string_view tail, file->Read(4096, 1000, scratch.data()));
  EXPECT_EQ(tail, contents.substr(4096));  // Short: the file ends at 5000.
  EXPECT_EQ(tail.data(), scratch.data());
  ASSERT_OK_AND_ASSIGN(absl::string_view straddle, file->Read(4000, 200, scratch.data()));
  EXPECT_EQ(straddle, contents.substr(4000, 200));
  EXPECT_EQ(straddle.data(), scratch.data());
}

TEST(PosixEnvTest, EmptyFileHasNoMapping) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string path = JoinPath(TestDir(), "empty");
  ASSERT_OK(env->NewWritableFile(path).status());
  RandomAccessFileOptions options;
  options.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto file, env->NewRandomAccessFile(path, options));
  EXPECT_EQ(file->MappedSize(), 0u);
  char scratch[16];
  EXPECT_THAT(file->Read(0, sizeof(scratch), scratch), IsOkAndHolds(""));
}

TEST(PosixEnvTest, AllocateReservesBlocksWithoutChangingTheSize) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string path = JoinPath(TestDir(), "allocated");
  constexpr uint64_t kLength = 1 << 20;
  ASSERT_OK_AND_ASSIGN(auto file, env->NewWritableFile(path));
  ASSERT_OK(file->Append("head"));
  ASSERT_OK(file->Allocate(0, kLength));
  EXPECT_EQ(file->Size(), 4u);
  EXPECT_THAT(env->GetFileSize(path), IsOkAndHolds(4u));

  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  if (static_cast<uint64_t>(st.st_blocks) * 512 < kLength) {
    // Only a file system that cannot preallocate may leave the blocks out.
    const std::string probe = JoinPath(Dirname(path), "probe");
    const int fd = open(probe.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    const int rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, kLength);
    const int fallocate_errno = errno;
    close(fd);
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(fallocate_errno, EOPNOTSUPP);
  }
}

TEST(PosixEnvTest, RemoveFileOfADirectoryMapsEISDIRToFailedPrecondition) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string dir = JoinPath(TestDir(), "sub");
  ASSERT_OK(env->CreateDir(dir));
  EXPECT_THAT(env->RemoveFile(dir),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("(EISDIR)")));
  EXPECT_THAT(env->IsDirectory(dir), IsOkAndHolds(true));
}

TEST(PosixEnvTest, ErrorsNameTheOperationThePathAndTheErrno) {
  std::unique_ptr<Env> env = NewPosixEnv();
  const std::string missing = JoinPath(TestDir(), "missing");
  EXPECT_THAT(env->NewRandomAccessFile(missing, RandomAccessFileOptions()),
              StatusIs(absl::StatusCode::kNotFound,
                       absl::StrCat("open ", missing, ": No such file or directory (ENOENT)")));
  EXPECT_THAT(env->RemoveDir(missing),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(absl::StrCat("rmdir ", missing))));
}

TEST(PosixEnvTest, DefaultIsOneSharedPosixEnv) {
  Env* env = Env::Default();
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env, Env::Default());
  const std::string path = JoinPath(TestDir(), "file");
  ASSERT_OK(WriteFileAtomically(env, path, "contents"));
  EXPECT_THAT(ReadFileToString(env, path), IsOkAndHolds("contents"));
}

TEST(PosixEnvTest, NowMicrosCountsFromTheUnixEpoch) {
  constexpr uint64_t k2020InMicros = 1577836800ull * 1000000;
  EXPECT_GT(Env::Default()->NowMicros(), k2020InMicros);
}

// --- WriteAtDurable when the kernel refuses RWF_DSYNC ----------------------------------
// A forked child makes every pwritev2 fail with `error` (a seccomp filter: the kernel
// returns the errno without running the call), runs `body`, and exits with its result:
// 0 for success, anything else for a failure it printed. Returns the exit code, -1 if the
// child did not exit normally, or 77 where the filter cannot be built for this machine.
constexpr int kNoSeccomp = 77;

int InChildRefusingPwritev2(int error, const std::function<int()>& body) {
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
  return kNoSeccomp;
#endif
#if defined(__x86_64__) || defined(__aarch64__)
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwritev2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | (static_cast<uint32_t>(error) & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])),
                                 filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
      std::perror("seccomp");
      _exit(kNoSeccomp);
    }
    _exit(body());
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
}

// In the child: a 10-byte synced file, durable writes over it, then its contents.
int DurableWritesAfterRefusal(const std::string& path) {
  std::unique_ptr<Env> env = NewPosixEnv();
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path);
  absl::Status status = file.status();
  if (status.ok()) status = (*file)->Append(std::string(10, '\0'));
  if (status.ok()) status = (*file)->Sync();
  // Refused at once: the first falls back to pwrite + fdatasync, and so does the second.
  if (status.ok()) status = (*file)->WriteAtDurable(0, "abc");
  if (status.ok()) status = (*file)->WriteAtDurable(3, "defghij");
  if (status.ok()) status = (*file)->Close();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

TEST(PosixEnvTest, DurableWriteFallsBackWhenTheKernelRefusesRwfDsync) {
  // EOPNOTSUPP: a file system without it; ENOSYS: a kernel without pwritev2 (glibc may
  // turn it into EOPNOTSUPP); EINVAL: a kernel that does not know the flag.
  for (int error : {EOPNOTSUPP, ENOSYS, EINVAL}) {
    SCOPED_TRACE(absl::StrCat("errno ", error));
    const std::string path = JoinPath(TestDir(), "f");
    const int code =
        InChildRefusingPwritev2(error, [&] { return DurableWritesAfterRefusal(path); });
    if (code == kNoSeccomp) GTEST_SKIP() << "no seccomp filter on this machine";
    ASSERT_EQ(code, 0);
    ASSERT_OK_AND_ASSIGN(std::string contents, ReadFileToString(Env::Default(), path));
    EXPECT_EQ(contents, "abcdefghij");
  }
}

TEST(PosixEnvTest, DurableWriteReportsOtherErrorsWithThePathAndOffset) {
  const std::string path = JoinPath(TestDir(), "f");
  const int code = InChildRefusingPwritev2(EIO, [&] {
    std::unique_ptr<Env> env = NewPosixEnv();
    absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path);
    if (!file.ok() || !(*file)->Append(std::string(10, 'x')).ok()) return 2;
    const absl::Status status = (*file)->WriteAtDurable(4, "abc");
    const std::string message(status.message());
    // Not a refusal: no fallback, the error with what and where.
    if (status.ok() || message.find("RWF_DSYNC") == std::string::npos ||
        message.find(path + "@4") == std::string::npos) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
    return 0;
  });
  if (code == kNoSeccomp) GTEST_SKIP() << "no seccomp filter on this machine";
  EXPECT_EQ(code, 0);
  // The failed write put nothing in the file (no fallback wrote it behind the error).
  EXPECT_THAT(ReadFileToString(Env::Default(), path), IsOkAndHolds(std::string(10, 'x')));
}

}  // namespace
}  // namespace ironwal
