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
//
// The ShardedWal fixtures (tests/testdata/ironwal-0.6-sharded/, copied from
// ../shared/fixtures/ironwal-0.6-sharded) load the same way with LoadShardedFixture and
// LoadRoutingVectors; depend on //tests/testdata:ironwal_0_6_sharded.
#ifndef IRONWAL_TESTING_FIXTURES_H_
#define IRONWAL_TESTING_FIXTURES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
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

// One entry of a sharded fixture's checkpoints.log, as its manifest parsed it.
struct FixtureCheckpoint {
  uint64_t file_offset = 0;
  uint64_t size = 0;
  uint32_t crc32 = 0;
  std::string user_id;  // bytes
  uint64_t timestamp_ns = 0;
  uint32_t shard_count = 0;
  std::vector<uint64_t> offsets;
  bool superseded = false;
};

// One ShardedWal call the generator made (sharded.ops).
struct ShardedFixtureOp {
  struct Write {
    std::string key;  // bytes
    uint32_t shard = 0;
    uint64_t id = 0;
  };
  // open, append, append_batch_for_key, append_batch, create_checkpoint,
  // prune_before_checkpoint, compact_checkpoints, close.
  std::string op;
  std::vector<Write> writes;      // the appends' entries in input order (values: streams)
  std::string user_id;            // create_checkpoint, prune_before_checkpoint
  std::vector<uint64_t> offsets;  // create_checkpoint
  uint64_t keep_n = 0;            // compact_checkpoints
  // prune: shards_pruned, segments_deleted; compact: before, after, bytes_reclaimed.
  std::vector<uint64_t> result;
};

struct ShardedFixture {
  Fixture fixture;  // streams keyed by shard stream name; ops are the core-level view
  uint32_t shard_count = 0;
  std::vector<std::pair<std::string, uint32_t>> routing;  // key bytes -> shard 0.6 chose
  uint64_t log_size = 0;
  std::vector<FixtureCheckpoint> checkpoints;  // file order
  std::vector<ShardedFixtureOp> sharded_ops;
  std::optional<std::string> head;  // the user_id HEAD names
  // What 0.6.3 returned after reopening: list_checkpoints (user_id, timestamp_ns) and
  // the user_id load_latest_checkpoint returned.
  std::vector<std::pair<std::string, uint64_t>> listed;
  std::string latest;
};

// "sharded-basic", "sharded-pruned".
std::vector<std::string> ShardedFixtureNames();

// Absolute path of the sharded fixtures' directory in the test's runfiles.
std::string ShardedFixturesDir();

absl::StatusOr<ShardedFixture> LoadShardedFixture(const std::string& name);

// One row of routing_vectors.json.
struct RoutingVector {
  std::string key;  // bytes
  uint64_t hash = 0;
  std::map<uint32_t, uint32_t> shards;  // shard count -> shard
};

absl::StatusOr<std::vector<RoutingVector>> LoadRoutingVectors();

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_FIXTURES_H_
