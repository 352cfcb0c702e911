#include "ironwal/env/sim_env.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

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

  // Env::WaitUntil on the simulated clock: the waiter is registered (with the caller's
  // lock held, so no notification of `cv` falls between the caller's check and the wait),
  // and WakeDue wakes it once the clock reaches its deadline.
  void WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                 uint64_t deadline_micros);
  // Wakes the waiters whose deadline `now` has reached. Called after the clock moved,
  // with no lock of this SimEnv held. Lock order: waiters_mu_ is never held while a
  // waiter's mutex is taken (WaitUntil takes waiters_mu_ under it).
  void WakeDue(uint64_t now);

 private:
  struct ClockWaiter {
    std::mutex* mu;
    std::condition_variable* cv;
    uint64_t deadline;
    int wakers = 0;  // WakeDue calls using it (guarded by waiters_mu_)
  };

  std::atomic<size_t> waiter_count_{0};
  std::mutex waiters_mu_;
  std::condition_variable wakers_done_;
  std::vector<ClockWaiter*> waiters_;  // guarded by waiters_mu_
};

void SimEnv::Impl::WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                             uint64_t deadline_micros) {
  if (deadline_micros == UINT64_MAX) {
    cv->wait(*lock);
    return;
  }
  ClockWaiter self{lock->mutex(), cv, deadline_micros};
  {
    std::lock_guard<std::mutex> registry(waiters_mu_);
    waiters_.push_back(&self);
    waiter_count_.fetch_add(1);
  }
  if (PeekMicros() < deadline_micros) cv->wait(*lock);
  // A WakeDue may still be about to lock the caller's mutex: let it finish first.
  lock->unlock();
  {
    std::unique_lock<std::mutex> registry(waiters_mu_);
    while (self.wakers > 0) wakers_done_.wait(registry);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
    waiter_count_.fetch_sub(1);
  }
  lock->lock();
}

void SimEnv::Impl::WakeDue(uint64_t now) {
  if (waiter_count_.load() == 0) return;
  std::vector<ClockWaiter*> due;
  {
    std::lock_guard<std::mutex> registry(waiters_mu_);
    for (ClockWaiter* w : waiters_) {
      if (w->deadline > now) continue;
      ++w->wakers;
      due.push_back(w);
    }
  }
  if (due.empty()) return;
  for (ClockWaiter* w : due) {
    // Taken and released: the waiter is now blocked in its wait (or has not yet looked
    // at the clock, and will see `now`).
    { std::lock_guard<std::mutex> waiter(*w->mu); }
    w->cv->notify_all();
  }
  {
    std::lock_guard<std::mutex> registry(waiters_mu_);
    for (ClockWaiter* w : due) --w->wakers;
  }
  wakers_done_.notify_all();
}

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

uint64_t SimEnv::NowMicros() {
  const uint64_t now = impl_->NowMicros();
  impl_->WakeDue(now);
  return now;
}

void SimEnv::WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                       uint64_t deadline_micros) {
  impl_->WaitUntil(cv, lock, deadline_micros);
}

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
void SimEnv::AdvanceClock(uint64_t micros) {
  impl_->AdvanceClock(micros);
  impl_->WakeDue(impl_->PeekMicros());
}
void SimEnv::SetCapacity(uint64_t capacity_bytes) { impl_->SetCapacity(capacity_bytes); }
uint64_t SimEnv::UsedBytes() const { return impl_->UsedBytes(); }

std::vector<TraceRecord> SimEnv::Trace() const { return impl_->Trace(); }
void SimEnv::ClearTrace() { impl_->ClearTrace(); }

absl::StatusOr<std::string> SimEnv::DurableContents(const std::string& path) const {
  return impl_->DurableContents(path);
}

}  // namespace ironwal
