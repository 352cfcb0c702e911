// File: ironwal/env/internal/sim_random.h
//
// SimRandom: SimEnv's one source of randomness. SplitMix64 (Steele, Lea, Flood 2014) with
// Lemire's unbiased bounded draw, written out here so that the same seed gives the same
// sequence with every compiler and standard library (std::uniform_int_distribution and
// friends do not promise that). The sequence is part of SimEnv's reproducibility: changing
// this file changes which crash states and faults a seed selects.
#ifndef IRONWAL_ENV_INTERNAL_SIM_RANDOM_H_
#define IRONWAL_ENV_INTERNAL_SIM_RANDOM_H_

#include <cstdint>

#include "ironwal/base/check.h"

namespace ironwal {
namespace internal {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) : state_(seed) {}

  // The next 64 random bits.
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n). REQUIRES: n >= 1.
  uint64_t Uniform(uint64_t n) {
    IRONWAL_CHECK(n >= 1);
    unsigned __int128 product = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
      while (low < threshold) {
        product = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  // True or false with probability 1/2.
  bool Coin() { return (Next() >> 63) != 0; }

  // The whole state: a generator set to state() draws what this one will.
  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  uint64_t state_;
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_SIM_RANDOM_H_
