#include "ironwal/format/frame.h"

#include <iostream>
#include <optional>
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
namespace internal {
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

// Small raw frames are built on the stack with their CRC computed in place (the covered
// header bytes and zero padding written over the header's space), larger ones in *dst:
// for every entry block size on both sides of that limit, with and without a stamp, after
// bytes already in *dst, the CRC is what format.h defines (the covered header bytes, then
// the payload, by the portable table implementation) and the frame reads back.
TEST(FrameTest, CrcOfEveryBlockSizeMatchesTheDefinition) {
  const std::string bytes = Random(7).Bytes(kFrameCrcOnePassMax + 64);
  for (size_t len = 0; len + format::kEntryLengthSize <= kFrameCrcOnePassMax + 40; ++len) {
    for (const bool stamped : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "entry of " << len << " bytes, stamped " << stamped);
      const absl::string_view entry = absl::string_view(bytes).substr(0, len);
      std::string out = "prefix";
      FrameStamp stamp;
      stamp.frontier_distance = 5000 + len;
      stamp.stream_tag = 0x5A;
      if (stamped) {
        ASSERT_OK(AppendFrame(40 + len, {entry}, FrameEncodeOptions(), stamp, &out));
      } else {
        ASSERT_OK(AppendFrame(40 + len, {entry}, FrameEncodeOptions(), &out));
      }
      ASSERT_EQ(out.size(), 6 + format::kFrameHeaderSize + format::kEntryLengthSize + len);
      EXPECT_EQ(out.substr(0, 6), "prefix");
      const absl::string_view frame = absl::string_view(out).substr(6);
      ASSERT_OK_AND_ASSIGN(const FrameHeader header, DecodeFrameHeader(frame));
      const absl::string_view payload = frame.substr(format::kFrameHeaderSize);
      uint32_t expected = Crc32ExtendPortable(0, frame.data() + format::kCrcCoveredBegin,
                                              format::kCrcCoveredEnd - format::kCrcCoveredBegin);
      expected = Crc32ExtendPortable(expected, payload.data(), payload.size());
      EXPECT_EQ(header.crc, expected);
      EXPECT_EQ(header.start_id, 40 + len);
      EXPECT_EQ(header.disk_size, format::kEntryLengthSize + len);
      EXPECT_EQ(DecodeFixed32(payload.data()), len);
      EXPECT_EQ(payload.substr(format::kEntryLengthSize), entry);
      EXPECT_OK(VerifyFramePayload(header, payload));
      EXPECT_EQ(header.reserved == 0, !stamped);
    }
  }
}

// The frame stamp (format.h): the reserved bytes this library writes.

std::string StampedFrame(uint64_t distance, uint8_t tag) {
  FrameStamp stamp;
  stamp.frontier_distance = distance;
  stamp.stream_tag = tag;
  std::string out;
  EXPECT_OK(AppendFrame(9, {"stamped"}, FrameEncodeOptions(), stamp, &out));
  return out;
}

TEST(FrameStampTest, DistanceCodesAreMonotonicAndDecodeAsDocumented) {
  EXPECT_EQ(DistanceOfCode(0), 0u);
  EXPECT_EQ(DistanceOfCode(2047), 2047u);
  EXPECT_EQ(DistanceOfCode(1 << 11), 2048u);            // e = 1, m = 0
  EXPECT_EQ(DistanceOfCode((2 << 11) | 1), 4096u + 2);  // e = 2: steps of 2
  EXPECT_EQ(DistanceOfCode(format::kMaxDistanceCode), uint64_t{0xFFD} << 30);
  for (uint32_t code = 1; code <= format::kMaxDistanceCode; ++code) {
    ASSERT_GT(DistanceOfCode(static_cast<uint16_t>(code)),
              DistanceOfCode(static_cast<uint16_t>(code - 1)))
        << "code " << code;
  }
}

TEST(FrameStampTest, DistancesRoundUpToTheNearestCode) {
  Random rng(20260802);
  std::cout << "seed 20260802\n";
  std::vector<uint64_t> distances = {0, 1, 2047, 2048, 2049, 4095, 4096, 4097, 1 << 20};
  for (int i = 0; i < 20000; ++i) distances.push_back(rng.Next() >> rng.Uniform(64));
  for (const uint64_t d : distances) {
    const std::optional<uint16_t> code = DistanceCode(d);
    if (d > DistanceOfCode(format::kMaxDistanceCode)) {
      EXPECT_FALSE(code.has_value()) << d;
      continue;
    }
    ASSERT_TRUE(code.has_value()) << d;
    // Never below the distance (the claimed frontier is never past the real one), and the
    // smallest code that is not.
    EXPECT_GE(DistanceOfCode(*code), d);
    if (*code > 0) {
      EXPECT_LT(DistanceOfCode(static_cast<uint16_t>(*code - 1)), d);
    }
    EXPECT_LE(DistanceOfCode(*code) - d, d >> 11) << d;  // within 1/2048
  }
}

TEST(FrameStampTest, StampRoundTripsAndIsNeverZero) {
  for (const uint64_t distance :
       {uint64_t{0}, uint64_t{56}, uint64_t{4 << 20}, uint64_t{1} << 50}) {
    for (int tag = 0; tag < 256; ++tag) {
      const std::string frame = StampedFrame(distance, static_cast<uint8_t>(tag));
      ASSERT_OK_AND_ASSIGN(const FrameHeader h, DecodeFrameHeader(frame));
      ASSERT_NE(h.reserved, 0u);
      EXPECT_EQ(frame.substr(29, 3), std::string({static_cast<char>(h.reserved & 0xFF),
                                                  static_cast<char>((h.reserved >> 8) & 0xFF),
                                                  static_cast<char>(h.reserved >> 16)}));
      const StampReading reading = ReadFrameStamp(h, static_cast<uint8_t>(tag));
      ASSERT_EQ(reading.kind, StampReading::Kind::kThisStream);
      if (distance == uint64_t{1} << 50) {
        EXPECT_FALSE(reading.frontier_distance.has_value()) << "too far: no claim";
        EXPECT_EQ(ProvenFrontier(h, uint64_t{1} << 51, static_cast<uint8_t>(tag)), 0u);
      } else {
        EXPECT_EQ(reading.frontier_distance, distance);
        EXPECT_EQ(ProvenFrontier(h, 100 + distance, static_cast<uint8_t>(tag)), 100u);
      }
      // Read for another stream: a mismatch that names this stream's tag.
      const StampReading other = ReadFrameStamp(h, static_cast<uint8_t>(tag + 1));
      EXPECT_EQ(other.kind, StampReading::Kind::kMismatch);
      EXPECT_EQ(other.implied_tag, tag);
      EXPECT_EQ(ProvenFrontier(h, 100 + distance, static_cast<uint8_t>(tag + 1)), 0u);
    }
  }
}

// The check byte is Fold8(CRC-32(crc LE || hint LE)) ^ tag (FORMAT.md), computed here from
// its definition with Crc32, for many CRCs and every kind of hint: the library computes it
// by tables (frame.cc), which this would catch if they were wrong.
TEST(FrameStampTest, CheckByteMatchesItsDefinition) {
  Random rng(20261202);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t crc = static_cast<uint32_t>(rng.Next());
    const uint8_t tag = static_cast<uint8_t>(rng.Next());
    FrameStamp stamp;
    stamp.stream_tag = tag;
    stamp.frontier_distance = i % 3 == 0 ? rng.Uniform(4096) : rng.Next() >> (i % 40);
    const uint32_t reserved = EncodeFrameStamp(crc, stamp);
    const uint16_t hint = static_cast<uint16_t>(reserved & 0xFFFF);
    char bytes[6];
    EncodeFixed32(bytes, crc);
    bytes[4] = static_cast<char>(hint & 0xFF);
    bytes[5] = static_cast<char>(hint >> 8);
    const uint32_t c = Crc32(absl::string_view(bytes, 6));
    const uint8_t expected = static_cast<uint8_t>(c ^ (c >> 8) ^ (c >> 16) ^ (c >> 24)) ^ tag;
    ASSERT_EQ(reserved >> 16, expected) << "crc " << crc << " hint " << hint << " seed 20261202";
    FrameHeader h;
    h.crc = crc;
    h.reserved = reserved;
    const StampReading reading = ReadFrameStamp(h, tag);
    ASSERT_EQ(reading.kind, StampReading::Kind::kThisStream) << "crc " << crc;
  }
}

TEST(FrameStampTest, StampIsOutsideTheCrcAndZeroMeansNoInformation) {
  const std::string plain = Frame(9, {"stamped"});
  const std::string stamped = StampedFrame(56, 7);
  EXPECT_EQ(plain.substr(0, 29), stamped.substr(0, 29));  // CRC and fields unchanged
  EXPECT_EQ(plain.substr(32), stamped.substr(32));
  EXPECT_EQ(plain.substr(29, 3), std::string(3, '\0'));
  ASSERT_OK_AND_ASSIGN(const FrameHeader h, DecodeFrameHeader(plain));
  EXPECT_EQ(ReadFrameStamp(h, 7).kind, StampReading::Kind::kNone);
  EXPECT_EQ(ProvenFrontier(h, 1000, 7), 0u);
}

// CRC-32 is linear: flipping one bit of the hint changes CRC-32(crc || hint) by a delta
// that depends only on the bit's position, so one frame checks every frame; a flip of the
// check byte changes the implied tag directly.
TEST(FrameStampTest, EverySingleBitFlipOfTheStampIsDetected) {
  const std::string good = StampedFrame(4096, 0x5A);
  for (size_t bit = format::kReservedOffset * 8; bit < format::kFrameHeaderSize * 8; ++bit) {
    std::string bad = good;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    ASSERT_OK_AND_ASSIGN(const FrameHeader h, DecodeFrameHeader(bad));
    EXPECT_OK(VerifyFramePayload(h, absl::string_view(bad).substr(32)));
    EXPECT_EQ(ReadFrameStamp(h, 0x5A).kind, StampReading::Kind::kMismatch) << "bit " << bit;
    EXPECT_EQ(ProvenFrontier(h, 8192, 0x5A), 0u) << "bit " << bit;
  }
}

TEST(FrameStampTest, StreamTagIsTheDirectoryNamesFold) {
  EXPECT_EQ(StreamTagOfSegment("/root/user_42/00000000000000000000.wal"), StreamTag("user_42"));
  EXPECT_EQ(StreamTagOfSegment("user_42/00000000000000000000.wal"), StreamTag("user_42"));
  EXPECT_EQ(StreamTagOfSegment("/s.wal"), StreamTag(""));
  const uint32_t crc = Crc32("orders");
  EXPECT_EQ(StreamTag("orders"),
            static_cast<uint8_t>(crc ^ (crc >> 8) ^ (crc >> 16) ^ (crc >> 24)));
  EXPECT_NE(StreamTag("users"), StreamTag("empty-payloads"));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
