#include "ironwal/env/sim_env.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/env/internal/mem_fs.h"
#include "ironwal/env/internal/sim_state.h"

namespace ironwal {

const char* SimOpName(SimOp op) {
  namespace fs_op = internal::fs_op;
  switch (op) {
    case SimOp::kOpenWritable:
      return fs_op::kOpenWrite;
    case SimOp::kOpenRead:
      return fs_op::kOpenRead;
    case SimOp::kAppend:
      return fs_op::kAppend;
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
      return fs_op::kChildren;
    case SimOp::kGetFileSize:
      return fs_op::kStat;
    case SimOp::kCreateDir:
      return fs_op::kMkdir;
    case SimOp::kRemoveFile:
      return fs_op::kUnlink;
    case SimOp::kRemoveDir:
      return fs_op::kRmdir;
    case SimOp::kRename:
      return fs_op::kRename;
    case SimOp::kSyncDir:
      return fs_op::kSyncDir;
    case SimOp::kLock:
      return fs_op::kLock;
  }
  return "unknown";
}

std::string TraceRecord::ToString() const {
  std::string line = absl::StrCat(seq, " ", SimOpName(op), " ", path);
  if (op == SimOp::kAppend || op == SimOp::kRead || op == SimOp::kAllocate) {
    absl::StrAppend(&line, "@", offset, "+", length);
  } else if (op == SimOp::kTruncate) {
    absl::StrAppend(&line, "@", offset);
  }
  absl::StrAppend(&line, " ", absl::StatusCodeToString(result));
  if (!injected.empty()) absl::StrAppend(&line, " (injected: ", injected, ")");
  return line;
}

class SimEnv::Impl : public internal::SimState {
 public:
  using SimState::SimState;
};

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
  return impl_->Lock(path);
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
void SimEnv::SetCapacity(uint64_t capacity_bytes) { impl_->SetCapacity(capacity_bytes); }
uint64_t SimEnv::UsedBytes() const { return impl_->UsedBytes(); }

std::vector<TraceRecord> SimEnv::Trace() const { return impl_->Trace(); }
void SimEnv::ClearTrace() { impl_->ClearTrace(); }

absl::StatusOr<std::string> SimEnv::DurableContents(const std::string& path) const {
  return impl_->DurableContents(path);
}

}  // namespace ironwal
