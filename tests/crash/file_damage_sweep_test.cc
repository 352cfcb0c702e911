// Byte-level sweeps, part 3: damage to whole files and to the small files of a stream
// directory (issue: deterministic torture suite, section 3):
//   - segments.idx, head.state, durable.pos and stream.key missing, cut at every length,
//     every bit flipped, stale, or holding other (well-formed) values;
//   - a segment missing (first, middle, last), a sealed segment cut short, and a segment
//     copied into another stream's directory.
// The segments themselves are intact in the first group, so the expectation is the whole
// log (or, where a file's meaning changes, the documented outcome); in the second group a
// clear DataLoss naming the file, or a prefix.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/format/format.h"
#include "ironwal/format/names.h"

#include "tests/crash/damage_util.h"

namespace ironwal {
namespace crash {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::DurablePos;
using ::ironwal::internal::EncodeDurablePos;
using ::ironwal::internal::EncodeHeadState;
using ::ironwal::internal::EncodeSegmentIndex;
using ::ironwal::internal::SegmentFileName;

namespace {

constexpr CorruptionPolicy kPolicies[] = {CorruptionPolicy::kError, CorruptionPolicy::kTruncate};

// Runs `damaged` under both corruption policies (the read strategy alternates), or under
// every combination of policy and read strategy with IRONWAL_SWEEP_FULL.
void RunBoth(Sweep* sweep, const std::string& id, const Snapshot& damaged,
             const Expectation& expect) {
  static uint64_t n = 0;
  const Reference& ref = Reference::Get();
  for (CorruptionPolicy policy : kPolicies) {
    for (ReadStrategy read : {ReadStrategy::kPread, ReadStrategy::kMmap}) {
      if (!FullSweep() && (read == ReadStrategy::kMmap) != (n % 2 == 1)) continue;
      WalOptions options = ref.Options();
      options.on_corruption = policy;
      options.read_strategy = read;
      sweep->Run(absl::StrCat(id, ", ", policy == CorruptionPolicy::kError ? "kError" : "kTruncate",
                              read == ReadStrategy::kMmap ? ", mmap" : ", pread"),
                 damaged, options, expect);
    }
    ++n;
  }
}

// Every stream whole; findings about the small files allowed for `key`.
Expectation IntactWithFindings(const std::string& key) {
  Expectation expect = Reference::Get().Intact(key);
  expect.streams[key].metadata_findings = true;
  return expect;
}

// Cut at every length, every bit flipped, and removed: `file` of stream `key`, expecting
// `expect` for all of them.
void SweepSmallFile(Sweep* sweep, const std::string& key, const std::string& name,
                    const Expectation& expect) {
  const Reference& ref = Reference::Get();
  const std::string path = ref.stream(key).File(name);
  const std::string& whole = ref.snapshot.files.at(path);
  {
    Snapshot damaged = ref.snapshot;
    damaged.files.erase(path);
    RunBoth(sweep, absl::StrCat(path, " removed"), damaged, expect);
  }
  for (uint64_t n = 0; n < whole.size(); ++n) {
    Snapshot damaged = ref.snapshot;
    CutTo(&damaged.files[path], n);
    RunBoth(sweep, absl::StrCat(path, " cut to ", n, " of ", whole.size(), " bytes"), damaged,
            expect);
  }
  // Every bit; each under one policy and read strategy in turn (all with
  // IRONWAL_SWEEP_FULL): the segments are intact, so the policy should not matter.
  for (uint64_t bit = 0; bit < whole.size() * 8; ++bit) {
    Snapshot damaged = ref.snapshot;
    FlipBit(&damaged.files[path], bit);
    const std::string id = absl::StrCat(path, " bit ", bit, " flipped");
    if (FullSweep()) {
      RunBoth(sweep, id, damaged, expect);
      continue;
    }
    WalOptions options = ref.Options();
    options.on_corruption = kPolicies[bit % 2];
    options.read_strategy = (bit / 2) % 2 == 0 ? ReadStrategy::kPread : ReadStrategy::kMmap;
    sweep->Run(absl::StrCat(id, ", ", bit % 2 == 0 ? "kError" : "kTruncate",
                            (bit / 2) % 2 == 0 ? ", pread" : ", mmap"),
               damaged, options, expect);
  }
}

TEST(FileDamageSweepTest, ReferenceLayout) {
  // For the CI log: what the sweeps damage.
  for (const auto& [key, s] : Reference::Get().streams) {
    std::cout << key << ":";
    for (const Segment& seg : s.segments) {
      std::cout << " [" << seg.start_id << ": " << seg.frames.size() << " frames]";
    }
    std::cout << " " << s.entries.size() << " entries\n";
  }
}

TEST(FileDamageSweepTest, SegmentIndexMissingCutOrFlippedIsRebuilt) {
  Sweep sweep("segments.idx damage");
  for (const char* key : {"alpha", "tiny"}) {
    SweepSmallFile(&sweep, key, format::kSegmentIndexFileName, IntactWithFindings(key));
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, StaleSegmentIndexIsRebuilt) {
  const Reference& ref = Reference::Get();
  Sweep sweep("stale segments.idx");
  const StreamRef& s = ref.stream("alpha");
  const std::string idx = s.File(format::kSegmentIndexFileName);
  const std::string head = s.File(format::kHeadStateFileName);
  std::vector<uint64_t> starts;
  for (const Segment& seg : s.segments) starts.push_back(seg.start_id);
  for (size_t keep = 1; keep < starts.size(); ++keep) {
    // The index missed the last rotations; head.state names the newest segment, or is
    // missing, or is as stale as the index.
    const std::vector<uint64_t> stale(starts.begin(), starts.begin() + keep);
    for (int head_state = 0; head_state < 3; ++head_state) {
      Snapshot damaged = ref.snapshot;
      damaged.files[idx] = EncodeSegmentIndex(stale);
      if (head_state == 1) damaged.files.erase(head);
      if (head_state == 2) damaged.files[head] = EncodeHeadState(stale.back());
      RunBoth(&sweep,
              absl::StrCat("alpha's segments.idx lists ", keep, " of ", starts.size(),
                           " segments, head.state ",
                           head_state == 0   ? "current"
                           : head_state == 1 ? "missing"
                                             : "as stale"),
              damaged, IntactWithFindings("alpha"));
    }
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, HeadStateIsOnlyAHint) {
  const Reference& ref = Reference::Get();
  Sweep sweep("head.state damage");
  SweepSmallFile(&sweep, "alpha", format::kHeadStateFileName, IntactWithFindings("alpha"));
  const StreamRef& s = ref.stream("alpha");
  const std::string head = s.File(format::kHeadStateFileName);
  for (uint64_t names :
       {s.segments[0].start_id, s.segments[1].start_id, s.active().start_id + 1000, uint64_t{7}}) {
    Snapshot damaged = ref.snapshot;
    damaged.files[head] = EncodeHeadState(names);
    RunBoth(&sweep, absl::StrCat("alpha's head.state names segment ", names), damaged,
            IntactWithFindings("alpha"));
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, UnreadableDurablePosIsForgotten) {
  // durable.pos is only ever behind the truth: losing it loses nothing (the tail is then
  // judged as ironwal 0.6's would be, and the segments are intact).
  Sweep sweep("durable.pos damage");
  for (const char* key : {"alpha", "lz"}) {
    SweepSmallFile(&sweep, key, format::kDurablePosFileName, Reference::Get().Intact(key));
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, WellFormedDurablePosOfOtherSegments) {
  const Reference& ref = Reference::Get();
  Sweep sweep("durable.pos values");
  const StreamRef& s = ref.stream("alpha");
  const std::string path = s.File(format::kDurablePosFileName);
  const Segment& active = s.active();
  const uint64_t size = ref.snapshot.files.at(active.path).size();
  struct Value {
    std::string what;
    DurablePos pos;
  };
  const std::vector<Value> values = {
      {"an older segment", {s.segments[0].start_id, 40}},
      {"the active segment, at 0", {active.start_id, 0}},
      {"the active segment, inside a frame", {active.start_id, active.frames[1].offset + 3}},
      {"a future segment", {active.start_id + 100, 5}},
  };
  for (const Value& v : values) {
    Snapshot damaged = ref.snapshot;
    damaged.files[path] = EncodeDurablePos(v.pos);
    RunBoth(&sweep, "alpha's durable.pos names " + v.what, damaged, ref.Intact("alpha"));
  }
  // A frontier past the end of the file: synced bytes are missing (row H).
  Snapshot damaged = ref.snapshot;
  damaged.files[path] = EncodeDurablePos({active.start_id, size + 100});
  for (CorruptionPolicy policy : kPolicies) {
    WalOptions options = ref.Options();
    options.on_corruption = policy;
    Expectation expect = ref.Intact("alpha");
    if (policy == CorruptionPolicy::kError) {
      expect.open_error = absl::StatusCode::kDataLoss;
      expect.message_has = {absl::StrCat(active.path, "@", size), "row H"};
    } else {
      StreamExpect& e = expect.streams["alpha"];
      e.tail_row = 'H';
      e.cut_offset = size;
      e.damaged_file = active.path;
    }
    sweep.Run(absl::StrCat("alpha's durable.pos past the end of its segment, ",
                           policy == CorruptionPolicy::kError ? "kError" : "kTruncate"),
              damaged, options, expect);
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, UnreadableStreamKeyLeavesTheKeyUnknown) {
  // The stream then lists under its directory name until a write records the key again.
  Sweep sweep("stream.key damage");
  Expectation expect = Reference::Get().Intact("user/42");
  expect.streams["user/42"].listed_key = "user_42";
  SweepSmallFile(&sweep, "user/42", format::kStreamKeyFileName, expect);
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, StreamKeyOfAnotherStreamIsNotBelieved) {
  // user_42/stream.key replaced by alpha's (well-formed, CRC-valid): "alpha" does not map
  // to the directory user_42, so the file cannot be this stream's.
  const Reference& ref = Reference::Get();
  Sweep sweep("foreign stream.key");
  Snapshot damaged = ref.snapshot;
  damaged.files[ref.stream("user/42").File(format::kStreamKeyFileName)] =
      ref.snapshot.files.at(ref.stream("alpha").File(format::kStreamKeyFileName));
  Expectation expect = ref.Intact("user/42");
  expect.streams["user/42"].listed_key = "user_42";
  RunBoth(&sweep, "user_42/stream.key holds alpha's key", damaged, expect);
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, MissingSegments) {
  const Reference& ref = Reference::Get();
  Sweep sweep("missing segments");
  const StreamRef& s = ref.stream("alpha");
  ASSERT_GE(s.segments.size(), 3u);
  // A middle segment: its IDs are gone, and Open says so.
  for (size_t i = 1; i + 1 < s.segments.size(); ++i) {
    Snapshot damaged = ref.snapshot;
    damaged.files.erase(s.segments[i].path);
    Expectation expect = ref.Intact("alpha");
    expect.open_error = absl::StatusCode::kDataLoss;
    expect.message_has = {SegmentFileName(s.segments[i].start_id), "missing"};
    RunBoth(&sweep, absl::StrCat("alpha's segment ", i, " removed"), damaged, expect);
  }
  // The first segment: as an interrupted truncation by ironwal 0.6 (which removed the
  // files before rewriting the index) leaves it; the stream starts at the next segment.
  {
    Snapshot damaged = ref.snapshot;
    damaged.files.erase(s.segments[0].path);
    Expectation expect = IntactWithFindings("alpha");
    expect.streams["alpha"].first_id = s.segments[1].start_id;
    RunBoth(&sweep, "alpha's first segment removed", damaged, expect);
  }
  // The active segment, which held synced frames (durable.pos says so): DataLoss, or
  // under kTruncate the stream ends where the segment started.
  for (CorruptionPolicy policy : kPolicies) {
    Snapshot damaged = ref.snapshot;
    damaged.files.erase(s.active().path);
    WalOptions options = ref.Options();
    options.on_corruption = policy;
    Expectation expect = ref.Intact("alpha");
    if (policy == CorruptionPolicy::kError) {
      expect.open_error = absl::StatusCode::kDataLoss;
      expect.message_has = {s.active().path, "row H"};
    } else {
      StreamExpect& e = expect.streams["alpha"];
      e.next_id = s.active().start_id;
      e.tail_row = 'H';
      e.cut_offset = 0;
      e.damaged_file = s.active().path;
    }
    sweep.Run(absl::StrCat("alpha's active segment removed, ",
                           policy == CorruptionPolicy::kError ? "kError" : "kTruncate"),
              damaged, options, expect);
  }
  // The active segment of a directory without durable.pos (ironwal 0.6 lists a segment
  // before creating it): an empty active segment.
  {
    Snapshot damaged = ref.snapshot;
    damaged.files.erase(s.active().path);
    damaged.files.erase(s.File(format::kDurablePosFileName));
    Expectation expect = ref.Intact("alpha");
    expect.streams["alpha"].next_id = s.active().start_id;
    RunBoth(&sweep, "alpha's active segment and durable.pos removed", damaged, expect);
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, SealedSegmentCutShort) {
  // Open does not scan sealed segments, but compares their sizes with sealed.sizes.
  const Reference& ref = Reference::Get();
  Sweep sweep("sealed segment cut");
  const StreamRef& s = ref.stream("alpha");
  const Segment& seg = s.segments[1];
  const uint64_t size = ref.snapshot.files.at(seg.path).size();
  for (uint64_t cut :
       {uint64_t{0}, uint64_t{10}, seg.frames[1].offset, seg.frames[2].offset + 40, size - 1}) {
    Snapshot damaged = ref.snapshot;
    CutTo(&damaged.files[seg.path], cut);
    // The rotation recorded the segment's sealed size (sealed.sizes): the open refuses the
    // gap (directory plan row r) instead of serving a stream with missing IDs.
    Expectation expect = ref.Intact("alpha");
    expect.open_error = absl::StatusCode::kDataLoss;
    expect.message_has = {absl::StrCat("holds ", cut, " bytes but was sealed at ", size)};
    RunBoth(&sweep, absl::StrCat("alpha's segment 1 cut to ", cut, " of ", size), damaged, expect);
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

TEST(FileDamageSweepTest, SegmentCopiedIntoAnotherStream) {
  // A segment of alpha copied into user_42 under a name user_42 does not use. Frames carry
  // no stream identity, so the IDs must give it away: a segment the index does not list
  // must continue the one before it, or Open refuses naming it (before, recovery adopted
  // it and served alpha's bytes for user/42's IDs, with a hole before them). A copy under
  // a name the stream uses, whose IDs fit, cannot be told from the stream's own file.
  const Reference& ref = Reference::Get();
  Sweep sweep("foreign segment");
  const StreamRef& alpha = ref.stream("alpha");
  const StreamRef& user = ref.stream("user/42");
  for (const Segment& seg : alpha.segments) {
    bool taken = false;
    for (const Segment& own : user.segments) taken |= own.start_id == seg.start_id;
    if (taken) continue;
    Snapshot damaged = ref.snapshot;
    const std::string to = JoinPath(user.dir, Basename(seg.path));
    damaged.files[to] = ref.snapshot.files.at(seg.path);
    Expectation expect = ref.Intact("user/42");
    expect.open_error = absl::StatusCode::kDataLoss;
    expect.message_has = {user.dir, Basename(seg.path), "does not continue"};
    RunBoth(&sweep, absl::StrCat("alpha's ", Basename(seg.path), " copied into ", user.dir),
            damaged, expect);
  }
  std::cout << "byte sweep: " << sweep.Summary() << "\n";
}

}  // namespace
}  // namespace crash
}  // namespace ironwal
