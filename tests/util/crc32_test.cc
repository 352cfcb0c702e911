#include "ironwal/util/crc32.h"

#include <zlib.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/util/random.h"

namespace ironwal {

using internal::Random;

namespace {

uint32_t ZlibCrc(uint32_t crc, const std::string& s, size_t pos, size_t n) {
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(s.data() + pos), static_cast<uInt>(n)));
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32(std::string(32, '\0')), 0x190A55ADu);
  EXPECT_EQ(Crc32(std::string(32, '\xff')), 0xFF6CAB0Bu);
}

TEST(Crc32Test, MatchesZlibOnEveryLengthAndAlignment) {
  Random rng(1);
  const std::string data = rng.Bytes(4096);
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t n = 0; n <= 1024; ++n) {
      ASSERT_EQ(Crc32Extend(0, data.data() + offset, n), ZlibCrc(0, data, offset, n))
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32Test, PortableAndAcceleratedPathsAgree) {
  Random rng(2);
  for (int round = 0; round < 200; ++round) {
    const std::string data = rng.Bytes(rng.Range(0, 70000));
    const uint32_t seed = static_cast<uint32_t>(rng.Next());
    ASSERT_EQ(Crc32Extend(seed, data),
              internal::Crc32ExtendPortable(seed, data.data(), data.size()))
        << "round " << round << " length " << data.size();
    ASSERT_EQ(Crc32Extend(seed, data), ZlibCrc(seed, data, 0, data.size()));
  }
}

// Short inputs take the portable path's 8-, 4- and 1-byte steps in every combination.
TEST(Crc32Test, PortablePathAgreesWithZlibOnEveryShortLength) {
  Random rng(4);
  const std::string data = rng.Bytes(64);
  for (size_t n = 0; n <= data.size(); ++n) {
    for (size_t at : {size_t{0}, size_t{1}, size_t{3}}) {
      if (at + n > data.size()) continue;
      const uint32_t seed = static_cast<uint32_t>(rng.Next());
      EXPECT_EQ(internal::Crc32ExtendPortable(seed, data.data() + at, n),
                ZlibCrc(seed, data, at, n))
          << "length " << n << " at " << at;
    }
  }
}

TEST(Crc32Test, ExtendEqualsOneShot) {
  Random rng(3);
  const std::string data = rng.Bytes(5000);
  for (size_t split : {0, 1, 15, 16, 63, 64, 65, 1000, 4999, 5000}) {
    const uint32_t head = Crc32(absl::string_view(data).substr(0, split));
    EXPECT_EQ(Crc32Extend(head, absl::string_view(data).substr(split)), Crc32(data))
        << "split " << split;
  }
}

TEST(Crc32Test, DetectsEverySingleBitFlip) {
  Random rng(4);
  std::string data = rng.Bytes(300);
  const uint32_t good = Crc32(data);
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    ASSERT_NE(Crc32(data), good) << "bit " << bit;
    data[bit / 8] ^= static_cast<char>(1 << (bit % 8));
  }
}

// The zero-padded one-pass CRC equals zlib's CRC of the bytes after the padding, for every
// padding and for lengths that do and do not take the fold.
TEST(Crc32Test, ZeroPaddedMatchesZlib) {
  Random rng(31);
  for (size_t n = 16; n <= 512; n += 16) {
    for (size_t pad = 0; pad < 16; ++pad) {
      std::string data = std::string(pad, '\0') + rng.Bytes(n - pad);
      const uint32_t expected = static_cast<uint32_t>(
          crc32(0, reinterpret_cast<const Bytef*>(data.data() + pad), static_cast<uInt>(n - pad)));
      ASSERT_EQ(internal::Crc32OfZeroPadded(data.data(), n, pad), expected)
          << "n " << n << " pad " << pad;
    }
  }
}

// The in-place CRC of 17 head bytes and a tail (a frame's covered header and payload)
// equals zlib's CRC of the two parts side by side, for every tail length up to 700 and
// several gaps between them; the bytes in the gap do not matter. Each case lives in an
// allocation of exactly [head, tail + n), so ASan catches a read outside it.
TEST(Crc32Test, SeventeenAndTailMatchesZlibOfTheParts) {
  Random rng(17);
  for (size_t gap : {size_t{0}, size_t{7}, size_t{40}}) {
    for (size_t n = 0; n <= 700; ++n) {
      const std::string bytes = rng.Bytes(17 + gap + n);
      std::unique_ptr<char[]> exact(new char[bytes.size()]);
      std::memcpy(exact.get(), bytes.data(), bytes.size());
      const std::string joined = bytes.substr(0, 17) + bytes.substr(17 + gap);
      const uint32_t expected = ZlibCrc(0, joined, 0, joined.size());
      ASSERT_EQ(internal::Crc32Of17AndTail(exact.get(), exact.get() + 17 + gap, n), expected)
          << "gap " << gap << " n " << n;
      if (gap > 0) exact[17] ^= 0x5a;  // a gap byte: no effect
      ASSERT_EQ(internal::Crc32Of17AndTail(exact.get(), exact.get() + 17 + gap, n), expected);
      exact[rng.Uniform(17)] ^= 1;  // a head byte: always seen
      ASSERT_NE(internal::Crc32Of17AndTail(exact.get(), exact.get() + 17 + gap, n), expected);
    }
  }
}

// Every implementation of the in-place CRC this CPU can run gives zlib's CRC of the parts.
TEST(Crc32Test, SeventeenAndTailImplementationsAgree) {
  Random rng(29);
  int ran = 0;
  for (internal::Crc32Impl impl :
       {internal::Crc32Impl::kPortable, internal::Crc32Impl::kPclmul, internal::Crc32Impl::kAvx}) {
    for (size_t n = 0; n <= 600; ++n) {
      const std::string bytes = rng.Bytes(24 + n);
      const std::string joined = bytes.substr(0, 17) + bytes.substr(24);
      uint32_t crc = 0;
      if (!internal::Crc32Of17AndTailBy(impl, bytes.data(), bytes.data() + 24, n, &crc)) break;
      ++ran;
      ASSERT_EQ(crc, ZlibCrc(0, joined, 0, joined.size()))
          << "implementation " << static_cast<int>(impl) << " n " << n;
    }
  }
  EXPECT_GE(ran, 601);  // the portable one always runs
  RecordProperty("seventeen_and_tail_cases", ran);
}

// The batch answers how many leading items match, for every position of the first wrong
// expectation (and none), over tails of every length class.
TEST(Crc32Test, SeventeenAndTailMatchingCountsTheLeadingMatches) {
  Random rng(23);
  const std::string bytes = rng.Bytes(64 * 300);
  std::vector<internal::Crc32Of17AndTailItem> items;
  for (size_t i = 0; i < 64; ++i) {
    const char* head = bytes.data() + i * 300;
    const size_t n = rng.Uniform(270);
    items.push_back({head, head + 24, n, internal::Crc32Of17AndTail(head, head + 24, n)});
  }
  EXPECT_EQ(internal::Crc32Of17AndTailMatching(items.data(), items.size()), items.size());
  EXPECT_EQ(internal::Crc32Of17AndTailMatching(items.data(), 0), 0u);
  for (size_t wrong = 0; wrong < items.size(); ++wrong) {
    items[wrong].expected ^= 1u << (wrong % 32);
    ASSERT_EQ(internal::Crc32Of17AndTailMatching(items.data(), items.size()), wrong);
    items[wrong].expected ^= 1u << (wrong % 32);
  }
}

// Runs of items with tails of one length (which the batch checks four at a time) and
// runs broken by another length, for every tail length up to past the four-lane one, in
// every implementation this CPU can run: each answers how many leading items match, for
// every position of the first wrong expectation, and a damaged byte in any tail is seen.
TEST(Crc32Test, SeventeenAndTailMatchingOverRunsOfOneLength) {
  Random rng(31);
  int ran = 0;
  for (internal::Crc32Impl impl :
       {internal::Crc32Impl::kPortable, internal::Crc32Impl::kPclmul, internal::Crc32Impl::kAvx}) {
    size_t matching = 0;
    if (!internal::Crc32Of17AndTailMatchingBy(impl, nullptr, 0, &matching)) continue;
    ++ran;
    for (size_t n = 0; n <= 300; n += (n < 40 ? 1 : 13)) {
      // Nine items of length n, one of another length, then three more of length n: the
      // batch takes fours, then singles, then an incomplete four. Each in an allocation of
      // its exact size, so that ASan sees any read outside an item.
      std::vector<std::unique_ptr<char[]>> frames;
      std::vector<internal::Crc32Of17AndTailItem> items;
      for (size_t i = 0; i < 13; ++i) {
        const size_t len = i == 9 ? n + 1 : n;
        const std::string bytes = rng.Bytes(24 + len);
        frames.emplace_back(new char[bytes.size()]);
        char* head = frames.back().get();
        std::memcpy(head, bytes.data(), bytes.size());
        items.push_back({head, head + 24, len, internal::Crc32Of17AndTail(head, head + 24, len)});
      }
      ASSERT_TRUE(
          internal::Crc32Of17AndTailMatchingBy(impl, items.data(), items.size(), &matching));
      ASSERT_EQ(matching, items.size()) << "impl " << static_cast<int>(impl) << " n " << n;
      for (size_t wrong = 0; wrong < items.size(); ++wrong) {
        items[wrong].expected ^= 1u << (wrong % 32);
        internal::Crc32Of17AndTailMatchingBy(impl, items.data(), items.size(), &matching);
        ASSERT_EQ(matching, wrong) << "impl " << static_cast<int>(impl) << " n " << n;
        items[wrong].expected ^= 1u << (wrong % 32);
        if (items[wrong].n == 0) continue;
        char* byte = const_cast<char*>(items[wrong].tail) + rng.Uniform(items[wrong].n);
        *byte ^= 0x20;
        internal::Crc32Of17AndTailMatchingBy(impl, items.data(), items.size(), &matching);
        ASSERT_EQ(matching, wrong) << "damaged tail, impl " << static_cast<int>(impl) << " n " << n;
        *byte ^= 0x20;
      }
    }
  }
  EXPECT_GE(ran, 1);  // the portable one always runs
  RecordProperty("matching_implementations", ran);
}

TEST(Crc32Test, ReportsWhichPathIsInUse) {
  // Not an assertion about the machine: documents which path the other tests exercised.
  RecordProperty("pclmul", internal::Crc32UsesPclmul() ? "yes" : "no");
  SUCCEED();
}

}  // namespace
}  // namespace ironwal
