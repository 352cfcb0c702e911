// File: ironwal/util/crc32.h
//
// CRC-32 with the IEEE 802.3 / zlib polynomial (0x04C11DB7, reflected 0xEDB88320; initial
// value and final XOR 0xFFFFFFFF): the checksum of ironwal 0.6's frames and checkpoint
// entries, equal to zlib's crc32() and Rust's crc32fast. It is NOT CRC-32C (Castagnoli).
//
//   uint32_t crc = Crc32("123456789");            // 0xCBF43926
//   uint32_t same = Crc32Extend(Crc32("1234"), "56789");
//
// On x86-64 CPUs with PCLMULQDQ, all but the last (length mod 16) bytes of inputs of 32
// bytes or more are folded with carry-less multiplication (about 10 GB/s on long inputs);
// the rest, and shorter inputs, go through a slice-by-8 table. Both give the same result (the tests
// compare them, and zlib, on every length up to 1 KiB at 16 alignments).
#ifndef IRONWAL_UTIL_CRC32_H_
#define IRONWAL_UTIL_CRC32_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

#include "ironwal/util/crc32_batch.h"

namespace ironwal {

// The CRC-32 of `data` appended to data whose CRC-32 is `crc` (0 for no prior data).
uint32_t Crc32Extend(uint32_t crc, const char* data, size_t n);

inline uint32_t Crc32Extend(uint32_t crc, absl::string_view data) {
  return Crc32Extend(crc, data.data(), data.size());
}

inline uint32_t Crc32(absl::string_view data) { return Crc32Extend(0, data); }

namespace internal {

// The CRC-32 (from no prior data) of data[pad, n), where data[0, pad) are `pad` zero bytes
// (pad < 16) the caller put in front so that n is a multiple of 16: on CPUs with PCLMULQDQ
// the fold then takes every byte in one pass, with no table pass over a tail (the running
// state starts at the one that `pad` zero bytes turn into the empty CRC's). Equal to
// Crc32(absl::string_view(data + pad, n - pad)) on every CPU.
uint32_t Crc32OfZeroPadded(const char* data, size_t n, size_t pad);

// The CRC-32 (from no prior data) of the 17 bytes at `head` followed by the n bytes at
// `tail` (a frame's covered header bytes and its payload, in place: no copy). REQUIRES:
// tail >= head + 17 and every byte of [head, tail + n) readable (the fold loads the bytes
// between the two parts and masks them out). Equal to Crc32Extend(Crc32Extend(0, head,
// 17), tail, n) on every CPU; with PCLMULQDQ one fold over both parts, no table pass.
uint32_t Crc32Of17AndTail(const char* head, const char* tail, size_t n);

// Many Crc32Of17AndTail checks at once, for loops over many frames (one call, one CPU
// dispatch; Crc32Of17AndTailItem in crc32_batch.h): the number of leading items whose CRC equals
// `expected` (count when all do).
size_t Crc32Of17AndTailMatching(const Crc32Of17AndTailItem* items, size_t count);

// Crc32Of17AndTail by one implementation, so tests can compare them all on one CPU:
// kPortable the tables, kPclmul the SSE fold, kAvx its VEX build. False (and *crc
// unchanged) when this CPU cannot run the one asked for.
enum class Crc32Impl { kPortable, kPclmul, kAvx };
bool Crc32Of17AndTailBy(Crc32Impl impl, const char* head, const char* tail, size_t n,
                        uint32_t* crc);

// Crc32Of17AndTailMatching by one implementation (kPortable: item by item), likewise.
bool Crc32Of17AndTailMatchingBy(Crc32Impl impl, const Crc32Of17AndTailItem* items, size_t count,
                                size_t* matching);

// The portable slice-by-8 implementation, exposed so tests can compare the two paths.
uint32_t Crc32ExtendPortable(uint32_t crc, const char* data, size_t n);

// Whether Crc32Extend uses the carry-less-multiplication path on this CPU.
bool Crc32UsesPclmul();

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_UTIL_CRC32_H_
