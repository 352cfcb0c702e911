// Regressions (issue 8, sections 4, 6 and 7) for the directory plan as every command meets
// it: the ironwal 0.6 fixtures, copied and mutated, then verify, repair, ls, dump and
// append on them. Each test failed before the plan (ironwal/stream/directory_plan.h).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/format/names.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/cli/cli_test_util.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::EncodeSegmentIndex;
using ::ironwal::internal::SegmentFileName;

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A writable copy of fixture `name`'s WAL root.
std::string CopyFixture(const std::string& name, const std::string& as) {
  absl::StatusOr<Fixture> fixture = LoadFixture(name);
  EXPECT_TRUE(fixture.ok()) << fixture.status();
  const std::string root = FreshDir(as) + "/wal";
  CopyTree(fixture->root, root);
  return root;
}

size_t DumpedEntries(const std::string& root, const std::string& stream) {
  const ToolResult r = RunTool({"dump", root, stream});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Lines(r.out).size();
}

// Every regular file under `root` (relative path -> contents), not following links.
std::map<std::string, std::string> RegularFiles(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_symlink() && entry.is_regular_file()) {
      files[std::filesystem::relative(entry.path(), root).string()] =
          ReadBytes(entry.path().string());
    }
  }
  return files;
}

// repair refuses and changes no byte.
void ExpectRepairRefusesUnchanged(const std::string& root) {
  auto before = RegularFiles(root);
  before.erase("LOCK");
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("cannot repair"));
  auto after = RegularFiles(root);
  after.erase("LOCK");
  EXPECT_EQ(after, before);
}

// Section 7: segments.idx overwritten with one u64 (992) made 20 intact segments read as
// the leftovers of a truncation; repair and any read-write open deleted them.
TEST(CliPlanRegressionTest, DamagedIndexIsNotATruncation) {
  const std::string root = CopyFixture("truncated", "idx-992");
  const size_t entries = DumpedEntries(root, "log");
  ASSERT_GT(entries, 100u);
  WriteBytes(root + "/log/segments.idx", EncodeSegmentIndex({992}));
  const ToolResult v = RunTool({"verify", root});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.out, HasSubstr("no truncate.intent"));
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(DumpedEntries(root, "log"), entries);
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
}

// Section 7: orders/segments.idx of `basic` rewritten as 0 and 5 hid IDs 5.. and append
// handed out ID 5 again, over the intact order-5.
TEST(CliPlanRegressionTest, IndexEntryInsideASegmentHidesNothing) {
  const std::string root = CopyFixture("basic", "idx-0-5");
  const size_t entries = DumpedEntries(root, "orders");
  ASSERT_GT(entries, 5u);
  WriteBytes(root + "/orders/segments.idx", EncodeSegmentIndex({0, 5}));
  EXPECT_EQ(DumpedEntries(root, "orders"), entries);
  const ToolResult a = RunTool({"append", root, "orders"}, "new\n");
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, absl::StrCat(entries, "\n"));
}

// Section 4: a start ID appended to segments.idx past the next ID (no such segment): a
// read-write open accepted it and the next append got 500, a permanent gap.
TEST(CliPlanRegressionTest, IndexEntryPastTheNextIdIsNeverAGap) {
  const std::string root = FreshDir("idx-500");
  WriteEntries(root, "s", 5);
  AppendBytes(root + "/s/segments.idx", EncodeSegmentIndex({500}));
  const ToolResult refused = RunTool({"append", root, "s"}, "x\n");
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_THAT(refused.err, HasSubstr("IDs [5, 500)"));
  const ToolResult v = RunTool({"verify", root});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.out, HasSubstr("repair drops the entry"));
  EXPECT_EQ(RunTool({"repair", root}).exit_code, 0);
  const ToolResult a = RunTool({"append", root, "s"}, "x\n");
  EXPECT_EQ(a.out, "5\n") << a.err;
  EXPECT_EQ(DumpedEntries(root, "s"), 6u);
}

// Section 7: two sealed segment files merged into one (the second removed) made repair
// fail and lose intact IDs.
TEST(CliPlanRegressionTest, MergedSealedSegmentsLoseNoId) {
  const std::string root = CopyFixture("rotation", "merged");
  const size_t entries = DumpedEntries(root, "log");
  const std::string first = root + "/log/" + SegmentFileName(0);
  const std::string second = root + "/log/" + SegmentFileName(29);
  ASSERT_TRUE(FileExists(second));
  AppendBytes(first, ReadBytes(second));
  RemoveFile(second);
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(DumpedEntries(root, "log"), entries);
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
}

// Section 7: an empty directory named like a segment was ignored by verify and repair
// (exit 0) while ls, dump and append failed with EISDIR; a symbolic link loop as a
// segment made verify print an I/O error and "0 problems" while append replaced it.
TEST(CliPlanRegressionTest, EntriesThatAreNotFilesAreFoundByEveryCommand) {
  for (const bool as_link : {false, true}) {
    SCOPED_TRACE(as_link ? "symlink loop" : "directory");
    const std::string root = CopyFixture("basic", as_link ? "seg-link" : "seg-dir");
    const std::string odd = root + "/orders/" + SegmentFileName(100);
    ASSERT_EQ(
        as_link ? ::symlink(SegmentFileName(100).c_str(), odd.c_str()) : ::mkdir(odd.c_str(), 0755),
        0);
    const ToolResult v = RunTool({"verify", root});
    EXPECT_EQ(v.exit_code, 1);
    EXPECT_THAT(v.out, HasSubstr(odd + ": " + SegmentFileName(100) + " is not a regular file"));
    EXPECT_THAT(v.out, Not(HasSubstr("0 problems")));
    ExpectRepairRefusesUnchanged(root);
    EXPECT_EQ(RunTool({"append", root, "orders"}, "x\n").exit_code, 1);
    EXPECT_EQ(RunTool({"dump", root, "orders"}).exit_code, 1);
    struct stat st;
    ASSERT_EQ(::lstat(odd.c_str(), &st), 0);
    EXPECT_EQ(as_link ? S_ISLNK(st.st_mode) : S_ISDIR(st.st_mode), true);
  }
}

// Sections 6 and 7: a FIFO where a segment or head.state should be, or a symbolic link
// loop at stream.key, made verify and ls block forever; one bad stream made ls fail for
// the whole root. Each stream is reported on its own.
TEST(CliPlanRegressionTest, OddFilesNeitherBlockNorHideTheOtherStreams) {
  const std::vector<std::string> odd = {SegmentFileName(100), "head.state", "stream.key"};
  for (const std::string& name : odd) {
    SCOPED_TRACE(name);
    const std::string root = CopyFixture("basic", "odd-" + name);
    const std::string path = root + "/orders/" + name;
    if (FileExists(path)) RemoveFile(path);
    ASSERT_EQ(
        name == "stream.key" ? ::symlink(name.c_str(), path.c_str()) : ::mkfifo(path.c_str(), 0644),
        0);
    const ToolResult v = RunTool({"verify", root});
    EXPECT_EQ(v.exit_code, 1);
    EXPECT_THAT(v.out, HasSubstr(name + " is not a regular file"));
    EXPECT_THAT(v.out, HasSubstr("/users: ok"));
    const ToolResult ls = RunTool({"ls", root});
    EXPECT_EQ(ls.exit_code, 1);
    EXPECT_THAT(ls.err, HasSubstr("/orders"));
    EXPECT_THAT(ls.out, HasSubstr("users"));
    EXPECT_THAT(ls.out, HasSubstr("empty-payloads"));
  }
}

// Section 6: an empty segments.idx was not reported by verify, which blamed head.state
// and durable.pos instead.
TEST(CliPlanRegressionTest, VerifyReportsAnEmptySegmentsIdx) {
  const std::string root = FreshDir("empty-idx");
  WriteEntries(root, "s", 10, 4 * kEntryFrameSize);
  WriteBytes(root + "/s/segments.idx", "");
  const ToolResult v = RunTool({"verify", root});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.out, HasSubstr(root + "/s/segments.idx: empty"));
  EXPECT_THAT(v.out, Not(HasSubstr("head.state")));
  EXPECT_THAT(v.out, Not(HasSubstr("durable.pos")));
  EXPECT_EQ(RunTool({"repair", root}).exit_code, 0);
  EXPECT_EQ(DumpedEntries(root, "s"), 10u);
}

// Section 6: ls read a gap between sealed segments without a word.
TEST(CliPlanRegressionTest, LsReportsAGapBetweenSealedSegments) {
  const std::string root = FreshDir("sealed-gap");
  WriteEntries(root, "s", 10, 4 * kEntryFrameSize);  // segments 0, 4, 8
  const std::string first = root + "/s/" + SegmentFileName(0);
  WriteBytes(first, ReadBytes(first).substr(0, 3 * kEntryFrameSize));  // IDs 3 gone
  const ToolResult ls = RunTool({"ls", root});
  EXPECT_EQ(ls.exit_code, 1);
  EXPECT_THAT(ls.err, HasSubstr("are missing"));
  // Issue 8 §4: a read-write open accepted the gap (and appended past it). The rotation
  // recorded segment 0's sealed size (sealed.sizes): every command refuses the gap.
  const ToolResult verify = RunTool({"verify", root});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_THAT(verify.out, HasSubstr("was sealed at"));
  ExpectRepairRefusesUnchanged(root);
  const ToolResult append = RunTool({"append", root, "s"}, "after the gap\n");
  EXPECT_EQ(append.exit_code, 1) << append.out;
  EXPECT_THAT(append.err,
              HasSubstr("holds " + std::to_string(3 * kEntryFrameSize) +
                        " bytes but was sealed at " + std::to_string(4 * kEntryFrameSize)));
}

// Issue 8 §7: with the only segment and segments.idx of the `compressed` fixture deleted,
// repair and verify exited 0 (no stream seen) while dump exited 1. One classification: a
// directory under the root holding nothing is reported by every command and repaired by
// none (a stream whose files were all removed looks the same as an interrupted creation).
TEST(CliPlanRegressionTest, AStreamDirectoryHoldingNothingIsReportedByEveryCommand) {
  const std::string root = CopyFixture("compressed", "emptied-stream");
  RemoveFile(root + "/text/" + SegmentFileName(0));
  RemoveFile(root + "/text/segments.idx");
  const ToolResult v = RunTool({"verify", root});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_THAT(v.out, HasSubstr(root + "/text: a directory under the root that holds no file"));
  EXPECT_EQ(RunTool({"verify", root, "text"}).exit_code, 1);
  const ToolResult ls = RunTool({"ls", root});
  EXPECT_EQ(ls.exit_code, 1);
  EXPECT_THAT(ls.err, HasSubstr("holds no file at all"));
  EXPECT_EQ(RunTool({"dump", root, "text"}).exit_code, 1);
  ExpectRepairRefusesUnchanged(root);
}

// Issue 8 §2: repair quarantined a corrupt frame of the active segment with valid frames
// after it, and the next append handed the quarantined IDs out again. Now they are
// recorded (lost.ids), the stream continues past them, and every command agrees.
TEST(CliPlanRegressionTest, RepairedLossIsARecordedGapNoCommandReusesOrHides) {
  const std::string root = FreshDir("recorded-gap");
  WriteEntries(root, "s", 10, 4 * kEntryFrameSize);  // segments 0, 4, 8; 8 holds IDs 8, 9
  FlipByte(root + "/s/" + SegmentFileName(8), 40);   // inside ID 8's payload
  const ToolResult repair = RunTool({"repair", root});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_THAT(repair.out, HasSubstr("IDs [8, 10) recorded as lost"));
  const ToolResult verify = RunTool({"verify", root});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_THAT(verify.out, HasSubstr("IDs [8, 10) were cut out of the log by a repair"));
  const ToolResult ls = RunTool({"ls", root});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  const ToolResult dump = RunTool({"dump", root, "s"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(Lines(dump.out).size(), 8u);
  EXPECT_THAT(dump.err, HasSubstr("IDs [8, 10) were cut out of the log"));
  const ToolResult append = RunTool({"append", root, "s"}, "new\n");
  EXPECT_EQ(append.exit_code, 0) << append.err;
  EXPECT_EQ(append.out, "10\n");
  const ToolResult after = RunTool({"dump", root, "s", "--from", "7"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(Lines(after.out).size(), 2u);
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
