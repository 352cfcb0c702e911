// File: ironwal/stream/directory_plan.h
//
// Planning a stream directory's segment list: one pure function from what is on disk to
// what opening the stream does about it. Recovery (stream_dir_recovery.cc) applies the plan,
// `ironwal verify` reports it, and `ironwal repair` applies it under kTruncate, so the three
// can never disagree. The active segment's bytes are judged afterwards, by
// ScanActiveSegment (ironwal/segment/segment_scan.h).
//
// Input (DirectoryState, read by ReadDirectoryState): the listing with every entry's type,
// the sizes of the segment files, the bytes of segments.idx, head.state and
// truncate.intent, and what walking the headers of some sealed segments found. The plan
// asks for those walks (walks_needed) when a decision depends on where a segment's frames
// end; the caller walks them (WalkSegmentEnd) and plans again (SettleDirectory does both).
//
// Decision table. "The index" is segments.idx as decoded (IDs never decreasing; ironwal
// 0.6's repeated IDs merged); "data" = a file of more than 0 bytes.
//
//   row  found                                                  plan
//   ---  -----------------------------------------------------  ------------------------------
//   a    no segment, segments.idx or stream.key name            not a stream: left alone
//   b    one of ironwal's names that is not a regular file      refuse: nothing may open it (a
//        (a directory, symbolic link, FIFO, socket, device)     FIFO blocks, a link may loop)
//   c    *.tmp files                                            removed (interrupted writes)
//   d    segments.idx missing, malformed, or empty while        rebuilt from the segment files
//        segment files exist
//   e    head.state names an existing segment past the          rebuilt from the index's first
//        index's last (an index that missed rotations)
//   f    an unlisted segment at or above the index's first      adopted: rebuilt from the
//        that holds data or lies before the index's last        index's first
//   g    segments below the index's first, and truncate.intent  a truncation's leftovers:
//        names that first ID                                    removed
//   h    segments holding data below the index's first, and     not a truncation (a damaged
//        no truncate.intent confirms it                         index): adopted; empty ones
//                                                               removed
//   i    an empty unlisted segment past the index's last        an interrupted rotation's:
//                                                               removed
//   j    listed segments missing before the first that exists   dropped (ironwal 0.6's truncate
//                                                               removes files first)
//   k    a listed segment missing between two that exist        the one before is walked: if
//                                                               its frames reach the next, the
//                                                               entry is dropped (files
//                                                               merged); else refuse: IDs lost
//   l    the last segment (the active one) is missing or empty  the one before is walked; it
//        and another precedes it                                must end at the active's start.
//                                                               Past it: the entry lies inside
//                                                               that segment, dropped. Short of
//                                                               it: IDs missing: refuse, or
//                                                               under repair drop the entry
//                                                               (no file holds those IDs)
//   m    an adopted segment (rows d, e, f, h) where the one     refuse: it may belong to
//        before it, walked, does not end (or that does not      another stream
//        end where the next begins)
//   n    head.state malformed                                   rewritten (0.6 refuses it)
//   o    truncate.intent present                                removed once the plan is applied
//   p    a boundary rows l or m walk ends short of the next     accepted: a deliberate gap
//        segment's start, and lost.ids records every ID         (kTruncate cut those IDs
//        between the two                                        out with a corrupt tail)
//   q    lost.ids malformed                                     refuse (which IDs were lost is
//                                                               unknown); repair cannot fix
//   r    a sealed segment (not the last) shorter than           refuse: frames from that byte
//        sealed.sizes says it was sealed                        on are gone (IDs missing); a
//                                                               malformed sealed.sizes is
//                                                               removed (it only checks)
//
// A refusal is DataLoss under either corruption policy and changes nothing on disk. Every
// plan keeps the IDs gap-free: the settled segments are meant to continue one another, and
// every adopted or doubtful boundary is proved by a walk before it is accepted.
//
// Thread-safety: PlanDirectory is a pure function; the I/O helpers use only the Env.
#ifndef IRONWAL_STREAM_DIRECTORY_PLAN_H_
#define IRONWAL_STREAM_DIRECTORY_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

#include "ironwal/env/env.h"
#include "ironwal/format/names.h"

namespace ironwal {
namespace internal {

// Where a walk of a segment's frame headers from its start stopped.
struct SegmentEnd {
  uint64_t end_id = 0;  // one past the last ID of the last whole frame that continues
  bool clean = false;   // the walk reached the end of the file exactly
  std::string problem;  // otherwise, what stopped it
};

struct DirectoryState {
  StreamListing listing;
  std::map<uint64_t, uint64_t> segment_sizes;  // every listed segment file's size
  std::optional<std::string> index;            // segments.idx's bytes, when listed
  std::optional<std::string> head;             // head.state's bytes, when listed
  std::optional<std::string> truncate_intent;  // truncate.intent's bytes, when listed
  std::optional<std::string> lost_ids;         // lost.ids's bytes, when listed
  std::optional<std::string> sealed_sizes;     // sealed.sizes's bytes, when listed
  std::map<uint64_t, SegmentEnd> walked;       // walks the plan asked for
};

struct PlanOptions {
  // CorruptionPolicy::kTruncate (repair): row l may drop an index entry whose IDs no
  // file holds.
  bool repair = false;
};

// What a finding needs.
enum class PlanFix {
  kNone,       // nothing can fix it: IDs are lost, or a file does not belong here
  kApply,      // applying the plan fixes it
  kHeadState,  // rewriting head.state to name the active segment fixes it
};

struct PlanFinding {
  std::string file;  // the file's name in the directory
  std::optional<uint64_t> offset;
  std::string message;
  PlanFix fix = PlanFix::kApply;
};

struct DirectoryPlan {
  bool is_stream = false;
  std::string rows;                    // the decision-table rows that applied, in order
  std::vector<uint64_t> walks_needed;  // walk these segments and plan again
  std::optional<std::string> refusal;  // why the directory cannot be used as it is
  std::vector<uint64_t> segments;      // the settled start IDs ({0} when fresh)
  bool fresh = false;                  // nothing on disk yet but (maybe) stream.key
  bool active_exists = false;          // the active segment's file exists
  bool index_rebuilt = false;          // the index was rebuilt from the files
  std::string index_problem;           // why
  bool rewrite_index = false;          // segments.idx must be written as `segments`
  std::vector<std::string> remove;     // leftovers to remove (names)
  std::string head_state_problem;      // head.state is malformed: rewrite it
  std::optional<uint64_t> head;        // head.state's segment, when it reads well
  std::vector<PlanFinding> findings;   // everything found, for `ironwal verify`
  // lost.ids as read: the ID ranges [first, end) cut out of the log under kTruncate.
  std::vector<std::pair<uint64_t, uint64_t>> lost;

  bool changes_disk() const;
};

DirectoryPlan PlanDirectory(const DirectoryState& state, const PlanOptions& options);

// Whether `lost` (lost.ids's ranges) records every ID in [first, end) as lost.
bool LostIdsCover(const std::vector<std::pair<uint64_t, uint64_t>>& lost, uint64_t first,
                  uint64_t end);

// Reads what PlanDirectory needs from the stream directory `dir` (types without following
// links; only regular files are opened). Errors are I/O errors only.
absl::StatusOr<DirectoryState> ReadDirectoryState(Env* env, const std::string& dir);

// Walks the frame headers of segment `start_id` in `dir` (CRCs are not checked).
absl::StatusOr<SegmentEnd> WalkSegmentEnd(Env* env, const std::string& dir, uint64_t start_id,
                                          size_t buffer_size);

// Records in `dir`'s sealed.sizes that segment `start_id` was sealed at `size` bytes
// (atomically), dropping entries below `first_id` (truncated segments). Called by
// rotation; a failure loses only the check (row r), never data.
absl::Status RecordSealedSize(Env* env, const std::string& dir, uint64_t start_id, uint64_t size,
                              uint64_t first_id);

// Plans, doing the walks the plan asks for, until it needs none. `state` is read by
// ReadDirectoryState and receives the walks.
absl::StatusOr<DirectoryPlan> SettleDirectory(Env* env, const std::string& dir,
                                              const PlanOptions& options, size_t buffer_size,
                                              DirectoryState* state);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_DIRECTORY_PLAN_H_
