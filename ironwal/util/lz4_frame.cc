#include "ironwal/util/lz4_frame.h"

#include <lz4frame.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace ironwal {
namespace internal {
namespace {

LZ4F_preferences_t Preferences() {
  LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = 0;
  return prefs;
}

// An LZ4 frame decodes to at most this many bytes per input byte (255, rounded up).
constexpr size_t kMaxExpansion = 256;

struct DctxDeleter {
  void operator()(LZ4F_dctx* dctx) const { LZ4F_freeDecompressionContext(dctx); }
};

}  // namespace

absl::StatusOr<std::string> Lz4FrameCompress(absl::string_view input) {
  const LZ4F_preferences_t prefs = Preferences();
  std::string out(LZ4F_compressFrameBound(input.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(&out[0], out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(n)) {
    return absl::InternalError(
        absl::StrCat("lz4 compress of ", input.size(), " bytes: ", LZ4F_getErrorName(n)));
  }
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> Lz4FrameDecompress(absl::string_view input, size_t expected_size) {
  LZ4F_dctx* raw = nullptr;
  const size_t created = LZ4F_createDecompressionContext(&raw, LZ4F_VERSION);
  if (LZ4F_isError(created)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("lz4 decompress: ", LZ4F_getErrorName(created)));
  }
  std::unique_ptr<LZ4F_dctx, DctxDeleter> dctx(raw);

  // expected_size comes from a header field the frame's CRC does not cover: a flipped bit
  // must not make this allocate gigabytes. LZ4 expands at most 255-fold (a match's length
  // grows by 255 per input byte), plus the frame's fixed overheads.
  if (expected_size / kMaxExpansion > input.size()) {
    return absl::DataLossError(absl::StrCat("lz4 payload of ", input.size(),
                                            " bytes cannot decode to the ", expected_size,
                                            " bytes its header declares"));
  }
  std::string out(expected_size, '\0');
  size_t in_pos = 0;
  size_t out_pos = 0;
  size_t hint = 1;
  // Each call consumes some input and writes at most the remaining output space; the loop
  // ends when the frame is complete (hint 0), the input is exhausted, or no progress is made.
  while (hint != 0 && in_pos < input.size()) {
    size_t src_size = input.size() - in_pos;
    // One spare byte of room lets an oversized stream show itself instead of stalling.
    char spare;
    const bool full = out_pos == out.size();
    size_t dst_size = full ? 1 : out.size() - out_pos;
    char* dst = full ? &spare : &out[out_pos];
    hint = LZ4F_decompress(dctx.get(), dst, &dst_size, input.data() + in_pos, &src_size,
                           /*dOptPtr=*/nullptr);
    if (LZ4F_isError(hint)) {
      return absl::DataLossError(
          absl::StrCat("lz4 decompress at input byte ", in_pos, ": ", LZ4F_getErrorName(hint)));
    }
    if (full && dst_size > 0) {
      return absl::DataLossError(absl::StrCat("lz4 payload decodes to more than the ",
                                              expected_size, " bytes its header declares"));
    }
    if (src_size == 0 && dst_size == 0) break;
    in_pos += src_size;
    out_pos += dst_size;
  }
  if (hint != 0) {
    return absl::DataLossError(
        absl::StrCat("lz4 payload of ", input.size(), " bytes ends inside its frame"));
  }
  if (in_pos != input.size()) {
    return absl::DataLossError(absl::StrCat("lz4 payload has ", input.size() - in_pos,
                                            " bytes after the end of its frame"));
  }
  if (out_pos != expected_size) {
    return absl::DataLossError(absl::StrCat("lz4 payload decodes to ", out_pos,
                                            " bytes, its header declares ", expected_size));
  }
  return out;
}

}  // namespace internal
}  // namespace ironwal
