// Decodes every byte of every ironwal 0.6.3 fixture with the format layer alone and checks
// it against the manifest: each frame's offset, IDs, codec, sizes and CRC, the entries,
// segments.idx and head.state. This pins the format to what the Rust crate writes.
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/status_matchers.h"

namespace ironwal {

namespace format = internal::format;
using internal::DecodedPayload;
using internal::DecodeFrameHeader;
using internal::DecodeHeadState;
using internal::DecodePayload;
using internal::DecodeSegmentIndex;
using internal::EncodeHeadState;
using internal::EncodeSegmentIndex;
using internal::FrameHeader;
using internal::SegmentFileName;
using internal::StreamDirName;
using internal::VerifyFramePayload;

namespace {

using ::ironwal::testing::Fixture;
using ::ironwal::testing::FixtureNames;
using ::ironwal::testing::LoadFixture;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class FixtureFormatTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureFormatTest, EveryFrameDecodesAsTheManifestSays) {
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(GetParam()));
  int frames_checked = 0;
  for (const auto& [key, stream] : fixture.streams) {
    SCOPED_TRACE("stream " + key);
    ASSERT_OK_AND_ASSIGN(const std::string dir, StreamDirName(key));
    EXPECT_EQ(dir, stream.dir);
    const std::string stream_dir = fixture.root + "/" + dir;
    for (const auto& segment : stream.segments) {
      SCOPED_TRACE(segment.file);
      EXPECT_EQ(SegmentFileName(segment.start_id), segment.file);
      const std::string bytes = Slurp(stream_dir + "/" + segment.file);
      ASSERT_EQ(bytes.size(), segment.size);
      uint64_t offset = 0;
      for (const auto& expected : segment.frames) {
        ASSERT_EQ(offset, expected.offset);
        ASSERT_OK_AND_ASSIGN(const FrameHeader h,
                             DecodeFrameHeader(absl::string_view(bytes).substr(offset)));
        EXPECT_EQ(h.start_id, expected.start_id);
        EXPECT_EQ(h.entry_count, expected.count);
        EXPECT_EQ(static_cast<int>(h.codec), expected.type);
        EXPECT_EQ(h.disk_size, expected.disk_size);
        EXPECT_EQ(h.uncompressed_size, expected.uncompressed_size);
        EXPECT_EQ(h.crc, expected.crc32);
        const absl::string_view payload =
            absl::string_view(bytes).substr(offset + format::kFrameHeaderSize, h.disk_size);
        ASSERT_OK(VerifyFramePayload(h, payload));
        ASSERT_OK_AND_ASSIGN(const DecodedPayload decoded, DecodePayload(h, payload));
        for (uint64_t i = 0; i < h.entry_count; ++i) {
          const uint64_t id = h.start_id + i;
          auto it = stream.entries.find(id);
          ASSERT_NE(it, stream.entries.end()) << "id " << id;
          EXPECT_EQ(decoded.entries()[i], it->second) << "id " << id;
        }
        offset += h.frame_size();
        ++frames_checked;
      }
      EXPECT_EQ(offset, bytes.size()) << "bytes after the last frame";
    }

    const std::string idx = Slurp(stream_dir + "/" + format::kSegmentIndexFileName);
    ASSERT_OK_AND_ASSIGN(const std::vector<uint64_t> ids, DecodeSegmentIndex(idx));
    EXPECT_EQ(ids, stream.segments_idx);
    EXPECT_EQ(EncodeSegmentIndex(stream.segments_idx), idx);
    if (stream.head_active_segment.has_value()) {
      const std::string head = Slurp(stream_dir + "/" + format::kHeadStateFileName);
      ASSERT_OK_AND_ASSIGN(const uint64_t active, DecodeHeadState(head));
      EXPECT_EQ(SegmentFileName(active), *stream.head_active_segment);
      EXPECT_EQ(EncodeHeadState(active), head);
    }
  }
  EXPECT_GT(frames_checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureFormatTest, ::testing::ValuesIn(FixtureNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ironwal
