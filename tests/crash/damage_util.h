// Helpers of the byte-level damage sweeps (tests/crash/*_sweep_test.cc): a reference
// workload written once on MemEnv, snapshots of its files to damage, the frame layout of
// its segments, and an exact checker that opens a damaged copy and compares everything the
// Wal returns with what was written.
//
//   const Reference& ref = Reference::Get();
//   Snapshot damaged = ref.snapshot;
//   CutTo(&damaged.files[path], 100);
//   Expectation expect = ref.Intact();
//   expect.streams["alpha"].next_id = 7;
//   std::vector<std::string> problems = CheckCase(damaged, options, expect);
//
// Every check is exact: a stream must hold exactly the IDs the expectation names, each
// with the bytes the workload wrote for it; IDs named as damaged must read as DataLoss
// (never as other bytes).
#ifndef IRONWAL_TESTS_CRASH_DAMAGE_UTIL_H_
#define IRONWAL_TESTS_CRASH_DAMAGE_UTIL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace crash {

constexpr char kRoot[] = "/wal";

// The files of a directory tree, by path.
struct Snapshot {
  std::set<std::string> dirs;
  std::map<std::string, std::string> files;
};

// Every directory and file under `root` (the root's LOCK file excluded).
Snapshot TakeSnapshot(Env* env, const std::string& root);
// Writes `snapshot` into `env` (which should be empty).
void Restore(const Snapshot& snapshot, Env* env);

// One frame of a segment file, as written.
struct Frame {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t start_id = 0;
  uint32_t count = 0;
  bool lz4 = false;
  uint64_t end_id() const { return start_id + count; }
  uint64_t end_offset() const { return offset + size; }
};

struct Segment {
  uint64_t start_id = 0;
  std::string path;
  std::vector<Frame> frames;
};

// A stream of the reference workload.
struct StreamRef {
  std::string key;
  std::string dir;                   // its directory's path
  std::vector<std::string> entries;  // by ID
  std::vector<Segment> segments;     // oldest first; the last is the active one

  const Segment& active() const { return segments.back(); }
  std::string File(absl::string_view name) const;
};

// The bytes the workload writes for `id` of `stream` (some empty, some compressible).
std::string EntryBytes(const std::string& stream, uint64_t id);

// What a damaged stream must look like after Open.
struct StreamExpect {
  std::string listed_key;  // the key ListStreams shows (default: the key)
  uint64_t first_id = 0;
  uint64_t next_id = 0;
  // IDs whose reads must fail with DataLoss naming `damaged_file`, and IDs that may
  // (after a damaged header of a sealed segment the rest of that segment cannot be found).
  std::set<uint64_t> must_fail;
  std::set<uint64_t> may_fail;
  std::string damaged_file;
  // The recovery report's row for the active segment ('A' = no tail finding), and
  // whether a quarantine file must exist with these exact contents.
  char tail_row = 'A';
  // Rows accepted besides tail_row (for damage whose exact row depends on the bits).
  std::string other_rows;
  uint64_t cut_offset = 0;  // checked when tail_row != 'A'
  std::optional<std::string> quarantine;
  // Findings about segments.idx, head.state or removed files are allowed.
  bool metadata_findings = false;
  // Only a finding about head.state is allowed (recovery ignores a bad one, and leaves it
  // for the next rotation to replace).
  bool head_state_findings = false;
  // Read every ID by Get, MultiGet and iteration; otherwise only the stream's bounds and
  // its last entry (for the streams a case does not damage, to keep sweeps fast).
  bool read_all = true;
};

struct Expectation {
  // When set, Open must fail with this code and a message holding every one of these
  // substrings, and leave the files as they were.
  std::optional<absl::StatusCode> open_error;
  std::vector<std::string> message_has;
  // By key: every stream of the reference.
  std::map<std::string, StreamExpect> streams;
};

// The reference workload: several streams, single appends and batches, small segments so
// that most streams have sealed segments, LZ4 frames in one stream. Written once on a
// MemEnv, closed cleanly (so durable.pos marks every byte as synced).
class Reference {
 public:
  static const Reference& Get();

  // Options that open the reference (on another Env: set options.env).
  WalOptions Options() const;
  // Everything as written: every stream whole, nothing to report. With a `focus`, only
  // that stream is read in full (the others are checked by their bounds).
  Expectation Intact(const std::string& focus = "") const;
  const StreamRef& stream(const std::string& key) const { return streams.at(key); }

  Snapshot snapshot;
  std::map<std::string, StreamRef> streams;
};

// Checks one damaged copy: restores `damaged` into a fresh MemEnv, opens it with
// `options` (env and root replaced) and checks `expect`; then appends to every stream,
// closes, reopens and checks that the second open is clean. Returns the problems found
// (empty when all is as expected).
std::vector<std::string> CheckCase(const Snapshot& damaged, WalOptions options,
                                   const Expectation& expect);

// Byte surgery on a snapshot's file contents.
void CutTo(std::string* contents, uint64_t size);
void FlipBit(std::string* contents, uint64_t bit);
// durable.pos saying that none of the active segment `segment_start` was synced (the
// state of a stream whose process died before its first sync of that segment).
std::string ForgottenDurablePos(uint64_t segment_start);

// What a case's durable frontier says before the damage: every byte synced (after a clean
// Close), nothing synced (a process that died before its first sync: durable.pos and the
// active segment's frame stamps both at its start), or no durable.pos and no frame stamps
// at all (a directory written by ironwal 0.6); or stale: durable.pos at the active
// segment's start while the frames' stamps still prove every frame before the last was
// synced (a kStrict writer killed between two moves of durable.pos: issue 8 section 2).
enum class Frontier { kSynced, kForgotten, kNone, kStale };
const char* FrontierName(Frontier frontier);
// The reference snapshot with `s`'s durable.pos set as `frontier` says.
Snapshot WithFrontier(const StreamRef& s, Frontier frontier);

// Counts the cases of a sweep and reports the failing ones (the first few in full, each
// with its case id, which names the seed and the damage).
class Sweep {
 public:
  explicit Sweep(std::string name) : name_(std::move(name)) {}
  // Runs CheckCase and records a gtest failure naming `case_id` if it finds problems.
  void Run(const std::string& case_id, const Snapshot& damaged, const WalOptions& options,
           const Expectation& expect);
  uint64_t cases() const { return cases_; }
  uint64_t failures() const { return failures_; }
  // "cut sweep: 1234 cases, 0 failed".
  std::string Summary() const;

 private:
  std::string name_;
  uint64_t cases_ = 0;
  uint64_t failures_ = 0;
};

// Whether IRONWAL_SWEEP_FULL is set: sweep everything instead of a seeded sample.
bool FullSweep();

}  // namespace crash
}  // namespace ironwal

#endif  // IRONWAL_TESTS_CRASH_DAMAGE_UTIL_H_
