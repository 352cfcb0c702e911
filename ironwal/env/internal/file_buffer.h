// File: ironwal/env/internal/file_buffer.h
//
// FileBuffer: the bytes of one in-memory file (MemEnv's files, SimEnv's volatile images).
// Appends are amortized O(1): the storage grows by reallocating into a buffer of at least
// twice the capacity. Map() returns a view of the current bytes that stays valid, and is
// never moved, while the returned Mapping lives: a Mapping shares ownership of the storage
// it points into, so growth leaves old mappings on the old storage. Later writes into a
// range that an old storage still maps (possible only after a shrinking Resize) are copied
// into that storage too, so a mapping sees them as a real MAP_SHARED mapping would.
//
// Thread-safety: not thread-safe; the owning Env serializes access. The bytes a Mapping
// covers may be read without that lock: writers only touch them after the file was shrunk
// below them, or when they overwrite them with different bytes (a race in the caller, as
// with a real mapping); an overwrite with the same bytes touches nothing.
#ifndef IRONWAL_ENV_INTERNAL_FILE_BUFFER_H_
#define IRONWAL_ENV_INTERNAL_FILE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ironwal {
namespace internal {

class FileBuffer {
 public:
  // A block of memory; its address never changes.
  struct Storage {
    explicit Storage(size_t capacity) : bytes(new char[capacity]), capacity(capacity) {}
    std::unique_ptr<char[]> bytes;
    const size_t capacity;
  };

  // A read-only view of the first `size` bytes at the time of Map().
  class Mapping {
   public:
    Mapping() = default;
    Mapping(std::shared_ptr<const Storage> storage, uint64_t size)
        : storage_(std::move(storage)), size_(size) {}
    uint64_t size() const { return size_; }
    // The mapped bytes [offset, offset + n). REQUIRES: offset + n <= size().
    absl::string_view View(uint64_t offset, size_t n) const {
      return n == 0 ? absl::string_view() : absl::string_view(storage_->bytes.get() + offset, n);
    }

   private:
    std::shared_ptr<const Storage> storage_;
    uint64_t size_ = 0;
  };

  FileBuffer() = default;
  FileBuffer(const FileBuffer&) = delete;
  FileBuffer& operator=(const FileBuffer&) = delete;

  uint64_t size() const { return size_; }

  // Appends `data` at the end. Amortized O(data.size()).
  void Append(absl::string_view data);

  // Writes `data` over [offset, offset + data.size()). REQUIRES: that lies within size().
  // Bytes equal to those in place are not stored again (nothing is written when all are):
  // rewriting a mapped range with its own bytes is no race for the mapping's readers.
  void Overwrite(uint64_t offset, absl::string_view data);

  // Shrinks to `size` bytes, or extends with zero bytes.
  void Resize(uint64_t size);

  // Copies up to `n` bytes from `offset` into `dst`; returns how many (0 at or past the end).
  size_t Read(uint64_t offset, size_t n, char* dst) const;

  // The bytes [offset, offset + n) clipped to the size, valid until the next mutation.
  absl::string_view View(uint64_t offset, size_t n) const;

  // The whole contents, copied.
  std::string ToString() const { return std::string(View(0, size_)); }

  // A mapping of the current contents (see the file comment).
  Mapping Map() const { return Mapping(storage_, size_); }

 private:
  // Makes the capacity at least `capacity`, reallocating (and retiring a mapped storage).
  void Reserve(uint64_t capacity);
  // Writes `n` bytes at `offset` (<= size_), into the storage and any mapped old storage.
  // REQUIRES: offset + n <= capacity.
  void WriteAt(uint64_t offset, const char* data, size_t n, bool zeros);

  std::shared_ptr<Storage> storage_;
  uint64_t size_ = 0;
  // Old storages still held by a Mapping when they were replaced.
  std::vector<std::weak_ptr<Storage>> retired_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_FILE_BUFFER_H_
