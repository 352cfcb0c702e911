// File: ironwal/testing/frame_stamps.h
//
// Comparing this library's segment bytes with ironwal 0.6's: every frame header's bytes
// 29..31 hold this library's frame stamp (FORMAT.md) where 0.6 writes zeros. testonly.
#ifndef IRONWAL_TESTING_FRAME_STAMPS_H_
#define IRONWAL_TESTING_FRAME_STAMPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ironwal {
namespace testing {

// `segment` with each frame's reserved bytes zeroed, as ironwal 0.6 writes them. Adds a
// line to `*problems` for each frame whose stamp does not pass for the stream tagged
// `tag` (format::StreamTag of its directory name), and for bytes that do not decode as
// frames (the rest is then returned as it is).
std::string WithoutFrameStamps(absl::string_view segment, uint8_t tag,
                               std::vector<std::string>* problems);

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_FRAME_STAMPS_H_
