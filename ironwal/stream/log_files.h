// File: ironwal/stream/log_files.h
//
// The files of the log operations (Wal::TruncateSuffix, ResetStream, TrimFront,
// PutStreamMetadata, DeleteStream) in a stream directory, and the steps that apply them.
// Each operation is described in full before anything changes, so that recovery can
// finish it after a crash at any step (FORMAT.md, "Crash-ordered steps"):
//
//   - a suffix truncation or a reset writes log.intent (names.h LogIntent: the segment
//     list, the active segment's size and the IDs it leaves), after staging the active
//     segment's new bytes in "<segment>.tmp" when it is cut inside. ApplyLogIntent then
//     renames the staged file, removes the segment files the list does not hold, rewrites
//     segments.idx, head.state, durable.pos, first.id and lost.ids (a reset forgets every
//     lost range; a suffix cut forgets the ranges at or past the new next ID), syncs the
//     directory, and removes log.intent durably. Every step can be applied again: recovery calls
//     ApplyLogIntent on a log.intent it finds before it plans the directory, so an interrupted
//     operation is finished (never undone, never half done).
//   - deleting a stream writes stream.deleted, then removes the directory's files and the
//     directory (FinishStreamDelete); at open a directory holding stream.deleted is
//     removed the same way: the stream is present until stream.deleted is durable, and
//     absent from then on.
//
// Thread-safety: functions of the Env only; the caller serializes them per directory
// (the stream's write lock, or recovery).
#ifndef IRONWAL_STREAM_LOG_FILES_H_
#define IRONWAL_STREAM_LOG_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"
#include "ironwal/format/names.h"

namespace ironwal {
namespace internal {

// The name of the file that stages the active segment's new bytes for a log.intent.
std::string StagedSegmentName(uint64_t start_id);

// Writes log.intent for `intent` atomically (durable when it returns).
absl::Status WriteLogIntent(Env* env, const std::string& dir, const LogIntent& intent);

// log.intent of `dir`: nullopt when there is none; DataLoss when it is malformed.
absl::StatusOr<std::optional<LogIntent>> ReadLogIntent(Env* env, const std::string& dir);

// Brings `dir` to the state `intent` describes and removes log.intent, durably (see the
// file comment). DataLoss when the directory cannot be that state (the staged file and
// the active segment are both missing or of the wrong size): nothing is removed then.
absl::Status ApplyLogIntent(Env* env, const std::string& dir, const LogIntent& intent);

// lost.ids: the ID ranges [first, end) a kTruncate recovery or a repair cut out of the
// log, never to be handed out again. Every reader shares one policy (FORMAT.md,
// "lost.ids"): a damaged file refuses the stream, since which IDs were lost is unknown and
// going on would either hand them out again (an interrupted continuation past them) or
// overwrite the record (the next cut). Open, verify and repair (directory plan row q),
// GetStreamInfo, suffix truncations and `dump` all get the same DataLoss.
using LostRanges = std::vector<std::pair<uint64_t, uint64_t>>;

// Decodes lost.ids's bytes; DataLoss (saying what the damage means, without a path) when
// they are malformed.
absl::StatusOr<LostRanges> ParseLostIds(absl::string_view contents);

// lost.ids of `dir`: empty when there is none; DataLoss naming the file when it is
// malformed or not a regular file; I/O errors reading it.
absl::StatusOr<LostRanges> ReadLostRanges(Env* env, const std::string& dir);

// first.id of `dir`: nullopt when there is none or it is malformed (it only ever raises
// the first ID: losing it brings back trimmed IDs that still have bytes, never a gap).
// Errors: I/O errors reading it (an open must not go on as if it were missing).
absl::StatusOr<std::optional<uint64_t>> ReadFirstId(Env* env, const std::string& dir);

// stream.meta of `dir`: "" when there is none; DataLoss when it is malformed.
absl::StatusOr<std::string> ReadStreamMetadata(Env* env, const std::string& dir);

// Whether `dir` holds stream.deleted (an interrupted delete, to be finished).
absl::StatusOr<bool> IsDeletedStream(Env* env, const std::string& dir);

// Marks `dir` deleted durably (stream.deleted, atomic), then FinishStreamDelete.
absl::Status DeleteStreamDirectory(Env* env, const std::string& root, const std::string& dir);

// Removes every file of `dir` but stream.deleted, syncs it, removes stream.deleted and
// the directory, and syncs `root`. FailedPrecondition for an entry that is not a file.
absl::Status FinishStreamDelete(Env* env, const std::string& root, const std::string& dir);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_STREAM_LOG_FILES_H_
