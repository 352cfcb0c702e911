// Helpers for segment-layer tests: build segment bytes frame by frame and open a file for
// reading (write the bytes with //ironwal/testing:test_util's file_surgery.h).
#ifndef IRONWAL_TESTS_SEGMENT_SEGMENT_TEST_UTIL_H_
#define IRONWAL_TESTS_SEGMENT_SEGMENT_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/frame.h"

namespace ironwal {
namespace testing {

// Appends a raw frame of `entries` starting at `start` to *bytes; returns its offset.
inline uint64_t AddFrame(std::string* bytes, uint64_t start,
                         std::vector<absl::string_view> entries) {
  const uint64_t offset = bytes->size();
  EXPECT_TRUE(
      ironwal::internal::AppendFrame(start, entries, ironwal::internal::FrameEncodeOptions(), bytes)
          .ok());
  return offset;
}

// `count` one-entry frames "e<id>" from `start`.
inline std::string Frames(uint64_t start, int count) {
  std::string bytes;
  for (int i = 0; i < count; ++i) {
    const std::string e = "e" + std::to_string(start + i);
    AddFrame(&bytes, start + i, {e});
  }
  return bytes;
}

// Appends a one-entry frame "e<start>" stamped as written when the segment had been
// synced up to byte `synced` (<= its offset), for the stream tagged `tag`; returns its
// offset.
inline uint64_t AddStampedFrame(std::string* bytes, uint64_t start, uint64_t synced, uint8_t tag) {
  const uint64_t offset = bytes->size();
  ironwal::internal::FrameStamp stamp;
  stamp.frontier_distance = offset - synced;
  stamp.stream_tag = tag;
  const std::string e = "e" + std::to_string(start);
  EXPECT_TRUE(ironwal::internal::AppendFrame(start, {e}, ironwal::internal::FrameEncodeOptions(),
                                             stamp, bytes)
                  .ok());
  return offset;
}

inline std::unique_ptr<RandomAccessFile> OpenRead(Env* env, const std::string& path,
                                                  bool mmap = false) {
  RandomAccessFileOptions options;
  options.use_mmap = mmap;
  auto file = env->NewRandomAccessFile(path, options);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : nullptr;
}

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTS_SEGMENT_SEGMENT_TEST_UTIL_H_
