#include "ironwal/testing/random_wal_options.h"

namespace ironwal {
namespace testing {

using ::ironwal::internal::Random;

void RandomizeWalOptions(Random* rng, const RandomWalOptionsRanges& r, WalOptions* o) {
  o->sync_mode = static_cast<SyncMode>(rng->Uniform(3));
  o->read_strategy = rng->OneIn(2) ? ReadStrategy::kMmap : ReadStrategy::kPread;
  o->compression = rng->OneIn(3) ? Compression::kLz4 : Compression::kNone;
  o->min_compression_size = rng->Uniform(r.max_min_compression_size);
  o->max_segment_size = rng->Range(r.min_segment_size, r.max_segment_size);
  o->max_entries_per_segment =
      rng->OneIn(r.entries_limit_one_in) ? rng->Range(1, r.max_entries_per_segment) : UINT64_MAX;
  o->max_open_segments = rng->Range(1, 3);
  o->max_open_read_segments = rng->Range(1, 3);
  o->write_buffer_size = rng->Range(0, r.max_write_buffer_size);
  o->block_cache_size = rng->OneIn(r.block_cache_one_in) ? r.block_cache_size : 0;
}

}  // namespace testing
}  // namespace ironwal
