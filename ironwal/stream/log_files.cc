#include "ironwal/stream/log_files.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/index/segment_index.h"

namespace ironwal {
namespace internal {
namespace {

absl::StatusOr<bool> Exists(Env* env, const std::string& path) {
  absl::StatusOr<FileType> type = env->GetFileType(path);
  if (absl::IsNotFound(type.status())) return false;
  IRONWAL_RETURN_IF_ERROR(type.status());
  return true;
}

// Step 1 of ApplyLogIntent: the active segment holds its new bytes.
absl::Status SettleActiveFile(Env* env, const std::string& dir, const LogIntent& intent) {
  const std::string active = JoinPath(dir, SegmentFileName(intent.active_start()));
  const std::string staged = JoinPath(dir, StagedSegmentName(intent.active_start()));
  if (intent.staged) {
    IRONWAL_ASSIGN_OR_RETURN(const bool has_staged, Exists(env, staged));
    if (has_staged) {
      IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(staged));
      if (size != intent.active_size) {
        return absl::DataLossError(absl::StrCat("apply log.intent ", staged, "@", size,
                                                ": the staged segment should hold ",
                                                intent.active_size, " bytes"));
      }
      return env->RenameFile(staged, active);
    }
  }
  if (!intent.staged && intent.active_size == 0) return RemoveFileIfPresent(env, active);
  // Renamed already (staged), or kept as it is: it must have the size the intent names.
  absl::StatusOr<uint64_t> size = env->GetFileSize(active);
  if (!size.ok() || *size != intent.active_size) {
    return absl::DataLossError(absl::StrCat(
        "apply log.intent ", active, ": the active segment should hold ", intent.active_size,
        " bytes, but ",
        size.ok() ? absl::StrCat("holds ", *size) : std::string(size.status().message())));
  }
  return absl::OkStatus();
}

}  // namespace

std::string StagedSegmentName(uint64_t start_id) {
  return absl::StrCat(SegmentFileName(start_id), format::kTempSuffix);
}

absl::Status WriteLogIntent(Env* env, const std::string& dir, const LogIntent& intent) {
  return WriteFileAtomically(env, JoinPath(dir, format::kLogIntentFileName),
                             EncodeLogIntent(intent));
}

absl::StatusOr<std::optional<LogIntent>> ReadLogIntent(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, format::kLogIntentFileName);
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  if (absl::IsNotFound(contents.status())) return std::optional<LogIntent>();
  IRONWAL_RETURN_IF_ERROR(contents.status());
  absl::StatusOr<LogIntent> intent = DecodeLogIntent(*contents);
  if (!intent.ok()) {
    return absl::DataLossError(absl::StrCat(
        "read ", path, ": ", intent.status().message(),
        " (an interrupted suffix truncation or reset whose end state is unknown; it was "
        "written atomically, so the file was damaged afterwards)"));
  }
  return std::optional<LogIntent>(*std::move(intent));
}

// In an order that can be repeated from any step: the active file first (the staged
// rename, while the segments after it are still listed), then the removals, the small
// files, one directory sync for all the names, and log.intent last.
namespace {

// sealed.sizes without the entries of segments at or past `start` (the active segment
// from here, or removed): a segment cut or started again there is no longer the one sealed.
absl::Status DropSealedSizesFrom(Env* env, const std::string& dir, uint64_t start) {
  const std::string path = JoinPath(dir, format::kSealedSizesFileName);
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  if (absl::IsNotFound(contents.status())) return absl::OkStatus();
  IRONWAL_RETURN_IF_ERROR(contents.status());
  absl::StatusOr<std::map<uint64_t, uint64_t>> sizes = DecodeSealedSizes(*contents);
  // A malformed one only checks: it goes (a missing entry skips a check at open).
  if (!sizes.ok()) return RemoveFileIfPresent(env, path);
  if (sizes->lower_bound(start) == sizes->end()) return absl::OkStatus();
  sizes->erase(sizes->lower_bound(start), sizes->end());
  return WriteFileAtomically(env, path, EncodeSealedSizes(*sizes));
}

// lost.ids as the log after `intent` needs it. Lost IDs are never handed out again by
// the log that lost them; an operation that sets the next ID explicitly ends that log: a
// reset forgets every range (each ID after it is assigned afresh), a suffix cut forgets
// the ranges at or past its new next ID (they lie past the log's end, and the IDs will be
// assigned afresh) and clips one that holds it. Idempotent, like every step here.
absl::Status ForgetLostIds(Env* env, const std::string& dir, const LogIntent& intent) {
  const std::string path = JoinPath(dir, format::kLostIdsFileName);
  if (intent.kind == LogIntent::Kind::kReset) return RemoveFileIfPresent(env, path);
  // A malformed one refuses the operation: which ranges to keep is unknown.
  IRONWAL_ASSIGN_OR_RETURN(const LostRanges ranges, ReadLostRanges(env, dir));
  std::vector<std::pair<uint64_t, uint64_t>> kept;
  for (const auto& [first, end] : ranges) {
    if (first < intent.next_id) kept.emplace_back(first, std::min(end, intent.next_id));
  }
  if (kept == ranges) return absl::OkStatus();
  if (kept.empty()) return RemoveFileIfPresent(env, path);
  return WriteFileAtomically(env, path, EncodeLostIds(kept));
}

}  // namespace

absl::Status ApplyLogIntent(Env* env, const std::string& dir, const LogIntent& intent) {
  const std::set<uint64_t> kept(intent.segments.begin(), intent.segments.end());
  // One listing serves both removals: settling the active file only renames the staged
  // file over a kept segment, or removes that segment.
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(dir));
  const StreamListing listing = ListStreamFiles(children);
  // First the frame indexes of the segments this changes or removes (and any left without
  // a segment): they would describe other bytes once IDs from the active start are
  // handed out again (frame_index_file.h).
  for (const auto& [start, name] : listing.frame_indexes) {
    if (kept.count(start) > 0 && start < intent.active_start()) continue;
    IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env, JoinPath(dir, name)));
  }
  IRONWAL_RETURN_IF_ERROR(SettleActiveFile(env, dir, intent));
  for (const auto& [start, name] : listing.segments) {
    if (kept.count(start) > 0) continue;
    IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env, JoinPath(dir, name)));
  }
  IRONWAL_RETURN_IF_ERROR(DropSealedSizesFrom(env, dir, intent.active_start()));
  IRONWAL_RETURN_IF_ERROR(ForgetLostIds(env, dir, intent));
  IRONWAL_RETURN_IF_ERROR(RewriteSegmentIndex(env, dir, intent.segments));
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(dir, format::kHeadStateFileName),
                                              EncodeHeadState(intent.active_start())));
  DurablePos pos;
  pos.segment_start_id = intent.active_start();
  pos.offset = intent.active_size;
  IRONWAL_RETURN_IF_ERROR(
      WriteFileAtomically(env, JoinPath(dir, format::kDurablePosFileName), EncodeDurablePos(pos)));
  const std::string first_id = JoinPath(dir, format::kFirstIdFileName);
  if (intent.first_id > intent.segments.front()) {
    IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env, first_id, EncodeFirstId(intent.first_id)));
  } else {
    IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env, first_id));
  }
  IRONWAL_RETURN_IF_ERROR(env->SyncDir(dir));
  // Gone durably before anything is appended: a log.intent applied again after new
  // appends would cut them off.
  IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env, JoinPath(dir, format::kLogIntentFileName)));
  return env->SyncDir(dir);
}

absl::StatusOr<LostRanges> ParseLostIds(absl::string_view contents) {
  absl::StatusOr<LostRanges> ranges = DecodeLostIds(contents);
  if (ranges.ok()) return ranges;
  return absl::DataLossError(absl::StrCat(
      "malformed (", ranges.status().message(),
      "): which IDs a repair cut out of the log is unknown, so the stream is refused (going "
      "on could hand lost IDs out again); restore lost.ids from a backup"));
}

absl::StatusOr<LostRanges> ReadLostRanges(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, format::kLostIdsFileName);
  absl::StatusOr<FileType> type = env->GetFileType(path);
  if (absl::IsNotFound(type.status())) return LostRanges();
  IRONWAL_RETURN_IF_ERROR(type.status());
  if (*type != FileType::kRegular) {
    return absl::DataLossError(absl::StrCat("read ", path, "@0: not a regular file"));
  }
  IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env, path));
  absl::StatusOr<LostRanges> ranges = ParseLostIds(contents);
  if (!ranges.ok()) {
    return absl::DataLossError(absl::StrCat("read ", path, "@0: ", ranges.status().message()));
  }
  return ranges;
}

absl::StatusOr<std::optional<uint64_t>> ReadFirstId(Env* env, const std::string& dir) {
  absl::StatusOr<std::string> contents =
      ReadFileToString(env, JoinPath(dir, format::kFirstIdFileName));
  if (absl::IsNotFound(contents.status())) return std::optional<uint64_t>();
  IRONWAL_RETURN_IF_ERROR(contents.status());
  absl::StatusOr<uint64_t> first = DecodeFirstId(*contents);
  if (!first.ok()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(*first);
}

absl::StatusOr<std::string> ReadStreamMetadata(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, format::kStreamMetadataFileName);
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  if (absl::IsNotFound(contents.status())) return std::string();
  IRONWAL_RETURN_IF_ERROR(contents.status());
  absl::StatusOr<std::string> value = DecodeStreamMetadata(*contents);
  if (!value.ok()) {
    return absl::DataLossError(absl::StrCat("read ", path, "@0: ", value.status().message()));
  }
  return value;
}

absl::StatusOr<bool> IsDeletedStream(Env* env, const std::string& dir) {
  return Exists(env, JoinPath(dir, format::kDeletedMarkerFileName));
}

absl::Status DeleteStreamDirectory(Env* env, const std::string& root, const std::string& dir) {
  IRONWAL_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(dir, format::kDeletedMarkerFileName),
                                              format::kDeletedMarkerMagic));
  return FinishStreamDelete(env, root, dir);
}

absl::Status FinishStreamDelete(Env* env, const std::string& root, const std::string& dir) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(dir));
  for (const std::string& name : children) {
    if (name == format::kDeletedMarkerFileName) continue;
    const std::string path = JoinPath(dir, name);
    IRONWAL_ASSIGN_OR_RETURN(const FileType type, env->GetFileType(path));
    if (type != FileType::kRegular) {
      return absl::FailedPreconditionError(absl::StrCat(
          "delete stream ", dir, ": ", name, " is not a regular file; remove it by hand"));
    }
    IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env, path));
  }
  IRONWAL_RETURN_IF_ERROR(env->SyncDir(dir));
  IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env, JoinPath(dir, format::kDeletedMarkerFileName)));
  absl::Status removed = env->RemoveDir(dir);
  if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
  return env->SyncDir(root);
}

}  // namespace internal
}  // namespace ironwal
