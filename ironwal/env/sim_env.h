// File: ironwal/env/sim_env.h
//
// SimEnv: an in-memory Env that simulates what a power loss does to a file system, and
// injects I/O faults, deterministically from one 64-bit seed. ironwal's crash tests run on
// it, and so can the tests of any database that does its I/O through ironwal::Env.
//
// The model. Every file has two images: the *volatile* one (what reads return: the page
// cache) and the *durable* one (what is on the platter). Append, WriteAt and Truncate change
// the volatile image and mark the touched blocks of `block_size` bytes dirty, and mark the
// length dirty when it differs from the durable length; Allocate changes no bytes and
// dirties nothing (it only reserves space, see Capacity). WritableFile::Sync copies the
// dirty blocks (whole blocks of the volatile image) and a dirty length to the durable
// image. Likewise every directory has volatile entries (what GetChildren and opens see)
// and durable entries; SyncDir makes the directory's current entries durable. Files are
// inodes: a name is an entry pointing at one, so a renamed or removed file keeps its
// data, and an unsynced rename reverts to the old name.
//
// Crash() replaces the volatile state by a post-crash state and invalidates every open
// handle (their operations then fail with FailedPrecondition); locks are released. The
// durable state always survives; of the unsynced data, the CrashMode decides:
//   kDropUnsynced      nothing unsynced survives.
//   kKeepPrefix        per file, the dirty blocks in file order up to a random cut survive,
//                      the cut byte-granular (a random prefix of what was appended).
//   kKeepRandomBlocks  per file, each dirty block survives independently (probability 1/2);
//                      lost blocks read as their durable bytes, or zeros past the durable
//                      end (holes, as with out-of-order write-back).
//   kTearBlock         as kKeepPrefix, but the block at the cut is torn: a random prefix of
//                      its sectors (512 bytes) holds new bytes, the rest old bytes or zeros.
// Directory changes (creates, renames, removes) that were not made durable by SyncDir
// revert, unless CrashOptions::keep_unsynced_dir_ops is set, in which case each directory
// keeps a random prefix of its unsynced changes in the order they were made (as a
// journaling file system commits metadata in order).
//
// The crash modes exactly. A file's post-crash image starts as its durable image; kept
// blocks (clipped to the volatile length) are copied over it; bytes not copied keep their
// durable value, or read as zeros past the durable end. Its length is the volatile length
// when the length change is kept, and otherwise the durable length extended to cover every
// kept block. Per file with unsynced changes, in order of creation (inode order):
//   kKeepPrefix        let T be the dirty blocks' volatile bytes in file order (a block
//                      partly synced before counts whole). The cut c is uniform in [0, T],
//                      or [0, T + 1] when the length is dirty; c = T + 1 keeps everything
//                      including the length (which matters for a shrunk file). Otherwise the
//                      first c dirty bytes survive and the length ends at the cut (or stays
//                      the durable length if longer). For a file only appended to, the
//                      result is volatile[0, L) for an L between the durable and the
//                      volatile length.
//   kKeepRandomBlocks  one coin per dirty block in file order, then one for a dirty length.
//   kTearBlock         the torn block is uniform among the dirty blocks; the dirty blocks
//                      before it survive, those after it do not; its first s sectors hold
//                      new bytes, s uniform in [0, its sector count - 1] (so at least its
//                      last sector is old), and the length covers the whole torn block.
//                      Without dirty blocks, a coin for a dirty length.
// The durable image after a crash is the post-crash image: nothing is dirty any more.
//
// Directory changes. Creating a file (NewWritableFile, NewAppendableFile or LockFile of a
// missing path), CreateDir, RemoveFile, RemoveDir and RenameFile each add a change to the
// directory whose entries they alter. A rename across directories is a change in each:
// keeping only the target side leaves the file under both names (one inode, as a hard
// link), keeping only the source side loses it, which is why such a rename needs SyncDir of
// both parents. A directory whose own creation reverts takes everything below it along.
// With keep_unsynced_dir_ops the kept prefix of each directory is uniform in [0, n]; these
// draws come first, in inode order, before the files' draws.
//
// After a crash: operations on the old handles return FailedPrecondition ("file handle
// invalidated by SimEnv::Crash"), Close included (a second Close is then OK); views
// returned by their mmap reads stay valid until the file object is destroyed; destroying
// an old FileLock does not release a lock taken after the crash. The power cut is cleared
// (the power is back). The trace, the fault rules, mutating_ops() and inode numbers carry
// on. Crash itself is traced only with trace_for_replay (a kCrash record).
//
// For exhaustive crash testing, PendingChanges() lists the unsynced blocks and directory
// changes, Crash(const CrashPlan&) applies an explicit choice of them, and Clone() copies
// the whole state so each choice can be explored from the same starting point.
// SetPowerCutAt(n) makes the n-th mutating operation and every later one fail without
// effect, to stop a workload at an exact operation boundary. A rule with the fault
// kPowerCut (say, "the 2nd sync of any *.wal file") or the hook (below) cuts the power at
// the operation it picks, by what the operation is rather than by its index.
//
// The hook, if set, is called before every traced operation that a stale handle or the
// power cut does not fail first, with what the operation is (SimOpInfo), and may let it
// proceed (nullopt), fail it with a fault, or cut the power at
// it (kPowerCut). It runs after the operation counted against the rules; its answer wins
// over theirs. It is called with SimEnv's internal mutex held: it must not call this
// SimEnv (record what you need and act after the operation returns).
//
// Faults are injected by rule (operation kind x path pattern x n-th matching call, or
// with probability 1/one_in drawn from the seed) and by capacity (ENOSPC once the total
// size of all files would exceed `capacity_bytes`). A failed Sync follows Linux: the
// dirty data is dropped from the durable path and marked clean, so the next Sync reports
// success although the data never became durable (set `fsync_failure_keeps_dirty` to
// model a kernel that keeps it dirty instead). Reads still return the dropped bytes until a
// crash; the dirty length is marked clean too, and a block written again later is synced
// whole, old bytes included (as a page is).
//
// Rules in detail. Each operation first counts against every active rule whose op matches
// and whose pattern matches its path (either path of a rename); then the first such rule,
// in the order added, that may fire (its nth call, or any call when nth is 0; fewer than
// max_fires fires so far; and, when one_in > 1, a draw of 1/one_in from the seed, made only
// for a rule that could otherwise fire) injects its fault. An injected fault, a power cut
// or a stale handle is decided before the operation looks at its arguments, so a fault on
// RemoveFile of a missing path is EIO, not NotFound. AddFaultRule aborts (IRONWAL_CHECK)
// on one_in == 0 or a fault the op cannot have (see SimFault). kIoError on Close still
// closes the handle.
//
// Capacity. Every file with a name or an open handle counts max(size, allocation), so a
// removed file's space is freed when its last handle goes. An Append writes what fits,
// then fails with ENOSPC (ResourceExhausted); appends inside the file's own allocation
// always fit. Allocate reserves what fits, then fails with ENOSPC. Truncate never fails
// for space (a sparse extension) but counts. Lowering the capacity below UsedBytes() keeps
// what is there and refuses growth. A crash keeps each surviving file's allocation.
//
// Every operation served is appended to a trace (operation, path, offset, length,
// result). The same seed and the same sequence of calls give the same trace and the same
// post-crash bytes; different seeds give different random choices.
// Traced: every Env method but NowMicros and UnlockFile (IsDirectory as kGetFileSize), and
// every file method returning a Status but Flush (RandomAccessFile::Size as kGetFileSize,
// WriteAt as kWriteAt). Not traced: Flush, WritableFile::Size, MappedSize, and SimEnv's
// own controls (Clone, rules, power cut, clock, capacity, ...); Crash and the release of
// an open file or a lock (its destruction, UnlockFile) only with trace_for_replay, as
// records between operations that take no seq. seq counts every traced operation, also
// while record_trace is false and across ClearTrace(). Trace() grows with every
// operation: use ClearTrace() or record_trace = false in long runs.
//
// Replay. With trace_for_replay the trace also carries what it takes to run it again
// (TraceRecord's replay fields), and ReplayTrace (sim_trace.h) re-executes it against a
// fresh SimEnv and checks that every result is the same: the way to reproduce a failing
// seed's I/O exactly, or to check a saved trace still replays after a change.
//
// Errors have PosixEnv's codes and message shape ("remove /w/x: No such file or directory
// (ENOENT)"); injected ones say EIO or ENOSPC; a power cut is Aborted("power cut: ...").
// The clock is simulated: NowMicros() starts at 0 and moves only by micros_per_call on
// every call to it, by a draw in [0, max_micros_per_op] on every traced operation (from a
// generator of its own, so turning it on does not change which crash states a seed
// picks), and by AdvanceClock(). With both options 0 it stands still until the test
// advances it.
//
// Timed waits (Env::WaitUntil, which Wal::WaitFor uses) run on the simulated clock too: a
// waiter blocks until it is notified or until the clock reaches its deadline, so a test
// makes a deadline pass by AdvanceClock, deterministically and without real time.
//
// Thread-safety: all methods are thread-safe (one internal mutex). Determinism holds for a
// deterministic order of calls, i.e. single-threaded use or externally ordered threads.
//
//   SimEnvOptions options;
//   options.seed = seed;
//   SimEnv env(options);
//   ... run the workload on &env ...
//   env.SetPowerCutAt(env.mutating_ops());  // the power fails: nothing more is written
//   ... destroy the old objects (their last writes fail) ...
//   CrashOptions crash;
//   crash.mode = CrashMode::kKeepRandomBlocks;
//   env.Crash(crash);
//   ... reopen on &env, check what survived ...
//
// Destroy the objects of the crashed "process" before Crash(), with the power cut, not
// after it: Crash() invalidates open handles, but an object destroyed after it may open
// new ones and write what it still holds into the post-crash files (a Wal's kAsync
// writers keep buffered frames without a descriptor and write them as the Wal closes),
// which no real crash does.
#ifndef IRONWAL_ENV_SIM_ENV_H_
#define IRONWAL_ENV_SIM_ENV_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"

namespace ironwal {

struct SimEnvOptions {
  // Seeds every random choice: crash cuts, kept blocks, one_in faults, short-write lengths,
  // flipped bits. Default: 0.
  uint64_t seed = 0;
  // Granularity of crash persistence, in bytes; a power of two >= 512 (the constructor
  // aborts otherwise). Default: 4096.
  uint32_t block_size = 4096;
  // Total bytes all files may hold (the larger of each file's size and its allocation).
  // An Append or Allocate that would exceed it fails with ENOSPC after writing what fits.
  // Default: unlimited.
  uint64_t capacity_bytes = std::numeric_limits<uint64_t>::max();
  // Simulated microseconds NowMicros() advances per call. Default: 1.
  uint64_t micros_per_call = 1;
  // Each traced operation advances the clock by a seeded draw in [0, max_micros_per_op],
  // as if the I/O took that long. Default: 0 (operations take no time).
  uint64_t max_micros_per_op = 0;
  // See the header comment. Default: false (Linux behaviour).
  bool fsync_failure_keeps_dirty = false;
  // Record a trace of every operation. Default: true.
  bool record_trace = true;
  // Record in the trace what ReplayTrace (sim_trace.h) needs to re-execute the run: the
  // bytes every append and write was given and every read returned, results (sizes,
  // listings), handles, open modes, crashes and the release of handles and locks (see
  // TraceRecord). Costs a copy of every byte written and read. Default: false (none of
  // it is recorded or copied).
  bool trace_for_replay = false;
};

enum class CrashMode {
  kDropUnsynced,
  kKeepPrefix,
  kKeepRandomBlocks,
  kTearBlock,
};

struct CrashOptions {
  CrashMode mode = CrashMode::kDropUnsynced;
  // Keep a random prefix of each directory's unsynced changes instead of reverting all.
  // Default: false.
  bool keep_unsynced_dir_ops = false;
};

// Kinds of operations, for fault rules and the trace.
enum class SimOp {
  kOpenWritable,  // NewWritableFile / NewAppendableFile
  kOpenRead,      // NewRandomAccessFile
  kAppend,        // WritableFile::Append
  kWriteAt,       // WritableFile::WriteAt (a write inside the file, at its offset)
  kSync,          // WritableFile::Sync
  kTruncate,      // WritableFile::Truncate
  kAllocate,
  kClose,
  kRead,  // RandomAccessFile::Read
  kGetChildren,
  kGetFileSize,  // GetFileSize, IsDirectory, RandomAccessFile::Size (a stat)
  kCreateDir,
  kRemoveFile,
  kRemoveDir,
  kRename,
  kSyncDir,
  kLock,  // LockFile / LockDir (a mutating operation: it may create the file)
  // Not operations but trace records of what happens between them, recorded only with
  // SimEnvOptions::trace_for_replay: no rule, hook or power cut sees them, and they do not
  // count in seq or mutating_ops().
  kCrash,    // SimEnv::Crash
  kRelease,  // the destruction of an open file handle, an UnlockFile or a lock's destruction
};

// The name of a SimOp ("append", "sync", ...), as used in trace lines.
const char* SimOpName(SimOp op);

enum class SimFault {
  kIoError,     // The operation fails with EIO and has no effect. For kSync, the Linux
                // fsync-failure behaviour described above.
  kShortWrite,  // kAppend/kWriteAt: a random proper prefix of the data is written, then EIO.
  kNoSpace,     // kAppend/kWriteAt/kAllocate/kOpenWritable/kCreateDir/kRename: ENOSPC, no
                // effect.
  kBitFlip,     // kRead: succeeds, with one random bit of the returned bytes flipped (the
                // stored data is unchanged).
  kPowerCut,    // Any mutating operation (see mutating_ops()): the power is cut at it, as
                // SetPowerCutAt(its index): it and every later mutating operation fail
                // with Aborted("power cut") and change nothing, until Crash().
};

struct FaultRule {
  SimOp op = SimOp::kAppend;
  SimFault fault = SimFault::kIoError;
  // Glob over the full path: '*' matches any run of characters (including '/'), '?' one
  // character. Default: every path.
  std::string path_pattern = "*";
  // Fire only on the nth call (1-based) that matches op and path_pattern; 0 = any call.
  uint64_t nth = 0;
  // Fire with probability 1/one_in (drawn from the seed); 1 = always. Must be >= 1.
  uint64_t one_in = 1;
  // Stop firing after this many fires. Default: unlimited.
  uint64_t max_fires = std::numeric_limits<uint64_t>::max();
};

// What an operation is, as the hook sees it before the operation runs.
struct SimOpInfo {
  uint64_t seq = 0;  // the seq its trace record will have
  // Its index among mutating operations (the power-cut index), or kNotMutating.
  uint64_t mutating_index = 0;
  static constexpr uint64_t kNotMutating = std::numeric_limits<uint64_t>::max();
  SimOp op = SimOp::kAppend;
  std::string path;     // for kRename: "from -> to"
  uint64_t offset = 0;  // kAppend, kWriteAt: where the data goes; kRead, kAllocate: the offset;
                        // kTruncate: the new size
  uint64_t length = 0;  // kAppend, kWriteAt, kRead, kAllocate: the byte count
};

// The hook's answer: nullopt lets the operation proceed; a fault fails it (it must be one
// the operation can have, see SimFault; SimEnv aborts otherwise); kPowerCut cuts the power.
using SimHook = std::function<std::optional<SimFault>(const SimOpInfo&)>;

// One operation the SimEnv served.
struct TraceRecord {
  uint64_t seq = 0;  // 0, 1, 2, ... over all operations (kCrash, kRelease: the next one's)
  SimOp op = SimOp::kAppend;
  std::string path;  // for kRename: "from -> to"
  uint64_t offset = 0;
  uint64_t length = 0;
  absl::StatusCode result = absl::StatusCode::kOk;
  std::string injected;  // the fault injected, if any: "EIO", "ENOSPC", "short write 17/40",
                         // "no space 10/40" (capacity), "bit flip at 12 bit 3", "power cut"

  // Recorded only with SimEnvOptions::trace_for_replay (zero or empty otherwise):
  // handle   the handle (1, 2, ...) an open-write, open-read or lock made, or the one an
  //          operation of an open file, or a release, used
  // arg      how the operation was called: open-write "truncate" (NewWritableFile) or
  //          "append" (NewAppendableFile); open-read "mmap" or "pread"; stat "size"
  //          (GetFileSize), "isdir" (IsDirectory) or "handle" (RandomAccessFile::Size);
  //          lock "file" (LockFile) or "dir=NAME" (LockDir(path, NAME)); crash the mode
  //          and the generator's state, or the plan (sim_trace.h)
  // data     append and write: the bytes given; read: the bytes returned
  // out      stat: the size, or "1"/"0" for IsDirectory; list: the names, '/'-separated
  uint64_t handle = 0;
  std::string arg;
  std::string data;
  std::string out;

  // "12 append /w/s/00000000000000000000.wal@4096+36 OK": seq, SimOpName(op), path, then
  // "@offset+length" for append, write, read and allocate or "@offset" (the new size) for
  // truncate, the status code's name, the replay fields that are set (" fd=3 arg=append
  // data=<hex> out=<escaped>", see sim_trace.h), and " (injected: ...)" when a fault was
  // injected: "3 sync /w/f INTERNAL (injected: EIO)"
  std::string ToString() const;
};

// An unsynced change that a crash may or may not keep.
struct PendingChange {
  enum class Kind { kBlock, kLength, kDirOp };
  Kind kind = Kind::kBlock;
  uint64_t inode = 0;       // kBlock, kLength: the file (stable across renames)
  std::string path;         // a current name of the file, or the directory (kDirOp)
  uint64_t block = 0;       // kBlock: block index; kDirOp: position in that directory's
                            // list of unsynced changes (0 = oldest)
  std::string description;  // "block 3 of /w/s/0.wal", "create /w/s/1.wal", ...
};

// An explicit post-crash state: exactly the listed changes survive. A kDirOp survives only
// together with every older change of the same directory (a prefix is kept). A kLength
// change (the file's size) is applied when listed; if it is not, the durable size is
// kept, extended to cover any kept blocks. Changes are matched by kind, inode and block;
// entries that name nothing pending are ignored.
struct CrashPlan {
  std::vector<PendingChange> keep;
  // Optionally tear one kept block: only its first `torn_bytes` bytes are new, the rest
  // old bytes or zeros, and the length covers the whole block. The torn block counts as
  // kept whether listed or not; a tear of a block that is not pending is ignored.
  bool tear = false;
  uint64_t torn_inode = 0;
  uint64_t torn_block = 0;
  uint64_t torn_bytes = 0;
};

namespace internal {
struct SimEnvAccess;  // ReplayTrace's access to the state behind a SimEnv
}  // namespace internal

class SimEnv : public Env {
 public:
  explicit SimEnv(const SimEnvOptions& options = SimEnvOptions());
  ~SimEnv() override;

  // Env.
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
  // On the simulated clock: returns when `cv` is notified, or when AdvanceClock or a
  // NowMicros call (from another thread) moves the clock to the deadline. The clock's
  // draws in traced operations (max_micros_per_op) wake no waiter by themselves: a waiter
  // past its deadline notices at its next wake-up. No real time passes in it.
  void WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                 uint64_t deadline_micros) override;

  // Crashes: see the header comment.
  void Crash(const CrashOptions& options);
  void Crash(const CrashPlan& plan);
  // The unsynced changes a crash could keep now, in a deterministic order: by inode
  // (creation order), a directory's changes oldest first, a file's dirty blocks in order
  // and then its length.
  std::vector<PendingChange> PendingChanges() const;
  // A deep copy of the file system (durable and volatile state), the random generator and
  // the options; no open handles, locks, fault rules or trace. The clone's clock,
  // capacity and mutating_ops() continue from the original's; it has no power cut and its
  // trace's seq starts at 0.
  std::unique_ptr<SimEnv> Clone() const;

  // Power cut: the mutating operation with index `op_index` (see mutating_ops()) and every
  // later one fail with Aborted("power cut") and change nothing. Reads still work.
  void SetPowerCutAt(uint64_t op_index);
  void ClearPowerCut();
  // Mutating operations served so far (opens for writing, appends, syncs, truncates,
  // allocates, creates, removes, renames, dir syncs, locks), including failed ones (a
  // stale handle, a fault, the power cut itself).
  uint64_t mutating_ops() const;

  // Faults. AddFaultRule returns an id for RemoveFaultRule (0, 1, 2, ...); a removed or
  // cleared rule keeps its FaultFires count.
  int AddFaultRule(const FaultRule& rule);
  void RemoveFaultRule(int id);
  void ClearFaultRules();
  // How many times rule `id` has fired.
  uint64_t FaultFires(int id) const;
  // Installs the hook (see the header comment); an empty function removes it.
  void SetHook(SimHook hook);
  // Moves the simulated clock forward by `micros`, and wakes the WaitUntil callers whose
  // deadline it reaches.
  void AdvanceClock(uint64_t micros);
  void SetCapacity(uint64_t capacity_bytes);
  // Bytes counted against the capacity now.
  uint64_t UsedBytes() const;

  // Trace.
  std::vector<TraceRecord> Trace() const;
  void ClearTrace();

  // Introspection for tests: the bytes of `path` that a kDropUnsynced crash would keep,
  // NotFound when the file's name would not survive it.
  absl::StatusOr<std::string> DurableContents(const std::string& path) const;

 private:
  friend struct internal::SimEnvAccess;
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ironwal

#endif  // IRONWAL_ENV_SIM_ENV_H_
