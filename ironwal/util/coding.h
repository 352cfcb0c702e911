// File: ironwal/util/coding.h
//
// Little-endian fixed-width integer coding. Every multi-byte integer ironwal puts on disk is
// little-endian and unaligned (a frame header's disk_size sits at offset 21), so it is read
// and written byte-wise here and nowhere else. Compilers turn these into single loads and
// stores on little-endian machines.
#ifndef IRONWAL_UTIL_CODING_H_
#define IRONWAL_UTIL_CODING_H_

#include <cstdint>
#include <string>

namespace ironwal {
namespace internal {

inline void EncodeFixed32(char* dst, uint32_t value) {
  uint8_t* const p = reinterpret_cast<uint8_t*>(dst);
  p[0] = static_cast<uint8_t>(value);
  p[1] = static_cast<uint8_t>(value >> 8);
  p[2] = static_cast<uint8_t>(value >> 16);
  p[3] = static_cast<uint8_t>(value >> 24);
}

inline void EncodeFixed64(char* dst, uint64_t value) {
  EncodeFixed32(dst, static_cast<uint32_t>(value));
  EncodeFixed32(dst + 4, static_cast<uint32_t>(value >> 32));
}

inline uint32_t DecodeFixed32(const char* src) {
  const uint8_t* const p = reinterpret_cast<const uint8_t*>(src);
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline uint64_t DecodeFixed64(const char* src) {
  return static_cast<uint64_t>(DecodeFixed32(src)) |
         (static_cast<uint64_t>(DecodeFixed32(src + 4)) << 32);
}

inline void PutFixed32(std::string* dst, uint32_t value) {
  char buf[4];
  EncodeFixed32(buf, value);
  dst->append(buf, sizeof(buf));
}

inline void PutFixed64(std::string* dst, uint64_t value) {
  char buf[8];
  EncodeFixed64(buf, value);
  dst->append(buf, sizeof(buf));
}

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_UTIL_CODING_H_
