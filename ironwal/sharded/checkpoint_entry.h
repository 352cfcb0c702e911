// File: ironwal/sharded/checkpoint_entry.h
//
// The bytes of ironwal 0.6's sharded checkpoint files (ironwal/format/FORMAT.md, "Sharded
// files"): one entry of checkpoints.log, and HEAD. Pure codecs; no I/O.
//
// checkpoints.log entry, little-endian, no file header:
//   "CKPT" | u32 crc32(payload) | u32 payload_len | payload
//   payload = u8 version (1) | u16 user_id_len | user_id | u64 timestamp_ns
//             | u16 shard_count | shard_count x u64 offsets
// HEAD: u16 user_id_len | user_id (no magic, no checksum; length 0 means "no HEAD").
//
// Decoding never trusts a length before checking it against the bytes present and the
// largest payload the format allows (kMaxPayloadSize).
//
// Thread-safety: pure functions.
#ifndef IRONWAL_SHARDED_CHECKPOINT_ENTRY_H_
#define IRONWAL_SHARDED_CHECKPOINT_ENTRY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace sharded {

inline constexpr absl::string_view kCheckpointMagic = "CKPT";
inline constexpr uint8_t kCheckpointVersion = 1;
inline constexpr size_t kEntryHeaderSize = 12;  // magic, crc, payload_len
inline constexpr size_t kMaxUserIdSize = 65535;
// version + user_id_len + the longest user_id + timestamp + shard_count + 65535 offsets.
inline constexpr size_t kMaxPayloadSize = 1 + 2 + kMaxUserIdSize + 8 + 2 + 8 * 65535;

// What a checkpoint records.
struct CheckpointData {
  // offsets[s]: the first ID of shard s that is not covered (the shard's durable next ID
  // when the checkpoint was taken; 0 for a shard never written).
  std::vector<uint64_t> offsets;
  uint64_t timestamp_ns = 0;  // Env::NowMicros() * 1000 when it was created
  uint32_t shard_count = 0;   // offsets.size()

  friend bool operator==(const CheckpointData& a, const CheckpointData& b) {
    return a.offsets == b.offsets && a.timestamp_ns == b.timestamp_ns &&
           a.shard_count == b.shard_count;
  }
};

struct CheckpointEntry {
  std::string user_id;
  CheckpointData data;
};

// The entry's bytes (header and payload). InvalidArgument for a user_id that is empty or
// longer than kMaxUserIdSize, or for 0 or more than 65535 offsets.
absl::StatusOr<std::string> EncodeCheckpointEntry(const CheckpointEntry& entry);

// Size of the encoded entry: 25 + user_id size + 8 x shard count.
size_t CheckpointEntrySize(size_t user_id_size, size_t shard_count);

// The payload length an entry header announces, after checking the magic and that the
// length is possible (<= kMaxPayloadSize and large enough for an empty entry).
// `header` holds kEntryHeaderSize bytes. DataLoss naming the reason otherwise.
absl::StatusOr<uint32_t> DecodeEntryHeader(absl::string_view header);

// Decodes one whole entry (header + payload, exactly). DataLoss when the magic, length,
// CRC, version, user_id length or shard count are wrong. Trailing bytes inside the payload
// are accepted, as 0.6 does.
absl::StatusOr<CheckpointEntry> DecodeCheckpointEntry(absl::string_view entry);

// HEAD's bytes for `user_id` (1..kMaxUserIdSize bytes).
absl::StatusOr<std::string> EncodeHead(absl::string_view user_id);

// The user_id HEAD names; nullopt when it names none (too short, length 0, or fewer bytes
// than announced: 0.6 then falls back to the log, and so do we).
std::optional<std::string> DecodeHead(absl::string_view head);

}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_SHARDED_CHECKPOINT_ENTRY_H_
