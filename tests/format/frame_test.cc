#include "ironwal/format/frame.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Frame(uint64_t start, std::vector<absl::string_view> entries,
                  FrameEncodeOptions options = FrameEncodeOptions()) {
  std::string out;
  EXPECT_OK(AppendFrame(start, entries, options, &out));
  return out;
}

TEST(FrameTest, OneEntryOfHundredBytesIsA136ByteFrame) {
  const std::string entry(100, 'x');
  const std::string frame = Frame(0, {entry});
  EXPECT_EQ(frame.size(), 136u);  // 32 + 4 + 100, as ironwal 0.6's tests assert.
}

TEST(FrameTest, HeaderBytesAreLittleEndianAtFixedOffsets) {
  const std::string frame = Frame(0x0102030405060708ull, {"ab", "c"});
  EXPECT_EQ(frame.substr(0, 4), std::string("\x4c\x41\x57\x4c", 4));  // "LAWL"
  EXPECT_EQ(DecodeFixed64(frame.data() + 8), 0x0102030405060708ull);
  EXPECT_EQ(DecodeFixed32(frame.data() + 16), 2u);              // entry_count
  EXPECT_EQ(frame[20], 0);                                      // codec raw
  EXPECT_EQ(DecodeFixed32(frame.data() + 21), 4u + 2 + 4 + 1);  // disk_size
  EXPECT_EQ(DecodeFixed32(frame.data() + 25), 11u);             // uncompressed_size
  EXPECT_EQ(frame.substr(29, 3), std::string(3, '\0'));         // reserved
  EXPECT_EQ(frame.substr(32), std::string("\x02\0\0\0ab\x01\0\0\0c", 11));
}

TEST(FrameTest, CrcCoversIdsCountCodecDiskSizeAndPayloadOnly) {
  const std::string frame = Frame(7, {"hello"});
  const uint32_t stored = DecodeFixed32(frame.data() + 4);
  const std::string covered = frame.substr(8, 17) + frame.substr(32);
  EXPECT_EQ(stored, Crc32(covered));
}

TEST(FrameTest, DecodeRoundTripsTheHeader) {
  const std::string frame = Frame(42, {"a", "", "ccc"});
  ASSERT_OK_AND_ASSIGN(const FrameHeader h, DecodeFrameHeader(frame));
  EXPECT_EQ(h.start_id, 42u);
  EXPECT_EQ(h.entry_count, 3u);
  EXPECT_EQ(h.end_id(), 45u);
  EXPECT_EQ(h.codec, format::Codec::kRaw);
  EXPECT_EQ(h.frame_size(), frame.size());
  const absl::string_view payload = absl::string_view(frame).substr(32);
  EXPECT_OK(VerifyFramePayload(h, payload));
  ASSERT_OK_AND_ASSIGN(const DecodedPayload decoded, DecodePayload(h, payload));
  EXPECT_THAT(decoded.entries(), ElementsAre("a", "", "ccc"));
  EXPECT_THAT(decoded.EntryAt(2), IsOkAndHolds("ccc"));
  EXPECT_THAT(decoded.EntryAt(3), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(RawEntryAt(payload, 3, 1), IsOkAndHolds(""));
  EXPECT_THAT(RawEntryAt(payload, 3, 2), IsOkAndHolds("ccc"));
}

TEST(FrameTest, EveryHeaderBitFlipIsDetected) {
  // A flip in magic, codec or the counts fails the header; anywhere CRC-covered fails the
  // CRC; flips in uncompressed_size fail the raw size check. Only reserved bytes are free.
  const std::string good = Frame(5, {"payload bytes"});
  for (size_t bit = 0; bit < format::kFrameHeaderSize * 8; ++bit) {
    if (bit / 8 >= format::kReservedOffset) continue;
    std::string bad = good;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bad);
    if (!h.ok()) {
      EXPECT_THAT(h, StatusIs(absl::StatusCode::kDataLoss)) << "bit " << bit;
      continue;
    }
    const absl::string_view payload = absl::string_view(bad).substr(32);
    EXPECT_THAT(
        VerifyFramePayload(*h, payload.substr(0, std::min<size_t>(payload.size(), h->disk_size))),
        StatusIs(absl::StatusCode::kDataLoss))
        << "bit " << bit;
  }
}

TEST(FrameTest, DecodeRejectsMalformedHeaders) {
  std::string frame = Frame(1, {"x"});
  EXPECT_THAT(DecodeFrameHeader(frame.substr(0, 31)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cut short")));
  std::string zero(32, '\0');
  EXPECT_THAT(DecodeFrameHeader(zero), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));
  std::string codec = frame;
  codec[20] = 2;
  EXPECT_THAT(DecodeFrameHeader(codec), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("codec")));
  std::string empty = frame;
  EncodeFixed32(&empty[16], 0);
  EXPECT_THAT(DecodeFrameHeader(empty), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("zero")));
  std::string overflow = frame;
  EncodeFixed64(&overflow[8], UINT64_MAX);
  EXPECT_THAT(DecodeFrameHeader(overflow),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("overflow")));
  std::string too_many = frame;
  EncodeFixed32(&too_many[16], 1000);  // 1000 entries cannot fit 5 bytes
  EXPECT_THAT(DecodeFrameHeader(too_many), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameTest, PayloadCutShortOrCorruptIsDataLoss) {
  const std::string frame = Frame(3, {"0123456789"});
  ASSERT_OK_AND_ASSIGN(const FrameHeader h, DecodeFrameHeader(frame));
  EXPECT_THAT(VerifyFramePayload(h, absl::string_view(frame).substr(32, 5)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cut short")));
  std::string bad = frame;
  bad[40] ^= 0x10;
  EXPECT_THAT(VerifyFramePayload(h, absl::string_view(bad).substr(32)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("crc mismatch")));
}

TEST(FrameTest, EntryBlockThatDisagreesWithItsCountIsDataLoss) {
  // A header that passes its CRC but whose block holds a different number of entries can
  // only come from a broken writer; it must not be read as if it were right.
  std::string frame = Frame(0, {"ab", "cd"});
  EncodeFixed32(&frame[16], 1);  // claim one entry
  ASSERT_OK_AND_ASSIGN(FrameHeader h, DecodeFrameHeader(frame));
  h.crc = ComputeFrameCrc(h, absl::string_view(frame).substr(32));
  EXPECT_THAT(DecodePayload(h, absl::string_view(frame).substr(32)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more than")));
  EXPECT_THAT(RawEntryAt(absl::string_view(frame).substr(32), 1, 0),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("after its last entry")));
  const std::string overrun("\x09\0\0\0abc", 7);
  EXPECT_THAT(RawEntryAt(overrun, 1, 0),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("overruns")));
}

TEST(FrameTest, BelowTheThresholdStaysRaw) {
  FrameEncodeOptions lz4;
  lz4.lz4 = true;
  lz4.min_compression_size = 1000;
  const std::string entry(100, 'a');  // compressible, but a 104-byte block is under 1000
  const std::string frame = Frame(0, {entry}, lz4);
  EXPECT_EQ(frame.size(), 136u);
  EXPECT_EQ(frame[20], 0);
}

TEST(FrameTest, AtTheThresholdCompressibleDataIsLz4) {
  FrameEncodeOptions lz4;
  lz4.lz4 = true;
  lz4.min_compression_size = 64;
  const std::string entry(60, 'a');  // block = 64 bytes: at the threshold
  const std::string frame = Frame(0, {entry}, lz4);
  ASSERT_OK_AND_ASSIGN(const FrameHeader h, DecodeFrameHeader(frame));
  EXPECT_EQ(h.codec, format::Codec::kLz4);
  EXPECT_EQ(h.uncompressed_size, 64u);
  EXPECT_LT(h.disk_size, 64u);
  EXPECT_EQ(frame.substr(32, 4), std::string("\x04\x22\x4d\x18", 4));
  const absl::string_view payload = absl::string_view(frame).substr(32);
  EXPECT_OK(VerifyFramePayload(h, payload));
  ASSERT_OK_AND_ASSIGN(const DecodedPayload decoded, DecodePayload(h, payload));
  EXPECT_THAT(decoded.entries(), ElementsAre(entry));
  const std::string below(59, 'a');  // 63-byte block: raw
  EXPECT_EQ(Frame(0, {below}, lz4)[20], 0);
}

TEST(FrameTest, IncompressibleDataStaysRawWhenLz4WouldNotShrinkIt) {
  FrameEncodeOptions lz4;
  lz4.lz4 = true;
  lz4.min_compression_size = 0;
  Random rng(8);
  const std::string entry = rng.Bytes(2000);
  const std::string frame = Frame(9, {entry}, lz4);
  EXPECT_EQ(frame[20], 0);
  EXPECT_EQ(frame.size(), 32u + 4 + 2000);
}

TEST(FrameTest, EmptyEntriesAreFourZeroBytes) {
  const std::string frame = Frame(0, {"", ""});
  EXPECT_EQ(frame.substr(32), std::string(8, '\0'));
}

TEST(FrameTest, AppendFrameRefusesEmptyInput) {
  std::string out;
  EXPECT_THAT(AppendFrame(0, {}, FrameEncodeOptions(), &out),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AppendFrame(UINT64_MAX, {"x"}, FrameEncodeOptions(), &out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overflow")));
  EXPECT_TRUE(out.empty());
}

TEST(FrameTest, AppendFrameAppendsAfterExistingBytes) {
  std::string out = "prefix";
  ASSERT_OK(AppendFrame(0, {"a"}, FrameEncodeOptions(), &out));
  ASSERT_OK(AppendFrame(1, {"b"}, FrameEncodeOptions(), &out));
  EXPECT_EQ(out.substr(0, 6), "prefix");
  ASSERT_OK_AND_ASSIGN(const FrameHeader second,
                       DecodeFrameHeader(absl::string_view(out).substr(6 + 37)));
  EXPECT_EQ(second.start_id, 1u);
}

}  // namespace
}  // namespace ironwal
