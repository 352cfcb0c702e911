// File: ironwal/stats/histogram.h
//
// The bucket layout of the statistics' histograms (internal): log-linear, 8 buckets per
// power of two, exact below 8. A value's bucket is found with a count-leading-zeros and two
// shifts; a bucket's upper bound is at most 12.5% above any value in it.
//
//   const int b = HistogramBuckets::Of(value);
//   uint64_t upper = HistogramBuckets::Upper(b);
//
// Thread-safety: pure functions.
#ifndef IRONWAL_STATS_HISTOGRAM_H_
#define IRONWAL_STATS_HISTOGRAM_H_

#include <cstdint>

#include "absl/numeric/bits.h"

namespace ironwal {
namespace internal {

struct HistogramBuckets {
  static constexpr int kSubBits = 3;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kCount = (64 - kSubBits + 1) * kSub;

  static int Of(uint64_t v) {
    if (v < kSub) return static_cast<int>(v);
    const int e = 63 - absl::countl_zero(v);
    const int sub = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
    return (e - kSubBits + 1) * kSub + sub;
  }

  // The largest value of bucket `b`.
  static uint64_t Upper(int b) {
    if (b < kSub) return static_cast<uint64_t>(b);
    const int shift = b / kSub - 1;
    const uint64_t lower = static_cast<uint64_t>(kSub + b % kSub) << shift;
    return lower + ((uint64_t{1} << shift) - 1);
  }
};

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STATS_HISTOGRAM_H_
