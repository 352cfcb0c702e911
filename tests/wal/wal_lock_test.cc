// The exclusion of read-write openers (root_lock.h) on the real file system and on MemEnv:
// a deleted LOCK file lets no second writer in, a LOCK directory (ironwal 0.6's stream
// keyed "LOCK") is named, and a refused opener writes nothing.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

namespace fs = std::filesystem;

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

std::string FreshRoot(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  const std::string root = tmp + "/" + name;
  fs::remove_all(root);
  return root;
}

// Every entry under `dir`: relative path -> contents ("<dir>" for directories).
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(entry.path(), dir).string();
    if (entry.is_directory()) {
      tree[name] = "<dir>";
      continue;
    }
    std::ifstream file(entry.path(), std::ios::binary);
    std::ostringstream contents;
    contents << file.rdbuf();
    tree[name] = contents.str();
  }
  return tree;
}

// Issue 8 §5: `rm ROOT/LOCK` under a running writer let a second writer create a new LOCK,
// lock it, and rewrite the first writer's active segment in its recovery.
TEST(WalLockTest, ASecondWriterIsRefusedAfterTheLockFileIsDeleted) {
  WalOptions options;
  options.root = FreshRoot("deleted-lock");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> first, Wal::Open(options));
  for (int i = 0; i < 13; ++i) ASSERT_THAT(first->Append("s", "entry"), IsOkAndHolds(i));
  ASSERT_TRUE(fs::remove(options.root + "/LOCK"));
  const std::map<std::string, std::string> before = Tree(options.root);

  // A second opener in this process: flock(2) locks belong to an open file description,
  // so this conflicts exactly as another process would.
  EXPECT_THAT(Wal::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("open in another")));
  EXPECT_EQ(Tree(options.root), before);  // Nothing written, not even a new LOCK.

  EXPECT_THAT(first->Append("s", "entry"), IsOkAndHolds(13u));
  ASSERT_OK(first->Close());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> reopened, Wal::Open(options));
  EXPECT_TRUE(fs::is_regular_file(options.root + "/LOCK"));  // Kept for tools.
  ASSERT_OK_AND_ASSIGN(StreamInfo info, reopened->GetStreamInfo("s"));
  EXPECT_EQ(info.next_id, 14u);
}

TEST(WalLockTest, MemEnvRefusesASecondWriterAfterTheLockFileIsDeleted) {
  MemEnv env;
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> first, Wal::Open(options));
  ASSERT_THAT(first->Append("s", "a"), IsOkAndHolds(0u));
  ASSERT_OK(env.RemoveFile("/wal/LOCK"));
  EXPECT_THAT(Wal::Open(options), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(env.GetChildren("/wal"), IsOkAndHolds(::testing::ElementsAre("s")));
  WalOptions read_only = options;
  read_only.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> reader, Wal::Open(read_only));
  EXPECT_THAT(reader->Get("s", 0), IsOkAndHolds("a"));
  ASSERT_OK(first->Close());
  EXPECT_OK(Wal::Open(options));
}

// ironwal 0.6 keeps a stream keyed "LOCK" in ROOT/LOCK/: a read-write open names the
// clash (it said "the WAL is locked" with EISDIR) and changes nothing.
TEST(WalLockTest, ALockDirectoryFromIronwal06IsNamedAndNothingChanges) {
  WalOptions options;
  options.root = FreshRoot("lock-dir");
  fs::create_directories(options.root + "/LOCK");
  std::ofstream(options.root + "/LOCK/segments.idx", std::ios::binary) << std::string(8, '\0');
  const std::map<std::string, std::string> before = Tree(options.root);
  EXPECT_THAT(Wal::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stream keyed \"LOCK\"")));
  EXPECT_EQ(Tree(options.root), before);
}

}  // namespace
}  // namespace ironwal
