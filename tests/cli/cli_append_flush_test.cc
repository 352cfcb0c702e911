// `ironwal append` flushes each ID it prints once the entry is durable (strict appends,
// and a batch in the batch mode), so that a script reading the tool's stdout through a
// pipe has every durable ID even if the tool is killed before it exits. Run in process
// (RunAppend) with an output buffer that records what had been flushed at each flush.
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/cli/commands.h"

namespace ironwal {
namespace cli {
namespace {

using ::testing::ElementsAre;

// The whole output as it stood at each flush of the stream.
class FlushRecorder : public std::stringbuf {
 public:
  const std::vector<std::string>& flushed() const { return flushed_; }

 protected:
  int sync() override {
    flushed_.push_back(str());
    return 0;
  }

 private:
  std::vector<std::string> flushed_;
};

std::string FreshRoot(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

std::vector<std::string> AppendAndRecordFlushes(const std::vector<std::string>& args,
                                                const std::string& input) {
  FlushRecorder recorder;
  std::ostream out(&recorder);
  std::ostringstream err;
  std::istringstream in(input);
  EXPECT_EQ(RunAppend(args, in, out, err), 0) << err.str();
  return recorder.flushed();
}

TEST(CliAppendFlushTest, StrictAppendsFlushEachIdAsItIsPrinted) {
  const std::string root = FreshRoot("strict");
  EXPECT_THAT(AppendAndRecordFlushes({root, "s"}, "a\nb\nc\n"),
              ElementsAre("0\n", "0\n1\n", "0\n1\n2\n"));
}

TEST(CliAppendFlushTest, ADurableBatchFlushesItsIdsTogether) {
  EXPECT_THAT(AppendAndRecordFlushes({FreshRoot("strict-batch"), "s", "--batch"}, "a\nb\n"),
              ElementsAre("0\n1\n"));
  EXPECT_THAT(AppendAndRecordFlushes({FreshRoot("batch-mode"), "s", "--batch", "--sync", "batch"},
                                     "a\nb\n"),
              ElementsAre("0\n1\n"));
}

// Appends that return before they are durable are not flushed one by one: they are
// synced only when the tool closes the log.
TEST(CliAppendFlushTest, AppendsNotYetDurableAreNotFlushedOneByOne) {
  EXPECT_THAT(AppendAndRecordFlushes({FreshRoot("async"), "s", "--sync", "async"}, "a\nb\n"),
              ElementsAre());
  EXPECT_THAT(AppendAndRecordFlushes({FreshRoot("batch-single"), "s", "--sync", "batch"}, "a\n"),
              ElementsAre());
}

}  // namespace
}  // namespace cli
}  // namespace ironwal
