// End-to-end tests of `ironwal verify` and `ironwal repair`: each kind of damage, made by
// byte surgery on a real WAL, is flagged with its file and offset; repair fixes what
// recovery can fix (and then verify passes), refuses what it cannot, and --dry-run
// changes no byte.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/cli/cli_test_util.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::DecodeDurablePos;
using ::ironwal::internal::DurablePos;
using ::ironwal::internal::EncodeHeadState;
using ::ironwal::internal::EncodeSegmentIndex;
using ::ironwal::internal::SegmentFileName;

namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs verify and expects it to flag `expected` (a substring of its output).
void ExpectFlagged(const std::string& root, const std::string& expected) {
  const auto before = Snapshot(root);
  const ToolResult r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(expected));
  EXPECT_THAT(r.out, HasSubstr("verify: "));
  EXPECT_EQ(Snapshot(root), before) << "verify changed a file";
}

void ExpectVerifies(const std::string& root) {
  const ToolResult r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, EndsWith("no problems\n"));
}

// repair succeeds, then verify passes.
void ExpectRepaired(const std::string& root) {
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("verify finds no problems"));
  ExpectVerifies(root);
}

// repair refuses, saying so, and changes nothing.
void ExpectNotRepairable(const std::string& root) {
  const auto before = Snapshot(root);
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("cannot repair"));
  EXPECT_THAT(r.out, HasSubstr("nothing was changed"));
  const auto after = Snapshot(root);
  for (const auto& [path, contents] : before) {
    if (path == "LOCK") continue;
    EXPECT_EQ(after.count(path) ? after.at(path) : "(missing)", contents) << path;
  }
}

// Stream "s": entries 0-4 in one segment (230 bytes), then the first 20 bytes of a frame
// header: what a crash leaves when it cuts a write short.
std::string TornTailWal(const std::string& name) {
  const std::string root = FreshDir(name);
  WriteEntries(root, "s", 5);
  AppendBytes(Seg(root, "s", 0), ReadBytes(Seg(root, "s", 0)).substr(0, 20));
  return root;
}

TEST(CliVerifyTest, EveryFixtureVerifiesWithoutChangesOrLock) {
  for (const std::string& name : FixtureNames()) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(name));
    const std::string root = FreshDir("verify-" + name) + "/wal";
    CopyTree(fixture.root, root);
    const auto before = Snapshot(root);
    ExpectVerifies(root);
    for (const auto& [key, stream] : fixture.streams) {
      const ToolResult r = RunTool({"verify", root, key});
      EXPECT_EQ(r.exit_code, 0) << r.out;
      EXPECT_THAT(r.out, HasSubstr(absl::StrCat("/", stream.dir, ": ok: IDs [", stream.first_id,
                                                ", ", stream.next_id, ")")));
    }
    EXPECT_EQ(Snapshot(root), before);
    EXPECT_FALSE(FileExists(root + "/LOCK"));
  }
}

TEST(CliVerifyTest, ADirectoryThatIsNotARootIsAFindingNotNoProblems) {
  // The parent of a WAL's root (a path one level off): its only entry is the root, which is
  // not a stream. "0 streams, no problems" would tell a backup check all is well.
  const std::string parent = FreshDir("verify_parent");
  const std::string root = parent + "/wal";
  WriteEntries(root, "s", 3);
  ToolResult r = RunTool({"verify", parent});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("no streams in " + parent + ", which holds 'wal', not a stream"));
  // A stray file says so too.
  const std::string stray = FreshDir("verify_stray");
  WriteBytes(stray + "/notes.txt", "x");
  r = RunTool({"verify", stray});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("holds 'notes.txt'"));
  // An empty directory is an empty WAL: nothing to find.
  r = RunTool({"verify", FreshDir("verify_empty")});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, EndsWith("0 streams, no problems\n"));
  ExpectVerifies(root);
}

TEST(CliVerifyTest, FlagsATornTail) {
  const std::string root = TornTailWal("torn");
  ExpectFlagged(root, Seg(root, "s", 0) + "@230: frame header cut short: 20 of 32 bytes");
  ExpectFlagged(root, "a torn tail (row B); repair cuts the last 20 bytes]");
}

TEST(CliVerifyTest, RepairCutsATornTailThenVerifyPasses) {
  const std::string root = TornTailWal("torn-repair");
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("done: recovery: s: active segment torn tail (row B) at byte 230"));
  EXPECT_EQ(ReadBytes(Seg(root, "s", 0)).size(), 230u);
  ExpectVerifies(root);
  EXPECT_EQ(Lines(RunTool({"dump", root, "s"}).out).size(), 5u);
  EXPECT_EQ(RunTool({"repair", root}).exit_code, 0);  // Nothing left to do.
}

// What a crash leaves with WalOptions::preallocate_bytes: zeros after the last frame
// (segment_scan.h row Z). verify, dump and repair read it as the clean end.
TEST(CliVerifyTest, AZeroTailIsACleanEndForVerifyDumpAndRepair) {
  const std::string root = FreshDir("zero-tail");
  WriteEntries(root, "s", 5);
  AppendBytes(Seg(root, "s", 0), std::string(4096, '\0'));
  const auto before = Snapshot(root);
  ExpectVerifies(root);
  const ToolResult dump = RunTool({"dump", root, "s"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(Lines(dump.out).size(), 5u);
  EXPECT_EQ(Snapshot(root), before) << "verify or dump changed a file";
  // Nothing for repair to do: the next open for writing cuts the zeros.
  const ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectVerifies(root);
  const ToolResult append = RunTool({"append", root, "s"}, "six\n");
  EXPECT_EQ(append.exit_code, 0) << append.out << append.err;
  EXPECT_EQ(Lines(RunTool({"dump", root, "s"}).out).size(), 6u);
  ExpectVerifies(root);
}

// One non-zero byte inside the zeros is damage, found as without preallocation.
TEST(CliVerifyTest, ADamagedByteInsideAZeroTailIsFlagged) {
  const std::string root = FreshDir("zero-tail-damaged");
  WriteEntries(root, "s", 5);
  std::string zeros(4096, '\0');
  zeros[3000] = 0x01;
  AppendBytes(Seg(root, "s", 0), zeros);
  ExpectFlagged(root, Seg(root, "s", 0) + "@230: ");
  ExpectFlagged(root, "a torn tail (row C); repair cuts the last 4096 bytes]");
  ExpectRepaired(root);
  EXPECT_EQ(ReadBytes(Seg(root, "s", 0)).size(), 230u);
  EXPECT_EQ(Lines(RunTool({"dump", root, "s"}).out).size(), 5u);
}

TEST(CliVerifyTest, RepairDryRunChangesNoByteAndTakesNoLock) {
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture("rotation"));
  const std::string root = FreshDir("dry-run") + "/wal";
  CopyTree(fixture.root, root);
  const std::string last = Seg(root, "log", fixture.streams.at("log").segments.back().start_id);
  const std::string contents = ReadBytes(last);
  WriteBytes(last, contents.substr(0, contents.size() - 5));  // ironwal 0.6 torn tail
  const auto before = Snapshot(root);

  const ToolResult r = RunTool({"repair", root, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("would: recovery: log: active segment torn tail (row D)"));
  EXPECT_THAT(r.out, HasSubstr("nothing was changed"));
  EXPECT_EQ(Snapshot(root), before);
  EXPECT_FALSE(FileExists(root + "/LOCK"));

  ExpectRepaired(root);
}

TEST(CliVerifyTest, FlagsABadCrcInASealedSegmentAndRepairRefuses) {
  const std::string root = FreshDir("sealed-crc");
  WriteEntries(root, "s", 10, kFourFrames);           // segments 0, 4, 8
  FlipByte(Seg(root, "s", 4), kEntryFrameSize + 40);  // entry 5's bytes
  ExpectFlagged(root, Seg(root, "s", 4) + "@46: frame of IDs [5, 6): frame crc mismatch");
  ExpectFlagged(root, "[sealed segment: repair cannot fix it]");
  const ToolResult r = RunTool({"verify", root});
  EXPECT_THAT(r.out, Not(HasSubstr("are missing")));  // the bad frame's IDs are accounted for
  ExpectNotRepairable(root);
}

TEST(CliVerifyTest, RepairMovesACorruptActiveTailAsideThenVerifyPasses) {
  const std::string root = FreshDir("active-crc");
  WriteEntries(root, "s", 10, kFourFrames);  // active segment 8: entries 8 and 9
  const std::string active = Seg(root, "s", 8);
  FlipByte(active, 40);
  const std::string damaged = ReadBytes(active);
  ExpectFlagged(root, active + "@0: frame of IDs [8, 9): frame crc mismatch");
  ExpectFlagged(root,
                "corruption (row H: before the durable frontier); repair keeps the last "
                "92 bytes in 00000000000000000008.wal.corrupt-0");

  ExpectRepaired(root);
  EXPECT_EQ(ReadBytes(active), "");
  EXPECT_EQ(ReadBytes(active + ".corrupt-0"), damaged);  // entry 9's valid frame is kept
  const ToolResult r = RunTool({"verify", root});
  EXPECT_THAT(r.out, HasSubstr("note: " + active + ".corrupt-0: 92 bytes"));
  // IDs 8 and 9 left the log; they are never handed out again (lost.ids).
  EXPECT_THAT(r.out, HasSubstr("IDs [8, 10) were cut out of the log by a repair"));
  EXPECT_THAT(r.out, HasSubstr("ok: IDs [0, 10)"));
}

TEST(CliVerifyTest, FlagsAMissingMiddleSegmentAndRepairRefuses) {
  const std::string root = FreshDir("missing-middle");
  WriteEntries(root, "s", 10, kFourFrames);
  RemoveFile(Seg(root, "s", 4));
  ExpectFlagged(root, Seg(root, "s", 4) +
                          ": missing, but segments.idx lists it: IDs [4, 8) are "
                          "lost");
  ExpectNotRepairable(root);
}

TEST(CliVerifyTest, FlagsAMalformedSegmentsIdxAndRepairRebuildsIt) {
  const std::string root = FreshDir("bad-idx");
  WriteEntries(root, "s", 10, kFourFrames);
  const std::string idx = root + "/s/segments.idx";
  AppendBytes(idx, "abc");
  ExpectFlagged(root, idx + "@24: length 27 is not a multiple of 8");
  ExpectRepaired(root);
  EXPECT_EQ(ReadBytes(idx), EncodeSegmentIndex({0, 4, 8}));

  WriteBytes(idx, EncodeSegmentIndex({0, 8, 4}));
  ExpectFlagged(root, idx + "@16: start ID 4 after 8: the IDs decrease");
  ExpectRepaired(root);
  EXPECT_EQ(ReadBytes(idx), EncodeSegmentIndex({0, 4, 8}));
}

TEST(CliVerifyTest, FlagsABadOrStaleHeadStateAndRepairRewritesIt) {
  const std::string root = FreshDir("bad-head");
  WriteEntries(root, "s", 10, kFourFrames);
  const std::string head = root + "/s/head.state";
  ASSERT_EQ(ReadBytes(head), EncodeHeadState(8));
  WriteBytes(head, "garbage");
  ExpectFlagged(root, head + ": malformed: ");
  ExpectRepaired(root);
  EXPECT_EQ(ReadBytes(head), EncodeHeadState(8));

  WriteBytes(head, EncodeHeadState(4));
  ExpectFlagged(root, head +
                          ": names 00000000000000000004.wal but the active segment is "
                          "00000000000000000008.wal");
  ExpectRepaired(root);
  EXPECT_EQ(ReadBytes(head), EncodeHeadState(8));
}

TEST(CliVerifyTest, FlagsASegmentCopiedFromAnotherStream) {
  const std::string root = FreshDir("foreign-segment");
  WriteEntries(root, "a", 6);                // one segment: IDs [0, 6)
  WriteEntries(root, "b", 10, kFourFrames);  // segments 0, 4, 8
  WriteBytes(Seg(root, "a", 4), ReadBytes(Seg(root, "b", 4)));
  ExpectFlagged(root, Seg(root, "a", 4) + ": holds data but segments.idx does not list it");
  ExpectFlagged(root, Seg(root, "a", 0) +
                          "@276: the segment ends at ID 6, past the next "
                          "segment's start 4: IDs overlap");
  ExpectNotRepairable(root);
}

TEST(CliVerifyTest, FlagsASegmentRenamedFromAnotherStream) {
  const std::string root = FreshDir("renamed-segment");
  WriteEntries(root, "a", 10, kFourFrames);
  WriteEntries(root, "b", 10, kFourFrames);
  WriteBytes(Seg(root, "a", 4), ReadBytes(Seg(root, "b", 0)));
  ExpectFlagged(root, Seg(root, "a", 4) +
                          "@0: the first frame holds IDs [0, 1) but the file's "
                          "name says the segment starts at ID 4");
  ExpectNotRepairable(root);
}

// Issue 8 section 7: same start IDs, same layout, so only the frames' stream tags tell.
TEST(CliVerifyTest, FlagsSegmentsSwappedWithAnotherStream) {
  const std::string root = FreshDir("swapped-segments");
  WriteEntries(root, "a", 10, kFourFrames);  // segments 0, 4, 8
  WriteEntries(root, "b", 10, kFourFrames);
  for (const uint64_t start : {0, 8}) {  // a sealed one and the active one
    const std::string a = ReadBytes(Seg(root, "a", start));
    WriteBytes(Seg(root, "a", start), ReadBytes(Seg(root, "b", start)));
    WriteBytes(Seg(root, "b", start), a);
  }
  ExpectFlagged(
      root, Seg(root, "a", 0) + "@0: segment " + Seg(root, "a", 0) + " belongs to another stream");
  ExpectFlagged(
      root, Seg(root, "b", 8) + "@0: segment " + Seg(root, "b", 8) + " belongs to another stream");
  ExpectNotRepairable(root);
}

TEST(CliVerifyTest, FlagsAStreamKeyFromAnotherStream) {
  const std::string root = FreshDir("foreign-key");
  WriteEntries(root, "a", 2);
  WriteEntries(root, "b", 2);
  WriteBytes(root + "/a/stream.key", ReadBytes(root + "/b/stream.key"));
  ExpectFlagged(root, root +
                          "/a/stream.key: records the key 'b', which belongs in directory "
                          "'b', not here");
}

TEST(CliVerifyTest, FlagsLeftoversAndABadDurablePosAndRepairFixesThem) {
  const std::string root = FreshDir("leftovers");
  WriteEntries(root, "s", 10, kFourFrames);
  WriteBytes(root + "/s/segments.idx.tmp", "x");
  WriteBytes(root + "/s/" + SegmentFileName(12), "");  // an interrupted rotation
  WriteBytes(root + "/s/durable.pos", "junk");
  ExpectFlagged(root, root + "/s/segments.idx.tmp: left over from an interrupted atomic write");
  ExpectFlagged(root, Seg(root, "s", 12) + ": empty and not in segments.idx");
  ExpectFlagged(root, root + "/s/durable.pos: malformed: ");
  ExpectRepaired(root);
  EXPECT_FALSE(FileExists(root + "/s/segments.idx.tmp"));
  EXPECT_FALSE(FileExists(Seg(root, "s", 12)));
  ASSERT_OK_AND_ASSIGN(const DurablePos pos, DecodeDurablePos(ReadBytes(root + "/s/durable.pos")));
  EXPECT_EQ(pos.segment_start_id, 8u);
}

TEST(CliVerifyTest, VerifyAndRepairOfOneStreamLeaveTheOthersAlone) {
  const std::string root = FreshDir("one-stream");
  WriteEntries(root, "good", 3);
  WriteEntries(root, "torn", 3);
  WriteEntries(root, "user/42", 3);
  AppendBytes(Seg(root, "torn", 0), std::string(7, 'x'));
  AppendBytes(Seg(root, "user_42", 0), std::string(7, 'x'));
  EXPECT_EQ(RunTool({"verify", root, "good"}).exit_code, 0);
  EXPECT_EQ(RunTool({"verify", root, "torn"}).exit_code, 1);
  ToolResult r = RunTool({"verify", root, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(root + "/nope"));

  const std::string other = ReadBytes(Seg(root, "user_42", 0));
  r = RunTool({"repair", root, "torn"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(RunTool({"verify", root, "torn"}).exit_code, 0);
  EXPECT_EQ(ReadBytes(Seg(root, "user_42", 0)), other);
  EXPECT_EQ(RunTool({"verify", root, "user/42"}).exit_code, 1);
  ExpectRepaired(root);
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
