// SimState: the operation pipeline, directory operations, locks and controls.
#include "ironwal/env/internal/sim_state.h"

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/check.h"
#include "ironwal/env/io_error.h"

namespace ironwal {
namespace internal {
namespace {

MemFs::Options FsOptions(const SimEnvOptions& options) {
  IRONWAL_CHECK(options.block_size >= 512 && (options.block_size & (options.block_size - 1)) == 0)
      << "SimEnvOptions::block_size must be a power of two >= 512, not " << options.block_size;
  MemFs::Options fs;
  fs.track_durability = true;
  fs.block_size = options.block_size;
  return fs;
}

class SimFileLock final : public FileLock {
 public:
  SimFileLock(std::shared_ptr<SimState> state, std::vector<uint64_t> inodes, uint64_t token,
              std::string path, uint64_t id)
      : state_(std::move(state)),
        inodes_(std::move(inodes)),
        token_(token),
        path_(std::move(path)),
        id_(id) {}
  ~SimFileLock() override { state_->ReleaseLock(inodes_, token_, id_, path_); }
  const std::string& path() const override { return path_; }
  const SimState* owner() const { return state_.get(); }

 private:
  const std::shared_ptr<SimState> state_;
  const std::vector<uint64_t> inodes_;
  const uint64_t token_;
  const std::string path_;
  const uint64_t id_;
};

}  // namespace

const char* MessageOp(SimOp op) {
  switch (op) {
    case SimOp::kOpenWritable:
    case SimOp::kOpenRead:
      return fs_op::kOpen;
    case SimOp::kAppend:
      return fs_op::kAppend;
    case SimOp::kWriteAt:
      return fs_op::kWrite;
    case SimOp::kSync:
      return fs_op::kSync;
    case SimOp::kTruncate:
      return fs_op::kTruncate;
    case SimOp::kAllocate:
      return fs_op::kAllocate;
    case SimOp::kClose:
      return fs_op::kClose;
    case SimOp::kRead:
      return fs_op::kRead;
    case SimOp::kGetChildren:
      return fs_op::kList;
    case SimOp::kGetFileSize:
      return fs_op::kStat;
    case SimOp::kCreateDir:
      return fs_op::kMkdir;
    case SimOp::kRemoveFile:
      return fs_op::kRemove;
    case SimOp::kRemoveDir:
      return fs_op::kRmdir;
    case SimOp::kRename:
      return fs_op::kRename;
    case SimOp::kSyncDir:
      return fs_op::kSyncDir;
    case SimOp::kLock:
      return fs_op::kLock;
    case SimOp::kCrash:
      return "crash";
    case SimOp::kRelease:
      return "release";
  }
  return "unknown";
}

// The clock's draws come from a generator of their own, so that turning them on changes
// no other random choice of the seed.
constexpr uint64_t kClockSeedMix = 0xC10C4C10C4C10C4Bull;

SimState::SimState(const SimEnvOptions& options)
    : options_(options),
      detailed_(options.trace_for_replay && options.record_trace),
      fs_(FsOptions(options)),
      rng_(options.seed),
      clock_rng_(options.seed ^ kClockSeedMix) {}

SimState::Start SimState::Begin(OpRecord* rec, const SimHandle* handle) {
  return Begin(rec, handle, {rec->path});
}

SimState::Start SimState::Begin(OpRecord* rec, const SimHandle* handle,
                                const std::vector<absl::string_view>& paths) {
  const bool mutating = IsMutating(rec->op);
  const uint64_t index = mutating ? mutating_ops_++ : 0;
  const char* name = MessageOp(rec->op);
  if (handle != nullptr && handle->epoch != epoch_) {
    return {absl::FailedPreconditionError(
                absl::StrCat(name, " ", rec->path, ": file handle invalidated by SimEnv::Crash")),
            {}};
  }
  if (handle != nullptr && handle->closed) return {IoError(name, rec->path, EBADF), {}};
  if (mutating && power_cut_at_.has_value() && index >= *power_cut_at_) {
    rec->injected = "power cut";
    return {absl::AbortedError(absl::StrCat("power cut: ", name, " ", rec->path)), {}};
  }
  if (options_.max_micros_per_op > 0) {
    now_micros_ += clock_rng_.Uniform(options_.max_micros_per_op + 1);
  }
  std::optional<SimFault> fault = faults_.Pick(rec->op, paths, &rng_);
  if (hook_) {
    const SimOpInfo info{next_seq_,   mutating ? index : SimOpInfo::kNotMutating,
                         rec->op,     rec->path,
                         rec->offset, rec->length};
    std::optional<SimFault> decided = hook_(info);
    if (decided.has_value()) {
      IRONWAL_CHECK(FaultAppliesTo(*decided, rec->op))
          << "the SimEnv hook answered fault " << static_cast<int>(*decided) << " for "
          << SimOpName(rec->op) << " " << rec->path << ", which it cannot have";
      fault = decided;
    }
  }
  if (fault == SimFault::kPowerCut) {
    power_cut_at_ = index;
    rec->injected = "power cut";
    return {absl::AbortedError(absl::StrCat("power cut: ", name, " ", rec->path)), {}};
  }
  return {absl::OkStatus(), fault};
}

void SimState::Record(const OpRecord& rec, absl::StatusCode code) {
  const uint64_t seq = next_seq_++;
  if (options_.record_trace) {
    trace_.push_back(TraceRecord{seq, rec.op, rec.path, rec.offset, rec.length, code, rec.injected,
                                 rec.handle, rec.arg, rec.data, rec.out});
  }
}

void SimState::RecordBetween(const OpRecord& rec) {
  if (!detailed_) return;
  trace_.push_back(TraceRecord{next_seq_, rec.op, rec.path, rec.offset, rec.length,
                               absl::StatusCode::kOk, rec.injected, rec.handle, rec.arg, rec.data,
                               rec.out});
}

uint64_t SimState::Draw(uint64_t n) {
  if (forced_draws_.empty()) return rng_.Uniform(n);
  const uint64_t value = forced_draws_.front();
  forced_draws_.pop_front();
  return value < n ? value : n - 1;
}

absl::Status SimState::Finish(const OpRecord& rec, absl::Status status) {
  Record(rec, status.code());
  return status;
}

absl::Status SimState::Injected(OpRecord* rec, SimFault fault) {
  IRONWAL_CHECK(fault == SimFault::kIoError || fault == SimFault::kNoSpace);
  const int errnum = fault == SimFault::kIoError ? EIO : ENOSPC;
  rec->injected = ErrnoName(errnum);
  const bool ranged = rec->op == SimOp::kAppend || rec->op == SimOp::kWriteAt ||
                      rec->op == SimOp::kRead || rec->op == SimOp::kAllocate ||
                      rec->op == SimOp::kTruncate;
  if (ranged) return IoError(MessageOp(rec->op), rec->path, rec->offset, errnum);
  return IoError(MessageOp(rec->op), rec->path, errnum);
}

absl::StatusOr<std::unique_ptr<WritableFile>> SimState::OpenWritable(const std::string& path,
                                                                     bool truncate) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kOpenWritable, path};
  if (detailed_) rec.arg = truncate ? "truncate" : "append";
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  absl::StatusOr<std::shared_ptr<FileNode>> file = fs_.OpenFile(
      fs_op::kOpen, path, truncate ? MemFs::OpenMode::kTruncate : MemFs::OpenMode::kAppend);
  if (!file.ok()) return Finish(rec, file.status());
  const uint64_t id = next_handle_++;
  if (detailed_) rec.handle = id;
  Record(rec, absl::StatusCode::kOk);
  return NewWritableHandle(*std::move(file), path, id);
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> SimState::OpenRead(
    const std::string& path, const RandomAccessFileOptions& options) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kOpenRead, path};
  if (detailed_) rec.arg = options.use_mmap ? "mmap" : "pread";
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  absl::StatusOr<std::shared_ptr<FileNode>> file =
      fs_.OpenFile(fs_op::kOpen, path, MemFs::OpenMode::kExisting);
  if (!file.ok()) return Finish(rec, file.status());
  const uint64_t id = next_handle_++;
  if (detailed_) rec.handle = id;
  Record(rec, absl::StatusCode::kOk);
  return NewReadableHandle(*std::move(file), path, options.use_mmap, id);
}

absl::StatusOr<std::vector<std::string>> SimState::GetChildren(const std::string& dir) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kGetChildren, dir};
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  absl::StatusOr<std::vector<std::string>> children = fs_.GetChildren(fs_op::kList, dir);
  if (!children.ok()) return Finish(rec, children.status());
  if (detailed_) rec.out = absl::StrJoin(*children, "/");
  Record(rec, absl::StatusCode::kOk);
  return children;
}

absl::StatusOr<uint64_t> SimState::GetFileSize(const std::string& path) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kGetFileSize, path};
  if (detailed_) rec.arg = "size";
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  absl::StatusOr<uint64_t> size = fs_.GetFileSize(fs_op::kStat, path);
  if (!size.ok()) return Finish(rec, size.status());
  if (detailed_) rec.out = absl::StrCat(*size);
  Record(rec, absl::StatusCode::kOk);
  return size;
}

absl::StatusOr<bool> SimState::IsDirectory(const std::string& path) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kGetFileSize, path};  // A stat(2), like GetFileSize.
  if (detailed_) rec.arg = "isdir";
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  absl::StatusOr<bool> is_dir = fs_.IsDirectory(fs_op::kStat, path);
  if (!is_dir.ok()) return Finish(rec, is_dir.status());
  if (detailed_) rec.out = *is_dir ? "1" : "0";
  Record(rec, absl::StatusCode::kOk);
  return is_dir;
}

absl::Status SimState::PathOp(SimOp op, const std::string& path,
                              absl::Status (MemFs::*run)(absl::string_view, const std::string&)) {
  MutexLock lock(&mu_);
  OpRecord rec{op, path};
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  return Finish(rec, (fs_.*run)(MessageOp(op), path));
}

absl::Status SimState::CreateDir(const std::string& dir) {
  return PathOp(SimOp::kCreateDir, dir, &MemFs::CreateDir);
}

absl::Status SimState::RemoveFile(const std::string& path) {
  return PathOp(SimOp::kRemoveFile, path, &MemFs::RemoveFile);
}

absl::Status SimState::RemoveDir(const std::string& dir) {
  return PathOp(SimOp::kRemoveDir, dir, &MemFs::RemoveDir);
}

absl::Status SimState::SyncDir(const std::string& dir) {
  return PathOp(SimOp::kSyncDir, dir, &MemFs::SyncDir);
}

absl::Status SimState::Rename(const std::string& from, const std::string& to) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kRename, absl::StrCat(from, " -> ", to)};
  Start start = Begin(&rec, nullptr, {from, to});
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  return Finish(rec, fs_.Rename(fs_op::kRename, from, to));
}

absl::StatusOr<std::unique_ptr<FileLock>> SimState::Lock(const std::string& dir,
                                                         const std::string& file) {
  MutexLock lock(&mu_);
  const std::string path = dir.empty() ? file : dir;
  OpRecord rec{SimOp::kLock, path};
  if (detailed_) rec.arg = dir.empty() ? "file" : absl::StrCat("dir=", file);
  Start start = Begin(&rec, nullptr);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  std::vector<uint64_t> inodes;
  absl::StatusOr<uint64_t> token = locks_.Take(&fs_, dir, file, &inodes);
  if (!token.ok()) return Finish(rec, token.status());
  const uint64_t id = next_handle_++;
  if (detailed_) rec.handle = id;
  Record(rec, absl::StatusCode::kOk);
  return std::make_unique<SimFileLock>(shared_from_this(), std::move(inodes), *token, path, id);
}

absl::Status SimState::Unlock(std::unique_ptr<FileLock> lock) {
  const auto* mine = dynamic_cast<const SimFileLock*>(lock.get());
  if (mine == nullptr || mine->owner() != this) {
    return absl::InvalidArgumentError("unlock: not a lock taken on this SimEnv");
  }
  lock.reset();  // The destructor releases it.
  return absl::OkStatus();
}

void SimState::ReleaseLock(const std::vector<uint64_t>& inodes, uint64_t token, uint64_t id,
                           const std::string& path) {
  MutexLock lock(&mu_);
  locks_.Release(inodes, token);
  if (!detailed_) return;
  OpRecord rec{SimOp::kRelease, path};
  rec.handle = id;
  RecordBetween(rec);
}

uint64_t SimState::NowMicros() {
  MutexLock lock(&mu_);
  now_micros_ += options_.micros_per_call;
  return now_micros_;
}

void SimState::AdvanceClock(uint64_t micros) {
  MutexLock lock(&mu_);
  now_micros_ += micros;
}

uint64_t SimState::PeekMicros() {
  MutexLock lock(&mu_);
  return now_micros_;
}

void SimState::SetHook(SimHook hook) {
  MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

void SimState::SetPowerCutAt(uint64_t op_index) {
  MutexLock lock(&mu_);
  power_cut_at_ = op_index;
}

void SimState::ClearPowerCut() {
  MutexLock lock(&mu_);
  power_cut_at_.reset();
}

uint64_t SimState::mutating_ops() {
  MutexLock lock(&mu_);
  return mutating_ops_;
}

int SimState::AddFaultRule(const FaultRule& rule) {
  MutexLock lock(&mu_);
  return faults_.Add(rule);
}

void SimState::RemoveFaultRule(int id) {
  MutexLock lock(&mu_);
  faults_.Remove(id);
}

void SimState::ClearFaultRules() {
  MutexLock lock(&mu_);
  faults_.Clear();
}

uint64_t SimState::FaultFires(int id) {
  MutexLock lock(&mu_);
  return faults_.Fires(id);
}

SimEnvOptions SimState::options() {
  MutexLock lock(&mu_);
  return options_;
}

void SimState::SetCapacity(uint64_t capacity_bytes) {
  MutexLock lock(&mu_);
  options_.capacity_bytes = capacity_bytes;
}

uint64_t SimState::UsedBytes() {
  MutexLock lock(&mu_);
  return fs_.used_bytes();
}

std::vector<TraceRecord> SimState::Trace() {
  MutexLock lock(&mu_);
  return trace_;
}

void SimState::ClearTrace() {
  MutexLock lock(&mu_);
  trace_.clear();
}

uint64_t SimState::operations_served() {
  MutexLock lock(&mu_);
  return next_seq_;
}

std::vector<TraceRecord> SimState::TraceFrom(size_t index) {
  MutexLock lock(&mu_);
  if (index >= trace_.size()) return {};
  return std::vector<TraceRecord>(trace_.begin() + index, trace_.end());
}

void SimState::ForceDraws(std::vector<uint64_t> values) {
  MutexLock lock(&mu_);
  forced_draws_.assign(values.begin(), values.end());
}

}  // namespace internal
}  // namespace ironwal
