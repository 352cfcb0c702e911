// File: ironwal/env/mem_env.h
//
// MemEnv: a fast, thread-safe, in-memory Env for tests (ironwal's and yours). Files and
// directories behave as with PosixEnv (the same error codes for the same conditions: the
// conformance suite in tests/env checks it), but nothing is ever lost: Sync and SyncDir
// are free and there is no crash model. For crashes and faults use SimEnv.
//
// Memory-mapped reads (RandomAccessFileOptions::use_mmap) return views into the file's
// buffer that stay valid while the RandomAccessFile lives, like a real mapping: bytes in
// the mapped range written later are seen, and growth past it is read with a copy.
//
// NowMicros() is a deterministic counter, not the wall clock: 1, 2, 3, ... one per call.
//
// Appends are amortized O(1) (a file's buffer grows geometrically); reads inside a mapping
// take no lock. Errors have PosixEnv's codes and message shape ("remove /w/x: No such file
// or directory (ENOENT)").
//
// Thread-safety: as Env (one internal std::mutex).
//
//   MemEnv env;
//   WalOptions options;
//   options.env = &env;
//   options.root = "/wal";
#ifndef IRONWAL_ENV_MEM_ENV_H_
#define IRONWAL_ENV_MEM_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "ironwal/env/env.h"

namespace ironwal {

class MemEnv : public Env {
 public:
  MemEnv();
  ~MemEnv() override;

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override;
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  absl::StatusOr<bool> IsDirectory(const std::string& path) override;
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

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ironwal

#endif  // IRONWAL_ENV_MEM_ENV_H_
