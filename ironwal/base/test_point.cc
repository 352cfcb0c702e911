#include "ironwal/base/test_point.h"

#include <map>
#include <memory>
#include <utility>

#include "ironwal/base/check.h"
#include "ironwal/base/mutex.h"

namespace ironwal {
namespace internal {
namespace {

using Callback = std::shared_ptr<const std::function<void()>>;

struct Registry {
  Mutex mu;
  std::map<std::string, Callback> points ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* const registry = new Registry;
  return *registry;
}

}  // namespace

std::atomic<int> test_points_installed{0};

void RunTestPoint(const char* name) {
  Callback callback;
  {
    Registry& r = GetRegistry();
    MutexLock lock(&r.mu);
    auto it = r.points.find(name);
    if (it == r.points.end()) return;
    callback = it->second;
  }
  (*callback)();
}

}  // namespace internal

ScopedTestPoint::ScopedTestPoint(std::string name, std::function<void()> callback)
    : name_(std::move(name)) {
  internal::Registry& r = internal::GetRegistry();
  internal::MutexLock lock(&r.mu);
  const bool added =
      r.points.emplace(name_, std::make_shared<const std::function<void()>>(std::move(callback)))
          .second;
  IRONWAL_CHECK(added) << "test point " << name_ << " is installed twice";
  internal::test_points_installed.fetch_add(1, std::memory_order_relaxed);
}

ScopedTestPoint::~ScopedTestPoint() {
  internal::Registry& r = internal::GetRegistry();
  internal::MutexLock lock(&r.mu);
  r.points.erase(name_);
  internal::test_points_installed.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace ironwal
