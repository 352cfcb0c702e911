#include "ironwal/testing/fixtures.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/testing/json.h"

namespace ironwal {
namespace testing {
namespace {

absl::StatusOr<std::string> ReadLocalFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

uint64_t U64(const Json& j, const char* key) { return j.Has(key) ? j[key].AsUint64() : 0; }

absl::StatusOr<std::map<uint64_t, std::string>> LoadEntries(const Json& list) {
  std::map<uint64_t, std::string> entries;
  for (const Json& e : list.AsArray()) {
    std::string bytes;
    if (!absl::Base64Unescape(e["b64"].AsString(), &bytes)) {
      return absl::DataLossError(absl::StrCat("bad base64 for id ", e["id"].AsUint64()));
    }
    if (bytes.size() != e["len"].AsUint64()) {
      return absl::DataLossError(absl::StrCat("length mismatch for id ", e["id"].AsUint64()));
    }
    entries[e["id"].AsUint64()] = std::move(bytes);
  }
  return entries;
}

absl::StatusOr<FixtureStream> LoadStream(const std::string& key, const Json& s) {
  FixtureStream stream;
  stream.key = key;
  stream.dir = s["dir"].AsString();
  stream.first_id = s["first_id"].AsUint64();
  stream.next_id = s["next_id"].AsUint64();
  IRONWAL_ASSIGN_OR_RETURN(stream.entries, LoadEntries(s["entries"]));
  if (s.Has("deleted_entries")) {
    IRONWAL_ASSIGN_OR_RETURN(stream.deleted_entries, LoadEntries(s["deleted_entries"]));
  }
  for (const Json& id : s["segments_idx"].AsArray()) stream.segments_idx.push_back(id.AsUint64());
  if (!s["head_state"].is_null()) {
    stream.head_active_segment = s["head_state"]["active_segment"].AsString();
  }
  for (const Json& seg : s["segments"].AsArray()) {
    FixtureSegment segment;
    segment.file = seg["file"].AsString();
    segment.start_id = seg["start_id"].AsUint64();
    segment.size = seg["size"].AsUint64();
    for (const Json& f : seg["frames"].AsArray()) {
      FixtureFrame frame;
      frame.offset = f["offset"].AsUint64();
      frame.start_id = f["start_id"].AsUint64();
      frame.count = f["count"].AsUint64();
      frame.type = static_cast<int>(f["type"].AsUint64());
      frame.disk_size = f["disk_size"].AsUint64();
      frame.uncompressed_size = f["uncompressed_size"].AsUint64();
      frame.crc32 = static_cast<uint32_t>(f["crc32"].AsUint64());
      segment.frames.push_back(frame);
    }
    stream.segments.push_back(std::move(segment));
  }
  return stream;
}

// Absolute path of tests/testdata/<name> in the test's runfiles.
// The runfiles directory of the repository named "ironwal": this workspace itself, or
// @ironwal seen from a consumer's workspace (TEST_WORKSPACE is then the consumer's name).
std::string TestDataDir(absl::string_view name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir ? srcdir : ".", "/ironwal/tests/testdata/", name);
}

absl::StatusOr<std::string> Base64(const Json& j) {
  std::string bytes;
  if (!absl::Base64Unescape(j.AsString(), &bytes)) {
    return absl::DataLossError(absl::StrCat("bad base64 ", j.AsString()));
  }
  return bytes;
}

absl::StatusOr<ShardedFixtureOp::Write> LoadWrite(const Json& w, uint64_t id) {
  ShardedFixtureOp::Write write;
  IRONWAL_ASSIGN_OR_RETURN(write.key, Base64(w["key_b64"]));
  write.shard = static_cast<uint32_t>(w["shard"].AsUint64());
  write.id = id;
  return write;
}

absl::StatusOr<ShardedFixtureOp> LoadShardedOp(const Json& o) {
  ShardedFixtureOp op;
  op.op = o["op"].AsString();
  if (op.op == "append") {
    IRONWAL_ASSIGN_OR_RETURN(auto write, LoadWrite(o, o["id"].AsUint64()));
    op.writes.push_back(std::move(write));
  } else if (op.op == "append_batch_for_key") {
    for (uint64_t i = 0; i < o["count"].AsUint64(); ++i) {
      IRONWAL_ASSIGN_OR_RETURN(auto write, LoadWrite(o, o["start_id"].AsUint64() + i));
      op.writes.push_back(std::move(write));
    }
  } else if (op.op == "append_batch") {
    for (const Json& e : o["entries"].AsArray()) {
      IRONWAL_ASSIGN_OR_RETURN(auto write, LoadWrite(e, e["id"].AsUint64()));
      op.writes.push_back(std::move(write));
    }
  }
  if (o.Has("user_id_b64")) {
    IRONWAL_ASSIGN_OR_RETURN(op.user_id, Base64(o["user_id_b64"]));
  }
  if (o.Has("offsets")) {
    for (const Json& x : o["offsets"].AsArray()) op.offsets.push_back(x.AsUint64());
  }
  op.keep_n = U64(o, "keep_n");
  if (op.op == "prune_before_checkpoint") {
    op.result = {U64(o["result"], "shards_pruned"), U64(o["result"], "segments_deleted")};
  } else if (op.op == "compact_checkpoints") {
    op.result = {U64(o["result"], "checkpoints_before"), U64(o["result"], "checkpoints_after"),
                 U64(o["result"], "bytes_reclaimed")};
  }
  return op;
}

absl::StatusOr<Json> ReadJson(const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(const std::string text, ReadLocalFile(path));
  return Json::Parse(text);
}

absl::StatusOr<Fixture> FixtureFromManifest(const std::string& name, const std::string& dir,
                                            const Json& doc);

}  // namespace

std::vector<std::string> FixtureNames() {
  return {"basic", "compressed", "rotation", "truncated", "txn"};
}

std::string FixturesDir() { return TestDataDir("ironwal-0.6"); }

absl::StatusOr<Fixture> LoadFixture(const std::string& name) {
  const std::string dir = absl::StrCat(FixturesDir(), "/", name);
  IRONWAL_ASSIGN_OR_RETURN(const Json doc, ReadJson(dir + "/manifest.json"));
  return FixtureFromManifest(name, dir, doc);
}

std::vector<std::string> ShardedFixtureNames() { return {"sharded-basic", "sharded-pruned"}; }

std::string ShardedFixturesDir() { return TestDataDir("ironwal-0.6-sharded"); }

absl::StatusOr<ShardedFixture> LoadShardedFixture(const std::string& name) {
  const std::string dir = absl::StrCat(ShardedFixturesDir(), "/", name);
  IRONWAL_ASSIGN_OR_RETURN(const Json doc, ReadJson(dir + "/manifest.json"));
  ShardedFixture sharded;
  IRONWAL_ASSIGN_OR_RETURN(sharded.fixture, FixtureFromManifest(name, dir, doc));
  const Json& s = doc["sharded"];
  sharded.shard_count = static_cast<uint32_t>(s["shard_count"].AsUint64());
  for (const Json& r : s["routing"].AsArray()) {
    IRONWAL_ASSIGN_OR_RETURN(std::string key, Base64(r["key_b64"]));
    sharded.routing.emplace_back(std::move(key), static_cast<uint32_t>(r["shard"].AsUint64()));
  }
  sharded.log_size = s["checkpoints_log"]["size"].AsUint64();
  for (const Json& c : s["checkpoints"].AsArray()) {
    FixtureCheckpoint checkpoint;
    checkpoint.file_offset = c["file_offset"].AsUint64();
    checkpoint.size = c["size"].AsUint64();
    checkpoint.crc32 = static_cast<uint32_t>(c["crc32"].AsUint64());
    IRONWAL_ASSIGN_OR_RETURN(checkpoint.user_id, Base64(c["user_id_b64"]));
    checkpoint.timestamp_ns = c["timestamp_ns"].AsUint64();
    checkpoint.shard_count = static_cast<uint32_t>(c["shard_count"].AsUint64());
    for (const Json& o : c["offsets"].AsArray()) checkpoint.offsets.push_back(o.AsUint64());
    checkpoint.superseded = c["superseded"].AsBool();
    sharded.checkpoints.push_back(std::move(checkpoint));
  }
  for (const Json& o : s["ops"].AsArray()) {
    IRONWAL_ASSIGN_OR_RETURN(ShardedFixtureOp op, LoadShardedOp(o));
    sharded.sharded_ops.push_back(std::move(op));
  }
  if (!s["head"].is_null()) {
    IRONWAL_ASSIGN_OR_RETURN(sharded.head, Base64(s["head"]));
  }
  const Json& reopen = doc["ironwal_0_6_3_reopen"];
  for (const Json& c : reopen["list_checkpoints"].AsArray()) {
    IRONWAL_ASSIGN_OR_RETURN(std::string user_id, Base64(c["user_id_b64"]));
    sharded.listed.emplace_back(std::move(user_id), c["timestamp_ns"].AsUint64());
  }
  IRONWAL_ASSIGN_OR_RETURN(sharded.latest, Base64(reopen["load_latest_checkpoint"]["user_id_b64"]));
  return sharded;
}

absl::StatusOr<std::vector<RoutingVector>> LoadRoutingVectors() {
  IRONWAL_ASSIGN_OR_RETURN(const Json doc,
                           ReadJson(ShardedFixturesDir() + "/routing_vectors.json"));
  std::vector<RoutingVector> vectors;
  for (const Json& v : doc["vectors"].AsArray()) {
    RoutingVector vector;
    IRONWAL_ASSIGN_OR_RETURN(vector.key, Base64(v["key_b64"]));
    if (!absl::SimpleHexAtoi(v["hash_hex"].AsString(), &vector.hash)) {
      return absl::DataLossError(absl::StrCat("bad hash_hex ", v["hash_hex"].AsString()));
    }
    for (const auto& [count, shard] : v["shards"].AsObject()) {
      uint32_t n;
      if (!absl::SimpleAtoi(count, &n)) return absl::DataLossError("bad shard count " + count);
      vector.shards[n] = static_cast<uint32_t>(shard.AsUint64());
    }
    vectors.push_back(std::move(vector));
  }
  return vectors;
}

namespace {

absl::StatusOr<Fixture> FixtureFromManifest(const std::string& name, const std::string& dir,
                                            const Json& doc) {
  Fixture fixture;
  fixture.name = name;
  fixture.dir = dir;
  fixture.root = absl::StrCat(fixture.dir, "/", doc["root"].AsString());

  const Json& o = doc["options"];
  fixture.options.max_segment_size = U64(o, "max_segment_size");
  fixture.options.max_entries_per_segment = U64(o, "max_entries_per_segment");
  fixture.options.max_open_segments = U64(o, "max_open_segments");
  fixture.options.write_buffer_size = U64(o, "write_buffer_size");
  fixture.options.sync_mode = o["sync_mode"].AsString();
  fixture.options.compression = o["compression"].AsString();
  fixture.options.read_strategy = o["read_strategy"].AsString();
  fixture.options.min_compression_size = U64(o, "min_compression_size");

  for (const auto& [key, s] : doc["streams"].AsObject()) {
    IRONWAL_ASSIGN_OR_RETURN(fixture.streams[key], LoadStream(key, s));
  }
  for (const Json& op : doc["ops"].AsArray()) {
    FixtureOp o2;
    o2.op = op["op"].AsString();
    if (op.Has("stream")) o2.stream = op["stream"].AsString();
    o2.id = U64(op, "id");
    o2.start_id = U64(op, "start_id");
    o2.count = U64(op, "count");
    o2.frames = U64(op, "frames");
    o2.safe_id = U64(op, "safe_id");
    fixture.ops.push_back(std::move(o2));
  }
  for (const Json& f : doc["files"].AsArray()) {
    fixture.files.push_back({f["path"].AsString(), f["size"].AsUint64(), f["sha256"].AsString()});
  }
  return fixture;
}

}  // namespace

}  // namespace testing
}  // namespace ironwal
