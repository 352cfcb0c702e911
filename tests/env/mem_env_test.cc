// Tests of MemEnv beyond the conformance suite: inode semantics, amortized appends, mmap
// views that survive growth, locks, the deterministic clock and concurrent use.
#include "ironwal/env/mem_env.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;

// `n` bytes that differ from their neighbours, so misplaced bytes show.
std::string Pattern(size_t n, int salt = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
  return s;
}

class MemEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_.CreateDir("/d")); }

  void Write(const std::string& path, absl::string_view contents) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file, env_.NewWritableFile(path));
    ASSERT_OK(file->Append(contents));
    ASSERT_OK(file->Close());
  }

  MemEnv env_;
};

TEST_F(MemEnvTest, AppendedBytesReadBackThroughPreadAndMmap) {
  Write("/d/f", "hello world");
  for (const bool use_mmap : {false, true}) {
    RandomAccessFileOptions options;
    options.use_mmap = use_mmap;
    ASSERT_OK_AND_ASSIGN(auto file, env_.NewRandomAccessFile("/d/f", options));
    EXPECT_EQ(file->MappedSize(), use_mmap ? 11u : 0u);
    char scratch[16];
    EXPECT_THAT(file->Read(6, 16, scratch), IsOkAndHolds("world"));
    EXPECT_THAT(file->Read(11, 4, scratch), IsOkAndHolds(""));
  }
}

TEST_F(MemEnvTest, NewWritableFileTruncatesAndNewAppendableFileAppends) {
  Write("/d/f", "abc");
  {
    ASSERT_OK_AND_ASSIGN(auto file, env_.NewAppendableFile("/d/f"));
    EXPECT_EQ(file->Size(), 3u);
    ASSERT_OK(file->Append("def"));
  }
  EXPECT_THAT(ReadFileToString(&env_, "/d/f"), IsOkAndHolds("abcdef"));
  Write("/d/f", "x");
  EXPECT_THAT(ReadFileToString(&env_, "/d/f"), IsOkAndHolds("x"));
}

TEST_F(MemEnvTest, RemovedFileStaysReadableThroughAnOpenHandle) {
  Write("/d/f", "still here");
  ASSERT_OK_AND_ASSIGN(auto reader, env_.NewRandomAccessFile("/d/f", {}));
  ASSERT_OK(env_.RemoveFile("/d/f"));
  EXPECT_THAT(env_.GetFileSize("/d/f"), StatusIs(absl::StatusCode::kNotFound));
  char scratch[32];
  EXPECT_THAT(reader->Read(0, 32, scratch), IsOkAndHolds("still here"));
}

TEST_F(MemEnvTest, RenameMovesTheNameNotTheData) {
  Write("/d/a", "payload");
  ASSERT_OK_AND_ASSIGN(auto writer, env_.NewAppendableFile("/d/a"));
  ASSERT_OK(env_.RenameFile("/d/a", "/d/b"));
  ASSERT_OK(writer->Append("+more"));  // The handle follows the inode, not the name.
  EXPECT_THAT(env_.GetChildren("/d"), IsOkAndHolds(ElementsAre("b")));
  EXPECT_THAT(ReadFileToString(&env_, "/d/b"), IsOkAndHolds("payload+more"));
}

TEST_F(MemEnvTest, HundredThousandAppendsComplete) {
  ASSERT_OK_AND_ASSIGN(auto file, env_.NewWritableFile("/d/big"));
  constexpr int kAppends = 100000;
  for (int i = 0; i < kAppends; ++i) {
    ASSERT_OK(file->Append(absl::StrCat(i % 10, "0123456789abcde")));  // 16 bytes.
  }
  EXPECT_EQ(file->Size(), 16u * kAppends);
  ASSERT_OK_AND_ASSIGN(auto reader, env_.NewRandomAccessFile("/d/big", {}));
  char scratch[16];
  EXPECT_THAT(reader->Read(16 * 54321, 16, scratch), IsOkAndHolds("10123456789abcde"));
}

TEST_F(MemEnvTest, MappedViewStaysValidAndUnchangedAfterGrowth) {
  const std::string first = Pattern(100);
  Write("/d/f", first);
  RandomAccessFileOptions mmap;
  mmap.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto reader, env_.NewRandomAccessFile("/d/f", mmap));
  ASSERT_OK_AND_ASSIGN(absl::string_view view, reader->Read(0, 100, nullptr));
  ASSERT_EQ(view, first);
  {
    ASSERT_OK_AND_ASSIGN(auto writer, env_.NewAppendableFile("/d/f"));
    for (int i = 0; i < 64; ++i) ASSERT_OK(writer->Append(Pattern(16 << 10, i)));  // 1 MiB.
  }
  EXPECT_EQ(view, first);  // The old buffer is kept alive by the mapping.
  ASSERT_OK_AND_ASSIGN(absl::string_view again, reader->Read(0, 100, nullptr));
  EXPECT_EQ(again.data(), view.data());  // Still served from the same mapping.
  EXPECT_EQ(reader->MappedSize(), 100u);
  EXPECT_THAT(reader->Size(), IsOkAndHolds(100u + (1u << 20)));
  // Past the mapping, reads copy into scratch.
  std::string scratch(16, '\0');
  ASSERT_OK_AND_ASSIGN(absl::string_view tail, reader->Read(100, 16, &scratch[0]));
  EXPECT_EQ(tail.data(), scratch.data());
  EXPECT_EQ(tail, Pattern(16 << 10, 0).substr(0, 16));
}

TEST_F(MemEnvTest, MappedViewSeesBytesRewrittenAfterTruncateLikeARealMapping) {
  Write("/d/f", std::string(100, 'a'));
  RandomAccessFileOptions mmap;
  mmap.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto reader, env_.NewRandomAccessFile("/d/f", mmap));
  ASSERT_OK_AND_ASSIGN(absl::string_view view, reader->Read(0, 100, nullptr));
  ASSERT_OK_AND_ASSIGN(auto writer, env_.NewAppendableFile("/d/f"));
  ASSERT_OK(writer->Append(std::string(1 << 16, 'z')));  // Grows into a new buffer.
  ASSERT_OK(writer->Truncate(10));
  ASSERT_OK(writer->Append(std::string(10, 'b')));
  EXPECT_EQ(view.substr(0, 20), std::string(10, 'a') + std::string(10, 'b'));
}

TEST_F(MemEnvTest, ReadOutsideTheMappingNeedsScratch) {
  Write("/d/f", "0123456789");
  ASSERT_OK_AND_ASSIGN(auto reader, env_.NewRandomAccessFile("/d/f", {}));
  EXPECT_THAT(reader->Read(0, 4, nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MemEnvTest, ClosedWritableFileFailsWithFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(auto file, env_.NewWritableFile("/d/f"));
  ASSERT_OK(file->Close());
  EXPECT_THAT(file->Append("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(file->Close());
}

TEST_F(MemEnvTest, LockRefusesASecondHolderUntilReleased) {
  ASSERT_OK_AND_ASSIGN(auto lock, env_.LockFile("/d/LOCK"));
  EXPECT_THAT(env_.GetFileSize("/d/LOCK"), IsOkAndHolds(0u));  // Created.
  EXPECT_THAT(env_.LockFile("/d/LOCK"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(env_.UnlockFile(std::move(lock)));
  ASSERT_OK_AND_ASSIGN(auto again, env_.LockFile("/d/LOCK"));
  again.reset();  // Destroying the lock releases it too.
  EXPECT_OK(env_.LockFile("/d/LOCK"));
}

TEST_F(MemEnvTest, UnlockRefusesALockOfAnotherEnv) {
  MemEnv other;
  ASSERT_OK_AND_ASSIGN(auto lock, other.LockFile("/LOCK"));
  EXPECT_THAT(env_.UnlockFile(std::move(lock)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MemEnvClockTest, NowMicrosIsADeterministicIncreasingCounter) {
  MemEnv a, b;
  std::vector<uint64_t> from_a, from_b;
  for (int i = 0; i < 5; ++i) {
    from_a.push_back(a.NowMicros());
    from_b.push_back(b.NowMicros());
  }
  EXPECT_EQ(from_a, from_b);
  for (int i = 1; i < 5; ++i) EXPECT_LT(from_a[i - 1], from_a[i]);
}

TEST_F(MemEnvTest, ConcurrentReadersAndAWriterOnDifferentFiles) {
  const std::string contents = Pattern(1 << 16);
  Write("/d/read", contents);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RandomAccessFileOptions options;
      options.use_mmap = t % 2 == 0;
      auto reader = env_.NewRandomAccessFile("/d/read", options);
      if (!reader.ok()) {
        ++mismatches;
        return;
      }
      std::string scratch(4096, '\0');
      for (int i = 0; i < 2000; ++i) {
        const uint64_t offset = (i * 4099u) % contents.size();
        auto got = (*reader)->Read(offset, 4096, &scratch[0]);
        if (!got.ok() || *got != absl::string_view(contents).substr(offset, 4096)) ++mismatches;
      }
    });
  }
  threads.emplace_back([&] {
    auto writer = env_.NewWritableFile("/d/write");
    if (!writer.ok()) {
      ++mismatches;
      return;
    }
    for (int i = 0; i < 20000; ++i) {
      if (!(*writer)->Append("0123456789").ok()) ++mismatches;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < 500; ++i) {
      const std::string dir = absl::StrCat("/d/sub", i);
      if (!env_.CreateDir(dir).ok() || !env_.RemoveDir(dir).ok()) ++mismatches;
    }
  });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_THAT(env_.GetFileSize("/d/write"), IsOkAndHolds(200000u));
}

// Recovery rewrites verified bytes over themselves (WriteAt of the same bytes) while an
// iterator of an earlier Wal may still read them through a mapping, without the Env's
// lock. Rewriting with the same bytes must touch no memory (ThreadSanitizer, which runs
// this test in CI, reports the race otherwise); different bytes are stored.
TEST_F(MemEnvTest, OverwriteWithTheSameBytesLeavesAMappedRangeUntouched) {
  const std::string contents = Pattern(4096);
  Write("/d/f", contents);
  RandomAccessFileOptions mmap;
  mmap.use_mmap = true;
  ASSERT_OK_AND_ASSIGN(auto reader, env_.NewRandomAccessFile("/d/f", mmap));
  ASSERT_OK_AND_ASSIGN(absl::string_view view, reader->Read(0, 4096, nullptr));
  ASSERT_OK_AND_ASSIGN(auto writer, env_.NewAppendableFile("/d/f"));
  std::atomic<int> mismatches{0};
  std::thread reading([&] {
    for (int i = 0; i < 200; ++i) {
      if (view != contents) ++mismatches;
    }
  });
  for (int i = 0; i < 200; ++i)
    ASSERT_OK(writer->WriteAt((i * 97) % 4000, contents.substr((i * 97) % 4000, 96)));
  reading.join();
  EXPECT_EQ(mismatches.load(), 0);
  // A real change is stored, also in the middle of equal bytes.
  std::string changed = contents.substr(100, 50);
  changed[20] = '#';
  ASSERT_OK(writer->WriteAt(100, changed));
  char scratch[64];
  EXPECT_THAT(reader->Read(100, 50, scratch), IsOkAndHolds(changed));
  EXPECT_EQ(view.substr(100, 50), changed);
}

}  // namespace
}  // namespace ironwal
