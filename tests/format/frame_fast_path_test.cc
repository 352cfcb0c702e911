// The read path's fast variants in frame.h (TryDecodeFrameHeader, FramePayloadMatches,
// SingleEntry, TryRawEntryAt, the one-pass ComputeFrameCrc) give exactly what the checked variants
// give, on good frames and on frames with one byte changed anywhere.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace internal {
namespace {

// The frame CRC by its definition: the 17 covered header bytes, then the payload, as two
// separate CRC passes.
uint32_t ReferenceFrameCrc(const std::string& frame) {
  const uint32_t covered = Crc32(absl::string_view(frame).substr(
      format::kCrcCoveredBegin, format::kCrcCoveredEnd - format::kCrcCoveredBegin));
  return Crc32Extend(covered, absl::string_view(frame).substr(format::kFrameHeaderSize));
}

// The one-pass CRC agrees with the definition on both sides of kFrameCrcOnePassMax.
TEST(FrameFastPathTest, ComputeFrameCrcMatchesTheTwoPassDefinition) {
  Random rng(11);
  for (size_t size = 0; size <= kFrameCrcOnePassMax + 40; ++size) {
    const std::string entry = rng.Bytes(size);
    std::string frame;
    ASSERT_TRUE(AppendFrame(size, {entry}, FrameEncodeOptions(), &frame).ok());
    const absl::StatusOr<FrameHeader> header = DecodeFrameHeader(frame);
    ASSERT_TRUE(header.ok());
    const absl::string_view payload = absl::string_view(frame).substr(format::kFrameHeaderSize);
    EXPECT_EQ(ComputeFrameCrc(*header, payload), ReferenceFrameCrc(frame)) << size;
    EXPECT_EQ(header->crc, ReferenceFrameCrc(frame)) << size;
  }
}

// Every single-byte change of a frame: the fast checks accept exactly what the checked
// ones accept, and decode the same header and entry.
TEST(FrameFastPathTest, FastChecksAgreeWithCheckedOnesUnderEveryByteChange) {
  const uint32_t seed = 23;
  Random rng(seed);
  std::vector<std::string> frames;
  for (size_t size : {0, 1, 7, 128, 500}) {
    std::string frame;
    ASSERT_TRUE(AppendFrame(100, {rng.Bytes(size)}, FrameEncodeOptions(), &frame).ok());
    frames.push_back(frame);
  }
  std::string batch;
  ASSERT_TRUE(AppendFrame(7, {"a", "", "ccc"}, FrameEncodeOptions(), &batch).ok());
  frames.push_back(batch);
  FrameEncodeOptions lz4;
  lz4.lz4 = true;
  lz4.min_compression_size = 0;
  std::string compressed;
  ASSERT_TRUE(AppendFrame(9, {std::string(3000, 'z')}, lz4, &compressed).ok());
  frames.push_back(compressed);
  int accepted_bad = 0;
  for (const std::string& original : frames) {
    for (size_t at = 0; at < original.size(); ++at) {
      std::string frame = original;
      frame[at] = static_cast<char>(frame[at] ^ (1 + rng.Uniform(255)));
      const absl::StatusOr<FrameHeader> checked = DecodeFrameHeader(frame);
      FrameHeader fast;
      ASSERT_EQ(TryDecodeFrameHeader(frame.data(), &fast), checked.ok())
          << "seed " << seed << " byte " << at;
      if (!checked.ok()) continue;
      EXPECT_EQ(fast.crc, checked->crc);
      EXPECT_EQ(fast.start_id, checked->start_id);
      EXPECT_EQ(fast.entry_count, checked->entry_count);
      EXPECT_EQ(fast.codec, checked->codec);
      EXPECT_EQ(fast.disk_size, checked->disk_size);
      EXPECT_EQ(fast.uncompressed_size, checked->uncompressed_size);
      EXPECT_EQ(fast.reserved, checked->reserved);
      absl::string_view payload = absl::string_view(frame).substr(format::kFrameHeaderSize);
      if (payload.size() > fast.disk_size) payload = payload.substr(0, fast.disk_size);
      const bool matches = FramePayloadMatches(fast, payload);
      ASSERT_EQ(matches, VerifyFramePayload(fast, payload).ok()) << "byte " << at;
      // The stored CRC (bytes 4-7), the covered bytes (8-24) and the payload: a change
      // there that still decodes must fail the CRC. Sizes and reserved bytes may pass.
      const bool covered = at >= format::kCrcOffset && at < format::kCrcCoveredEnd;
      if (covered || at >= format::kFrameHeaderSize) {
        EXPECT_FALSE(matches) << "a changed byte " << at << " passed the CRC";
      }
      if (matches) ++accepted_bad;
    }
  }
  EXPECT_GT(accepted_bad, 0) << "the uncovered reserved bytes should have been accepted";
}

// SingleEntry accepts exactly the blocks SplitEntries splits into one entry, and returns it.
TEST(FrameFastPathTest, SingleEntryAgreesWithSplitEntries) {
  std::vector<std::string> blocks = {"", "\x01", std::string(3, '\0'), std::string(4, '\0')};
  for (uint32_t length : {0u, 1u, 5u, 6u, 7u, 0xFFFFFFFFu}) {
    for (size_t body : {0, 5, 6, 7, 12}) {
      std::string block;
      PutFixed32(&block, length);
      block.append(body, 'q');
      blocks.push_back(block);
    }
  }
  std::vector<absl::string_view> split;
  for (const std::string& block : blocks) {
    absl::string_view single;
    const bool fast = SingleEntry(block, &single);
    const absl::Status checked = SplitEntries(block, 1, &split);
    ASSERT_EQ(fast, checked.ok()) << "block of " << block.size() << " bytes";
    if (!fast) continue;
    ASSERT_EQ(split.size(), 1u);
    EXPECT_EQ(single.data(), split[0].data());
    EXPECT_EQ(single.size(), split[0].size());
  }
}

// TryRawEntryAt accepts exactly what RawEntryAt accepts, for every index, and returns the
// same view: blocks of one to four entries cut short, overrun, with bytes left over.
TEST(FrameFastPathTest, TryRawEntryAtAgreesWithRawEntryAt) {
  std::vector<std::string> blocks = {"", "\x01", std::string(3, '\0')};
  for (const std::vector<std::string>& entries : std::vector<std::vector<std::string>>{
           {"a"}, {"a", ""}, {"", "bb", "ccc"}, {"dddd", "e", "", "ff"}}) {
    std::string block;
    for (const std::string& e : entries) {
      PutFixed32(&block, static_cast<uint32_t>(e.size()));
      block += e;
    }
    for (size_t cut = 0; cut <= block.size(); ++cut) blocks.push_back(block.substr(0, cut));
    blocks.push_back(block + "x");
    std::string overrun = block;
    overrun[0] = static_cast<char>(overrun[0] + 9);
    blocks.push_back(overrun);
  }
  for (const std::string& block : blocks) {
    for (uint32_t count = 1; count <= 5; ++count) {
      for (uint64_t index = 0; index <= count; ++index) {
        absl::string_view fast;
        const bool ok = TryRawEntryAt(block, count, index, &fast);
        const absl::StatusOr<absl::string_view> checked = RawEntryAt(block, count, index);
        ASSERT_EQ(ok, checked.ok()) << block.size() << " bytes, entry " << index << " of " << count
                                    << ": " << checked.status();
        if (!ok) continue;
        EXPECT_EQ(fast.data(), checked->data());
        EXPECT_EQ(fast.size(), checked->size());
      }
    }
  }
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
