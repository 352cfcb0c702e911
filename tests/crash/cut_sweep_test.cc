// Byte-level sweeps, part 1: the active segment cut at every byte of its last three frames,
// and zero-filled, garbage and stale tails appended to it (issue: deterministic torture
// suite, section 3). Every case opens a damaged copy of the reference workload
// (damage_util.h) and checks the exact outcome the decision table in
// ironwal/segment/segment_scan.h gives it:
//
//   damage                     durable frontier   kError              kTruncate
//   -------------------------  -----------------  ------------------  ------------------
//   cut inside a frame          synced (closed)   DataLoss, row H     cut + quarantine, H
//   cut at a frame boundary     synced (closed)   DataLoss, row H     cut, row H
//   cut inside a frame          forgotten / none  torn: B or D        torn: B or D
//   cut at a frame boundary     forgotten / none  clean (A)           clean (A)
//   zeros, garbage, stale frame any               torn: B, C, D or F  torn: B, C, D or F
//   hole, then a valid frame    synced/forgotten  torn + quarantine I torn + quarantine I
//   hole, then a valid frame    none (0.6)        DataLoss, row G     cut + quarantine, G
//
// "forgotten" resets durable.pos to the active segment's start (as if nothing had been
// synced, the state after a process death before the first sync); "none" removes it (a
// directory written by ironwal 0.6). Each cut runs under both read strategies in turn.
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/base/check.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"

#include "tests/crash/damage_util.h"

namespace ironwal {
namespace crash {

using ::ironwal::internal::AppendFrame;
using ::ironwal::internal::FrameEncodeOptions;
using ::ironwal::internal::Random;

namespace {

constexpr Frontier kFrontiers[] = {Frontier::kSynced, Frontier::kForgotten, Frontier::kNone};
constexpr CorruptionPolicy kPolicies[] = {CorruptionPolicy::kError, CorruptionPolicy::kTruncate};

const char* PolicyName(CorruptionPolicy p) {
  return p == CorruptionPolicy::kError ? "kError" : "kTruncate";
}

// The outcome of damage at byte `x` of `s`'s active segment that the scan finds at the
// frame starting at `x`, all IDs from `first_lost` on gone.
void ExpectDamageAt(const StreamRef& s, uint64_t x, uint64_t first_lost, char row,
                    Expectation* expect) {
  StreamExpect& e = expect->streams[s.key];
  e.next_id = first_lost;
  e.tail_row = row;
  e.cut_offset = x;
  e.damaged_file = s.active().path;
}

// What an open of a cut at `c` must do (the table above).
Expectation CutExpectation(const StreamRef& s, uint64_t c, Frontier frontier,
                           CorruptionPolicy policy, const std::string& damaged_segment) {
  const Reference& ref = Reference::Get();
  Expectation expect = ref.Intact(s.key);
  const Segment& active = s.active();
  const Frame* frame = nullptr;
  for (const Frame& f : active.frames) {
    if (f.offset <= c && c < f.end_offset()) frame = &f;
  }
  const bool boundary = frame->offset == c;
  if (frontier == Frontier::kSynced) {
    if (policy == CorruptionPolicy::kError) {
      expect.open_error = absl::StatusCode::kDataLoss;
      expect.message_has = {absl::StrCat(active.path, "@", frame->offset), "row H"};
      return expect;
    }
    ExpectDamageAt(s, frame->offset, frame->start_id, 'H', &expect);
    if (!boundary) {
      expect.streams[s.key].quarantine = damaged_segment.substr(frame->offset);
    }
    return expect;
  }
  if (boundary) {
    expect.streams[s.key].next_id = frame->start_id;
    return expect;
  }
  ExpectDamageAt(s, frame->offset, frame->start_id, c - frame->offset < 32 ? 'B' : 'D', &expect);
  return expect;
}

// One way to open a damaged copy.
struct Combo {
  Frontier frontier;
  CorruptionPolicy policy;
  ReadStrategy read;
  std::string Name() const {
    return absl::StrCat("frontier ", FrontierName(frontier), ", ", PolicyName(policy), ", ",
                        read == ReadStrategy::kMmap ? "mmap" : "pread");
  }
};

// The combinations case `n` runs under. A synced frontier runs both policies (they
// differ); a forgotten or missing one, where both policies must cut the same torn tail,
// alternates them; the read strategy alternates. IRONWAL_SWEEP_FULL runs all twelve.
std::vector<Combo> CombosFor(uint64_t n) {
  std::vector<Combo> combos;
  const ReadStrategy read = n % 2 == 0 ? ReadStrategy::kPread : ReadStrategy::kMmap;
  for (Frontier frontier : kFrontiers) {
    for (CorruptionPolicy policy : kPolicies) {
      if (FullSweep()) {
        combos.push_back({frontier, policy, ReadStrategy::kPread});
        combos.push_back({frontier, policy, ReadStrategy::kMmap});
      } else if (frontier == Frontier::kSynced ||
                 (policy == CorruptionPolicy::kError) == ((n / 2) % 2 == 0)) {
        combos.push_back({frontier, policy, read});
      }
    }
  }
  return combos;
}

// One test per stream, so that Bazel's shards (gtest sharding) split the sweeps.
class CutSweepTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CutSweepTest, ActiveSegmentCutAtEveryByteOfItsLastThreeFrames) {
  const Reference& ref = Reference::Get();
  const std::string& key = GetParam();
  const StreamRef& s = ref.stream(key);
  Sweep sweep("cut sweep of " + key);
  const Segment& active = s.active();
  ASSERT_GE(active.frames.size(), 3u);
  const std::string& whole = ref.snapshot.files.at(active.path);
  const uint64_t from = active.frames[active.frames.size() - 3].offset;
  for (uint64_t c = from; c < whole.size(); ++c) {
    for (const Combo& combo : CombosFor(c)) {
      Snapshot damaged = WithFrontier(s, combo.frontier);
      CutTo(&damaged.files[active.path], c);
      WalOptions options = ref.Options();
      options.on_corruption = combo.policy;
      options.read_strategy = combo.read;
      sweep.Run(absl::StrCat(key, " cut at ", c, " of ", whole.size(), ", ", combo.Name()), damaged,
                options,
                CutExpectation(s, c, combo.frontier, combo.policy, damaged.files[active.path]));
    }
  }
  std::cout << "byte sweep: " << whole.size() - from << " cut points, " << sweep.Summary() << "\n";
  RecordProperty("cut_points", static_cast<int>(whole.size() - from));
}

// Tails appended to the active segment: what a crash leaves past the last frame.
struct Tail {
  std::string name;
  std::string bytes;
  char row;                  // its row when nothing valid follows
  std::string other_rows;    // rows also possible (random garbage)
  bool valid_after = false;  // a hole followed by the stream's next frame: row I or G
};

Tail MakeTail(std::string name, std::string bytes, char row, std::string other_rows = "") {
  Tail tail;
  tail.name = std::move(name);
  tail.bytes = std::move(bytes);
  tail.row = row;
  tail.other_rows = std::move(other_rows);
  return tail;
}

std::vector<Tail> Tails(const StreamRef& s, uint64_t seed) {
  Random rng(seed);
  std::vector<Tail> tails;
  // Zeros to the end of the file, however many: a zero tail (row Z), the clean end.
  for (size_t n : {1, 20, 31, 32, 33, 100, 4096}) {
    tails.push_back(MakeTail(absl::StrCat(n, " zeros"), std::string(n, '\0'), 'Z'));
  }
  // One non-zero byte after zeros (first, inside or last) is not a zero tail.
  for (size_t at : {0, 50, 99}) {
    std::string bytes(100, '\0');
    bytes[at] = '\x01';
    tails.push_back(MakeTail(absl::StrCat("100 zeros, byte ", at, " not"), bytes, 'C'));
  }
  for (size_t n : {1, 7, 31})
    tails.push_back(MakeTail(absl::StrCat(n, " garbage"), rng.Bytes(n), 'B'));
  for (size_t n : {32, 100, 1000}) {
    tails.push_back(MakeTail(absl::StrCat(n, " garbage"), rng.Bytes(n), 'C'));
  }
  // Garbage behind a frame magic: a header that fails its checks or its CRC.
  const std::string magic("\x4C\x41\x57\x4C", 4);
  for (size_t n : {28, 60, 500}) {
    tails.push_back(
        MakeTail(absl::StrCat("magic + ", n, " garbage"), magic + rng.Bytes(n), 'C', "DE"));
  }
  // A stale frame: a copy of an earlier frame (CRC-valid, IDs that do not continue).
  const std::string& active = Reference::Get().snapshot.files.at(s.active().path);
  const Frame& first = s.active().frames.front();
  tails.push_back(MakeTail("a copy of the segment's first frame",
                           active.substr(first.offset, first.size), 'F'));
  // A frame from the future: IDs past the next one.
  const uint64_t next = s.entries.size();
  std::string future;
  IRONWAL_CHECK_OK(AppendFrame(next + 5, {"future"}, FrameEncodeOptions(), &future));
  tails.push_back(MakeTail("a frame with IDs past the next", future, 'F'));
  // The next frame cut short (the classic torn append).
  std::string next_frame;
  IRONWAL_CHECK_OK(AppendFrame(next, {"next entry of forty bytes or so........"},
                               FrameEncodeOptions(), &next_frame));
  tails.push_back(
      MakeTail("the next frame cut short", next_frame.substr(0, next_frame.size() - 3), 'D'));
  // A hole (unsynced block lost), then the next frame (a later block that survived).
  for (size_t hole : {8, 32, 100}) {
    Tail tail = MakeTail(absl::StrCat(hole, "-byte hole, then the next frame"),
                         std::string(hole, '\0') + next_frame, 'C');
    tail.valid_after = true;
    tails.push_back(tail);
  }
  return tails;
}

TEST_P(CutSweepTest, ZeroGarbageAndStaleTailsAreCut) {
  const Reference& ref = Reference::Get();
  const std::string& key = GetParam();
  Sweep sweep("tail sweep of " + key);
  const uint64_t seed = testing::EnvNumber("IRONWAL_SEED", 42);
  uint64_t n = 0;
  {
    const StreamRef& s = ref.stream(key);
    const Segment& active = s.active();
    const uint64_t end = ref.snapshot.files.at(active.path).size();
    for (const Tail& tail : Tails(s, seed)) {
      for (Frontier frontier : kFrontiers) {
        for (CorruptionPolicy policy : kPolicies) {
          Snapshot damaged = WithFrontier(s, frontier);
          damaged.files[active.path] += tail.bytes;
          WalOptions options = ref.Options();
          options.on_corruption = policy;
          Expectation expect = ref.Intact(key);
          if (tail.row == 'Z') {
            // Intact: every entry, no recovery report (the zeros are cut silently).
          } else if (tail.valid_after && frontier == Frontier::kNone &&
                     policy == CorruptionPolicy::kError) {
            expect.open_error = absl::StatusCode::kDataLoss;
            expect.message_has = {absl::StrCat(active.path, "@", end), "row G"};
          } else {
            const char row = !tail.valid_after ? tail.row : frontier == Frontier::kNone ? 'G' : 'I';
            ExpectDamageAt(s, end, s.entries.size(), row, &expect);
            expect.streams[key].other_rows = tail.other_rows;
            if (tail.valid_after) expect.streams[key].quarantine = tail.bytes;
            if (tail.valid_after && row == 'G') {
              // The frame after the hole is quarantined with it: its ID is recorded as
              // lost (lost.ids), reads DataLoss, and is never handed out again.
              StreamExpect& e = expect.streams[key];
              e.next_id = s.entries.size() + 1;
              e.must_fail = {s.entries.size()};
            }
          }
          options.read_strategy = ++n % 2 == 0 ? ReadStrategy::kPread : ReadStrategy::kMmap;
          sweep.Run(
              absl::StrCat(key, " + ", tail.name, " (seed ", seed, "), frontier ",
                           FrontierName(frontier), ", ", PolicyName(policy),
                           options.read_strategy == ReadStrategy::kMmap ? ", mmap" : ", pread"),
              damaged, options, expect);
        }
      }
    }
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
  RecordProperty("tail_cases", static_cast<int>(sweep.cases()));
}

INSTANTIATE_TEST_SUITE_P(Streams, CutSweepTest, ::testing::Values("alpha", "user/42", "lz", "tiny"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "user/42" ? std::string("user_42") : info.param;
                         });

}  // namespace
}  // namespace crash
}  // namespace ironwal
