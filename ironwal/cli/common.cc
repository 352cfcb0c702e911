// Helpers the `ironwal` subcommands share (commands.h).
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/cli/commands.h"
#include "ironwal/cli/verifier.h"
#include "ironwal/env/env.h"

namespace ironwal {
namespace cli {

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

absl::StatusOr<std::vector<std::string>> SelectStreamDirs(const std::string& root,
                                                          const std::string& dir) {
  Env* env = Env::Default();
  if (dir.empty()) return ListStreamDirs(env, root);
  const std::string path = JoinPath(root, dir);
  absl::StatusOr<bool> is_dir = env->IsDirectory(path);
  if (absl::IsNotFound(is_dir.status()) || (is_dir.ok() && !*is_dir)) {
    return absl::NotFoundError(absl::StrCat("no stream directory ", path));
  }
  IRONWAL_RETURN_IF_ERROR(is_dir.status());
  IRONWAL_ASSIGN_OR_RETURN(const bool is_stream, IsStreamDir(env, path));
  if (!is_stream) {
    return absl::NotFoundError(absl::StrCat(path, " is not a stream directory (no segment, ",
                                            "segments.idx, head.state, stream.key, ...)"));
  }
  return std::vector<std::string>{dir};
}

}  // namespace cli
}  // namespace ironwal
