// File: ironwal/base/test_point.h
//
// Test points: named places in ironwal's code where a test can run code of its own, so a
// race's two sides can be put in a chosen order deterministically instead of hoping a
// scheduler finds the window (RocksDB calls them sync points).
//
//   IRONWAL_TEST_POINT("stream.publish.indexed");        // in the library
//
//   ScopedTestPoint at("stream.publish.indexed", [&] {   // in a test
//     ... runs on the thread that reaches the point, every time it does ...
//   });
//
// With nothing installed a point costs one relaxed atomic load. A callback runs without any
// lock of this facility held, so it may call into ironwal (and reach other points); it must
// not install or remove points itself.
//
// Thread-safety: points may be reached from any thread. ScopedTestPoint objects are
// created and destroyed by a test while no other thread can reach their point, or while
// the test otherwise knows no callback of theirs is running.
#ifndef IRONWAL_BASE_TEST_POINT_H_
#define IRONWAL_BASE_TEST_POINT_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/base/optimization.h"

namespace ironwal {
namespace internal {

// How many test points are installed, process-wide.
extern std::atomic<int> test_points_installed;
// Runs the callback installed for `name`, if any.
void RunTestPoint(const char* name);

}  // namespace internal

#define IRONWAL_TEST_POINT(name)                                                               \
  do {                                                                                         \
    if (ABSL_PREDICT_FALSE(                                                                    \
            ::ironwal::internal::test_points_installed.load(std::memory_order_relaxed) > 0)) { \
      ::ironwal::internal::RunTestPoint(name);                                                 \
    }                                                                                          \
  } while (false)

// Installs `callback` at the point `name` for its lifetime (one callback per name).
class ScopedTestPoint {
 public:
  ScopedTestPoint(std::string name, std::function<void()> callback);
  ScopedTestPoint(const ScopedTestPoint&) = delete;
  ScopedTestPoint& operator=(const ScopedTestPoint&) = delete;
  ~ScopedTestPoint();

 private:
  const std::string name_;
};

}  // namespace ironwal

#endif  // IRONWAL_BASE_TEST_POINT_H_
