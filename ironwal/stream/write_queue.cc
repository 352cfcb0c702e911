#include "ironwal/stream/write_queue.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {

void QueuedWrite::SetWritten(uint64_t first_id) {
  IRONWAL_CHECK(state_ == State::kPending);
  state_ = State::kWritten;
  first_id_ = first_id;
}

void QueuedWrite::SetFailed(absl::Status error) {
  IRONWAL_CHECK(state_ == State::kPending && !error.ok());
  state_ = State::kFailed;
  error_ = std::move(error);
}

void WriteQueue::Submit(QueuedWrite* w) {
  // A thread waits on one write at a time, so one condition variable per thread will do.
  static thread_local CondVar cv;
  w->cv_ = &cv;
  mu_.Lock();
  queue_.push_back(w);
  while (!w->done_ && w != FrontLocked()) w->cv_->Wait(&mu_);
  if (w->done_) {
    mu_.Unlock();
    return;
  }
  // This thread leads. Only the thread at the front of the queue leads, so group_ and
  // group_target_ have one user at a time.
  if (options_.linger && group_target_ > 1) Linger();
  TakeGroup();
  mu_.Unlock();

  WriteAndSettle(group_);

  mu_.Lock();
  Release();
  mu_.Unlock();
}

size_t WriteQueue::size() {
  MutexLock lock(&mu_);
  return QueuedLocked();
}

void WriteQueue::Linger() {
  const uint64_t deadline = options_.clock->NowMicros() + options_.linger_micros;
  for (int spins = 0; QueuedLocked() < group_target_ && options_.clock->NowMicros() < deadline &&
                      spins < options_.max_linger_spins;
       ++spins) {
    mu_.Unlock();
    std::this_thread::yield();
    mu_.Lock();
  }
  group_target_ = std::min(group_target_, QueuedLocked());
}

void WriteQueue::TakeGroup() {
  group_.clear();
  uint64_t group_bytes = 0;
  for (size_t i = head_; i < queue_.size(); ++i) {
    QueuedWrite* const p = queue_[i];
    if (!group_.empty() && group_bytes + p->bytes() > options_.max_group_bytes) break;
    group_.push_back(p);
    group_bytes += p->bytes();
  }
  group_target_ = std::max(group_target_, group_.size());
}

void WriteQueue::WriteAndSettle(absl::Span<QueuedWrite* const> group) {
  const absl::Status failed = writer_->WriteGroup(group);
  for (QueuedWrite* p : group) {
    if (p->state() != QueuedWrite::State::kPending) continue;
    IRONWAL_CHECK(!failed.ok()) << "the group writer left a write pending without an error";
    p->SetFailed(failed);
  }
}

// Wakes the group's writers (the leader's own write included: its thread is awake) and
// the next leader.
void WriteQueue::Release() {
  for (QueuedWrite* p : group_) {
    IRONWAL_CHECK(FrontLocked() == p);
    ++head_;
    p->done_ = true;
    p->cv_->Signal();
  }
  if (head_ == queue_.size()) {
    queue_.clear();  // keeps the capacity: the next writers reuse it
    head_ = 0;
    return;
  }
  if (head_ >= 64 && 2 * head_ >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  FrontLocked()->cv_->Signal();
}

}  // namespace internal
}  // namespace ironwal
