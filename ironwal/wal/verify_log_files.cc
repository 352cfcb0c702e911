// `ironwal verify`: the files of the log operations (ironwal/stream/log_files.h) --
// log.intent and stream.deleted, which say an operation is in progress, and stream.meta
// and first.id, which carry a CRC of their own.
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/util/coding.h"
#include "ironwal/wal/verifier_internal.h"

namespace ironwal {
namespace internal {
namespace verifier_internal {
namespace {

const char* OperationName(LogIntent::Kind kind) {
  return kind == LogIntent::Kind::kReset ? "reset" : "suffix truncation";
}

// Why ApplyLogIntent would refuse `intent` (its own checks, read-only), or "".
absl::StatusOr<std::string> WhyUnfinishable(Env* env, const std::string& dir,
                                            const LogIntent& intent) {
  const std::string staged = JoinPath(dir, StagedSegmentName(intent.active_start()));
  const std::string active = JoinPath(dir, SegmentFileName(intent.active_start()));
  if (intent.staged) {
    absl::StatusOr<uint64_t> size = env->GetFileSize(staged);
    if (size.ok()) {
      if (*size == intent.active_size) return std::string();
      return absl::StrCat(staged, " holds ", *size, " bytes, not the ", intent.active_size,
                          " it names");
    }
    if (!absl::IsNotFound(size.status())) return size.status();
  }
  if (!intent.staged && intent.active_size == 0) return std::string();
  absl::StatusOr<uint64_t> size = env->GetFileSize(active);
  if (absl::IsNotFound(size.status())) {
    return absl::StrCat(active, " is missing", intent.staged ? ", and so is its staged copy" : "");
  }
  IRONWAL_RETURN_IF_ERROR(size.status());
  if (*size == intent.active_size) return std::string();
  return absl::StrCat(active, " holds ", *size, " bytes, not the ", intent.active_size,
                      " it names");
}

}  // namespace

absl::Status CheckLogIntent(Env* env, StreamCheck* check) {
  const std::string path = JoinPath(check->path, format::kLogIntentFileName);
  absl::StatusOr<std::optional<LogIntent>> read = ReadLogIntent(env, check->path);
  check->log_intent = !read.ok() || read->has_value();
  if (absl::IsDataLoss(read.status())) {
    check->findings.push_back({path, 0,
                               absl::StrCat(read.status().message(),
                                            "; every open refuses the stream: restore it from a "
                                            "replica or a backup"),
                               FindingFix::kNone});
    return absl::OkStatus();
  }
  IRONWAL_RETURN_IF_ERROR(read.status());
  if (!read->has_value()) return absl::OkStatus();  // Finished since it was listed.
  const LogIntent& intent = **read;
  const std::string what = absl::StrCat(
      "an interrupted ", OperationName(intent.kind), " (to next ID ", intent.next_id, ", first ID ",
      intent.first_id, ", segments [", absl::StrJoin(intent.segments, ", "), "])");
  IRONWAL_ASSIGN_OR_RETURN(const std::string unfinishable,
                           WhyUnfinishable(env, check->path, intent));
  if (!unfinishable.empty()) {
    check->findings.push_back(
        {path, 0,
         absl::StrCat(what, " that cannot be finished: ", unfinishable,
                      "; every open refuses the stream: restore it from a replica or a backup"),
         FindingFix::kNone});
    return absl::OkStatus();
  }
  check->findings.push_back(
      {path, 0,
       absl::StrCat(what,
                    " that the next read-write open finishes (repair finishes it now); until "
                    "then read-only opens (ls, dump, meta) refuse the stream"),
       FindingFix::kRecovery});
  check->notes.push_back(absl::StrCat(check->path,
                                      ": its segments are checked once the operation is "
                                      "finished"));
  return absl::OkStatus();
}

void CheckDeleting(StreamCheck* check) {
  check->deleting = true;
  check->findings.push_back(
      {JoinPath(check->path, format::kDeletedMarkerFileName), std::nullopt,
       "a stream being deleted (an interrupted DeleteStream): every opener treats it as "
       "absent, and the next read-write open (or repair) removes what is left of it",
       FindingFix::kRecovery});
}

namespace {

// Where in a damaged small file the problem `decode_error` (its decoder's message) is: the
// field it names (offsets as in format.h), else 0.
uint64_t OffsetOfProblem(absl::string_view decode_error, absl::string_view contents,
                         uint64_t version_offset, uint64_t length_offset, uint64_t crc_offset) {
  if (absl::StrContains(decode_error, "crc mismatch")) return crc_offset;
  if (absl::StrContains(decode_error, ": version ")) return version_offset;
  if (absl::StrContains(decode_error, ": length ")) return length_offset;
  return contents.size() < 4 ? contents.size() : 0;
}

}  // namespace

void CheckMetadataFile(Env* env, const Listing& listing, StreamCheck* check) {
  if (!listing.has_metadata) return;
  const std::string path = JoinPath(check->path, format::kStreamMetadataFileName);
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  if (!contents.ok()) {
    check->findings.push_back({path, std::nullopt, std::string(contents.status().message())});
    return;
  }
  absl::StatusOr<std::string> value = DecodeStreamMetadata(*contents);
  if (value.ok()) return;
  const uint64_t length = contents->size() >= 9 ? DecodeFixed32(contents->data() + 5) : 0;
  const uint64_t offset = OffsetOfProblem(value.status().message(), *contents, 4, 5,
                                          format::kStreamMetadataHeaderSize + length);
  check->findings.push_back({path, offset,
                             absl::StrCat("unreadable (", value.status().message(),
                                          "): GetStreamMetadata returns DataLoss until "
                                          "PutStreamMetadata replaces it"),
                             FindingFix::kNone});
}

void CheckFirstIdFile(Env* env, const Listing& listing, StreamCheck* check) {
  if (!listing.has_first_id) return;
  const std::string path = JoinPath(check->path, format::kFirstIdFileName);
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  if (!contents.ok()) {
    check->findings.push_back({path, std::nullopt, std::string(contents.status().message())});
    return;
  }
  absl::StatusOr<uint64_t> first = DecodeFirstId(*contents);
  if (!first.ok()) {
    const uint64_t offset = OffsetOfProblem(first.status().message(), *contents, 0, 0, 12);
    check->findings.push_back(
        {path, offset,
         absl::StrCat("unreadable (", first.status().message(),
                      "): opens ignore it, so trimmed IDs that still have bytes (from ",
                      check->first_id, ") are readable again"),
         FindingFix::kNone});
    return;
  }
  if (*first > check->next_id) {
    check->findings.push_back(
        {path, 4,
         absl::StrCat("records first ID ", *first, ", beyond the stream's next ID ", check->next_id,
                      ": opens take ", check->next_id,
                      " (a trim never passes the next ID: damaged, or segments are missing)"),
         FindingFix::kNone});
    return;
  }
  if (*first > check->first_id) check->first_id = *first;
}

}  // namespace verifier_internal
}  // namespace internal
}  // namespace ironwal
