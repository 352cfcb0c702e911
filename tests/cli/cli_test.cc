// End-to-end tests of the `ironwal` tool: the built binary runs on real directories under
// TEST_TMPDIR; each test checks what it prints and its exit code. verify and repair are
// in cli_verify_test.cc.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/json.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/root_lock.h"

#include "tests/cli/cli_test_util.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::LockWalRoot;
using ::ironwal::internal::SegmentFileName;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

const char* const kSubcommands[] = {"ls",       "dump", "verify", "repair", "append",
                                    "truncate", "trim", "meta",   "rm",     "bench"};

TEST(CliTest, NoArgumentsPrintsUsageAndExitsTwo) {
  const ToolResult r = RunTool({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, HasSubstr("usage: ironwal COMMAND"));
}

TEST(CliTest, HelpListsEverySubcommand) {
  for (const char* flag : {"--help", "help"}) {
    const ToolResult r = RunTool({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    for (const char* command : kSubcommands) {
      EXPECT_THAT(r.out, HasSubstr(absl::StrCat("  ", command, " "))) << command;
    }
  }
}

TEST(CliTest, EverySubcommandHasHelp) {
  for (const char* command : kSubcommands) {
    SCOPED_TRACE(command);
    const ToolResult r = RunTool({command, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith(absl::StrCat("usage: ironwal ", command, " ")));
    EXPECT_THAT(r.err, IsEmpty());
    EXPECT_EQ(RunTool({"help", command}).out, r.out);
  }
}

TEST(CliTest, UsageErrorsExitTwoWithAMessageOnStderr) {
  const std::string root = FreshDir("usage");
  WriteEntries(root, "s", 3);
  const std::vector<std::vector<std::string>> cases = {
      {"frobnicate", root},
      {"ls"},
      {"ls", root, "extra"},
      {"ls", root, "--bogus"},
      {"dump", root},
      {"dump", root, "s", "--from", "x"},
      {"dump", root, "s", "--from", "-1"},
      {"dump", root, "s", "--to", "18446744073709551616"},
      {"dump", root, "s", "--from"},
      {"dump", root, "s", "--format", "xml"},
      {"dump", root, "s", "--from", "2", "--to", "1"},
      {"dump", root, ""},
      {"verify"},
      {"verify", root, "s", "t"},
      {"repair", root, "--dry-run=yes"},
      {"append", root},
      {"append", root, "s", "--sync", "sometimes"},
      {"append", root, "LOCK"},
      {"truncate", root, "s"},
      {"truncate", root, "s", "ten"},
      {"truncate", root, "s", "1", "2"},
      {"truncate", root, "s", "--suffix"},
      {"truncate", root, "s", "--suffix", "x"},
      {"truncate", root, "s", "1", "--suffix", "2"},
      {"trim", root, "s"},
      {"trim", root, "s", "first"},
      {"trim", root, "s", "-3"},
      {"meta", root},
      {"meta", root, "s", "--format", "jsonl"},
      {"meta", root, "s", "--set", "a", "--set-file", "/dev/null"},
      {"meta", root, "s", "--set", "a", "--format", "hex"},
      {"meta", root, "s", "--set", std::string((64 << 10) + 1, 'v')},
      {"rm", root},
      {"rm", root, "s", "t"},
      {"rm", root, "LOCK"},
      {"bench", "--bogus"},
  };
  const auto before = Snapshot(root);
  for (const auto& args : cases) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    const ToolResult r = RunTool(args, "entry\n");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.out, IsEmpty());
    EXPECT_THAT(r.err, HasSubstr("usage: ironwal"));
  }
  EXPECT_EQ(Snapshot(root), before);
}

TEST(CliTest, LsListsStreamsWithIdsSegmentsBytesAndRatio) {
  const std::string root = FreshDir("ls");
  WriteEntries(root, "a", 2);                             // 2 frames of 46 bytes
  WriteEntries(root, "user/42", 9, 4 * kEntryFrameSize);  // 3 segments
  const ToolResult r = RunTool({"ls", root});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre("STREAM   FIRST  NEXT  SEGMENTS  BYTES  RATIO",
                                        "a        0      2     1         92     1.00",
                                        "user/42  0      9     3         414    1.00"));
  EXPECT_THAT(r.err, IsEmpty());
}

// Review finding 2: a stream directory holding at most stream.key (a creation a crash
// interrupted, e.g. `meta ROOT b --set x` killed at its rename of segments.idx) is absent
// for Wal::Open and dump; ls listed it as an empty stream at ID 0.
TEST(CliTest, LsSkipsAnInterruptedStreamCreationAsDumpDoes) {
  const std::string root = FreshDir("ls-unfinished");
  WriteEntries(root, "a", 2);
  WriteEntries(root, "b", 1);
  for (const auto& [name, contents] : Snapshot(root + "/b")) {
    if (name != "stream.key") RemoveFile(root + "/b/" + name);
  }
  ASSERT_TRUE(FileExists(root + "/b/stream.key"));
  for (const bool with_temp : {false, true}) {
    SCOPED_TRACE(with_temp ? "stream.key and segments.idx.tmp" : "stream.key only");
    if (with_temp) WriteBytes(root + "/b/segments.idx.tmp", std::string(8, '\0'));
    const auto before = Snapshot(root);
    const ToolResult ls = RunTool({"ls", root});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_THAT(Lines(ls.out), ElementsAre("STREAM  FIRST  NEXT  SEGMENTS  BYTES  RATIO",
                                           "a       0      2     1         92     1.00"));
    EXPECT_THAT(ls.err, IsEmpty());
    const ToolResult dump = RunTool({"dump", root, "b"});
    EXPECT_EQ(dump.exit_code, 1);
    EXPECT_THAT(dump.err, HasSubstr("does not exist"));
    const ToolResult verify = RunTool({"verify", root, "b"});
    EXPECT_THAT(verify.out, HasSubstr("a stream creation a crash interrupted"));
    EXPECT_EQ(Snapshot(root), before);
  }
}

TEST(CliTest, LsMatchesEveryFixtureManifestAndChangesNothing) {
  for (const std::string& name : FixtureNames()) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(name));
    const std::string root = FreshDir("ls-fixture-" + name) + "/wal";
    CopyTree(fixture.root, root);
    const auto before = Snapshot(root);
    const ToolResult r = RunTool({"ls", root});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), fixture.streams.size() + 1) << r.out;
    size_t row = 1;
    for (const auto& [key, stream] : fixture.streams) {
      uint64_t bytes = 0, block = 0, stored = 0;
      for (const FixtureSegment& segment : stream.segments) {
        bytes += segment.size;
        for (const FixtureFrame& frame : segment.frames) {
          block += frame.uncompressed_size;
          stored += frame.disk_size;
        }
      }
      const std::string expected =
          absl::StrFormat("%u %u %u %u %.2f", stream.first_id, stream.next_id,
                          stream.segments.size(), bytes, static_cast<double>(block) / stored);
      std::vector<std::string> columns = absl::StrSplit(lines[row++], ' ', absl::SkipEmpty());
      ASSERT_EQ(columns.size(), 6u);
      EXPECT_EQ(columns[0], key);
      columns.erase(columns.begin());
      EXPECT_EQ(absl::StrJoin(columns, " "), expected);
    }
    EXPECT_EQ(Snapshot(root), before);
    EXPECT_FALSE(FileExists(root + "/LOCK")) << "ls took the LOCK";
  }
}

TEST(CliTest, LsOfAMissingRootFailsNamingIt) {
  const std::string root = FreshDir("ls-missing") + "/nope";
  const ToolResult r = RunTool({"ls", root});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(root));
  EXPECT_FALSE(FileExists(root));
}

TEST(CliTest, DumpPrintsTextHexAndRanges) {
  const std::string root = FreshDir("dump");
  const ToolResult appended = RunTool({"append", root, "s", "--batch"}, "hello\ntab\there\n\n");
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  ASSERT_EQ(RunTool({"append", root, "s", "--file", root + "/s/segments.idx"}).exit_code, 0);

  ToolResult r = RunTool({"dump", root, "s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre("0\thello", "1\ttab\\there", "2\t",
                                        "3\t\\000\\000\\000\\000\\000\\000\\000\\000"));
  r = RunTool({"dump", root, "s", "--format", "hex", "--from", "1", "--to", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre("1\t7461620968657265", "2\t", "3\t0000000000000000"));
  r = RunTool({"dump", root, "s", "--format=jsonl", "--from=2", "--to=3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":2,\"b64\":\"\"}\n");
  r = RunTool({"dump", root, "s", "--from", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(CliTest, DumpFailuresExitOneNamingTheProblem) {
  const std::string root = FreshDir("dump-fail");
  WriteEntries(root, "s", 3);
  ToolResult r = RunTool({"dump", root, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  r = RunTool({"dump", root, "s", "--from", "4"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("past the next ID 3"));

  // A flipped byte in the middle of the segment: the dump stops at that frame.
  FlipByte(root + "/s/" + SegmentFileName(0), kEntryFrameSize + 40);
  r = RunTool({"dump", root, "s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat(SegmentFileName(0), "@", kEntryFrameSize)));
}

// Every fixture written by ironwal 0.6, dumped as jsonl, is exactly its manifest's
// entries: one line per entry, {"id":N,"b64":"..."}, and nothing else.
TEST(CliTest, DumpJsonlOfEveryFixtureMatchesItsManifest) {
  for (const std::string& name : FixtureNames()) {
    ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(name));
    const std::string root = FreshDir("jsonl-" + name) + "/wal";
    CopyTree(fixture.root, root);
    for (const auto& [key, stream] : fixture.streams) {
      SCOPED_TRACE(name + "/" + key);
      const ToolResult r = RunTool({"dump", root, key, "--format", "jsonl"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_THAT(r.err, IsEmpty());
      const std::vector<std::string> lines = Lines(r.out);
      ASSERT_EQ(lines.size(), stream.entries.size());
      auto expected = stream.entries.begin();
      for (const std::string& line : lines) {
        ASSERT_OK_AND_ASSIGN(const Json json, Json::Parse(line));
        ASSERT_EQ(json.AsObject().size(), 2u) << line;
        EXPECT_EQ(json["id"].AsUint64(), expected->first);
        std::string bytes;
        ASSERT_TRUE(absl::Base64Unescape(json["b64"].AsString(), &bytes)) << line;
        EXPECT_EQ(bytes, expected->second) << line;
        EXPECT_EQ(line, absl::StrCat("{\"id\":", expected->first, ",\"b64\":\"",
                                     absl::Base64Escape(expected->second), "\"}"));
        ++expected;
      }
    }
  }
}

TEST(CliTest, AppendPrintsIdsOfLinesBatchesAndFiles) {
  const std::string root = FreshDir("append");
  ToolResult r = RunTool({"append", root, "s"}, "a\nb\n\nc");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");
  r = RunTool({"append", root, "s", "--batch", "--sync", "batch"}, "x\ny\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "4\n5\n");
  const std::string file = root + "/entry.bin";
  WriteBytes(file, std::string("line1\nline2\0\xff", 13));
  r = RunTool({"append", root, "s", "--file", file, "--sync", "async"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "6\n");
  r = RunTool({"append", root, "s"}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, IsEmpty());

  r = RunTool({"dump", root, "s"});
  EXPECT_THAT(Lines(r.out), ElementsAre("0\ta", "1\tb", "2\t", "3\tc", "4\tx", "5\ty",
                                        "6\tline1\\nline2\\000\\377"));
  // Four single appends, one batch (one frame), one file: six frames.
  r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("IDs [0, 7), 1 segment, 6 frames,"));
}

// --file reads to the end of the file, not as many bytes as stat reports: a pipe, a FIFO
// and a procfs file report 0 bytes (a regression: each stored an empty entry).
TEST(CliTest, AppendFileReadsPipesAndProcfsToTheirEnd) {
  const std::string root = FreshDir("append-pipe");
  RunOptions piped;
  piped.stdin_pipe = true;
  ToolResult r = RunTool({"append", root, "s", "--file", "/dev/stdin"}, "payload\n", piped);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n");
  r = RunTool({"append", root, "s", "--file", "/proc/self/cmdline"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunTool({"dump", root, "s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "0\tpayload\\n");
  // The tool's own command line, NUL-separated: its last argument ends the entry.
  EXPECT_THAT(lines[1], StartsWith("1\t/"));
  EXPECT_THAT(lines[1], ::testing::EndsWith("/proc/self/cmdline\\000"));
}

// Output the tool could not write (standard output on a full disk: /dev/full) fails the
// command, whatever it printed: `ironwal dump ... > backup` must not exit 0 with half a
// backup. A strict append stops at the first ID it cannot print and says which entries
// are durable.
TEST(CliTest, OutputThatCannotBeWrittenFailsTheCommand) {
  ASSERT_TRUE(FileExists("/dev/full")) << "this test writes to /dev/full, which is missing";
  const std::string root = FreshDir("full-output");
  WriteEntries(root, "s", 3);
  RunOptions full;
  full.stdout_path = "/dev/full";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"ls", root}, {"dump", root, "s"}, {"verify", root}, {"--help"}}) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    const ToolResult r = RunTool(args, "", full);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("writing standard output failed"));
  }
  const ToolResult r = RunTool({"append", root, "s"}, "a\nb\n", full);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("writing ID 3 of stream 's' in " + root +
                               " to standard output failed; entries up to ID 3 are durable"));
  // The first entry is in the log; the second was never appended.
  const ToolResult dump = RunTool({"dump", root, "s", "--from", "3"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out, "3\ta\n");
}

TEST(CliTest, AppendToAMissingFileFailsNamingIt) {
  const std::string root = FreshDir("append-missing");
  const ToolResult r = RunTool({"append", root, "s", "--file", root + "/nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(root + "/nope"));
}

TEST(CliTest, WritersFailWhileTheWalIsLockedButReadersAndVerifyWork) {
  const std::string root = FreshDir("locked");
  WriteEntries(root, "s", 3);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, Env::Default()->LockFile(root + "/LOCK"));
  ToolResult r = RunTool({"append", root, "s"}, "x\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("open in another"));
  EXPECT_EQ(RunTool({"truncate", root, "s", "1"}).exit_code, 1);
  EXPECT_EQ(RunTool({"repair", root}).exit_code, 1);
  EXPECT_EQ(RunTool({"ls", root}).exit_code, 0);
  EXPECT_EQ(RunTool({"dump", root, "s"}).exit_code, 0);
  r = RunTool({"verify", root});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_OK(Env::Default()->UnlockFile(std::move(lock)));
}

TEST(CliTest, TruncateRemovesSealedSegmentsBelowTheId) {
  const std::string root = FreshDir("truncate");
  WriteEntries(root, "s", 14, 4 * kEntryFrameSize);  // segments 0, 4, 8, 12
  ToolResult r = RunTool({"truncate", root, "s", "9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed 2 segments; the first retained ID is 8\n");
  EXPECT_FALSE(FileExists(root + "/s/" + SegmentFileName(4)));
  r = RunTool({"ls", root});
  EXPECT_THAT(Lines(r.out)[1], "s       8      14    2         276    1.00");
  r = RunTool({"truncate", root, "s", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed 0 segments; the first retained ID is 8\n");
  r = RunTool({"truncate", root, "nope", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
}

// A command that fails must not create the root (truncate left NONEXIST/LOCK behind), nor
// a LOCK in a root it does not change.
TEST(CliTest, TruncateOfAMissingRootOrStreamCreatesNothing) {
  const std::string base = FreshDir("truncate-missing");
  ToolResult r = RunTool({"truncate", base + "/nonexist", "s", "5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  EXPECT_FALSE(FileExists(base + "/nonexist"));
  const std::string root = base + "/root";
  WriteEntries(root, "s", 2);
  RemoveFile(root + "/LOCK");
  const auto before = Snapshot(root);
  r = RunTool({"truncate", root, "nope", "5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(root + "/nope"));
  EXPECT_EQ(Snapshot(root), before);
  EXPECT_FALSE(FileExists(root + "/LOCK"));
}

// 'a\001b' maps to the directory of 'a/b': bad usage (exit 2) naming the key the directory
// belongs to, for every command that takes a STREAM; verify no longer checks 'a/b' for it.
TEST(CliTest, AKeyWhoseDirectoryBelongsToAnotherKeyIsBadUsageNamingIt) {
  const std::string root = FreshDir("key-clash");
  WriteEntries(root, "a/b", 2);
  const auto before = Snapshot(root);
  const std::string other("a\001b", 3);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"append", root, other},
                                             {"truncate", root, other, "1"},
                                             {"truncate", root, other, "--suffix", "1"},
                                             {"trim", root, other, "1"},
                                             {"meta", root, other},
                                             {"meta", root, other, "--set", "v"},
                                             {"rm", root, other},
                                             {"dump", root, other},
                                             {"verify", root, "a?b"},
                                             {"repair", root, "a?b"}}) {
    SCOPED_TRACE(args[0]);
    const ToolResult r = RunTool(args, "x\n");
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("which belongs to stream 'a/b'"));
    EXPECT_THAT(r.out, IsEmpty());
  }
  EXPECT_EQ(Snapshot(root), before);
}

// ironwal 0.6 keeps the stream keyed "LOCK" in ROOT/LOCK/. ls and verify skipped it
// silently (exit 0); a writer said "locked" (EISDIR). Now every command names the clash.
TEST(CliTest, AStreamDirectoryNamedLockIsNamedByEveryCommand) {
  const std::string root = FreshDir("lock-dir") + "/wal";
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture("basic"));
  CopyTree(fixture.root, root);
  CopyTree(root + "/orders", root + "/LOCK");
  const auto before = Snapshot(root);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"ls", root},
                                             {"verify", root},
                                             {"repair", root},
                                             {"repair", root, "--dry-run"},
                                             {"append", root, "orders"},
                                             {"truncate", root, "orders", "1"}}) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    const ToolResult r = RunTool(args, "x\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out + r.err, HasSubstr(root + "/LOCK is a directory"));
    EXPECT_THAT(r.out + r.err, HasSubstr("stream keyed \"LOCK\""));
  }
  EXPECT_EQ(Snapshot(root), before);
  // The other streams stay readable, and verify still checks them.
  EXPECT_EQ(RunTool({"dump", root, "orders"}).exit_code, 0);
  EXPECT_THAT(RunTool({"verify", root}).out, HasSubstr("1 problem in 1 of"));
}

// A writer's exclusion survives `rm ROOT/LOCK`: the tool neither writes nor recreates it.
TEST(CliTest, WritersStayLockedOutAfterTheLockFileIsRemoved) {
  const std::string root = FreshDir("lock-removed");
  WriteEntries(root, "s", 3);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, LockWalRoot(Env::Default(), root));
  RemoveFile(root + "/LOCK");
  const auto before = Snapshot(root);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"append", root, "s"}, {"truncate", root, "s", "1"}, {"repair", root}}) {
    SCOPED_TRACE(args[0]);
    const ToolResult r = RunTool(args, "x\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("open in another"));
  }
  EXPECT_EQ(Snapshot(root), before);
  EXPECT_FALSE(FileExists(root + "/LOCK"));
  EXPECT_OK(Env::Default()->UnlockFile(std::move(lock)));
}

// bench is RunBench (tested in bench_test); here only that the tool dispatches to it.
TEST(CliTest, BenchRunsThroughTheTool) {
  const std::string dir = FreshDir("bench");
  const ToolResult r = RunTool({"bench", "--scale", "1000", "--json", "--dir", dir});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  EXPECT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_OK(Json::Parse(line).status()) << line;
  }
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
