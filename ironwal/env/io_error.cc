#include "ironwal/env/io_error.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace ironwal {
namespace internal {
namespace {

std::string Describe(int errnum) {
  char buf[128];
  // GNU strerror_r returns the message, which may or may not be `buf`.
  const char* text = strerror_r(errnum, buf, sizeof(buf));
  return absl::StrCat(text, " (", ErrnoName(errnum), ")");
}

}  // namespace

absl::StatusCode ErrnoToStatusCode(int errnum) {
  switch (errnum) {
    case 0:
      return absl::StatusCode::kOk;
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case EISDIR:
    case ENOTDIR:
    case ENOTEMPTY:
    case EWOULDBLOCK:
    case EBADF:
    case EBUSY:
    case ETXTBSY:
      return absl::StatusCode::kFailedPrecondition;
    case EINVAL:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

const char* ErrnoName(int errnum) {
  switch (errnum) {
    case ENOENT:
      return "ENOENT";
    case EEXIST:
      return "EEXIST";
    case ENOSPC:
      return "ENOSPC";
    case EDQUOT:
      return "EDQUOT";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case EROFS:
      return "EROFS";
    case EISDIR:
      return "EISDIR";
    case ENOTDIR:
      return "ENOTDIR";
    case ENOTEMPTY:
      return "ENOTEMPTY";
    case EWOULDBLOCK:
      return "EWOULDBLOCK";
    case EBADF:
      return "EBADF";
    case EBUSY:
      return "EBUSY";
    case ETXTBSY:
      return "ETXTBSY";
    case EINVAL:
      return "EINVAL";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case EIO:
      return "EIO";
    case EXDEV:
      return "EXDEV";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case EFBIG:
      return "EFBIG";
    case EINTR:
      return "EINTR";
    default:
      return "errno";
  }
}

absl::Status IoError(absl::string_view op, absl::string_view path, int errnum) {
  return absl::Status(ErrnoToStatusCode(errnum),
                      absl::StrCat(op, " ", path, ": ", Describe(errnum)));
}

absl::Status IoError(absl::string_view op, absl::string_view path, uint64_t offset, int errnum) {
  return absl::Status(ErrnoToStatusCode(errnum),
                      absl::StrCat(op, " ", path, "@", offset, ": ", Describe(errnum)));
}

}  // namespace internal
}  // namespace ironwal
