// File: ironwal/util/crc32_batch.h
//
// Crc32Of17AndTailItem: one check of a batch of Crc32Of17AndTailMatching (crc32.h), in a
// header of its own so that crc32_pclmul.cc (compiled with other CPU flags, below crc32 in
// the build) can take it. Include crc32.h, not this.
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

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_UTIL_CRC32_BATCH_H_
