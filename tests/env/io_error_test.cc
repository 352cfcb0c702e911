// Tests of the one errno -> absl::Status mapping every Env uses (ironwal/env/io_error.h).
#include "ironwal/env/io_error.h"

#include <cerrno>
#include <cstdint>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::StatusIs;

struct Mapping {
  int errnum;
  absl::StatusCode code;
  const char* name;
};

TEST(IoErrorTest, EveryDocumentedErrnoMapsToItsCode) {
  const Mapping kMappings[] = {
      {ENOENT, absl::StatusCode::kNotFound, "ENOENT"},
      {EEXIST, absl::StatusCode::kAlreadyExists, "EEXIST"},
      {ENOSPC, absl::StatusCode::kResourceExhausted, "ENOSPC"},
      {EDQUOT, absl::StatusCode::kResourceExhausted, "EDQUOT"},
      {EMFILE, absl::StatusCode::kResourceExhausted, "EMFILE"},
      {ENFILE, absl::StatusCode::kResourceExhausted, "ENFILE"},
      {EACCES, absl::StatusCode::kPermissionDenied, "EACCES"},
      {EPERM, absl::StatusCode::kPermissionDenied, "EPERM"},
      {EROFS, absl::StatusCode::kPermissionDenied, "EROFS"},
      {EISDIR, absl::StatusCode::kFailedPrecondition, "EISDIR"},
      {ENOTDIR, absl::StatusCode::kFailedPrecondition, "ENOTDIR"},
      {ENOTEMPTY, absl::StatusCode::kFailedPrecondition, "ENOTEMPTY"},
      {EWOULDBLOCK, absl::StatusCode::kFailedPrecondition, "EWOULDBLOCK"},
      {EBADF, absl::StatusCode::kFailedPrecondition, "EBADF"},
      {EINVAL, absl::StatusCode::kInvalidArgument, "EINVAL"},
      {ENAMETOOLONG, absl::StatusCode::kInvalidArgument, "ENAMETOOLONG"},
      {EIO, absl::StatusCode::kInternal, "EIO"},
  };
  for (const Mapping& m : kMappings) {
    SCOPED_TRACE(m.name);
    EXPECT_EQ(ErrnoToStatusCode(m.errnum), m.code);
    EXPECT_STREQ(ErrnoName(m.errnum), m.name);
  }
}

TEST(IoErrorTest, EioIsInternalNotUnknown) {
  EXPECT_EQ(ErrnoToStatusCode(EIO), absl::StatusCode::kInternal);
}

TEST(IoErrorTest, UnlistedErrnoIsInternal) {
  EXPECT_EQ(ErrnoToStatusCode(EXDEV), absl::StatusCode::kInternal);
  EXPECT_EQ(ErrnoToStatusCode(ELOOP), absl::StatusCode::kInternal);
  EXPECT_EQ(ErrnoToStatusCode(12345), absl::StatusCode::kInternal);
}

TEST(IoErrorTest, MessageNamesOperationPathStrerrorAndErrno) {
  EXPECT_THAT(
      IoError("open", "/p/x.wal", ENOENT),
      StatusIs(absl::StatusCode::kNotFound, "open /p/x.wal: No such file or directory (ENOENT)"));
}

TEST(IoErrorTest, MessageNamesTheOffset) {
  EXPECT_THAT(IoError("append", "/p/x.wal", uint64_t{4096}, ENOSPC),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "append /p/x.wal@4096: No space left on device (ENOSPC)"));
}

TEST(IoErrorTest, OffsetZeroIsStillNamed) {
  EXPECT_THAT(IoError("read", "/p/x.wal", uint64_t{0}, EIO),
              StatusIs(absl::StatusCode::kInternal, "read /p/x.wal@0: Input/output error (EIO)"));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
