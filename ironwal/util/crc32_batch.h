// File: ironwal/util/crc32_batch.h
//
// Crc32Of17AndTailItem: one check of a batch of Crc32Of17AndTailMatching (crc32.h), and the
// carry-less folds crc32_pclmul.cc defines for crc32.cc, in a header of their own so that
// crc32_pclmul.cc (compiled with other CPU flags, below crc32 in the build) and crc32.cc
// share one set of declarations. Include crc32.h, not this.
//
// Thread-safety: a plain value type.
#ifndef IRONWAL_UTIL_CRC32_BATCH_H_
#define IRONWAL_UTIL_CRC32_BATCH_H_

#include <cstddef>
#include <cstdint>

namespace ironwal {
namespace internal {

// The CRC-32 of the 17 bytes at `head` followed by the n bytes at `tail` is expected to be
// `expected` (Crc32Of17AndTail's requirements hold for head, tail and n).
struct Crc32Of17AndTailItem {
  const char* head;
  const char* tail;
  size_t n;
  uint32_t expected;
};

// Defined in crc32_pclmul.cc (compiled with -mpclmul -msse4.1). `state` is the inverted
// running CRC; n is a multiple of 16 and at least 16.
uint32_t Crc32FoldPclmul(uint32_t state, const char* data, size_t n);
// The same over the 17 bytes at `head`, then n at `tail`, behind 15 - n % 16 zero bytes
// (`state` is the one they turn into the empty CRC's).
uint32_t Crc32Fold17AndTailPclmul(uint32_t state, const char* head, const char* tail, size_t n);
// The same, compiled for AVX (VEX encodings).
uint32_t Crc32Fold17AndTailAvx(uint32_t state, const char* head, const char* tail, size_t n);
// Crc32Of17AndTailMatching's loop, in both builds; zero_prefix_states as kZeroPrefixStates.
size_t Crc32Of17AndTailMatchingPclmul(const uint32_t* zero_prefix_states,
                                      const Crc32Of17AndTailItem* items, size_t count);
size_t Crc32Of17AndTailMatchingAvx(const uint32_t* zero_prefix_states,
                                   const Crc32Of17AndTailItem* items, size_t count);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_UTIL_CRC32_BATCH_H_
