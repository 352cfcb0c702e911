// SimState: operations of open files, and the WritableFile / RandomAccessFile handles.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/env/internal/sim_state.h"
#include "ironwal/env/io_error.h"

namespace ironwal {
namespace internal {
namespace {

class SimWritableFile final : public WritableFile {
 public:
  SimWritableFile(std::shared_ptr<SimState> state, SimHandle handle)
      : state_(std::move(state)), handle_(std::move(handle)) {}
  ~SimWritableFile() override { state_->Release(&handle_); }

  absl::Status Append(absl::string_view data) override { return state_->Append(&handle_, data); }
  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    return state_->WriteAt(&handle_, offset, data);
  }
  absl::Status Flush() override { return state_->Flush(handle_); }
  absl::Status Sync() override { return state_->Sync(&handle_); }
  absl::Status Truncate(uint64_t size) override { return state_->Truncate(&handle_, size); }
  absl::Status Allocate(uint64_t offset, uint64_t length) override {
    return state_->Allocate(&handle_, offset, length);
  }
  uint64_t Size() const override { return state_->WritableSize(handle_); }
  absl::Status Close() override { return state_->Close(&handle_); }
  const std::string& path() const override { return handle_.path; }

 private:
  const std::shared_ptr<SimState> state_;
  SimHandle handle_;
};

class SimRandomAccessFile final : public RandomAccessFile {
 public:
  SimRandomAccessFile(std::shared_ptr<SimState> state, SimHandle handle,
                      FileBuffer::Mapping mapping)
      : state_(std::move(state)), handle_(std::move(handle)), mapping_(std::move(mapping)) {}
  ~SimRandomAccessFile() override { state_->Release(&handle_); }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
    return state_->Read(handle_, mapping_, offset, n, scratch, &arena_);
  }
  absl::StatusOr<uint64_t> Size() const override { return state_->ReadableSize(handle_); }
  uint64_t MappedSize() const override { return mapping_.size(); }
  const std::string& path() const override { return handle_.path; }

 private:
  const std::shared_ptr<SimState> state_;
  SimHandle handle_;
  const FileBuffer::Mapping mapping_;
  // Bit-flipped copies of mapped bytes; guarded by the SimState's mutex, and kept until the
  // file is destroyed because views into them stay valid that long.
  mutable std::vector<std::unique_ptr<char[]>> arena_;
};

}  // namespace

std::unique_ptr<WritableFile> SimState::NewWritableHandle(std::shared_ptr<FileNode> file,
                                                          const std::string& path, uint64_t id) {
  fs_.AddOpen(file.get());
  return std::make_unique<SimWritableFile>(shared_from_this(),
                                           SimHandle{std::move(file), path, epoch_, false, id});
}

std::unique_ptr<RandomAccessFile> SimState::NewReadableHandle(std::shared_ptr<FileNode> file,
                                                              const std::string& path,
                                                              bool use_mmap, uint64_t id) {
  fs_.AddOpen(file.get());
  FileBuffer::Mapping mapping = use_mmap ? file->data.Map() : FileBuffer::Mapping();
  return std::make_unique<SimRandomAccessFile>(
      shared_from_this(), SimHandle{std::move(file), path, epoch_, false, id}, std::move(mapping));
}

SimState::WriteStart SimState::BeginWrite(OpRecord* rec, const SimHandle* handle,
                                          absl::string_view data) {
  if (detailed_) {
    rec->handle = handle->id;
    rec->data = std::string(data);
  }
  const Start start = Begin(rec, handle);
  WriteStart write;
  if (!start.status.ok()) {
    write.status = start.status;
  } else if (start.fault == SimFault::kShortWrite) {
    write.n = data.empty() ? 0 : static_cast<size_t>(Draw(data.size()));
    write.short_write = true;
    rec->injected = absl::StrCat("short write ", write.n, "/", data.size());
  } else if (start.fault.has_value()) {
    write.status = Injected(rec, *start.fault);
  } else {
    write.n = data.size();
  }
  return write;
}

// Append: a kShortWrite fault writes a random proper prefix, then fails with EIO; the
// capacity then clips what is written, failing with ENOSPC (the later message wins).
absl::Status SimState::Append(SimHandle* handle, absl::string_view data) {
  MutexLock lock(&mu_);
  FileNode* file = handle->file.get();
  OpRecord rec{SimOp::kAppend, handle->path, file->data.size(), data.size()};
  const WriteStart start = BeginWrite(&rec, handle, data);
  if (!start.status.ok()) return Finish(rec, start.status);
  size_t n = start.n;
  int errnum = start.short_write ? EIO : 0;
  const uint64_t limit = std::max(fs_.RoomFor(*file, options_.capacity_bytes), file->allocated);
  const uint64_t fits = limit > rec.offset ? limit - rec.offset : 0;
  if (n > fits) {
    n = static_cast<size_t>(fits);
    errnum = ENOSPC;
    rec.injected = absl::StrCat("no space ", n, "/", data.size());
  }
  fs_.Append(file, data.substr(0, n));
  if (errnum != 0) return Finish(rec, IoError(MessageOp(rec.op), rec.path, rec.offset, errnum));
  return Finish(rec, absl::OkStatus());
}

// WriteAt: a write inside the file (a kShortWrite fault writes a random proper prefix,
// then fails with EIO). It never grows the file, so the capacity does not limit it.
absl::Status SimState::WriteAt(SimHandle* handle, uint64_t offset, absl::string_view data) {
  MutexLock lock(&mu_);
  FileNode* file = handle->file.get();
  OpRecord rec{SimOp::kWriteAt, handle->path, offset, data.size()};
  const WriteStart start = BeginWrite(&rec, handle, data);
  if (!start.status.ok()) return Finish(rec, start.status);
  const size_t n = start.n;
  const absl::Status in_file = CheckWriteAt(rec.path, offset, data.size(), file->data.size());
  if (!in_file.ok()) return Finish(rec, in_file);
  fs_.WriteAt(file, offset, data.substr(0, n));
  if (n < data.size()) return Finish(rec, IoError(fs_op::kWrite, rec.path, offset, EIO));
  return Finish(rec, absl::OkStatus());
}

// Sync: an injected EIO follows Linux (the dirty blocks and length are marked clean without
// reaching the durable image) unless fsync_failure_keeps_dirty.
absl::Status SimState::Sync(SimHandle* handle) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kSync, handle->path};
  if (detailed_) rec.handle = handle->id;
  Start start = Begin(&rec, handle);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) {
    if (!options_.fsync_failure_keeps_dirty) fs_.SyncFile(handle->file.get(), /*lose_dirty=*/true);
    return Finish(rec, Injected(&rec, *start.fault));
  }
  fs_.SyncFile(handle->file.get(), /*lose_dirty=*/false);
  return Finish(rec, absl::OkStatus());
}

absl::Status SimState::Flush(const SimHandle& handle) {
  MutexLock lock(&mu_);
  if (handle.epoch != epoch_) {
    return absl::FailedPreconditionError(
        absl::StrCat("flush ", handle.path, ": file handle invalidated by SimEnv::Crash"));
  }
  if (handle.closed) return IoError(fs_op::kFlush, handle.path, EBADF);
  return absl::OkStatus();
}

absl::Status SimState::Truncate(SimHandle* handle, uint64_t size) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kTruncate, handle->path, size};
  if (detailed_) rec.handle = handle->id;
  Start start = Begin(&rec, handle);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  fs_.Resize(handle->file.get(), size);
  return Finish(rec, absl::OkStatus());
}

// Allocate: reserves up to the capacity, then fails with ENOSPC if that was not enough.
absl::Status SimState::Allocate(SimHandle* handle, uint64_t offset, uint64_t length) {
  MutexLock lock(&mu_);
  FileNode* file = handle->file.get();
  OpRecord rec{SimOp::kAllocate, handle->path, offset, length};
  if (detailed_) rec.handle = handle->id;
  Start start = Begin(&rec, handle);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  if (length == 0) return Finish(rec, absl::OkStatus());  // As PosixEnv (not fallocate's EINVAL).
  if (length > UINT64_MAX - offset) {
    return Finish(rec, IoError(MessageOp(rec.op), rec.path, offset, EFBIG));
  }
  const uint64_t end = offset + length;
  const uint64_t held = std::max(file->data.size(), file->allocated);
  const uint64_t room = fs_.RoomFor(*file, options_.capacity_bytes);
  if (end <= held || end <= room) {
    fs_.Allocate(file, end);
    return Finish(rec, absl::OkStatus());
  }
  fs_.Allocate(file, std::max(held, room));
  rec.injected = absl::StrCat("no space ", room > held ? room - held : 0, "/", end - held);
  return Finish(rec, IoError(MessageOp(rec.op), rec.path, offset, ENOSPC));
}

absl::Status SimState::Close(SimHandle* handle) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kClose, handle->path};
  if (detailed_) rec.handle = handle->id;
  if (handle->closed) return Finish(rec, absl::OkStatus());  // A second Close is OK.
  Start start = Begin(&rec, handle);
  const bool current = handle->epoch == epoch_;
  handle->closed = true;
  if (current) fs_.RemoveOpen(handle->file.get());
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  return Finish(rec, absl::OkStatus());
}

uint64_t SimState::WritableSize(const SimHandle& handle) {
  MutexLock lock(&mu_);
  return handle.file->data.size();
}

// Release: only a handle that still holds an open count changes anything, and only its
// release is traced.
void SimState::Release(SimHandle* handle) {
  MutexLock lock(&mu_);
  if (!handle->closed && handle->epoch == epoch_) {
    fs_.RemoveOpen(handle->file.get());
    if (detailed_) {
      OpRecord rec{SimOp::kRelease, handle->path};
      rec.handle = handle->id;
      RecordBetween(rec);
    }
  }
  handle->closed = true;
}

// Read: served from the mapping when the range lies inside it, otherwise copied from the
// volatile image. A kBitFlip fault flips one bit of the returned bytes, in `scratch` or in
// a copy of the mapped bytes (never in the stored data).
absl::StatusOr<absl::string_view> SimState::Read(const SimHandle& handle,
                                                 const FileBuffer::Mapping& mapping,
                                                 uint64_t offset, size_t n, char* scratch,
                                                 std::vector<std::unique_ptr<char[]>>* arena) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kRead, handle.path, offset, n};
  if (detailed_) rec.handle = handle.id;
  Start start = Begin(&rec, &handle);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault == SimFault::kIoError) return Finish(rec, Injected(&rec, *start.fault));
  absl::string_view view;
  if (offset <= mapping.size() && n <= mapping.size() - offset) {
    view = mapping.View(offset, n);
  } else if (scratch == nullptr) {
    return Finish(rec, IoError(MessageOp(rec.op), rec.path, offset, EINVAL));
  } else {
    view = absl::string_view(scratch, handle.file->data.Read(offset, n, scratch));
  }
  if (start.fault == SimFault::kBitFlip && !view.empty()) {
    const uint64_t byte = Draw(view.size());
    const uint64_t bit = Draw(8);
    char* out = scratch;
    if (view.data() != scratch) {
      arena->push_back(std::unique_ptr<char[]>(new char[view.size()]));
      out = arena->back().get();
      std::memcpy(out, view.data(), view.size());
    }
    out[byte] = static_cast<char>(out[byte] ^ (1 << bit));
    view = absl::string_view(out, view.size());
    rec.injected = absl::StrCat("bit flip at ", offset + byte, " bit ", bit);
  } else if (start.fault == SimFault::kBitFlip) {
    rec.injected = "bit flip (nothing read)";
  }
  if (detailed_) rec.data = std::string(view);
  Record(rec, absl::StatusCode::kOk);
  return view;
}

absl::StatusOr<uint64_t> SimState::ReadableSize(const SimHandle& handle) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kGetFileSize, handle.path};
  if (detailed_) {
    rec.handle = handle.id;
    rec.arg = "handle";
  }
  Start start = Begin(&rec, &handle);
  if (!start.status.ok()) return Finish(rec, start.status);
  if (start.fault.has_value()) return Finish(rec, Injected(&rec, *start.fault));
  if (detailed_) rec.out = absl::StrCat(handle.file->data.size());
  Record(rec, absl::StatusCode::kOk);
  return handle.file->data.size();
}

}  // namespace internal
}  // namespace ironwal
