// File: ironwal/env/env_wrapper.h
//
// EnvWrapper: an Env that forwards every call to a target Env (as LevelDB's EnvWrapper).
// Subclass it and override only the calls to watch or change: counting I/O, injecting
// faults, delaying a sync, logging. What is not overridden behaves exactly as the target.
// Two calls are not forwarded. GetChildrenWithTypes: Env's default answers it through the
// wrapper's GetChildren and GetFileType, so that overrides of those see every listing.
// StartThread: Env's default declines it (nullptr), so ironwal does all its work on the
// calling threads and a wrapper that counts or fails calls sees them in the same order in
// every run; override it to forward to target()->StartThread when the concurrency is
// wanted (recovery's split scan, env.h).
// WritableFileWrapper and RandomAccessFileWrapper do the same for files, for wrappers that
// need to see the calls on the files the target opens:
//
//   // A WritableFileWrapper whose Sync() counts, then syncs.
//   class CountingFile : public WritableFileWrapper {
//    public:
//     CountingFile(std::unique_ptr<WritableFile> file, std::atomic<int>* syncs)
//         : WritableFileWrapper(std::move(file)), syncs_(syncs) {}
//     absl::Status Sync() override {
//       ++*syncs_;
//       return WritableFileWrapper::Sync();
//     }
//
//    private:
//     std::atomic<int>* const syncs_;
//   };
//
//   // Fails the directory syncs of one stream, and counts the syncs of the files it
//   // creates (a Wal creates its segments with NewWritableFile).
//   class FlakyEnv : public EnvWrapper {
//    public:
//     using EnvWrapper::EnvWrapper;
//     absl::Status SyncDir(const std::string& dir) override {
//       if (dir == "/data/orders") return absl::InternalError("sync dir " + dir + ": EIO");
//       return EnvWrapper::SyncDir(dir);
//     }
//     absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
//         const std::string& path) override {
//       IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
//                                EnvWrapper::NewWritableFile(path));
//       return std::unique_ptr<WritableFile>(new CountingFile(std::move(file), &syncs_));
//     }
//     int syncs() const { return syncs_.load(); }
//
//    private:
//     std::atomic<int> syncs_{0};
//   };
//
//   FlakyEnv env(Env::Default());  // or over a MemEnv, a SimEnv, ...
//   options.env = &env;             // with options.root = "/data": creating "orders" fails
//
// (Files reopened with NewAppendableFile, a segment reopened after a restart, are not
// counted: override that call too to count them.)
//
// Contract: the wrappers add no behaviour, state or locking of their own; thread-safety,
// durability and error codes are the target's. The target Env must outlive the EnvWrapper
// (which does not own it); a file wrapper owns its target file.
#ifndef IRONWAL_ENV_ENV_WRAPPER_H_
#define IRONWAL_ENV_ENV_WRAPPER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"

namespace ironwal {

class EnvWrapper : public Env {
 public:
  // `target` must outlive this object.
  explicit EnvWrapper(Env* target) : target_(target) {}

  // The Env every call is forwarded to.
  Env* target() const { return target_; }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override;
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  absl::StatusOr<bool> IsDirectory(const std::string& path) override;
  absl::StatusOr<FileType> GetFileType(const std::string& path) override;
  absl::Status CreateDir(const std::string& dir) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveDir(const std::string& dir) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockDir(const std::string& dir,
                                                    const std::string& lock_file) override;
  absl::Status UnlockFile(std::unique_ptr<FileLock> lock) override;
  uint64_t NowMicros() override;
  void WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                 uint64_t deadline_micros) override;

 private:
  Env* const target_;
};

// A WritableFile that forwards every call to the file it owns, except WriteAtDurable: that
// one is WritableFile's default (this wrapper's WriteAt, then its Sync), so a wrapper that
// watches or fails writes and syncs sees those of durable writes too (without the
// target's single-call pwritev2).
class WritableFileWrapper : public WritableFile {
 public:
  explicit WritableFileWrapper(std::unique_ptr<WritableFile> target) : target_(std::move(target)) {}

  WritableFile* target() const { return target_.get(); }

  absl::Status Append(absl::string_view data) override;
  absl::Status WriteAt(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override;
  absl::Status Sync() override;
  absl::Status Truncate(uint64_t size) override;
  absl::Status Allocate(uint64_t offset, uint64_t length) override;
  uint64_t Size() const override;
  absl::Status Close() override;
  const std::string& path() const override;

 private:
  const std::unique_ptr<WritableFile> target_;
};

// A RandomAccessFile that forwards every call to the file it owns.
class RandomAccessFileWrapper : public RandomAccessFile {
 public:
  explicit RandomAccessFileWrapper(std::unique_ptr<RandomAccessFile> target)
      : target_(std::move(target)) {}

  RandomAccessFile* target() const { return target_.get(); }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n, char* scratch) const override;
  absl::StatusOr<uint64_t> Size() const override;
  uint64_t MappedSize() const override;
  const std::string& path() const override;

 private:
  const std::unique_ptr<RandomAccessFile> target_;
};

}  // namespace ironwal

#endif  // IRONWAL_ENV_ENV_WRAPPER_H_
