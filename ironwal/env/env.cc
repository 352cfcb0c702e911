#include "ironwal/env/env.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"

namespace ironwal {

absl::StatusOr<FileType> Env::GetFileType(const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(const bool is_dir, IsDirectory(path));
  return is_dir ? FileType::kDirectory : FileType::kRegular;
}

absl::StatusOr<std::vector<Env::DirEntry>> Env::GetChildrenWithTypes(const std::string& dir) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> names, GetChildren(dir));
  std::vector<DirEntry> entries;
  entries.reserve(names.size());
  for (const std::string& name : names) {
    absl::StatusOr<FileType> type = GetFileType(JoinPath(dir, name));
    if (absl::IsNotFound(type.status())) continue;
    if (!type.ok()) return type.status();
    entries.push_back({name, *type});
  }
  return entries;
}

void Env::WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                    uint64_t deadline_micros) {
  if (deadline_micros == UINT64_MAX) {
    cv->wait(*lock);
    return;
  }
  const uint64_t now = NowMicros();
  if (now >= deadline_micros) return;
  // At most a day per wait (the caller loops), so that no duration overflows.
  constexpr uint64_t kMaxWaitMicros = 86400ull * 1000 * 1000;
  cv->wait_for(*lock, std::chrono::microseconds(std::min(deadline_micros - now, kMaxWaitMicros)));
}

std::unique_ptr<Env::Thread> Env::StartThread(std::function<void()> /*fn*/) { return nullptr; }

std::string Dirname(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string Basename(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return std::string(path);
  return std::string(path.substr(slash + 1));
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

absl::Status CreateDirRecursively(Env* env, const std::string& dir) {
  absl::StatusOr<bool> is_dir = env->IsDirectory(dir);
  if (is_dir.ok()) {
    if (*is_dir) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("create dir ", dir, ": is a file"));
  }
  if (!absl::IsNotFound(is_dir.status())) return is_dir.status();
  const std::string parent = Dirname(dir);
  if (parent != dir) IRONWAL_RETURN_IF_ERROR(CreateDirRecursively(env, parent));
  absl::Status created = env->CreateDir(dir);
  if (absl::IsAlreadyExists(created)) return absl::OkStatus();  // A concurrent creator won.
  IRONWAL_RETURN_IF_ERROR(created);
  return env->SyncDir(parent);
}

absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env->NewRandomAccessFile(path, RandomAccessFileOptions()));
  // Read until a read comes back short (the end of the file: RandomAccessFile::Read), in
  // doubling chunks: no stat for the size, one read for a small file.
  std::string contents;
  uint64_t done = 0;
  for (size_t want = 4096;; want = std::min<size_t>(2 * want, size_t{1} << 24)) {
    contents.resize(done + want);
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view chunk, file->Read(done, want, &contents[done]));
    if (chunk.data() != &contents[done]) std::copy(chunk.begin(), chunk.end(), &contents[done]);
    done += chunk.size();
    if (chunk.size() < want) break;
  }
  contents.resize(done);
  return contents;
}

absl::Status WriteFileAndRename(Env* env, const std::string& path, absl::string_view contents) {
  const std::string tmp = path + ".tmp";
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(tmp));
  IRONWAL_RETURN_IF_ERROR(file->Append(contents));
  IRONWAL_RETURN_IF_ERROR(file->Sync());
  IRONWAL_RETURN_IF_ERROR(file->Close());
  return env->RenameFile(tmp, path);
}

absl::Status WriteFileAtomically(Env* env, const std::string& path, absl::string_view contents) {
  IRONWAL_RETURN_IF_ERROR(WriteFileAndRename(env, path, contents));
  return env->SyncDir(Dirname(path));
}

absl::Status RemoveFileIfPresent(Env* env, const std::string& path) {
  absl::Status removed = env->RemoveFile(path);
  if (absl::IsNotFound(removed)) return absl::OkStatus();
  return removed;
}

}  // namespace ironwal
