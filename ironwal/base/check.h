// File: ironwal/base/check.h
//
// Always-on invariant checks. Unlike assert(), IRONWAL_CHECK is compiled into every build
// mode: a WAL that has broken one of its own invariants must stop before it writes more,
// not carry on in release builds. Checks are for programming errors and for invariants
// re-verified at the disk boundary; expected failures (bad input, I/O errors, corruption
// found on disk) are absl::Status values, never checks.
//
//   IRONWAL_CHECK(header.size() == kFrameHeaderSize) << "frame at " << offset;
//   IRONWAL_CHECK_OK(file->Close());
//
// On failure the check prints file, line, the condition and any streamed context to
// stderr and calls std::abort().
#ifndef IRONWAL_BASE_CHECK_H_
#define IRONWAL_BASE_CHECK_H_

#include <sstream>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"

namespace ironwal {
namespace internal {

// Collects the message of a failed check; its destructor reports and aborts.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  [[noreturn]] ~CheckFailure();

  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Lets `IRONWAL_CHECK(c) << x` be an expression of type void in both branches of ?:.
struct CheckVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace internal
}  // namespace ironwal

#define IRONWAL_CHECK(condition)          \
  ABSL_PREDICT_TRUE(condition)            \
  ? (void)0                               \
  : ::ironwal::internal::CheckVoidify() & \
          ::ironwal::internal::CheckFailure(__FILE__, __LINE__, #condition).stream()

// Checks that an absl::Status is OK; the status is printed on failure.
#define IRONWAL_CHECK_OK(expr)                                                   \
  for (const ::absl::Status ironwal_check_status_ = (expr);                      \
       ABSL_PREDICT_FALSE(!ironwal_check_status_.ok());)                         \
  ::ironwal::internal::CheckFailure(__FILE__, __LINE__, #expr " is OK").stream() \
      << ironwal_check_status_ << " "

#endif  // IRONWAL_BASE_CHECK_H_
