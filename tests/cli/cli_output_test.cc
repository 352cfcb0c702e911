// What the tool does with its standard output, run in process (RunAppend, RunDump) with
// output buffers that record each flush or refuse bytes past a limit.
//
// `ironwal append` prints only durable IDs: strict appends (and batches in the batch mode)
// print and flush each ID as it returns, so a script reading the tool's stdout through a
// pipe has every durable ID even if the tool is killed before it exits; the other modes
// print once Close has synced. Output that cannot be written (a full disk) fails the
// command and says which entries are durable; a strict append stops appending.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/cli/commands.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

std::string FreshRoot(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  return tmp + "/" + name;
}

// How many entries stream `key` of `root` holds for a reader (read-only open): what is
// in the files, not what a writer still buffers. -1 when the open fails.
int64_t EntriesInFiles(const std::string& root, const std::string& key) {
  // Before the tool creates the root, the open fails: expected, and not worth a log line.
  class Quiet : public Logger {
    void Log(LogLevel, absl::string_view) override {}
  };
  WalOptions options;
  options.root = root;
  options.read_only = true;
  options.logger = std::make_shared<Quiet>();
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok()) return -1;
  absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(key);
  return info.ok() ? static_cast<int64_t>(info->next_id) : -1;
}

// At each flush: the whole output so far, and how many entries of `key` were in the files.
class FlushRecorder : public std::stringbuf {
 public:
  FlushRecorder(std::string root, std::string key) : root_(std::move(root)), key_(std::move(key)) {}
  const std::vector<std::pair<std::string, int64_t>>& flushed() const { return flushed_; }

 protected:
  int sync() override {
    flushed_.emplace_back(str(), EntriesInFiles(root_, key_));
    return 0;
  }

 private:
  const std::string root_, key_;
  std::vector<std::pair<std::string, int64_t>> flushed_;
};

// Takes `room` bytes, then refuses every byte (as a full disk does).
class FullAfter : public std::streambuf {
 public:
  explicit FullAfter(size_t room) : room_(room) {}
  const std::string& taken() const { return taken_; }

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    if (taken_.size() >= room_) return traits_type::eof();
    taken_.push_back(traits_type::to_char_type(c));
    return c;
  }

 private:
  const size_t room_;
  std::string taken_;
};

std::vector<std::pair<std::string, int64_t>> AppendAndRecordFlushes(
    const std::string& root, const std::vector<std::string>& flags, const std::string& input) {
  FlushRecorder recorder(root, "s");
  std::ostream out(&recorder);
  std::ostringstream err;
  std::istringstream in(input);
  std::vector<std::string> args = {root, "s"};
  args.insert(args.end(), flags.begin(), flags.end());
  EXPECT_EQ(RunAppend(args, in, out, err), 0) << err.str();
  return recorder.flushed();
}

TEST(CliOutputTest, StrictAppendsFlushEachIdAsItIsPrinted) {
  EXPECT_THAT(AppendAndRecordFlushes(FreshRoot("strict"), {}, "a\nb\nc\n"),
              ElementsAre(Pair("0\n", 1), Pair("0\n1\n", 2), Pair("0\n1\n2\n", 3)));
}

TEST(CliOutputTest, ADurableBatchFlushesItsIdsTogether) {
  EXPECT_THAT(AppendAndRecordFlushes(FreshRoot("strict-batch"), {"--batch"}, "a\nb\n"),
              ElementsAre(Pair("0\n1\n", 2)));
  EXPECT_THAT(
      AppendAndRecordFlushes(FreshRoot("batch-mode"), {"--batch", "--sync", "batch"}, "a\nb\n"),
      ElementsAre(Pair("0\n1\n", 2)));
}

// Appends that return before they are durable (kAsync, single appends in kBatchOnly) are
// printed once Close has synced them: by then the files hold every entry printed.
TEST(CliOutputTest, AppendsNotYetDurableArePrintedAfterTheClose) {
  EXPECT_THAT(AppendAndRecordFlushes(FreshRoot("async"), {"--sync", "async"}, "a\nb\n"),
              ElementsAre(Pair("0\n1\n", 2)));
  EXPECT_THAT(AppendAndRecordFlushes(FreshRoot("batch-single"), {"--sync", "batch"}, "a\n"),
              ElementsAre(Pair("0\n", 1)));
}

// Serves `lines` one at a time; each time it is asked for more, records how many entries
// of stream "s" under `root` were in the files. With `fail_at_end`, reading past the
// lines fails (the stream's badbit, as a read error of standard input sets it) instead
// of ending.
class LineByLine : public std::streambuf {
 public:
  LineByLine(std::string root, std::vector<std::string> lines, bool fail_at_end = false)
      : root_(std::move(root)), lines_(std::move(lines)), fail_at_end_(fail_at_end) {}
  const std::vector<int64_t>& in_files() const { return in_files_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    in_files_.push_back(EntriesInFiles(root_, "s"));
    if (next_ == lines_.size()) {
      // istream catches what its buffer throws and sets badbit.
      if (fail_at_end_) throw std::runtime_error("read error");
      return traits_type::eof();
    }
    current_ = lines_[next_++];
    setg(&current_[0], &current_[0], &current_[0] + current_.size());
    return traits_type::to_int_type(current_[0]);
  }

 private:
  const std::string root_;
  const std::vector<std::string> lines_;
  const bool fail_at_end_;
  size_t next_ = 0;
  std::string current_;
  std::vector<int64_t> in_files_;
};

// Lines are appended as they arrive, not once the input ends: each strict entry is in the
// files before the next line is read (a pipe that stays open, `tail -f`, is appended as it
// goes). A batch reads to the end first.
TEST(CliOutputTest, LinesAreAppendedAsTheyArrive) {
  const std::string root = FreshRoot("streamed");
  LineByLine lines(root, {"a\n", "b\n", "c\n"});
  std::istream in(&lines);
  std::ostringstream out, err;
  EXPECT_EQ(RunAppend({root, "s"}, in, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), "0\n1\n2\n");
  // Before the first line the stream does not exist (-1); then 1, 2, 3 entries.
  EXPECT_THAT(lines.in_files(), ElementsAre(-1, 1, 2, 3));

  const std::string batch_root = FreshRoot("streamed-batch");
  LineByLine batch_lines(batch_root, {"a\n", "b\n"});
  std::istream batch_in(&batch_lines);
  EXPECT_EQ(RunAppend({batch_root, "s", "--batch"}, batch_in, out, err), 0) << err.str();
  EXPECT_THAT(batch_lines.in_files(), ElementsAre(-1, -1, -1));
  EXPECT_EQ(EntriesInFiles(batch_root, "s"), 2);
}

// A read error of standard input: lines already appended stay (and their IDs were
// printed), the command fails naming how many; a batch is all or nothing, so it appends
// none and does not even open the log.
TEST(CliOutputTest, AReadErrorKeepsTheLinesAppendedAndFailsABatchWhole) {
  const std::string root = FreshRoot("read-error");
  LineByLine lines(root, {"a\n", "b\n"}, /*fail_at_end=*/true);
  std::istream in(&lines);
  std::ostringstream out, err;
  EXPECT_EQ(RunAppend({root, "s"}, in, out, err), 1);
  EXPECT_EQ(out.str(), "0\n1\n");
  EXPECT_THAT(err.str(), HasSubstr("reading standard input failed after 2 entries"));
  EXPECT_EQ(EntriesInFiles(root, "s"), 2);

  const std::string batch_root = FreshRoot("read-error-batch");
  LineByLine batch_lines(batch_root, {"a\n", "b\n"}, /*fail_at_end=*/true);
  std::istream batch_in(&batch_lines);
  std::ostringstream batch_out, batch_err;
  EXPECT_EQ(RunAppend({batch_root, "s", "--batch"}, batch_in, batch_out, batch_err), 1);
  EXPECT_THAT(batch_out.str(), IsEmpty());
  EXPECT_THAT(batch_err.str(), HasSubstr("reading standard input failed"));
  EXPECT_EQ(EntriesInFiles(batch_root, "s"), -1);  // no stream, no root
}

// A strict append whose ID cannot be printed stops there: the caller is told which
// entries are durable, and none follows that it was not told about.
TEST(CliOutputTest, AStrictAppendStopsAtTheFirstIdItCannotPrint) {
  const std::string root = FreshRoot("strict-full");
  FullAfter full(/*room=*/2);  // "0\n"
  std::ostream out(&full);
  std::ostringstream err;
  std::istringstream in("a\nb\nc\nd\n");
  EXPECT_EQ(RunAppend({root, "s"}, in, out, err), 1);
  EXPECT_EQ(full.taken(), "0\n");
  EXPECT_THAT(err.str(), HasSubstr("writing ID 1 of stream 's' in " + root +
                                   " to standard output failed; entries up to ID 1 are durable, "
                                   "and no later entry was appended"));
  EXPECT_EQ(EntriesInFiles(root, "s"), 2);
}

// In kAsync the entries are durable once the log is closed; output that fails after that
// fails the command, naming the IDs the caller did not get.
TEST(CliOutputTest, AnAsyncAppendWhoseIdsCannotBePrintedNamesThem) {
  const std::string root = FreshRoot("async-full");
  FullAfter full(/*room=*/0);
  std::ostream out(&full);
  std::ostringstream err;
  std::istringstream in("a\nb\nc\n");
  EXPECT_EQ(RunAppend({root, "s", "--sync", "async"}, in, out, err), 1);
  EXPECT_THAT(full.taken(), IsEmpty());
  EXPECT_THAT(err.str(), HasSubstr("writing IDs [0, 2] of stream 's' in " + root +
                                   " to standard output failed; those entries are durable"));
  EXPECT_EQ(EntriesInFiles(root, "s"), 3);
}

TEST(CliOutputTest, ADumpStopsWhenItsOutputFails) {
  const std::string root = FreshRoot("dump-full");
  {
    std::ostringstream ids, err;
    std::istringstream in(std::string(1000, 'x') + "\n" + std::string(1000, 'y') + "\n");
    ASSERT_EQ(RunAppend({root, "s", "--batch"}, in, ids, err), 0) << err.str();
  }
  FullAfter full(/*room=*/100);
  std::ostream out(&full);
  std::ostringstream err;
  EXPECT_EQ(RunDump({root, "s"}, out, err), 1);
  EXPECT_EQ(full.taken(), "0\t" + std::string(98, 'x'));
  EXPECT_THAT(err.str(), HasSubstr("writing the entries of stream 's' to standard output failed "
                                   "at or before ID 0; the output is incomplete"));
}

}  // namespace
}  // namespace cli
}  // namespace ironwal
