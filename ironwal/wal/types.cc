// The out-of-line parts of the public value types (types.h).
#include "ironwal/wal/types.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ironwal {

const char* ScanOutcomeName(ScanOutcome outcome) {
  switch (outcome) {
    case ScanOutcome::kClean:
      return "clean";
    case ScanOutcome::kTorn:
      return "torn tail";
    case ScanOutcome::kCorrupt:
      return "corrupt";
    case ScanOutcome::kWrongSegment:
      return "wrong segment";
  }
  return "?";
}

bool StreamRecoveryReport::clean() const {
  return !index_rebuilt && !index_rewritten && removed_files.empty() &&
         head_state_problem.empty() && tail == ScanOutcome::kClean;
}

std::string StreamRecoveryReport::ToString() const {
  std::vector<std::string> lines;
  const std::string rows = absl::StrCat(" (directory plan rows ", directory_rows, ")");
  if (index_rebuilt) {
    lines.push_back(absl::StrCat(dir, ": segments.idx rebuilt", rows, ": ", index_problem));
  }
  if (index_rewritten && !index_rebuilt) {
    lines.push_back(absl::StrCat(dir, ": segments.idx corrected", rows));
  }
  for (const std::string& f : removed_files) lines.push_back(absl::StrCat(dir, ": removed ", f));
  if (!head_state_problem.empty()) {
    lines.push_back(absl::StrCat(dir, ": head.state ignored: ", head_state_problem));
  }
  if (tail != ScanOutcome::kClean) {
    lines.push_back(absl::StrCat(dir, ": active segment ", ScanOutcomeName(tail), " (row ",
                                 std::string(1, tail_row), ") at byte ", cut_offset, ": ",
                                 tail_reason, "; ", cut_bytes, " bytes cut"));
  }
  if (!quarantine_file.empty()) {
    lines.push_back(absl::StrCat(dir, ": cut bytes kept in ", quarantine_file));
  }
  if (lost_end > lost_first) {
    lines.push_back(absl::StrCat(dir, ": IDs [", lost_first, ", ", lost_end,
                                 ") recorded as lost (lost.ids); the stream continues at ",
                                 lost_end));
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace ironwal
