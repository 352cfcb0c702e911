// File: ironwal/util/random.h
//
// A small, seeded, portable pseudo-random generator (xoshiro256**, seeded through
// splitmix64). The same seed gives the same sequence on every platform and standard
// library, which std::uniform_int_distribution does not promise. For tests, workload
// generators and benchmarks; ironwal's own code paths never draw random numbers.
//
//   Random rng(seed);
//   uint64_t id = rng.Uniform(next_id);   // in [0, next_id)
//   if (rng.OneIn(10)) ...
#ifndef IRONWAL_UTIL_RANDOM_H_
#define IRONWAL_UTIL_RANDOM_H_

#include <cstdint>
#include <string>

namespace ironwal {
namespace internal {

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(&seed);
  }

  // The next 64 random bits.
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n); 0 when n is 0. Unbiased (rejection sampling).
  uint64_t Uniform(uint64_t n) {
    if (n == 0) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
      r = Next();
    } while (r >= limit);
    return r % n;
  }

  // Uniform in [lo, hi].
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Uniform(hi - lo + 1); }

  // True with probability 1/n (always for n <= 1).
  bool OneIn(uint64_t n) { return n <= 1 || Uniform(n) == 0; }

  // `n` random bytes.
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(Next() >> 56);
    return out;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t* x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_UTIL_RANDOM_H_
