// File: ironwal/cli/verifier.h
//
// The checks behind `ironwal verify` (and `ironwal repair`, which uses them before and
// after it acts): a read-only walk of a stream directory with the format and segment
// layers, independent of Wal::Open, so that it reports every problem it can find instead
// of stopping at the first, and changes nothing.
//
// For one stream directory it checks:
//   - the listing: segment files, segments.idx, head.state, stream.key, durable.pos;
//     leftovers of interrupted atomic writes (*.tmp), truncations and rotations; files
//     ironwal does not know (noted, not findings) and quarantine files (noted);
//   - segments.idx: missing, malformed (with the offending offset), stale (a segment file
//     holding data that it does not list, a head.state naming a newer segment), segments
//     it lists that are missing (at the front: an interrupted truncation; in the middle:
//     lost IDs);
//   - head.state: malformed, naming a missing segment, or not naming the active one;
//   - stream.key: malformed, or recording a key whose directory is another one;
//   - durable.pos: malformed, naming a segment past the active one, or an offset past the
//     end of the active segment (synced data that is gone);
//   - every frame of every segment, sealed and active: header, bounds, CRC, the entry
//     block, and ID continuity within a segment and across segments (a segment's first
//     frame starts at the ID its name says, and where the previous segment ended). After
//     a bad spot the walk resumes at the next CRC-valid frame, so later damage is found
//     too. For the active segment, the verdict recovery would reach (ScanActiveSegment's
//     decision-table row) is added to the finding.
//
// Every finding names the file and, where there is one, the byte offset, and says
// whether `ironwal repair` can fix it (Fix).
//
// Thread-safety: free functions; the Env must be usable concurrently if callers are.
#ifndef IRONWAL_CLI_VERIFIER_H_
#define IRONWAL_CLI_VERIFIER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "ironwal/env/env.h"

namespace ironwal {
namespace cli {

// What `ironwal repair` can do about a finding.
enum class Fix {
  kNone,        // nothing: IDs are lost, or a file does not belong where it is
  kRecovery,    // opening the stream under CorruptionPolicy::kTruncate fixes it
  kHeadState,   // rewriting head.state to name the active segment fixes it
  kDurablePos,  // rewriting durable.pos (conservatively, at the active segment's start)
};

struct Finding {
  std::string path;  // the file (or directory) concerned
  std::optional<uint64_t> offset;
  std::string message;
  Fix fix = Fix::kNone;

  // "path@offset: message" (or "path: message").
  std::string ToString() const;
};

struct StreamCheck {
  std::string dir;   // the directory name
  std::string path;  // the directory's path
  std::string key;   // stream.key's key, or the directory name when unknown
  std::vector<Finding> findings;
  std::vector<std::string> notes;  // worth knowing, not wrong
  std::vector<uint64_t> segments;  // the segment start IDs, as recovery would settle them
  uint64_t first_id = 0;
  uint64_t next_id = 0;  // after the active segment's verified frames
  uint64_t frames = 0;   // CRC-valid frames walked
  uint64_t entries = 0;
  uint64_t bytes = 0;  // segment file bytes

  bool clean() const { return findings.empty(); }
  // Whether every finding has a fix other than kNone.
  bool repairable() const;
};

// Whether the directory `path` is a stream directory: it holds a segment file,
// segments.idx, head.state, stream.key, durable.pos or truncate.intent (recovery's rule,
// StreamListing::is_stream; other directories are left alone).
absl::StatusOr<bool> IsStreamDir(Env* env, const std::string& path);

// The names of the stream directories under `root`, sorted. NotFound if root is missing.
absl::StatusOr<std::vector<std::string>> ListStreamDirs(Env* env, const std::string& root);

// Checks the stream directory `root`/`dir` without changing anything and without the
// root's LOCK. Errors are I/O errors only (a file that cannot be read at all); what the
// bytes mean is in the result.
absl::StatusOr<StreamCheck> CheckStream(Env* env, const std::string& root, const std::string& dir);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_VERIFIER_H_
