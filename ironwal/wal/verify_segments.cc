// `ironwal verify`: walking the segment files of a stream (see verifier.h).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/frame_index_file.h"
#include "ironwal/wal/maintenance.h"
#include "ironwal/wal/verifier_internal.h"

namespace ironwal {
namespace internal {

namespace verifier_internal {
namespace {

constexpr size_t kReadAhead = 1 << 20;
// Past this many findings in one file the walk stops listing them.
constexpr size_t kMaxFindingsPerFile = 16;

std::string Ids(const FrameHeader& header) {
  return absl::StrCat("IDs [", header.start_id, ", ", header.end_id(), ")");
}

// Checks a CRC-valid frame's entry block and IDs; adds findings to `walk`.
void CheckValidFrame(const std::string& path, const FrameCursor::Item& item, uint64_t start_id,
                     bool first, SegmentWalk* walk) {
  const FrameHeader& h = item.header;
  ++walk->frames;
  walk->entries += h.entry_count;
  absl::StatusOr<DecodedPayload> block = DecodePayload(h, item.payload);
  if (!block.ok()) {
    walk->findings.push_back({path, item.offset,
                              absl::StrCat("frame of ", Ids(h), " has a valid CRC but a bad ",
                                           "entry block: ", block.status().message())});
  }
  if (first && h.start_id != start_id) {
    walk->findings.push_back(
        {path, item.offset,
         absl::StrCat("the first frame holds ", Ids(h), " but the file's name says the segment ",
                      "starts at ID ", start_id, ": this file does not belong here")});
  } else if (h.start_id > walk->end_id) {
    walk->findings.push_back(
        {path, item.offset,
         absl::StrCat("frame of ", Ids(h), " follows ID ", walk->end_id - 1, ": IDs [",
                      walk->end_id, ", ", h.start_id, ") are missing")});
  } else if (h.start_id < walk->end_id) {
    walk->findings.push_back({path, item.offset,
                              absl::StrCat("frame of ", Ids(h), " overlaps the IDs before it (",
                                           "expected a frame starting at ID ", walk->end_id, ")")});
  }
  walk->end_id = h.end_id();
}

// What is wrong with an item that is not a CRC-valid frame; empty for a good one.
std::string Problem(const FrameCursor::Item& item, uint64_t size) {
  switch (item.kind) {
    case FrameCursor::Kind::kEnd:
      return "";
    case FrameCursor::Kind::kTruncatedHeader:
      return absl::StrCat("frame header cut short: ", size - item.offset, " of ",
                          format::kFrameHeaderSize, " bytes before the end of the file");
    case FrameCursor::Kind::kBadHeader:
      return absl::StrCat("not a frame header: ", item.problem.message());
    case FrameCursor::Kind::kTruncatedPayload:
      return absl::StrCat("frame of ", Ids(item.header), " needs ", item.header.frame_size(),
                          " bytes but the file ends after ", size - item.offset);
    case FrameCursor::Kind::kFrame:
      break;
  }
  absl::Status crc = VerifyFramePayload(item.header, item.payload);
  if (crc.ok()) return "";
  return absl::StrCat("frame of ", Ids(item.header), ": ", crc.message());
}

}  // namespace

absl::StatusOr<SegmentWalk> WalkSegment(Env* env, const std::string& path, uint64_t start_id,
                                        const OffsetIndex* frame_index) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env->NewRandomAccessFile(path, RandomAccessFileOptions()));
  SegmentWalk walk;
  IRONWAL_ASSIGN_OR_RETURN(walk.file_size, file->Size());
  walk.end_id = start_id;
  FrameCursor cursor(file.get(), 0, walk.file_size, kReadAhead);
  // Each round moves the cursor forward (past a frame, or to a later valid frame), so the
  // loop ends within file_size rounds.
  for (bool first = true;; first = false) {
    if (walk.findings.size() >= kMaxFindingsPerFile) {
      walk.findings.push_back({path, cursor.offset(), "more problems may follow; not listed"});
      return walk;
    }
    IRONWAL_ASSIGN_OR_RETURN(const FrameCursor::Item item, cursor.Next());
    if (item.kind == FrameCursor::Kind::kEnd) return walk;
    std::string problem = Problem(item, walk.file_size);
    if (problem.empty()) {
      CheckValidFrame(path, item, start_id, first, &walk);
      if (frame_index != nullptr && !walk.frame_index_differs_at.has_value()) {
        const std::optional<FrameLocation> said = frame_index->FrameAt(item.offset);
        if (!said.has_value() || said->start_id != item.header.start_id ||
            said->entry_count != item.header.entry_count ||
            said->size != item.header.frame_size()) {
          walk.frame_index_differs_at = item.offset;
        }
      }
      continue;
    }
    IRONWAL_ASSIGN_OR_RETURN(const std::optional<uint64_t> next,
                             FindNextValidFrame(*file, item.offset + 1, walk.file_size, 0));
    if (!next.has_value()) {
      absl::StrAppend(&problem, "; no valid frame follows (", walk.file_size - item.offset,
                      " bytes to the end of the file)");
      walk.findings.push_back({path, item.offset, std::move(problem)});
      return walk;
    }
    absl::StrAppend(&problem, "; the next valid frame is at byte ", *next, " (",
                    *next - item.offset, " bytes skipped)");
    walk.findings.push_back({path, item.offset, std::move(problem)});
    // A frame whose header fits between its neighbours (only its payload or CRC is bad)
    // accounts for its IDs: they are damaged, not missing.
    if (item.kind == FrameCursor::Kind::kFrame && item.header.start_id == walk.end_id &&
        *next == item.offset + item.header.frame_size()) {
      walk.end_id = item.header.end_id();
    }
    cursor.Seek(*next);
  }
}

namespace {

// What `ironwal repair` would do about the active segment's tail, after the scan.
std::string Verdict(const SegmentScan& scan, const std::string& path) {
  const std::string row = absl::StrCat("row ", std::string(1, scan.row));
  const uint64_t cut = scan.file_size - scan.valid_end;
  const std::string keep = absl::StrCat(Basename(path), format::kQuarantineInfix, scan.valid_end);
  switch (scan.outcome) {
    case ScanOutcome::kClean:
      return "";
    case ScanOutcome::kTorn:
      return absl::StrCat(
          " [active segment: a torn tail (", row, "); repair cuts the last ", cut, " bytes",
          scan.next_valid_offset.has_value() ? absl::StrCat(" and keeps them in ", keep)
                                             : std::string(),
          "]");
    case ScanOutcome::kCorrupt:
      return absl::StrCat(
          " [active segment: corruption (", row,
          scan.row == 'H'
              ? ": before the durable frontier"
              : absl::StrCat(": valid frames follow at byte ", scan.next_valid_offset.value_or(0)),
          "); repair keeps the last ", cut, " bytes in ", keep,
          " and cuts the segment there: IDs from ", scan.end_id, " on leave the log]");
    case ScanOutcome::kWrongSegment:
      return absl::StrCat(" [active segment (", row, "): repair cannot fix it]");
  }
  return "";
}

// Checks durable.pos against the active segment (`active`, `active_size` bytes) and
// returns the scan options recovery would use.
absl::StatusOr<ScanOptions> CheckDurablePos(Env* env, const Listing& listing, uint64_t active,
                                            uint64_t active_size, StreamCheck* check) {
  ScanOptions options;
  options.buffer_size = kReadAhead;
  options.env = env;
  if (!listing.has_durable_pos) return options;
  const std::string path = JoinPath(check->path, format::kDurablePosFileName);
  IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env, path));
  absl::StatusOr<DurablePos> pos = DecodeDurablePos(contents);
  if (!pos.ok()) {
    check->findings.push_back(
        {path, std::nullopt,
         absl::StrCat("malformed: ", pos.status().message(), "; repair rewrites it"),
         FindingFix::kDurablePos});
    return options;
  }
  if (pos->segment_start_id > active) {
    check->findings.push_back(
        {path, std::nullopt,
         absl::StrCat("names segment ", SegmentFileName(pos->segment_start_id),
                      ", past the active segment ", SegmentFileName(active),
                      "; repair rewrites it"),
         FindingFix::kDurablePos});
    return options;
  }
  options.durable_offset_known = true;
  if (pos->segment_start_id == active) {
    options.durable_offset = pos->offset;
    if (pos->offset > active_size) {
      check->findings.push_back(
          {path, std::nullopt,
           absl::StrCat("says ", SegmentFileName(active), " was synced up to byte ", pos->offset,
                        " but the file holds ", active_size, " bytes: synced data is gone ",
                        "(IDs that were acknowledged are lost)")});
    }
  }
  return options;
}

// Scans the active segment as recovery would, adds the verdict to the walk's finding at
// the first unverified frame, and says which findings repair fixes.
absl::Status JudgeActive(Env* env, const std::string& path, uint64_t start,
                         const ScanOptions& options, SegmentWalk walk, StreamCheck* check) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env->NewRandomAccessFile(path, RandomAccessFileOptions()));
  OffsetIndex index(start);
  IRONWAL_ASSIGN_OR_RETURN(const SegmentScan scan,
                           ScanActiveSegment(*file, start, options, &index));
  const bool cut = scan.outcome == ScanOutcome::kTorn || scan.outcome == ScanOutcome::kCorrupt;
  check->next_id = scan.outcome == ScanOutcome::kWrongSegment ? start : scan.end_id;
  bool annotated = scan.outcome == ScanOutcome::kClean;
  for (Finding& finding : walk.findings) {
    const uint64_t at = finding.offset.value_or(0);
    // A zero tail (row Z) is the segment's clean end, not a problem.
    if (scan.row == 'Z' && at >= scan.valid_end) continue;
    // A cut removes everything from the first unverified frame on.
    if (cut && at >= scan.valid_end) finding.fix = FindingFix::kRecovery;
    if (!annotated && at == scan.valid_end) {
      finding.message += Verdict(scan, path);
      annotated = true;
    }
    check->findings.push_back(std::move(finding));
  }
  if (!annotated) {
    check->findings.push_back({path, scan.valid_end, scan.reason + Verdict(scan, path),
                               cut ? FindingFix::kRecovery : FindingFix::kNone});
  }
  return absl::OkStatus();
}

// A range of lost.ids that the active segment's end falls in: a repair recorded the loss
// and stopped before the stream continued past it (recovery finishes that).
absl::Status CheckLostPastEnd(const std::string& path, StreamCheck* check) {
  for (const auto& [first, end] : check->lost) {
    if (first <= check->next_id && check->next_id < end) {
      check->findings.push_back({path, std::nullopt,
                                 absl::StrCat("ends at ID ", check->next_id, ", inside IDs [",
                                              first, ", ", end, ") that ", format::kLostIdsFileName,
                                              " records as lost: an interrupted "
                                              "repair; repair continues the stream at ID ",
                                              end),
                                 FindingFix::kRecovery});
    }
  }
  return absl::OkStatus();
}

std::string FrameIndexNote(const std::string& frame_index_path, absl::string_view why) {
  return absl::StrCat(frame_index_path, ": ", why,
                      "; reads walk the segment instead (a read-write Wal removes the file)");
}

// Loads the frame index file of the sealed segment at `path`, [start, end_id), as the first
// read of it would: nullptr, with a note, when a read would not take it.
absl::StatusOr<std::shared_ptr<OffsetIndex>> CheckFrameIndex(Env* env, const std::string& path,
                                                             uint64_t start, uint64_t end_id,
                                                             StreamCheck* check) {
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(path));
  absl::StatusOr<std::shared_ptr<OffsetIndex>> index =
      LoadFrameIndex(env, check->path, start, end_id, size);
  if (index.ok()) return index;
  if (absl::IsNotFound(index.status())) return nullptr;  // gone since the listing
  if (!absl::IsDataLoss(index.status())) return index.status();
  const std::string frame_index_path = JoinPath(check->path, FrameIndexFileName(start));
  check->notes.push_back(FrameIndexNote(
      frame_index_path,
      absl::StripPrefix(index.status().message(), absl::StrCat("read ", frame_index_path, ": "))));
  return nullptr;
}

// A frame index file that passed its load checks but frames the segment otherwise (a
// read that meets the difference gives it up for a walk, Stream::ReadFrameAt).
void NoteFrameIndexAgainstWalk(const OffsetIndex& frame_index, const SegmentWalk& walk,
                               StreamCheck* check) {
  const std::string path =
      JoinPath(check->path, FrameIndexFileName(frame_index.segment_start_id()));
  if (walk.frame_index_differs_at.has_value()) {
    check->notes.push_back(FrameIndexNote(
        path, absl::StrCat("does not describe the frame at byte ", *walk.frame_index_differs_at,
                           " as the segment holds it")));
  } else if (walk.findings.empty() && frame_index.frame_count() != walk.frames) {
    check->notes.push_back(
        FrameIndexNote(path, absl::StrCat("describes ", frame_index.frame_count(),
                                          " frames; the segment holds ", walk.frames)));
  }
}

}  // namespace

absl::Status CheckSegments(Env* env, const Listing& listing, StreamCheck* check) {
  const std::vector<uint64_t>& segments = check->segments;
  check->first_id = segments.front();
  check->next_id = segments.back();
  // Frame index files of no sealed segment (the active one included): harmless, as no read
  // looks a file up for a segment that is not there.
  for (const auto& [start, name] : listing.frame_indexes) {
    if (!std::binary_search(segments.begin(), segments.end() - 1, start)) {
      check->notes.push_back(absl::StrCat(JoinPath(check->path, name),
                                          ": no sealed segment starts at ID ", start,
                                          "; nothing reads it"));
    }
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    const uint64_t start = segments[i];
    const bool active = i + 1 == segments.size();
    const std::string path = JoinPath(check->path, SegmentFileName(start));
    if (listing.segments.count(start) == 0) {
      // Missing segments before the active one were reported with segments.idx.
      if (active) {
        IRONWAL_RETURN_IF_ERROR(CheckDurablePos(env, listing, start, 0, check).status());
      }
      continue;
    }
    // A sealed segment's frame index file: compared with the walk (below).
    std::shared_ptr<OffsetIndex> frame_index;
    if (!active && listing.frame_indexes.count(start) != 0) {
      IRONWAL_ASSIGN_OR_RETURN(frame_index,
                               CheckFrameIndex(env, path, start, segments[i + 1], check));
    }
    IRONWAL_ASSIGN_OR_RETURN(SegmentWalk walk, WalkSegment(env, path, start, frame_index.get()));
    if (frame_index != nullptr) NoteFrameIndexAgainstWalk(*frame_index, walk, check);
    check->frames += walk.frames;
    check->entries += walk.entries;
    check->bytes += walk.file_size;
    if (active) {
      IRONWAL_ASSIGN_OR_RETURN(const ScanOptions options,
                               CheckDurablePos(env, listing, start, walk.file_size, check));
      IRONWAL_RETURN_IF_ERROR(JudgeActive(env, path, start, options, std::move(walk), check));
      return CheckLostPastEnd(path, check);
    }
    for (Finding& finding : walk.findings) {
      finding.message += " [sealed segment: repair cannot fix it]";
      check->findings.push_back(std::move(finding));
    }
    // Reads refuse a sealed segment whose frame stamps name another stream (row L).
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                             env->NewRandomAccessFile(path, RandomAccessFileOptions()));
    const absl::Status belongs = CheckSegmentStream(*file, kReadAhead);
    if (absl::IsDataLoss(belongs)) {
      const absl::string_view reason =
          absl::StripPrefix(belongs.message(), absl::StrCat("index ", path, "@0: "));
      check->findings.push_back(
          {path, 0, absl::StrCat(reason, " [sealed segment: repair cannot fix it]")});
    } else {
      IRONWAL_RETURN_IF_ERROR(belongs);
    }
    const uint64_t next = segments[i + 1];
    if (walk.end_id < next && walk.findings.empty() &&
        LostIdsCover(check->lost, walk.end_id, next)) {
      check->notes.push_back(absl::StrCat(path, ": IDs [", walk.end_id, ", ", next,
                                          ") were cut out of the log by a repair (",
                                          format::kLostIdsFileName, "); they read as DataLoss"));
    } else if (walk.end_id < next) {
      check->findings.push_back(
          {path, walk.file_size,
           absl::StrCat("the segment ends at ID ", walk.end_id, " but the next one starts at ",
                        next, ": IDs [", walk.end_id, ", ", next, ") are missing")});
    } else if (walk.end_id > next) {
      check->findings.push_back(
          {path, walk.file_size,
           absl::StrCat("the segment ends at ID ", walk.end_id, ", past the next segment's start ",
                        next, ": IDs overlap")});
    }
  }
  return absl::OkStatus();
}

}  // namespace verifier_internal

}  // namespace internal
}  // namespace ironwal
