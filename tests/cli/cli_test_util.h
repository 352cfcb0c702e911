// Helpers for the end-to-end tests of the `ironwal` tool: run the built binary on real
// directories under TEST_TMPDIR, capture what it prints and its exit code, and do byte
// surgery on the files it looks at.
#ifndef IRONWAL_TESTS_CLI_CLI_TEST_UTIL_H_
#define IRONWAL_TESTS_CLI_CLI_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ironwal {
namespace testing {

struct ToolResult {
  int exit_code = -1;      // 128 + the signal number if the tool was killed
  bool timed_out = false;  // killed (SIGKILL) after RunOptions::timeout_ms
  std::string out;
  std::string err;
};

struct RunOptions {
  // Standard input is a pipe the input is written to (then closed), not a regular file.
  bool stdin_pipe = false;
  // Kill the tool (SIGKILL) if it has not exited after this many milliseconds; 0: wait.
  int timeout_ms = 0;
  // When set, standard output goes to this file (say "/dev/full") instead of being
  // captured in ToolResult::out.
  std::string stdout_path;
};

// The path of //ironwal/cli:ironwal in the test's runfiles.
std::string ToolPath();

// Runs //ironwal/cli:ironwal (from the test's runfiles) with `args`, feeding `input` to
// its standard input.
ToolResult RunTool(const std::vector<std::string>& args, const std::string& input = "",
                   const RunOptions& options = {});

// A fresh, empty directory under TEST_TMPDIR (removed first if it exists).
std::string FreshDir(const std::string& name);

// Copies the tree at `from` to `to` (which must not exist), making the copies writable.
void CopyTree(const std::string& from, const std::string& to);

// Every file under `dir` (relative path -> contents).
std::map<std::string, std::string> Snapshot(const std::string& dir);

std::string ReadBytes(const std::string& path);
void WriteBytes(const std::string& path, absl::string_view contents);
void AppendBytes(const std::string& path, absl::string_view contents);
// XORs the byte at `offset` with 0xFF.
void FlipByte(const std::string& path, uint64_t offset);
bool FileExists(const std::string& path);
void RemoveFile(const std::string& path);

// Entry `id` as WriteEntries writes it: "entry-0007" (10 bytes; a 46-byte frame).
std::string EntryFor(uint64_t id);
inline constexpr uint64_t kEntryFrameSize = 46;
// A max_segment_size of four such frames: segments of entries 0-3, 4-7, 8-...
inline constexpr uint64_t kFourFrames = 4 * kEntryFrameSize;
// The segment file starting at ID `start` of `stream` (a key that is its own directory
// name) in the WAL at `root`.
std::string Seg(const std::string& root, const std::string& stream, uint64_t start);

// Appends `count` single entries (EntryFor(id) each) to `stream` in the WAL at `root`
// through the library, rotating segments at `max_segment_size`, and closes the WAL.
void WriteEntries(const std::string& root, const std::string& stream, int count,
                  uint64_t max_segment_size = 64 << 20);

// The lines of `text` (without their newlines).
std::vector<std::string> Lines(const std::string& text);

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTS_CLI_CLI_TEST_UTIL_H_
