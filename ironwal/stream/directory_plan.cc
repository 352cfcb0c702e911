// PlanDirectory: the decision table of directory_plan.h, row by row.
#include "ironwal/stream/directory_plan.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/util/coding.h"

namespace ironwal {
namespace internal {
namespace {

constexpr char kIndex[] = "segments.idx";

// The plan under construction, with the working segment list.
class Planner {
 public:
  Planner(const DirectoryState& state, const PlanOptions& options)
      : state_(state), options_(options) {}

  DirectoryPlan Run();

 private:
  bool Exists(uint64_t id) const { return state_.listing.segments.count(id) > 0; }
  bool HasData(uint64_t id) const {
    auto it = state_.segment_sizes.find(id);
    return it != state_.segment_sizes.end() && it->second > 0;
  }
  bool Listed(uint64_t id) const { return std::binary_search(listed_.begin(), listed_.end(), id); }
  void Row(char row) {
    if (plan_.rows.find(row) == std::string::npos) plan_.rows.push_back(row);
  }
  void Find(std::string file, std::string message, PlanFix fix = PlanFix::kApply,
            std::optional<uint64_t> offset = std::nullopt) {
    plan_.findings.push_back({std::move(file), offset, std::move(message), fix});
  }
  void Refuse(const std::string& why) {
    if (!plan_.refusal.has_value()) plan_.refusal = why;
  }
  void Rebuild(char row, std::string problem, uint64_t from);
  // The walk of `id`, or nullptr after asking for it.
  const SegmentEnd* Walked(uint64_t id);

  void NotFiles();
  void ReadIndex();
  void ReadHead();
  void ReadIntent();
  void ReadLostIds();
  void SealedSizes();
  void Unlisted();
  void MissingFront();
  void MissingMiddle();
  void EmptyActive();
  void Continuity();
  void Settle();

  const DirectoryState& state_;
  const PlanOptions& options_;
  DirectoryPlan plan_;
  std::vector<uint64_t> index_;   // the working list
  std::vector<uint64_t> listed_;  // the index as read (empty when rebuilt from the files)
  std::optional<uint64_t> intent_;
};

void Planner::Rebuild(char row, std::string problem, uint64_t from) {
  Row(row);
  if (!plan_.index_rebuilt) plan_.index_problem = std::move(problem);
  plan_.index_rebuilt = true;
  index_.clear();
  for (const auto& [id, name] : state_.listing.segments) {
    if (id >= from) index_.push_back(id);
  }
}

const SegmentEnd* Planner::Walked(uint64_t id) {
  auto it = state_.walked.find(id);
  if (it != state_.walked.end()) return &it->second;
  if (std::find(plan_.walks_needed.begin(), plan_.walks_needed.end(), id) ==
      plan_.walks_needed.end()) {
    plan_.walks_needed.push_back(id);
  }
  return nullptr;
}

// Row b.
void Planner::NotFiles() {
  for (const std::string& name : state_.listing.not_files) {
    Row('b');
    const std::string why = absl::StrCat(
        name, " is not a regular file (a directory, symbolic link, FIFO, socket or device): ",
        "nothing opens it; remove or replace it by hand");
    Find(name, why, PlanFix::kNone);
    Refuse(why);
  }
}

// Rows c and d: temp files, and segments.idx decoded, saying where it goes wrong.
void Planner::ReadIndex() {
  for (const std::string& name : state_.listing.temp_files) {
    Row('c');
    plan_.remove.push_back(name);
    Find(name, "left over from an interrupted atomic write; repair removes it");
  }
  const bool segments_exist = !state_.listing.segments.empty();
  if (!state_.index.has_value()) {
    const StreamListing& l = state_.listing;
    if (!segments_exist && !l.has_head && !l.has_durable_pos && !l.has_truncate_intent) return;
    if (!segments_exist) {
      // A new stream writes stream.key, then segments.idx, then the rest: these files
      // outlived the index and every segment, so the stream's entries were removed.
      const std::string what =
          "segments.idx and every segment file are missing, while the stream's other files "
          "remain: its entries were removed";
      Row('d');
      Find(kIndex, what, PlanFix::kNone);
      return Refuse(what);
    }
    Find(kIndex, "missing; repair rebuilds it from the segment files");
    return Rebuild('d', "segments.idx is missing", 0);
  }
  const std::string& contents = *state_.index;
  const size_t whole = contents.size() / format::kSegmentIndexEntrySize;
  for (size_t i = 0; i < whole; ++i) {
    const uint64_t at = i * format::kSegmentIndexEntrySize;
    const uint64_t id = DecodeFixed64(contents.data() + at);
    if (!listed_.empty() && id < listed_.back()) {
      const std::string what =
          absl::StrCat("start ID ", id, " after ", listed_.back(), ": the IDs decrease");
      Find(kIndex, what + "; repair rebuilds the file from the segment files", PlanFix::kApply, at);
      return Rebuild('d', absl::StrCat("segments.idx at byte ", at, ": ", what), 0);
    }
    if (listed_.empty() || id != listed_.back()) listed_.push_back(id);
  }
  if (contents.size() % format::kSegmentIndexEntrySize != 0) {
    const std::string what = absl::StrCat("length ", contents.size(), " is not a multiple of 8");
    Find(kIndex, what + "; repair rebuilds the file from the segment files", PlanFix::kApply,
         whole * format::kSegmentIndexEntrySize);
    return Rebuild('d', absl::StrCat("segments.idx of ", what), 0);
  }
  if (listed_.empty() && segments_exist) {
    // Never written empty (a new stream's holds 0): cut to nothing, e.g. by a file system
    // that lost the blocks of a file after a crash.
    Find(kIndex, "empty although segment files exist; repair rebuilds it from them");
    return Rebuild('d', "segments.idx is empty", 0);
  }
  index_ = listed_;
}

// Rows e and n.
void Planner::ReadHead() {
  if (!state_.head.has_value()) return;
  absl::StatusOr<uint64_t> head = DecodeHeadState(*state_.head);
  if (!head.ok()) {
    Row('n');
    plan_.head_state_problem = std::string(head.status().message());
    Find(format::kHeadStateFileName,
         absl::StrCat("malformed: ", head.status().message(),
                      " (ironwal 0.6 refuses to open the stream); repair rewrites it"));
    return;
  }
  plan_.head = *head;
  if (index_.empty() || *head <= index_.back() || !Exists(*head)) return;
  Find(kIndex, absl::StrCat("misses rotations: head.state names segment ", SegmentFileName(*head),
                            ", newer than its last, ", SegmentFileName(index_.back()),
                            "; repair rebuilds it from the segment files"));
  Rebuild('e',
          absl::StrCat("head.state names segment ", *head, ", newer than segments.idx's last ",
                       index_.back()),
          index_.front());
}

// Row q: lost.ids, whose ranges rows l and m accept as gaps (row p). A malformed one
// refuses the stream (log_files.h ParseLostIds: the one policy of every reader).
void Planner::ReadLostIds() {
  if (!state_.lost_ids.has_value()) return;
  absl::StatusOr<LostRanges> lost = ParseLostIds(*state_.lost_ids);
  if (lost.ok()) {
    plan_.lost = *std::move(lost);
    return;
  }
  Row('q');
  const std::string why = absl::StrCat(format::kLostIdsFileName, " ", lost.status().message());
  Find(format::kLostIdsFileName, std::string(lost.status().message()), PlanFix::kNone);
  Refuse(why);
}

// Row r: each sealed segment at least as long as when it was sealed.
void Planner::SealedSizes() {
  if (!state_.sealed_sizes.has_value()) return;
  absl::StatusOr<std::map<uint64_t, uint64_t>> sizes = DecodeSealedSizes(*state_.sealed_sizes);
  if (!sizes.ok()) {
    Row('r');
    plan_.remove.push_back(format::kSealedSizesFileName);
    Find(format::kSealedSizesFileName,
         absl::StrCat("malformed (", sizes.status().message(),
                      "): it only checks sealed segments' sizes; repair removes it"));
    return;
  }
  for (size_t i = 0; i + 1 < index_.size(); ++i) {
    auto sealed = sizes->find(index_[i]);
    auto size = state_.segment_sizes.find(index_[i]);
    if (sealed == sizes->end() || size == state_.segment_sizes.end()) continue;
    if (size->second >= sealed->second) continue;
    Row('r');
    const std::string what =
        absl::StrCat("sealed segment ", SegmentFileName(index_[i]), " holds ", size->second,
                     " bytes but was sealed at ", sealed->second, " (",
                     format::kSealedSizesFileName, "): its frames from byte ", size->second,
                     " on are gone, IDs before ", index_[i + 1], " are missing");
    Find(SegmentFileName(index_[i]), what, PlanFix::kNone, size->second);
    Refuse(what);
  }
}

// Row o.
void Planner::ReadIntent() {
  if (!state_.truncate_intent.has_value()) return;
  Row('o');
  plan_.remove.push_back(format::kTruncateIntentFileName);
  absl::StatusOr<uint64_t> intent = DecodeTruncateIntent(*state_.truncate_intent);
  if (intent.ok()) intent_ = *intent;
  Find(format::kTruncateIntentFileName,
       intent.ok() ? "left over from an interrupted truncation; repair removes it"
                   : absl::StrCat("unreadable (", intent.status().message(),
                                  "): it confirms no truncation; repair removes it"));
}

// Rows f, g, h and i: segment files the index does not list.
void Planner::Unlisted() {
  if (index_.empty()) return;
  const uint64_t front = index_.front();
  const bool confirmed = intent_.has_value() && *intent_ == front;
  bool adopt_above = false;
  std::optional<uint64_t> adopt_below;
  for (const auto& [id, name] : state_.listing.segments) {
    if (std::binary_search(index_.begin(), index_.end(), id)) continue;
    if (id >= front) {
      adopt_above = adopt_above || HasData(id) || id < index_.back();
    } else if (!confirmed && HasData(id) && !adopt_below.has_value()) {
      adopt_below = id;
    }
  }
  const std::vector<uint64_t> before = index_;
  if (adopt_below.has_value()) {
    Rebuild('h',
            "segment files holding data lie below segments.idx's first, and no "
            "truncate.intent confirms a truncation",
            *adopt_below);
  } else if (adopt_above) {
    Rebuild('f', "a segment file holding data is not listed in segments.idx", front);
  }
  for (const auto& [id, name] : state_.listing.segments) {
    if (std::binary_search(before.begin(), before.end(), id)) continue;
    const bool adopted = std::binary_search(index_.begin(), index_.end(), id);
    if (adopted) {
      Find(name, absl::StrCat(HasData(id) ? "holds data but " : "empty, and ",
                              "segments.idx does not list it",
                              id < front ? " (below its first, with no truncate.intent: not a "
                                           "truncation's leftover)"
                                         : "",
                              "; repair adds it to the index"));
    } else if (id < front) {
      Row(confirmed ? 'g' : 'h');
      plan_.remove.push_back(name);
      Find(name, confirmed ? "below the first segment in segments.idx: left over from an "
                             "interrupted truncation; repair removes it"
                           : "empty, below the first segment in segments.idx; repair removes it");
    } else {
      Row('i');
      plan_.remove.push_back(name);
      Find(name,
           "empty and not in segments.idx: left over from an interrupted rotation; repair "
           "removes it");
    }
  }
}

// Row j.
void Planner::MissingFront() {
  size_t n = 0;
  while (n + 1 < index_.size() && !Exists(index_[n])) ++n;
  if (n == 0) return;
  Row('j');
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) names.push_back(SegmentFileName(index_[i]));
  Find(kIndex, absl::StrCat("lists missing segments before the first that exists (an ",
                            "interrupted truncation): ", absl::StrJoin(names, ", "),
                            "; repair drops them"));
  index_.erase(index_.begin(), index_.begin() + static_cast<std::ptrdiff_t>(n));
  plan_.rewrite_index = true;
}

// Row k: runs of missing segments between the first and the last.
void Planner::MissingMiddle() {
  for (size_t i = 1; i + 1 < index_.size(); ++i) {
    if (Exists(index_[i])) continue;
    size_t j = i;  // index_[j]: the first that exists after the run, or the last
    while (j + 1 < index_.size() && !Exists(index_[j])) ++j;
    const uint64_t prev = index_[i - 1];
    const SegmentEnd* end = Walked(prev);
    if (end == nullptr) {
      i = j;
      continue;
    }
    Row('k');
    if (end->end_id == index_[j]) {
      Find(kIndex, absl::StrCat("lists ", SegmentFileName(index_[i]), " and ", j - i - 1,
                                " more that are missing, but the frames of ", SegmentFileName(prev),
                                " run on to ID ", index_[j],
                                " (merged files): no ID is lost; repair drops the entries"));
      index_.erase(index_.begin() + static_cast<std::ptrdiff_t>(i),
                   index_.begin() + static_cast<std::ptrdiff_t>(j));
      plan_.rewrite_index = true;
      i -= 1;
      continue;
    }
    for (size_t k = i; k < j; ++k) {
      const std::string what = absl::StrCat("missing, but segments.idx lists it: IDs [", index_[k],
                                            ", ", index_[k + 1], ") are lost");
      Find(SegmentFileName(index_[k]), what, PlanFix::kNone);
      Refuse(absl::StrCat("segment ", SegmentFileName(index_[k]), " is listed in segments.idx ",
                          "but missing; IDs [", index_[k], ", ", index_[k + 1], ") are lost"));
    }
    i = j;
  }
}

// Row l: the active segment holds no frame, so nothing but the index says where it
// starts. The segment before it must end there.
void Planner::EmptyActive() {
  while (index_.size() >= 2) {
    const uint64_t active = index_.back();
    const uint64_t prev = index_[index_.size() - 2];
    if (HasData(active) || !Exists(prev)) return;
    const SegmentEnd* end = Walked(prev);
    if (end == nullptr || end->end_id == active) return;
    if (end->clean && end->end_id < active && LostIdsCover(plan_.lost, end->end_id, active)) {
      return Row('p');
    }
    Row('l');
    const std::string listed =
        absl::StrCat("segments.idx lists ", SegmentFileName(active), " (holding no frame) after ",
                     SegmentFileName(prev), ", whose frames ");
    if (end->end_id > active) {
      Find(kIndex, absl::StrCat(listed, "run on to ID ", end->end_id, ": the entry lies inside ",
                                "that segment; no ID is lost; repair drops the entry"));
    } else {
      const std::string what =
          absl::StrCat(listed, "end at ID ", end->end_id,
                       end->clean ? "" : absl::StrCat(" (", end->problem, ")"), ": IDs [",
                       end->end_id, ", ", active, ") are in no file");
      Find(kIndex, what + "; repair drops the entry, and the IDs are handed out again");
      if (!options_.repair) {
        Refuse(what +
               "; refusing to open under CorruptionPolicy::kError (`ironwal repair` "
               "drops the entry)");
        return;
      }
    }
    if (Exists(active)) plan_.remove.push_back(SegmentFileName(active));
    index_.pop_back();
    plan_.rewrite_index = true;
  }
}

// Row m: each boundary with an adopted segment on either side must be where the frames of
// the segment before it end.
void Planner::Continuity() {
  for (size_t i = 1; i < index_.size(); ++i) {
    if ((Listed(index_[i]) && Listed(index_[i - 1])) || !Exists(index_[i - 1])) continue;
    const SegmentEnd* end = Walked(index_[i - 1]);
    if (end == nullptr || end->end_id == index_[i]) continue;
    if (end->clean && end->end_id < index_[i] && LostIdsCover(plan_.lost, end->end_id, index_[i])) {
      Row('p');
      continue;
    }
    Row('m');
    const std::string what = absl::StrCat(
        "segment ", SegmentFileName(index_[i]),
        " is not listed in segments.idx and does not continue the segment before it (",
        SegmentFileName(index_[i - 1]), " ends at ID ", end->end_id,
        end->clean ? "" : absl::StrCat(": ", end->problem), "); it may belong to another stream");
    Find(SegmentFileName(index_[i]), what, PlanFix::kNone);
    Refuse(what);
  }
}

void Planner::Settle() {
  if (index_.empty()) {
    plan_.fresh = true;
    index_ = {0};
  }
  plan_.segments = index_;
  plan_.active_exists = Exists(index_.back());
  if (plan_.index_rebuilt) plan_.rewrite_index = true;
  if (plan_.fresh) plan_.rewrite_index = false;
  const uint64_t active = index_.back();
  if (plan_.head.has_value() && *plan_.head != active) {
    Find(format::kHeadStateFileName,
         absl::StrCat("names ", SegmentFileName(*plan_.head), " but the active segment is ",
                      SegmentFileName(active), "; repair rewrites it"),
         PlanFix::kHeadState);
  } else if (!state_.head.has_value() && plan_.head_state_problem.empty() && index_.size() > 1) {
    Find(format::kHeadStateFileName,
         absl::StrCat("missing although the stream has rotated (", index_.size(),
                      " segments); repair writes it"),
         PlanFix::kHeadState);
  }
}

DirectoryPlan Planner::Run() {
  plan_.is_stream = state_.listing.is_stream;
  if (!plan_.is_stream) {
    Row('a');
    return plan_;
  }
  NotFiles();
  ReadIndex();
  ReadHead();
  ReadIntent();
  ReadLostIds();
  Unlisted();
  MissingFront();
  MissingMiddle();
  EmptyActive();
  Continuity();
  SealedSizes();
  Settle();
  return plan_;
}

}  // namespace

bool DirectoryPlan::changes_disk() const {
  return rewrite_index || !remove.empty() || !head_state_problem.empty();
}

bool LostIdsCover(const std::vector<std::pair<uint64_t, uint64_t>>& lost, uint64_t first,
                  uint64_t end) {
  for (const auto& [from, to] : lost) {
    if (first >= end) break;
    if (from <= first && first < to) first = to;
  }
  return first >= end;
}

DirectoryPlan PlanDirectory(const DirectoryState& state, const PlanOptions& options) {
  return Planner(state, options).Run();
}

absl::StatusOr<DirectoryState> ReadDirectoryState(Env* env, const std::string& dir) {
  // The types come with the listing (no stat per entry with PosixEnv).
  IRONWAL_ASSIGN_OR_RETURN(const std::vector<Env::DirEntry> children,
                           env->GetChildrenWithTypes(dir));
  std::vector<StreamDirEntry> entries;
  for (const Env::DirEntry& child : children) {
    entries.push_back({child.name, child.type == FileType::kRegular});
  }
  DirectoryState state;
  state.listing = ListStreamEntries(entries);
  for (const auto& [id, name] : state.listing.segments) {
    IRONWAL_ASSIGN_OR_RETURN(state.segment_sizes[id], env->GetFileSize(JoinPath(dir, name)));
  }
  const auto read = [&](bool listed, const char* name,
                        std::optional<std::string>* out) -> absl::Status {
    if (!listed) return absl::OkStatus();
    IRONWAL_ASSIGN_OR_RETURN(*out, ReadFileToString(env, JoinPath(dir, name)));
    return absl::OkStatus();
  };
  IRONWAL_RETURN_IF_ERROR(
      read(state.listing.has_index, format::kSegmentIndexFileName, &state.index));
  IRONWAL_RETURN_IF_ERROR(read(state.listing.has_head, format::kHeadStateFileName, &state.head));
  IRONWAL_RETURN_IF_ERROR(read(state.listing.has_truncate_intent, format::kTruncateIntentFileName,
                               &state.truncate_intent));
  IRONWAL_RETURN_IF_ERROR(
      read(state.listing.has_lost_ids, format::kLostIdsFileName, &state.lost_ids));
  IRONWAL_RETURN_IF_ERROR(
      read(state.listing.has_sealed_sizes, format::kSealedSizesFileName, &state.sealed_sizes));
  return state;
}

absl::StatusOr<SegmentEnd> WalkSegmentEnd(Env* env, const std::string& dir, uint64_t start_id,
                                          size_t buffer_size) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                           env->NewRandomAccessFile(JoinPath(dir, SegmentFileName(start_id)),
                                                    RandomAccessFileOptions()));
  OffsetIndex scratch(start_id);
  const absl::Status walked =
      IndexSealedSegment(*file, start_id, std::nullopt, buffer_size, &scratch);
  if (!walked.ok() && !absl::IsDataLoss(walked)) return walked;
  SegmentEnd end;
  end.end_id = scratch.end_id();
  end.clean = walked.ok();
  end.problem = std::string(walked.message());
  return end;
}

absl::Status RecordSealedSize(Env* env, const std::string& dir, uint64_t start_id, uint64_t size,
                              uint64_t first_id) {
  const std::string path = JoinPath(dir, format::kSealedSizesFileName);
  std::map<uint64_t, uint64_t> sizes;
  absl::StatusOr<std::string> contents = ReadFileToString(env, path);
  if (contents.ok()) {
    absl::StatusOr<std::map<uint64_t, uint64_t>> decoded = DecodeSealedSizes(*contents);
    if (decoded.ok()) sizes = *std::move(decoded);  // A malformed one starts again.
  } else if (!absl::IsNotFound(contents.status())) {
    return contents.status();
  }
  sizes.erase(sizes.begin(), sizes.lower_bound(first_id));
  sizes[start_id] = size;
  return WriteFileAtomically(env, path, EncodeSealedSizes(sizes));
}

absl::StatusOr<DirectoryPlan> SettleDirectory(Env* env, const std::string& dir,
                                              const PlanOptions& options, size_t buffer_size,
                                              DirectoryState* state) {
  for (;;) {
    DirectoryPlan plan = PlanDirectory(*state, options);
    if (plan.walks_needed.empty()) return plan;
    for (uint64_t id : plan.walks_needed) {
      IRONWAL_ASSIGN_OR_RETURN(state->walked[id], WalkSegmentEnd(env, dir, id, buffer_size));
    }
  }
}

}  // namespace internal
}  // namespace ironwal
