// File: ironwal/sharded/watermarks.h
//
// Watermarks: per shard, the next ID past everything acknowledged to a writer, and the next
// ID past everything known to be durable. Checkpoints record the durable ones, so a
// checkpoint never names an entry a crash can take away. Both only move forward (an
// atomic max; 0.6 used plain stores, so racing appenders moved them backwards).
//
// Thread-safety: lock-free; writers on different shards touch different cache lines.
#ifndef IRONWAL_SHARDED_WATERMARKS_H_
#define IRONWAL_SHARDED_WATERMARKS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ironwal {
namespace sharded {

class Watermarks {
 public:
  explicit Watermarks(uint32_t shard_count);

  uint32_t shard_count() const { return shard_count_; }

  // An ID below `next` was acknowledged on `shard`.
  void Acknowledge(uint32_t shard, uint64_t next);
  // Every ID of `shard` below `next` is durable (implies Acknowledge).
  void MarkDurable(uint32_t shard, uint64_t next);
  // MarkDurable for each shard with acked[shard].
  void MarkAllDurable(const std::vector<uint64_t>& acked);

  std::vector<uint64_t> Acknowledged() const;
  std::vector<uint64_t> Durable() const;
  // Whether some acknowledged ID is not known to be durable.
  bool Lagging() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> acked{0};
    std::atomic<uint64_t> durable{0};
  };

  const uint32_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace sharded
}  // namespace ironwal

#endif  // IRONWAL_SHARDED_WATERMARKS_H_
