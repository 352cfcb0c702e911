#include "ironwal/env/sim_env.h"

#include <memory>
#include <utility>

#include "ironwal/env/internal/sim_state.h"

namespace ironwal {

const char* SimOpName(SimOp op) {
  switch (op) {
    case SimOp::kOpenWritable:
      return "open-write";
    case SimOp::kOpenRead:
      return "open-read";
    case SimOp::kAppend:
      return "append";
    case SimOp::kWriteAt:
      return "write";
    case SimOp::kSync:
      return "sync";
    case SimOp::kTruncate:
      return "truncate";
    case SimOp::kAllocate:
      return "allocate";
    case SimOp::kClose:
      return "close";
    case SimOp::kRead:
      return "read";
    case SimOp::kGetChildren:
      return "list";
    case SimOp::kGetFileSize:
      return "stat";
    case SimOp::kCreateDir:
      return "mkdir";
    case SimOp::kRemoveFile:
      return "remove";
    case SimOp::kRemoveDir:
      return "rmdir";
    case SimOp::kRename:
      return "rename";
    case SimOp::kSyncDir:
      return "syncdir";
    case SimOp::kLock:
      return "lock";
    case SimOp::kCrash:
      return "crash";
    case SimOp::kRelease:
      return "release";
  }
  return "unknown";
}

class SimEnv::Impl : public internal::SimState {
 public:
  using SimState::SimState;
};

internal::SimState* internal::SimEnvAccess::State(SimEnv* env) { return env->impl_.get(); }

SimEnv::SimEnv(const SimEnvOptions& options) : impl_(std::make_shared<Impl>(options)) {}
SimEnv::~SimEnv() = default;

absl::StatusOr<std::unique_ptr<WritableFile>> SimEnv::NewWritableFile(const std::string& path) {
  return impl_->OpenWritable(path, /*truncate=*/true);
}

absl::StatusOr<std::unique_ptr<WritableFile>> SimEnv::NewAppendableFile(const std::string& path) {
  return impl_->OpenWritable(path, /*truncate=*/false);
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> SimEnv::NewRandomAccessFile(
    const std::string& path, const RandomAccessFileOptions& options) {
  return impl_->OpenRead(path, options);
}

absl::StatusOr<std::vector<std::string>> SimEnv::GetChildren(const std::string& dir) {
  return impl_->GetChildren(dir);
}

absl::StatusOr<uint64_t> SimEnv::GetFileSize(const std::string& path) {
  return impl_->GetFileSize(path);
}

absl::StatusOr<bool> SimEnv::IsDirectory(const std::string& path) {
  return impl_->IsDirectory(path);
}

absl::Status SimEnv::CreateDir(const std::string& dir) { return impl_->CreateDir(dir); }
absl::Status SimEnv::RemoveFile(const std::string& path) { return impl_->RemoveFile(path); }
absl::Status SimEnv::RemoveDir(const std::string& dir) { return impl_->RemoveDir(dir); }

absl::Status SimEnv::RenameFile(const std::string& from, const std::string& to) {
  return impl_->Rename(from, to);
}

absl::Status SimEnv::SyncDir(const std::string& dir) { return impl_->SyncDir(dir); }

absl::StatusOr<std::unique_ptr<FileLock>> SimEnv::LockFile(const std::string& path) {
  return impl_->Lock("", path);
}

absl::StatusOr<std::unique_ptr<FileLock>> SimEnv::LockDir(const std::string& dir,
                                                          const std::string& lock_file) {
  return impl_->Lock(dir, lock_file);
}

absl::Status SimEnv::UnlockFile(std::unique_ptr<FileLock> lock) {
  return impl_->Unlock(std::move(lock));
}

uint64_t SimEnv::NowMicros() { return impl_->NowMicros(); }

void SimEnv::Crash(const CrashOptions& options) { impl_->Crash(options); }
void SimEnv::Crash(const CrashPlan& plan) { impl_->Crash(plan); }
std::vector<PendingChange> SimEnv::PendingChanges() const { return impl_->PendingChanges(); }

std::unique_ptr<SimEnv> SimEnv::Clone() const {
  auto copy = std::make_unique<SimEnv>(impl_->options());
  impl_->CopyTo(copy->impl_.get());
  return copy;
}

void SimEnv::SetPowerCutAt(uint64_t op_index) { impl_->SetPowerCutAt(op_index); }
void SimEnv::ClearPowerCut() { impl_->ClearPowerCut(); }
uint64_t SimEnv::mutating_ops() const { return impl_->mutating_ops(); }

int SimEnv::AddFaultRule(const FaultRule& rule) { return impl_->AddFaultRule(rule); }
void SimEnv::RemoveFaultRule(int id) { impl_->RemoveFaultRule(id); }
void SimEnv::ClearFaultRules() { impl_->ClearFaultRules(); }
uint64_t SimEnv::FaultFires(int id) const { return impl_->FaultFires(id); }
void SimEnv::SetHook(SimHook hook) { impl_->SetHook(std::move(hook)); }
void SimEnv::AdvanceClock(uint64_t micros) { impl_->AdvanceClock(micros); }
void SimEnv::SetCapacity(uint64_t capacity_bytes) { impl_->SetCapacity(capacity_bytes); }
uint64_t SimEnv::UsedBytes() const { return impl_->UsedBytes(); }

std::vector<TraceRecord> SimEnv::Trace() const { return impl_->Trace(); }
void SimEnv::ClearTrace() { impl_->ClearTrace(); }

absl::StatusOr<std::string> SimEnv::DurableContents(const std::string& path) const {
  return impl_->DurableContents(path);
}

}  // namespace ironwal
