// MemFs: file data, durability and space accounting (the tree is in mem_fs.cc).
#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "ironwal/base/check.h"
#include "ironwal/env/internal/mem_fs.h"

namespace ironwal {
namespace internal {

void ApplyKeptChanges(const FileNode& file, const FileCrashChoice& choice, uint32_t block_size,
                      std::string* image) {
  const uint64_t volatile_size = file.data.size();
  auto block_end = [&](uint64_t block) {
    return std::min<uint64_t>((block + 1) * block_size, volatile_size);
  };
  uint64_t length = image->size();
  if (choice.keep_length) {
    length = volatile_size;
  } else {
    for (uint64_t block : choice.whole_blocks) length = std::max(length, block_end(block));
    if (choice.has_partial) {
      const uint64_t begin = choice.partial_block * block_size;
      const uint64_t cut = std::min(begin + choice.partial_bytes, block_end(choice.partial_block));
      length =
          std::max(length, choice.partial_covers_block ? block_end(choice.partial_block) : cut);
    }
  }
  image->resize(length, '\0');
  auto copy = [&](uint64_t begin, uint64_t end) {
    end = std::min(end, length);
    if (begin >= end) return;
    const absl::string_view bytes = file.data.View(begin, end - begin);
    std::memcpy(&(*image)[begin], bytes.data(), bytes.size());
  };
  for (uint64_t block : choice.whole_blocks) copy(block * block_size, block_end(block));
  if (choice.has_partial) {
    const uint64_t begin = choice.partial_block * block_size;
    copy(begin, std::min(begin + choice.partial_bytes, block_end(choice.partial_block)));
  }
}

void MemFs::Append(FileNode* file, absl::string_view data) {
  const uint64_t old_size = file->data.size();
  file->data.Append(data);
  if (options_.track_durability) {
    MarkDirty(file, old_size, file->data.size());
    file->length_dirty = file->data.size() != file->durable.size();
  }
  Recharge(file);
}

void MemFs::WriteAt(FileNode* file, uint64_t offset, absl::string_view data) {
  file->data.Overwrite(offset, data);
  if (options_.track_durability) MarkDirty(file, offset, offset + data.size());
}

void MemFs::Resize(FileNode* file, uint64_t size) {
  const uint64_t old_size = file->data.size();
  file->data.Resize(size);
  // As ext4 and XFS: a truncation to the size or below it (not an extension) frees the
  // space Allocate reserved past it.
  if (size <= old_size) file->allocated = std::min(file->allocated, size);
  if (options_.track_durability) {
    if (size > old_size) {
      MarkDirty(file, old_size, size);
    } else {
      // Blocks that now start at or past the end have no volatile bytes left.
      const uint64_t first_gone = (size + options_.block_size - 1) / options_.block_size;
      file->dirty.erase(file->dirty.lower_bound(first_gone), file->dirty.end());
    }
    file->length_dirty = size != file->durable.size();
  }
  Recharge(file);
}

void MemFs::Allocate(FileNode* file, uint64_t end) {
  file->allocated = std::max(file->allocated, end);
  Recharge(file);
}

void MemFs::SyncFile(FileNode* file, bool lose_dirty) {
  if (!options_.track_durability) return;
  if (!lose_dirty) {
    FileCrashChoice all;
    all.whole_blocks.assign(file->dirty.begin(), file->dirty.end());
    all.keep_length = file->length_dirty;
    ApplyKeptChanges(*file, all, options_.block_size, &file->durable);
  }
  file->dirty.clear();
  file->length_dirty = false;
}

void MemFs::AddOpen(FileNode* file) {
  ++file->opens;
  Recharge(file);
}

void MemFs::RemoveOpen(FileNode* file) {
  IRONWAL_CHECK(file->opens > 0);
  --file->opens;
  Recharge(file);
}

uint64_t MemFs::RoomFor(const FileNode& file, uint64_t capacity) const {
  const uint64_t others = used_bytes_ - file.charged;
  return others >= capacity ? 0 : capacity - others;
}

void MemFs::MarkDirty(FileNode* file, uint64_t begin, uint64_t end) {
  if (begin >= end) return;
  const uint64_t last = (end - 1) / options_.block_size;
  auto hint = file->dirty.end();
  for (uint64_t block = begin / options_.block_size; block <= last; ++block) {
    hint = file->dirty.insert(hint, block);
    ++hint;
  }
}

void MemFs::Recharge(FileNode* file) {
  const bool live = file->links > 0 || file->opens > 0;
  const uint64_t charge = live ? std::max(file->data.size(), file->allocated) : 0;
  used_bytes_ = used_bytes_ - file->charged + charge;
  file->charged = charge;
}

void MemFs::ReplaceRoot(std::shared_ptr<DirNode> root, uint64_t next_id) {
  IRONWAL_CHECK(next_id >= next_id_);
  root_ = std::move(root);
  next_id_ = next_id;
  used_bytes_ = 0;
  // Count each file's names (a file may have two after a crash that kept only one side of
  // a cross-directory rename), then charge it once.
  std::map<uint64_t, FileNode*> files;
  std::map<uint64_t, uint32_t> links;
  std::vector<const DirNode*> pending = {root_.get()};
  while (!pending.empty()) {
    const DirNode* dir = pending.back();
    pending.pop_back();
    for (const auto& entry : dir->entries) {
      if (entry.second->is_dir) {
        pending.push_back(static_cast<const DirNode*>(entry.second.get()));
      } else {
        files[entry.second->id] = static_cast<FileNode*>(entry.second.get());
        ++links[entry.second->id];
      }
    }
  }
  for (const auto& [id, file] : files) {
    file->links = links[id];
    file->opens = 0;
    file->charged = 0;
    Recharge(file);
  }
}

}  // namespace internal
}  // namespace ironwal
