#include "ironwal/env/internal/mem_fs.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/base/check.h"
#include "ironwal/base/status_macros.h"
#include "ironwal/env/env.h"
#include "ironwal/env/io_error.h"

namespace ironwal {
namespace internal {
namespace {

constexpr size_t kMaxPathLength = 4095;  // PATH_MAX - 1
constexpr size_t kMaxNameLength = 255;   // NAME_MAX

// Splits a path into its components, dropping empty ones (so a relative path splits as
// the same path below "/" would: the in-memory working directory is the root).
std::vector<std::string> SplitPath(absl::string_view path) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin < path.size()) {
    size_t end = path.find('/', begin);
    if (end == absl::string_view::npos) end = path.size();
    if (end > begin) parts.emplace_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

}  // namespace

absl::Status CheckWriteAt(const std::string& path, uint64_t offset, uint64_t n, uint64_t size) {
  if (offset <= size && n <= size - offset) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(fs_op::kWrite, " ", path, "@", offset, ": ", n,
                                                 " bytes pass the end at ", size));
}

// The result of walking a path: the directory holding its last component and what, if
// anything, that component names.
struct MemFs::Resolved {
  DirNode* parent = nullptr;   // nullptr for "/" and paths ending in "." or "..".
  std::string name;            // The last component.
  std::shared_ptr<Node> node;  // nullptr when there is no such entry.
  bool trailing_slash = false;
  bool is_root = false;
};

MemFs::MemFs(const Options& options) : options_(options) {
  IRONWAL_CHECK(options_.block_size > 0 && (options_.block_size & (options_.block_size - 1)) == 0)
      << "block_size " << options_.block_size << " is not a power of two";
  root_ = std::make_shared<DirNode>(next_id_++);  // After next_id_ is initialized.
}

// Walks `path` through the volatile entries (or the durable ones). Errors as POSIX path
// resolution: ENOENT for an empty path or a missing intermediate directory; ENOTDIR when
// an intermediate component is a file (NotFound: a missing parent, as PosixEnv reports
// it) or the last one is, before a trailing '/' (FailedPrecondition); EINVAL for a NUL
// byte; ENAMETOOLONG for an overlong path or component.
absl::StatusOr<MemFs::Resolved> MemFs::Resolve(absl::string_view op, const std::string& path,
                                               bool durable) const {
  if (path.empty()) return IoError(op, path, ENOENT);
  // A relative path is resolved from "/", the in-memory file system's working directory.
  if (path.find('\0') != std::string::npos) return IoError(op, path, EINVAL);
  if (path.size() > kMaxPathLength) return IoError(op, path, ENAMETOOLONG);
  const std::vector<std::string> parts = SplitPath(path);
  std::vector<std::shared_ptr<Node>> stack = {root_};  // Directories from the root down.
  Resolved result;
  result.trailing_slash = path.size() > 1 && path.back() == '/';
  result.node = root_;
  result.is_root = parts.empty();
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (part.size() > kMaxNameLength) return IoError(op, path, ENAMETOOLONG);
    if (part == "." || part == "..") {
      if (part == ".." && stack.size() > 1) stack.pop_back();
      result =
          Resolved{nullptr, part, stack.back(), result.trailing_slash, stack.size() == 1 && last};
      continue;
    }
    auto* dir = static_cast<DirNode*>(stack.back().get());
    const Entries& entries = durable ? dir->durable_entries : dir->entries;
    auto it = entries.find(part);
    std::shared_ptr<Node> found = it == entries.end() ? nullptr : it->second;
    if (last) {
      result = Resolved{dir, part, std::move(found), result.trailing_slash, false};
      break;
    }
    if (found == nullptr) return IoError(op, path, ENOENT);
    if (!found->is_dir) {
      // A file where a parent directory should be: a missing parent (env.h), with the
      // errno POSIX gives, as PosixEnv reports it.
      return absl::NotFoundError(IoError(op, path, ENOTDIR).message());
    }
    stack.push_back(std::move(found));
  }
  if (result.trailing_slash && result.node != nullptr && !result.node->is_dir) {
    return IoError(op, path, ENOTDIR);
  }
  return result;
}

absl::StatusOr<std::shared_ptr<FileNode>> MemFs::OpenFile(absl::string_view op,
                                                          const std::string& path, OpenMode mode) {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node != nullptr) {
    if (r->node->is_dir) return IoError(op, path, EISDIR);
    auto file = std::static_pointer_cast<FileNode>(r->node);
    if (mode == OpenMode::kTruncate) Resize(file.get(), 0);
    return file;
  }
  if (mode == OpenMode::kExisting) return IoError(op, path, ENOENT);
  if (r->trailing_slash || r->parent == nullptr) return IoError(op, path, EISDIR);
  return CreateFile(r->parent, r->name, path);
}

absl::StatusOr<std::vector<std::string>> MemFs::GetChildren(absl::string_view op,
                                                            const std::string& path) const {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (!r->node->is_dir) return IoError(op, path, ENOTDIR);
  std::vector<std::string> names;
  for (const auto& entry : static_cast<const DirNode&>(*r->node).entries) {
    names.push_back(entry.first);  // std::map: already sorted.
  }
  return names;
}

absl::StatusOr<uint64_t> MemFs::GetFileSize(absl::string_view op, const std::string& path) const {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (r->node->is_dir) return IoError(op, path, EISDIR);
  return static_cast<const FileNode&>(*r->node).data.size();
}

absl::StatusOr<bool> MemFs::IsDirectory(absl::string_view op, const std::string& path) const {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  return r->node->is_dir;
}

absl::StatusOr<uint64_t> MemFs::DirectoryId(absl::string_view op, const std::string& path) const {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (!r->node->is_dir) return IoError(op, path, ENOTDIR);
  return r->node->id;
}

absl::Status MemFs::CreateDir(absl::string_view op, const std::string& path) {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node != nullptr || r->parent == nullptr) return IoError(op, path, EEXIST);
  AddEntry(r->parent, r->name, std::make_shared<DirNode>(next_id_++), absl::StrCat("mkdir ", path));
  return absl::OkStatus();
}

absl::Status MemFs::RemoveFile(absl::string_view op, const std::string& path) {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (r->node->is_dir) return IoError(op, path, EISDIR);
  auto file = std::static_pointer_cast<FileNode>(r->node);
  EraseEntry(r->parent, r->name, absl::StrCat("unlink ", path));
  --file->links;
  Recharge(file.get());
  return absl::OkStatus();
}

absl::Status MemFs::RemoveDir(absl::string_view op, const std::string& path) {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (!r->node->is_dir) return IoError(op, path, ENOTDIR);
  if (r->is_root) return IoError(op, path, EBUSY);
  if (r->parent == nullptr) return IoError(op, path, EINVAL);  // "/a/." or "/a/.."
  if (!static_cast<const DirNode&>(*r->node).entries.empty()) {
    return IoError(op, path, ENOTEMPTY);
  }
  EraseEntry(r->parent, r->name, absl::StrCat("rmdir ", path));
  return absl::OkStatus();
}

// rename(2) restricted to files: EISDIR when either side is a directory.
absl::Status MemFs::Rename(absl::string_view op, const std::string& from, const std::string& to) {
  absl::StatusOr<Resolved> src = Resolve(op, from, /*durable=*/false);
  if (!src.ok()) return src.status();
  if (src->node == nullptr) return IoError(op, from, ENOENT);
  if (src->node->is_dir) return IoError(op, from, EISDIR);
  absl::StatusOr<Resolved> dst = Resolve(op, to, /*durable=*/false);
  if (!dst.ok()) return dst.status();
  if (dst->node != nullptr && dst->node->is_dir) return IoError(op, to, EISDIR);
  if (dst->parent == nullptr) return IoError(op, to, EISDIR);
  if (dst->node == nullptr && dst->trailing_slash) return IoError(op, to, ENOTDIR);
  if (dst->node == src->node) return absl::OkStatus();  // Same file: nothing to do.
  auto file = std::static_pointer_cast<FileNode>(src->node);
  std::shared_ptr<Node> replaced = dst->node;
  const std::string what = absl::StrCat("rename ", from, " -> ", to);
  if (src->parent == dst->parent) {
    src->parent->entries.erase(src->name);
    src->parent->entries[dst->name] = file;
    RecordDirOp(src->parent, DirOp{src->name, dst->name, file, what});
  } else {
    EraseEntry(src->parent, src->name, absl::StrCat(what, " (source entry)"));
    AddEntry(dst->parent, dst->name, file, absl::StrCat(what, " (target entry)"));
  }
  if (replaced != nullptr) {
    auto old = std::static_pointer_cast<FileNode>(replaced);
    --old->links;
    Recharge(old.get());
  }
  return absl::OkStatus();
}

absl::Status MemFs::SyncDir(absl::string_view op, const std::string& path) {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/false);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (!r->node->is_dir) return IoError(op, path, ENOTDIR);
  if (options_.track_durability) {
    auto* dir = static_cast<DirNode*>(r->node.get());
    dir->durable_entries = dir->entries;
    dir->unsynced.clear();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemFs::DurableContents(absl::string_view op,
                                                   const std::string& path) const {
  absl::StatusOr<Resolved> r = Resolve(op, path, /*durable=*/true);
  if (!r.ok()) return r.status();
  if (r->node == nullptr) return IoError(op, path, ENOENT);
  if (r->node->is_dir) return IoError(op, path, EISDIR);
  return static_cast<const FileNode&>(*r->node).durable;
}

std::shared_ptr<FileNode> MemFs::CreateFile(DirNode* parent, const std::string& name,
                                            const std::string& path) {
  auto file = std::make_shared<FileNode>(next_id_++);
  AddEntry(parent, name, file, absl::StrCat("create ", path));
  file->links = 1;
  Recharge(file.get());
  return file;
}

void MemFs::AddEntry(DirNode* dir, const std::string& name, std::shared_ptr<Node> node,
                     std::string description) {
  dir->entries[name] = node;
  RecordDirOp(dir, DirOp{"", name, std::move(node), std::move(description)});
}

void MemFs::EraseEntry(DirNode* dir, const std::string& name, std::string description) {
  dir->entries.erase(name);
  RecordDirOp(dir, DirOp{name, "", nullptr, std::move(description)});
}

void MemFs::RecordDirOp(DirNode* dir, DirOp op) {
  if (options_.track_durability) dir->unsynced.push_back(std::move(op));
}

absl::StatusOr<uint64_t> MemLockTable::Take(MemFs* fs, const std::string& dir,
                                            const std::string& file,
                                            std::vector<uint64_t>* inodes) {
  inodes->clear();
  if (!dir.empty()) {
    IRONWAL_ASSIGN_OR_RETURN(const uint64_t id, fs->DirectoryId(fs_op::kLock, dir));
    if (locks_.count(id) != 0) return IoError(fs_op::kLock, dir, EWOULDBLOCK);
    inodes->push_back(id);
  }
  if (!file.empty()) {
    const std::string path = dir.empty() ? file : JoinPath(dir, file);
    IRONWAL_ASSIGN_OR_RETURN(std::shared_ptr<FileNode> node,
                             fs->OpenFile(fs_op::kLock, path, MemFs::OpenMode::kAppend));
    if (locks_.count(node->id) != 0) return IoError(fs_op::kLock, path, EWOULDBLOCK);
    inodes->push_back(node->id);
  }
  const uint64_t token = next_token_++;
  for (uint64_t id : *inodes) locks_[id] = token;
  return token;
}

void MemLockTable::Release(const std::vector<uint64_t>& inodes, uint64_t token) {
  for (uint64_t id : inodes) {
    auto it = locks_.find(id);
    if (it != locks_.end() && it->second == token) locks_.erase(it);
  }
}

}  // namespace internal
}  // namespace ironwal
