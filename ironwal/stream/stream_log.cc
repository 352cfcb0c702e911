// Stream: the log operations -- metadata, a stream that starts at any ID, reset, suffix
// truncation, exact front trimming, deletion. The files and the steps that apply them
// (in crash order) are in log_files.h; here they are run under the write lock, with the
// writer closed, through the directory (stream_dir_log.cc), and their failures go through
// the one error path (Fail).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/stream.h"

namespace ironwal {
namespace internal {

absl::Status Stream::CheckWritable(absl::string_view op) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(absl::StrCat(OpDescription(op), ": opened read-only"));
  }
  if (!poison_.ok()) return PoisonedError(op);
  return absl::OkStatus();
}

absl::Status Stream::Quiesce() {
  IRONWAL_RETURN_IF_ERROR(SyncLocked());
  return CloseWriterLocked();
}

absl::Status Stream::RunLogIntent(const LogIntent& intent) {
  log_epoch_.fetch_add(1, std::memory_order_acq_rel);
  // What is on disk is in doubt until a reopen finishes the intent: a failure poisons.
  const absl::Status applied = Checked(Failure::kFiles, dir_.RunLogIntent(intent));
  if (applied.ok()) MarkDurable();  // also wakes the waiters: the epoch moved
  return applied;
}

namespace {

// The intent of a suffix cut at an edge of a lost range [a, b) (lost.ids: no frame holds
// those IDs, the segment before ends at a and the stream went on at b, in a new segment):
// from a, the segment before becomes the active one as it is; from b, the segment at b
// becomes the active one, emptied. Nullopt when from_id is at no such edge.
// FailedPrecondition when it lies inside a range: the log cannot end there.
absl::StatusOr<std::optional<LogIntent>> PlanCutAtLoss(
    Env* env, const std::string& dir, const std::vector<uint64_t>& segments,
    const std::vector<std::pair<uint64_t, uint64_t>>& lost, LogIntent intent, uint64_t from_id) {
  for (const auto& [a, b] : lost) {
    if (a < from_id && from_id < b) {
      return absl::FailedPreconditionError(
          absl::StrCat("truncate suffix of ", dir, ": IDs [", a, ", ", b, ") are lost (",
                       format::kLostIdsFileName, "); the log cannot end at ", from_id,
                       " inside them: truncate from ", a, " or from ", b));
    }
    const int64_t k = FindSegment(segments, from_id);
    if (k < 0 || (from_id != a && from_id != b)) continue;
    const auto kept_end = segments.begin() + k + 1;
    if (from_id == b && k > 0 && segments[static_cast<size_t>(k)] == b) {
      intent.segments.assign(segments.begin(), kept_end);
      intent.active_size = 0;
      return std::optional<LogIntent>(intent);
    }
    if (from_id == a && segments[static_cast<size_t>(k)] < a) {
      intent.segments.assign(segments.begin(), kept_end);
      IRONWAL_ASSIGN_OR_RETURN(
          intent.active_size,
          env->GetFileSize(JoinPath(dir, SegmentFileName(intent.active_start()))));
      return std::optional<LogIntent>(intent);
    }
  }
  return std::optional<LogIntent>();
}

}  // namespace

absl::StatusOr<LogIntent> Stream::PlanSuffixCut(uint64_t from_id) {
  uint64_t first;
  const std::vector<uint64_t> segments = dir_.Segments(&first);
  const size_t k = static_cast<size_t>(std::max<int64_t>(FindSegment(segments, from_id), 0));
  LogIntent intent;
  intent.kind = LogIntent::Kind::kTruncateSuffix;
  intent.next_id = from_id;
  intent.first_id = first_id();
  IRONWAL_ASSIGN_OR_RETURN(const auto lost, ReadLostRanges(env_, dir_.dir_path()));
  IRONWAL_ASSIGN_OR_RETURN(std::optional<LogIntent> at_loss,
                           PlanCutAtLoss(env_, dir_.dir_path(), segments, lost, intent, from_id));
  if (at_loss.has_value()) return *std::move(at_loss);
  if (segments[k] == from_id) {
    // A cut at a segment's start: the segment before it (synced whole at its rotation)
    // becomes the active one again, as it is; or the first segment empties.
    intent.segments.assign(segments.begin(),
                           segments.begin() + static_cast<int64_t>(std::max<size_t>(k, 1)));
    if (k > 0) {
      IRONWAL_ASSIGN_OR_RETURN(intent.active_size,
                               env_->GetFileSize(dir_.SegmentPath(segments[k - 1])));
    }
    return intent;
  }
  intent.segments.assign(segments.begin(), segments.begin() + static_cast<int64_t>(k + 1));
  IRONWAL_ASSIGN_OR_RETURN(ReadPosition pos, Locate(from_id));
  // Read (and so verified) even when only its offset is used: the cut goes at that
  // offset, which a stale frame index file could otherwise put inside another frame.
  IRONWAL_ASSIGN_OR_RETURN(VerifiedFrame frame, ReadFrameAt(from_id, &pos));
  std::string tail;
  if (pos.frame.start_id < from_id) {
    // The frame holding from_id is a batch: its entries before from_id are written again
    // as a frame of their own, stamped as synced up to its offset (all before it is).
    IRONWAL_ASSIGN_OR_RETURN(const DecodedPayload* decoded, frame.Decode());
    const std::vector<absl::string_view> kept(
        decoded->entries().begin(),
        decoded->entries().begin() + static_cast<int64_t>(from_id - pos.frame.start_id));
    FrameStamp stamp;
    stamp.frontier_distance = 0;
    stamp.stream_tag = StreamTag(dir_.dir_name());
    IRONWAL_RETURN_IF_ERROR(AppendFrame(pos.frame.start_id, kept, options_.encode, stamp, &tail));
  }
  intent.active_size = pos.frame.offset + tail.size();
  intent.staged = true;
  IRONWAL_RETURN_IF_ERROR(dir_.StageSegment(segments[k], pos.frame.offset, tail));
  return intent;
}

absl::Status Stream::PutMetadata(absl::string_view value) {
  if (value.size() > format::kMaxStreamMetadataSize) {
    return absl::InvalidArgumentError(absl::StrCat(OpDescription("put metadata of"), ": ",
                                                   value.size(), " bytes; the limit is ",
                                                   format::kMaxStreamMetadataSize));
  }
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("put metadata of"));
  const bool was_on_disk = dir_.on_disk();
  IRONWAL_RETURN_IF_ERROR(Checked(Failure::kCreate, dir_.EnsureCreatedOnDisk()));
  if (!was_on_disk) EmitSegmentChanges(SegmentsBefore{});
  return WriteFileAtomically(env_, JoinPath(dir_.dir_path(), format::kStreamMetadataFileName),
                             EncodeStreamMetadata(value));
}

absl::StatusOr<std::string> Stream::GetMetadata() {
  return ReadStreamMetadata(env_, dir_.dir_path());
}

absl::Status Stream::StartAt(uint64_t first_id) {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("create"));
  if (dir_.on_disk()) {
    return absl::AlreadyExistsError(absl::StrCat(OpDescription("create"), ": the stream exists"));
  }
  const uint64_t old_start = this->first_id();
  unpublished_.frames.clear();
  unpublished_.writers.clear();
  dir_.ResetInMemory(first_id);
  const absl::Status created = dir_.EnsureCreatedOnDisk();
  if (created.ok()) {
    MarkDurable();
    EmitSegmentChanges(SegmentsBefore{});
    return absl::OkStatus();
  }
  // Not created: the stream stays as it was (files written so far are rewritten by the
  // next creation, or, after a crash, show the stream created: old or new).
  dir_.ResetInMemory(old_start);
  return Fail(Failure::kCreate, created);
}

absl::Status Stream::Reset(uint64_t next_id) {
  {
    MutexLock lock(&write_mu_);
    IRONWAL_RETURN_IF_ERROR(CheckWritable("reset"));
    if (dir_.on_disk()) {
      IRONWAL_RETURN_IF_ERROR(Quiesce());
      LogIntent intent;
      intent.kind = LogIntent::Kind::kReset;
      intent.next_id = next_id;
      intent.first_id = next_id;
      intent.segments = {next_id};
      const SegmentsBefore before = SnapshotSegments();
      IRONWAL_RETURN_IF_ERROR(RunLogIntent(intent));
      EmitTruncated(TruncationKind::kReset, EmitSegmentChanges(before, /*replaced=*/true));
      return absl::OkStatus();
    }
  }
  return StartAt(next_id);
}

absl::Status Stream::TruncateSuffix(uint64_t from_id) {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("truncate suffix of"));
  const uint64_t first = first_id();
  const uint64_t next = next_id();
  if (from_id < first || from_id > next) {
    return absl::OutOfRangeError(absl::StrCat(OpDescription("truncate suffix of"), ": from ID ",
                                              from_id, " is outside [first ID ", first,
                                              ", next ID ", next, "]"));
  }
  if (from_id == next) return absl::OkStatus();
  // Everything before from_id is durable before anything is cut.
  IRONWAL_RETURN_IF_ERROR(Quiesce());
  IRONWAL_ASSIGN_OR_RETURN(const LogIntent intent, PlanSuffixCut(from_id));
  const SegmentsBefore before = SnapshotSegments();
  IRONWAL_RETURN_IF_ERROR(RunLogIntent(intent));
  EmitTruncated(TruncationKind::kSuffix, EmitSegmentChanges(before));
  return absl::OkStatus();
}

absl::StatusOr<TruncateResult> Stream::TrimFront(uint64_t first_id) {
  MutexLock lock(&write_mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable("trim"));
  const uint64_t next = next_id();
  if (first_id > next) {
    return absl::OutOfRangeError(absl::StrCat(OpDescription("trim"), ": first ID ", first_id,
                                              " is past the next ID ", next));
  }
  if (first_id <= this->first_id()) return TruncateResult{0, this->first_id()};
  // The entries up to the new first ID are durable first: a crash must not leave a log
  // that ends below it (its next append would reuse trimmed IDs).
  IRONWAL_RETURN_IF_ERROR(SyncLocked());
  // first.id first: from here the IDs below it are gone, whichever segments remain.
  const SegmentsBefore before = SnapshotSegments();
  IRONWAL_RETURN_IF_ERROR(Checked(Failure::kFiles, dir_.WriteFirstId(first_id)));
  IRONWAL_ASSIGN_OR_RETURN(const TruncateResult result, dir_.Truncate(first_id));
  EmitTruncated(TruncationKind::kFront, EmitSegmentChanges(before));
  return result;
}

absl::Status Stream::Delete() {
  if (options_.read_only) {
    return absl::FailedPreconditionError(OpDescription("delete") + ": opened read-only");
  }
  MutexLock lock(&write_mu_);
  // The writer goes without a sync: its bytes are about to be removed.
  if (dir_.AbandonWriter()) shared_->writers->Closed(this);
  dir_.ForgetReaders();
  absl::StatusOr<bool> exists = env_->IsDirectory(dir_.dir_path());
  if (absl::IsNotFound(exists.status())) exists = false;
  IRONWAL_RETURN_IF_ERROR(exists.status());
  const SegmentsBefore before = SnapshotSegments();
  if (*exists) {
    IRONWAL_RETURN_IF_ERROR(
        Checked(Failure::kFiles, DeleteStreamDirectory(env_, options_.root, dir_.dir_path())));
  }
  log_epoch_.fetch_add(1, std::memory_order_acq_rel);
  poison_ = absl::OkStatus();
  poisoned_now_.store(false, std::memory_order_release);
  unpublished_.frames.clear();
  unpublished_.writers.clear();
  dir_.ResetAfterDelete();
  MarkDurable();  // wakes the waiters: the stream is gone
  if (*exists && before.on_disk) {
    // Every segment is gone with the directory (on_disk() is false now).
    EmitTruncated(TruncationKind::kDelete, EmitSegmentChanges(before));
  }
  return absl::OkStatus();
}

bool Stream::poisoned() {
  MutexLock lock(&write_mu_);
  return !poison_.ok();
}

absl::StatusOr<StreamRecoveryReport> Stream::Reopen() {
  if (options_.read_only) {
    return absl::FailedPreconditionError(OpDescription("recover stream") + ": opened read-only");
  }
  MutexLock lock(&write_mu_);
  StreamRecoveryReport report;
  report.dir = dir_.dir_name();
  if (poison_.ok()) return report;
  // Fail closed the writer already; nothing of the failed session is written again.
  if (dir_.AbandonWriter()) shared_->writers->Closed(this);
  unpublished_.frames.clear();
  unpublished_.writers.clear();
  // Recovery may cut bytes that frames were cached from.
  log_epoch_.fetch_add(1, std::memory_order_acq_rel);
  dir_.ForgetReaders();
  IRONWAL_ASSIGN_OR_RETURN(const bool present, PresentOnDisk());
  bool is_stream = false;
  if (present) {
    absl::Status recovered = dir_.Recover(&report, &is_stream);
    dir_.ForgetReaders();
    IRONWAL_RETURN_IF_ERROR(recovered);
  }
  // As an open: a directory that is gone, or not a stream, is no stream.
  if (!is_stream) dir_.ResetAfterDelete();
  poison_ = absl::OkStatus();
  poisoned_now_.store(false, std::memory_order_release);
  MarkDurable();  // recovery made what it kept durable; wakes the waiters
  if (shared_->stats != nullptr) shared_->stats->Add(StatsRecorder::kStreamsUnpoisoned);
  EmitSpaceRecovered();
  return report;
}

// Whether the stream's directory is there to recover; an interrupted delete is finished
// first (as at open), and then it is not.
absl::StatusOr<bool> Stream::PresentOnDisk() {
  absl::StatusOr<bool> exists = env_->IsDirectory(dir_.dir_path());
  if (absl::IsNotFound(exists.status())) return false;
  IRONWAL_RETURN_IF_ERROR(exists.status());
  if (!*exists) return false;
  IRONWAL_ASSIGN_OR_RETURN(const bool deleted, IsDeletedStream(env_, dir_.dir_path()));
  if (!deleted) return true;
  IRONWAL_RETURN_IF_ERROR(FinishStreamDelete(env_, options_.root, dir_.dir_path()));
  return false;
}

}  // namespace internal
}  // namespace ironwal
