// File: ironwal/env/env.h
//
// Env: every byte ironwal reads or writes, and every file-system name it creates, renames or
// removes, goes through this interface. Core code never calls open(2), mmap(2) or fsync(2)
// itself, so the whole WAL runs unchanged on:
//
//   Env::Default()   PosixEnv: the real file system (ironwal/env/posix_env.h).
//   MemEnv           fast in-memory files for unit tests (ironwal/env/mem_env.h).
//   SimEnv           a deterministic simulator of crashes and faults (ironwal/env/sim_env.h).
//
// Paths are '/'-separated strings. A relative path is resolved against the working
// directory: the process's for PosixEnv, "/" for MemEnv and SimEnv. Parent directories
// are never created implicitly: creating a file in a missing directory is NotFound, as
// with POSIX.
//
// Durability contract (the same for every implementation; SimEnv enforces it):
//   - WritableFile::Append and WriteAt hand bytes to the file; they are visible to readers
//     of the file immediately and survive a process crash, but not a power loss.
//   - WritableFile::Sync makes the file's *data* durable (fdatasync). It does not make the
//     file's *name* durable.
//   - Env::SyncDir(dir) makes the creations, renames and removals of entries in `dir`
//     durable. A new file is only certain to survive a power loss after both its data and
//     its directory have been synced.
//   - A failed Sync must not be retried and trusted: on Linux the kernel drops the dirty
//     pages and reports success on the next fsync. Callers treat the file as lost.
//
// Error codes (every implementation returns the same code for the same condition):
//   NotFound            the path (or a parent directory) does not exist
//   AlreadyExists       CreateDir of an existing path
//   FailedPrecondition  wrong kind of object (a directory where a file is expected or the
//                       reverse, a non-empty directory), a lock held by another opener, a
//                       closed file
//   ResourceExhausted   no space (ENOSPC, EDQUOT), too many open files
//   PermissionDenied    EACCES, EPERM, EROFS
//   InvalidArgument     a malformed path or argument
//   Internal            EIO and every other I/O failure
// Messages name the operation, the path and, where it matters, the offset:
// "append /data/orders/00000000000000000000.wal@4096: No space left on device (ENOSPC)".
//
// Thread-safety: Env methods and RandomAccessFile::Read are safe to call concurrently.
// A WritableFile is used by one thread at a time (external synchronization).
//
// Lifetimes: files and locks must be destroyed before the Env that made them.
#ifndef IRONWAL_ENV_ENV_H_
#define IRONWAL_ENV_ENV_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {

// A file opened for writing at its end.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  // Closes the file if Close() was not called, ignoring errors. Call Close() to see them.
  virtual ~WritableFile() = default;

  // Appends `data` at the end of the file. On error, any prefix of `data` (possibly none)
  // may have reached the file; Size() reports how much did.
  virtual absl::Status Append(absl::string_view data) = 0;

  // Writes `data` over the file's bytes [offset, offset + data.size()), which must lie
  // within Size() (InvalidArgument otherwise): the size and the place of the next Append
  // do not change. Like Append, the bytes are durable only after Sync(), and on error any
  // prefix of `data` (possibly none) may have been written. Recovery writes verified bytes
  // again with it, the same bytes at the same offsets, so that a crash in the middle
  // changes nothing.
  virtual absl::Status WriteAt(uint64_t offset, absl::string_view data) = 0;

  // WriteAt(), durable when it returns: writes `data` over [offset, offset + data.size())
  // (within Size()) and makes those bytes durable, as WriteAt() then Sync() do. The file's
  // other unsynced bytes need not become durable; callers use it when there are none. The
  // default is exactly WriteAt() then Sync() (so any Env keeps its crash semantics: on
  // SimEnv a write and a sync); PosixEnv makes it one pwritev2(RWF_DSYNC) where the kernel
  // and file system support it (write + Sync otherwise). On error treat it as a failed
  // Sync(): any prefix of `data` may be written or not, and the file's unsynced bytes must be
  // considered lost.
  virtual absl::Status WriteAtDurable(uint64_t offset, absl::string_view data) {
    absl::Status written = WriteAt(offset, data);
    if (!written.ok()) return written;
    return Sync();
  }

  // Hands any bytes this object buffers to the operating system. Implementations in this
  // project do not buffer, so this is cheap; it exists for wrappers that do.
  virtual absl::Status Flush() = 0;

  // Flush(), then makes the file's data durable (fdatasync). See the durability contract
  // above: after a failed Sync the file's unsynced data must be considered lost.
  virtual absl::Status Sync() = 0;

  // Sets the file's size to `size` bytes: shrinks it, or extends it with zero bytes.
  // Later appends go at `size`. The new size is durable only after Sync().
  virtual absl::Status Truncate(uint64_t size) = 0;

  // Reserves disk space for [offset, offset + length) without changing the file's size
  // (fallocate with FALLOC_FL_KEEP_SIZE), so later appends there cannot fail for lack of
  // space and need less metadata work. Where the file system cannot preallocate this is a
  // successful no-op. ResourceExhausted when the space is not available (part of it may
  // then be reserved). A later Truncate to the file's size or below releases what was
  // reserved past the new size, as ext4 and XFS do (MemEnv and SimEnv too).
  virtual absl::Status Allocate(uint64_t offset, uint64_t length) = 0;

  // The file's size as seen through this handle, including bytes appended but not synced.
  virtual uint64_t Size() const = 0;

  // Flushes and releases the file. Later calls on this object return FailedPrecondition
  // (a second Close() is OK).
  virtual absl::Status Close() = 0;

  // The path this file was opened with.
  virtual const std::string& path() const = 0;
};

// A file opened for positional reads. When opened with `use_mmap`, bytes inside the
// mapped range are returned as views into the mapping, without a copy.
class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  virtual ~RandomAccessFile() = default;

  // Reads up to `n` bytes starting at `offset`. Returns fewer than `n` bytes only when the
  // file ends first (an empty view at or past the end). The view points into the mapping
  // when [offset, offset + n) lies inside [0, MappedSize()); otherwise into `scratch`,
  // which must then hold `n` bytes (it may be nullptr only for ranges inside the mapping;
  // InvalidArgument otherwise). The view stays valid until the file is destroyed (mapping)
  // or `scratch` is reused.
  // Thread-safe.
  virtual absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                                 char* scratch) const = 0;

  // The current size of the file (which may exceed MappedSize() if it has grown since it
  // was opened).
  virtual absl::StatusOr<uint64_t> Size() const = 0;

  // How many leading bytes are served from a memory mapping: the file's size when it was
  // opened with use_mmap, 0 otherwise. Bytes past it are read with pread. A mapping never
  // grows; open the file again to map more.
  virtual uint64_t MappedSize() const = 0;

  // The path this file was opened with.
  virtual const std::string& path() const = 0;
};

// An exclusive, advisory lock on a file (Env::LockFile) or on a directory and a file in it
// (Env::LockDir), held until passed to Env::UnlockFile or destroyed. It protects against
// other processes and against other openers in this one.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // Releases the lock if it is still held.
  virtual ~FileLock() = default;

  virtual const std::string& path() const = 0;
};

// What a directory entry is, without following a symbolic link (lstat).
enum class FileType {
  kRegular,
  kDirectory,
  kSymlink,
  kOther,  // a FIFO, socket or device
};

struct RandomAccessFileOptions {
  // Map the file's current contents into memory and serve reads from the mapping.
  // Default: false (pread).
  bool use_mmap = false;
};

class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env() = default;

  // The process-wide PosixEnv. Never destroyed; safe to use from static destructors.
  static Env* Default();

  // Creates `path`, or truncates it to zero bytes if it exists, and opens it for writing.
  // NotFound if the parent directory is missing; FailedPrecondition if `path` is a
  // directory.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;

  // Opens `path` for appending at its end, creating it (empty) if it does not exist.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;

  // Opens an existing file for reading. NotFound if it does not exist; FailedPrecondition
  // if it is a directory or anything else that is not a regular file (opening never
  // blocks, e.g. on a FIFO).
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) = 0;

  // The names (not paths) of the entries of directory `dir`, sorted, without "." and "..".
  // NotFound if `dir` does not exist; FailedPrecondition if it is not a directory.
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) = 0;

  // The size in bytes of file `path`. NotFound if missing; FailedPrecondition for a
  // directory.
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;

  // Whether `path` is a directory (true) or a file (false). NotFound if it does not exist.
  virtual absl::StatusOr<bool> IsDirectory(const std::string& path) = 0;

  // What `path` is, without following a symbolic link at `path` itself (lstat). NotFound
  // if it does not exist. The default, for Envs that hold only files and directories,
  // asks IsDirectory.
  virtual absl::StatusOr<FileType> GetFileType(const std::string& path);

  // GetChildren with each entry's GetFileType, sorted by name. An entry gone between the
  // listing and its type is left out. The default asks GetChildren and GetFileType (so
  // a wrapper's overrides of those see every call); PosixEnv takes the types from the
  // listing itself (d_type), with no stat per entry.
  struct DirEntry {
    std::string name;
    FileType type;
  };
  virtual absl::StatusOr<std::vector<DirEntry>> GetChildrenWithTypes(const std::string& dir);

  // Creates directory `dir`. AlreadyExists if `dir` exists (as a file or a directory);
  // NotFound if its parent is missing. Durable only after SyncDir(parent).
  virtual absl::Status CreateDir(const std::string& dir) = 0;

  // Removes file `path`. NotFound if missing; FailedPrecondition for a directory. Open
  // handles keep reading the removed file's data. Durable only after SyncDir(parent).
  virtual absl::Status RemoveFile(const std::string& path) = 0;

  // Removes the empty directory `dir`. NotFound if missing; FailedPrecondition if it is
  // a file or not empty.
  virtual absl::Status RemoveDir(const std::string& dir) = 0;

  // Atomically renames file `from` to `to`, replacing `to` if it is a file. NotFound if
  // `from` or the parent of `to` is missing; FailedPrecondition if either is a directory.
  // Durable only after SyncDir of both parents.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;

  // Makes the creations, renames and removals of entries of directory `dir` durable
  // (fsync of the directory). NotFound if missing; FailedPrecondition for a file.
  virtual absl::Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive lock on `path`, creating the file if needed. FailedPrecondition
  // if another opener, in this process or another, holds it.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // Takes an exclusive lock on directory `dir` itself and then, unless `lock_file` is
  // empty, LockFile(JoinPath(dir, lock_file)); one FileLock holds both. The directory's
  // lock is taken first and is the one that excludes: no removal or rename of an entry of
  // `dir` (a stray `rm dir/LOCK`) can take it away, and nothing, not even the lock file,
  // is created before it is held. PosixEnv: flock(2) on open(dir, O_RDONLY | O_DIRECTORY),
  // a lock of that open file description, so a second LockDir in this process conflicts
  // too. NotFound if `dir` is missing; FailedPrecondition if it is not a directory, if
  // `lock_file` is a directory, or if another opener (of either lock) holds it.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockDir(const std::string& dir,
                                                            const std::string& lock_file) = 0;

  // Releases a lock taken with LockFile or LockDir.
  virtual absl::Status UnlockFile(std::unique_ptr<FileLock> lock) = 0;

  // Microseconds since some fixed point. PosixEnv reads the real clock; MemEnv and SimEnv
  // return a deterministic simulated time.
  virtual uint64_t NowMicros() = 0;

  // A timed wait on this Env's clock (Wal::WaitFor waits with it). The caller holds
  // `*lock`; it is released while blocked and held again on return. Returns when `*cv` is
  // notified, spuriously, or once NowMicros() has reached `deadline_micros` (at once if it
  // has already); UINT64_MAX means no deadline. Callers loop: they check their condition
  // and NowMicros() again after every return.
  // The default blocks in real time for the difference between the deadline and
  // NowMicros(): right for PosixEnv, whose clock is real; for an Env whose clock is a
  // counter (MemEnv) it waits that many real microseconds. SimEnv overrides it: its clock
  // is simulated, and a waiter wakes when AdvanceClock or a NowMicros call moves the clock
  // to its deadline (see sim_env.h). An implementation may lock `lock`'s mutex to wake a
  // waiter, so do not call the Env while holding that mutex (except through this call).
  virtual void WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                         uint64_t deadline_micros);

  // A thread started by StartThread. Join() waits until its function has returned (once;
  // later calls return at once); the destructor joins a thread not joined yet.
  class Thread {
   public:
    Thread() = default;
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;
    virtual ~Thread() = default;
    virtual void Join() = 0;
  };

  // Runs `fn` on a new thread, or returns nullptr when this Env runs no work concurrently;
  // ironwal then does the same work on the calling thread, in a fixed order. ironwal hands
  // it only work whose result does not depend on timing (recovery verifies a large active
  // segment's second half there while the calling thread verifies the first; both use
  // only the RandomAccessFile, whose reads are thread-safe). PosixEnv starts a std::thread
  // (nullptr when it cannot: at the process's thread limit, say).
  // The default returns nullptr, and so do MemEnv, SimEnv and EnvWrapper (unless a
  // wrapper overrides it): their traces, fault rules and counted calls then see every
  // call from one thread, in the same order in every run.
  virtual std::unique_ptr<Thread> StartThread(std::function<void()> fn);
};

// Helpers built on any Env.

// Creates `dir` and any missing ancestors, syncing each parent whose entries changed so
// that the whole chain is durable. OK if `dir` already exists as a directory.
absl::Status CreateDirRecursively(Env* env, const std::string& dir);

// Reads the whole file at `path`.
absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path);

// Writes `contents` to `path` durably and atomically: writes and syncs `path + ".tmp"`,
// renames it over `path` and syncs the parent directory. After a crash `path` holds either
// its old contents or `contents`.
absl::Status WriteFileAtomically(Env* env, const std::string& path, absl::string_view contents);

// WriteFileAtomically without the directory sync: the contents are durable, the rename only
// once the caller's next sync of the directory returns (until then a crash may leave `path`
// as it was, and `path + ".tmp"`).
absl::Status WriteFileAndRename(Env* env, const std::string& path, absl::string_view contents);

// Removes the file at `path`; OK when there is none.
absl::Status RemoveFileIfPresent(Env* env, const std::string& path);

// "/a/b/c" -> "/a/b"; "/a" -> "/"; "/" -> "/".
std::string Dirname(absl::string_view path);

// "/a/b/c" -> "c".
std::string Basename(absl::string_view path);

// JoinPath("/a", "b") -> "/a/b"; JoinPath("/", "b") -> "/b".
std::string JoinPath(absl::string_view dir, absl::string_view name);

}  // namespace ironwal

#endif  // IRONWAL_ENV_ENV_H_
