// File: ironwal/testing/test_knobs.h
//
// Reading test knobs from environment variables (IRONWAL_SEED, IRONWAL_SEEDS, ...), which
// .bazelrc passes through to tests, and the directory a test may write in (target
// //ironwal/testing:test_knobs, testonly; it has nothing to do with ironwal's Env). Longer runs of
// a test go behind such a knob.
//
// Thread-safety: reads the process environment; call it before starting threads.
#ifndef IRONWAL_TESTING_TEST_KNOBS_H_
#define IRONWAL_TESTING_TEST_KNOBS_H_

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"

namespace ironwal {
namespace testing {

// The unsigned number in environment variable `name`, or `fallback` when it is unset or
// not a number.
inline uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  uint64_t value;
  return text != nullptr && absl::SimpleAtoi(text, &value) ? value : fallback;
}

// The directory a test may write in: Bazel's TEST_TMPDIR, or /tmp when the test runs
// outside Bazel.
inline std::string TestTmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_TEST_KNOBS_H_
