// EnvWrapper: a subclass that overrides one call sees and changes that call only; the
// rest reach the target unchanged (the conformance suite runs every call through a
// wrapper with nothing overridden). A Wal runs on a wrapper.
#include "ironwal/env/env_wrapper.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;

// Fails SyncDir of one directory; counts the Sync calls of the files it opens for writing.
class FlakyEnv : public EnvWrapper {
 public:
  FlakyEnv(Env* target, std::string failing_dir)
      : EnvWrapper(target), failing_dir_(std::move(failing_dir)) {}

  absl::Status SyncDir(const std::string& dir) override {
    if (dir == failing_dir_) return absl::InternalError("sync dir " + dir + ": EIO");
    return EnvWrapper::SyncDir(dir);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Count(EnvWrapper::NewWritableFile(path));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return Count(EnvWrapper::NewAppendableFile(path));
  }
  int syncs() const { return syncs_; }

 private:
  class CountingFile : public WritableFileWrapper {
   public:
    CountingFile(std::unique_ptr<WritableFile> target, int* syncs)
        : WritableFileWrapper(std::move(target)), syncs_(syncs) {}
    absl::Status Sync() override {
      ++*syncs_;
      return WritableFileWrapper::Sync();
    }

   private:
    int* const syncs_;
  };

  absl::StatusOr<std::unique_ptr<WritableFile>> Count(
      absl::StatusOr<std::unique_ptr<WritableFile>> file) {
    if (!file.ok()) return file;
    return std::unique_ptr<WritableFile>(new CountingFile(*std::move(file), &syncs_));
  }

  const std::string failing_dir_;
  int syncs_ = 0;
};

TEST(EnvWrapperTest, AnOverriddenCallIsInterceptedAndTheOthersReachTheTarget) {
  MemEnv mem;
  FlakyEnv env(&mem, "/a");
  EXPECT_EQ(env.target(), &mem);
  ASSERT_OK(env.CreateDir("/a"));
  ASSERT_OK(env.CreateDir("/b"));
  EXPECT_THAT(env.SyncDir("/a"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_OK(env.SyncDir("/b"));
  ASSERT_OK(WriteFileAtomically(&env, "/b/f", "written through the wrapper"));
  EXPECT_THAT(ReadFileToString(&mem, "/b/f"), IsOkAndHolds("written through the wrapper"));
  EXPECT_THAT(env.GetFileSize("/b/f"), IsOkAndHolds(27u));

  EXPECT_EQ(env.syncs(), 1);  // the temporary file's
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file, env.NewAppendableFile("/b/f"));
  ASSERT_OK(file->Append("!"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->WriteAt(0, "W"));
  ASSERT_OK(file->Sync());
  EXPECT_EQ(file->Size(), 28u);
  EXPECT_EQ(file->path(), "/b/f");
  ASSERT_OK(file->Close());
  EXPECT_EQ(env.syncs(), 3);
  EXPECT_THAT(ReadFileToString(&mem, "/b/f"), IsOkAndHolds("Written through the wrapper!"));
}

TEST(EnvWrapperTest, AWalRunsOnAWrapperAndSeesItsFaults) {
  MemEnv mem;
  FlakyEnv env(&mem, "/wal/s");
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    // Creating stream "s" syncs its directory, which this wrapper fails.
    EXPECT_THAT(wal->Append("s", "x"), StatusIs(absl::StatusCode::kInternal));
    EXPECT_THAT(wal->Append("t", "through the wrapper"), IsOkAndHolds(0u));
    ASSERT_OK(wal->Close());
  }
  EXPECT_GT(env.syncs(), 0);
  options.env = &mem;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  EXPECT_THAT(wal->Get("t", 0), IsOkAndHolds("through the wrapper"));
}

}  // namespace
}  // namespace ironwal
