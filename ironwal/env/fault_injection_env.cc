// File: ironwal/env/fault_injection_env.cc
//
// FaultInjectionEnv: the tracking state (State), the two file wrappers that report to it,
// and SimulatePowerLoss. See the header for the model.
#include "ironwal/env/fault_injection_env.h"

#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/env/internal/sim_faults.h"
#include "ironwal/env/internal/sim_random.h"
#include "ironwal/env/io_error.h"

namespace ironwal {

using internal::IoError;

namespace {

constexpr char kInvalidated[] = "file handle invalidated by FaultInjectionEnv::SimulatePowerLoss";

struct FileInfo {
  uint64_t synced = 0;
  bool frozen = false;  // a Sync failed: the synced length no longer advances
};

// What an operation may go on to do after Begin: fail (status), or proceed with a fault
// that it applies itself (kShortWrite, kBitFlip, kIoError of a Sync or Close).
struct Start {
  absl::Status status;
  std::optional<SimFault> fault;
};

// A handle SimulatePowerLoss closes and invalidates.
class Handle {
 public:
  virtual ~Handle() = default;
  virtual void Invalidate() = 0;
};

absl::Status RemoveAll(Env* env, const std::string& path) {
  absl::StatusOr<bool> is_dir = env->IsDirectory(path);
  if (absl::IsNotFound(is_dir.status())) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(is_dir.status());
  if (!*is_dir) return env->RemoveFile(path);
  IRONWAL_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(path));
  for (const std::string& child : children) {
    IRONWAL_RETURN_IF_ERROR(RemoveAll(env, JoinPath(path, child)));
  }
  return env->RemoveDir(path);
}

// Writes `contents` to `path` and syncs it (the restored file of an undone rename).
absl::Status WriteDurably(Env* env, const std::string& path, const std::string& contents) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path));
  IRONWAL_RETURN_IF_ERROR(file->Append(contents));
  IRONWAL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

absl::Status TruncateTo(Env* env, const std::string& path, uint64_t size) {
  absl::StatusOr<uint64_t> now = env->GetFileSize(path);
  if (!now.ok() || *now <= size) return absl::OkStatus();  // gone, or not longer
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewAppendableFile(path));
  IRONWAL_RETURN_IF_ERROR(file->Truncate(size));
  IRONWAL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace

class FaultInjectionEnv::State {
 public:
  State(Env* target, uint64_t seed) : target_(target), rng_(seed) {}

  // Every operation starts here, with mu_ held: counts it, applies the power cut, the
  // rules and the hook. A fault with no effect (EIO, ENOSPC) comes back as the status.
  Start Begin(SimOp op, const std::string& path, uint64_t offset = 0, uint64_t length = 0,
              const std::string& second_path = "") {
    const uint64_t seq = seq_++;
    const bool mutating = internal::IsMutating(op);
    const uint64_t index = mutating ? mutating_ops_++ : SimOpInfo::kNotMutating;
    const std::string shown = second_path.empty() ? path : path + " -> " + second_path;
    if (mutating && power_cut_) return {PowerCut(op, shown), {}};
    std::vector<absl::string_view> paths = {path};
    if (!second_path.empty()) paths.push_back(second_path);
    std::optional<SimFault> fault = faults_.Pick(op, paths, &rng_);
    if (hook_) {
      std::optional<SimFault> decided = hook_(SimOpInfo{seq, index, op, shown, offset, length});
      if (decided.has_value()) {
        IRONWAL_CHECK(internal::FaultAppliesTo(*decided, op))
            << "the FaultInjectionEnv hook answered a fault " << SimOpName(op) << " cannot have";
        fault = decided;
      }
    }
    if (fault == SimFault::kPowerCut) {
      power_cut_ = true;
      return {PowerCut(op, shown), {}};
    }
    const bool at_offset = op == SimOp::kAppend || op == SimOp::kWriteAt || op == SimOp::kRead ||
                           op == SimOp::kAllocate;
    if (fault == SimFault::kNoSpace) return {Error(op, shown, at_offset, offset, ENOSPC), {}};
    if (fault == SimFault::kIoError && op != SimOp::kSync && op != SimOp::kClose) {
      return {Error(op, shown, at_offset, offset, EIO), {}};
    }
    return {absl::OkStatus(), fault};
  }

  static absl::Status PowerCut(SimOp op, const std::string& path) {
    return absl::AbortedError(absl::StrCat("power cut: ", SimOpName(op), " ", path));
  }
  static absl::Status Error(SimOp op, const std::string& path, bool at_offset, uint64_t offset,
                            int errnum) {
    return at_offset ? IoError(SimOpName(op), path, offset, errnum)
                     : IoError(SimOpName(op), path, errnum);
  }

  bool Exists(const std::string& path) { return target_->GetFileType(path).ok(); }

  // A file opened for writing: its FileInfo, new unless `append` finds it tracked.
  std::shared_ptr<FileInfo> Track(const std::string& path, bool append, uint64_t size) {
    std::shared_ptr<FileInfo>& info = files_[path];
    if (!append || info == nullptr) info = std::make_shared<FileInfo>(FileInfo{size, false});
    return info;
  }

  void SyncedDir(const std::string& dir) {
    std::vector<Create> kept;
    for (Create& create : creates_) {
      if (Dirname(create.path) != dir) kept.push_back(std::move(create));
    }
    creates_ = std::move(kept);
    std::vector<PendingRename> pending;
    for (PendingRename& rename : renames_) {
      if (Dirname(rename.from) == dir) rename.from_synced = true;
      if (Dirname(rename.to) == dir) rename.to_synced = true;
      if (!rename.from_synced || !rename.to_synced) pending.push_back(std::move(rename));
    }
    renames_ = std::move(pending);
  }

  absl::Status DoRename(const std::string& from, const std::string& to) {
    PendingRename rename{from, to, false, false, false, {}};
    absl::StatusOr<FileType> type = target_->GetFileType(to);
    if (type.ok() && *type == FileType::kRegular) {
      absl::StatusOr<std::string> old = ReadFileToString(target_, to);
      if (old.ok()) {
        rename.replaced = true;
        rename.old_contents = std::move(*old);
        auto it = files_.find(to);
        if (it != files_.end() && it->second->synced < rename.old_contents.size()) {
          rename.old_contents.resize(it->second->synced);
        }
      }
    }
    IRONWAL_RETURN_IF_ERROR(target_->RenameFile(from, to));
    MoveTracking(from, to);
    renames_.push_back(std::move(rename));
    return absl::OkStatus();
  }

  void MoveTracking(const std::string& from, const std::string& to) {
    auto it = files_.find(from);
    if (it == files_.end()) {
      files_.erase(to);
      return;
    }
    files_[to] = it->second;
    files_.erase(from);
  }

  absl::Status PowerLoss();

  struct Create {
    std::string path;
  };
  struct PendingRename {
    std::string from, to;
    bool from_synced, to_synced, replaced;
    std::string old_contents;
  };

  std::mutex mu_;
  Env* const target_;
  internal::FaultTable faults_;
  internal::SimRandom rng_;
  SimHook hook_;
  uint64_t seq_ = 0;
  uint64_t mutating_ops_ = 0;
  bool power_cut_ = false;
  std::map<std::string, std::shared_ptr<FileInfo>> files_;
  std::vector<Create> creates_;
  std::vector<PendingRename> renames_;
  // Open handles by creation order, so SimulatePowerLoss closes them in a fixed order.
  std::map<uint64_t, Handle*> handles_;
  uint64_t next_handle_ = 0;
};

absl::Status FaultInjectionEnv::State::PowerLoss() {
  absl::Status first;
  for (const auto& [id, handle] : handles_) handle->Invalidate();
  handles_.clear();
  for (auto it = renames_.rbegin(); it != renames_.rend(); ++it) {
    if (!Exists(it->to) || Exists(it->from)) continue;
    first.Update(target_->RenameFile(it->to, it->from));
    MoveTracking(it->to, it->from);
    if (it->replaced) first.Update(WriteDurably(target_, it->to, it->old_contents));
  }
  for (auto it = creates_.rbegin(); it != creates_.rend(); ++it) {
    first.Update(RemoveAll(target_, it->path));
  }
  for (const auto& [path, info] : files_) {
    first.Update(TruncateTo(target_, path, info->synced));
  }
  files_.clear();
  creates_.clear();
  renames_.clear();
  power_cut_ = false;
  return first;
}

namespace {

using State = FaultInjectionEnv::State;

class FaultWritableFile : public WritableFileWrapper, public Handle {
 public:
  FaultWritableFile(std::unique_ptr<WritableFile> target, std::shared_ptr<State> state,
                    std::shared_ptr<FileInfo> info)
      : WritableFileWrapper(std::move(target)),
        state_(std::move(state)),
        info_(std::move(info)),
        handle_id_(state_->next_handle_++) {
    state_->handles_[handle_id_] = this;
  }
  ~FaultWritableFile() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    state_->handles_.erase(handle_id_);
  }
  void Invalidate() override {
    invalid_ = true;
    target()->Close().IgnoreError();
  }

  absl::Status Append(absl::string_view data) override { return Write(std::nullopt, data); }
  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    return Write(offset, data);
  }
  absl::Status Flush() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return Stale();
    return target()->Flush();
  }
  absl::Status Sync() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return Stale();
    Start start = state_->Begin(SimOp::kSync, path());
    IRONWAL_RETURN_IF_ERROR(start.status);
    absl::Status status =
        start.fault == SimFault::kIoError ? IoError("sync", path(), EIO) : target()->Sync();
    if (!status.ok()) {
      info_->frozen = true;
    } else if (!info_->frozen) {
      info_->synced = target()->Size();
    }
    return status;
  }
  absl::Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return Stale();
    IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kTruncate, path(), size).status);
    IRONWAL_RETURN_IF_ERROR(target()->Truncate(size));
    info_->synced = std::min(info_->synced, size);
    return absl::OkStatus();
  }
  absl::Status Allocate(uint64_t offset, uint64_t length) override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return Stale();
    IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kAllocate, path(), offset, length).status);
    return target()->Allocate(offset, length);
  }
  uint64_t Size() const override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    return target()->Size();
  }
  absl::Status Close() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) {
      if (stale_close_reported_) return absl::OkStatus();
      stale_close_reported_ = true;
      return Stale();
    }
    Start start = state_->Begin(SimOp::kClose, path());
    IRONWAL_RETURN_IF_ERROR(start.status);
    absl::Status status = target()->Close();
    if (start.fault == SimFault::kIoError) return IoError("close", path(), EIO);
    return status;
  }

 private:
  // Append (no `at`) or WriteAt(*at), with kShortWrite: a seeded proper prefix, then EIO.
  absl::Status Write(std::optional<uint64_t> at, absl::string_view data) {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return Stale();
    const uint64_t offset = at.has_value() ? *at : target()->Size();
    Start start = state_->Begin(at.has_value() ? SimOp::kWriteAt : SimOp::kAppend, path(), offset,
                                data.size());
    IRONWAL_RETURN_IF_ERROR(start.status);
    if (start.fault == SimFault::kShortWrite) {
      const uint64_t n = data.empty() ? 0 : state_->rng_.Uniform(data.size());
      IRONWAL_RETURN_IF_ERROR(WriteTarget(at, data.substr(0, n)));
      return IoError(at.has_value() ? "write" : "append", path(), offset + n, EIO);
    }
    return WriteTarget(at, data);
  }
  absl::Status WriteTarget(std::optional<uint64_t> at, absl::string_view data) {
    return at.has_value() ? target()->WriteAt(*at, data) : target()->Append(data);
  }
  absl::Status Stale() const { return absl::FailedPreconditionError(path() + ": " + kInvalidated); }

  const std::shared_ptr<State> state_;
  const std::shared_ptr<FileInfo> info_;
  const uint64_t handle_id_;
  bool invalid_ = false;
  bool stale_close_reported_ = false;
};

class FaultRandomAccessFile : public RandomAccessFileWrapper, public Handle {
 public:
  FaultRandomAccessFile(std::unique_ptr<RandomAccessFile> target, std::shared_ptr<State> state)
      : RandomAccessFileWrapper(std::move(target)),
        state_(std::move(state)),
        handle_id_(state_->next_handle_++) {
    state_->handles_[handle_id_] = this;
  }
  ~FaultRandomAccessFile() override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    state_->handles_.erase(handle_id_);
  }
  void Invalidate() override { invalid_ = true; }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return absl::FailedPreconditionError(path() + ": " + kInvalidated);
    Start start = state_->Begin(SimOp::kRead, path(), offset, n);
    IRONWAL_RETURN_IF_ERROR(start.status);
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view data, target()->Read(offset, n, scratch));
    if (start.fault != SimFault::kBitFlip || data.empty()) return data;
    // The flipped copy lives in `scratch`, or here when there is none (mapped reads).
    char* copy = scratch;
    if (copy == nullptr) {
      flipped_.emplace_back(data);
      copy = flipped_.back().data();
    } else if (copy != data.data()) {
      std::copy(data.begin(), data.end(), copy);
    }
    const uint64_t bit = state_->rng_.Uniform(data.size() * 8);
    copy[bit / 8] = static_cast<char>(copy[bit / 8] ^ (1 << (bit % 8)));
    return absl::string_view(copy, data.size());
  }
  absl::StatusOr<uint64_t> Size() const override {
    std::lock_guard<std::mutex> lock(state_->mu_);
    if (invalid_) return absl::FailedPreconditionError(path() + ": " + kInvalidated);
    IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kGetFileSize, path()).status);
    return target()->Size();
  }

 private:
  const std::shared_ptr<State> state_;
  const uint64_t handle_id_;
  bool invalid_ = false;
  mutable std::deque<std::string> flipped_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* target, uint64_t seed)
    : EnvWrapper(target), state_(std::make_shared<State>(target, seed)) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kOpenWritable, path).status);
  const bool existed = state_->Exists(path);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, target()->NewWritableFile(path));
  if (!existed) state_->creates_.push_back({path});
  return std::unique_ptr<WritableFile>(
      new FaultWritableFile(std::move(file), state_, state_->Track(path, false, 0)));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kOpenWritable, path).status);
  const bool existed = state_->Exists(path);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, target()->NewAppendableFile(path));
  if (!existed) state_->creates_.push_back({path});
  std::shared_ptr<FileInfo> info = state_->Track(path, true, file->Size());
  return std::unique_ptr<WritableFile>(new FaultWritableFile(std::move(file), state_, info));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path, const RandomAccessFileOptions& options) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kOpenRead, path).status);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           target()->NewRandomAccessFile(path, options));
  return std::unique_ptr<RandomAccessFile>(new FaultRandomAccessFile(std::move(file), state_));
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kGetChildren, dir).status);
  return target()->GetChildren(dir);
}

absl::StatusOr<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kGetFileSize, path).status);
  return target()->GetFileSize(path);
}

absl::StatusOr<bool> FaultInjectionEnv::IsDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kGetFileSize, path).status);
  return target()->IsDirectory(path);
}

absl::StatusOr<FileType> FaultInjectionEnv::GetFileType(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kGetFileSize, path).status);
  return target()->GetFileType(path);
}

absl::Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kCreateDir, dir).status);
  IRONWAL_RETURN_IF_ERROR(target()->CreateDir(dir));
  state_->creates_.push_back({dir});
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kRemoveFile, path).status);
  IRONWAL_RETURN_IF_ERROR(target()->RemoveFile(path));
  state_->files_.erase(path);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kRemoveDir, dir).status);
  return target()->RemoveDir(dir);
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kRename, from, 0, 0, to).status);
  return state_->DoRename(from, to);
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kSyncDir, dir).status);
  IRONWAL_RETURN_IF_ERROR(target()->SyncDir(dir));
  state_->SyncedDir(dir);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kLock, path).status);
  const bool existed = state_->Exists(path);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> file_lock, target()->LockFile(path));
  if (!existed) state_->creates_.push_back({path});
  return file_lock;
}

absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectionEnv::LockDir(const std::string& dir,
                                                                     const std::string& lock_file) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  IRONWAL_RETURN_IF_ERROR(state_->Begin(SimOp::kLock, dir).status);
  const std::string path = lock_file.empty() ? "" : JoinPath(dir, lock_file);
  const bool existed = path.empty() || state_->Exists(path);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> file_lock, target()->LockDir(dir, lock_file));
  if (!existed) state_->creates_.push_back({path});
  return file_lock;
}

absl::Status FaultInjectionEnv::SimulatePowerLoss() {
  std::lock_guard<std::mutex> lock(state_->mu_);
  return state_->PowerLoss();
}

int FaultInjectionEnv::AddFaultRule(const FaultRule& rule) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  return state_->faults_.Add(rule);
}

void FaultInjectionEnv::RemoveFaultRule(int id) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  state_->faults_.Remove(id);
}

void FaultInjectionEnv::ClearFaultRules() {
  std::lock_guard<std::mutex> lock(state_->mu_);
  state_->faults_.Clear();
}

uint64_t FaultInjectionEnv::FaultFires(int id) const {
  std::lock_guard<std::mutex> lock(state_->mu_);
  return state_->faults_.Fires(id);
}

void FaultInjectionEnv::SetHook(SimHook hook) {
  std::lock_guard<std::mutex> lock(state_->mu_);
  state_->hook_ = std::move(hook);
}

bool FaultInjectionEnv::power_cut() const {
  std::lock_guard<std::mutex> lock(state_->mu_);
  return state_->power_cut_;
}

absl::StatusOr<uint64_t> FaultInjectionEnv::SyncedSize(const std::string& path) const {
  std::lock_guard<std::mutex> lock(state_->mu_);
  auto it = state_->files_.find(path);
  if (it == state_->files_.end()) return absl::NotFoundError("not tracked: " + path);
  return it->second->synced;
}

}  // namespace ironwal
