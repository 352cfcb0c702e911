// The Env conformance suite: every Env operation, with its error cases, run against each
// Env implementation, expecting the same status codes and the same contents from all.
//
// Adding an Env is one factory struct and one entry in `EnvFactories`. A factory has
//   static std::unique_ptr<Env> Make();  // a fresh Env
//   static std::string Root();           // a directory path that does not exist yet in it
// The fixture creates Root() with CreateDirRecursively; every test works below it.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/env_wrapper.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/env/posix_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

namespace ironwal {

using internal::NewPosixEnv;

namespace {

using ::ironwal::testing::IsOk;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;
constexpr absl::StatusCode kAlreadyExists = absl::StatusCode::kAlreadyExists;
constexpr absl::StatusCode kFailedPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;

// The real file system, in a directory of its own under TEST_TMPDIR per test.
struct PosixEnvFactory {
  static std::unique_ptr<Env> Make() { return NewPosixEnv(); }
  static std::string Root() {
    static int runs = 0;  // Keeps roots apart under --gtest_repeat.
    const std::string tmp = ::ironwal::testing::TestTmpDir();
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = absl::StrReplaceAll(
        absl::StrCat(info->test_suite_name(), ".", info->name(), ".", ++runs), {{"/", "_"}});
    return JoinPath(JoinPath(tmp, "conformance"), name);
  }
};

// The in-memory Envs, each fresh per test.
struct MemEnvFactory {
  static std::unique_ptr<Env> Make() { return std::make_unique<MemEnv>(); }
  static std::string Root() { return "/conformance"; }
};

// SimEnv without faults behaves as a file system that never crashes.
struct SimEnvFactory {
  static std::unique_ptr<Env> Make() { return std::make_unique<SimEnv>(); }
  static std::string Root() { return "/conformance"; }
};

// EnvWrapper over a MemEnv it owns, wrapping every file it opens in the file wrappers: with
// nothing overridden, the wrappers must forward every call (and every error) unchanged.
class WrappingEnv : public EnvWrapper {
 public:
  explicit WrappingEnv(std::unique_ptr<Env> owned)
      : EnvWrapper(owned.get()), owned_(std::move(owned)) {}
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Wrap(EnvWrapper::NewWritableFile(path));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return Wrap(EnvWrapper::NewAppendableFile(path));
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override {
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
        EnvWrapper::NewRandomAccessFile(path, options);
    if (!file.ok()) return file;
    return std::unique_ptr<RandomAccessFile>(new RandomAccessFileWrapper(*std::move(file)));
  }

 private:
  static absl::StatusOr<std::unique_ptr<WritableFile>> Wrap(
      absl::StatusOr<std::unique_ptr<WritableFile>> file) {
    if (!file.ok()) return file;
    return std::unique_ptr<WritableFile>(new WritableFileWrapper(*std::move(file)));
  }
  const std::unique_ptr<Env> owned_;
};

struct EnvWrapperFactory {
  static std::unique_ptr<Env> Make() {
    return std::make_unique<WrappingEnv>(std::make_unique<MemEnv>());
  }
  static std::string Root() { return "/conformance"; }
};

using EnvFactories =
    ::testing::Types<PosixEnvFactory, MemEnvFactory, SimEnvFactory, EnvWrapperFactory>;

template <typename Factory>
class EnvConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = Factory::Make();
    root_ = Factory::Root();
    ASSERT_OK(CreateDirRecursively(env_.get(), root_));
    ASSERT_THAT(env_->GetChildren(root_), IsOkAndHolds(IsEmpty()));
  }

  std::string Path(absl::string_view name) const { return JoinPath(root_, name); }

  // Creates (or truncates) `path` holding `contents`, through the Env under test.
  void WriteFile(const std::string& path, absl::string_view contents) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file, env_->NewWritableFile(path));
    ASSERT_OK(file->Append(contents));
    ASSERT_OK(file->Close());
  }

  // The whole file, or "<status>" when it cannot be read.
  std::string Contents(const std::string& path) {
    absl::StatusOr<std::string> contents = ReadFileToString(env_.get(), path);
    return contents.ok() ? *contents : absl::StrCat("<", contents.status().ToString(), ">");
  }

  std::unique_ptr<RandomAccessFile> OpenForRead(const std::string& path, bool use_mmap) {
    RandomAccessFileOptions options;
    options.use_mmap = use_mmap;
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
        env_->NewRandomAccessFile(path, options);
    EXPECT_OK(file);
    return file.ok() ? *std::move(file) : nullptr;
  }

  // Read() as a string, or "<status>".
  static std::string ReadString(const RandomAccessFile& file, uint64_t offset, size_t n) {
    std::string scratch(n, '\0');
    absl::StatusOr<absl::string_view> view = file.Read(offset, n, &scratch[0]);
    return view.ok() ? std::string(*view) : absl::StrCat("<", view.status().ToString(), ">");
  }

  std::unique_ptr<Env> env_;
  std::string root_;
};

TYPED_TEST_SUITE(EnvConformanceTest, EnvFactories);

// Bytes whose value depends on their offset, so a misplaced read shows.
std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (i * 31 + i / 26) % 26);
  return s;
}

// --- NewWritableFile / NewAppendableFile -------------------------------------------------

TYPED_TEST(EnvConformanceTest, NewWritableFileCreatesAnEmptyFile) {
  const std::string path = this->Path("new");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->Size(), 0u);
  EXPECT_THAT(this->env_->GetFileSize(path), IsOkAndHolds(0u));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("new")));
}

TYPED_TEST(EnvConformanceTest, NewWritableFileTruncatesAnExistingFile) {
  const std::string path = this->Path("f");
  this->WriteFile(path, "old contents");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  EXPECT_EQ(file->Size(), 0u);
  EXPECT_EQ(this->Contents(path), "");
  ASSERT_OK(file->Append("new"));
  EXPECT_EQ(this->Contents(path), "new");
}

TYPED_TEST(EnvConformanceTest, NewWritableFileInAMissingDirectoryIsNotFound) {
  const std::string path = this->Path("missing/f");
  EXPECT_THAT(this->env_->NewWritableFile(path), StatusIs(kNotFound, HasSubstr(path)));
  EXPECT_THAT(this->env_->NewAppendableFile(path), StatusIs(kNotFound, HasSubstr(path)));
}

// A file where a parent directory should be is a missing parent (io_error.h).
TYPED_TEST(EnvConformanceTest, NewWritableFileUnderAFileIsNotFound) {
  this->WriteFile(this->Path("file"), "x");
  EXPECT_THAT(this->env_->NewWritableFile(this->Path("file/f")), StatusIs(kNotFound));
  EXPECT_THAT(this->env_->NewAppendableFile(this->Path("file/f")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, NewWritableFileOnADirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  EXPECT_THAT(this->env_->NewWritableFile(this->Path("d")), StatusIs(kFailedPrecondition));
  EXPECT_THAT(this->env_->NewAppendableFile(this->Path("d")), StatusIs(kFailedPrecondition));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("d")), IsOkAndHolds(true));
}

TYPED_TEST(EnvConformanceTest, NewAppendableFileCreatesAMissingFile) {
  const std::string path = this->Path("log");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewAppendableFile(path));
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->Size(), 0u);
  EXPECT_THAT(this->env_->GetFileSize(path), IsOkAndHolds(0u));
}

TYPED_TEST(EnvConformanceTest, NewAppendableFileAppendsAtTheEnd) {
  const std::string path = this->Path("log");
  this->WriteFile(path, "first,");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewAppendableFile(path));
  EXPECT_EQ(file->Size(), 6u);
  ASSERT_OK(file->Append("second"));
  EXPECT_EQ(file->Size(), 12u);
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), "first,second");
}

// --- WritableFile ------------------------------------------------------------------------

TYPED_TEST(EnvConformanceTest, AppendedBytesAreVisibleBeforeSyncOrClose) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("abc"));
  ASSERT_OK(file->Append(""));
  ASSERT_OK(file->Append("def"));
  EXPECT_EQ(file->Size(), 6u);
  EXPECT_THAT(this->env_->GetFileSize(path), IsOkAndHolds(6u));
  EXPECT_EQ(this->Contents(path), "abcdef");
}

TYPED_TEST(EnvConformanceTest, FlushAndSyncKeepTheContents) {
  const std::string path = this->Path("f");
  const std::string big = Pattern(100000);
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append(big));
  ASSERT_OK(file->Flush());
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Append("!"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), big + "!");
}

TYPED_TEST(EnvConformanceTest, TruncateShrinksTheFile) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("0123456789"));
  ASSERT_OK(file->Truncate(4));
  EXPECT_EQ(file->Size(), 4u);
  EXPECT_THAT(this->env_->GetFileSize(path), IsOkAndHolds(4u));
  EXPECT_EQ(this->Contents(path), "0123");
}

TYPED_TEST(EnvConformanceTest, TruncateExtendsWithZeros) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("ab"));
  ASSERT_OK(file->Truncate(6));
  EXPECT_EQ(file->Size(), 6u);
  EXPECT_EQ(this->Contents(path), std::string("ab\0\0\0\0", 6));
}

TYPED_TEST(EnvConformanceTest, AppendsAfterTruncateGoAtTheNewSize) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("0123456789"));
  ASSERT_OK(file->Truncate(3));
  ASSERT_OK(file->Append("abc"));
  EXPECT_EQ(file->Size(), 6u);
  EXPECT_EQ(this->Contents(path), "012abc");
  ASSERT_OK(file->Truncate(8));
  ASSERT_OK(file->Append("Z"));
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), std::string("012abc\0\0Z", 9));
}

TYPED_TEST(EnvConformanceTest, WriteAtOverwritesInPlaceAndAppendsStayAtTheEnd) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("0123456789"));
  ASSERT_OK(file->WriteAt(2, "ab"));
  ASSERT_OK(file->WriteAt(8, "yz"));  // up to the end exactly
  ASSERT_OK(file->WriteAt(10, ""));
  EXPECT_EQ(file->Size(), 10u);
  ASSERT_OK(file->Append("!"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), "01ab4567yz!");
  // Through a handle opened for appending on an existing file, too.
  ASSERT_OK_AND_ASSIGN(auto again, this->env_->NewAppendableFile(path));
  ASSERT_OK(again->WriteAt(0, "AB"));
  ASSERT_OK(again->Close());
  EXPECT_EQ(this->Contents(path), "ABab4567yz!");
}

TYPED_TEST(EnvConformanceTest, WriteAtPastTheEndIsInvalidArgumentAndWritesNothing) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("abc"));
  EXPECT_THAT(file->WriteAt(2, "xy"), StatusIs(absl::StatusCode::kInvalidArgument,
                                               AllOf(HasSubstr(path), HasSubstr("@2"))));
  EXPECT_THAT(file->WriteAt(4, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(file->Size(), 3u);
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), "abc");
}

// WriteAtDurable: WriteAt's bytes and bounds (PosixEnv: pwritev2 with RWF_DSYNC, or its
// fallback; the others: WriteAt then Sync).
TYPED_TEST(EnvConformanceTest, WriteAtDurableOverwritesInPlaceWithinTheFile) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append(std::string(10, '\0')));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->WriteAtDurable(0, "abc"));
  ASSERT_OK(file->WriteAtDurable(3, "defghij"));  // up to the end exactly
  EXPECT_EQ(file->Size(), 10u);
  EXPECT_THAT(file->WriteAtDurable(9, "xy"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                      AllOf(HasSubstr(path), HasSubstr("@9"))));
  ASSERT_OK(file->Append("!"));
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), "abcdefghij!");
}

TYPED_TEST(EnvConformanceTest, AllocateDoesNotChangeTheSizeOrContents) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("head"));
  ASSERT_OK(file->Allocate(0, 1 << 16));
  ASSERT_OK(file->Allocate(4, 0));
  EXPECT_EQ(file->Size(), 4u);
  EXPECT_THAT(this->env_->GetFileSize(path), IsOkAndHolds(4u));
  ASSERT_OK(file->Append("tail"));
  ASSERT_OK(file->Close());
  EXPECT_EQ(this->Contents(path), "headtail");
}

TYPED_TEST(EnvConformanceTest, CloseTwiceIsOk) {
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(this->Path("f")));
  ASSERT_OK(file->Append("x"));
  EXPECT_OK(file->Close());
  EXPECT_OK(file->Close());
}

TYPED_TEST(EnvConformanceTest, OperationsAfterCloseAreFailedPrecondition) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
  ASSERT_OK(file->Append("abc"));
  ASSERT_OK(file->Close());
  EXPECT_THAT(file->Append("x"), StatusIs(kFailedPrecondition, HasSubstr(path)));
  EXPECT_THAT(file->Flush(), StatusIs(kFailedPrecondition));
  EXPECT_THAT(file->Sync(), StatusIs(kFailedPrecondition));
  EXPECT_THAT(file->Truncate(1), StatusIs(kFailedPrecondition));
  EXPECT_THAT(file->WriteAt(0, "x"), StatusIs(kFailedPrecondition));
  EXPECT_THAT(file->Allocate(0, 10), StatusIs(kFailedPrecondition));
  EXPECT_EQ(file->Size(), 3u);
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(this->Contents(path), "abc");
}

TYPED_TEST(EnvConformanceTest, DestroyingAnUnclosedFileKeepsItsData) {
  const std::string path = this->Path("f");
  {
    ASSERT_OK_AND_ASSIGN(auto file, this->env_->NewWritableFile(path));
    ASSERT_OK(file->Append("kept"));
  }
  EXPECT_EQ(this->Contents(path), "kept");
}

// --- RandomAccessFile --------------------------------------------------------------------

TYPED_TEST(EnvConformanceTest, NewRandomAccessFileOfAMissingFileIsNotFound) {
  const std::string path = this->Path("missing");
  for (bool use_mmap : {false, true}) {
    SCOPED_TRACE(use_mmap ? "mmap" : "pread");
    RandomAccessFileOptions options;
    options.use_mmap = use_mmap;
    EXPECT_THAT(this->env_->NewRandomAccessFile(path, options),
                StatusIs(kNotFound, HasSubstr(path)));
    EXPECT_THAT(this->env_->NewRandomAccessFile(this->Path("missing/f"), options),
                StatusIs(kNotFound));
  }
}

TYPED_TEST(EnvConformanceTest, NewRandomAccessFileOfADirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  for (bool use_mmap : {false, true}) {
    SCOPED_TRACE(use_mmap ? "mmap" : "pread");
    RandomAccessFileOptions options;
    options.use_mmap = use_mmap;
    EXPECT_THAT(this->env_->NewRandomAccessFile(this->Path("d"), options),
                StatusIs(kFailedPrecondition));
  }
}

TYPED_TEST(EnvConformanceTest, ReadReturnsTheRequestedBytes) {
  const std::string path = this->Path("f");
  const std::string contents = Pattern(10000);
  this->WriteFile(path, contents);
  for (bool use_mmap : {false, true}) {
    SCOPED_TRACE(use_mmap ? "mmap" : "pread");
    auto file = this->OpenForRead(path, use_mmap);
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(file->path(), path);
    EXPECT_THAT(file->Size(), IsOkAndHolds(10000u));
    EXPECT_EQ(this->ReadString(*file, 0, 10000), contents);
    EXPECT_EQ(this->ReadString(*file, 1234, 1), contents.substr(1234, 1));
    EXPECT_EQ(this->ReadString(*file, 4095, 4098), contents.substr(4095, 4098));
  }
}

TYPED_TEST(EnvConformanceTest, ReadIsShortOnlyAtTheEnd) {
  const std::string path = this->Path("f");
  this->WriteFile(path, "0123456789");
  for (bool use_mmap : {false, true}) {
    SCOPED_TRACE(use_mmap ? "mmap" : "pread");
    auto file = this->OpenForRead(path, use_mmap);
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(this->ReadString(*file, 6, 100), "6789");
    EXPECT_EQ(this->ReadString(*file, 0, 11), "0123456789");
  }
}

TYPED_TEST(EnvConformanceTest, ReadAtOrPastTheEndIsEmpty) {
  const std::string path = this->Path("f");
  this->WriteFile(path, "0123456789");
  this->WriteFile(this->Path("empty"), "");
  for (bool use_mmap : {false, true}) {
    SCOPED_TRACE(use_mmap ? "mmap" : "pread");
    auto file = this->OpenForRead(path, use_mmap);
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(this->ReadString(*file, 10, 5), "");
    EXPECT_EQ(this->ReadString(*file, 1000000, 5), "");
    auto empty = this->OpenForRead(this->Path("empty"), use_mmap);
    ASSERT_NE(empty, nullptr);
    EXPECT_EQ(empty->MappedSize(), 0u);
    EXPECT_EQ(this->ReadString(*empty, 0, 5), "");
  }
}

TYPED_TEST(EnvConformanceTest, MmapAndPreadReturnIdenticalBytes) {
  const std::string path = this->Path("f");
  const std::string contents = Pattern(3 * 4096 + 17);
  this->WriteFile(path, contents);
  auto pread_file = this->OpenForRead(path, false);
  auto mmap_file = this->OpenForRead(path, true);
  ASSERT_NE(pread_file, nullptr);
  ASSERT_NE(mmap_file, nullptr);
  EXPECT_EQ(pread_file->MappedSize(), 0u);
  EXPECT_EQ(mmap_file->MappedSize(), contents.size());
  const uint64_t kOffsets[] = {0, 1, 511, 4095, 4096, 8191, 12288, 12300, 12305, 20000};
  const size_t kLengths[] = {0, 1, 7, 4096, 5000, 20000};
  for (uint64_t offset : kOffsets) {
    for (size_t n : kLengths) {
      SCOPED_TRACE(absl::StrCat("offset ", offset, " n ", n));
      const std::string expected = offset >= contents.size() ? "" : contents.substr(offset, n);
      EXPECT_EQ(this->ReadString(*pread_file, offset, n), expected);
      EXPECT_EQ(this->ReadString(*mmap_file, offset, n), expected);
    }
  }
}

TYPED_TEST(EnvConformanceTest, MappedRangeIsReadableWithoutScratch) {
  const std::string path = this->Path("f");
  this->WriteFile(path, "0123456789");
  auto file = this->OpenForRead(path, true);
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(file->Read(2, 5, nullptr), IsOkAndHolds("23456"));
}

TYPED_TEST(EnvConformanceTest, ReadWithoutScratchOutsideTheMappingIsInvalidArgument) {
  const std::string path = this->Path("f");
  this->WriteFile(path, "0123456789");
  auto pread_file = this->OpenForRead(path, false);
  auto mmap_file = this->OpenForRead(path, true);
  ASSERT_NE(pread_file, nullptr);
  ASSERT_NE(mmap_file, nullptr);
  EXPECT_THAT(pread_file->Read(0, 5, nullptr), StatusIs(kInvalidArgument));
  EXPECT_THAT(mmap_file->Read(8, 5, nullptr), StatusIs(kInvalidArgument));
  EXPECT_THAT(mmap_file->Read(10, 1, nullptr), StatusIs(kInvalidArgument));
}

TYPED_TEST(EnvConformanceTest, ReadsSeeLaterAppends) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto writer, this->env_->NewWritableFile(path));
  ASSERT_OK(writer->Append("0123"));
  auto pread_file = this->OpenForRead(path, false);
  auto mmap_file = this->OpenForRead(path, true);
  ASSERT_NE(pread_file, nullptr);
  ASSERT_NE(mmap_file, nullptr);
  ASSERT_OK(writer->Append("4567"));
  for (RandomAccessFile* file : {pread_file.get(), mmap_file.get()}) {
    EXPECT_THAT(file->Size(), IsOkAndHolds(8u));
    EXPECT_EQ(this->ReadString(*file, 0, 100), "01234567");
    EXPECT_EQ(this->ReadString(*file, 4, 4), "4567");
  }
  EXPECT_EQ(mmap_file->MappedSize(), 4u);  // A mapping never grows.
}

TYPED_TEST(EnvConformanceTest, OpenHandlesKeepReadingARemovedFile) {
  const std::string path = this->Path("f");
  ASSERT_OK_AND_ASSIGN(auto writer, this->env_->NewWritableFile(path));
  ASSERT_OK(writer->Append("before"));
  auto pread_file = this->OpenForRead(path, false);
  auto mmap_file = this->OpenForRead(path, true);
  ASSERT_NE(pread_file, nullptr);
  ASSERT_NE(mmap_file, nullptr);
  ASSERT_OK(this->env_->RemoveFile(path));
  EXPECT_THAT(this->env_->GetFileSize(path), StatusIs(kNotFound));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(writer->Append("+after"));
  for (RandomAccessFile* file : {pread_file.get(), mmap_file.get()}) {
    EXPECT_EQ(this->ReadString(*file, 0, 100), "before+after");
  }
  // A new file of the same name is another file.
  this->WriteFile(path, "new");
  EXPECT_EQ(this->ReadString(*pread_file, 0, 100), "before+after");
  EXPECT_EQ(this->Contents(path), "new");
}

TYPED_TEST(EnvConformanceTest, OpenHandlesFollowARenamedFile) {
  ASSERT_OK_AND_ASSIGN(auto writer, this->env_->NewWritableFile(this->Path("a")));
  ASSERT_OK(writer->Append("abc"));
  auto reader = this->OpenForRead(this->Path("a"), false);
  ASSERT_NE(reader, nullptr);
  ASSERT_OK(this->env_->RenameFile(this->Path("a"), this->Path("b")));
  ASSERT_OK(writer->Append("def"));
  EXPECT_EQ(this->ReadString(*reader, 0, 100), "abcdef");
  EXPECT_EQ(this->Contents(this->Path("b")), "abcdef");
}

// --- Directories -------------------------------------------------------------------------

TYPED_TEST(EnvConformanceTest, GetChildrenIsSortedWithoutDotEntries) {
  this->WriteFile(this->Path("b"), "");
  this->WriteFile(this->Path("a.wal"), "");
  ASSERT_OK(this->env_->CreateDir(this->Path("c")));
  this->WriteFile(this->Path("a"), "");
  this->WriteFile(this->Path("c/nested"), "");
  EXPECT_THAT(this->env_->GetChildren(this->root_),
              IsOkAndHolds(ElementsAre("a", "a.wal", "b", "c")));
  EXPECT_THAT(this->env_->GetChildren(this->Path("c")), IsOkAndHolds(ElementsAre("nested")));
}

// GetChildrenWithTypes: GetChildren's names in its order, each with GetFileType's answer
// (PosixEnv reads the types from the listing; the others ask GetFileType).
TYPED_TEST(EnvConformanceTest, GetChildrenWithTypesAgreesWithGetFileType) {
  this->WriteFile(this->Path("b"), "");
  ASSERT_OK(this->env_->CreateDir(this->Path("c")));
  this->WriteFile(this->Path("a"), "x");
  this->WriteFile(this->Path("c/nested"), "");
  ASSERT_OK_AND_ASSIGN(const std::vector<Env::DirEntry> entries,
                       this->env_->GetChildrenWithTypes(this->root_));
  std::vector<std::string> names;
  for (const Env::DirEntry& e : entries) {
    names.push_back(e.name);
    EXPECT_THAT(this->env_->GetFileType(this->Path(e.name)), IsOkAndHolds(e.type)) << e.name;
  }
  EXPECT_THAT(names, ElementsAre("a", "b", "c"));
  EXPECT_EQ(entries[2].type, FileType::kDirectory);
  EXPECT_EQ(entries[0].type, FileType::kRegular);
  EXPECT_THAT(this->env_->GetChildrenWithTypes(this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, GetChildrenOfAFileIsFailedPrecondition) {
  this->WriteFile(this->Path("f"), "x");
  EXPECT_THAT(this->env_->GetChildren(this->Path("f")), StatusIs(kFailedPrecondition));
}

TYPED_TEST(EnvConformanceTest, GetChildrenOfAMissingDirectoryIsNotFound) {
  const std::string dir = this->Path("missing");
  EXPECT_THAT(this->env_->GetChildren(dir), StatusIs(kNotFound, HasSubstr(dir)));
}

TYPED_TEST(EnvConformanceTest, GetFileSizeReportsTheSize) {
  this->WriteFile(this->Path("f"), Pattern(12345));
  EXPECT_THAT(this->env_->GetFileSize(this->Path("f")), IsOkAndHolds(12345u));
}

TYPED_TEST(EnvConformanceTest, GetFileSizeOfAMissingFileIsNotFound) {
  EXPECT_THAT(this->env_->GetFileSize(this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, GetFileSizeOfADirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  EXPECT_THAT(this->env_->GetFileSize(this->Path("d")), StatusIs(kFailedPrecondition));
}

TYPED_TEST(EnvConformanceTest, IsDirectoryTellsDirectoriesFromFiles) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  this->WriteFile(this->Path("f"), "");
  EXPECT_THAT(this->env_->IsDirectory(this->Path("d")), IsOkAndHolds(true));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("f")), IsOkAndHolds(false));
  EXPECT_THAT(this->env_->IsDirectory(this->root_), IsOkAndHolds(true));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, CreateDirMakesAnEmptyDirectory) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("d")), IsOkAndHolds(true));
  EXPECT_THAT(this->env_->GetChildren(this->Path("d")), IsOkAndHolds(IsEmpty()));
}

TYPED_TEST(EnvConformanceTest, CreateDirOfAnExistingPathIsAlreadyExists) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  this->WriteFile(this->Path("f"), "keep");
  EXPECT_THAT(this->env_->CreateDir(this->Path("d")), StatusIs(kAlreadyExists));
  EXPECT_THAT(this->env_->CreateDir(this->Path("f")), StatusIs(kAlreadyExists));
  EXPECT_EQ(this->Contents(this->Path("f")), "keep");
}

TYPED_TEST(EnvConformanceTest, CreateDirWithAMissingParentIsNotFound) {
  EXPECT_THAT(this->env_->CreateDir(this->Path("missing/d")), StatusIs(kNotFound));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, RemoveFileRemovesTheName) {
  this->WriteFile(this->Path("f"), "x");
  this->WriteFile(this->Path("g"), "y");
  ASSERT_OK(this->env_->RemoveFile(this->Path("f")));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("g")));
  EXPECT_THAT(this->env_->GetFileSize(this->Path("f")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, RemoveFileOfAMissingFileIsNotFound) {
  const std::string path = this->Path("missing");
  EXPECT_THAT(this->env_->RemoveFile(path), StatusIs(kNotFound, HasSubstr(path)));
}

TYPED_TEST(EnvConformanceTest, RemoveFileOfADirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  EXPECT_THAT(this->env_->RemoveFile(this->Path("d")), StatusIs(kFailedPrecondition));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("d")), IsOkAndHolds(true));
}

TYPED_TEST(EnvConformanceTest, RemoveDirRemovesAnEmptyDirectory) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  ASSERT_OK(this->env_->RemoveDir(this->Path("d")));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("d")), StatusIs(kNotFound));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(IsEmpty()));
}

TYPED_TEST(EnvConformanceTest, RemoveDirOfANonEmptyDirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  this->WriteFile(this->Path("d/f"), "x");
  EXPECT_THAT(this->env_->RemoveDir(this->Path("d")), StatusIs(kFailedPrecondition));
  EXPECT_EQ(this->Contents(this->Path("d/f")), "x");
}

TYPED_TEST(EnvConformanceTest, RemoveDirOfAFileIsFailedPrecondition) {
  this->WriteFile(this->Path("f"), "x");
  EXPECT_THAT(this->env_->RemoveDir(this->Path("f")), StatusIs(kFailedPrecondition));
  EXPECT_EQ(this->Contents(this->Path("f")), "x");
}

TYPED_TEST(EnvConformanceTest, RemoveDirOfAMissingDirectoryIsNotFound) {
  EXPECT_THAT(this->env_->RemoveDir(this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, RenameFileMovesTheContents) {
  this->WriteFile(this->Path("a"), "contents");
  ASSERT_OK(this->env_->RenameFile(this->Path("a"), this->Path("b")));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("b")));
  EXPECT_EQ(this->Contents(this->Path("b")), "contents");
}

TYPED_TEST(EnvConformanceTest, RenameFileReplacesAnExistingFile) {
  this->WriteFile(this->Path("a"), "new");
  this->WriteFile(this->Path("b"), "old and longer");
  ASSERT_OK(this->env_->RenameFile(this->Path("a"), this->Path("b")));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("b")));
  EXPECT_EQ(this->Contents(this->Path("b")), "new");
}

TYPED_TEST(EnvConformanceTest, RenameFileAcrossDirectories) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  this->WriteFile(this->Path("a"), "x");
  ASSERT_OK(this->env_->RenameFile(this->Path("a"), this->Path("d/a")));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("d")));
  EXPECT_EQ(this->Contents(this->Path("d/a")), "x");
}

TYPED_TEST(EnvConformanceTest, RenameFileOfAMissingSourceIsNotFound) {
  this->WriteFile(this->Path("b"), "kept");
  EXPECT_THAT(this->env_->RenameFile(this->Path("missing"), this->Path("b")),
              StatusIs(kNotFound, HasSubstr(this->Path("missing"))));
  EXPECT_EQ(this->Contents(this->Path("b")), "kept");
}

TYPED_TEST(EnvConformanceTest, RenameFileIntoAMissingDirectoryIsNotFound) {
  this->WriteFile(this->Path("a"), "kept");
  EXPECT_THAT(this->env_->RenameFile(this->Path("a"), this->Path("missing/a")),
              StatusIs(kNotFound));
  EXPECT_THAT(this->env_->RenameFile(this->Path("a"), this->Path("a/b")), StatusIs(kNotFound));
  EXPECT_EQ(this->Contents(this->Path("a")), "kept");
}

TYPED_TEST(EnvConformanceTest, RenameFileOfADirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  EXPECT_THAT(this->env_->RenameFile(this->Path("d"), this->Path("e")),
              StatusIs(kFailedPrecondition));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("d")));
}

TYPED_TEST(EnvConformanceTest, RenameFileOntoADirectoryIsFailedPrecondition) {
  ASSERT_OK(this->env_->CreateDir(this->Path("d")));
  this->WriteFile(this->Path("a"), "kept");
  EXPECT_THAT(this->env_->RenameFile(this->Path("a"), this->Path("d")),
              StatusIs(kFailedPrecondition));
  EXPECT_EQ(this->Contents(this->Path("a")), "kept");
  EXPECT_THAT(this->env_->IsDirectory(this->Path("d")), IsOkAndHolds(true));
}

TYPED_TEST(EnvConformanceTest, SyncDirSucceedsOnADirectory) {
  this->WriteFile(this->Path("f"), "x");
  EXPECT_OK(this->env_->SyncDir(this->root_));
}

TYPED_TEST(EnvConformanceTest, SyncDirOfAMissingDirectoryIsNotFound) {
  EXPECT_THAT(this->env_->SyncDir(this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, SyncDirOfAFileIsFailedPrecondition) {
  this->WriteFile(this->Path("f"), "x");
  EXPECT_THAT(this->env_->SyncDir(this->Path("f")), StatusIs(kFailedPrecondition));
}

// --- Locks -------------------------------------------------------------------------------

TYPED_TEST(EnvConformanceTest, LockFileCreatesTheFile) {
  const std::string path = this->Path("LOCK");
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockFile(path));
  EXPECT_EQ(lock->path(), path);
  EXPECT_THAT(this->env_->IsDirectory(path), IsOkAndHolds(false));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

TYPED_TEST(EnvConformanceTest, SecondLockIsRefusedWhileTheFirstIsHeld) {
  const std::string path = this->Path("LOCK");
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockFile(path));
  EXPECT_THAT(this->env_->LockFile(path), StatusIs(kFailedPrecondition, HasSubstr(path)));
  ASSERT_OK_AND_ASSIGN(auto other, this->env_->LockFile(this->Path("OTHER")));
  ASSERT_OK(this->env_->UnlockFile(std::move(other)));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

TYPED_TEST(EnvConformanceTest, LockCanBeTakenAgainAfterUnlock) {
  const std::string path = this->Path("LOCK");
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockFile(path));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
  ASSERT_OK_AND_ASSIGN(lock, this->env_->LockFile(path));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

TYPED_TEST(EnvConformanceTest, DestroyingALockReleasesIt) {
  const std::string path = this->Path("LOCK");
  { ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockFile(path)); }
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockFile(path));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

TYPED_TEST(EnvConformanceTest, LockFileInAMissingDirectoryIsNotFound) {
  EXPECT_THAT(this->env_->LockFile(this->Path("missing/LOCK")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, LockDirHoldsTheDirectoryThenCreatesTheLockFile) {
  const std::string dir = this->Path("wal");
  ASSERT_OK(this->env_->CreateDir(dir));
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockDir(dir, "LOCK"));
  EXPECT_EQ(lock->path(), dir);
  EXPECT_THAT(this->env_->IsDirectory(JoinPath(dir, "LOCK")), IsOkAndHolds(false));
  // The lock file's lock is held too: a tool taking only LockFile is refused.
  EXPECT_THAT(this->env_->LockFile(JoinPath(dir, "LOCK")), StatusIs(kFailedPrecondition));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
  ASSERT_OK_AND_ASSIGN(lock, this->env_->LockFile(JoinPath(dir, "LOCK")));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

// The directory's lock is the exclusion: removing (or replacing) the lock file under a
// holder does not let a second opener in, and the refused opener creates nothing.
TYPED_TEST(EnvConformanceTest, LockDirSurvivesTheRemovalOfItsLockFile) {
  const std::string dir = this->Path("wal");
  ASSERT_OK(this->env_->CreateDir(dir));
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockDir(dir, "LOCK"));
  ASSERT_OK(this->env_->RemoveFile(JoinPath(dir, "LOCK")));
  EXPECT_THAT(this->env_->LockDir(dir, "LOCK"), StatusIs(kFailedPrecondition, HasSubstr(dir)));
  EXPECT_THAT(this->env_->GetChildren(dir), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(this->env_->LockDir(dir, ""), StatusIs(kFailedPrecondition));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
  { ASSERT_OK_AND_ASSIGN(auto again, this->env_->LockDir(dir, "LOCK")); }  // Destroyed: released.
  ASSERT_OK_AND_ASSIGN(lock, this->env_->LockDir(dir, ""));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

TYPED_TEST(EnvConformanceTest, LockDirIsRefusedWhileItsLockFileIsLocked) {
  const std::string dir = this->Path("wal");
  ASSERT_OK(this->env_->CreateDir(dir));
  ASSERT_OK_AND_ASSIGN(auto file_lock, this->env_->LockFile(JoinPath(dir, "LOCK")));
  EXPECT_THAT(this->env_->LockDir(dir, "LOCK"), StatusIs(kFailedPrecondition));
  // The refused LockDir released the directory's lock it had taken.
  ASSERT_OK_AND_ASSIGN(auto dir_lock, this->env_->LockDir(dir, ""));
  ASSERT_OK(this->env_->UnlockFile(std::move(dir_lock)));
  ASSERT_OK(this->env_->UnlockFile(std::move(file_lock)));
}

TYPED_TEST(EnvConformanceTest, LockDirOfAMissingDirectoryOrAFileFailsAndCreatesNothing) {
  EXPECT_THAT(this->env_->LockDir(this->Path("missing"), "LOCK"), StatusIs(kNotFound));
  this->WriteFile(this->Path("f"), "x");
  EXPECT_THAT(this->env_->LockDir(this->Path("f"), "LOCK"), StatusIs(kFailedPrecondition));
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("f")));
  // A directory where the lock file should be.
  const std::string dir = this->Path("wal");
  ASSERT_OK(this->env_->CreateDir(dir));
  ASSERT_OK(this->env_->CreateDir(JoinPath(dir, "LOCK")));
  EXPECT_THAT(this->env_->LockDir(dir, "LOCK"), StatusIs(kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(auto lock, this->env_->LockDir(dir, ""));
  ASSERT_OK(this->env_->UnlockFile(std::move(lock)));
}

// --- Helpers built on Env ----------------------------------------------------------------

TYPED_TEST(EnvConformanceTest, CreateDirRecursivelyMakesEveryAncestor) {
  ASSERT_OK(CreateDirRecursively(this->env_.get(), this->Path("a/b/c")));
  EXPECT_THAT(this->env_->IsDirectory(this->Path("a/b/c")), IsOkAndHolds(true));
  EXPECT_THAT(this->env_->GetChildren(this->Path("a")), IsOkAndHolds(ElementsAre("b")));
  EXPECT_OK(CreateDirRecursively(this->env_.get(), this->Path("a/b/c")));
  EXPECT_OK(CreateDirRecursively(this->env_.get(), this->Path("a")));
}

TYPED_TEST(EnvConformanceTest, CreateDirRecursivelyOverAFileIsFailedPrecondition) {
  this->WriteFile(this->Path("f"), "x");
  EXPECT_THAT(CreateDirRecursively(this->env_.get(), this->Path("f")),
              StatusIs(kFailedPrecondition));
  EXPECT_THAT(CreateDirRecursively(this->env_.get(), this->Path("f/d")),
              StatusIs(kFailedPrecondition));
}

TYPED_TEST(EnvConformanceTest, ReadFileToStringReadsTheWholeFile) {
  const std::string big = Pattern(300000);
  this->WriteFile(this->Path("big"), big);
  this->WriteFile(this->Path("empty"), "");
  EXPECT_THAT(ReadFileToString(this->env_.get(), this->Path("big")), IsOkAndHolds(big));
  EXPECT_THAT(ReadFileToString(this->env_.get(), this->Path("empty")), IsOkAndHolds(""));
  EXPECT_THAT(ReadFileToString(this->env_.get(), this->Path("missing")), StatusIs(kNotFound));
}

TYPED_TEST(EnvConformanceTest, WriteFileAtomicallyReplacesTheContentsAndLeavesNoTemporary) {
  const std::string path = this->Path("HEAD");
  ASSERT_OK(WriteFileAtomically(this->env_.get(), path, "first, longer"));
  EXPECT_EQ(this->Contents(path), "first, longer");
  ASSERT_OK(WriteFileAtomically(this->env_.get(), path, "second"));
  EXPECT_EQ(this->Contents(path), "second");
  EXPECT_THAT(this->env_->GetChildren(this->root_), IsOkAndHolds(ElementsAre("HEAD")));
}

TYPED_TEST(EnvConformanceTest, WriteFileAtomicallyInAMissingDirectoryIsNotFound) {
  EXPECT_THAT(WriteFileAtomically(this->env_.get(), this->Path("missing/HEAD"), "x"),
              StatusIs(kNotFound));
}

// Path helpers do not depend on an Env.
TEST(EnvPathTest, DirnameDropsTheLastComponent) {
  EXPECT_EQ(Dirname("/a/b/c"), "/a/b");
  EXPECT_EQ(Dirname("/a/b/"), "/a");
  EXPECT_EQ(Dirname("/a"), "/");
  EXPECT_EQ(Dirname("/"), "/");
}

TEST(EnvPathTest, BasenameIsTheLastComponent) {
  EXPECT_EQ(Basename("/a/b/c"), "c");
  EXPECT_EQ(Basename("/a/b/"), "b");
  EXPECT_EQ(Basename("/a"), "a");
}

TEST(EnvPathTest, JoinPathPutsOneSlashBetween) {
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath(Dirname("/x/y"), Basename("/x/y")), "/x/y");
}

}  // namespace
}  // namespace ironwal
