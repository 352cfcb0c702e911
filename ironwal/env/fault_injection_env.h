// File: ironwal/env/fault_injection_env.h
//
// FaultInjectionEnv: an EnvWrapper over any Env (PosixEnv, MemEnv, ...) that remembers what
// was not made durable through it, can drop that to simulate a power loss on the real file
// system, and injects faults by SimEnv's FaultRule and SimHook (ironwal/env/sim_env.h), so
// crash tests can run on a real disk (as LevelDB's FaultInjectionTestEnv and RocksDB's
// FaultInjectionTestFS).
//
// What is tracked (only what goes through this wrapper; everything that existed before, or
// was changed behind its back, counts as durable):
//   - per file opened for writing, its synced length: its size when opened (0 for
//     NewWritableFile, which truncates), then its size at each successful
//     WritableFile::Sync. After a failed Sync (injected or real) the synced length is
//     frozen for that file: later Syncs succeed without advancing it (the Linux behaviour:
//     the dirty pages are gone and the next fsync reports success).
//   - per directory, the creations (of a missing file by NewWritableFile,
//     NewAppendableFile, LockFile or LockDir's lock file; CreateDir) and renames since the
//     directory's last successful SyncDir. A rename is durable once both parents were
//     synced after it.
//
// SimulatePowerLoss() (alias DropUnsyncedData()) makes the target look as after a power
// loss that kept nothing unsynced:
//   1. every open handle made by this wrapper is closed and invalidated: its later calls
//      fail with FailedPrecondition (Close too; a second Close is OK);
//   2. unsynced renames are undone, newest first (to -> from); if the rename replaced a
//      file, the replaced file's contents (read when it was renamed over, cut to its
//      synced length when tracked) are written back under `to`;
//   3. unsynced creations are removed (a directory with everything below it);
//   4. every surviving tracked file longer than its synced length is truncated to it;
//   5. the power cut (below) is cleared; every surviving file now counts as synced.
// Not modelled (kept as if durable): bytes overwritten in place (WriteAt, or a Truncate
// below the synced length followed by appends) -- only lengths are restored, never old
// bytes; the truncation of an existing file by NewWritableFile; RemoveFile and RemoveDir (a removal
// is never undone); partial survival of unsynced data (no torn or reordered blocks: use SimEnv for
// those); the order of metadata operations across directories. Locks are left alone: release them
// (destroy the owner) before SimulatePowerLoss().
//
// Faults: the same rules as SimEnv (FaultRule: op kind x path glob x nth matching call x
// one_in drawn from `seed` x max_fires, counted and picked the same way), and an optional
// SimHook called before each operation (with this wrapper's mutex held: it must not call
// this Env). kIoError fails with EIO without effect (a Sync fault freezes the synced
// length, above); kNoSpace fails with ENOSPC without effect; kShortWrite writes a seeded
// proper prefix, then EIO; kBitFlip flips one seeded bit of what a Read returns (copied
// into `scratch`); kPowerCut fails the operation with Aborted("power cut: ...") and every
// later mutating operation too, until SimulatePowerLoss(). Operations map to SimOp as in
// SimEnv (WriteAt is kWriteAt; IsDirectory, GetFileType and RandomAccessFile::Size are
// kGetFileSize; LockDir is kLock). Flush, Size and UnlockFile are not counted.
//
// Determinism: the same seed and the same order of calls give the same faults.
// Thread-safety: all methods are thread-safe; one mutex is held across every forwarded
// call, so I/O through this wrapper is serialized. Files must be destroyed before the Env.
#ifndef IRONWAL_ENV_FAULT_INJECTION_ENV_H_
#define IRONWAL_ENV_FAULT_INJECTION_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/env/env.h"
#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/sim_env.h"

namespace ironwal {

class FaultInjectionEnv : public EnvWrapper {
 public:
  // `target` must outlive this object. `seed` drives one_in rules, short writes and bit
  // flips.
  explicit FaultInjectionEnv(Env* target, uint64_t seed = 0);
  ~FaultInjectionEnv() override;

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

  // See the header comment. Returns the first error of the target while restoring (the
  // rest is still attempted).
  absl::Status SimulatePowerLoss();
  absl::Status DropUnsyncedData() { return SimulatePowerLoss(); }

  // Fault rules, as SimEnv's: AddFaultRule returns an id (0, 1, 2, ...) and aborts on a
  // rule SimEnv would refuse.
  int AddFaultRule(const FaultRule& rule);
  void RemoveFaultRule(int id);
  void ClearFaultRules();
  uint64_t FaultFires(int id) const;
  // Installs the hook (an empty function removes it). SimOpInfo::seq counts the
  // operations this wrapper has served.
  void SetHook(SimHook hook);
  // Whether a kPowerCut has fired and SimulatePowerLoss() has not been called since.
  bool power_cut() const;

  // Introspection for tests: the synced length tracked for `path`, NotFound when the file
  // is not tracked (never opened for writing here, or already durable).
  absl::StatusOr<uint64_t> SyncedSize(const std::string& path) const;

  class State;  // internal

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ironwal

#endif  // IRONWAL_ENV_FAULT_INJECTION_ENV_H_
