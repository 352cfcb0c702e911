// File: ironwal/testing/file_surgery.h
//
// Byte surgery on files for tests that damage a WAL on purpose: read a whole file, write
// it back (in place or atomically), cut it, flip a byte, append bytes, through any Env
// (MemEnv, SimEnv, or Env::Default() for the real disk). Each helper records a GoogleTest
// failure (naming the path and the offset) when the I/O fails or the offset is out of
// range, and then returns without changing anything more. Target //ironwal/testing:test_util
// (testonly).
//
// Durability: writes are not synced (tests damage files of a closed Wal, and MemEnv and
// the real disk keep unsynced bytes; under SimEnv, sync before a Crash()), except by
// WriteFileAtomicallyOrFail, which is WriteFileAtomically (env.h): durable at return.
// Thread-safety: as the Env; do not run two on one file at once.
#ifndef IRONWAL_TESTING_FILE_SURGERY_H_
#define IRONWAL_TESTING_FILE_SURGERY_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"

namespace ironwal {
namespace testing {

// The whole file ("" and a failure when it cannot be read).
std::string ReadFileOrFail(Env* env, const std::string& path);
// Creates or replaces `path` with `contents`.
void WriteFileOrFail(Env* env, const std::string& path, absl::string_view contents);
// Replaces `path` with `contents` by WriteFileAtomically (a synced temporary file renamed
// over it, the directory synced): the file holds the old bytes or the new, even after a
// SimEnv Crash().
void WriteFileAtomicallyOrFail(Env* env, const std::string& path, absl::string_view contents);
// Appends `contents` to `path` (created if missing).
void AppendToFile(Env* env, const std::string& path, absl::string_view contents);
// Keeps the first `size` bytes of `path` (a failure if it is shorter).
void CutFile(Env* env, const std::string& path, uint64_t size);
// XORs the byte at `offset` of `path` with `mask` (a failure past its end).
void FlipByte(Env* env, const std::string& path, uint64_t offset, char mask = 0x01);
// Every file under `dir`, recursively, as full path -> contents, leaving out files whose
// base name is in `skip` (e.g. {"LOCK"}): compare two of them to show that a call changed
// no byte. A failure when a listing or a read fails.
std::map<std::string, std::string> ReadTreeOrFail(Env* env, const std::string& dir,
                                                  const std::set<std::string>& skip = {});

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_FILE_SURGERY_H_
