// End-to-end tests of `ironwal verify` and `ironwal repair` (and the read-only commands)
// on the files of the log primitives: an interrupted suffix truncation (log.intent and a
// staged "<segment>.tmp"), an interrupted delete (stream.deleted), a leftover staged
// segment without an intent, and damaged stream.meta and first.id.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/status_matchers.h"

#include "tests/cli/cli_test_util.h"

namespace ironwal {
namespace testing {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::EncodeFirstId;
using ::ironwal::internal::EncodeLogIntent;
using ::ironwal::internal::LogIntent;

namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

// Stream "s" (entries 0-9 in segments 0, 4 and 8) as a crash leaves it in the middle of
// TruncateSuffix("s", 6): the active segment's kept bytes staged, log.intent written,
// nothing applied yet. Stream "t" is clean. No LOCK file.
std::string InterruptedSuffixCut(const std::string& name) {
  const std::string root = FreshDir(name);
  WriteEntries(root, "s", 10, kFourFrames);
  WriteEntries(root, "t", 2);
  RemoveFile(root + "/LOCK");
  LogIntent intent;
  intent.kind = LogIntent::Kind::kTruncateSuffix;
  intent.next_id = 6;
  intent.first_id = 0;
  intent.segments = {0, 4};
  intent.active_size = 2 * kEntryFrameSize;
  intent.staged = true;
  WriteBytes(Seg(root, "s", 4) + ".tmp", ReadBytes(Seg(root, "s", 4)).substr(0, 2 * 46));
  WriteBytes(root + "/s/log.intent", EncodeLogIntent(intent));
  return root;
}

// The command fails (exit 1) saying `message`, and changes nothing.
void ExpectFailsUnchanged(const std::string& root, const std::vector<std::string>& args,
                          const std::string& message) {
  SCOPED_TRACE(args[0]);
  const auto before = Snapshot(root);
  const ToolResult r = RunTool(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out + r.err, HasSubstr(message));
  EXPECT_EQ(Snapshot(root), before);
}

TEST(CliVerifyLogTest, AnInterruptedSuffixCutIsReportedAndReadOnlyOpenersRefuseIt) {
  const std::string root = InterruptedSuffixCut("intent");
  const std::string intent = root + "/s/log.intent";
  ExpectFailsUnchanged(root, {"verify", root},
                       intent +
                           "@0: an interrupted suffix truncation (to next ID 6, first ID 0, "
                           "segments [0, 4]) that the next read-write open finishes");
  // Not reported as a leftover: the intent names it.
  EXPECT_THAT(RunTool({"verify", root}).out, Not(HasSubstr("left over")));
  ExpectFailsUnchanged(root, {"verify", root, "s"}, "repair finishes it now");
  // ls reports the stream, and lists the others; dump and meta refuse, saying why.
  ExpectFailsUnchanged(root, {"ls", root},
                       "log.intent: an interrupted suffix truncation or reset; open the Wal "
                       "read-write to finish it");
  EXPECT_THAT(RunTool({"ls", root}).out, HasSubstr("\nt "));
  ExpectFailsUnchanged(root, {"dump", root, "s"}, "open the Wal read-write to finish it");
  ExpectFailsUnchanged(root, {"meta", root, "s"}, "open the Wal read-write to finish it");
}

TEST(CliVerifyLogTest, RepairFinishesAnInterruptedSuffixCut) {
  const std::string root = InterruptedSuffixCut("intent-repair");
  const auto before = Snapshot(root);
  ToolResult r = RunTool({"repair", root, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("would: s: finish the interrupted operation (log.intent)"));
  EXPECT_EQ(Snapshot(root), before);
  r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(root + "/s: repaired: IDs [0, 6)"));
  EXPECT_FALSE(FileExists(root + "/s/log.intent"));
  EXPECT_FALSE(FileExists(Seg(root, "s", 4) + ".tmp"));
  EXPECT_FALSE(FileExists(Seg(root, "s", 8)));
  r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = RunTool({"dump", root, "s", "--from", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "4\tentry-0004\n5\tentry-0005\n");
}

TEST(CliVerifyLogTest, AnIntentThatCannotBeFinishedIsNotRepairable) {
  const std::string root = InterruptedSuffixCut("intent-broken");
  WriteBytes(Seg(root, "s", 4) + ".tmp", "short");
  ExpectFailsUnchanged(
      root, {"verify", root},
      "that cannot be finished: " + Seg(root, "s", 4) + ".tmp holds 5 bytes, not the 92 it names");
  ExpectFailsUnchanged(root, {"repair", root}, "cannot fix: " + root + "/s/log.intent@0");
  FlipByte(root + "/s/log.intent", 7);
  ExpectFailsUnchanged(root, {"verify", root}, "log.intent: crc mismatch");
  ExpectFailsUnchanged(root, {"repair", root}, "cannot repair " + root + "/s");
}

TEST(CliVerifyLogTest, AStagedSegmentWithoutAnIntentIsALeftover) {
  const std::string root = FreshDir("staged-leftover");
  WriteEntries(root, "s", 6, kFourFrames);
  WriteBytes(Seg(root, "s", 4) + ".tmp", ReadBytes(Seg(root, "s", 4)));
  ExpectFailsUnchanged(root, {"verify", root},
                       Seg(root, "s", 4) + ".tmp: left over from an interrupted atomic write");
  ToolResult r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(FileExists(Seg(root, "s", 4) + ".tmp"));
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
}

TEST(CliVerifyLogTest, AnInterruptedDeleteIsReportedAndRepairFinishesIt) {
  const std::string root = FreshDir("deleting");
  WriteEntries(root, "s", 3);
  WriteEntries(root, "gone", 3);
  RemoveFile(root + "/LOCK");
  WriteBytes(root + "/gone/stream.deleted", format::kDeletedMarkerMagic);
  ExpectFailsUnchanged(root, {"verify", root},
                       root + "/gone/stream.deleted: a stream being deleted");
  // Absent for the readers, as for Wal::Open.
  const auto before = Snapshot(root);
  ToolResult r = RunTool({"ls", root});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("gone")));
  r = RunTool({"dump", root, "gone"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Snapshot(root), before);
  r = RunTool({"repair", root});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(root + "/gone: removed (the stream had been deleted)"));
  EXPECT_FALSE(FileExists(root + "/gone"));
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
  // What is left once every other file is gone: the marker alone.
  ASSERT_EQ(RunTool({"append", root, "gone"}, "x\n").exit_code, 0);
  RemoveFile(root + "/LOCK");
  for (const auto& [name, contents] : Snapshot(root + "/gone")) {
    RemoveFile(root + "/gone/" + name);
  }
  WriteBytes(root + "/gone/stream.deleted", format::kDeletedMarkerMagic);
  ExpectFailsUnchanged(root, {"verify", root}, "a stream being deleted");
  EXPECT_EQ(RunTool({"repair", root}).exit_code, 0);
  EXPECT_FALSE(FileExists(root + "/gone"));
}

TEST(CliVerifyLogTest, DamagedMetadataIsAFindingNamingTheFile) {
  const std::string root = FreshDir("meta-damage");
  WriteEntries(root, "s", 3);
  ASSERT_EQ(RunTool({"meta", root, "s", "--set", "hard state"}).exit_code, 0);
  EXPECT_EQ(RunTool({"verify", root}).exit_code, 0);
  RemoveFile(root + "/LOCK");
  const std::string meta = root + "/s/stream.meta";
  const std::string good = ReadBytes(meta);
  FlipByte(meta, 12);  // in the value: its CRC, after the 9-byte header and 10 bytes
  ExpectFailsUnchanged(root, {"verify", root},
                       meta + "@19: unreadable (stream.meta: crc mismatch)");
  WriteBytes(meta, good.substr(0, good.size() - 3));
  ExpectFailsUnchanged(root, {"verify", root},
                       meta + "@5: unreadable (stream.meta: length 10 in a file of 20 bytes)");
  ExpectFailsUnchanged(root, {"repair", root}, "cannot fix: " + meta);
}

TEST(CliVerifyLogTest, FirstIdIsReportedAndDamageOrAnIdPastTheEndIsAFinding) {
  const std::string root = FreshDir("first-id");
  WriteEntries(root, "s", 10, kFourFrames);
  ASSERT_EQ(RunTool({"trim", root, "s", "6"}).exit_code, 0);
  RemoveFile(root + "/LOCK");
  ToolResult r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(root + "/s: ok: IDs [6, 10)"));
  const std::string path = root + "/s/first.id";
  FlipByte(path, 13);
  ExpectFailsUnchanged(root, {"verify", root}, path + "@12: unreadable (first.id: crc mismatch)");
  WriteBytes(path, ReadBytes(path).substr(0, 10));
  ExpectFailsUnchanged(root, {"verify", root},
                       path + "@0: unreadable (first.id: bad magic or size 10)");
  WriteBytes(path, EncodeFirstId(11));
  ExpectFailsUnchanged(root, {"verify", root},
                       path + "@4: records first ID 11, beyond the stream's next ID 10");
  WriteBytes(path, EncodeFirstId(10));
  r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(root + "/s: ok: IDs [10, 10)"));
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
