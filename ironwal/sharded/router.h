// File: ironwal/sharded/router.h
//
// Routing of ShardedWal: which shard a key goes to, and the shards' stream names. Exactly
// ironwal 0.6's router, so keys written by 0.6 and by this library land on the same shard:
//
//   shard = SipHash-1-3(k0 = 0, k1 = 0; u64-LE(len(key)) || key) mod shard_count
//
// (Rust's std DefaultHasher fed the key as a byte slice on a 64-bit little-endian
// machine). Computed byte-wise, so the result is the same on every platform and
// compiler; pinned by 0.6's routing vectors (tests/sharded/router_test.cc).
//
// Thread-safety: pure functions.
#ifndef IRONWAL_SHARDED_ROUTER_H_
#define IRONWAL_SHARDED_ROUTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ironwal {
namespace sharded {

// The most shards a ShardedWal can have (0.6 stores the count as a u16).
inline constexpr uint32_t kMaxShards = 65535;

// The routing function's name as recorded in the SHARDS file.
inline constexpr absl::string_view kRoutingName = "siphash13-k0-0-k1-0-u64le-len-prefix";

// SipHash-1-3 with both keys 0 over u64-LE(key.size()) followed by the key's bytes.
uint64_t RouteHash(absl::string_view key);

// RouteHash(key) % shard_count. REQUIRES: shard_count >= 1.
uint32_t RouteKey(absl::string_view key, uint32_t shard_count);

// "shard_" + shard in decimal, at least two digits: "shard_07", "shard_12", "shard_100".
std::string ShardName(uint32_t shard);

// The shard of a stream named by ShardName, or nullopt for any other name ("shard_7",
// "shard_007" and "shard_x" are not shard names).
std::optional<uint32_t> ParseShardName(absl::string_view name);

}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_SHARDED_ROUTER_H_
