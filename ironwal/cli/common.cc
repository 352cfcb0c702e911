// Helpers the `ironwal` subcommands share (commands.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "ironwal/cli/commands.h"
#include "ironwal/env/env.h"
#include "ironwal/env/io_error.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/status_macros.h"

namespace ironwal {
namespace cli {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::DecodeStreamKey;
using ::ironwal::internal::IoError;
using ::ironwal::internal::StreamDirName;

int Failure(absl::string_view command, const absl::Status& status, std::ostream& err) {
  err << "ironwal " << command << ": " << status.message() << "\n";
  return kExitFinding;
}

absl::StatusOr<std::string> AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  std::string cwd(4096, '\0');
  if (getcwd(&cwd[0], cwd.size()) == nullptr) {
    return absl::InternalError(absl::StrCat("getcwd: errno ", errno));
  }
  cwd.resize(cwd.find('\0'));
  if (path.empty() || path == ".") return cwd;
  return JoinPath(cwd, path);
}

namespace {

// The contents of `path` if it is a small regular file (not following a symlink, never
// blocking on a FIFO); nullopt otherwise or on any error.
std::optional<std::string> ReadSmallRegularFile(const std::string& path) {
  constexpr size_t kLimit = 1 << 16;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  struct stat st;
  std::optional<std::string> contents;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) <= kLimit) {
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    const ssize_t n = ::pread(fd, &bytes[0], bytes.size(), 0);
    if (n == static_cast<ssize_t>(bytes.size())) contents = std::move(bytes);
  }
  ::close(fd);
  return contents;
}

}  // namespace

absl::StatusOr<std::string> StreamDirOfKey(const std::string& root, const std::string& key) {
  IRONWAL_ASSIGN_OR_RETURN(std::string dir, StreamDirName(key));
  const std::optional<std::string> key_file =
      ReadSmallRegularFile(JoinPath(JoinPath(root, dir), format::kStreamKeyFileName));
  if (!key_file.has_value()) return dir;
  absl::StatusOr<std::string> owner = DecodeStreamKey(*key_file);
  if (!owner.ok() || *owner == key) return dir;
  return absl::InvalidArgumentError(
      absl::StrCat("stream key '", absl::CEscape(key), "' maps to directory ", JoinPath(root, dir),
                   ", which belongs to stream '", absl::CEscape(*owner), "'"));
}

absl::StatusOr<std::string> ReadToEnd(const std::string& path, uint64_t limit,
                                      absl::string_view limit_is) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return IoError("open", path, errno);
  std::string contents;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return IoError("read", path, contents.size(), e);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > limit) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat("read ", path, ": more than ", limit, " bytes, ", limit_is));
    }
  }
  ::close(fd);
  return contents;
}

absl::Status StreamMustExist(const std::string& root, const std::string& key,
                             const std::string& dir) {
  const std::string path = JoinPath(root, dir);
  absl::StatusOr<bool> is_dir = Env::Default()->IsDirectory(path);
  if (is_dir.ok() && *is_dir) return absl::OkStatus();
  return absl::NotFoundError(
      absl::StrCat("stream '", absl::CEscape(key), "' does not exist (directory ", path, ")"));
}

absl::StatusOr<std::unique_ptr<Wal>> OpenWal(const std::string& root, bool read_only) {
  WalOptions options;
  options.root = root;
  options.read_only = read_only;
  options.sync_mode = SyncMode::kStrict;
  return Wal::Open(options);
}

}  // namespace cli
}  // namespace ironwal
