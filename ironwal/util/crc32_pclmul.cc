// CRC-32 (zlib polynomial) by folding 128-bit lanes with carry-less multiplication, after
// Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" (Intel,
// 2009), in its bit-reflected form. The constants are x^k mod P(x) for the fold distances
// (512+64 / 512, 128+64 / 128 bits, 64 bits), then the Barrett reduction's P(x) and
// mu = floor(x^64 / P(x)), all bit-reflected. Compiled with -mpclmul -msse4.1 and only
// called when the CPU reports both (see crc32.cc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace ironwal {
namespace internal {

uint32_t Crc32FoldPclmul(uint32_t state, const char* data, size_t n);

uint32_t Crc32FoldPclmul(uint32_t state, const char* data, size_t n) {
  alignas(16) static const uint64_t kFold4[2] = {0x0154442bd4, 0x01c6e41596};
  alignas(16) static const uint64_t kFold1[2] = {0x01751997d0, 0x00ccaa009e};
  alignas(16) static const uint64_t kFold64[2] = {0x0163cd6124, 0x0000000000};
  alignas(16) static const uint64_t kBarrett[2] = {0x01db710641, 0x01f7011641};
  const auto load = [](const char* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  };

  // Four lanes of 16 bytes; the running CRC enters through the first lane.
  __m128i x1 = _mm_xor_si128(load(data), _mm_cvtsi32_si128(static_cast<int>(state)));
  __m128i x2 = load(data + 16);
  __m128i x3 = load(data + 32);
  __m128i x4 = load(data + 48);
  data += 64;
  n -= 64;

  __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kFold4));
  while (n >= 64) {
    const __m128i lo1 = _mm_clmulepi64_si128(x1, k, 0x00);
    const __m128i lo2 = _mm_clmulepi64_si128(x2, k, 0x00);
    const __m128i lo3 = _mm_clmulepi64_si128(x3, k, 0x00);
    const __m128i lo4 = _mm_clmulepi64_si128(x4, k, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k, 0x11), lo1), load(data));
    x2 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x2, k, 0x11), lo2), load(data + 16));
    x3 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x3, k, 0x11), lo3), load(data + 32));
    x4 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x4, k, 0x11), lo4), load(data + 48));
    data += 64;
    n -= 64;
  }

  // Fold the four lanes into one, then any remaining 16-byte blocks.
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(kFold1));
  const auto fold_into = [&k](__m128i acc, __m128i next) {
    const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
    const __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(hi, lo), next);
  };
  x1 = fold_into(x1, x2);
  x1 = fold_into(x1, x3);
  x1 = fold_into(x1, x4);
  while (n >= 16) {
    x1 = fold_into(x1, load(data));
    data += 16;
    n -= 16;
  }

  // 128 -> 64 bits.
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x2 = _mm_clmulepi64_si128(x1, k, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
  k = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kFold64));
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask32);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k, 0x00), x2);

  // Barrett reduction to 32 bits.
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(kBarrett));
  x2 = _mm_and_si128(x1, mask32);
  x2 = _mm_clmulepi64_si128(x2, k, 0x10);
  x2 = _mm_and_si128(x2, mask32);
  x2 = _mm_clmulepi64_si128(x2, k, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  return static_cast<uint32_t>(_mm_extract_epi32(x1, 1));
}

}  // namespace internal
}  // namespace ironwal
