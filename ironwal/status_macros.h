// File: ironwal/status_macros.h
//
// Early-return helpers for absl::Status and absl::StatusOr<T>, public (target
// //ironwal:status_macros, included by ironwal/ironwal.h): the examples in ironwal's header
// comments use them. Debian's Abseil 20220623 ships neither absl/status/status_macros.h
// nor an equivalent, so ironwal defines its own.
//
//   absl::Status Frob(Env* env) {
//     IRONWAL_RETURN_IF_ERROR(env->CreateDir("/a"));
//     IRONWAL_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize("/a/b"));
//     IRONWAL_ASSIGN_OR_RETURN(auto file, env->NewWritableFile("/a/c"));
//     ...
//   }
//
// Both evaluate their expression exactly once. IRONWAL_ASSIGN_OR_RETURN declares (or assigns
// to) `lhs` in the enclosing scope; `lhs` may not contain unparenthesized commas. They can
// only be used in functions that return absl::Status or absl::StatusOr<U>.
//
// Thread-safety: macros; no state.
#ifndef IRONWAL_STATUS_MACROS_H_
#define IRONWAL_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function with the status of `expr` (an absl::Status or
// absl::StatusOr<T>) when it is not OK.
#define IRONWAL_RETURN_IF_ERROR(expr)                                           \
  do {                                                                          \
    const absl::Status ironwal_status_ = ::ironwal::internal::ToStatus((expr)); \
    if (ABSL_PREDICT_FALSE(!ironwal_status_.ok())) return ironwal_status_;      \
  } while (false)

// `lhs = *expr` when `expr` (an absl::StatusOr<T>) holds a value; otherwise returns its
// status from the enclosing function.
#define IRONWAL_ASSIGN_OR_RETURN(lhs, expr)                                                       \
  IRONWAL_ASSIGN_OR_RETURN_IMPL_(IRONWAL_STATUS_MACROS_CONCAT_(ironwal_statusor_, __LINE__), lhs, \
                                 expr)

#define IRONWAL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                 \
    return std::move(statusor).status();                    \
  }                                                         \
  lhs = *std::move(statusor)

#define IRONWAL_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define IRONWAL_STATUS_MACROS_CONCAT_(x, y) IRONWAL_STATUS_MACROS_CONCAT_INNER_(x, y)

namespace ironwal {
namespace internal {

inline const absl::Status& ToStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STATUS_MACROS_H_
