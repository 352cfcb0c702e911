// Byte-level sweeps, part 2: every bit of chosen frames' headers flipped, and a seeded
// sample of their payload bits (every payload bit with IRONWAL_SWEEP_FULL=1), in the
// active segment and in sealed segments, raw and LZ4 frames (issue: deterministic torture
// suite, section 3).
//
// What a flip must do depends on where it lands:
//
//   field (header bytes)           active segment                 sealed segment
//   -----------------------------  -----------------------------  --------------------------
//   magic, crc, start_id, count,   damage at the frame: rows      Open is unaffected; reads
//   codec, disk_size (0-24), raw   H / K / I / G / torn by        of the frame are DataLoss
//   uncompressed_size, payload     frontier (ActiveExpectation)   naming the file; frames
//                                                                 before it read fine
//   LZ4 uncompressed_size (25-28)  not covered by the CRC: the frame's reads are DataLoss
//                                  (the LZ4 block does not decode to that size), or the
//                                  header fails its checks (count * 4 > size): as above
//   reserved (29-31)               the frame stamp: a damaged one fails its own check and
//                                  is ignored (it proves nothing): no effect
//
// A header flip in a sealed segment also hides the frames after it in that segment (the
// walk that indexes the segment cannot go past a header it cannot trust): their reads may
// be DataLoss too, never other bytes.
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/base/check.h"
#include "ironwal/format/format.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/random.h"

#include "tests/crash/damage_util.h"

namespace ironwal {
namespace crash {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::DecodeFixed32;
using ::ironwal::internal::Random;

namespace {

struct Combo {
  Frontier frontier;
  CorruptionPolicy policy;
  ReadStrategy read;
  std::string Name() const {
    return absl::StrCat("frontier ", FrontierName(frontier), ", ",
                        policy == CorruptionPolicy::kError ? "kError" : "kTruncate", ", ",
                        read == ReadStrategy::kMmap ? "mmap" : "pread");
  }
};

// Every combination with IRONWAL_SWEEP_FULL; otherwise case `n` gets the n-th of the
// sixteen, so that consecutive bits of a field run under all of them.
std::vector<Combo> CombosFor(uint64_t n) {
  std::vector<Combo> all;
  for (Frontier frontier :
       {Frontier::kSynced, Frontier::kForgotten, Frontier::kNone, Frontier::kStale}) {
    for (CorruptionPolicy policy : {CorruptionPolicy::kError, CorruptionPolicy::kTruncate}) {
      for (ReadStrategy read : {ReadStrategy::kPread, ReadStrategy::kMmap}) {
        all.push_back({frontier, policy, read});
      }
    }
  }
  if (FullSweep()) return all;
  // Step through the frontiers and policies first, the read strategy every eighth case.
  const uint64_t i = n % 16;
  return {all[(i % 8) * 2 + (i / 8)]};
}

// A frame chosen for flipping.
struct Target {
  std::string key;
  size_t segment;  // index into the stream's segments
  size_t frame;    // index into the segment's frames
  std::string what;
};

constexpr size_t kTargets = 9;

std::vector<Target> Targets() {
  const Reference& ref = Reference::Get();
  std::vector<Target> targets;
  const auto add = [&](const std::string& key, size_t segment, size_t frame, std::string what) {
    const StreamRef& s = ref.stream(key);
    IRONWAL_CHECK(segment < s.segments.size() && frame < s.segments[segment].frames.size());
    targets.push_back({key, segment, frame, std::move(what)});
  };
  const StreamRef& alpha = ref.stream("alpha");
  IRONWAL_CHECK(alpha.segments.size() >= 3);
  const size_t active = alpha.segments.size() - 1;
  const size_t frames = alpha.segments[active].frames.size();
  add("alpha", active, 0, "alpha's active segment, first frame");
  add("alpha", active, frames / 2, "alpha's active segment, middle frame");
  add("alpha", active, frames - 1, "alpha's active segment, last frame");
  const Segment& sealed = alpha.segments[1];
  add("alpha", 1, 0, "alpha's second segment (sealed), first frame");
  add("alpha", 1, sealed.frames.size() / 2, "alpha's second segment (sealed), middle frame");
  add("alpha", 1, sealed.frames.size() - 1, "alpha's second segment (sealed), last frame");
  // LZ4 frames: the active segment's first, and the first of a sealed one.
  const StreamRef& lz = ref.stream("lz");
  IRONWAL_CHECK(lz.segments.size() >= 2);
  IRONWAL_CHECK(lz.active().frames.front().lz4 && lz.segments[0].frames.front().lz4);
  add("lz", lz.segments.size() - 1, 0, "lz's active segment, first frame (LZ4)");
  add("lz", 0, 0, "lz's first segment (sealed), first frame (LZ4)");
  // A batch frame in a sealed segment.
  const StreamRef& user = ref.stream("user/42");
  for (size_t i = 0; i < user.segments[0].frames.size(); ++i) {
    if (user.segments[0].frames[i].count > 1) {
      add("user/42", 0, i, "user/42's first segment (sealed), a batch frame");
      break;
    }
  }
  IRONWAL_CHECK(targets.size() == kTargets);
  return targets;
}

std::set<uint64_t> IdsOf(const Frame& f) {
  std::set<uint64_t> ids;
  for (uint64_t id = f.start_id; id < f.end_id(); ++id) ids.insert(id);
  return ids;
}

// What a flip of header bit `bit` (0-255) or of a payload bit (bit >= 256) does to frame
// `f`: detected by the frame's checks, never noticed (reserved bytes), or noticed only when
// the frame is decoded (an LZ4 frame's uncompressed_size, which the CRC does not cover).
enum class Effect { kDetected, kHarmless, kDecodeFails };

Effect EffectOf(const Frame& f, const std::string& damaged, uint64_t bit) {
  const uint64_t byte = bit / 8;
  if (byte >= format::kReservedOffset && byte < format::kFrameHeaderSize) return Effect::kHarmless;
  if (f.lz4 && byte >= format::kUncompressedSizeOffset && byte < format::kReservedOffset) {
    const uint32_t size =
        DecodeFixed32(damaged.data() + f.offset + format::kUncompressedSizeOffset);
    const bool header_fails = static_cast<uint64_t>(f.count) * format::kEntryLengthSize > size;
    return header_fails ? Effect::kDetected : Effect::kDecodeFails;
  }
  return Effect::kDetected;
}

// The expected outcome of a detected flip of frame `j` of `s`'s active segment.
Expectation ActiveExpectation(const StreamRef& s, size_t j, const Combo& combo,
                              const std::string& damaged) {
  Expectation expect = Reference::Get().Intact(s.key);
  const Segment& active = s.active();
  const Frame& f = active.frames[j];
  const bool last = j + 1 == active.frames.size();
  // The row when something vouches for the frame: durable.pos (H), a later frame's stamp
  // (K: the stream writes kStrict, so each later frame proves the ones before it), or,
  // without either, a valid frame after it in a directory of ironwal 0.6 (G).
  char corrupt_row = 0;
  if (combo.frontier == Frontier::kSynced) {
    corrupt_row = 'H';
  } else if (!last && combo.frontier == Frontier::kStale) {
    corrupt_row = 'K';
  } else if (!last && combo.frontier == Frontier::kNone) {
    corrupt_row = 'G';
  }
  if (corrupt_row != 0 && combo.policy == CorruptionPolicy::kError) {
    expect.open_error = absl::StatusCode::kDataLoss;
    expect.message_has = {absl::StrCat(active.path, "@", f.offset),
                          absl::StrCat("row ", std::string(1, corrupt_row))};
    return expect;
  }
  StreamExpect& e = expect.streams[s.key];
  e.next_id = f.start_id;
  e.cut_offset = f.offset;
  e.damaged_file = active.path;
  if (corrupt_row != 0) {
    e.tail_row = corrupt_row;
    e.quarantine = damaged.substr(f.offset);
    if (!last) {
      // The valid frames after it are quarantined too: their IDs stay lost (lost.ids),
      // read DataLoss, and the stream continues after them.
      e.next_id = active.frames.back().end_id();
      for (uint64_t id = f.start_id; id < e.next_id; ++id) e.must_fail.insert(id);
    }
  } else if (!last) {
    e.tail_row = 'I';
    e.quarantine = damaged.substr(f.offset);
  } else {
    e.tail_row = 'E';     // a complete frame whose CRC fails, or a header that fails (C), or
    e.other_rows = "CD";  // a disk_size that now runs past the end (D)
  }
  return expect;
}

Expectation SealedExpectation(const StreamRef& s, size_t segment, size_t j, bool header) {
  Expectation expect = Reference::Get().Intact(s.key);
  StreamExpect& e = expect.streams[s.key];
  const Segment& seg = s.segments[segment];
  e.damaged_file = seg.path;
  e.must_fail = IdsOf(seg.frames[j]);
  if (header) {
    for (size_t k = j + 1; k < seg.frames.size(); ++k) {
      for (uint64_t id : IdsOf(seg.frames[k])) e.may_fail.insert(id);
    }
  }
  return expect;
}

void FlipSweep(Sweep* sweep, const Target& t, const std::vector<uint64_t>& bits,
               const std::string& label) {
  const Reference& ref = Reference::Get();
  const StreamRef& s = ref.stream(t.key);
  const Segment& seg = s.segments[t.segment];
  const Frame& f = seg.frames[t.frame];
  const bool active = t.segment + 1 == s.segments.size();
  for (uint64_t bit : bits) {
    for (const Combo& combo : CombosFor(bit)) {
      Snapshot damaged = WithFrontier(s, combo.frontier);
      std::string& file = damaged.files[seg.path];
      FlipBit(&file, f.offset * 8 + bit);
      const Effect effect = EffectOf(f, file, bit);
      const bool header = bit < format::kFrameHeaderSize * 8;
      const bool crc_field = bit / 8 >= format::kCrcOffset && bit / 8 < format::kStartIdOffset;
      Expectation expect = ref.Intact(t.key);
      if (effect == Effect::kDecodeFails) {
        expect.streams[t.key].damaged_file = seg.path;
        expect.streams[t.key].must_fail = IdsOf(f);
      } else if (effect == Effect::kDetected) {
        expect = active ? ActiveExpectation(s, t.frame, combo, file)
                        : SealedExpectation(s, t.segment, t.frame, header && !crc_field);
      }
      WalOptions options = ref.Options();
      options.on_corruption = combo.policy;
      options.read_strategy = combo.read;
      sweep->Run(
          absl::StrCat(t.what, " (", seg.path, "@", f.offset, "), ", header ? "header" : "payload",
                       " bit ", bit, label, ", ", combo.Name()),
          damaged, options, expect);
    }
  }
}

// One test per target frame, so that Bazel's shards (gtest sharding) split the sweeps.
class BitFlipSweepTest : public ::testing::TestWithParam<size_t> {
 protected:
  const Target& target() const {
    static const std::vector<Target>* const targets = new std::vector<Target>(Targets());
    return targets->at(GetParam());
  }
};

TEST_P(BitFlipSweepTest, EveryHeaderBit) {
  const Target& t = target();
  Sweep sweep("header bit flips of " + t.what);
  std::vector<uint64_t> bits;
  for (uint64_t bit = 0; bit < format::kFrameHeaderSize * 8; ++bit) bits.push_back(bit);
  FlipSweep(&sweep, t, bits, "");
  std::cout << "byte sweep: " << bits.size() << " header bit flips, " << sweep.Summary() << "\n";
  RecordProperty("header_bit_flips", static_cast<int>(bits.size()));
}

TEST_P(BitFlipSweepTest, SampledPayloadBits) {
  const Target& t = target();
  const uint64_t seed = testing::EnvNumber("IRONWAL_SEED", 7) + GetParam();
  const uint64_t per_frame = testing::EnvNumber("IRONWAL_SWEEP_PAYLOAD_BITS", 24);
  Sweep sweep("payload bit flips of " + t.what);
  Random rng(seed);
  const Frame& f = Reference::Get().stream(t.key).segments[t.segment].frames[t.frame];
  const uint64_t payload_bits = (f.size - format::kFrameHeaderSize) * 8;
  std::vector<uint64_t> bits;
  if (FullSweep()) {
    for (uint64_t b = 0; b < payload_bits; ++b) bits.push_back(256 + b);
  } else {
    for (uint64_t i = 0; i < per_frame; ++i) bits.push_back(256 + rng.Uniform(payload_bits));
  }
  FlipSweep(&sweep, t, bits, absl::StrCat(" (seed ", seed, ")"));
  std::cout << "byte sweep: " << bits.size() << " of " << payload_bits
            << " payload bit flips (seed " << seed << "), " << sweep.Summary() << "\n";
  RecordProperty("payload_bit_flips", static_cast<int>(bits.size()));
}

INSTANTIATE_TEST_SUITE_P(Frames, BitFlipSweepTest, ::testing::Range<size_t>(0, kTargets));

}  // namespace
}  // namespace crash
}  // namespace ironwal
