// `ironwal verify`: a stream directory's listing and small files, and the segment list
// recovery would settle on (mirroring ironwal/stream/stream_recovery.cc, which stops at
// the first problem; this reports them all). The frame walk is in verify_segments.cc.
#include "ironwal/cli/verifier.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/cli/verifier_internal.h"
#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/util/coding.h"

namespace ironwal {
namespace cli {

using internal::Listing;

std::string Finding::ToString() const {
  if (offset.has_value()) return absl::StrCat(path, "@", *offset, ": ", message);
  return absl::StrCat(path, ": ", message);
}

bool StreamCheck::repairable() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.fix == Fix::kNone; });
}

namespace {

// Sorts the directory's entries by kind; reports leftovers and notes files it ignores.
absl::StatusOr<Listing> ReadListing(Env* env, StreamCheck* check) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(check->path));
  std::vector<std::string> files;
  for (const std::string& name : children) {
    const std::string path = JoinPath(check->path, name);
    IRONWAL_ASSIGN_OR_RETURN(const bool is_dir, env->IsDirectory(path));
    if (is_dir) {
      check->notes.push_back(path + ": a directory inside a stream directory; ignored");
    } else {
      files.push_back(name);
    }
  }
  Listing listing = ListStreamFiles(files);
  for (const std::string& name : listing.temp_files) {
    check->findings.push_back({JoinPath(check->path, name), std::nullopt,
                               "left over from an interrupted atomic write; repair removes it",
                               Fix::kRecovery});
  }
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
  return listing;
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

// segments.idx decoded like DecodeSegmentIndex, but saying where it goes wrong. Repeated
// IDs (written by ironwal 0.6) are merged and noted.
std::optional<std::vector<uint64_t>> DecodeIndex(const std::string& path,
                                                 const std::string& contents, StreamCheck* check) {
  const size_t whole = contents.size() / format::kSegmentIndexEntrySize;
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < whole; ++i) {
    const uint64_t id = DecodeFixed64(contents.data() + i * format::kSegmentIndexEntrySize);
    if (!ids.empty() && id < ids.back()) {
      check->findings.push_back(
          {path, i * format::kSegmentIndexEntrySize,
           absl::StrCat("start ID ", id, " after ", ids.back(),
                        ": the IDs decrease; repair rebuilds the file from the segment files"),
           Fix::kRecovery});
      return std::nullopt;
    }
    if (!ids.empty() && id == ids.back()) {
      check->notes.push_back(absl::StrCat(path, "@", i * format::kSegmentIndexEntrySize,
                                          ": start ID ", id, " repeated (as ironwal 0.6 wrote ",
                                          "when it rotated an empty segment); merged"));
      continue;
    }
    ids.push_back(id);
  }
  if (contents.size() % format::kSegmentIndexEntrySize != 0) {
    check->findings.push_back({path, whole * format::kSegmentIndexEntrySize,
                               absl::StrCat("length ", contents.size(), " is not a multiple of 8",
                                            "; repair rebuilds the file from the segment files"),
                               Fix::kRecovery});
    return std::nullopt;
  }
  return ids;
}

std::vector<uint64_t> ListedIds(const Listing& listing, uint64_t from) {
  std::vector<uint64_t> ids;
  for (const auto& [id, name] : listing.segments) {
    if (id >= from) ids.push_back(id);
  }
  return ids;
}

// Step 1 of settling the segment list: segments.idx, or the listing when it is missing or
// bad, or when head.state names a newer existing segment. Returns head.state's segment.
absl::StatusOr<std::optional<uint64_t>> ReadIndexAndHead(Env* env, const Listing& listing,
                                                         std::vector<uint64_t>* index,
                                                         StreamCheck* check) {
  const std::string index_path = JoinPath(check->path, format::kSegmentIndexFileName);
  std::optional<std::vector<uint64_t>> decoded;
  if (listing.has_index) {
    IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env, index_path));
    decoded = DecodeIndex(index_path, contents, check);
  } else if (!listing.segments.empty()) {
    check->findings.push_back({index_path, std::nullopt,
                               "missing; repair rebuilds it from the segment files",
                               Fix::kRecovery});
  }
  *index = decoded.has_value() ? *decoded : ListedIds(listing, 0);
  if (!listing.has_head) return std::optional<uint64_t>();

  const std::string head_path = JoinPath(check->path, format::kHeadStateFileName);
  IRONWAL_ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(env, head_path));
  absl::StatusOr<uint64_t> head = DecodeHeadState(contents);
  if (!head.ok()) {
    check->findings.push_back(
        {head_path, std::nullopt,
         absl::StrCat("malformed: ", head.status().message(),
                      " (ironwal 0.6 refuses to open the stream); ", "repair rewrites it"),
         Fix::kHeadState});
    return std::optional<uint64_t>();
  }
  if (!index->empty() && *head > index->back() && listing.segments.count(*head) > 0) {
    check->findings.push_back(
        {index_path, std::nullopt,
         absl::StrCat("misses rotations: head.state names segment ", SegmentFileName(*head),
                      ", newer than its last, ", SegmentFileName(index->back()),
                      "; repair rebuilds it from the segment files"),
         Fix::kRecovery});
    *index = ListedIds(listing, index->front());
  }
  return std::optional<uint64_t>(*head);
}

// Step 2: segment files the index does not list, and listed ones that are missing.
absl::Status ReconcileWithListing(Env* env, const Listing& listing, std::vector<uint64_t>* index,
                                  StreamCheck* check) {
  const std::string index_path = JoinPath(check->path, format::kSegmentIndexFileName);
  bool adopt = false;
  for (const auto& [id, name] : listing.segments) {
    if (std::binary_search(index->begin(), index->end(), id) || id < index->front()) continue;
    IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(JoinPath(check->path, name)));
    if (size > 0 || id < index->back()) adopt = true;
  }
  for (const auto& [id, name] : listing.segments) {
    if (std::binary_search(index->begin(), index->end(), id)) continue;
    const std::string path = JoinPath(check->path, name);
    std::string what;
    if (id < index->front()) {
      what =
          "below the first segment in segments.idx: left over from an interrupted "
          "truncation; repair removes it";
    } else if (adopt) {
      IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(path));
      what = absl::StrCat(size > 0 ? "holds data but " : "empty, and ",
                          "segments.idx does not list it; repair adds it to the index");
    } else {
      what =
          "empty and not in segments.idx: left over from an interrupted rotation; "
          "repair removes it";
    }
    check->findings.push_back({path, std::nullopt, what, Fix::kRecovery});
  }
  if (adopt) *index = ListedIds(listing, index->front());

  size_t missing_front = 0;
  while (missing_front + 1 < index->size() &&
         listing.segments.count((*index)[missing_front]) == 0) {
    ++missing_front;
  }
  if (missing_front > 0) {
    std::vector<std::string> names;
    for (size_t i = 0; i < missing_front; ++i) names.push_back(SegmentFileName((*index)[i]));
    check->findings.push_back({index_path, std::nullopt,
                               absl::StrCat("lists missing segments before the first that ",
                                            "exists (an interrupted truncation): ",
                                            absl::StrJoin(names, ", "), "; repair drops them"),
                               Fix::kRecovery});
    index->erase(index->begin(), index->begin() + static_cast<std::ptrdiff_t>(missing_front));
  }
  for (size_t i = 0; i + 1 < index->size(); ++i) {
    if (listing.segments.count((*index)[i]) > 0) continue;
    check->findings.push_back({JoinPath(check->path, SegmentFileName((*index)[i])), std::nullopt,
                               absl::StrCat("missing, but segments.idx lists it: IDs [",
                                            (*index)[i], ", ", (*index)[i + 1], ") are lost")});
  }
  return absl::OkStatus();
}

// The segment list recovery would settle on, with findings for everything it would fix.
absl::Status SettleSegments(Env* env, const Listing& listing, StreamCheck* check) {
  std::vector<uint64_t> index;
  IRONWAL_ASSIGN_OR_RETURN(const std::optional<uint64_t> head,
                           ReadIndexAndHead(env, listing, &index, check));
  if (!index.empty()) IRONWAL_RETURN_IF_ERROR(ReconcileWithListing(env, listing, &index, check));
  if (index.empty()) index = {0};  // Created, never written.
  check->segments = index;

  const std::string head_path = JoinPath(check->path, format::kHeadStateFileName);
  const uint64_t active = index.back();
  if (head.has_value() && *head != active) {
    check->findings.push_back(
        {head_path, std::nullopt,
         absl::StrCat("names ", SegmentFileName(*head), " but the active segment is ",
                      SegmentFileName(active), "; repair rewrites it"),
         Fix::kHeadState});
  } else if (!listing.has_head && index.size() > 1) {
    check->findings.push_back({head_path, std::nullopt,
                               absl::StrCat("missing although the stream has rotated (",
                                            index.size(), " segments); repair writes it"),
                               Fix::kHeadState});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> IsStreamDir(Env* env, const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(path));
  for (const std::string& name : children) {
    if (ParseSegmentFileName(name).has_value() || name == format::kSegmentIndexFileName ||
        name == format::kStreamKeyFileName) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> ListStreamDirs(Env* env, const std::string& root) {
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<std::string> children, env->GetChildren(root));
  std::vector<std::string> dirs;
  for (const std::string& name : children) {
    if (name == format::kLockFileName) continue;
    const std::string path = JoinPath(root, name);
    IRONWAL_ASSIGN_OR_RETURN(const bool is_dir, env->IsDirectory(path));
    if (!is_dir) continue;
    IRONWAL_ASSIGN_OR_RETURN(const bool is_stream, IsStreamDir(env, path));
    if (is_stream) dirs.push_back(name);
  }
  return dirs;
}

absl::StatusOr<StreamCheck> CheckStream(Env* env, const std::string& root, const std::string& dir) {
  StreamCheck check;
  check.dir = dir;
  check.path = JoinPath(root, dir);
  check.key = dir;
  IRONWAL_ASSIGN_OR_RETURN(const Listing listing, ReadListing(env, &check));
  CheckStreamKey(env, listing, &check);
  IRONWAL_RETURN_IF_ERROR(SettleSegments(env, listing, &check));
  IRONWAL_RETURN_IF_ERROR(internal::CheckSegments(env, listing, &check));
  return check;
}

}  // namespace cli
}  // namespace ironwal
