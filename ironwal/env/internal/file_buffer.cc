#include "ironwal/env/internal/file_buffer.h"

#include <algorithm>
#include <cstring>

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {
namespace {

constexpr uint64_t kMinCapacity = 64;

}  // namespace

void FileBuffer::Append(absl::string_view data) {
  if (data.empty()) return;
  Reserve(size_ + data.size());
  WriteAt(size_, data.data(), data.size(), /*zeros=*/false);
  size_ += data.size();
}

void FileBuffer::Overwrite(uint64_t offset, absl::string_view data) {
  if (data.empty()) return;
  IRONWAL_CHECK(offset <= size_ && data.size() <= size_ - offset);
  // Only the bytes that change are stored: a rewrite of the bytes in place (recovery's
  // pwrite of verified bytes over themselves) leaves the memory untouched, so a reader of
  // a mapping, which reads without the Env's lock, never races with it.
  const char* current = storage_->bytes.get() + offset;
  size_t first = 0;
  while (first < data.size() && current[first] == data[first]) ++first;
  if (first == data.size()) return;
  size_t end = data.size();
  while (current[end - 1] == data[end - 1]) --end;
  WriteAt(offset + first, data.data() + first, end - first, /*zeros=*/false);
}

void FileBuffer::Resize(uint64_t size) {
  if (size > size_) {
    Reserve(size);
    WriteAt(size_, nullptr, size - size_, /*zeros=*/true);
  }
  size_ = size;
}

size_t FileBuffer::Read(uint64_t offset, size_t n, char* dst) const {
  const absl::string_view view = View(offset, n);
  if (!view.empty()) std::memcpy(dst, view.data(), view.size());
  return view.size();
}

absl::string_view FileBuffer::View(uint64_t offset, size_t n) const {
  if (offset >= size_) return absl::string_view();
  const uint64_t available = size_ - offset;
  const size_t len = static_cast<size_t>(std::min<uint64_t>(n, available));
  return absl::string_view(storage_->bytes.get() + offset, len);
}

void FileBuffer::Reserve(uint64_t capacity) {
  const uint64_t current = storage_ == nullptr ? 0 : storage_->capacity;
  if (capacity <= current) return;
  const uint64_t grown = std::max<uint64_t>({capacity, 2 * current, kMinCapacity});
  auto fresh = std::make_shared<Storage>(static_cast<size_t>(grown));
  if (storage_ != nullptr) {
    if (size_ > 0) std::memcpy(fresh->bytes.get(), storage_->bytes.get(), size_);
    // Forget old storages no mapping holds any more, then keep this one if mapped.
    retired_.erase(std::remove_if(retired_.begin(), retired_.end(),
                                  [](const std::weak_ptr<Storage>& s) { return s.expired(); }),
                   retired_.end());
    if (storage_.use_count() > 1) retired_.push_back(storage_);
  }
  storage_ = std::move(fresh);
}

void FileBuffer::WriteAt(uint64_t offset, const char* data, size_t n, bool zeros) {
  IRONWAL_CHECK(offset <= size_ && offset + n <= storage_->capacity);
  auto write = [&](Storage* storage, size_t len) {
    if (zeros) {
      std::memset(storage->bytes.get() + offset, 0, len);
    } else {
      std::memcpy(storage->bytes.get() + offset, data, len);
    }
  };
  write(storage_.get(), n);
  for (const std::weak_ptr<Storage>& weak : retired_) {
    std::shared_ptr<Storage> old = weak.lock();
    if (old == nullptr || offset >= old->capacity) continue;
    write(old.get(), static_cast<size_t>(std::min<uint64_t>(n, old->capacity - offset)));
  }
}

}  // namespace internal
}  // namespace ironwal
