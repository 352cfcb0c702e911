#include "ironwal/wal/root_lock.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"

namespace ironwal {
namespace internal {

absl::Status CheckLockNameClash(Env* env, const std::string& root) {
  const std::string path = JoinPath(root, format::kLockFileName);
  absl::StatusOr<bool> is_dir = env->IsDirectory(path);
  if (!is_dir.ok() || !*is_dir) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      path, " is a directory: ironwal 0.6 keeps the stream keyed \"LOCK\" there, but ",
      "LOCK is this library's lock file, so that stream cannot be read or locked here. ",
      "With no writer running, rename it (mv ", path, " ", path,
      ".0.6) and read it as the stream keyed \"LOCK.0.6\""));
}

absl::StatusOr<std::unique_ptr<FileLock>> LockWalRoot(Env* env, const std::string& root) {
  absl::StatusOr<std::unique_ptr<FileLock>> lock = env->LockDir(root, format::kLockFileName);
  if (lock.ok()) return lock;
  IRONWAL_RETURN_IF_ERROR(CheckLockNameClash(env, root));
  if (absl::IsFailedPrecondition(lock.status()) &&
      absl::StrContains(lock.status().message(), "EWOULDBLOCK")) {
    return absl::FailedPreconditionError(
        absl::StrCat("open ", root, ": the WAL is open in another Wal or process (",
                     lock.status().message(), ")"));
  }
  return lock.status();
}

}  // namespace internal
}  // namespace ironwal
