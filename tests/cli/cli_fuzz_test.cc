// A mutation fuzzer for the `ironwal` tool. Each case copies a source directory (an
// ironwal 0.6 fixture, or one this test writes through the library), applies one seeded
// mutation (bit flips, truncations, extensions, deleted, swapped or merged files, odd file
// types: FIFOs, directories, symlinks and symlink loops, rewritten segments.idx), and
// runs every command on it (ls, dump, verify, meta, repair --dry-run, repair, append,
// truncate, trim, truncate --suffix, meta --set, rm), each in a child process killed after a time
// limit. Invariants:
//   - no crash, no sanitizer report, no hang (a run killed at the time limit);
//   - exit codes in the documented set: 0 or 1 (the arguments are valid: never 2);
//   - ls, dump, verify, meta and repair --dry-run change nothing;
//   - repair exiting 0 implies verify and dump of every stream exit 0 afterwards;
//   - a repair that fails (exit 1) changes no stream it says it cannot repair, nor the
//     root's own files, and every stream it changed verifies clean afterwards;
//   - what a dump that exits 0 prints is the source's data (its manifest, or what this
//     test wrote): consecutive IDs, each with the bytes the source holds under that ID
//     ("wrong data, exit 0" fails). A dump may print fewer entries than the source holds
//     (a cut torn tail, an interrupted truncation's look), never other ones.
// Failures print the seed, the source, the mutation, the command and its outcome; rerun
// one case with IRONWAL_SEED=<seed> IRONWAL_FUZZ_CASES=1.
//
// Knobs (passed through .bazelrc): IRONWAL_FUZZ_CASES (default 16, the bounded run of the
// default suite, ~30-45 s here; the long run: e.g. 2000), IRONWAL_SEED (the first case's
// seed, default 1), IRONWAL_FUZZ_ALL_CLASSES=1 (also the classes in kCurrentlyFailing),
// IRONWAL_FUZZ_TIMEOUT_MS (the time limit of one run, default 10000).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/wal.h"

#include "tests/cli/cli_test_util.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::Random;

namespace {

namespace fs = std::filesystem;

// --- Mutations ---------------------------------------------------------------------------

enum class Mutation {
  kBitFlip,         // one bit of one file
  kByteRun,         // a run of 1-64 bytes of one file overwritten (zeros, 0xFF or random)
  kTruncate,        // one file cut to an edge-case or random length
  kExtend,          // zeros or random bytes appended to one file
  kDelete,          // one file removed
  kSwap,            // two files' contents exchanged (e.g. segments of two streams)
  kMerge,           // two consecutive segments of a stream merged into the first
  kIndexRewrite,    // a stream's segments.idx rewritten with edge-case start IDs
  kFifo,            // a file replaced by a FIFO
  kDirectory,       // a file replaced by an empty directory
  kSymlinkLoop,     // a file replaced by a symlink to itself
  kSymlinkToOther,  // a file replaced by a symlink to another file
  kStraySegment,    // a copy of a segment under another segment name
};

const char* MutationName(Mutation m) {
  switch (m) {
    case Mutation::kBitFlip:
      return "bit-flip";
    case Mutation::kByteRun:
      return "byte-run";
    case Mutation::kTruncate:
      return "truncate";
    case Mutation::kExtend:
      return "extend";
    case Mutation::kDelete:
      return "delete";
    case Mutation::kSwap:
      return "swap";
    case Mutation::kMerge:
      return "merge";
    case Mutation::kIndexRewrite:
      return "index-rewrite";
    case Mutation::kFifo:
      return "fifo";
    case Mutation::kDirectory:
      return "directory";
    case Mutation::kSymlinkLoop:
      return "symlink-loop";
    case Mutation::kSymlinkToOther:
      return "symlink-to-other";
    case Mutation::kStraySegment:
      return "stray-segment";
  }
  return "?";
}

const Mutation kAllMutations[] = {
    Mutation::kBitFlip,      Mutation::kByteRun,      Mutation::kTruncate,
    Mutation::kExtend,       Mutation::kDelete,       Mutation::kSwap,
    Mutation::kMerge,        Mutation::kIndexRewrite, Mutation::kFifo,
    Mutation::kDirectory,    Mutation::kSymlinkLoop,  Mutation::kSymlinkToOther,
    Mutation::kStraySegment,
};

// Mutation classes that break an invariant on today's code, with the defect (issue 8 §7)
// that does it. The default run leaves them out and prints them; IRONWAL_FUZZ_ALL_CLASSES=1
// puts them back. Remove a class from this list when its defect is fixed.
// None today: the two classes listed here before, fifo (every command hung on a FIFO
// segment) and directory (repair passed an empty directory named like a segment that
// dump then failed on; a failed repair created durable.pos), pass since the directory
// planner classifies file types with lstat (seeds 1-40 and 100-139, all classes).
const std::map<Mutation, const char*> kCurrentlyFailing = {};

// --- Directory snapshots (every entry's type; contents of files, targets of links) ------

std::map<std::string, std::string> TreeOf(const std::string& dir) {
  std::map<std::string, std::string> tree;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().lexically_relative(dir).string();
    const fs::file_status st = it->symlink_status();
    if (fs::is_symlink(st)) {
      tree[name] = "<symlink to " + fs::read_symlink(it->path()).string() + ">";
    } else if (fs::is_directory(st)) {
      tree[name] = "<dir>";
    } else if (fs::is_fifo(st)) {
      tree[name] = "<fifo>";
    } else if (fs::is_regular_file(st)) {
      tree[name] = ReadBytes(it->path().string());
    } else {
      tree[name] = "<other>";
    }
  }
  return tree;
}

// What differs between two snapshots, briefly.
std::string TreeDiff(const std::map<std::string, std::string>& before,
                     const std::map<std::string, std::string>& after) {
  std::vector<std::string> lines;
  for (const auto& [name, contents] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      lines.push_back("removed " + name);
    } else if (it->second != contents) {
      lines.push_back(absl::StrCat("changed ", name, " (", contents.size(), " -> ",
                                   it->second.size(), " bytes)"));
    }
  }
  for (const auto& [name, contents] : after) {
    if (before.count(name) == 0) lines.push_back("created " + name);
  }
  return absl::StrJoin(lines, "; ");
}

// --- Sources ------------------------------------------------------------------------------

struct Source {
  std::string name;
  std::string root;               // a pristine copy, never run on
  std::vector<std::string> keys;  // the streams' keys
  std::map<std::string, uint64_t> next_ids;
  // key -> (ID -> entry): every entry a reader of the pristine source may return.
  std::map<std::string, std::map<uint64_t, std::string>> entries;
};

// A directory written through the library: rotation, a batch, LZ4 frames, a truncation.
Source WrittenSource(const std::string& base) {
  Source source;
  source.name = "written";
  source.root = base + "/written";
  WalOptions options;
  options.root = source.root;
  options.max_segment_size = 4 * kEntryFrameSize;
  options.compression = Compression::kLz4;
  options.min_compression_size = 64;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  EXPECT_TRUE(wal.ok()) << wal.status();
  if (!wal.ok()) return source;
  for (int i = 0; i < 14; ++i) EXPECT_TRUE((*wal)->Append("s", EntryFor(i)).ok());
  EXPECT_TRUE((*wal)->AppendBatch("user/7", {"a", "", std::string(300, 'z')}).ok());
  EXPECT_TRUE((*wal)->Append("user/7", std::string(500, 'q')).ok());
  EXPECT_TRUE((*wal)->Truncate("s", 6).ok());
  EXPECT_TRUE((*wal)->Close().ok());
  source.keys = {"s", "user/7"};
  source.next_ids = {{"s", 14}, {"user/7", 4}};
  for (int i = 0; i < 14; ++i) source.entries["s"][i] = EntryFor(i);
  source.entries["user/7"] = {
      {0, "a"}, {1, ""}, {2, std::string(300, 'z')}, {3, std::string(500, 'q')}};
  return source;
}

std::vector<Source> MakeSources(const std::string& base) {
  std::vector<Source> sources;
  fs::create_directories(base);
  for (const std::string& name : FixtureNames()) {
    absl::StatusOr<Fixture> fixture = LoadFixture(name);
    EXPECT_TRUE(fixture.ok()) << fixture.status();
    if (!fixture.ok()) continue;
    Source source;
    source.name = "fixture " + name;
    source.root = base + "/" + name;
    CopyTree(fixture->root, source.root);
    for (const auto& [key, stream] : fixture->streams) {
      source.keys.push_back(key);
      source.next_ids[key] = stream.next_id;
      source.entries[key] = stream.entries;
    }
    sources.push_back(source);
  }
  sources.push_back(WrittenSource(base));
  return sources;
}

// --- Applying a mutation ------------------------------------------------------------------

// Regular files under `root` (relative paths), sorted.
std::vector<std::string> FilesOf(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& [name, contents] : TreeOf(root)) {
    if (fs::is_regular_file(fs::symlink_status(root + "/" + name))) files.push_back(name);
  }
  return files;
}

bool IsSegmentName(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".wal") == 0;
}

std::string RandomBytes(Random* rng, size_t n) {
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng->Uniform(256));
  return bytes;
}

// An edge-case length for a file of `size` bytes: 0, 1, the header's size and around
// it, one byte short of the end, or anywhere.
uint64_t EdgeLength(Random* rng, uint64_t size) {
  const uint64_t choices[] = {0, 1, 7, 8, 31, 32, 33, size > 0 ? size - 1 : 0, size / 2};
  if (rng->OneIn(3)) return rng->Uniform(size + 1);
  return std::min(size, choices[rng->Uniform(sizeof(choices) / sizeof(choices[0]))]);
}

// Applies `m` to the tree at `root`; returns what it did ("" when it could not apply).
std::string Apply(Mutation m, const std::string& root, Random* rng) {
  const std::vector<std::string> files = FilesOf(root);
  if (files.empty()) return "";
  std::vector<std::string> segments;
  for (const std::string& f : files) {
    if (IsSegmentName(f)) segments.push_back(f);
  }
  // Segments are where the data is: pick them half of the time.
  auto pick = [&]() -> std::string {
    if (!segments.empty() && rng->OneIn(2)) return segments[rng->Uniform(segments.size())];
    return files[rng->Uniform(files.size())];
  };
  const std::string name = pick();
  const std::string path = root + "/" + name;
  std::string contents = ReadBytes(path);
  switch (m) {
    case Mutation::kBitFlip: {
      if (contents.empty()) return "";
      const uint64_t offset = rng->Uniform(contents.size());
      const int bit = static_cast<int>(rng->Uniform(8));
      contents[offset] = static_cast<char>(contents[offset] ^ (1 << bit));
      WriteBytes(path, contents);
      return absl::StrCat("flip bit ", bit, " of byte ", offset, " of ", name);
    }
    case Mutation::kByteRun: {
      if (contents.empty()) return "";
      const uint64_t offset = rng->Uniform(contents.size());
      const uint64_t n = std::min<uint64_t>(1 + rng->Uniform(64), contents.size() - offset);
      const uint64_t kind = rng->Uniform(3);
      const std::string run = kind == 0   ? std::string(n, '\0')
                              : kind == 1 ? std::string(n, '\xff')
                                          : RandomBytes(rng, n);
      contents.replace(offset, n, run);
      WriteBytes(path, contents);
      return absl::StrCat("overwrite ", n, " bytes at ", offset, " of ", name, " with ",
                          kind == 0   ? "zeros"
                          : kind == 1 ? "0xff"
                                      : "random bytes");
    }
    case Mutation::kTruncate: {
      const uint64_t length = EdgeLength(rng, contents.size());
      WriteBytes(path, contents.substr(0, length));
      return absl::StrCat("cut ", name, " from ", contents.size(), " to ", length, " bytes");
    }
    case Mutation::kExtend: {
      const uint64_t lengths[] = {1, 7, 8, 31, 32, 33, 4096};
      const uint64_t n = lengths[rng->Uniform(7)];
      const bool zeros = rng->OneIn(2);
      AppendBytes(path, zeros ? std::string(n, '\0') : RandomBytes(rng, n));
      return absl::StrCat("append ", n, zeros ? " zero" : " random", " bytes to ", name);
    }
    case Mutation::kDelete:
      fs::remove(path);
      return "delete " + name;
    case Mutation::kSwap: {
      // Prefer files of the same kind (segment with segment), as a misplaced copy would be.
      const std::vector<std::string>& pool = IsSegmentName(name) ? segments : files;
      const std::string other = pool[rng->Uniform(pool.size())];
      if (other == name) return "";
      const std::string other_contents = ReadBytes(root + "/" + other);
      WriteBytes(path, other_contents);
      WriteBytes(root + "/" + other, contents);
      return "swap " + name + " and " + other;
    }
    case Mutation::kMerge: {
      if (segments.size() < 2) return "";
      const size_t i = rng->Uniform(segments.size() - 1);
      const std::string& first = segments[i];
      const std::string& second = segments[i + 1];
      if (fs::path(first).parent_path() != fs::path(second).parent_path()) return "";
      AppendBytes(root + "/" + first, ReadBytes(root + "/" + second));
      fs::remove(root + "/" + second);
      return "merge " + second + " into " + first;
    }
    case Mutation::kIndexRewrite: {
      std::vector<std::string> indexes;
      for (const std::string& f : files) {
        if (fs::path(f).filename() == "segments.idx") indexes.push_back(f);
      }
      if (indexes.empty()) return "";
      const std::string index = indexes[rng->Uniform(indexes.size())];
      std::string bytes;
      std::vector<uint64_t> ids;
      const uint64_t count = rng->Uniform(4);
      for (uint64_t i = 0; i < count; ++i) {
        const uint64_t edge[] = {0, 1, 5, 100, 992, UINT64_MAX};
        ids.push_back(rng->OneIn(2) ? edge[rng->Uniform(6)] : rng->Uniform(64));
      }
      std::sort(ids.begin(), ids.end());
      for (uint64_t id : ids) {
        for (int b = 0; b < 8; ++b) bytes.push_back(static_cast<char>(id >> (8 * b)));
      }
      WriteBytes(root + "/" + index, bytes);
      return absl::StrCat("rewrite ", index, " as [", absl::StrJoin(ids, ", "), "]");
    }
    case Mutation::kFifo:
      fs::remove(path);
      if (::mkfifo(path.c_str(), 0644) != 0) return "";
      return "replace " + name + " with a FIFO";
    case Mutation::kDirectory:
      fs::remove(path);
      fs::create_directory(path);
      return "replace " + name + " with an empty directory";
    case Mutation::kSymlinkLoop:
      fs::remove(path);
      fs::create_symlink(fs::path(name).filename(), path);
      return "replace " + name + " with a symlink to itself";
    case Mutation::kSymlinkToOther: {
      const std::string other = files[rng->Uniform(files.size())];
      if (other == name) return "";
      fs::remove(path);
      fs::create_symlink(fs::path(other).lexically_relative(fs::path(name).parent_path()), path);
      return "replace " + name + " with a symlink to " + other;
    }
    case Mutation::kStraySegment: {
      if (segments.empty()) return "";
      const std::string& segment = segments[rng->Uniform(segments.size())];
      const uint64_t ids[] = {1, 3, 100, 993};
      char stray[32];
      snprintf(stray, sizeof(stray), "%020llu.wal",
               static_cast<unsigned long long>(ids[rng->Uniform(4)]));
      const std::string to = (fs::path(segment).parent_path() / stray).string();
      if (fs::exists(fs::symlink_status(root + "/" + to))) return "";
      WriteBytes(root + "/" + to, ReadBytes(root + "/" + segment));
      return "copy " + segment + " to " + to;
    }
  }
  return "";
}

// --- Running the commands and checking the invariants ------------------------------------

struct Case {
  uint64_t seed = 0;
  std::string source;
  std::string mutation;
};

// What is wrong with `jsonl`, the output of `dump --format jsonl` that exited 0, against
// the entries the source holds (`expected`): "" when every line is an entry of the
// source under its ID and the IDs are consecutive but for the gaps dump said it skipped
// (`skipped`: first ID -> end ID, IDs a repair recorded as lost).
//
// The gaps dump reports on stderr: "IDs [a, b) were cut out of the log by a repair".
std::map<uint64_t, uint64_t> SkippedRanges(const std::string& err) {
  std::map<uint64_t, uint64_t> skipped;
  for (const std::string& line : Lines(err)) {
    const size_t at = line.find("IDs [");
    const size_t comma = line.find(", ", at);
    const size_t close = line.find(") were cut out of the log", comma);
    uint64_t first = 0, end = 0;
    if (at == std::string::npos || comma == std::string::npos || close == std::string::npos ||
        !absl::SimpleAtoi(line.substr(at + 5, comma - at - 5), &first) ||
        !absl::SimpleAtoi(line.substr(comma + 2, close - comma - 2), &end)) {
      continue;
    }
    skipped[first] = end;
  }
  return skipped;
}
std::string CompareWithSource(const std::string& jsonl,
                              const std::map<uint64_t, std::string>& expected,
                              const std::map<uint64_t, uint64_t>& skipped = {}) {
  std::optional<uint64_t> previous;
  for (const std::string& line : Lines(jsonl)) {
    constexpr absl::string_view kId = "{\"id\":";
    constexpr absl::string_view kB64 = ",\"b64\":\"";
    const size_t b64_at = line.find(std::string(kB64));
    uint64_t id = 0;
    if (!absl::StartsWith(line, kId) || b64_at == std::string::npos ||
        !absl::SimpleAtoi(line.substr(kId.size(), b64_at - kId.size()), &id) ||
        !absl::EndsWith(line, "\"}")) {
      return "unparsable line: " + line.substr(0, 80);
    }
    const std::string b64 =
        line.substr(b64_at + kB64.size(), line.size() - 2 - b64_at - kB64.size());
    std::string value;
    if (!absl::Base64Unescape(b64, &value)) return "bad base64 in: " + line.substr(0, 80);
    auto skip = previous.has_value() ? skipped.find(*previous + 1) : skipped.end();
    if (previous.has_value() && id != *previous + 1 &&
        (skip == skipped.end() || skip->second != id)) {
      return absl::StrCat("ID ", id, " follows ID ", *previous);
    }
    previous = id;
    auto it = expected.find(id);
    if (it == expected.end()) return absl::StrCat("ID ", id, " is not an entry of the source");
    if (it->second != value) {
      return absl::StrCat("ID ", id, " reads ", value.size(), " bytes '",
                          absl::CEscape(value.substr(0, 40)), "', the source holds ",
                          it->second.size(), " bytes '", absl::CEscape(it->second.substr(0, 40)),
                          "'");
    }
  }
  return "";
}

class Checker {
 public:
  Checker(const Case& c, int timeout_ms) : case_(c), timeout_ms_(timeout_ms) {}

  // Runs the tool; records a failure for a crash, a sanitizer report, a hang or an exit
  // code outside {0, 1}.
  ToolResult Run(const std::vector<std::string>& args, const std::string& input = "") {
    RunOptions options;
    options.timeout_ms = timeout_ms_;
    ToolResult r = RunTool(args, input, options);
    ++runs_;
    std::string problem;
    if (r.timed_out) {
      problem = absl::StrCat("hang: killed after ", timeout_ms_, " ms");
    } else if (r.exit_code >= 128) {
      problem = absl::StrCat("crash: signal ", r.exit_code - 128);
    } else if (r.err.find("Sanitizer") != std::string::npos ||
               r.err.find("runtime error:") != std::string::npos) {
      problem = "sanitizer report";
    } else if (r.exit_code != 0 && r.exit_code != 1) {
      problem = absl::StrCat("exit code ", r.exit_code, " (valid arguments: expected 0 or 1)");
    }
    if (!problem.empty()) Fail(args, problem, r);
    return r;
  }

  void Fail(const std::vector<std::string>& args, const std::string& problem, const ToolResult& r) {
    std::vector<std::string> shown;
    for (const std::string& a : args) shown.push_back(absl::CEscape(a));
    const std::string line =
        absl::StrCat("seed ", case_.seed, " | ", case_.source, " | ", case_.mutation, " | ironwal ",
                     absl::StrJoin(shown, " "), " | ", problem, " | exit ", r.exit_code, " | ",
                     absl::CEscape(r.err.substr(0, 300)));
    failures_.push_back(line);
    ADD_FAILURE() << line;
  }

  int runs() const { return runs_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  const Case case_;
  const int timeout_ms_;
  int runs_ = 0;
  std::vector<std::string> failures_;
};

// A dump that exits 0 must print the source's data.
void CompareDump(const std::vector<std::string>& args, const ToolResult& r, const Source& source,
                 Checker* check) {
  if (r.exit_code != 0) return;
  auto it = source.entries.find(args[2]);
  const std::string wrong = CompareWithSource(
      r.out, it == source.entries.end() ? std::map<uint64_t, std::string>() : it->second,
      SkippedRanges(r.err));
  if (!wrong.empty()) check->Fail(args, "wrong data, exit 0: " + wrong, r);
}

// The stream directory (or root file) a TreeOf name lies in: its first component.
std::string TopOf(const std::string& name) { return name.substr(0, name.find('/')); }

// A repair that exits 1 has repaired the streams it could, stream by stream, and named
// each one it could not ("cannot repair ROOT/DIR: nothing was changed"). So: the root's
// own files and every stream it could not repair are unchanged, and every stream
// directory it changed verifies clean afterwards (seed 190: a swap of one stream's
// segments.idx with another's stream.key damages two streams, one of them repairable).
void CheckFailedRepair(const std::string& root, const std::map<std::string, std::string>& before,
                       const std::map<std::string, std::string>& repaired, const ToolResult& repair,
                       Checker* check) {
  std::set<std::string> changed;
  for (const auto* tree : {&before, &repaired}) {
    for (const auto& [name, contents] : *tree) {
      auto a = before.find(name);
      auto b = repaired.find(name);
      if (a == before.end() || b == repaired.end() || a->second != b->second) {
        changed.insert(TopOf(name));
      }
    }
  }
  if (changed.empty()) return;
  const ToolResult verify = check->Run({"verify", root});
  for (const std::string& top : changed) {
    std::map<std::string, std::string> was, is;
    for (const auto& [name, contents] : before) {
      if (TopOf(name) == top) was[name] = contents;
    }
    for (const auto& [name, contents] : repaired) {
      if (TopOf(name) == top) is[name] = contents;
    }
    const std::string path = root + "/" + top;
    const bool stream_dir = was.count(top) > 0 && was.at(top) == "<dir>";
    if (!stream_dir || absl::StrContains(repair.out, "cannot repair " + path + ":")) {
      check->Fail({"repair", root}, "a failed repair changed " + TreeDiff(was, is), repair);
    } else if (!absl::StrContains(verify.out, path + ": ok:")) {
      check->Fail({"repair", root},
                  absl::StrCat("a failed repair changed ", TreeDiff(was, is),
                               ", and verify then finds that stream not clean: ",
                               absl::CEscape(verify.out.substr(0, 300))),
                  repair);
    }
  }
}

// The read-only commands, then repair, on `root`.
void CheckReadersAndRepair(const std::string& root, const Source& source, Checker* check) {
  const auto before = TreeOf(root);
  std::vector<std::vector<std::string>> readers = {{"ls", root}, {"verify", root}};
  for (const std::string& key : source.keys) {
    readers.push_back({"dump", root, key, "--format", "jsonl"});
    readers.push_back({"verify", root, key});
    readers.push_back({"meta", root, key, "--format", "hex"});
  }
  readers.push_back({"repair", root, "--dry-run"});
  for (const auto& args : readers) {
    const ToolResult r = check->Run(args);
    if (args[0] == "dump") CompareDump(args, r, source, check);
    const auto after = TreeOf(root);
    if (after != before)
      check->Fail(args, "a read-only command changed " + TreeDiff(before, after), r);
  }

  const ToolResult repair = check->Run({"repair", root});
  const auto repaired = TreeOf(root);
  if (repair.exit_code != 0) {
    CheckFailedRepair(root, before, repaired, repair, check);
    return;
  }
  const ToolResult verify = check->Run({"verify", root});
  if (verify.exit_code != 0) {
    check->Fail(
        {"verify", root},
        "repair exited 0 but verify then fails: " + absl::CEscape(verify.out.substr(0, 300)),
        verify);
  }
  for (const std::string& key : source.keys) {
    const std::vector<std::string> args = {"dump", root, key, "--format", "jsonl"};
    const ToolResult dump = check->Run(args);
    if (dump.exit_code != 0) check->Fail(args, "repair exited 0 but dump then fails", dump);
    CompareDump(args, dump, source, check);
  }
}

// The writers on `root` (a second copy of the mutated tree).
void CheckWriters(const std::string& root, const Source& source, Random* rng, Checker* check) {
  const std::string key = source.keys[rng->Uniform(source.keys.size())];
  check->Run({"append", root, key}, "fuzz-1\nfuzz-2\n");
  const uint64_t next = source.next_ids.count(key) ? source.next_ids.at(key) : 0;
  check->Run({"truncate", root, key, absl::StrCat(rng->Uniform(next + 3))});
  check->Run({"trim", root, key, absl::StrCat(rng->Uniform(next + 3))});
  check->Run({"truncate", root, key, "--suffix", absl::StrCat(rng->Uniform(next + 3))});
  check->Run({"meta", root, key, "--set", "fuzz-meta"});
  check->Run({"ls", root});
  check->Run({"rm", root, key});
  check->Run({"ls", root});
}

// Copies the tree at `from` to `to` as it is: FIFOs as FIFOs, symlinks as symlinks.
void CopyAsIs(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& [name, contents] : TreeOf(from)) {
    const std::string src = from + "/" + name;
    const std::string dst = to + "/" + name;
    const fs::file_status st = fs::symlink_status(src);
    if (fs::is_symlink(st)) {
      fs::copy_symlink(src, dst);
    } else if (fs::is_directory(st)) {
      fs::create_directories(dst);
    } else if (fs::is_fifo(st)) {
      EXPECT_EQ(::mkfifo(dst.c_str(), 0644), 0) << dst;
    } else {
      WriteBytes(dst, contents);
    }
  }
}

std::string CaseDir(const std::string& base, uint64_t seed, const char* what) {
  return absl::StrCat(base, "/case-", seed, "-", what);
}

// The manifest check itself: a dump that prints another stream's entry, an entry of the
// right ID with other bytes, or skips an ID, is wrong data.
TEST(CliFuzzTest, ManifestCheckCatchesWrongData) {
  const std::map<uint64_t, std::string> source = {{4, "four"}, {5, ""}, {6, "six"}};
  EXPECT_EQ(CompareWithSource("", source), "");
  EXPECT_EQ(CompareWithSource("{\"id\":5,\"b64\":\"\"}\n{\"id\":6,\"b64\":\"c2l4\"}\n", source),
            "");
  EXPECT_THAT(CompareWithSource("{\"id\":4,\"b64\":\"c2l4\"}\n", source),
              ::testing::HasSubstr("ID 4 reads 3 bytes 'six'"));
  EXPECT_THAT(
      CompareWithSource("{\"id\":4,\"b64\":\"Zm91cg==\"}\n{\"id\":6,\"b64\":\"c2l4\"}\n", source),
      ::testing::HasSubstr("ID 6 follows ID 4"));
  EXPECT_THAT(CompareWithSource("{\"id\":7,\"b64\":\"\"}\n", source),
              ::testing::HasSubstr("not an entry of the source"));
  // A gap dump said it skipped (a repair's recorded loss) is not a jump.
  const std::string skipping = "ironwal dump: IDs [5, 6) were cut out of the log by a repair\n";
  EXPECT_EQ(SkippedRanges(skipping), (std::map<uint64_t, uint64_t>{{5, 6}}));
  EXPECT_EQ(CompareWithSource("{\"id\":4,\"b64\":\"Zm91cg==\"}\n{\"id\":6,\"b64\":\"c2l4\"}\n",
                              source, SkippedRanges(skipping)),
            "");
}

// Runs one case per seed of `seeds`.
void FuzzSeeds(const std::vector<uint64_t>& seeds) {
  const bool all_classes = EnvNumber("IRONWAL_FUZZ_ALL_CLASSES", 0) != 0;
  const int timeout_ms = static_cast<int>(EnvNumber("IRONWAL_FUZZ_TIMEOUT_MS", 10000));

  std::vector<Mutation> classes;
  for (Mutation m : kAllMutations) {
    auto failing = kCurrentlyFailing.find(m);
    if (failing != kCurrentlyFailing.end() && !all_classes) {
      std::cout << "excluded mutation class " << MutationName(m)
                << " (currently failing: " << failing->second << ")\n";
      continue;
    }
    classes.push_back(m);
  }
  const std::string base = FreshDir("fuzz");
  const std::vector<Source> sources = MakeSources(base + "/sources");
  ASSERT_FALSE(sources.empty());
  std::cout << "fuzzing " << seeds.size() << " cases from seed " << seeds.front() << " over "
            << sources.size() << " sources and " << classes.size() << " mutation classes\n";

  int runs = 0;
  std::vector<std::string> failures;
  for (const uint64_t seed : seeds) {
    Random rng(seed);
    const Source& source = sources[rng.Uniform(sources.size())];
    const Mutation m = classes[rng.Uniform(classes.size())];
    const std::string readers = CaseDir(base, seed, "read");
    CopyTree(source.root, readers);
    Case c;
    c.seed = seed;
    c.source = source.name;
    c.mutation = absl::StrCat(MutationName(m), ": ", Apply(m, readers, &rng));
    const std::string writers = CaseDir(base, seed, "write");
    CopyAsIs(readers, writers);
    Checker check(c, timeout_ms);
    CheckReadersAndRepair(readers, source, &check);
    CheckWriters(writers, source, &rng, &check);
    runs += check.runs();
    failures.insert(failures.end(), check.failures().begin(), check.failures().end());
    if (check.failures().empty()) {
      fs::remove_all(readers);
      fs::remove_all(writers);
    }
  }
  std::cout << seeds.size() << " cases, " << runs << " runs, " << failures.size() << " failures\n";
  for (const std::string& f : failures) std::cout << "FAILURE " << f << "\n";
}

TEST(CliFuzzTest, MutatedDirectoriesKeepTheInvariants) {
  const uint64_t cases = EnvNumber("IRONWAL_FUZZ_CASES", 16);
  const uint64_t first_seed = EnvNumber("IRONWAL_SEED", 1);
  std::vector<uint64_t> seeds;
  for (uint64_t seed = first_seed; seed < first_seed + cases; ++seed) seeds.push_back(seed);
  FuzzSeeds(seeds);
}

// Seeds that once failed, run in the default suite whatever IRONWAL_SEED says. 190: a
// repair that fixed one stream and could not fix another exited 1 after changing files
// (repair was right; the invariant is now per stream, CheckFailedRepair).
TEST(CliFuzzTest, RegressionSeedsKeepTheInvariants) { FuzzSeeds({190}); }

}  // namespace
}  // namespace testing
}  // namespace ironwal
