// TakeRawRun (the scan's bulk path) takes exactly the frames the checked path accepts, in
// order, and stops before the first it would not take: every entry it hands out equals
// what DecodeFrameHeader + VerifyFramePayload + DecodePayload give for that frame, and a
// byte changed anywhere in a frame's covered bytes stops the run at that frame, with the
// frames before it taken. FrameMatchesInPlace agrees with FramePayloadMatches.
#include "ironwal/format/frame_run.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace internal {
namespace {

struct Segment {
  std::string bytes;
  std::vector<uint64_t> offsets;     // each frame's
  std::vector<std::string> entries;  // every entry, ID order from 0
};

// `frames` frames from ID 0: single entries (0..300 bytes), raw batches, and compressible
// batches that LZ4 shrinks.
Segment MakeSegment(uint64_t seed, int frames) {
  Random rng(seed);
  Segment s;
  FrameEncodeOptions options;
  options.lz4 = true;
  options.min_compression_size = 256;
  for (int i = 0; i < frames; ++i) {
    std::vector<std::string> batch;
    const uint64_t kind = rng.Uniform(8);
    if (kind < 5) {
      batch.push_back(rng.Bytes(rng.Uniform(300)));
    } else if (kind < 7) {
      for (uint64_t n = 2 + rng.Uniform(5); n > 0; --n) batch.push_back(rng.Bytes(rng.Uniform(40)));
    } else {
      batch.assign(3, std::string(200, 'z'));
    }
    std::vector<absl::string_view> views(batch.begin(), batch.end());
    s.offsets.push_back(s.bytes.size());
    EXPECT_TRUE(AppendFrame(s.entries.size(), views, options, &s.bytes).ok());
    s.entries.insert(s.entries.end(), batch.begin(), batch.end());
  }
  return s;
}

// What the checked path takes from `bytes` at `offset`: the frame's entries, or nothing.
bool CheckedFrame(absl::string_view bytes, uint64_t offset, FrameHeader* header,
                  std::vector<std::string>* entries) {
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes.substr(offset));
  if (!h.ok() || h->frame_size() > bytes.size() - offset) return false;
  const absl::string_view payload = bytes.substr(offset + format::kFrameHeaderSize, h->disk_size);
  if (!VerifyFramePayload(*h, payload).ok()) return false;
  absl::StatusOr<DecodedPayload> decoded = DecodePayload(*h, payload);
  if (!decoded.ok()) return false;
  *header = *h;
  entries->clear();
  for (absl::string_view e : decoded->entries()) entries->emplace_back(e);
  return true;
}

// Walks `bytes` with TakeRawRun from ID 0, as the iterator does (a frame TakeRawRun
// declines goes through CheckedFrame), and checks every run against the checked path.
// Returns the IDs read before the first frame neither path takes.
uint64_t WalkAndCompare(const Segment& s, absl::string_view bytes, size_t max_entries) {
  uint64_t offset = 0;
  uint64_t id = 0;
  std::vector<absl::string_view> run;
  while (offset < bytes.size()) {
    const RawRun taken = TakeRawRun(bytes.substr(offset), id, UINT64_MAX, max_entries, &run);
    if (taken.bytes == 0) {
      FrameHeader header;
      std::vector<std::string> entries;
      if (!CheckedFrame(bytes, offset, &header, &entries)) return id;
      EXPECT_TRUE(header.codec == format::Codec::kLz4) << "a raw frame the checked path takes";
      EXPECT_EQ(header.start_id, id);
      for (const std::string& e : entries) EXPECT_EQ(e, s.entries[id++]);
      offset += header.frame_size();
      continue;
    }
    EXPECT_EQ(taken.start_id, id);
    // Each frame of the run is one the checked path takes, with the same entries.
    uint64_t at = offset;
    size_t i = 0;
    while (at < offset + taken.bytes) {
      FrameHeader header;
      std::vector<std::string> entries;
      EXPECT_TRUE(CheckedFrame(bytes, at, &header, &entries)) << "offset " << at;
      EXPECT_EQ(header.start_id, id);
      for (const std::string& e : entries) {
        EXPECT_EQ(run[i++], e);
        EXPECT_EQ(e, s.entries[id++]);
      }
      at += header.frame_size();
    }
    EXPECT_EQ(at, offset + taken.bytes);
    EXPECT_EQ(i, taken.entries);
    offset += taken.bytes;
  }
  return id;
}

TEST(FrameRunTest, RunsGiveWhatTheCheckedPathDecodes) {
  const Segment s = MakeSegment(3, 400);
  for (size_t max_entries : {size_t{1}, size_t{7}, size_t{64}, size_t{100000}}) {
    SCOPED_TRACE(max_entries);
    EXPECT_EQ(WalkAndCompare(s, s.bytes, max_entries), s.entries.size());
  }
}

TEST(FrameRunTest, StopsAtTheLimitsItIsGiven) {
  const Segment s = MakeSegment(4, 50);
  std::vector<absl::string_view> run;
  // A span cut inside a frame: the frames whole in it only.
  const RawRun cut = TakeRawRun(absl::string_view(s.bytes).substr(0, s.offsets[3] + 40), 0,
                                UINT64_MAX, 1000, &run);
  EXPECT_LE(cut.bytes, s.offsets[3]);
  // stop_id: no frame starting at or past it.
  const RawRun stopped = TakeRawRun(s.bytes, 0, 1, 1000, &run);
  EXPECT_EQ(stopped.bytes, s.offsets[1]);
  // A first frame that does not hold `id`, and one that does from its middle.
  EXPECT_EQ(
      TakeRawRun(absl::string_view(s.bytes).substr(s.offsets[1]), 0, UINT64_MAX, 1000, &run).bytes,
      0u);
  EXPECT_EQ(TakeRawRun(absl::string_view(s.bytes).substr(s.offsets[1]), 0, UINT64_MAX, 1000, &run)
                .entries,
            0u);
}

// A byte changed anywhere in one frame: the frames before it are taken exactly as before,
// the run never takes the changed frame, and the walk (run + checked path) stops at it
// unless the change is in bytes the CRC does not cover.
TEST(FrameRunTest, AChangedByteStopsTheRunAtItsFrame) {
  const Segment s = MakeSegment(5, 30);
  for (size_t victim = 0; victim < s.offsets.size(); victim += 3) {
    const uint64_t begin = s.offsets[victim];
    const uint64_t end = victim + 1 < s.offsets.size() ? s.offsets[victim + 1] : s.bytes.size();
    FrameHeader header;
    std::vector<std::string> entries;
    ASSERT_TRUE(CheckedFrame(s.bytes, begin, &header, &entries));
    for (uint64_t at = begin; at < end; ++at) {
      std::string bytes = s.bytes;
      bytes[at] ^= 0x10;
      SCOPED_TRACE(testing::Message() << "frame " << victim << " byte " << at - begin);
      const uint64_t read = WalkAndCompare(s, bytes, 64);
      const uint64_t in_frame = at - begin;
      const bool uncovered =  // the stamp bytes
          in_frame >= format::kReservedOffset && in_frame < format::kFrameHeaderSize;
      if (uncovered) {
        EXPECT_EQ(read, s.entries.size());
      } else {
        EXPECT_EQ(read, header.start_id);
      }
      // FrameMatchesInPlace agrees with FramePayloadMatches on the changed frame.
      FrameHeader h;
      if (TryDecodeFrameHeader(bytes.data() + begin, &h) &&
          h.frame_size() <= bytes.size() - begin) {
        const absl::string_view payload(bytes.data() + begin + format::kFrameHeaderSize,
                                        h.disk_size);
        EXPECT_EQ(FrameMatchesInPlace(h, bytes.data() + begin), FramePayloadMatches(h, payload));
      }
    }
  }
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
