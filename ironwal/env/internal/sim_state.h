// File: ironwal/env/internal/sim_state.h
//
// SimState: everything behind a SimEnv (sim_env.h): the MemFs with durability tracking,
// the seeded generator, fault rules, power cut, locks and trace, and the implementation of
// every operation. SimEnv forwards to it; its open files hold it by shared_ptr.
//
// Every operation runs the same pipeline under the one mutex:
//   Begin   counts a mutating operation (its index is the power-cut index), fails a stale
//           (crashed) or closed handle with FailedPrecondition, fails every operation at
//           or past the power cut with Aborted, then asks the fault rules for a fault;
//   the operation itself, shaped by the fault;
//   Finish  appends the trace record and returns the status.
// Implementation files: sim_state.cc (pipeline, directory operations), sim_state_files.cc
// (file operations and handles), sim_crash.cc (crash, pending changes, clone).
#ifndef IRONWAL_ENV_INTERNAL_SIM_STATE_H_
#define IRONWAL_ENV_INTERNAL_SIM_STATE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/base/mutex.h"
#include "ironwal/env/env.h"
#include "ironwal/env/internal/file_buffer.h"
#include "ironwal/env/internal/mem_fs.h"
#include "ironwal/env/internal/sim_faults.h"
#include "ironwal/env/internal/sim_random.h"
#include "ironwal/env/sim_env.h"

namespace ironwal {
namespace internal {

// The word for `op` in error messages: PosixEnv's ("remove", "sync dir"), while
// SimOpName gives the trace's single-word names.
const char* MessageOp(SimOp op);

// An open file: its inode, the name it was opened with, and the crash epoch it belongs to.
// Its fields are guarded by the SimState's mutex.
struct SimHandle {
  std::shared_ptr<FileNode> file;
  std::string path;
  uint64_t epoch = 0;
  bool closed = false;
  uint64_t id = 0;  // TraceRecord::handle
};

class SimState : public std::enable_shared_from_this<SimState> {
 public:
  explicit SimState(const SimEnvOptions& options);
  SimState(const SimState&) = delete;
  SimState& operator=(const SimState&) = delete;

  // Env operations, as SimEnv's.
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                             bool truncate);
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> OpenRead(
      const std::string& path, const RandomAccessFileOptions& options);
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir);
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path);
  absl::StatusOr<bool> IsDirectory(const std::string& path);
  absl::Status CreateDir(const std::string& dir);
  absl::Status RemoveFile(const std::string& path);
  absl::Status RemoveDir(const std::string& dir);
  absl::Status Rename(const std::string& from, const std::string& to);
  absl::Status SyncDir(const std::string& dir);
  // LockFile (`dir` empty) and LockDir (MemLockTable::Take).
  absl::StatusOr<std::unique_ptr<FileLock>> Lock(const std::string& dir, const std::string& file);
  absl::Status Unlock(std::unique_ptr<FileLock> lock);
  // Called by a FileLock's destructor: frees the inodes `token` still holds. `id` and
  // `path` are the lock's, for the trace.
  void ReleaseLock(const std::vector<uint64_t>& inodes, uint64_t token, uint64_t id,
                   const std::string& path);
  uint64_t NowMicros();
  void AdvanceClock(uint64_t micros);
  // The clock, without moving it.
  uint64_t PeekMicros();

  // Operations of open files (sim_state_files.cc).
  absl::Status Append(SimHandle* handle, absl::string_view data);
  absl::Status WriteAt(SimHandle* handle, uint64_t offset, absl::string_view data);
  absl::Status Sync(SimHandle* handle);
  absl::Status Flush(const SimHandle& handle);
  absl::Status Truncate(SimHandle* handle, uint64_t size);
  absl::Status Allocate(SimHandle* handle, uint64_t offset, uint64_t length);
  absl::Status Close(SimHandle* handle);
  uint64_t WritableSize(const SimHandle& handle);
  // `arena` holds copies of mapped bytes whose bit a fault flipped.
  absl::StatusOr<absl::string_view> Read(const SimHandle& handle,
                                         const FileBuffer::Mapping& mapping, uint64_t offset,
                                         size_t n, char* scratch,
                                         std::vector<std::unique_ptr<char[]>>* arena);
  absl::StatusOr<uint64_t> ReadableSize(const SimHandle& handle);
  // Called by a handle's destructor: releases its open count if it still holds one.
  void Release(SimHandle* handle);

  // Crashes, pending changes, clone (sim_crash.cc).
  void Crash(const CrashOptions& options);
  void Crash(const CrashPlan& plan);
  std::vector<PendingChange> PendingChanges();
  absl::StatusOr<std::string> DurableContents(const std::string& path);
  // Makes `*copy` (freshly constructed with options()) a deep copy of this state: the
  // file system, the generator, the clock, the mutating-operation count and the options.
  void CopyTo(SimState* copy);
  SimEnvOptions options();

  // Power cut, faults, capacity, trace.
  void SetPowerCutAt(uint64_t op_index);
  void ClearPowerCut();
  void SetHook(SimHook hook);
  uint64_t mutating_ops();
  int AddFaultRule(const FaultRule& rule);
  void RemoveFaultRule(int id);
  void ClearFaultRules();
  uint64_t FaultFires(int id);
  void SetCapacity(uint64_t capacity_bytes);
  uint64_t UsedBytes();
  std::vector<TraceRecord> Trace();
  void ClearTrace();

  // For ReplayTrace (sim_replay.cc). Operations served so far (the next seq).
  uint64_t operations_served();
  // The trace records from the `index`-th on.
  std::vector<TraceRecord> TraceFrom(size_t index);
  // The next short-write length or bit-flip position draws (a bit flip draws the byte,
  // then the bit) take these values, in order, instead of drawing from the generator (a
  // value out of the draw's range is clipped to its largest).
  void ForceDraws(std::vector<uint64_t> values);
  // Crash(options) with the generator set to `rng_state` first.
  void CrashFromState(const CrashOptions& options, uint64_t rng_state);

 private:
  // What the trace records about one operation.
  struct OpRecord {
    OpRecord(SimOp op, std::string path, uint64_t offset = 0, uint64_t length = 0)
        : op(op), path(std::move(path)), offset(offset), length(length) {}
    SimOp op;
    std::string path;
    uint64_t offset = 0;
    uint64_t length = 0;
    std::string injected;
    // The replay fields (TraceRecord), filled only when detailed_ is set.
    uint64_t handle = 0;
    std::string arg;
    std::string data;
    std::string out;
  };
  // How an operation starts: a non-OK status fails it before it does anything; `fault` is
  // the fault the rules injected, if any.
  struct Start {
    absl::Status status;
    std::optional<SimFault> fault;
  };

  Start Begin(OpRecord* rec, const SimHandle* handle, const std::vector<absl::string_view>& paths)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Start Begin(OpRecord* rec, const SimHandle* handle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends the trace record of a finished operation.
  void Record(const OpRecord& rec, absl::StatusCode code) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends a kCrash or kRelease record (with detailed_ only): the seq of the next
  // operation, which it does not take.
  void RecordBetween(const OpRecord& rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A short-write length or bit-flip position in [0, n): the next forced value, if any,
  // else a draw from rng_.
  uint64_t Draw(uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Record(), then returns `status`.
  absl::Status Finish(const OpRecord& rec, absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The error of an injected kIoError or kNoSpace, noted in the record.
  absl::Status Injected(OpRecord* rec, SimFault fault) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How a write of `data` through `handle` (Append, WriteAt) starts: the record gets the
  // handle and, when detailed, the bytes; then Begin. A non-OK `status` ends it at once (a
  // stale handle, a power cut, an injected kIoError or kNoSpace). Otherwise it writes the
  // first `n` bytes: all of them, or under a kShortWrite fault (`short_write`, noted in the
  // record) a random proper prefix.
  struct WriteStart {
    absl::Status status;
    size_t n = 0;
    bool short_write = false;
  };
  WriteStart BeginWrite(OpRecord* rec, const SimHandle* handle, absl::string_view data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The directory operations that take one path and have no result but a status.
  absl::Status PathOp(SimOp op, const std::string& path,
                      absl::Status (MemFs::*run)(absl::string_view, const std::string&));
  std::unique_ptr<WritableFile> NewWritableHandle(std::shared_ptr<FileNode> file,
                                                  const std::string& path, uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<RandomAccessFile> NewReadableHandle(std::shared_ptr<FileNode> file,
                                                      const std::string& path, bool use_mmap,
                                                      uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The crash itself, after the record of it.
  void CrashLocked(const CrashOptions& options) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Installs a post-crash tree: new epoch, no locks, no power cut.
  void InstallCrashState(std::shared_ptr<DirNode> root) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  SimEnvOptions options_ ABSL_GUARDED_BY(mu_);
  // Whether records carry the replay fields (trace_for_replay and record_trace).
  const bool detailed_;
  MemFs fs_ ABSL_GUARDED_BY(mu_);
  SimRandom rng_ ABSL_GUARDED_BY(mu_);
  SimRandom clock_rng_ ABSL_GUARDED_BY(mu_);  // draws of max_micros_per_op only
  SimHook hook_ ABSL_GUARDED_BY(mu_);
  FaultTable faults_ ABSL_GUARDED_BY(mu_);
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t now_micros_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t mutating_ops_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<uint64_t> power_cut_at_ ABSL_GUARDED_BY(mu_);
  MemLockTable locks_ ABSL_GUARDED_BY(mu_);
  std::vector<TraceRecord> trace_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;  // handle ids of files and locks
  std::deque<uint64_t> forced_draws_ ABSL_GUARDED_BY(mu_);
};

// The state behind a SimEnv (sim_env.cc), for ReplayTrace.
struct SimEnvAccess {
  static SimState* State(SimEnv* env);
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_SIM_STATE_H_
