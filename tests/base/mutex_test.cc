#include "ironwal/base/mutex.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ironwal {
namespace internal {
namespace {

TEST(MutexTest, MutexLockSerializesIncrements) {
  Mutex mu;
  int total = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock lock(&mu);
        ++total;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total, 40000);
}

TEST(MutexTest, TryLockFailsWhileHeld) {
  Mutex mu;
  MutexLock lock(&mu);
  bool acquired = true;
  std::thread other([&] { acquired = mu.TryLock(); });
  other.join();
  EXPECT_FALSE(acquired);
}

TEST(MutexTest, CondVarWakesAWaiter) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  int seen = 0;
  std::thread waiter([&] {
    MutexLock lock(&mu);
    while (!ready) cv.Wait(&mu);
    seen = 1;
  });
  {
    MutexLock lock(&mu);
    ready = true;
  }
  cv.SignalAll();
  waiter.join();
  EXPECT_EQ(seen, 1);
}

TEST(MutexTest, SharedMutexAdmitsConcurrentReadersAndExcludesWriters) {
  SharedMutex mu;
  int value = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        WriterMutexLock lock(&mu);
        ++value;
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        ReaderMutexLock lock(&mu);
        EXPECT_GE(value, 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(value, 10000);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
