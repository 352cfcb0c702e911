#include "ironwal/sharded/watermarks.h"

#include <atomic>
#include <cstdint>
#include <vector>

namespace ironwal {
namespace sharded {
namespace {

void StoreMax(std::atomic<uint64_t>* value, uint64_t candidate) {
  uint64_t current = value->load(std::memory_order_relaxed);
  while (current < candidate &&
         !value->compare_exchange_weak(current, candidate, std::memory_order_release,
                                       std::memory_order_relaxed)) {
  }
}

}  // namespace

Watermarks::Watermarks(uint32_t shard_count)
    : shard_count_(shard_count), shards_(new Shard[shard_count]) {}

void Watermarks::Acknowledge(uint32_t shard, uint64_t next) {
  StoreMax(&shards_[shard].acked, next);
}

void Watermarks::MarkDurable(uint32_t shard, uint64_t next) {
  StoreMax(&shards_[shard].acked, next);
  StoreMax(&shards_[shard].durable, next);
}

void Watermarks::MarkAllDurable(const std::vector<uint64_t>& acked) {
  for (uint32_t s = 0; s < shard_count_ && s < acked.size(); ++s) MarkDurable(s, acked[s]);
}

std::vector<uint64_t> Watermarks::Acknowledged() const {
  std::vector<uint64_t> out(shard_count_);
  for (uint32_t s = 0; s < shard_count_; ++s) {
    out[s] = shards_[s].acked.load(std::memory_order_acquire);
  }
  return out;
}

std::vector<uint64_t> Watermarks::Durable() const {
  std::vector<uint64_t> out(shard_count_);
  for (uint32_t s = 0; s < shard_count_; ++s) {
    out[s] = shards_[s].durable.load(std::memory_order_acquire);
  }
  return out;
}

bool Watermarks::Lagging() const {
  for (uint32_t s = 0; s < shard_count_; ++s) {
    if (shards_[s].durable.load(std::memory_order_acquire) <
        shards_[s].acked.load(std::memory_order_acquire)) {
      return true;
    }
  }
  return false;
}

}  // namespace sharded
}  // namespace ironwal
