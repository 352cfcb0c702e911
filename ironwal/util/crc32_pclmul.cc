// CRC-32 (zlib polynomial) by folding 128-bit lanes with carry-less multiplication, after
// Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" (Intel,
// 2009), in its bit-reflected form. The constants are x^k mod P(x) for the fold distances
// (512+64 / 512, 128+64 / 128 bits, 64 bits), then the Barrett reduction's P(x) and
// mu = floor(x^64 / P(x)), all bit-reflected. Compiled with -mpclmul -msse4.1 and only
// called when the CPU reports both (see crc32.cc).
//
// Inputs of 64 bytes or more are folded four lanes at a time, then down to one lane; from
// 16 bytes one lane is folded 16 bytes at a time (frame headers: the CRC covers 17 bytes
// of each). Both end in the same reduction.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "ironwal/util/crc32_batch.h"

namespace ironwal {
namespace internal {

namespace {

alignas(16) const uint64_t kFold4[2] = {0x0154442bd4, 0x01c6e41596};
alignas(16) const uint64_t kFold1[2] = {0x01751997d0, 0x00ccaa009e};
alignas(16) const uint64_t kFold64[2] = {0x0163cd6124, 0x0000000000};
alignas(16) const uint64_t kBarrett[2] = {0x01db710641, 0x01f7011641};

__attribute__((always_inline)) inline __m128i Load(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

__attribute__((always_inline)) inline __m128i Constants(const uint64_t* k) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(k));
}

// acc folded forward by the distance `k` encodes, xor `next`.
__attribute__((always_inline)) inline __m128i Fold(__m128i acc, __m128i k, __m128i next) {
  const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
  const __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(hi, lo), next);
}

// Folds four lanes over *data (at least 64 bytes; x1 holds the first 16 with the running
// CRC already mixed in) down to one lane. Leaves fewer than 64 bytes in *n.
__m128i FoldFourLanes(__m128i x1, const char** data, size_t* n) {
  const char* p = *data;
  size_t left = *n;
  __m128i x2 = Load(p + 16);
  __m128i x3 = Load(p + 32);
  __m128i x4 = Load(p + 48);
  p += 64;
  left -= 64;
  const __m128i k4 = Constants(kFold4);
  while (left >= 64) {
    x1 = Fold(x1, k4, Load(p));
    x2 = Fold(x2, k4, Load(p + 16));
    x3 = Fold(x3, k4, Load(p + 32));
    x4 = Fold(x4, k4, Load(p + 48));
    p += 64;
    left -= 64;
  }
  const __m128i k1 = Constants(kFold1);
  x1 = Fold(x1, k1, x2);
  x1 = Fold(x1, k1, x3);
  x1 = Fold(x1, k1, x4);
  *data = p;
  *n = left;
  return x1;
}

// Reduces the folded 128 bits to the 32-bit CRC state: 128 -> 64 bits, then Barrett.
__attribute__((always_inline)) inline uint32_t Reduce(__m128i x1) {
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  __m128i x2 = _mm_clmulepi64_si128(x1, Constants(kFold1), 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
  const __m128i k64 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kFold64));
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask32);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k64, 0x00), x2);

  const __m128i barrett = Constants(kBarrett);
  x2 = _mm_and_si128(x1, mask32);
  x2 = _mm_clmulepi64_si128(x2, barrett, 0x10);
  x2 = _mm_and_si128(x2, mask32);
  x2 = _mm_clmulepi64_si128(x2, barrett, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  return static_cast<uint32_t>(_mm_extract_epi32(x1, 1));
}

// pshufb indices: the 16 bytes from kShiftRight + 16 - pad move a vector's bytes up by
// `pad` places, zeros coming in below.
alignas(16) const int8_t kShiftRight[32] = {
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,   15};
// blendv masks: the 16 bytes from kAbove + 15 - pad select bytes pad + 1 .. 15.
alignas(16) const int8_t kAbove[32] = {0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
                                       0,  0,  0,  0,  0,  -1, -1, -1, -1, -1, -1,
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

// Tail blocks from which Crc32Fold17AndTailPclmul folds four lanes at a time.
constexpr size_t kFourLanesFrom = 16;

__attribute__((always_inline)) inline __m128i Window(const int8_t* table, size_t at) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(table + at));
}

}  // namespace

// The message is the 17 bytes at `head`, then the n bytes at `tail`, behind pad = 15 -
// n % 16 zero bytes (so that it ends on a 16-byte boundary; `state` is the running state
// those zeros turn into the empty CRC's). Its first two 16-byte blocks are assembled in
// registers from loads of the head and of the bytes before the tail; the rest are the
// tail's own bytes, loaded in place. Reads only [head, head + 32 - pad) and [tail - 1 -
// pad, tail + n), which the caller guarantees readable.
__attribute__((always_inline)) inline uint32_t Fold17AndTail(uint32_t state, const char* head,
                                                             const char* tail, size_t n) {
  const size_t a = n % 16;  // tail bytes in the second block
  const size_t pad = 15 - a;
  // Block 0: pad zeros, then head[0, 16 - pad).
  __m128i x1 = _mm_shuffle_epi8(Load(head), Window(kShiftRight, 16 - pad));
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128(static_cast<int>(state)));
  // Block 1: head[16 - pad, 17) in bytes 0..pad, tail[0, a) in bytes pad + 1..15.
  __m128i x2 =
      _mm_blendv_epi8(Load(head + 16 - pad), Load(tail - 1 - pad), Window(kAbove, 15 - pad));
  const char* p = tail + a;
  size_t blocks = n / 16;  // of the tail, in place
  const __m128i k1 = Constants(kFold1);
  // Four lanes only pay for their merge on longer tails; a frame of one small entry is
  // folded one block at a time (consecutive frames' folds still overlap in the CPU).
  if (blocks >= kFourLanesFrom) {
    __m128i x3 = Load(p);
    __m128i x4 = Load(p + 16);
    p += 32;
    blocks -= 2;
    const __m128i k4 = Constants(kFold4);
    while (blocks >= 4) {
      x1 = Fold(x1, k4, Load(p));
      x2 = Fold(x2, k4, Load(p + 16));
      x3 = Fold(x3, k4, Load(p + 32));
      x4 = Fold(x4, k4, Load(p + 48));
      p += 64;
      blocks -= 4;
    }
    x1 = Fold(x1, k1, x2);
    x1 = Fold(x1, k1, x3);
    x1 = Fold(x1, k1, x4);
  } else {
    x1 = Fold(x1, k1, x2);
  }
  for (; blocks >= 2; blocks -= 2, p += 32) x1 = Fold(Fold(x1, k1, Load(p)), k1, Load(p + 16));
  if (blocks > 0) x1 = Fold(x1, k1, Load(p));
  return Reduce(x1);
}

uint32_t Crc32Fold17AndTailPclmul(uint32_t state, const char* head, const char* tail, size_t n) {
  return Fold17AndTail(state, head, tail, n);
}

// The same code with VEX encodings (three-operand: no register copies before each
// destructive SSE operation, about a quarter fewer instructions); only called when the CPU
// and the OS support AVX.
__attribute__((target("avx,pclmul,sse4.1"))) uint32_t Crc32Fold17AndTailAvx(uint32_t state,
                                                                            const char* head,
                                                                            const char* tail,
                                                                            size_t n) {
  return Fold17AndTail(state, head, tail, n);
}

// Four items whose tails have the same length n, below four-lane length (a run of frames
// of equal-size records: the common case in a scan), folded side by side: Fold17AndTail's
// one-lane steps for each, interleaved, so that the CPU overlaps four independent chains
// of carry-less multiplications instead of waiting on one. Sets crc[j] to item j's state
// (not yet inverted). Reads what Fold17AndTail reads for each item.
__attribute__((always_inline)) inline void Fold17AndTailFour(const uint32_t* zero_prefix_states,
                                                             const Crc32Of17AndTailItem* it,
                                                             uint32_t* crc) {
  const size_t n = it[0].n;
  const size_t a = n % 16;
  const size_t pad = 15 - a;
  const __m128i shift = Window(kShiftRight, 16 - pad);
  const __m128i above = Window(kAbove, 15 - pad);
  const __m128i state = _mm_cvtsi32_si128(static_cast<int>(zero_prefix_states[pad]));
  const __m128i k1 = Constants(kFold1);
  // Blocks 0 and 1 of each (as in Fold17AndTail), folded together.
#define IRONWAL_FIRST_TWO_BLOCKS(j)                                         \
  Fold(_mm_xor_si128(_mm_shuffle_epi8(Load(it[j].head), shift), state), k1, \
       _mm_blendv_epi8(Load(it[j].head + 16 - pad), Load(it[j].tail - 1 - pad), above))
  __m128i x0 = IRONWAL_FIRST_TWO_BLOCKS(0);
  __m128i x1 = IRONWAL_FIRST_TWO_BLOCKS(1);
  __m128i x2 = IRONWAL_FIRST_TWO_BLOCKS(2);
  __m128i x3 = IRONWAL_FIRST_TWO_BLOCKS(3);
#undef IRONWAL_FIRST_TWO_BLOCKS
  // Then the tails' own blocks, in place.
  const char* p0 = it[0].tail + a;
  const char* p1 = it[1].tail + a;
  const char* p2 = it[2].tail + a;
  const char* p3 = it[3].tail + a;
  for (size_t at = 0; at < n - a; at += 16) {
    x0 = Fold(x0, k1, Load(p0 + at));
    x1 = Fold(x1, k1, Load(p1 + at));
    x2 = Fold(x2, k1, Load(p2 + at));
    x3 = Fold(x3, k1, Load(p3 + at));
  }
  crc[0] = Reduce(x0);
  crc[1] = Reduce(x1);
  crc[2] = Reduce(x2);
  crc[3] = Reduce(x3);
}

// Whether items[0, 4) can go through Fold17AndTailFour.
__attribute__((always_inline)) inline bool FourAlike(const Crc32Of17AndTailItem* items) {
  const size_t n = items[0].n;
  return n / 16 < kFourLanesFrom && items[1].n == n && items[2].n == n && items[3].n == n;
}

// The batch of Crc32Of17AndTailMatching (crc32.h); zero_prefix_states[k] is the state k
// zero bytes turn into the empty CRC's.
__attribute__((always_inline)) inline size_t Matching(const uint32_t* zero_prefix_states,
                                                      const Crc32Of17AndTailItem* items,
                                                      size_t count) {
  size_t i = 0;
  while (i < count) {
    if (count - i >= 4 && FourAlike(items + i)) {
      uint32_t crc[4];
      Fold17AndTailFour(zero_prefix_states, items + i, crc);
      for (size_t j = 0; j < 4; ++j) {
        if (~crc[j] != items[i + j].expected) return i + j;
      }
      i += 4;
      continue;
    }
    const Crc32Of17AndTailItem& item = items[i];
    const uint32_t state = zero_prefix_states[15 - item.n % 16];
    if (~Fold17AndTail(state, item.head, item.tail, item.n) != item.expected) return i;
    ++i;
  }
  return count;
}

size_t Crc32Of17AndTailMatchingPclmul(const uint32_t* zero_prefix_states,
                                      const Crc32Of17AndTailItem* items, size_t count) {
  return Matching(zero_prefix_states, items, count);
}

__attribute__((target("avx,pclmul,sse4.1"))) size_t Crc32Of17AndTailMatchingAvx(
    const uint32_t* zero_prefix_states, const Crc32Of17AndTailItem* items, size_t count) {
  return Matching(zero_prefix_states, items, count);
}

// `state` is the inverted running CRC; n is a multiple of 16 and at least 16.
uint32_t Crc32FoldPclmul(uint32_t state, const char* data, size_t n) {
  __m128i x1 = _mm_xor_si128(Load(data), _mm_cvtsi32_si128(static_cast<int>(state)));
  if (n >= 64) {
    x1 = FoldFourLanes(x1, &data, &n);
  } else {
    data += 16;
    n -= 16;
  }
  const __m128i k1 = Constants(kFold1);
  while (n >= 16) {
    x1 = Fold(x1, k1, Load(data));
    data += 16;
    n -= 16;
  }
  return Reduce(x1);
}

}  // namespace internal
}  // namespace ironwal
