#include "ironwal/sharded/router.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#include "ironwal/util/coding.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::DecodeFixed64;

namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

// SipHash state with c = 1 compression round and d = 3 finalization rounds.
class SipHash13 {
 public:
  // Keys k0 = k1 = 0.
  SipHash13()
      : v0_(0x736f6d6570736575ull),
        v1_(0x646f72616e646f6dull),
        v2_(0x6c7967656e657261ull),
        v3_(0x7465646279746573ull) {}

  void Block(uint64_t m) {
    v3_ ^= m;
    Round();
    v0_ ^= m;
  }

  // `tail` holds the last (total_len % 8) message bytes, little-endian.
  uint64_t Finish(uint64_t total_len, uint64_t tail) {
    Block((total_len << 56) | tail);
    v2_ ^= 0xff;
    Round();
    Round();
    Round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  void Round() {
    v0_ += v1_;
    v1_ = Rotl(v1_, 13);
    v1_ ^= v0_;
    v0_ = Rotl(v0_, 32);
    v2_ += v3_;
    v3_ = Rotl(v3_, 16);
    v3_ ^= v2_;
    v0_ += v3_;
    v3_ = Rotl(v3_, 21);
    v3_ ^= v0_;
    v2_ += v1_;
    v1_ = Rotl(v1_, 17);
    v1_ ^= v2_;
    v2_ = Rotl(v2_, 32);
  }

  uint64_t v0_, v1_, v2_, v3_;
};

}  // namespace

uint64_t RouteHash(absl::string_view key) {
  SipHash13 hash;
  // The length prefix is exactly one 8-byte block, so the key's blocks stay aligned.
  hash.Block(static_cast<uint64_t>(key.size()));
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) hash.Block(DecodeFixed64(key.data() + i));
  uint64_t tail = 0;
  for (size_t j = 0; i + j < key.size(); ++j) {
    tail |= static_cast<uint64_t>(static_cast<uint8_t>(key[i + j])) << (8 * j);
  }
  return hash.Finish(8 + static_cast<uint64_t>(key.size()), tail);
}

uint32_t RouteKey(absl::string_view key, uint32_t shard_count) {
  return static_cast<uint32_t>(RouteHash(key) % shard_count);
}

std::string ShardName(uint32_t shard) { return absl::StrFormat("shard_%02u", shard); }

std::optional<uint32_t> ParseShardName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "shard_") || name.size() < 2 || name.size() > 5) {
    return std::nullopt;
  }
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint32_t shard;
  if (!absl::SimpleAtoi(name, &shard) || shard >= kMaxShards) return std::nullopt;
  if (ShardName(shard) != absl::StrCat("shard_", name)) return std::nullopt;  // "shard_007"
  return shard;
}

}  // namespace sharded
}  // namespace ironwal
