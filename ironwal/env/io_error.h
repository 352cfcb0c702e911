// File: ironwal/env/io_error.h
//
// One mapping from errno values to absl::Status for every Env, so PosixEnv, MemEnv and
// SimEnv report the same condition with the same code and a message of the same shape:
//
//   "<op> <path>[@<offset>]: <strerror> (<ERRNO NAME>)"
//
// absl::ErrnoToStatus is not used: it maps EIO to kUnknown, and its messages carry
// neither the path nor the offset.
#ifndef IRONWAL_ENV_IO_ERROR_H_
#define IRONWAL_ENV_IO_ERROR_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace internal {

// ENOENT, ENOTDIR-as-missing-parent -> NotFound; EEXIST -> AlreadyExists; ENOSPC, EDQUOT,
// EMFILE, ENFILE -> ResourceExhausted; EACCES, EPERM, EROFS -> PermissionDenied; EISDIR,
// ENOTDIR, ENOTEMPTY, EWOULDBLOCK, EBADF -> FailedPrecondition; EINVAL, ENAMETOOLONG ->
// InvalidArgument; EIO and everything else -> Internal.
absl::StatusCode ErrnoToStatusCode(int errnum);

// The symbolic name of an errno value ("ENOSPC"), or "errno N" for unknown values.
const char* ErrnoName(int errnum);

// An error for operation `op` on `path` that failed with `errnum`.
absl::Status IoError(absl::string_view op, absl::string_view path, int errnum);

// The same, for an operation at byte `offset` of the file.
absl::Status IoError(absl::string_view op, absl::string_view path, uint64_t offset, int errnum);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_IO_ERROR_H_
