// Stream: opening an existing stream directory.
//
// 1. List the directory. Segment files, segments.idx, head.state, stream.key and
//    durable.pos are recognized; "*.tmp" files are leftovers of interrupted atomic writes.
// 2. Decide the segment list. segments.idx is authoritative when it reads well (never
//    decreasing; ironwal 0.6's duplicate entries are merged). It is rebuilt from the
//    listing when it is missing or malformed, when head.state names a newer segment that
//    exists (an index that missed rotations, as ironwal 0.6 handles it), or when a segment
//    file holding data is not listed. Then:
//      - listed segments whose files are missing at the front were truncated (ironwal 0.6
//        removes the files before rewriting the index): dropped from the list;
//      - a missing last segment is an empty active segment (ironwal 0.6 lists a segment
//        before creating it): created by the first write;
//      - a missing segment in the middle is DataLoss: its IDs are gone;
//      - unlisted files below the first listed segment are leftovers of a truncation, and
//        empty unlisted files above the last of a rotation: both removed.
// 3. Scan the active segment (ScanActiveSegment) and act on the decision table in
//    ironwal/segment/segment_scan.h under the corruption policy.
// 4. Cut what follows the verified frames, write the verified bytes past the durable
//    frontier again over themselves and sync them (SettleActiveSegment, whose steps are
//    ordered so that a crash or an I/O error after any of them loses no verified frame):
//    what a reopened stream shows is durable.
// Every change (index rewrite, removals, a cut tail, a quarantine file) is durable
// before the stream is used, and none is made when the Wal is opened read-only.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/stream/stream.h"

namespace ironwal {
namespace {

using Listing = StreamListing;

std::vector<uint64_t> ListedIds(const Listing& listing, uint64_t from) {
  std::vector<uint64_t> ids;
  for (const auto& [id, name] : listing.segments) {
    if (id >= from) ids.push_back(id);
  }
  return ids;
}

// Whether segments.idx's front is damaged: its first segment is missing while an unlisted
// segment holding data lies below it. Neither kind of interrupted truncation leaves that
// (this library rewrites the index before removing files, ironwal 0.6 removes the files
// first), so the index must be rebuilt rather than the data below it removed as leftovers.
absl::StatusOr<bool> IndexFrontIsDamaged(Env* env, const std::string& dir, const Listing& listing,
                                         const std::vector<uint64_t>& index,
                                         StreamRecoveryReport* report) {
  if (index.empty() || listing.segments.count(index.front()) > 0) return false;
  for (const auto& [id, name] : listing.segments) {
    if (id >= index.front()) break;
    IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(JoinPath(dir, name)));
    if (size == 0) continue;
    report->index_problem =
        absl::StrCat("segments.idx starts at ", SegmentFileName(index.front()),
                     ", which is missing, while ", name, " below it holds data");
    return true;
  }
  return false;
}

// Each segment that `listed` (the index as read; empty when it was rebuilt) did not name
// must continue the segment before it: a segment copied from another stream would
// otherwise lend its frames to this stream's IDs. Walks the previous segment's headers.
absl::Status CheckUnlistedSegmentsContinue(Env* env, const std::string& dir, size_t buffer_size,
                                           const std::vector<uint64_t>& index,
                                           const std::vector<uint64_t>& listed,
                                           const std::string& where) {
  for (size_t i = 1; i < index.size(); ++i) {
    if (std::binary_search(listed.begin(), listed.end(), index[i])) continue;
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                             env->NewRandomAccessFile(JoinPath(dir, SegmentFileName(index[i - 1])),
                                                      RandomAccessFileOptions()));
    OffsetIndex scratch(index[i - 1]);
    const absl::Status walked =
        IndexSealedSegment(*file, index[i - 1], index[i], buffer_size, &scratch);
    if (absl::IsDataLoss(walked)) {
      return absl::DataLossError(absl::StrCat(
          where, ": segment ", SegmentFileName(index[i]),
          " is not listed in segments.idx and does not continue the segment before it (",
          walked.message(), "); it may belong to another stream"));
    }
    IRONWAL_RETURN_IF_ERROR(walked);
  }
  return absl::OkStatus();
}

}  // namespace

bool StreamRecoveryReport::clean() const {
  return !index_rebuilt && !index_rewritten && removed_files.empty() &&
         head_state_problem.empty() && tail == ScanOutcome::kClean;
}

std::string StreamRecoveryReport::ToString() const {
  std::vector<std::string> lines;
  if (index_rebuilt) lines.push_back(absl::StrCat(dir, ": segments.idx rebuilt: ", index_problem));
  if (index_rewritten && !index_rebuilt) lines.push_back(dir + ": segments.idx corrected");
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
  return absl::StrJoin(lines, "\n");
}

absl::StatusOr<std::unique_ptr<Stream>> Stream::Recover(const Shared* shared, std::string dir_name,
                                                        StreamRecoveryReport* report) {
  std::unique_ptr<Stream> stream(new Stream(shared, std::move(dir_name)));
  report->dir = stream->dir_name_;
  bool is_stream = false;
  {
    MutexLock lock(&stream->write_mu_);
    IRONWAL_RETURN_IF_ERROR(stream->RecoverDirectory(report, &is_stream));
  }
  if (!is_stream) return nullptr;
  return stream;
}

absl::Status Stream::RecoverDirectory(StreamRecoveryReport* report, bool* is_stream) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env_->GetChildren(dir_path_));
  const Listing listing = ListStreamFiles(children);
  *is_stream = !listing.segments.empty() || listing.has_index || listing.has_key;
  if (!*is_stream) return absl::OkStatus();
  const std::string where = OpDescription("open");

  if (listing.has_key) {
    absl::StatusOr<std::string> contents =
        ReadFileToString(env_, JoinPath(dir_path_, format::kStreamKeyFileName));
    absl::StatusOr<std::string> key =
        contents.ok() ? DecodeStreamKey(*contents) : absl::StatusOr<std::string>(contents.status());
    // A key that does not map to this directory is another stream's file (copied here):
    // not this stream's key.
    absl::StatusOr<std::string> dir = key.ok() ? StreamDirName(*key) : key.status();
    if (dir.ok() && *dir == dir_name_) {
      MutexLock lock(&key_mu_);
      key_ = *std::move(key);
      key_known_ = true;
    }
    // An unreadable stream.key leaves the key unknown; the next write records it again.
  }

  // Step 2: the segment list.
  std::vector<uint64_t> index;
  if (listing.has_index) {
    absl::StatusOr<std::vector<uint64_t>> read = ReadSegmentIndex(env_, dir_path_);
    if (read.ok()) {
      index = *std::move(read);
    } else if (absl::IsDataLoss(read.status())) {
      report->index_rebuilt = true;
      report->index_problem = std::string(read.status().message());
    } else {
      return read.status();
    }
  } else if (!listing.segments.empty()) {
    report->index_rebuilt = true;
    report->index_problem = "segments.idx is missing";
  }
  if (!report->index_rebuilt && index.empty() && !listing.segments.empty()) {
    // Never written empty (a new stream's holds 0): cut to nothing, e.g. by a file system
    // that lost the blocks of a file after a crash.
    report->index_rebuilt = true;
    report->index_problem = "segments.idx is empty";
  }
  if (!report->index_rebuilt) {
    IRONWAL_ASSIGN_OR_RETURN(const bool damaged_front,
                             IndexFrontIsDamaged(env_, dir_path_, listing, index, report));
    if (damaged_front) report->index_rebuilt = true;
  }
  if (report->index_rebuilt) index = ListedIds(listing, 0);
  const std::vector<uint64_t> listed_in_index =
      report->index_rebuilt ? std::vector<uint64_t>() : index;

  if (listing.has_head) {
    absl::StatusOr<std::string> contents =
        ReadFileToString(env_, JoinPath(dir_path_, format::kHeadStateFileName));
    absl::StatusOr<uint64_t> head =
        contents.ok() ? DecodeHeadState(*contents) : absl::StatusOr<uint64_t>(contents.status());
    if (!head.ok()) {
      report->head_state_problem = std::string(head.status().message());
    } else if (!index.empty() && *head > index.back() && listing.segments.count(*head) > 0) {
      report->index_rebuilt = true;
      report->index_problem = absl::StrCat("head.state names segment ", *head,
                                           ", newer than segments.idx's last ", index.back());
      index = ListedIds(listing, index.front());
    }
  }

  std::vector<std::string> leftovers = listing.temp_files;
  if (!index.empty()) {
    bool adopt = false;
    std::vector<uint64_t> unlisted_empty;
    for (const auto& [id, name] : listing.segments) {
      if (std::binary_search(index.begin(), index.end(), id)) continue;
      if (id < index.front()) {
        leftovers.push_back(name);  // Truncated: the index was rewritten first.
        continue;
      }
      IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env_->GetFileSize(JoinPath(dir_path_, name)));
      if (size == 0 && id > index.back()) {
        leftovers.push_back(name);  // An interrupted rotation's empty file.
      } else {
        adopt = true;  // A segment holding data that the index does not list.
      }
    }
    if (adopt) {
      report->index_rebuilt = true;
      report->index_problem = "a segment file holding data is not listed in segments.idx";
      index = ListedIds(listing, index.front());
      leftovers = listing.temp_files;
      for (const auto& [id, name] : listing.segments) {
        if (id < index.front()) leftovers.push_back(name);
      }
    }
    size_t missing_front = 0;
    while (missing_front + 1 < index.size() && listing.segments.count(index[missing_front]) == 0) {
      ++missing_front;
    }
    if (missing_front > 0) {
      index.erase(index.begin(), index.begin() + static_cast<std::ptrdiff_t>(missing_front));
      report->index_rewritten = true;
    }
    for (size_t i = 0; i + 1 < index.size(); ++i) {
      if (listing.segments.count(index[i]) == 0) {
        return absl::DataLossError(absl::StrCat(where, ": segment ", SegmentFileName(index[i]),
                                                " is listed in segments.idx but missing; IDs [",
                                                index[i], ", ", index[i + 1], ") are lost"));
      }
    }
  }
  if (report->index_rebuilt) report->index_rewritten = true;
  IRONWAL_RETURN_IF_ERROR(CheckUnlistedSegmentsContinue(env_, dir_path_, options_.read_buffer_size,
                                                        index, listed_in_index, where));

  const bool fresh = index.empty();  // Created but never written (or only stream.key).
  if (fresh) index = {0};
  active_file_exists_ = listing.segments.count(index.back()) > 0;
  {
    WriterMutexLock lock(&segments_mu_);
    segments_ = index;
  }
  first_id_.store(index.front(), std::memory_order_release);
  on_disk_ = !fresh;

  if (!options_.read_only) {
    if (report->index_rewritten && !fresh) {
      IRONWAL_RETURN_IF_ERROR(RewriteSegmentIndex(env_, dir_path_, index));
    }
    for (const std::string& name : leftovers) {
      absl::Status removed = env_->RemoveFile(JoinPath(dir_path_, name));
      if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
      report->removed_files.push_back(name);
    }
    if (!leftovers.empty()) IRONWAL_RETURN_IF_ERROR(env_->SyncDir(dir_path_));
    // This library only takes head.state as a hint, but ironwal 0.6 refuses a directory
    // whose head.state is malformed: write a good one so that 0.6 can open it again.
    if (!report->head_state_problem.empty() && !fresh) {
      IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(
          env_, JoinPath(dir_path_, format::kHeadStateFileName), EncodeHeadState(index.back())));
    }
  }
  return RecoverActiveSegment(report, listing.has_durable_pos);
}

absl::Status Stream::RecoverActiveSegment(StreamRecoveryReport* report, bool has_durable_pos) {
  uint64_t start;
  {
    ReaderMutexLock lock(&segments_mu_);
    start = segments_.back();
  }
  auto index = std::make_shared<OffsetIndex>(start);
  uint64_t next = start;
  active_size_ = 0;
  active_synced_ = 0;
  ScanOptions scan_options;
  scan_options.buffer_size = options_.read_buffer_size;
  if (has_durable_pos) {
    absl::StatusOr<std::string> contents =
        ReadFileToString(env_, JoinPath(dir_path_, format::kDurablePosFileName));
    absl::StatusOr<DurablePos> pos =
        contents.ok() ? DecodeDurablePos(*contents) : absl::StatusOr<DurablePos>(contents.status());
    if (pos.ok() && pos->segment_start_id <= start) {
      scan_options.durable_offset_known = true;
      scan_options.durable_offset = pos->segment_start_id == start ? pos->offset : 0;
    }
  }
  frontier_written_ = scan_options.durable_offset;
  if (!active_file_exists_ && frontier_written_ > 0) {
    IRONWAL_RETURN_IF_ERROR(MissingSyncedSegment(start, report));
  }
  if (active_file_exists_) {
    const std::string path = SegmentPath(start);
    // Holding the LOCK, the file cannot shrink under a mapping: scan it mapped, without
    // copies. A read-only opener has no LOCK, so it reads with pread (no SIGBUS).
    RandomAccessFileOptions scan_file;
    scan_file.use_mmap = !options_.read_only;
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                             env_->NewRandomAccessFile(path, scan_file));
    IRONWAL_ASSIGN_OR_RETURN(const SegmentScan scan,
                             ScanActiveSegment(*file, start, scan_options, index.get()));
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
    if (scan.outcome == ScanOutcome::kCorrupt &&
        options_.on_corruption == CorruptionPolicy::kError) {
      return absl::DataLossError(absl::StrCat(
          at, scan.reason, " (row ", std::string(1, scan.row), ": ", ScanRowMeaning(scan),
          "); refusing to open under CorruptionPolicy::kError. `ironwal repair` or ",
          "CorruptionPolicy::kTruncate keeps the damaged bytes aside and cuts the segment"));
    }
    if (scan.outcome != ScanOutcome::kClean) report->cut_bytes = scan.file_size - scan.valid_end;
    if (!options_.read_only) {
      IRONWAL_RETURN_IF_ERROR(SettleActiveSegment(path, start, scan, report));
    }
    active_size_ = scan.valid_end;
    active_synced_ = scan.valid_end;
    next = scan.end_id;
  }
  {
    WriterMutexLock lock(&segments_mu_);
    active_index_ = index;
  }
  write_index_ = index;
  next_id_.store(next, std::memory_order_release);
  write_next_id_ = next;
  flushed_offset_.store(active_size_, std::memory_order_release);
  return absl::OkStatus();
}

// The active segment is missing although durable.pos says some of it was synced: row H
// with nothing left to cut. kTruncate starts the segment again, empty.
absl::Status Stream::MissingSyncedSegment(uint64_t start, StreamRecoveryReport* report) {
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

absl::Status Stream::Quarantine(const std::string& path, uint64_t offset,
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
//   3. the bytes past X are cut (never a verified frame);
//   4. the verified bytes past the frontier are written again over themselves (the same
//      bytes at the same offsets: a crash in the middle of the write changes nothing) and
//      the file is synced, once for 3 and 4;
//   5. the frontier moves to X.
absl::Status Stream::SettleActiveSegment(const std::string& path, uint64_t start,
                                         const SegmentScan& scan, StreamRecoveryReport* report) {
  const bool cut = scan.outcome != ScanOutcome::kClean && scan.file_size > scan.valid_end;
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
absl::Status Stream::MakeTailDurable(const std::string& path, WritableFile* file, uint64_t from,
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

}  // namespace ironwal
