#include "ironwal/util/lz4_frame.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

std::string Text(size_t n) {
  std::string s;
  while (s.size() < n) s += "the quick brown fox jumps over the lazy dog; ";
  s.resize(n);
  return s;
}

TEST(Lz4FrameTest, RoundTripsAndShrinksText) {
  const std::string input = Text(100000);
  ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(input));
  EXPECT_LT(compressed.size(), input.size() / 4);
  EXPECT_THAT(Lz4FrameDecompress(compressed, input.size()), IsOkAndHolds(input));
}

TEST(Lz4FrameTest, RoundTripsEmptyAndRandomInput) {
  Random rng(9);
  for (size_t n : {0, 1, 17, 65535, 65536, 65537, 300000}) {
    const std::string input = rng.Bytes(n);
    ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(input));
    EXPECT_THAT(Lz4FrameDecompress(compressed, input.size()), IsOkAndHolds(input)) << n;
  }
}

TEST(Lz4FrameTest, WritesIronwalsFrameDescriptor) {
  ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(Text(5000)));
  ASSERT_GE(compressed.size(), 7u);
  EXPECT_EQ(compressed.substr(0, 4), std::string("\x04\x22\x4d\x18", 4));
  EXPECT_EQ(static_cast<uint8_t>(compressed[4]), 0x60);  // FLG: v01, independent blocks.
  EXPECT_EQ(static_cast<uint8_t>(compressed[5]), 0x40);  // BD: 64 KiB blocks.
}

TEST(Lz4FrameTest, TruncatedFrameIsDataLoss) {
  const std::string input = Text(20000);
  ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(input));
  for (size_t cut :
       {size_t{0}, size_t{3}, size_t{7}, compressed.size() / 2, compressed.size() - 1}) {
    EXPECT_THAT(Lz4FrameDecompress(absl::string_view(compressed).substr(0, cut), input.size()),
                StatusIs(absl::StatusCode::kDataLoss))
        << "cut at " << cut;
  }
}

TEST(Lz4FrameTest, SizeMismatchIsDataLoss) {
  const std::string input = Text(20000);
  ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(input));
  EXPECT_THAT(Lz4FrameDecompress(compressed, input.size() + 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("declares")));
  EXPECT_THAT(Lz4FrameDecompress(compressed, input.size() - 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more than")));
  EXPECT_THAT(Lz4FrameDecompress(compressed, 0), StatusIs(absl::StatusCode::kDataLoss));
}

// The declared size comes from a header field no CRC covers: one flipped high bit made the
// decoder allocate (and zero) up to 4 GiB before finding out. Now a size beyond what LZ4
// can expand the input to is refused first.
TEST(Lz4FrameTest, DeclaredSizeBeyondWhatTheInputCanHoldIsDataLossWithoutAllocating) {
  const std::string input = Text(1000);
  ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(input));
  EXPECT_THAT(Lz4FrameDecompress(compressed, size_t{3} << 30),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cannot decode")));
  EXPECT_THAT(Lz4FrameDecompress(compressed, input.size() | (size_t{1} << 24)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cannot decode")));
}

// The most compressible input (zeros) still decodes: the bound is above what LZ4 reaches.
TEST(Lz4FrameTest, MostCompressibleInputStillDecodes) {
  for (size_t n : {size_t{300}, size_t{65536}, size_t{1} << 22}) {
    const std::string input(n, '\0');
    ASSERT_OK_AND_ASSIGN(const std::string compressed, Lz4FrameCompress(input));
    EXPECT_THAT(Lz4FrameDecompress(compressed, input.size()), IsOkAndHolds(input)) << n;
  }
}

TEST(Lz4FrameTest, TrailingBytesAreDataLoss) {
  const std::string input = Text(1000);
  ASSERT_OK_AND_ASSIGN(std::string compressed, Lz4FrameCompress(input));
  compressed += "junk";
  EXPECT_THAT(Lz4FrameDecompress(compressed, input.size()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("after the end")));
}

TEST(Lz4FrameTest, GarbageIsDataLossNotACrash) {
  Random rng(5);
  for (int i = 0; i < 200; ++i) {
    std::string junk = rng.Bytes(rng.Range(0, 300));
    if (i % 2 == 0 && junk.size() >= 4) junk.replace(0, 4, "\x04\x22\x4d\x18");
    EXPECT_FALSE(Lz4FrameDecompress(junk, rng.Range(0, 1000)).ok());
  }
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
