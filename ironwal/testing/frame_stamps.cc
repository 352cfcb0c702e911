#include "ironwal/testing/frame_stamps.h"

#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"

namespace ironwal {
namespace testing {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::DecodeFrameHeader;
using ::ironwal::internal::FrameHeader;
using ::ironwal::internal::ReadFrameStamp;
using ::ironwal::internal::StampReading;

std::string WithoutFrameStamps(absl::string_view segment, uint8_t tag,
                               std::vector<std::string>* problems) {
  std::string bytes(segment);
  for (uint64_t offset = 0; offset < bytes.size();) {
    absl::StatusOr<FrameHeader> h = DecodeFrameHeader(absl::string_view(bytes).substr(offset));
    if (!h.ok()) {
      problems->push_back(absl::StrCat("@", offset, ": ", h.status().ToString()));
      break;
    }
    if (ReadFrameStamp(*h, tag).kind != StampReading::Kind::kThisStream) {
      problems->push_back(absl::StrCat("@", offset, ": the stamp does not pass for tag ", tag));
    }
    std::fill_n(&bytes[offset + format::kReservedOffset], format::kReservedSize, '\0');
    offset += h->frame_size();
  }
  return bytes;
}

}  // namespace testing
}  // namespace ironwal
