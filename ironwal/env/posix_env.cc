// PosixEnv: ironwal's Env on the real (Linux) file system. See posix_env.h for the contract.
//
// Every descriptor is opened with O_CLOEXEC and owned by exactly one object, which closes
// it. Every error is built by IoError() from the failing call's errno, so the message names
// the operation, the path, the offset where it matters and the errno symbol.
#include "ironwal/env/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/env/env.h"
#include "ironwal/env/io_error.h"

namespace ironwal {

using internal::IoError;

namespace {

// The largest count one read(2)/write(2) transfers on Linux; bigger requests loop.
constexpr size_t kMaxIoBytes = 0x7ffff000;
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<off_t>::max());

bool ParentIsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(Dirname(path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// IoError for an operation on a path. ENOTDIR is ambiguous: either `path` itself is not a
// directory (the wrong kind of object: FailedPrecondition) or one of its ancestors is not,
// which Env reports as a missing parent (NotFound).
absl::Status PathError(absl::string_view op, const std::string& path, int errnum) {
  absl::Status status = IoError(op, path, errnum);
  if (errnum == ENOTDIR && !ParentIsDirectory(path)) {
    return absl::Status(absl::StatusCode::kNotFound, status.message());
  }
  return status;
}

int OpenRetrying(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Calls visit(name, d_type) for every entry of `dir` but "." and "..", in readdir's order.
absl::Status ForEachDirEntry(const std::string& dir,
                             absl::FunctionRef<void(absl::string_view, unsigned char)> visit) {
  const int fd = OpenRetrying(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return PathError("list", dir, errno);
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    const int e = errno;
    ::close(fd);
    return IoError("list", dir, e);
  }
  int read_errno = 0;
  while (true) {
    errno = 0;
    const struct dirent* entry = ::readdir(d);
    if (entry == nullptr) {
      read_errno = errno;
      break;
    }
    const absl::string_view name(entry->d_name);
    if (name != "." && name != "..") visit(name, entry->d_type);
  }
  ::closedir(d);  // Closes fd.
  if (read_errno != 0) return IoError("list", dir, read_errno);
  return absl::OkStatus();
}

// Closes a descriptor unless released; for the error paths of the factories.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  // Takes ownership of `fd`; `size` is the file's current size, where appends start.
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  // pwrite at our own position rather than write(2) with O_APPEND, so that appends after
  // Truncate() go at the new size.
  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return Closed("append");
    while (!data.empty()) {
      if (size_ > kMaxOffset) return IoError("append", path_, size_, EFBIG);
      const ssize_t n =
          ::pwrite(fd_, data.data(), std::min(data.size(), kMaxIoBytes), static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("append", path_, size_, errno);
      }
      if (n == 0) {  // Cannot happen for a non-empty write to a file; do not spin.
        return absl::InternalError(absl::StrCat("append ", path_, "@", size_, ": wrote nothing"));
      }
      size_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    if (fd_ < 0) return Closed("write");
    if (offset > size_ || data.size() > size_ - offset) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write ", path_, "@", offset, ": ", data.size(), " bytes pass the end at ", size_));
    }
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), std::min(data.size(), kMaxIoBytes),
                                 static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", path_, offset, errno);
      }
      if (n == 0) {
        return absl::InternalError(absl::StrCat("write ", path_, "@", offset, ": wrote nothing"));
      }
      offset += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  // pwritev2(RWF_DSYNC): the write is durable when it returns (the kernel syncs the range
  // and the metadata it needs, as fdatasync would), in one system call. A refusal
  // (EOPNOTSUPP, ENOSYS or EINVAL: a kernel or file system without it, nothing written)
  // switches this file to pwrite + fdatasync for good.
  absl::Status WriteAtDurable(uint64_t offset, absl::string_view data) override {
    if (fd_ < 0) return Closed("write");
    if (offset > size_ || data.size() > size_ - offset) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write ", path_, "@", offset, ": ", data.size(), " bytes pass the end at ", size_));
    }
#ifdef RWF_DSYNC
    while (dsync_writes_ && !data.empty()) {
      struct iovec iov;
      iov.iov_base = const_cast<char*>(data.data());
      iov.iov_len = std::min(data.size(), kMaxIoBytes);
      const ssize_t n = ::pwritev2(fd_, &iov, 1, static_cast<off_t>(offset), RWF_DSYNC);
      if (n < 0) {
        const int error = errno;
        if (error == EINTR) continue;
        if (error == EOPNOTSUPP || error == ENOSYS || error == EINVAL) {
          dsync_writes_ = false;  // nothing of this call was written: fall back below
          break;
        }
        return IoError("write (RWF_DSYNC)", path_, offset, error);
      }
      if (n == 0) {
        return absl::InternalError(absl::StrCat("write ", path_, "@", offset, ": wrote nothing"));
      }
      offset += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    if (data.empty()) return absl::OkStatus();
#endif
    return WritableFile::WriteAtDurable(offset, data);
  }

  absl::Status Flush() override {
    if (fd_ < 0) return Closed("flush");
    return absl::OkStatus();  // Nothing is buffered.
  }

  // No retry on EINTR: after a failed fdatasync the data must be considered lost.
  absl::Status Sync() override {
    if (fd_ < 0) return Closed("sync");
    if (::fdatasync(fd_) != 0) return IoError("sync", path_, errno);
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed("truncate");
    if (size > kMaxOffset) return IoError("truncate", path_, size, EFBIG);
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return IoError("truncate", path_, size, errno);
    size_ = size;
    return absl::OkStatus();
  }

  absl::Status Allocate(uint64_t offset, uint64_t length) override {
    if (fd_ < 0) return Closed("allocate");
    if (length == 0) return absl::OkStatus();  // fallocate(2) would say EINVAL.
    if (offset > kMaxOffset || length > kMaxOffset - offset) {
      return IoError("allocate", path_, offset, EFBIG);
    }
    int rc;
    do {
      rc = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                       static_cast<off_t>(length));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
      return IoError("allocate", path_, offset, errno);
    }
    return absl::OkStatus();
  }

  uint64_t Size() const override { return size_; }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    const int rc = ::close(std::exchange(fd_, -1));
    // Linux releases the descriptor even when close fails; EINTR is not a failure.
    if (rc != 0 && errno != EINTR) return IoError("close", path_, errno);
    return absl::OkStatus();
  }

  const std::string& path() const override { return path_; }

 private:
  absl::Status Closed(absl::string_view op) const {
    return absl::FailedPreconditionError(absl::StrCat(op, " ", path_, ": file is closed"));
  }

  const std::string path_;
  int fd_;                    // -1 once closed.
  uint64_t size_;             // Where the next append goes.
  bool dsync_writes_ = true;  // WriteAtDurable uses pwritev2(RWF_DSYNC) (until refused).
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  // Takes ownership of `fd` and of the mapping [map, map + map_size) (none if map_size 0).
  PosixRandomAccessFile(std::string path, int fd, const char* map, uint64_t map_size)
      : path_(std::move(path)), fd_(fd), map_(map), map_size_(map_size) {}
  ~PosixRandomAccessFile() override {
    if (map_size_ > 0) ::munmap(const_cast<char*>(map_), map_size_);
    ::close(fd_);
  }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
    if (offset <= map_size_ && n <= map_size_ - offset) {
      return absl::string_view(map_ + offset, n);
    }
    if (n == 0) return absl::string_view();
    if (scratch == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "read ", path_, "@", offset, ": no scratch for ", n, " bytes outside the mapping"));
    }
    if (offset > kMaxOffset) return absl::string_view(scratch, 0);  // Past any file's end.
    size_t done = 0;
    while (done < n) {
      const uint64_t at = offset + done;
      const ssize_t got =
          ::pread(fd_, scratch + done, std::min(n - done, kMaxIoBytes), static_cast<off_t>(at));
      if (got < 0) {
        if (errno == EINTR) continue;
        return IoError("read", path_, at, errno);
      }
      if (got == 0) break;  // End of file.
      done += static_cast<size_t>(got);
    }
    return absl::string_view(scratch, done);
  }

  absl::StatusOr<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IoError("stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  uint64_t MappedSize() const override { return map_size_; }

  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;  // Kept open for reads past the mapping and for Size().
  const char* const map_;
  const uint64_t map_size_;
};

// Takes flock(LOCK_EX | LOCK_NB) on `fd`, retrying on EINTR. FailedPrecondition when
// another open file description holds it.
absl::Status FlockExclusive(int fd, const std::string& path) {
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return absl::OkStatus();
  if (errno == EWOULDBLOCK) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", path, ": held by another opener (EWOULDBLOCK)"));
  }
  return IoError("lock", path, errno);
}

// One flock(2)ed descriptor, and optionally the lock taken after it (LockDir's lock file),
// which is released first.
class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  // LOCK_UN before close: a forked child may share the open file description, which would
  // otherwise keep the lock alive.
  ~PosixFileLock() override {
    inner_.reset();
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }

  absl::Status Release() {
    absl::Status status = inner_ != nullptr ? inner_->Release() : absl::OkStatus();
    const int fd = std::exchange(fd_, -1);
    int rc;
    do {
      rc = ::flock(fd, LOCK_UN);
    } while (rc != 0 && errno == EINTR);
    const int unlock_errno = errno;
    ::close(fd);
    if (rc != 0) status.Update(IoError("unlock", path_, unlock_errno));
    return status;
  }

  // Holds `inner` too, and releases it first.
  void Attach(std::unique_ptr<PosixFileLock> inner) { inner_ = std::move(inner); }

  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  int fd_;  // -1 once released.
  std::unique_ptr<PosixFileLock> inner_;
};

// A std::thread joined by Join() or, failing that, by the destructor.
class PosixThread final : public Env::Thread {
 public:
  explicit PosixThread(std::function<void()> fn) : thread_(std::move(fn)) {}
  ~PosixThread() override { Join(); }
  void Join() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = OpenRetrying(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return PathError("open", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    ScopedFd fd(OpenRetrying(path, O_WRONLY | O_CREAT, 0644));
    if (fd.get() < 0) return PathError("open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd.release(), static_cast<uint64_t>(st.st_size)));
  }

  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. Regular
    // files ignore the flag.
    ScopedFd fd(OpenRetrying(path, O_RDONLY | O_NONBLOCK));
    if (fd.get() < 0) return PathError("open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return IoError("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return IoError("open", path, EISDIR);  // O_RDONLY opens a dir.
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("open ", path, ": not a regular file (a FIFO, socket or device)"));
    }
    const char* map = nullptr;
    uint64_t map_size = 0;
    if (options.use_mmap && st.st_size > 0) {
      void* p =
          ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd.get(), 0);
      if (p == MAP_FAILED) return IoError("mmap", path, errno);
      map = static_cast<const char*>(p);
      map_size = static_cast<uint64_t>(st.st_size);
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd.release(), map, map_size));
  }

  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    std::vector<std::string> names;
    IRONWAL_RETURN_IF_ERROR(ForEachDirEntry(
        dir, [&names](absl::string_view name, unsigned char) { names.emplace_back(name); }));
    std::sort(names.begin(), names.end());
    return names;
  }

  absl::StatusOr<std::vector<DirEntry>> GetChildrenWithTypes(const std::string& dir) override {
    std::vector<DirEntry> entries;
    std::vector<std::string> unknown;  // file systems without d_type: lstat'ed below
    IRONWAL_RETURN_IF_ERROR(ForEachDirEntry(dir, [&](absl::string_view name, unsigned char d_type) {
      switch (d_type) {
        case DT_REG:
          entries.push_back({std::string(name), FileType::kRegular});
          break;
        case DT_DIR:
          entries.push_back({std::string(name), FileType::kDirectory});
          break;
        case DT_LNK:
          entries.push_back({std::string(name), FileType::kSymlink});
          break;
        case DT_UNKNOWN:
          unknown.emplace_back(name);
          break;
        default:
          entries.push_back({std::string(name), FileType::kOther});
          break;
      }
    }));
    for (std::string& name : unknown) {
      absl::StatusOr<FileType> type = GetFileType(JoinPath(dir, name));
      if (absl::IsNotFound(type.status())) continue;
      if (!type.ok()) return type.status();
      entries.push_back({std::move(name), *type});
    }
    std::sort(entries.begin(), entries.end(),
              [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return entries;
  }

  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PathError("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return IoError("stat", path, EISDIR);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<bool> IsDirectory(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PathError("stat", path, errno);
    return S_ISDIR(st.st_mode);
  }

  absl::StatusOr<FileType> GetFileType(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return PathError("stat", path, errno);
    if (S_ISREG(st.st_mode)) return FileType::kRegular;
    if (S_ISDIR(st.st_mode)) return FileType::kDirectory;
    if (S_ISLNK(st.st_mode)) return FileType::kSymlink;
    return FileType::kOther;
  }

  absl::Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0) return PathError("mkdir", dir, errno);
    return absl::OkStatus();
  }

  // Linux's unlink(2) of a directory fails with EISDIR: FailedPrecondition.
  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PathError("remove", path, errno);
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) {
      // POSIX allows EEXIST for a non-empty directory; Linux says ENOTEMPTY.
      return PathError("rmdir", dir, errno == EEXIST ? ENOTEMPTY : errno);
    }
    return absl::OkStatus();
  }

  // rename(2) happily moves a directory, which Env refuses. The check and the rename are
  // not atomic; ironwal never races a directory into a file's name.
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    const std::string what = absl::StrCat(from, " -> ", to);
    struct stat st;
    if (::lstat(from.c_str(), &st) != 0) return PathError("rename", from, errno);
    if (S_ISDIR(st.st_mode)) return IoError("rename", what, EISDIR);
    if (::rename(from.c_str(), to.c_str()) != 0) {
      const int e = errno;
      absl::Status status = IoError("rename", what, e);
      // With a file as the source, ENOTDIR means a parent of a path is not a directory.
      if (e == ENOTDIR) return absl::Status(absl::StatusCode::kNotFound, status.message());
      return status;
    }
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    ScopedFd fd(OpenRetrying(dir, O_RDONLY | O_DIRECTORY));
    if (fd.get() < 0) return PathError("sync dir", dir, errno);
    if (::fsync(fd.get()) != 0) return IoError("sync dir", dir, errno);
    return absl::OkStatus();
  }

  // flock(2) locks belong to the open file description, so a second open() of the same
  // file, in this process or another, is refused as well.
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    ScopedFd fd(OpenRetrying(path, O_RDWR | O_CREAT, 0644));
    if (fd.get() < 0) return PathError("lock", path, errno);
    IRONWAL_RETURN_IF_ERROR(FlockExclusive(fd.get(), path));
    return std::unique_ptr<FileLock>(new PosixFileLock(path, fd.release()));
  }

  absl::StatusOr<std::unique_ptr<FileLock>> LockDir(const std::string& dir,
                                                    const std::string& lock_file) override {
    ScopedFd fd(OpenRetrying(dir, O_RDONLY | O_DIRECTORY));
    if (fd.get() < 0) return PathError("lock", dir, errno);
    IRONWAL_RETURN_IF_ERROR(FlockExclusive(fd.get(), dir));
    auto lock = std::make_unique<PosixFileLock>(dir, fd.release());
    if (lock_file.empty()) return std::unique_ptr<FileLock>(std::move(lock));
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> file_lock,
                             LockFile(JoinPath(dir, lock_file)));
    lock->Attach(std::unique_ptr<PosixFileLock>(static_cast<PosixFileLock*>(file_lock.release())));
    return std::unique_ptr<FileLock>(std::move(lock));
  }

  absl::Status UnlockFile(std::unique_ptr<FileLock> lock) override {
    if (lock == nullptr) return absl::InvalidArgumentError("unlock: no lock");
    auto* posix_lock = dynamic_cast<PosixFileLock*>(lock.get());
    if (posix_lock == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unlock ", lock->path(), ": not a lock of a PosixEnv"));
    }
    return posix_lock->Release();
  }

  // nullptr when no thread can be started (std::thread throws std::system_error, say at
  // the process's thread limit): the caller then does the work itself.
  std::unique_ptr<Thread> StartThread(std::function<void()> fn) override {
    try {
      return std::make_unique<PosixThread>(std::move(fn));
    } catch (const std::system_error&) {
      return nullptr;
    }
  }

  // Wall-clock microseconds since the Unix epoch (checkpoint timestamps are wall time).
  uint64_t NowMicros() override {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
  }
};

}  // namespace

std::unique_ptr<Env> internal::NewPosixEnv() { return std::make_unique<PosixEnv>(); }

Env* Env::Default() {
  // Leaked on purpose: never destroyed, so usable from static destructors.
  static Env* const env = new PosixEnv();
  return env;
}

}  // namespace ironwal
