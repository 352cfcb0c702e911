// File: ironwal/testing/fixtures.h
//
// The ironwal 0.6.3 fixtures (tests/testdata/ironwal-0.6/<name>/, copied from
// ../shared/fixtures/ironwal-0.6): directories written by the Rust crate, with a manifest
// saying what a correct reader must return. testonly.
//
//   ASSERT_OK_AND_ASSIGN(Fixture fixture, LoadFixture("rotation"));
//   for (const auto& [key, stream] : fixture.streams) ...
//
// Tests reach the data through Bazel runfiles: depend on //tests/testdata:ironwal_0_6.
#ifndef IRONWAL_TESTING_FIXTURES_H_
#define IRONWAL_TESTING_FIXTURES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ironwal {
namespace testing {

struct FixtureFrame {
  uint64_t offset = 0;
  uint64_t start_id = 0;
  uint64_t count = 0;
  int type = 0;  // 0 raw, 1 LZ4
  uint64_t disk_size = 0;
  uint64_t uncompressed_size = 0;
  uint32_t crc32 = 0;
};

struct FixtureSegment {
  std::string file;
  uint64_t start_id = 0;
  uint64_t size = 0;
  std::vector<FixtureFrame> frames;
};

struct FixtureStream {
  std::string key;
  std::string dir;
  uint64_t first_id = 0;
  uint64_t next_id = 0;
  std::map<uint64_t, std::string> entries;          // id -> bytes a reader returns
  std::map<uint64_t, std::string> deleted_entries;  // truncated away; never returned
  std::vector<uint64_t> segments_idx;
  std::optional<std::string> head_active_segment;  // head.state's name, if the file exists
  std::vector<FixtureSegment> segments;
};

// One call the generator made. `op` is open, append, append_batch, txn_commit, truncate
// or close; the other fields are set as the op has them.
struct FixtureOp {
  std::string op;
  std::string stream;
  uint64_t id = 0;        // append
  uint64_t start_id = 0;  // append_batch, txn_commit
  uint64_t count = 0;     // append_batch, txn_commit
  uint64_t frames = 0;    // append_batch, txn_commit
  uint64_t safe_id = 0;   // truncate
};

struct FixtureOptions {
  uint64_t max_segment_size = 0;
  uint64_t max_entries_per_segment = 0;
  uint64_t max_open_segments = 0;
  uint64_t write_buffer_size = 0;
  std::string sync_mode;    // "Strict", "BatchOnly", "Async"
  std::string compression;  // "None", "Lz4"
  std::string read_strategy;
  uint64_t min_compression_size = 0;
};

struct FixtureFile {
  std::string path;  // relative to the fixture directory, e.g. "wal/log/segments.idx"
  uint64_t size = 0;
  std::string sha256;
};

struct Fixture {
  std::string name;
  std::string dir;   // absolute path of the fixture directory (read-only runfiles)
  std::string root;  // dir + "/wal": the WAL root
  FixtureOptions options;
  std::map<std::string, FixtureStream> streams;  // by stream key
  std::vector<FixtureOp> ops;
  std::vector<FixtureFile> files;
};

// "basic", "compressed", "rotation", "truncated", "txn".
std::vector<std::string> FixtureNames();

// Absolute path of the fixtures' directory in the test's runfiles.
std::string FixturesDir();

absl::StatusOr<Fixture> LoadFixture(const std::string& name);

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_FIXTURES_H_
