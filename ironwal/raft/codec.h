// File: ironwal/raft/codec.h
//
// The bytes //ironwal/raft keeps on disk: a log entry in the Wal stream, the term and vote
// in the stream's metadata, and a snapshot file. All integers little-endian. Pure
// functions, thread-safe.
//
//   entry:     term u64 | type u8 | payload
//   term/vote: "IWRV" | term u64 | vote u64
//   snapshot:  "IWRSNAP1" | index u64 | term u64 | configuration_index u64 | installed u8 |
//              server count u32 | per server: id u64, role u32, address length u32,
//              address | data length u64 | data | FNV-1a 64 of everything before it
#ifndef IRONWAL_RAFT_CODEC_H_
#define IRONWAL_RAFT_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace raft {

struct LogEntry {
  uint64_t term = 0;
  uint8_t type = 0;  // RAFT_COMMAND, RAFT_BARRIER, RAFT_CHANGE
  std::string payload;
  friend bool operator==(const LogEntry& a, const LogEntry& b) {
    return a.term == b.term && a.type == b.type && a.payload == b.payload;
  }
};

struct ServerRecord {
  uint64_t id = 0;
  uint32_t role = 0;
  std::string address;
};

struct SnapshotRecord {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t configuration_index = 0;
  std::vector<ServerRecord> servers;
  std::string data;
  bool installed = false;  // received from a leader (the log restarts after it)
};

std::string EncodeEntry(const LogEntry& entry);
// `where` names the entry in the error ("decode entry 7 of /d/wal").
absl::StatusOr<LogEntry> DecodeEntry(absl::string_view bytes, absl::string_view where);

std::string EncodeTermVote(uint64_t term, uint64_t vote);
// "" decodes as term 0, vote 0.
absl::Status DecodeTermVote(absl::string_view bytes, absl::string_view where, uint64_t* term,
                            uint64_t* vote);

std::string EncodeSnapshot(const SnapshotRecord& snapshot);
absl::StatusOr<SnapshotRecord> DecodeSnapshot(absl::string_view bytes, absl::string_view where);

}  // namespace raft
}  // namespace ironwal

#endif  // IRONWAL_RAFT_CODEC_H_
