// File: ironwal/wal/root_lock.h
//
// The exclusion a read-write opener of a WAL root holds (Wal::Open and `ironwal repair`):
// Env::LockDir on the root directory itself and on its LOCK file. The directory's lock is
// the one that excludes, so a stray `rm ROOT/LOCK` under a running writer does not let a
// second writer in; the LOCK file is kept for tools that look for it, and is created only
// once the directory's lock is held. Read-only openers never take it.
//
// Thread-safety: a free function; the lock it returns is released by destroying it or by
// Env::UnlockFile.
#ifndef IRONWAL_WAL_ROOT_LOCK_H_
#define IRONWAL_WAL_ROOT_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

#include "ironwal/env/env.h"

namespace ironwal {
namespace internal {

// Locks the existing directory `root`. FailedPrecondition "... is open in another Wal or
// process" when another opener holds it; FailedPrecondition naming the clash when
// ROOT/LOCK is a directory (ironwal 0.6 keeps the stream keyed "LOCK" there);
// NotFound when `root` is missing. Nothing is created when it fails.
absl::StatusOr<std::unique_ptr<FileLock>> LockWalRoot(Env* env, const std::string& root);

// FailedPrecondition naming the clash when ROOT/LOCK is a directory (see above), for the
// commands that never lock; OK otherwise.
absl::Status CheckLockNameClash(Env* env, const std::string& root);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_WAL_ROOT_LOCK_H_
