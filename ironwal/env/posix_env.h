// File: ironwal/env/posix_env.h
//
// PosixEnv: the Env of the real file system, returned by Env::Default(). Linux-first:
// every descriptor is opened with O_CLOEXEC; WritableFile::Sync is fdatasync(2); SyncDir
// fsyncs the directory; LockFile is flock(LOCK_EX | LOCK_NB), so a second locker in this
// or another process is refused with FailedPrecondition; Allocate is
// fallocate(FALLOC_FL_KEEP_SIZE); use_mmap maps the file read-only (MAP_SHARED).
// errno values become statuses through ironwal/env/io_error.h (EIO is Internal, ENOSPC
// ResourceExhausted), with the operation, the path and the offset in the message.
//
// WritableFile does not buffer: Append is write(2) (looping over short writes and EINTR),
// so bytes are in the page cache, visible to readers and safe from a process crash, as
// soon as Append returns. Flush is a no-op.
#ifndef IRONWAL_ENV_POSIX_ENV_H_
#define IRONWAL_ENV_POSIX_ENV_H_

#include <memory>

#include "ironwal/env/env.h"

namespace ironwal {
namespace internal {

// A new PosixEnv. Most code wants the shared Env::Default() instead.
std::unique_ptr<Env> NewPosixEnv();

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_POSIX_ENV_H_
