// End-to-end tests of the `ironwal` commands for the log primitives: truncate --suffix,
// trim, meta and rm (and ls/dump after them). Each success is checked against what the
// library sees afterwards; each failure by its exit code, its message, and that nothing
// changed.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/format/names.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

#include "tests/cli/cli_test_util.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::SegmentFileName;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::unique_ptr<Wal> OpenReadOnly(const std::string& root) {
  WalOptions options;
  options.root = root;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  EXPECT_TRUE(wal.ok()) << wal.status();
  return wal.ok() ? *std::move(wal) : nullptr;
}

StreamInfo InfoOf(const std::string& root, const std::string& key) {
  std::unique_ptr<Wal> wal = OpenReadOnly(root);
  if (wal == nullptr) return {};
  absl::StatusOr<StreamInfo> info = wal->GetStreamInfo(key);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? *info : StreamInfo();
}

TEST(CliLogTest, TruncateSuffixInsideAndAcrossSegments) {
  const std::string root = FreshDir("suffix");
  WriteEntries(root, "s", 14, 4 * kEntryFrameSize);  // segments 0, 4, 8, 12
  ToolResult r = RunTool({"truncate", root, "s", "--suffix", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed IDs [10, 14); the next ID is 10\n");
  StreamInfo info = InfoOf(root, "s");
  EXPECT_EQ(info.first_id, 0u);
  EXPECT_EQ(info.next_id, 10u);
  EXPECT_EQ(info.segment_count, 3u);
  EXPECT_FALSE(FileExists(root + "/s/" + SegmentFileName(12)));
  r = RunTool({"dump", root, "s", "--from", "8"});
  EXPECT_EQ(r.out, "8\tentry-0008\n9\tentry-0009\n");
  // Inside the active segment (8..9), then a no-op at the next ID.
  r = RunTool({"truncate", root, "s", "--suffix=9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(InfoOf(root, "s").next_id, 9u);
  r = RunTool({"truncate", root, "s", "--suffix", "9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed no IDs; the next ID is 9\n");
  // The next append continues at the cut.
  r = RunTool({"append", root, "s"}, "again\n");
  EXPECT_EQ(r.out, "9\n");
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
}

TEST(CliLogTest, TruncateSuffixOutOfRangeOrUnknownStreamExitsOneChangingNothing) {
  const std::string root = FreshDir("suffix-bad");
  WriteEntries(root, "s", 5);
  RemoveFile(root + "/LOCK");
  const auto before = Snapshot(root);
  ToolResult r = RunTool({"truncate", root, "s", "--suffix", "6"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("from ID 6 is outside [first ID 0, next ID 5]"));
  EXPECT_THAT(r.out, IsEmpty());
  r = RunTool({"truncate", root, "nope", "--suffix", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("stream 'nope' does not exist"));
  // Only the LOCK the out-of-range call's open took is new.
  RemoveFile(root + "/LOCK");
  EXPECT_EQ(Snapshot(root), before);
  EXPECT_EQ(InfoOf(root, "s").next_id, 5u);
}

TEST(CliLogTest, TrimPrintsWhatItRemovedAndLsAndDumpRespectTheNewFirstId) {
  const std::string root = FreshDir("trim");
  WriteEntries(root, "s", 10, 4 * kEntryFrameSize);  // segments 0, 4, 8
  ToolResult r = RunTool({"trim", root, "s", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed 1 segments; the first ID is 6\n");
  StreamInfo info = InfoOf(root, "s");
  EXPECT_EQ(info.first_id, 6u);
  EXPECT_EQ(info.next_id, 10u);
  EXPECT_EQ(info.segment_count, 2u);
  r = RunTool({"ls", root});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre(::testing::StartsWith("STREAM"),
                                        "s       6      10    2         276    1.00"));
  r = RunTool({"dump", root, "s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "6\tentry-0006\n7\tentry-0007\n8\tentry-0008\n9\tentry-0009\n");
  r = RunTool({"dump", root, "s", "--from", "5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ID 5 is below the first retained ID 6"));
  // At or below the first ID: nothing changes.
  r = RunTool({"trim", root, "s", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed 0 segments; the first ID is 6\n");
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
}

TEST(CliLogTest, TrimPastTheNextIdOrOfAnUnknownStreamExitsOne) {
  const std::string base = FreshDir("trim-bad");
  const std::string root = base + "/root";
  WriteEntries(root, "s", 3);
  ToolResult r = RunTool({"trim", root, "s", "4"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("first ID 4 is past the next ID 3"));
  EXPECT_EQ(InfoOf(root, "s").first_id, 0u);
  r = RunTool({"trim", root, "nope", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("stream 'nope' does not exist (directory " + root + "/nope)"));
  r = RunTool({"trim", base + "/missing", "s", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(FileExists(base + "/missing"));
}

TEST(CliLogTest, MetaSetsAndPrintsRawHexAndText) {
  const std::string root = FreshDir("meta");
  WriteEntries(root, "s", 2);
  ToolResult r = RunTool({"meta", root, "s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // never set
  const std::string value("term=3\n\x00\xff", 9);
  const std::string file = FreshDir("meta-file") + "/value";
  WriteBytes(file, value);
  r = RunTool({"meta", root, "s", "--set-file", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  {
    std::unique_ptr<Wal> wal = OpenReadOnly(root);
    ASSERT_NE(wal, nullptr);
    ASSERT_OK_AND_ASSIGN(const std::string got, wal->GetStreamMetadata("s"));
    EXPECT_EQ(got, value);
  }
  EXPECT_EQ(RunTool({"meta", root, "s"}).out, value);
  EXPECT_EQ(RunTool({"meta", root, "s", "--format", "hex"}).out, "7465726d3d330a00ff\n");
  EXPECT_EQ(RunTool({"meta", root, "s", "--format=text"}).out, "term=3\\n\\000\\377\n");
  r = RunTool({"meta", root, "s", "--set", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RunTool({"meta", root, "s"}).out, "v2");
  // --set creates the stream, as Wal::PutStreamMetadata does.
  r = RunTool({"meta", root, "fresh", "--set", ""});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(InfoOf(root, "fresh").next_id, 0u);
}

TEST(CliLogTest, MetaReadTakesNoLockAndChangesNothing) {
  const std::string root = FreshDir("meta-ro");
  WriteEntries(root, "s", 2);
  ASSERT_EQ(RunTool({"meta", root, "s", "--set", "v"}).exit_code, 0);
  RemoveFile(root + "/LOCK");
  const auto before = Snapshot(root);
  ToolResult r = RunTool({"meta", root, "s", "--format", "text"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v\n");
  EXPECT_EQ(Snapshot(root), before);
  EXPECT_FALSE(FileExists(root + "/LOCK"));
  // Works while a writer holds the LOCK.
  std::unique_ptr<Wal> writer;
  {
    WalOptions options;
    options.root = root;
    ASSERT_OK_AND_ASSIGN(writer, Wal::Open(options));
  }
  EXPECT_EQ(RunTool({"meta", root, "s"}).out, "v");
  EXPECT_EQ(RunTool({"meta", root, "s", "--set", "w"}).exit_code, 1);
}

TEST(CliLogTest, MetaOfAnUnknownStreamOrADamagedFileExitsOne) {
  const std::string root = FreshDir("meta-bad");
  WriteEntries(root, "s", 1);
  ToolResult r = RunTool({"meta", root, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("stream 'nope' does not exist"));
  ASSERT_EQ(RunTool({"meta", root, "s", "--set", "value"}).exit_code, 0);
  FlipByte(root + "/s/stream.meta", 10);
  r = RunTool({"meta", root, "s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(root + "/s/stream.meta@0"));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(CliLogTest, RmDeletesTheStreamAndTheKeyCanBeUsedAgain) {
  const std::string root = FreshDir("rm");
  WriteEntries(root, "a/b", 5, 2 * kEntryFrameSize);
  WriteEntries(root, "keep", 2);
  ToolResult r = RunTool({"rm", root, "a/b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted stream 'a/b' (IDs [0, 5), 3 segments)\n");
  EXPECT_FALSE(FileExists(root + "/a_b"));
  {
    std::unique_ptr<Wal> wal = OpenReadOnly(root);
    ASSERT_NE(wal, nullptr);
    ASSERT_OK_AND_ASSIGN(const std::vector<std::string> keys, wal->ListStreams());
    EXPECT_THAT(keys, ElementsAre("keep"));
  }
  r = RunTool({"rm", root, "a/b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("stream 'a/b' does not exist (directory " + root + "/a_b)"));
  r = RunTool({"append", root, "a/b"}, "new\n");
  EXPECT_EQ(r.out, "0\n");
  EXPECT_EQ(RunTool({"dump", root, "a/b"}).out, "0\tnew\n");
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
