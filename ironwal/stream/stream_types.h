// File: ironwal/stream/stream_types.h
//
// The value types a stream reports: ID ranges, what opening it found, its state, and what
// a truncation did. Plain values, no I/O.
//
// Thread-safety: values; copy them freely.
#ifndef IRONWAL_STREAM_STREAM_TYPES_H_
#define IRONWAL_STREAM_STREAM_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "ironwal/segment/segment_scan.h"

namespace ironwal {

// Half-open range of IDs [first, end).
struct IdRange {
  uint64_t first = 0;
  uint64_t end = 0;

  uint64_t size() const { return end - first; }
  bool empty() const { return first == end; }
  friend bool operator==(const IdRange& a, const IdRange& b) {
    return a.first == b.first && a.end == b.end;
  }
};

// What opening a stream's directory found and did.
struct StreamRecoveryReport {
  std::string dir;             // the stream's directory name
  std::string directory_rows;  // the rows of directory_plan.h's table that applied
  bool index_rebuilt = false;  // segments.idx was missing or bad
  std::string index_problem;
  bool index_rewritten = false;            // segments.idx was corrected on disk
  std::vector<std::string> removed_files;  // leftovers of interrupted rotations/truncations
  std::string head_state_problem;          // head.state was unreadable and ignored
  ScanOutcome tail = ScanOutcome::kClean;  // the active segment's scan
  char tail_row = 'A';                     // its row in segment_scan.h's decision table
  std::string tail_reason;
  uint64_t cut_offset = 0;      // where the active segment was cut
  uint64_t cut_bytes = 0;       // how many bytes were cut off
  std::string quarantine_file;  // where cut-off corrupt bytes were kept
  // IDs [lost_first, lost_end) the cut bytes held, recorded in lost.ids; the stream
  // continues at lost_end (empty when none).
  uint64_t lost_first = 0;
  uint64_t lost_end = 0;

  // True when recovery changed nothing worth mentioning.
  bool clean() const;
  // One line per finding.
  std::string ToString() const;
};

struct StreamInfo {
  std::string key;         // the original key, or the directory name if never recorded
  bool key_known = false;  // whether the original key is recorded (stream.key)
  std::string dir;
  uint64_t first_id = 0;  // the first ID still retained
  uint64_t next_id = 0;   // the ID the next append gets
  uint64_t segment_count = 0;
  uint64_t active_segment_start_id = 0;
  uint64_t bytes = 0;     // sum of the segment files' sizes (including buffered bytes)
  absl::Status poisoned;  // OK, or the first write error
};

struct TruncateResult {
  uint64_t segments_removed = 0;
  uint64_t first_id = 0;  // the first retained ID afterwards
};

}  // namespace ironwal

#endif  // IRONWAL_STREAM_STREAM_TYPES_H_
