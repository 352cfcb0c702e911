#include "ironwal/raft/codec.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ironwal {
namespace raft {
namespace {

constexpr absl::string_view kTermVoteMagic = "IWRV";
constexpr absl::string_view kSnapshotMagic = "IWRSNAP1";

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Reads fixed-size fields off the front of a view; `ok` turns false past its end.
class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  uint64_t U64() { return Uint(8); }
  uint32_t U32() { return static_cast<uint32_t>(Uint(4)); }
  uint8_t U8() { return static_cast<uint8_t>(Uint(1)); }
  absl::string_view Bytes(uint64_t n) {
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      return {};
    }
    absl::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  bool ok() const { return ok_; }
  size_t consumed(absl::string_view whole) const { return whole.size() - in_.size(); }
  size_t left() const { return in_.size(); }

 private:
  uint64_t Uint(int n) {
    absl::string_view b = Bytes(n);
    uint64_t v = 0;
    for (int i = 0; i < static_cast<int>(b.size()); ++i) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
    }
    return v;
  }
  absl::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeEntry(const LogEntry& entry) {
  std::string out;
  out.reserve(9 + entry.payload.size());
  PutU64(&out, entry.term);
  out.push_back(static_cast<char>(entry.type));
  out.append(entry.payload);
  return out;
}

absl::StatusOr<LogEntry> DecodeEntry(absl::string_view bytes, absl::string_view where) {
  if (bytes.size() < 9) {
    return absl::DataLossError(
        absl::StrCat(where, ": raft entry of ", bytes.size(), " bytes, shorter than its header"));
  }
  Reader r(bytes);
  LogEntry entry;
  entry.term = r.U64();
  entry.type = r.U8();
  entry.payload = std::string(bytes.substr(9));
  return entry;
}

std::string EncodeTermVote(uint64_t term, uint64_t vote) {
  std::string out(kTermVoteMagic);
  PutU64(&out, term);
  PutU64(&out, vote);
  return out;
}

absl::Status DecodeTermVote(absl::string_view bytes, absl::string_view where, uint64_t* term,
                            uint64_t* vote) {
  *term = 0;
  *vote = 0;
  if (bytes.empty()) return absl::OkStatus();
  if (bytes.size() != kTermVoteMagic.size() + 16 ||
      bytes.substr(0, kTermVoteMagic.size()) != kTermVoteMagic) {
    return absl::DataLossError(absl::StrCat(where, ": stream metadata of ", bytes.size(),
                                            " bytes is no term/vote record"));
  }
  Reader r(bytes.substr(kTermVoteMagic.size()));
  *term = r.U64();
  *vote = r.U64();
  return absl::OkStatus();
}

std::string EncodeSnapshot(const SnapshotRecord& s) {
  std::string out(kSnapshotMagic);
  PutU64(&out, s.index);
  PutU64(&out, s.term);
  PutU64(&out, s.configuration_index);
  out.push_back(s.installed ? 1 : 0);
  PutU32(&out, static_cast<uint32_t>(s.servers.size()));
  for (const ServerRecord& server : s.servers) {
    PutU64(&out, server.id);
    PutU32(&out, server.role);
    PutU32(&out, static_cast<uint32_t>(server.address.size()));
    out.append(server.address);
  }
  PutU64(&out, s.data.size());
  out.append(s.data);
  PutU64(&out, Fnv1a64(out));
  return out;
}

absl::StatusOr<SnapshotRecord> DecodeSnapshot(absl::string_view bytes, absl::string_view where) {
  auto bad = [&](absl::string_view what, size_t offset) {
    return absl::DataLossError(absl::StrCat(where, ": snapshot ", what, " at offset ", offset));
  };
  if (bytes.size() < kSnapshotMagic.size() + 8 ||
      bytes.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    return bad("magic missing", 0);
  }
  absl::string_view body = bytes.substr(0, bytes.size() - 8);
  Reader tail(bytes.substr(bytes.size() - 8));
  if (tail.U64() != Fnv1a64(body)) return bad("checksum mismatch", body.size());
  Reader r(body.substr(kSnapshotMagic.size()));
  SnapshotRecord s;
  s.index = r.U64();
  s.term = r.U64();
  s.configuration_index = r.U64();
  s.installed = r.U8() != 0;
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    ServerRecord server;
    server.id = r.U64();
    server.role = r.U32();
    server.address = std::string(r.Bytes(r.U32()));
    s.servers.push_back(std::move(server));
  }
  s.data = std::string(r.Bytes(r.U64()));
  if (!r.ok() || r.left() != 0) return bad("fields do not fit", kSnapshotMagic.size());
  return s;
}

}  // namespace raft
}  // namespace ironwal
