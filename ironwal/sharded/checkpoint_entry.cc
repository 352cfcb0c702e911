#include "ironwal/sharded/checkpoint_entry.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::DecodeFixed32;
using ::ironwal::internal::DecodeFixed64;
using ::ironwal::internal::PutFixed32;
using ::ironwal::internal::PutFixed64;

namespace {

// Payload bytes besides the user_id and the offsets.
constexpr size_t kFixedPayloadSize = 1 + 2 + 8 + 2;

inline uint16_t DecodeFixed16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) |
                               (static_cast<uint16_t>(static_cast<uint8_t>(p[1])) << 8));
}

inline void PutFixed16(std::string* dst, uint16_t value) {
  dst->push_back(static_cast<char>(value & 0xff));
  dst->push_back(static_cast<char>(value >> 8));
}

absl::Status CheckUserId(absl::string_view user_id) {
  if (user_id.empty() || user_id.size() > kMaxUserIdSize) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint user_id must be 1..", kMaxUserIdSize,
                                                   " bytes, got ", user_id.size()));
  }
  return absl::OkStatus();
}

}  // namespace

size_t CheckpointEntrySize(size_t user_id_size, size_t shard_count) {
  return kEntryHeaderSize + kFixedPayloadSize + user_id_size + 8 * shard_count;
}

absl::StatusOr<std::string> EncodeCheckpointEntry(const CheckpointEntry& entry) {
  if (absl::Status s = CheckUserId(entry.user_id); !s.ok()) return s;
  const std::vector<uint64_t>& offsets = entry.data.offsets;
  if (offsets.empty() || offsets.size() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint must have 1..65535 offsets, got ", offsets.size()));
  }
  std::string payload;
  payload.reserve(kFixedPayloadSize + entry.user_id.size() + 8 * offsets.size());
  payload.push_back(static_cast<char>(kCheckpointVersion));
  PutFixed16(&payload, static_cast<uint16_t>(entry.user_id.size()));
  payload.append(entry.user_id);
  PutFixed64(&payload, entry.data.timestamp_ns);
  PutFixed16(&payload, static_cast<uint16_t>(offsets.size()));
  for (uint64_t offset : offsets) PutFixed64(&payload, offset);

  std::string out(kCheckpointMagic);
  PutFixed32(&out, Crc32(payload));
  PutFixed32(&out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

absl::StatusOr<uint32_t> DecodeEntryHeader(absl::string_view header) {
  if (header.size() < kEntryHeaderSize) {
    return absl::DataLossError(absl::StrCat("checkpoint entry header: ", header.size(),
                                            " bytes, need ", kEntryHeaderSize));
  }
  if (header.substr(0, 4) != kCheckpointMagic) {
    return absl::DataLossError("checkpoint entry: bad magic (not \"CKPT\")");
  }
  const uint32_t len = DecodeFixed32(header.data() + 8);
  if (len < kFixedPayloadSize + 1 + 8 || len > kMaxPayloadSize) {
    return absl::DataLossError(absl::StrCat("checkpoint entry: impossible payload length ", len));
  }
  return len;
}

absl::StatusOr<CheckpointEntry> DecodeCheckpointEntry(absl::string_view bytes) {
  absl::StatusOr<uint32_t> len = DecodeEntryHeader(bytes);
  if (!len.ok()) return len.status();
  if (bytes.size() != kEntryHeaderSize + *len) {
    return absl::DataLossError(absl::StrCat("checkpoint entry: ", bytes.size(),
                                            " bytes, header says ", kEntryHeaderSize + *len));
  }
  const absl::string_view payload = bytes.substr(kEntryHeaderSize);
  if (Crc32(payload) != DecodeFixed32(bytes.data() + 4)) {
    return absl::DataLossError("checkpoint entry: CRC mismatch");
  }
  if (static_cast<uint8_t>(payload[0]) != kCheckpointVersion) {
    return absl::DataLossError(absl::StrCat("checkpoint entry: unknown version ",
                                            static_cast<int>(static_cast<uint8_t>(payload[0]))));
  }
  CheckpointEntry entry;
  const size_t user_len = DecodeFixed16(payload.data() + 1);
  if (user_len == 0 || kFixedPayloadSize + user_len > payload.size()) {
    return absl::DataLossError(absl::StrCat("checkpoint entry: bad user_id length ", user_len));
  }
  entry.user_id.assign(payload.data() + 3, user_len);
  const char* p = payload.data() + 3 + user_len;
  entry.data.timestamp_ns = DecodeFixed64(p);
  const size_t shards = DecodeFixed16(p + 8);
  if (shards == 0 || kFixedPayloadSize + user_len + 8 * shards > payload.size()) {
    return absl::DataLossError(absl::StrCat("checkpoint entry: bad shard count ", shards));
  }
  entry.data.shard_count = static_cast<uint32_t>(shards);
  entry.data.offsets.resize(shards);
  for (size_t s = 0; s < shards; ++s) entry.data.offsets[s] = DecodeFixed64(p + 10 + 8 * s);
  return entry;
}

absl::StatusOr<std::string> EncodeHead(absl::string_view user_id) {
  if (absl::Status s = CheckUserId(user_id); !s.ok()) return s;
  std::string out;
  PutFixed16(&out, static_cast<uint16_t>(user_id.size()));
  out.append(user_id.data(), user_id.size());
  return out;
}

std::optional<std::string> DecodeHead(absl::string_view head) {
  if (head.size() < 2) return std::nullopt;
  const size_t len = DecodeFixed16(head.data());
  if (len == 0 || head.size() < 2 + len) return std::nullopt;
  return std::string(head.substr(2, len));
}

}  // namespace sharded
}  // namespace ironwal
