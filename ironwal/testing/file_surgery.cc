#include "ironwal/testing/file_surgery.h"

#include <memory>
#include <string>

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

}  // namespace testing
}  // namespace ironwal
