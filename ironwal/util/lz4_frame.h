// File: ironwal/util/lz4_frame.h
//
// LZ4 *frame* format (liblz4's LZ4F API, magic 04 22 4D 18) for frame payloads with codec 1,
// as ironwal 0.6 writes them. Compression uses the parameters seen in 0.6's files:
// independent 64 KiB blocks, no checksums, no content size (FLG 0x60, BD 0x40). Any
// conforming decoder reads them; byte-identical compressed output is not needed for
// compatibility.
//
// Decompression never trusts sizes from disk: the output is bounded by `expected_size`
// (the frame header's uncompressed_size, which the frame's CRC does not cover) before
// anything is allocated, an `expected_size` more than 256 times the input (more than LZ4
// can expand) is DataLoss before anything is allocated, and a stream that decodes to a
// different length is DataLoss.
#ifndef IRONWAL_UTIL_LZ4_FRAME_H_
#define IRONWAL_UTIL_LZ4_FRAME_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace internal {

// Compresses `input` into one LZ4 frame.
absl::StatusOr<std::string> Lz4FrameCompress(absl::string_view input);

// Decompresses the single LZ4 frame `input`, which must decode to exactly `expected_size`
// bytes. DataLoss for a malformed frame, trailing bytes, a different size, or a size no
// frame of that length can decode to.
absl::StatusOr<std::string> Lz4FrameDecompress(absl::string_view input, size_t expected_size);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_UTIL_LZ4_FRAME_H_
