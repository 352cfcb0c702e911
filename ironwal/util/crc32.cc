#include "ironwal/util/crc32.h"

#include <array>
#include <cstring>

#include "ironwal/util/coding.h"

namespace ironwal {
namespace internal {

namespace {

constexpr uint32_t kReflectedPolynomial = 0xEDB88320u;

// kTables[k][b]: the CRC state change of byte b followed by k zero bytes.
using Crc32Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Crc32Tables MakeTables() {
  Crc32Tables tables{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1u) ? kReflectedPolynomial : 0u);
    }
    tables[0][b] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xFFu];
    }
  }
  return tables;
}

constexpr Crc32Tables kTables = MakeTables();

uint32_t UpdatePortable(uint32_t state, const uint8_t* p, size_t n) {
  while (n >= 8) {
    const uint32_t lo = DecodeFixed32(reinterpret_cast<const char*>(p)) ^ state;
    const uint32_t hi = DecodeFixed32(reinterpret_cast<const char*>(p + 4));
    state = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
            kTables[4][lo >> 24] ^ kTables[3][hi & 0xFF] ^ kTables[2][(hi >> 8) & 0xFF] ^
            kTables[1][(hi >> 16) & 0xFF] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  if (n >= 4) {  // the same step for four bytes (short inputs: stamps, names, tails)
    const uint32_t v = DecodeFixed32(reinterpret_cast<const char*>(p)) ^ state;
    state = kTables[3][v & 0xFF] ^ kTables[2][(v >> 8) & 0xFF] ^ kTables[1][(v >> 16) & 0xFF] ^
            kTables[0][v >> 24];
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    state = (state >> 8) ^ kTables[0][(state ^ *p) & 0xFF];
    ++p;
    --n;
  }
  return state;
}

// kZeroPrefixStates[k]: the running state that k zero bytes turn into ~0, the state of a
// CRC over no data. One zero byte maps state s to (s >> 8) ^ T[s & 0xFF]; the top bytes of
// T's entries are all different, so the step is undone by finding the entry whose top byte
// the new state has.
using ZeroPrefixStates = std::array<uint32_t, 16>;

constexpr ZeroPrefixStates MakeZeroPrefixStates() {
  ZeroPrefixStates states{};
  uint32_t state = ~0u;
  for (size_t k = 0; k < states.size(); ++k) {
    states[k] = state;
    uint32_t b = 0;
    while ((kTables[0][b] >> 24) != (state >> 24)) ++b;
    state = ((state ^ kTables[0][b]) << 8) | b;
  }
  return states;
}

constexpr ZeroPrefixStates kZeroPrefixStates = MakeZeroPrefixStates();

bool DetectPclmul() {
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  __builtin_cpu_init();
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#else
  return false;
#endif
}

const bool kUsePclmul = DetectPclmul();

bool DetectAvx() {
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  __builtin_cpu_init();
  return kUsePclmul && __builtin_cpu_supports("avx");  // checks the OS saves AVX state too
#else
  return false;
#endif
}

const bool kUseAvx = DetectAvx();

}  // namespace

uint32_t Crc32ExtendPortable(uint32_t crc, const char* data, size_t n) {
  return ~UpdatePortable(~crc, reinterpret_cast<const uint8_t*>(data), n);
}

bool Crc32UsesPclmul() { return kUsePclmul; }

uint32_t Crc32OfZeroPadded(const char* data, size_t n, size_t pad) {
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  if (n >= 32 && n % 16 == 0 && pad < 16 && kUsePclmul) {
    return ~Crc32FoldPclmul(kZeroPrefixStates[pad], data, n);
  }
#endif
  return Crc32Extend(0, data + pad, n - pad);
}

uint32_t Crc32Of17AndTail(const char* head, const char* tail, size_t n) {
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  if (kUseAvx) return ~Crc32Fold17AndTailAvx(kZeroPrefixStates[15 - n % 16], head, tail, n);
  if (kUsePclmul) return ~Crc32Fold17AndTailPclmul(kZeroPrefixStates[15 - n % 16], head, tail, n);
#endif
  return Crc32Extend(Crc32Extend(0, head, 17), tail, n);
}

namespace {

// Whether this CPU (and build) can run `impl`.
bool CanRun(Crc32Impl impl) {
  switch (impl) {
    case Crc32Impl::kPortable:
      return true;
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
    case Crc32Impl::kPclmul:
      return kUsePclmul;
    case Crc32Impl::kAvx:
      return kUseAvx;
#endif
    default:
      return false;
  }
}

}  // namespace

bool Crc32Of17AndTailBy(Crc32Impl impl, const char* head, const char* tail, size_t n,
                        uint32_t* crc) {
  if (!CanRun(impl)) return false;
  if (impl == Crc32Impl::kPortable) {
    *crc = Crc32ExtendPortable(Crc32ExtendPortable(0, head, 17), tail, n);
    return true;
  }
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  const uint32_t state = kZeroPrefixStates[15 - n % 16];
  *crc = ~(impl == Crc32Impl::kAvx ? Crc32Fold17AndTailAvx(state, head, tail, n)
                                   : Crc32Fold17AndTailPclmul(state, head, tail, n));
#endif
  return true;
}

bool Crc32Of17AndTailMatchingBy(Crc32Impl impl, const Crc32Of17AndTailItem* items, size_t count,
                                size_t* matching) {
  if (!CanRun(impl)) return false;
  if (impl == Crc32Impl::kPortable) {
    size_t i = 0;
    uint32_t crc = 0;
    while (i < count && Crc32Of17AndTailBy(impl, items[i].head, items[i].tail, items[i].n, &crc) &&
           crc == items[i].expected) {
      ++i;
    }
    *matching = i;
    return true;
  }
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  *matching = impl == Crc32Impl::kAvx
                  ? Crc32Of17AndTailMatchingAvx(kZeroPrefixStates.data(), items, count)
                  : Crc32Of17AndTailMatchingPclmul(kZeroPrefixStates.data(), items, count);
#endif
  return true;
}

size_t Crc32Of17AndTailMatching(const Crc32Of17AndTailItem* items, size_t count) {
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  if (kUseAvx) return Crc32Of17AndTailMatchingAvx(kZeroPrefixStates.data(), items, count);
  if (kUsePclmul) return Crc32Of17AndTailMatchingPclmul(kZeroPrefixStates.data(), items, count);
#endif
  for (size_t i = 0; i < count; ++i) {
    if (Crc32Of17AndTail(items[i].head, items[i].tail, items[i].n) != items[i].expected) return i;
  }
  return count;
}

}  // namespace internal

uint32_t Crc32Extend(uint32_t crc, const char* data, size_t n) {
  uint32_t state = ~crc;
#if defined(__x86_64__) && defined(IRONWAL_HAVE_PCLMUL)
  // Below 32 bytes the table is faster than the fold's fixed reduction cost.
  if (n >= 32 && internal::kUsePclmul) {
    const size_t folded = n & ~static_cast<size_t>(15);
    state = internal::Crc32FoldPclmul(state, data, folded);
    data += folded;
    n -= folded;
  }
#endif
  return ~internal::UpdatePortable(state, reinterpret_cast<const uint8_t*>(data), n);
}

}  // namespace ironwal
