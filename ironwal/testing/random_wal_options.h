// File: ironwal/testing/random_wal_options.h
//
// Seeded random WalOptions for property and simulation tests: every option that changes
// how the Wal writes and reads (sync mode, read strategy, compression, segment limits,
// caches, buffers) drawn from one Random, always in the same order, so that a seed names
// the same options in every run. The ranges are the caller's (RandomWalOptionsRanges), so
// that two tests can share the draw and keep their own seeds' meaning. env and root are
// left as they are. Target //ironwal/testing:test_util (testonly).
//
// Thread-safety: uses only its arguments.
#ifndef IRONWAL_TESTING_RANDOM_WAL_OPTIONS_H_
#define IRONWAL_TESTING_RANDOM_WAL_OPTIONS_H_

#include <cstdint>

#include "ironwal/util/random.h"
#include "ironwal/wal/wal_options.h"

namespace ironwal {
namespace testing {

struct RandomWalOptionsRanges {
  uint64_t max_min_compression_size = 200;  // min_compression_size in [0, this)
  uint64_t min_segment_size = 64;           // max_segment_size in [this, max_segment_size]
  uint64_t max_segment_size = 4096;
  uint64_t entries_limit_one_in = 2;      // 1 in this: a max_entries_per_segment ...
  uint64_t max_entries_per_segment = 20;  // ... in [1, this]
  uint64_t max_write_buffer_size = 512;   // write_buffer_size in [0, this]
  uint64_t block_cache_one_in = 3;        // 1 in this: a frame cache of ...
  uint64_t block_cache_size = 4096;       // ... this many bytes
};

// Sets the options above in `options` from `rng`.
void RandomizeWalOptions(ironwal::internal::Random* rng, const RandomWalOptionsRanges& ranges,
                         WalOptions* options);

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_RANDOM_WAL_OPTIONS_H_
