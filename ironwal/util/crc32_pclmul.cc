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

namespace ironwal {
namespace internal {

uint32_t Crc32FoldPclmul(uint32_t state, const char* data, size_t n);

namespace {

alignas(16) const uint64_t kFold4[2] = {0x0154442bd4, 0x01c6e41596};
alignas(16) const uint64_t kFold1[2] = {0x01751997d0, 0x00ccaa009e};
alignas(16) const uint64_t kFold64[2] = {0x0163cd6124, 0x0000000000};
alignas(16) const uint64_t kBarrett[2] = {0x01db710641, 0x01f7011641};

inline __m128i Load(const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

inline __m128i Constants(const uint64_t* k) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(k));
}

// acc folded forward by the distance `k` encodes, xor `next`.
inline __m128i Fold(__m128i acc, __m128i k, __m128i next) {
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
uint32_t Reduce(__m128i x1) {
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

}  // namespace

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
