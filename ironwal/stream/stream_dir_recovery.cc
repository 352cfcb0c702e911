// StreamDir: recovering an existing stream directory.
//
// 1. Plan the directory (ironwal/stream/directory_plan.h): which segments make up the
//    stream, which files are leftovers, whether segments.idx must be rewritten, or why
//    the directory cannot be used (then nothing is changed).
// 2. Apply the plan (ApplyDirectoryPlan), unless the Wal is opened read-only.
// 3. Scan the active segment (ScanActiveSegment) and act on the decision table in
//    ironwal/segment/segment_scan.h under the corruption policy.
// 4. Cut what follows the verified frames, write the verified bytes past the durable
//    frontier again over themselves and sync them (SettleActiveSegment, whose steps are
//    ordered so that a crash or an I/O error after any of them loses no verified frame):
//    what a reopened stream shows is durable.
// 5. Under kTruncate, when the cut corrupt bytes held frames of later IDs, those IDs are
//    recorded in lost.ids (before the cut) and the stream continues in a new segment at
//    the end of the lost range (ContinuePastLoss): they are never handed out again, and
//    read as DataLoss.
// Every change (index rewrite, removals, a cut tail, a quarantine file) is durable
// before the stream is used, and none is made when the Wal is opened read-only.
#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/stream_dir.h"

namespace ironwal {
namespace internal {
namespace {

using IdRanges = std::vector<std::pair<uint64_t, uint64_t>>;

// One past the last ID of the CRC-valid frames in the corrupt bytes the scan cut (from
// its next valid frame on), or the scan's end when none: the IDs the cut takes.
absl::StatusOr<uint64_t> LostEnd(const RandomAccessFile& file, const SegmentScan& scan) {
  uint64_t end = scan.end_id;
  std::optional<uint64_t> at = scan.next_valid_offset;
  std::string scratch(format::kFrameHeaderSize, '\0');
  while (at.has_value()) {
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view bytes,
                             file.Read(*at, format::kFrameHeaderSize, &scratch[0]));
    IRONWAL_ASSIGN_OR_RETURN(const FrameHeader header, DecodeFrameHeader(bytes));
    end = std::max(end, header.end_id());
    IRONWAL_ASSIGN_OR_RETURN(
        at, FindNextValidFrame(file, *at + header.frame_size(), scan.file_size, end));
  }
  return end;
}

// `lost` with [first, end) added (ranges merged, sorted).
IdRanges AddLost(IdRanges lost, uint64_t first, uint64_t end) {
  lost.emplace_back(first, end);
  std::sort(lost.begin(), lost.end());
  IdRanges merged;
  for (const auto& range : lost) {
    if (!merged.empty() && range.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, range.second);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

}  // namespace

// stream.key, when it records a key that maps to this directory. An unreadable one leaves
// the key unknown (the next write records it again); one naming another directory is
// another stream's file, copied here.
void StreamDir::ReadKeyFile() {
  absl::StatusOr<std::string> contents =
      ReadFileToString(env_, JoinPath(dir_path_, format::kStreamKeyFileName));
  absl::StatusOr<std::string> key =
      contents.ok() ? DecodeStreamKey(*contents) : absl::StatusOr<std::string>(contents.status());
  absl::StatusOr<std::string> dir = key.ok() ? StreamDirName(*key) : key.status();
  if (dir.ok() && *dir == dir_name_) {
    MutexLock lock(&key_mu_);
    key_ = *std::move(key);
    key_known_ = true;
  }
}

absl::Status StreamDir::Recover(StreamRecoveryReport* report, bool* is_stream) {
  Memory before = SaveMemory();
  absl::Status recovered = RecoverSteps(report, is_stream);
  if (!recovered.ok()) RestoreMemory(std::move(before));
  return recovered;
}

StreamDir::Memory StreamDir::SaveMemory() const {
  Memory m;
  m.on_disk = on_disk_;
  m.write_index = write_index_;
  m.active_file_exists = active_file_exists_;
  m.names_synced = names_synced_;
  m.closed_size = closed_.size;
  m.closed_synced = closed_.synced;
  m.write_next_id = write_next_id_;
  m.frontier_written = frontier_written_;
  {
    ReaderMutexLock lock(&segments_mu_);
    m.segments = segments_;
    m.active_index = active_index_;
  }
  m.first_id = first_id_.load(std::memory_order_acquire);
  m.next_id = next_id_.load(std::memory_order_acquire);
  m.flushed_offset = flushed_offset_.load(std::memory_order_acquire);
  m.deleted = deleted_.load(std::memory_order_acquire);
  MutexLock lock(&key_mu_);
  m.key_file_pending = key_file_pending_.load(std::memory_order_relaxed);
  return m;
}

// The segment list, its active index and the first ID change together, under
// segments_mu_, as a reader sees them.
void StreamDir::RestoreMemory(Memory m) {
  on_disk_ = m.on_disk;
  write_index_ = std::move(m.write_index);
  active_file_exists_ = m.active_file_exists;
  names_synced_ = m.names_synced;
  closed_.size = m.closed_size;
  closed_.synced = m.closed_synced;
  write_next_id_ = m.write_next_id;
  frontier_written_ = m.frontier_written;
  {
    WriterMutexLock lock(&segments_mu_);
    segments_ = std::move(m.segments);
    active_index_ = std::move(m.active_index);
    first_id_.store(m.first_id, std::memory_order_release);
  }
  next_id_.store(m.next_id, std::memory_order_release);
  flushed_offset_.store(m.flushed_offset, std::memory_order_release);
  deleted_.store(m.deleted, std::memory_order_release);
  MutexLock lock(&key_mu_);
  key_file_pending_.store(m.key_file_pending, std::memory_order_release);
}

absl::Status StreamDir::RecoverSteps(StreamRecoveryReport* report, bool* is_stream) {
  report->dir = dir_name_;
  // As a new session's (Stream::Reopen recovers a directory used before).
  names_synced_ = false;
  deleted_.store(false, std::memory_order_release);
  IRONWAL_ASSIGN_OR_RETURN(DirectoryState state, ReadDirectoryState(env_, dir_path_));
  *is_stream = state.listing.is_stream;
  if (!*is_stream) return absl::OkStatus();
  if (state.listing.has_log_intent) {
    // An interrupted suffix truncation or reset: finished before anything else.
    if (options_.read_only) {
      // The whole root is refused (README, FORMAT.md): a read-only opener must neither
      // write nor show a state between the old log and the new one.
      ReadKeyFile();
      return absl::FailedPreconditionError(absl::StrCat(
          "open ", dir_path_, " (stream '", absl::CEscape(key()), "') read-only: ",
          format::kLogIntentFileName, ": an interrupted suffix truncation or reset; ",
          "open the Wal read-write to finish it, or run `ironwal repair ", options_.root,
          "`; a read-only open changes nothing, so it refuses the whole root rather than show "
          "a state between the stream's old log and its new one"));
    }
    IRONWAL_ASSIGN_OR_RETURN(std::optional<LogIntent> intent, ReadLogIntent(env_, dir_path_));
    if (intent.has_value()) {
      IRONWAL_RETURN_IF_ERROR(ApplyLogIntent(env_, dir_path_, *intent));
      report->removed_files.push_back(format::kLogIntentFileName);
    }
    IRONWAL_ASSIGN_OR_RETURN(state, ReadDirectoryState(env_, dir_path_));
  }
  PlanOptions plan_options;
  plan_options.repair = options_.on_corruption == CorruptionPolicy::kTruncate;
  IRONWAL_ASSIGN_OR_RETURN(
      const DirectoryPlan plan,
      SettleDirectory(env_, dir_path_, plan_options, options_.read_buffer_size, &state));
  if (plan.refusal.has_value()) {
    return absl::DataLossError(absl::StrCat("open ", dir_path_, ": ", *plan.refusal));
  }
  if (state.listing.has_key) {
    ReadKeyFile();
  } else {
    // A key known from a session before Stream::Reopen is recorded by the next write.
    MutexLock lock(&key_mu_);
    key_file_pending_.store(key_known_, std::memory_order_release);
  }
  report->directory_rows = plan.rows;
  report->index_rebuilt = plan.index_rebuilt;
  report->index_problem = plan.index_problem;
  report->index_rewritten = plan.rewrite_index;
  report->removed_files = plan.remove;
  report->head_state_problem = plan.head_state_problem;

  active_file_exists_ = plan.active_exists;
  SetSegments(plan.segments, nullptr);
  first_id_.store(plan.segments.front(), std::memory_order_release);
  on_disk_ = !plan.fresh;
  // A directory holding at most stream.key is a creation a crash interrupted before
  // segments.idx recorded the first ID: the stream is absent (CreateStream(s, n) must leave
  // it absent or at n, never at 0) until a write creates it again.
  if (plan.fresh) deleted_.store(true, std::memory_order_release);
  if (!options_.read_only) IRONWAL_RETURN_IF_ERROR(ApplyDirectoryPlan(plan));
  const auto listed = state.segment_sizes.find(plan.segments.back());
  const uint64_t listed_size =
      listed != state.segment_sizes.end() ? listed->second : std::numeric_limits<uint64_t>::max();
  IRONWAL_RETURN_IF_ERROR(
      RecoverActiveSegment(report, state.listing.has_durable_pos, plan.lost, listed_size));
  if (state.listing.has_first_id) IRONWAL_RETURN_IF_ERROR(ApplyFirstIdFile());
  return absl::OkStatus();
}

// In an order that a crash at any step leaves a state the next plan accepts: the index
// first (so removed files are no longer listed), then the leftovers, and truncate.intent
// only once the removals it confirms are durable.
absl::Status StreamDir::ApplyDirectoryPlan(const DirectoryPlan& plan) {
  if (plan.rewrite_index) {
    IRONWAL_RETURN_IF_ERROR(RewriteSegmentIndex(env_, dir_path_, plan.segments));
  }
  bool intent = false;
  for (const std::string& name : plan.remove) {
    if (name == format::kTruncateIntentFileName) {
      intent = true;
      continue;
    }
    IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env_, JoinPath(dir_path_, name)));
  }
  if (!plan.remove.empty()) IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
  if (intent) {
    IRONWAL_RETURN_IF_ERROR(
        RemoveFileIfPresent(env_, JoinPath(dir_path_, format::kTruncateIntentFileName)));
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
  }
  // This library only takes head.state as a hint, but ironwal 0.6 refuses a directory
  // whose head.state is malformed: write a good one so that 0.6 can open it again.
  if (!plan.head_state_problem.empty() && !plan.fresh) {
    IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env_,
                                                JoinPath(dir_path_, format::kHeadStateFileName),
                                                EncodeHeadState(plan.segments.back())));
  }
  return absl::OkStatus();
}

absl::Status StreamDir::RecoverActiveSegment(StreamRecoveryReport* report, bool has_durable_pos,
                                             IdRanges lost, uint64_t listed_size) {
  uint64_t first;
  const uint64_t start = Segments(&first).back();
  auto index = std::make_shared<OffsetIndex>(start);
  uint64_t next = start;
  closed_.size = 0;
  closed_.synced = 0;
  IRONWAL_ASSIGN_OR_RETURN(const ScanOptions scan_options, ReadFrontier(start, has_durable_pos));
  frontier_written_ = scan_options.durable_offset;
  if (!active_file_exists_ && frontier_written_ > 0) {
    IRONWAL_RETURN_IF_ERROR(MissingSyncedSegment(start, report));
  }
  if (active_file_exists_) {
    const std::string path = SegmentPath(start);
    IRONWAL_ASSIGN_OR_RETURN(const SegmentScan scan, ScanActive(path, start, scan_options,
                                                                listed_size, index.get(), report));
    uint64_t lost_end = scan.end_id;
    if (scan.outcome == ScanOutcome::kCorrupt &&
        options_.on_corruption == CorruptionPolicy::kTruncate) {
      IRONWAL_ASSIGN_OR_RETURN(lost_end, LostEndOf(path, scan));
    }
    if (scan.outcome != ScanOutcome::kClean) report->cut_bytes = scan.file_size - scan.valid_end;
    if (lost_end > scan.end_id) {
      // Recorded before anything is cut: the cut never forgets which IDs it takes.
      lost = AddLost(std::move(lost), scan.end_id, lost_end);
      if (!options_.read_only) {
        IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
            env_, JoinPath(dir_path_, format::kLostIdsFileName), EncodeLostIds(lost)));
      }
    }
    if (!options_.read_only) {
      IRONWAL_RETURN_IF_ERROR(SettleActiveSegment(path, start, scan, report));
    }
    closed_.size = scan.valid_end;
    closed_.synced = scan.valid_end;
    next = scan.end_id;
  }
  IRONWAL_RETURN_IF_ERROR(ContinuePastLoss(lost, &next, &index, report));
  {
    WriterMutexLock lock(&segments_mu_);
    active_index_ = index;
  }
  write_index_ = index;
  next_id_.store(next, std::memory_order_release);
  write_next_id_ = next;
  flushed_offset_.store(closed_.size, std::memory_order_release);
  return absl::OkStatus();
}

// The frontier durable.pos records for the active segment starting at `start`, as scan
// options: unknown without a readable durable.pos; 0 when it names an earlier segment.
// An I/O error reading durable.pos is returned: only a malformed file leaves the frontier
// unknown, or the scan would judge synced data as 0.6's and leave a frontier past what it cuts.
absl::StatusOr<ScanOptions> StreamDir::ReadFrontier(uint64_t start, bool has_durable_pos) {
  ScanOptions scan_options;
  scan_options.buffer_size = options_.read_buffer_size;
  scan_options.env = env_;
  if (!has_durable_pos) return scan_options;
  absl::StatusOr<std::string> contents =
      ReadFileToString(env_, JoinPath(dir_path_, format::kDurablePosFileName));
  if (!contents.ok()) return contents.status();
  absl::StatusOr<DurablePos> pos =
      contents.ok() ? DecodeDurablePos(*contents) : absl::StatusOr<DurablePos>(contents.status());
  if (pos.ok() && pos->segment_start_id <= start) {
    scan_options.durable_offset_known = true;
    scan_options.durable_offset = pos->segment_start_id == start ? pos->offset : 0;
  }
  return scan_options;
}

// Scans the active segment into `index` and reports it; DataLoss for the rows the
// corruption policy refuses.
absl::StatusOr<SegmentScan> StreamDir::ScanActive(const std::string& path, uint64_t start,
                                                  const ScanOptions& scan_options,
                                                  uint64_t listed_size, OffsetIndex* index,
                                                  StreamRecoveryReport* report) {
  // Holding the LOCK, the file cannot shrink under a mapping: scan it mapped, without
  // copies. A read-only opener has no LOCK, so it reads with pread (no SIGBUS). So does a
  // file that one read-ahead buffer holds (listed so at the open): a mapping, its page
  // faults and its unmapping cost more than one read (most of them, with many streams).
  RandomAccessFileOptions scan_file;
  scan_file.use_mmap = !options_.read_only && listed_size > options_.read_buffer_size;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env_->NewRandomAccessFile(path, scan_file));
  IRONWAL_ASSIGN_OR_RETURN(SegmentScan scan, ScanActiveSegment(*file, start, scan_options, index));
  file.reset();
  report->tail = scan.outcome;
  report->tail_row = scan.row;
  report->tail_reason = scan.reason;
  report->cut_offset = scan.valid_end;
  const std::string at = absl::StrCat("open ", path, "@", scan.valid_end, ": ");
  if (scan.outcome == ScanOutcome::kWrongSegment) {
    return absl::DataLossError(absl::StrCat(at, scan.reason, " (row ", std::string(1, scan.row),
                                            ": ", ScanRowMeaning(scan), ")"));
  }
  if (scan.outcome == ScanOutcome::kCorrupt && options_.on_corruption == CorruptionPolicy::kError) {
    return absl::DataLossError(absl::StrCat(
        at, scan.reason, " (row ", std::string(1, scan.row), ": ", ScanRowMeaning(scan),
        "); refusing to open under CorruptionPolicy::kError. `ironwal repair` or ",
        "CorruptionPolicy::kTruncate keeps the damaged bytes aside and cuts the segment"));
  }
  return scan;
}

// The end of the IDs the cut at scan.valid_end takes (LostEnd), read from `path`.
absl::StatusOr<uint64_t> StreamDir::LostEndOf(const std::string& path, const SegmentScan& scan) {
  RandomAccessFileOptions scan_file;
  scan_file.use_mmap = false;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env_->NewRandomAccessFile(path, scan_file));
  return LostEnd(*file, scan);
}

// Like a rotation (stream_dir.cc), in its crash order: the new segment exists durably
// named, then segments.idx lists it, then head.state and durable.pos name it. A crash
// before segments.idx lists it leaves an empty unlisted segment (directory plan row i:
// removed) and lost.ids still ending past the active segment: the next recovery does it
// again. A read-only opener reports it and changes nothing.
absl::Status StreamDir::ContinuePastLoss(const IdRanges& lost, uint64_t* next,
                                         std::shared_ptr<OffsetIndex>* index,
                                         StreamRecoveryReport* report) {
  auto range = std::find_if(lost.begin(), lost.end(),
                            [next](const auto& r) { return r.first <= *next && *next < r.second; });
  // Whatever the policy: a range past the active segment's end is a decision a kTruncate
  // recovery recorded and could not finish.
  if (range == lost.end()) return absl::OkStatus();
  report->lost_first = *next;
  report->lost_end = range->second;
  if (options_.read_only) return absl::OkStatus();
  const uint64_t new_start = range->second;
  {
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> created,
                             env_->NewWritableFile(SegmentPath(new_start)));
    IRONWAL_RETURN_IF_ERROR(created->Close());
  }
  IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
  IRONWAL_RETURN_IF_ERROR(AppendSegmentIndex(env_, dir_path_, new_start));
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(dir_path_, format::kHeadStateFileName),
                                              EncodeHeadState(new_start)));
  IRONWAL_RETURN_IF_ERROR(WriteFrontier(new_start, 0));
  frontier_written_ = 0;
  RecordSealedSize(env_, dir_path_, (*index)->segment_start_id(), closed_.size, first_id())
      .IgnoreError();
  {
    WriterMutexLock lock(&segments_mu_);
    segments_.push_back(new_start);
  }
  *index = std::make_shared<OffsetIndex>(new_start);
  *next = new_start;
  active_file_exists_ = true;
  closed_.size = 0;
  closed_.synced = 0;
  return absl::OkStatus();
}

// The active segment is missing although durable.pos says some of it was synced: row H
// with nothing left to cut. kTruncate starts the segment again, empty.
absl::Status StreamDir::MissingSyncedSegment(uint64_t start, StreamRecoveryReport* report) {
  const std::string path = SegmentPath(start);
  report->tail = ScanOutcome::kCorrupt;
  report->tail_row = 'H';
  report->tail_reason = absl::StrCat("the segment is missing, but durable.pos says its first ",
                                     frontier_written_, " bytes were synced");
  report->cut_offset = 0;
  if (options_.on_corruption == CorruptionPolicy::kError) {
    return absl::DataLossError(absl::StrCat(
        "open ", path, "@0: ", report->tail_reason,
        " (row H: damage in data that was synced); refusing to open under ",
        "CorruptionPolicy::kError. CorruptionPolicy::kTruncate starts the segment again"));
  }
  if (!options_.read_only) IRONWAL_RETURN_IF_ERROR(WriteFrontier(start, 0));
  frontier_written_ = 0;
  return absl::OkStatus();
}

absl::Status StreamDir::Quarantine(const std::string& path, uint64_t offset,
                                   StreamRecoveryReport* report) {
  IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env_, path));
  const std::string name = absl::StrCat(Basename(path), format::kQuarantineInfix, offset);
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(dir_path_, name),
                                              absl::string_view(contents).substr(offset)));
  report->quarantine_file = name;
  return absl::OkStatus();
}

// Cuts the active segment at the verified end X and makes the verified bytes durable. Each
// step leaves the disk so that a crash (or an I/O error) after it recovers at least the
// frames the scan verified, whatever the earlier steps did:
//   1. bytes past X that held verified frames (corruption, or holes in unsynced data) are
//      copied into a quarantine file, durably, before anything cuts them;
//   2. a frontier past X (row H under kTruncate) is lowered to X: durable.pos is only ever
//      behind the truth, and damage past it is then a torn tail, cut again if need be;
//   3. the bytes past X are cut (never a verified frame; a zero tail, row Z, too);
//   4. the verified bytes past the frontier are written again over themselves (the same
//      bytes at the same offsets: a crash in the middle of the write changes nothing) and
//      the file is synced, once for 3 and 4;
//   5. the frontier moves to X.
absl::Status StreamDir::SettleActiveSegment(const std::string& path, uint64_t start,
                                            const SegmentScan& scan, StreamRecoveryReport* report) {
  // A clean scan leaves bytes past X only as a zero tail (row Z): cut as well, unreported.
  const bool cut = scan.file_size > scan.valid_end;
  if (cut && (scan.next_valid_offset.has_value() || scan.outcome == ScanOutcome::kCorrupt)) {
    IRONWAL_RETURN_IF_ERROR(Quarantine(path, scan.valid_end, report));
  }
  if (scan.valid_end < frontier_written_) {
    IRONWAL_RETURN_IF_ERROR(WriteFrontier(start, scan.valid_end));
    frontier_written_ = scan.valid_end;
  }
  const bool rewrite = scan.valid_end > frontier_written_;
  if (!cut && !rewrite) return absl::OkStatus();
  {
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env_->NewAppendableFile(path));
    if (cut) IRONWAL_RETURN_IF_ERROR(file->Truncate(scan.valid_end));
    if (rewrite) {
      IRONWAL_RETURN_IF_ERROR(MakeTailDurable(path, file.get(), frontier_written_, scan.valid_end));
    }
    IRONWAL_RETURN_IF_ERROR(file->Sync());
    IRONWAL_RETURN_IF_ERROR(file->Close());
  }
  if (rewrite) {
    IRONWAL_RETURN_IF_ERROR(WriteFrontier(start, scan.valid_end));
    frontier_written_ = scan.valid_end;
  }
  return absl::OkStatus();
}

// The verified bytes [from, to) past the durable frontier may be in the page cache only:
// after a failed fsync Linux marks such pages clean without writing them, so syncing the
// file again would not make them durable. Writing them again does (new dirty pages). They
// are written over themselves, never cut first: until the sync, the disk holds either the
// old copy or the same bytes again. After the caller's sync, everything the reopened stream
// shows is durable, and later frames are never synced behind bytes that might vanish.
// Each chunk is read twice, and written only when both reads agree: a transient read error
// (a flipped bit) must not be written over the verified bytes.
absl::Status StreamDir::MakeTailDurable(const std::string& path, WritableFile* file, uint64_t from,
                                        uint64_t to) {
  constexpr uint64_t kChunk = 1 << 20;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> source,
                           env_->NewRandomAccessFile(path, RandomAccessFileOptions()));
  std::string chunk;
  std::string again;
  for (uint64_t at = from; at < to; at += chunk.size()) {
    const size_t n = static_cast<size_t>(std::min(kChunk, to - at));
    chunk.resize(n);
    again.resize(n);
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view bytes, source->Read(at, n, &chunk[0]));
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view check, source->Read(at, n, &again[0]));
    if (bytes.size() != n || check.size() != n) {
      return absl::DataLossError(absl::StrCat("rewrite ", path, "@", at, ": file ends after ",
                                              std::min(bytes.size(), check.size()), " of ", n,
                                              " bytes"));
    }
    if (bytes != check) {
      return absl::InternalError(absl::StrCat("rewrite ", path, "@", at, ": two reads of ", n,
                                              " verified bytes differ; nothing written"));
    }
    IRONWAL_RETURN_IF_ERROR(file->WriteAt(at, bytes));
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace ironwal
