// Helpers of the ShardedWal tests: copying a fixture into an in-memory Env, reading a
// shard back, options for a fresh in-memory root.
#ifndef IRONWAL_TESTS_SHARDED_SHARDED_TEST_UTIL_H_
#define IRONWAL_TESTS_SHARDED_SHARDED_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/env/env.h"
#include "ironwal/sharded/sharded_wal.h"

namespace ironwal {
namespace sharded {
namespace testing {

// Copies the tree at `from` in `src` to `to` in `dst` (created, with its parents).
inline absl::Status CopyTree(Env* src, const std::string& from, Env* dst, const std::string& to) {
  IRONWAL_RETURN_IF_ERROR(CreateDirRecursively(dst, to));
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, src->GetChildren(from));
  for (const std::string& name : children) {
    const std::string path = JoinPath(from, name);
    IRONWAL_ASSIGN_OR_RETURN(const bool is_dir, src->IsDirectory(path));
    if (is_dir) {
      IRONWAL_RETURN_IF_ERROR(CopyTree(src, path, dst, JoinPath(to, name)));
    } else {
      IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(src, path));
      IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(dst, JoinPath(to, name), contents));
    }
  }
  return absl::OkStatus();
}

// Every entry of `shard` from `start_id` on, by ID.
inline absl::StatusOr<std::map<uint64_t, std::string>> ReadShard(ShardedWal* wal, uint32_t shard,
                                                                 uint64_t start_id) {
  IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewShardIterator(shard, start_id));
  std::map<uint64_t, std::string> out;
  for (; it->Valid(); it->Next()) out[it->id()] = std::string(it->value());
  IRONWAL_RETURN_IF_ERROR(it->status());
  return out;
}

inline WalOptions MemOptions(Env* env, const std::string& root = "/wal") {
  WalOptions options;
  options.env = env;
  options.root = root;
  return options;
}

}  // namespace testing
}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_TESTS_SHARDED_SHARDED_TEST_UTIL_H_
