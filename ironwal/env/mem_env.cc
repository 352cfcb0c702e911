#include "ironwal/env/mem_env.h"

#include <atomic>
#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

#include "ironwal/base/mutex.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/env/internal/file_buffer.h"
#include "ironwal/env/internal/mem_fs.h"
#include "ironwal/env/io_error.h"

namespace ironwal {

using internal::IoError;
using internal::Mutex;
using internal::MutexLock;

namespace {

namespace fs_op = internal::fs_op;
using internal::FileNode;
using internal::MemFs;

// Everything a MemEnv and its open files share. Files hold it by shared_ptr, so a file
// destroyed after its Env (a caller's bug) does not touch freed memory.
struct MemState {
  Mutex mu;
  MemFs fs ABSL_GUARDED_BY(mu){MemFs::Options()};
  internal::MemLockTable locks ABSL_GUARDED_BY(mu);
  std::atomic<uint64_t> now_micros{0};
};

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<MemState> state, std::shared_ptr<FileNode> file, std::string path)
      : state_(std::move(state)), file_(std::move(file)), path_(std::move(path)) {}

  ~MemWritableFile() override {
    MutexLock lock(&state_->mu);
    if (!closed_) state_->fs.RemoveOpen(file_.get());
  }

  absl::Status Append(absl::string_view data) override {
    MutexLock lock(&state_->mu);
    if (closed_) return IoError(fs_op::kAppend, path_, file_->data.size(), EBADF);
    state_->fs.Append(file_.get(), data);
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    MutexLock lock(&state_->mu);
    if (closed_) return IoError(fs_op::kWrite, path_, offset, EBADF);
    IRONWAL_RETURN_IF_ERROR(internal::CheckWriteAt(path_, offset, data.size(), file_->data.size()));
    state_->fs.WriteAt(file_.get(), offset, data);
    return absl::OkStatus();
  }

  absl::Status Flush() override { return Check(fs_op::kFlush); }
  absl::Status Sync() override { return Check(fs_op::kSync); }

  absl::Status Truncate(uint64_t size) override {
    MutexLock lock(&state_->mu);
    if (closed_) return IoError(fs_op::kTruncate, path_, size, EBADF);
    state_->fs.Resize(file_.get(), size);
    return absl::OkStatus();
  }

  absl::Status Allocate(uint64_t offset, uint64_t length) override {
    MutexLock lock(&state_->mu);
    if (closed_) return IoError(fs_op::kAllocate, path_, offset, EBADF);
    if (length == 0) return absl::OkStatus();  // fallocate(2) would say EINVAL; PosixEnv too.
    if (length > UINT64_MAX - offset) return IoError(fs_op::kAllocate, path_, offset, EFBIG);
    state_->fs.Allocate(file_.get(), offset + length);
    return absl::OkStatus();
  }

  uint64_t Size() const override {
    MutexLock lock(&state_->mu);
    return file_->data.size();
  }

  absl::Status Close() override {
    MutexLock lock(&state_->mu);
    if (!closed_) state_->fs.RemoveOpen(file_.get());
    closed_ = true;
    return absl::OkStatus();
  }

  const std::string& path() const override { return path_; }

 private:
  absl::Status Check(absl::string_view op) {
    if (closed_) return IoError(op, path_, EBADF);
    return absl::OkStatus();
  }

  const std::shared_ptr<MemState> state_;
  const std::shared_ptr<FileNode> file_;
  const std::string path_;
  bool closed_ = false;  // Used by one thread at a time (WritableFile's contract).
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::shared_ptr<MemState> state, std::shared_ptr<FileNode> file,
                      std::string path, internal::FileBuffer::Mapping mapping)
      : state_(std::move(state)),
        file_(std::move(file)),
        path_(std::move(path)),
        mapping_(std::move(mapping)) {}

  ~MemRandomAccessFile() override {
    MutexLock lock(&state_->mu);
    state_->fs.RemoveOpen(file_.get());
  }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
    // The mapping's bytes never move, so they are read without the lock.
    if (offset <= mapping_.size() && n <= mapping_.size() - offset) {
      return mapping_.View(offset, n);
    }
    if (scratch == nullptr) return IoError(fs_op::kRead, path_, offset, EINVAL);
    MutexLock lock(&state_->mu);
    return absl::string_view(scratch, file_->data.Read(offset, n, scratch));
  }

  absl::StatusOr<uint64_t> Size() const override {
    MutexLock lock(&state_->mu);
    return file_->data.size();
  }

  uint64_t MappedSize() const override { return mapping_.size(); }
  const std::string& path() const override { return path_; }

 private:
  const std::shared_ptr<MemState> state_;
  const std::shared_ptr<FileNode> file_;
  const std::string path_;
  const internal::FileBuffer::Mapping mapping_;
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::shared_ptr<MemState> state, std::vector<uint64_t> inodes, uint64_t token,
              std::string path)
      : state_(std::move(state)),
        inodes_(std::move(inodes)),
        token_(token),
        path_(std::move(path)) {}

  ~MemFileLock() override {
    MutexLock lock(&state_->mu);
    state_->locks.Release(inodes_, token_);
  }

  const std::string& path() const override { return path_; }
  const MemState* owner() const { return state_.get(); }

 private:
  const std::shared_ptr<MemState> state_;
  const std::vector<uint64_t> inodes_;
  const uint64_t token_;
  const std::string path_;
};

}  // namespace

class MemEnv::Impl : public MemState {};

MemEnv::MemEnv() : impl_(std::make_shared<Impl>()) {}
MemEnv::~MemEnv() = default;

absl::StatusOr<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  MutexLock lock(&impl_->mu);
  absl::StatusOr<std::shared_ptr<FileNode>> file =
      impl_->fs.OpenFile(fs_op::kOpen, path, MemFs::OpenMode::kTruncate);
  if (!file.ok()) return file.status();
  impl_->fs.AddOpen(file->get());
  return std::make_unique<MemWritableFile>(impl_, *std::move(file), path);
}

absl::StatusOr<std::unique_ptr<WritableFile>> MemEnv::NewAppendableFile(const std::string& path) {
  MutexLock lock(&impl_->mu);
  absl::StatusOr<std::shared_ptr<FileNode>> file =
      impl_->fs.OpenFile(fs_op::kOpen, path, MemFs::OpenMode::kAppend);
  if (!file.ok()) return file.status();
  impl_->fs.AddOpen(file->get());
  return std::make_unique<MemWritableFile>(impl_, *std::move(file), path);
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> MemEnv::NewRandomAccessFile(
    const std::string& path, const RandomAccessFileOptions& options) {
  MutexLock lock(&impl_->mu);
  absl::StatusOr<std::shared_ptr<FileNode>> file =
      impl_->fs.OpenFile(fs_op::kOpen, path, MemFs::OpenMode::kExisting);
  if (!file.ok()) return file.status();
  impl_->fs.AddOpen(file->get());
  internal::FileBuffer::Mapping mapping;
  if (options.use_mmap) mapping = (*file)->data.Map();
  return std::make_unique<MemRandomAccessFile>(impl_, *std::move(file), path, std::move(mapping));
}

absl::StatusOr<std::vector<std::string>> MemEnv::GetChildren(const std::string& dir) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.GetChildren(fs_op::kList, dir);
}

absl::StatusOr<uint64_t> MemEnv::GetFileSize(const std::string& path) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.GetFileSize(fs_op::kStat, path);
}

absl::StatusOr<bool> MemEnv::IsDirectory(const std::string& path) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.IsDirectory(fs_op::kStat, path);
}

absl::Status MemEnv::CreateDir(const std::string& dir) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.CreateDir(fs_op::kMkdir, dir);
}

absl::Status MemEnv::RemoveFile(const std::string& path) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.RemoveFile(fs_op::kRemove, path);
}

absl::Status MemEnv::RemoveDir(const std::string& dir) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.RemoveDir(fs_op::kRmdir, dir);
}

absl::Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.Rename(fs_op::kRename, from, to);
}

absl::Status MemEnv::SyncDir(const std::string& dir) {
  MutexLock lock(&impl_->mu);
  return impl_->fs.SyncDir(fs_op::kSyncDir, dir);
}

absl::StatusOr<std::unique_ptr<FileLock>> MemEnv::LockFile(const std::string& path) {
  MutexLock lock(&impl_->mu);
  std::vector<uint64_t> inodes;
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t token, impl_->locks.Take(&impl_->fs, "", path, &inodes));
  return std::make_unique<MemFileLock>(impl_, std::move(inodes), token, path);
}

absl::StatusOr<std::unique_ptr<FileLock>> MemEnv::LockDir(const std::string& dir,
                                                          const std::string& lock_file) {
  MutexLock lock(&impl_->mu);
  std::vector<uint64_t> inodes;
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t token,
                           impl_->locks.Take(&impl_->fs, dir, lock_file, &inodes));
  return std::make_unique<MemFileLock>(impl_, std::move(inodes), token, dir);
}

absl::Status MemEnv::UnlockFile(std::unique_ptr<FileLock> lock) {
  const auto* mine = dynamic_cast<const MemFileLock*>(lock.get());
  if (mine == nullptr || mine->owner() != impl_.get()) {
    return absl::InvalidArgumentError("unlock: not a lock taken on this MemEnv");
  }
  lock.reset();  // The destructor releases it.
  return absl::OkStatus();
}

uint64_t MemEnv::NowMicros() { return impl_->now_micros.fetch_add(1) + 1; }

}  // namespace ironwal
