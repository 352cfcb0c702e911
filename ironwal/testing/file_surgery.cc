#include "ironwal/testing/file_surgery.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace testing {
namespace {

void WriteWith(absl::StatusOr<std::unique_ptr<WritableFile>> file, const std::string& path,
               absl::string_view contents) {
  ASSERT_TRUE(file.ok()) << "open " << path << ": " << file.status();
  const absl::Status appended = (*file)->Append(contents);
  ASSERT_TRUE(appended.ok()) << "write " << path << ": " << appended;
  const absl::Status closed = (*file)->Close();
  ASSERT_TRUE(closed.ok()) << "close " << path << ": " << closed;
}

}  // namespace

std::string ReadFileOrFail(Env* env, const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  EXPECT_TRUE(contents.ok()) << "read " << path << ": " << contents.status();
  return contents.ok() ? *std::move(contents) : std::string();
}

void WriteFileOrFail(Env* env, const std::string& path, absl::string_view contents) {
  WriteWith(env->NewWritableFile(path), path, contents);
}

void WriteFileAtomicallyOrFail(Env* env, const std::string& path, absl::string_view contents) {
  const absl::Status written = WriteFileAtomically(env, path, contents);
  ASSERT_TRUE(written.ok()) << "write atomically " << path << ": " << written;
}

void AppendToFile(Env* env, const std::string& path, absl::string_view contents) {
  WriteWith(env->NewAppendableFile(path), path, contents);
}

void CutFile(Env* env, const std::string& path, uint64_t size) {
  const std::string contents = ReadFileOrFail(env, path);
  ASSERT_LE(size, contents.size()) << "cut " << path << " to " << size << " bytes";
  WriteFileOrFail(env, path, absl::string_view(contents).substr(0, size));
}

void FlipByte(Env* env, const std::string& path, uint64_t offset, char mask) {
  std::string contents = ReadFileOrFail(env, path);
  ASSERT_LT(offset, contents.size()) << "flip " << path << "@" << offset;
  contents[offset] = static_cast<char>(contents[offset] ^ mask);
  WriteFileOrFail(env, path, contents);
}

std::map<std::string, std::string> ReadTreeOrFail(Env* env, const std::string& dir,
                                                  const std::set<std::string>& skip) {
  std::map<std::string, std::string> tree;
  absl::StatusOr<std::vector<std::string>> children = env->GetChildren(dir);
  if (!children.ok()) {
    ADD_FAILURE() << "list " << dir << ": " << children.status();
    return tree;
  }
  for (const std::string& name : *children) {
    const std::string path = JoinPath(dir, name);
    absl::StatusOr<bool> is_dir = env->IsDirectory(path);
    if (!is_dir.ok()) {
      ADD_FAILURE() << "stat " << path << ": " << is_dir.status();
    } else if (*is_dir) {
      tree.merge(ReadTreeOrFail(env, path, skip));
    } else if (skip.count(name) == 0) {
      tree[path] = ReadFileOrFail(env, path);
    }
  }
  return tree;
}

}  // namespace testing
}  // namespace ironwal
