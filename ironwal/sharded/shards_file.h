// File: ironwal/sharded/shards_file.h
//
// The SHARDS file of a ShardedWal root (not in 0.6): the shard count and the routing
// function, so reopening with another count fails at open instead of silently routing
// keys elsewhere. Three text lines:
//
//   ironwal-sharded 1
//   shard_count 4
//   routing siphash13-k0-0-k1-0-u64le-len-prefix
//
// Written once, atomically (SHARDS.tmp, sync, rename, directory sync); 0.6 ignores it.
//
// Thread-safety: pure functions and single Env calls.
#ifndef IRONWAL_SHARDED_SHARDS_FILE_H_
#define IRONWAL_SHARDED_SHARDS_FILE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"

namespace ironwal {
namespace sharded {

inline constexpr absl::string_view kShardsFileName = "SHARDS";

struct ShardsFile {
  uint32_t shard_count = 0;
  std::string routing;
};

std::string EncodeShardsFile(const ShardsFile& file);
// DataLoss (naming `path`) for anything but the three lines above.
absl::StatusOr<ShardsFile> DecodeShardsFile(absl::string_view text, const std::string& path);

// The SHARDS file of `root`, or nullopt when there is none.
absl::StatusOr<std::optional<ShardsFile>> ReadShardsFile(Env* env, const std::string& root);
absl::Status WriteShardsFile(Env* env, const std::string& root, const ShardsFile& file);

}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_SHARDED_SHARDS_FILE_H_
