// EnvWrapper and the file wrappers: every call forwarded to the target, unchanged.
#include "ironwal/env/env_wrapper.h"

#include <utility>

namespace ironwal {

absl::StatusOr<std::unique_ptr<WritableFile>> EnvWrapper::NewWritableFile(const std::string& path) {
  return target_->NewWritableFile(path);
}

absl::StatusOr<std::unique_ptr<WritableFile>> EnvWrapper::NewAppendableFile(
    const std::string& path) {
  return target_->NewAppendableFile(path);
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> EnvWrapper::NewRandomAccessFile(
    const std::string& path, const RandomAccessFileOptions& options) {
  return target_->NewRandomAccessFile(path, options);
}

absl::StatusOr<std::vector<std::string>> EnvWrapper::GetChildren(const std::string& dir) {
  return target_->GetChildren(dir);
}

absl::StatusOr<uint64_t> EnvWrapper::GetFileSize(const std::string& path) {
  return target_->GetFileSize(path);
}

absl::StatusOr<bool> EnvWrapper::IsDirectory(const std::string& path) {
  return target_->IsDirectory(path);
}

absl::StatusOr<FileType> EnvWrapper::GetFileType(const std::string& path) {
  return target_->GetFileType(path);
}

absl::Status EnvWrapper::CreateDir(const std::string& dir) { return target_->CreateDir(dir); }

absl::Status EnvWrapper::RemoveFile(const std::string& path) { return target_->RemoveFile(path); }

absl::Status EnvWrapper::RemoveDir(const std::string& dir) { return target_->RemoveDir(dir); }

absl::Status EnvWrapper::RenameFile(const std::string& from, const std::string& to) {
  return target_->RenameFile(from, to);
}

absl::Status EnvWrapper::SyncDir(const std::string& dir) { return target_->SyncDir(dir); }

absl::StatusOr<std::unique_ptr<FileLock>> EnvWrapper::LockFile(const std::string& path) {
  return target_->LockFile(path);
}

absl::StatusOr<std::unique_ptr<FileLock>> EnvWrapper::LockDir(const std::string& dir,
                                                              const std::string& lock_file) {
  return target_->LockDir(dir, lock_file);
}

absl::Status EnvWrapper::UnlockFile(std::unique_ptr<FileLock> lock) {
  return target_->UnlockFile(std::move(lock));
}

uint64_t EnvWrapper::NowMicros() { return target_->NowMicros(); }

void EnvWrapper::WaitUntil(std::condition_variable* cv, std::unique_lock<std::mutex>* lock,
                           uint64_t deadline_micros) {
  target_->WaitUntil(cv, lock, deadline_micros);
}

absl::Status WritableFileWrapper::Append(absl::string_view data) { return target_->Append(data); }

absl::Status WritableFileWrapper::WriteAt(uint64_t offset, absl::string_view data) {
  return target_->WriteAt(offset, data);
}

absl::Status WritableFileWrapper::Flush() { return target_->Flush(); }

absl::Status WritableFileWrapper::Sync() { return target_->Sync(); }

absl::Status WritableFileWrapper::Truncate(uint64_t size) { return target_->Truncate(size); }

absl::Status WritableFileWrapper::Allocate(uint64_t offset, uint64_t length) {
  return target_->Allocate(offset, length);
}

uint64_t WritableFileWrapper::Size() const { return target_->Size(); }

absl::Status WritableFileWrapper::Close() { return target_->Close(); }

const std::string& WritableFileWrapper::path() const { return target_->path(); }

absl::StatusOr<absl::string_view> RandomAccessFileWrapper::Read(uint64_t offset, size_t n,
                                                                char* scratch) const {
  return target_->Read(offset, n, scratch);
}

absl::StatusOr<uint64_t> RandomAccessFileWrapper::Size() const { return target_->Size(); }

uint64_t RandomAccessFileWrapper::MappedSize() const { return target_->MappedSize(); }

const std::string& RandomAccessFileWrapper::path() const { return target_->path(); }

}  // namespace ironwal
