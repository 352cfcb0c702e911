#include "ironwal/testing/fixtures.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
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

}  // namespace

std::vector<std::string> FixtureNames() {
  return {"basic", "compressed", "rotation", "truncated", "txn"};
}

std::string FixturesDir() {
  // The runfiles directory of the repository named "ironwal": this workspace itself, or
  // @ironwal seen from a consumer's workspace (TEST_WORKSPACE is then the consumer's name).
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir ? srcdir : ".", "/ironwal/tests/testdata/ironwal-0.6");
}

absl::StatusOr<Fixture> LoadFixture(const std::string& name) {
  Fixture fixture;
  fixture.name = name;
  fixture.dir = absl::StrCat(FixturesDir(), "/", name);
  IRONWAL_ASSIGN_OR_RETURN(const std::string text, ReadLocalFile(fixture.dir + "/manifest.json"));
  IRONWAL_ASSIGN_OR_RETURN(const Json doc, Json::Parse(text));
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

}  // namespace testing
}  // namespace ironwal
