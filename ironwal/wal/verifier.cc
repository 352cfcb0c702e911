// `ironwal verify`: a stream directory's plan (ironwal/stream/directory_plan.h, the one
// recovery applies: every finding it makes is reported) and stream.key. The frame walk is
// in verify_segments.cc.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/wal/maintenance.h"
#include "ironwal/wal/verifier_internal.h"

namespace ironwal {

namespace format = internal::format;
namespace verifier_internal = internal::verifier_internal;
using internal::ClassifyStreamFile;
using internal::DecodeStreamKey;
using internal::DirectoryPlan;
using internal::DirectoryState;
using internal::ListStreamFiles;
using internal::PlanFinding;
using internal::PlanFix;
using internal::PlanOptions;
using internal::ReadDirectoryState;
using internal::SettleDirectory;
using internal::StreamDirName;
using internal::StreamFileKind;

using verifier_internal::Listing;

std::string Finding::ToString() const {
  if (offset.has_value()) return absl::StrCat(path, "@", *offset, ": ", message);
  return absl::StrCat(path, ": ", message);
}

bool StreamCheck::repairable() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.fix == FindingFix::kNone; });
}

namespace {

// How many times a check is repeated when the directory changes while it is checked (a
// live writer rotating, syncing or truncating), before it says so instead.
constexpr int kCheckAttempts = 3;

constexpr char kEmptyStreamDir[] =
    "a directory under the root that holds no file at all: either every file of a stream "
    "was removed (its entries are lost) or a stream's creation stopped before its first "
    "file; nothing tells the two apart, so no command treats it as a stream: restore the "
    "stream's files, or remove the directory if the stream was never written";

FindingFix FixOf(PlanFix fix) {
  switch (fix) {
    case PlanFix::kNone:
      return FindingFix::kNone;
    case PlanFix::kApply:
      return FindingFix::kRecovery;
    case PlanFix::kHeadState:
      return FindingFix::kHeadState;
  }
  return FindingFix::kNone;
}

// Notes the files a plan ignores: quarantine files and files that are not ironwal's.
absl::Status NoteListing(Env* env, const Listing& listing, StreamCheck* check) {
  for (const std::string& name : listing.quarantine_files) {
    const std::string path = JoinPath(check->path, name);
    IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(path));
    check->notes.push_back(absl::StrCat(path, ": ", size,
                                        " bytes an earlier recovery cut from the log, kept "
                                        "for inspection"));
  }
  for (const std::string& name : listing.other_files) {
    check->notes.push_back(JoinPath(check->path, name) + ": not an ironwal file; ignored");
  }
  return absl::OkStatus();
}

void CheckStreamKey(Env* env, const Listing& listing, StreamCheck* check) {
  if (!listing.has_key) return;
  const std::string path = JoinPath(check->path, format::kStreamKeyFileName);
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  absl::StatusOr<std::string> key = contents.ok() ? DecodeStreamKey(*contents) : contents;
  if (!key.ok()) {
    check->findings.push_back({path, std::nullopt,
                               absl::StrCat("unreadable: ", key.status().message(),
                                            "; the stream's key is unknown until the next ",
                                            "append through ironwal records it")});
    return;
  }
  absl::StatusOr<std::string> dir = StreamDirName(*key);
  if (!dir.ok() || *dir != check->dir) {
    check->findings.push_back(
        {path, std::nullopt,
         absl::StrCat("records the key '", absl::CEscape(*key), "', which belongs in directory '",
                      dir.ok() ? *dir : std::string("(none: an invalid key)"),
                      "', not here: copied from another stream?")});
    return;
  }
  check->key = *key;
}

// What the directory holds, by name, type and size, with the small files' bytes: two equal
// fingerprints around a check mean nothing changed while it ran.
absl::StatusOr<std::string> Fingerprint(Env* env, const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(path));
  std::string print;
  for (const std::string& name : children) {
    const std::string file = JoinPath(path, name);
    absl::StatusOr<FileType> type = env->GetFileType(file);
    if (absl::IsNotFound(type.status())) continue;  // Removed while listed: a change too.
    IRONWAL_RETURN_IF_ERROR(type.status());
    absl::StrAppend(&print, name, "/", static_cast<int>(*type));
    if (*type != FileType::kRegular) continue;
    absl::StatusOr<uint64_t> size = env->GetFileSize(file);
    if (size.ok()) absl::StrAppend(&print, "/", *size);
    const StreamFileKind kind = ClassifyStreamFile(name).kind;
    if (kind != StreamFileKind::kSegment && kind != StreamFileKind::kQuarantine &&
        kind != StreamFileKind::kFrameIndex && kind != StreamFileKind::kOther) {
      absl::StatusOr<std::string> contents = ReadFileToString(env, file);
      if (contents.ok()) absl::StrAppend(&print, "/", absl::CEscape(*contents));
    }
    print.push_back('\n');
  }
  return print;
}

// Whether the listing holds stream.deleted (which ListStreamFiles counts as another
// program's file); taken out of `listing`'s other files.
bool IsDeleteMarker(Listing* listing) {
  auto& others = listing->other_files;
  auto it = std::find(others.begin(), others.end(), format::kDeletedMarkerFileName);
  if (it == others.end()) return false;
  others.erase(it);
  return true;
}

// One check, as PlanDirectory and the segment walk see the directory.
absl::StatusOr<StreamCheck> CheckOnce(Env* env, const std::string& root, const std::string& dir) {
  StreamCheck check;
  check.dir = dir;
  check.path = JoinPath(root, dir);
  check.key = dir;
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(check.path));
  if (children.empty()) {
    check.findings.push_back({check.path, std::nullopt, kEmptyStreamDir, FindingFix::kNone});
    return check;
  }
  IRONWAL_ASSIGN_OR_RETURN(DirectoryState state, ReadDirectoryState(env, check.path));
  const bool deleting = IsDeleteMarker(&state.listing);
  IRONWAL_RETURN_IF_ERROR(NoteListing(env, state.listing, &check));
  CheckStreamKey(env, state.listing, &check);
  // An operation in progress: what it will leave is checked once it is finished.
  if (deleting) {
    verifier_internal::CheckDeleting(&check);
    return check;
  }
  if (state.listing.has_log_intent) {
    IRONWAL_RETURN_IF_ERROR(verifier_internal::CheckLogIntent(env, &check));
    if (check.log_intent) return check;
  }
  // Planned as repair would: the findings say what repair does.
  PlanOptions options;
  options.repair = true;
  IRONWAL_ASSIGN_OR_RETURN(const DirectoryPlan plan,
                           SettleDirectory(env, check.path, options, 1 << 20, &state));
  for (const PlanFinding& finding : plan.findings) {
    check.findings.push_back(
        {JoinPath(check.path, finding.file), finding.offset, finding.message, FixOf(finding.fix)});
  }
  if (plan.fresh && !plan.refusal.has_value()) {
    check.notes.push_back(
        absl::StrCat(check.path,
                     ": a stream creation a crash interrupted (no segments.idx yet): the "
                     "stream is absent for every opener (`ls` and `dump` skip it) until a write "
                     "creates it again"));
  }
  check.segments = plan.segments;
  check.lost = plan.lost;
  IRONWAL_RETURN_IF_ERROR(verifier_internal::CheckSegments(env, state.listing, &check));
  verifier_internal::CheckMetadataFile(env, state.listing, &check);
  verifier_internal::CheckFirstIdFile(env, state.listing, &check);
  return check;
}

}  // namespace

absl::StatusOr<bool> IsStreamDir(Env* env, const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(path));
  return children.empty() || ListStreamFiles(children).is_stream ||
         std::find(children.begin(), children.end(), format::kDeletedMarkerFileName) !=
             children.end();
}

absl::Status ListRoot(Env* env, const std::string& root, std::vector<std::string>* streams,
                      std::vector<std::string>* others) {
  IRONWAL_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(root));
  std::sort(children.begin(), children.end());
  for (const std::string& name : children) {
    if (name == format::kLockFileName) continue;
    const std::string path = JoinPath(root, name);
    IRONWAL_ASSIGN_OR_RETURN(const bool is_dir, env->IsDirectory(path));
    bool is_stream = false;
    if (is_dir) {
      IRONWAL_ASSIGN_OR_RETURN(is_stream, IsStreamDir(env, path));
    }
    std::vector<std::string>* into = is_stream ? streams : others;
    if (into != nullptr) into->push_back(name);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListStreamDirs(Env* env, const std::string& root) {
  std::vector<std::string> dirs;
  IRONWAL_RETURN_IF_ERROR(ListRoot(env, root, &dirs, nullptr));
  return dirs;
}

absl::StatusOr<StreamCheck> CheckStream(Env* env, const std::string& root, const std::string& dir) {
  const std::string path = JoinPath(root, dir);
  IRONWAL_ASSIGN_OR_RETURN(std::string before, Fingerprint(env, path));
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<StreamCheck> check = CheckOnce(env, root, dir);
    IRONWAL_ASSIGN_OR_RETURN(std::string after, Fingerprint(env, path));
    // An I/O error (a file removed under the walk) is a race too when the files changed.
    if (after == before) return check;
    if (attempt == kCheckAttempts) {
      StreamCheck changed;
      changed.dir = dir;
      changed.path = path;
      changed.key = dir;
      changed.findings.push_back(
          {path, std::nullopt,
           absl::StrCat("changed while it was being checked, ", kCheckAttempts,
                        " times in a row (a writer has the WAL open?): nothing can be said about "
                        "it now; check again when no writer is running")});
      return changed;
    }
    before = std::move(after);
  }
}

}  // namespace ironwal
