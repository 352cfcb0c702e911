// File: benchmarks/workloads_internal.h
//
// Helpers shared by workloads_write.cc and workloads_read.cc. Not part of any API.
#ifndef IRONWAL_BENCHMARKS_WORKLOADS_INTERNAL_H_
#define IRONWAL_BENCHMARKS_WORKLOADS_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "ironwal/wal/wal.h"
#include "ironwal/wal/wal_options.h"

namespace ironwal {
namespace bench {
namespace internal {

// `status` with "`workload`: " in front of its message (OK stays OK).
inline absl::Status Annotate(absl::string_view workload, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(workload, ": ", status.message()));
}

// Opens a Wal on the real file system at `root` with default options but these.
inline absl::StatusOr<std::unique_ptr<Wal>> OpenWal(
    const std::string& root, SyncMode sync_mode, ReadStrategy read_strategy, bool statistics = true,
    uint64_t preallocate_bytes = 0,
    uint64_t allocate_ahead_bytes = WalOptions().allocate_ahead_bytes) {
  WalOptions options;
  options.statistics = statistics;
  options.preallocate_bytes = preallocate_bytes;
  options.allocate_ahead_bytes = allocate_ahead_bytes;
  options.root = root;
  options.env = Env::Default();
  options.sync_mode = sync_mode;
  options.read_strategy = read_strategy;
  return Wal::Open(options);
}

inline const char* StrategyName(ReadStrategy strategy) {
  return strategy == ReadStrategy::kMmap ? "mmap" : "pread";
}

}  // namespace internal
}  // namespace bench
}  // namespace ironwal

#endif  // IRONWAL_BENCHMARKS_WORKLOADS_INTERNAL_H_
