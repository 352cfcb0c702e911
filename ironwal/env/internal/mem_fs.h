// File: ironwal/env/internal/mem_fs.h
//
// MemFs: the in-memory file system shared by MemEnv and SimEnv. A tree of inodes (files
// and directories) reached through absolute, '/'-separated paths, with the error codes
// POSIX gives for the same condition (ironwal::internal::IoError with the errno open(2), mkdir(2),
// unlink(2), rename(2), ... would set), so messages have PosixEnv's shape.
//
// Files are shared inodes: a name is a directory entry pointing at one; an open handle
// holds the inode, so a removed file's data stays readable through it, and a rename moves
// the name, not the data.
//
// With Options::track_durability (SimEnv), MemFs also keeps what has reached "disk":
//   - per file a durable image, the set of dirty blocks (block_size bytes) whose volatile
//     bytes differ from it, and whether the length is dirty;
//   - per directory its durable entries and the ordered list of unsynced entry changes
//     (creates, renames, removes) that turn the durable entries into the volatile ones.
// SyncFile and SyncDir make them durable; crash code (sim_crash.h) reads them.
//
// Space: every file that has a name or an open handle is charged max(size, allocated)
// bytes; used_bytes() is their total. Resize to the size or below releases what Allocate
// reserved past it.
//
// Thread-safety: none; the owning Env holds its mutex around every call.
#ifndef IRONWAL_ENV_INTERNAL_MEM_FS_H_
#define IRONWAL_ENV_INTERNAL_MEM_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/internal/file_buffer.h"

namespace ironwal {
namespace internal {

// Operation names in error messages: the words PosixEnv uses, so the same failure reads
// the same on every Env ("remove /w/x: No such file or directory (ENOENT)").
namespace fs_op {
inline constexpr char kOpen[] = "open";
inline constexpr char kAppend[] = "append";
inline constexpr char kWrite[] = "write";
inline constexpr char kSync[] = "sync";
inline constexpr char kFlush[] = "flush";
inline constexpr char kTruncate[] = "truncate";
inline constexpr char kAllocate[] = "allocate";
inline constexpr char kClose[] = "close";
inline constexpr char kRead[] = "read";
inline constexpr char kList[] = "list";
inline constexpr char kStat[] = "stat";
inline constexpr char kMkdir[] = "mkdir";
inline constexpr char kRemove[] = "remove";
inline constexpr char kRmdir[] = "rmdir";
inline constexpr char kRename[] = "rename";
inline constexpr char kSyncDir[] = "sync dir";
inline constexpr char kLock[] = "lock";
}  // namespace fs_op

struct Node {
  Node(uint64_t id, bool is_dir) : id(id), is_dir(is_dir) {}
  virtual ~Node() = default;
  const uint64_t id;  // Unique within the MemFs, stable across renames and crashes.
  const bool is_dir;
};

// InvalidArgument (op "write", the path and offset) unless [offset, offset + n) lies within
// a file of `size` bytes: WritableFile::WriteAt's precondition, as PosixEnv checks it.
absl::Status CheckWriteAt(const std::string& path, uint64_t offset, uint64_t n, uint64_t size);

struct FileNode : Node {
  explicit FileNode(uint64_t id) : Node(id, /*is_dir=*/false) {}
  FileBuffer data;         // The volatile image: what reads return.
  uint64_t allocated = 0;  // End of the space reserved by Allocate.
  uint32_t links = 0;      // Volatile names pointing here.
  uint32_t opens = 0;      // Open handles (maintained by the Env).
  uint64_t charged = 0;    // What this file adds to MemFs::used_bytes().
  // Durability (track_durability only).
  std::string durable;        // The durable image.
  std::set<uint64_t> dirty;   // Blocks whose volatile bytes may differ from `durable`;
                              // every one starts before data.size().
  bool length_dirty = false;  // data.size() != durable.size() and not yet synced.
};

// One unsynced change of a directory's entries: erase `erase` (if not empty), then point
// `set` (if not empty) at `node`.
struct DirOp {
  std::string erase;
  std::string set;
  std::shared_ptr<Node> node;
  std::string description;  // "create /a/b", "rename /a/b -> /a/c", ...
};

using Entries = std::map<std::string, std::shared_ptr<Node>>;

struct DirNode : Node {
  explicit DirNode(uint64_t id) : Node(id, /*is_dir=*/true) {}
  Entries entries;              // Volatile entries.
  Entries durable_entries;      // track_durability only.
  std::vector<DirOp> unsynced;  // Applied in order to durable_entries gives `entries`.
};

// Which changes of a file survive a crash (see ApplyKeptChanges).
struct FileCrashChoice {
  std::vector<uint64_t> whole_blocks;  // Dirty blocks kept whole, ascending.
  bool keep_length = false;            // The volatile length survives.
  bool has_partial = false;            // One more dirty block kept in part:
  uint64_t partial_block = 0;
  uint64_t partial_bytes = 0;         //   its first partial_bytes bytes are new;
  bool partial_covers_block = false;  //   true: the length covers the whole block (a torn
                                      //   block); false: it ends at the cut.
};

// Applies the kept changes of `file` to `image` (its durable image, or a copy):
//   length = the volatile length if keep_length, else the larger of the image's length
//            and the end of every kept block or partial block (clipped to the volatile
//            length); new bytes are zeros;
//   then the volatile bytes of each kept block (and the partial prefix) are copied in.
// Bytes not copied keep their old value ("old bytes or zeros").
void ApplyKeptChanges(const FileNode& file, const FileCrashChoice& choice, uint32_t block_size,
                      std::string* image);

class MemFs {
 public:
  struct Options {
    bool track_durability = false;
    uint32_t block_size = 4096;  // A power of two.
  };
  enum class OpenMode { kTruncate, kAppend, kExisting };

  explicit MemFs(const Options& options);
  MemFs(const MemFs&) = delete;
  MemFs& operator=(const MemFs&) = delete;

  // Path operations. `op` names the operation in error messages.
  // kTruncate/kAppend create a missing file; kExisting requires one. Directories are
  // EISDIR. Returns the file's inode.
  absl::StatusOr<std::shared_ptr<FileNode>> OpenFile(absl::string_view op, const std::string& path,
                                                     OpenMode mode);
  absl::StatusOr<std::vector<std::string>> GetChildren(absl::string_view op,
                                                       const std::string& path) const;
  absl::StatusOr<uint64_t> GetFileSize(absl::string_view op, const std::string& path) const;
  absl::StatusOr<bool> IsDirectory(absl::string_view op, const std::string& path) const;
  // The inode of directory `path`: ENOENT if missing, ENOTDIR for a file.
  absl::StatusOr<uint64_t> DirectoryId(absl::string_view op, const std::string& path) const;
  absl::Status CreateDir(absl::string_view op, const std::string& path);
  absl::Status RemoveFile(absl::string_view op, const std::string& path);
  absl::Status RemoveDir(absl::string_view op, const std::string& path);
  absl::Status Rename(absl::string_view op, const std::string& from, const std::string& to);
  absl::Status SyncDir(absl::string_view op, const std::string& path);
  // The durable image of the file `path` names in the durable tree.
  absl::StatusOr<std::string> DurableContents(absl::string_view op, const std::string& path) const;

  // File operations on an inode from OpenFile.
  void Append(FileNode* file, absl::string_view data);
  // Writes `data` over [offset, offset + data.size()), which must lie within the file
  // (see CheckWriteAt), marking the touched blocks dirty; the size does not change.
  void WriteAt(FileNode* file, uint64_t offset, absl::string_view data);
  void Resize(FileNode* file, uint64_t size);
  void Allocate(FileNode* file, uint64_t end);
  // Makes the file's dirty blocks and length durable; with `lose_dirty` (a failed fsync)
  // marks them clean without copying.
  void SyncFile(FileNode* file, bool lose_dirty);
  void AddOpen(FileNode* file);
  void RemoveOpen(FileNode* file);
  // Bytes all files with a name or an open handle hold (max of size and allocation).
  uint64_t used_bytes() const { return used_bytes_; }
  // The largest extent (the larger of size and allocation) `file` may reach while
  // used_bytes() stays within `capacity`; 0 when the other files already fill it.
  uint64_t RoomFor(const FileNode& file, uint64_t capacity) const;

  // The whole tree, for crash and clone code.
  const std::shared_ptr<DirNode>& root() const { return root_; }
  uint64_t next_id() const { return next_id_; }
  uint32_t block_size() const { return options_.block_size; }
  // Installs a new tree (post-crash or cloned) whose nodes have no open handles, and
  // recomputes the space accounting. Nodes of the old tree must not be passed to MemFs
  // again.
  void ReplaceRoot(std::shared_ptr<DirNode> root, uint64_t next_id);

 private:
  struct Resolved;
  absl::StatusOr<Resolved> Resolve(absl::string_view op, const std::string& path,
                                   bool durable) const;
  std::shared_ptr<FileNode> CreateFile(DirNode* parent, const std::string& name,
                                       const std::string& path);
  void AddEntry(DirNode* dir, const std::string& name, std::shared_ptr<Node> node,
                std::string description);
  void EraseEntry(DirNode* dir, const std::string& name, std::string description);
  void RecordDirOp(DirNode* dir, DirOp op);
  void MarkDirty(FileNode* file, uint64_t begin, uint64_t end);
  void Recharge(FileNode* file);

  const Options options_;
  std::shared_ptr<DirNode> root_;
  uint64_t next_id_ = 1;
  uint64_t used_bytes_ = 0;
};

// The advisory locks of a MemEnv or SimEnv: inode -> the token of the FileLock holding it.
// Not thread-safe: the owner's mutex guards it with the MemFs.
class MemLockTable {
 public:
  // Env::LockFile (`dir` empty: `file` alone, created if missing) and Env::LockDir (the
  // directory `dir`, then, unless `file` is empty, the file `dir`/`file`). Every inode is
  // held under one new token; the inodes it holds go to `inodes`. EWOULDBLOCK (as
  // FailedPrecondition) when one is held already, after which nothing is held and
  // nothing was created unless the directory's lock was free.
  absl::StatusOr<uint64_t> Take(MemFs* fs, const std::string& dir, const std::string& file,
                                std::vector<uint64_t>* inodes);
  // Frees the inodes `token` still holds.
  void Release(const std::vector<uint64_t>& inodes, uint64_t token);
  void Clear() { locks_.clear(); }

 private:
  std::map<uint64_t, uint64_t> locks_;
  uint64_t next_token_ = 1;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_MEM_FS_H_
