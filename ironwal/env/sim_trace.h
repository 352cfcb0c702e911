// File: ironwal/env/sim_trace.h
//
// SimEnv traces as files, the first difference between two traces, and the replay of a
// trace: the tools to reach for when a seed does not reproduce. Run the workload twice
// (or in two processes, or before and after a change), save each trace, and DiffTraces
// says where they part:
//
//   SaveTrace(Env::Default(), "/tmp/run-a.trace", env.Trace()).IgnoreError();
//   ...
//   IRONWAL_ASSIGN_OR_RETURN(std::vector<TraceRecord> a, LoadTrace(Env::Default(), path_a));
//   std::string report = DiffTraces(a, b);   // "" when they are the same
//
// Or record the failing run with SimEnvOptions::trace_for_replay, save its trace, and
// replay it later (with no workload code at all) against a fresh SimEnv, which re-executes
// every operation and checks every result:
//
//   SimEnvOptions sim;
//   sim.trace_for_replay = true;       // plus the run's block_size, capacity_bytes, ...
//   SimEnv fresh(sim);
//   IRONWAL_ASSIGN_OR_RETURN(ReplayReport report, ReplayTrace(trace, &fresh));
//   if (!report.identical) std::cerr << report.difference;
//
// The format. A trace file is text, one TraceRecord::ToString() line per record:
//
//   SEQ OP TARGET CODE[ fd=N][ arg=A][ data=HEX][ out=O][ (injected: TEXT)]
//
//   0 mkdir /w OK
//   1 syncdir / OK
//   2 open-write /w/s/00000000000000000000.wal OK
//   3 append /w/s/00000000000000000000.wal@0+36 OK
//   4 sync /w/s/00000000000000000000.wal INTERNAL (injected: EIO)
//
// SEQ    the operation's number (0, 1, ...); a crash or release record carries the
//        number of the operation after it, which it does not take.
// OP     SimOpName: open-write, open-read, append, write (WriteAt), sync, truncate,
//        allocate, close, read, list, stat, mkdir, remove, rmdir, rename, syncdir, lock,
//        crash, release.
// TARGET the path ("FROM -> TO" for rename, "/" for crash), then "@OFFSET+LENGTH" for
//        append, write, read and allocate, "@SIZE" for truncate.
// CODE   the absl::StatusCode name of the result (OK, NOT_FOUND, INTERNAL, ABORTED, ...).
// TEXT   the injected fault: EIO, ENOSPC, "short write N/M" (N of M bytes written),
//        "no space N/M" (the capacity), "bit flip at BYTE bit B", "power cut".
// The replay fields, written only when set (recorded with trace_for_replay):
// fd=N   the handle (1, 2, ...) an open or lock made, or the one an operation or release
//        used.
// arg=A  how it was called: open-write truncate|append, open-read mmap|pread, stat
//        size|isdir|handle, lock file|dir=NAME; for a crash "MODE[,dirops],rng=STATE"
//        (MODE drop-unsynced, keep-prefix, keep-random-blocks or tear-block, STATE the
//        generator's state before the crash drew) or "plan,keep=C;C;...[,tear=I.B.N]"
//        (C: bINODE.BLOCK, lINODE or dINODE.INDEX; the tear's inode, block and bytes).
// data=  append and write: the bytes given; read: the bytes returned; lowercase hex.
// out=O  stat: the size, or 1/0 for isdir; list: the names, '/'-separated.
// A and O escape bytes outside '!'..'~', and '%', as %XX. Paths must not contain a
// newline (ParseTrace refuses such a line, and FormatTrace never writes one ironwal's own
// paths can produce).
//
// Thread-safety: pure functions; SaveTrace and LoadTrace do their I/O through `env`;
// ReplayTrace uses `fresh` alone (see there).
#ifndef IRONWAL_ENV_SIM_TRACE_H_
#define IRONWAL_ENV_SIM_TRACE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"

namespace ironwal {

// One line per record, each ending in '\n'.
std::string FormatTrace(absl::Span<const TraceRecord> trace);

// The record a TraceRecord::ToString() line describes. InvalidArgument, naming the line,
// for anything else.
absl::StatusOr<TraceRecord> ParseTraceRecord(absl::string_view line);

// Every record of FormatTrace's text (empty lines are skipped). InvalidArgument naming the
// line number for the first line that is not a record.
absl::StatusOr<std::vector<TraceRecord>> ParseTrace(absl::string_view text);

// Writes the trace to `path` (replacing it) and syncs it.
absl::Status SaveTrace(Env* env, const std::string& path, absl::Span<const TraceRecord> trace);

// Reads a trace SaveTrace wrote.
absl::StatusOr<std::vector<TraceRecord>> LoadTrace(Env* env, const std::string& path);

// Whether two records describe the same operation with the same result (seq aside).
bool SameOperation(const TraceRecord& a, const TraceRecord& b);

// A readable report of the first place the two traces differ, compared operation by
// operation (seq aside): its position, the `context` records before it that both share,
// and the two differing records (or which trace ended first). Empty when they are the
// same.
std::string DiffTraces(absl::Span<const TraceRecord> expected, absl::Span<const TraceRecord> actual,
                       size_t context = 3);

// What ReplayTrace found.
struct ReplayReport {
  // Records of the trace replayed and found identical.
  size_t replayed = 0;
  // Whether every record replayed identically; if not, the index of the first that did
  // not (the replay stops there) and the report of it, in DiffTraces' form.
  bool identical = true;
  size_t first_difference = 0;
  std::string difference;
};

// Re-executes the operations of `trace`, recorded with SimEnvOptions::trace_for_replay,
// against `fresh` (a SimEnv that has served nothing yet, made with trace_for_replay and
// the recorded run's block_size, capacity_bytes and fsync_failure_keeps_dirty; its seed
// does not matter), checking after each that `fresh` recorded an identical record: same
// status code, same bytes read, sizes, listing and handle. The injected faults are
// injected again exactly, through the hook (a short write's length and a bit flip's
// position as recorded), crashes are drawn again from the recorded generator state (or
// plan), and handles are released where the trace says, so `fresh` ends in the state the
// recorded SimEnv was in. Stops at the first difference, including a gap in the seqs (an
// operation missing from the trace). Handles still open at the end are destroyed on
// return. `fresh` must not be used by anything else meanwhile (ReplayTrace sets its hook,
// and removes it on return).
// InvalidArgument when `fresh` is not fresh or does not record for replay, or when the
// trace does not start at seq 0 or lacks the replay fields.
absl::StatusOr<ReplayReport> ReplayTrace(absl::Span<const TraceRecord> trace, SimEnv* fresh,
                                         size_t context = 3);

}  // namespace ironwal

#endif  // IRONWAL_ENV_SIM_TRACE_H_
