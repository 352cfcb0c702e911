// ReplayTrace (sim_trace.h): re-executes a trace recorded with trace_for_replay against a
// fresh SimEnv and compares record by record.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"

#include "ironwal/env/env.h"
#include "ironwal/env/internal/sim_crash.h"
#include "ironwal/env/internal/sim_faults.h"
#include "ironwal/env/internal/sim_state.h"
#include "ironwal/env/internal/trace_report.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/env/sim_trace.h"

namespace ironwal {
namespace {

// Reads larger than this in a trace are refused rather than allocated (a damaged trace).
constexpr uint64_t kMaxReplayRead = uint64_t{1} << 30;

// The fault a record says was injected, and the draws it took (a short write's length; a
// bit flip's byte within the read and its bit). nullopt for no fault, and for a capacity
// ENOSPC ("no space n/m"), which the replay's own capacity produces again.
std::optional<SimFault> RecordedFault(const TraceRecord& r, std::vector<uint64_t>* draws) {
  absl::string_view injected = r.injected;
  if (injected == "EIO") return SimFault::kIoError;
  if (injected == "ENOSPC") return SimFault::kNoSpace;
  if (injected == "power cut") return SimFault::kPowerCut;
  if (injected == "bit flip (nothing read)") return SimFault::kBitFlip;
  if (absl::ConsumePrefix(&injected, "short write ")) {
    uint64_t n = 0;
    const std::vector<absl::string_view> parts = absl::StrSplit(injected, '/');
    if (!parts.empty() && absl::SimpleAtoi(parts[0], &n)) draws->push_back(n);
    return SimFault::kShortWrite;
  }
  if (absl::ConsumePrefix(&injected, "bit flip at ")) {
    uint64_t at = 0, bit = 0;
    const std::vector<absl::string_view> parts = absl::StrSplit(injected, " bit ");
    if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &at) && absl::SimpleAtoi(parts[1], &bit) &&
        at >= r.offset) {
      draws->push_back(at - r.offset);
      draws->push_back(bit);
    }
    return SimFault::kBitFlip;
  }
  return std::nullopt;
}

// The open files and locks of the replay, by the handle number the trace gives them, and
// the execution of one record on the SimEnv.
class Replayer {
 public:
  Replayer(SimEnv* env, internal::SimState* state) : env_(env), state_(state) {}

  // Runs the operation `r` records. Returns "" when it ran (whatever its result), or why it
  // could not (no such handle, a malformed record), as the report's "+" line.
  std::string Execute(const TraceRecord& r);

 private:
  std::string ExecuteFileOp(const TraceRecord& r);
  std::string ExecuteDirOp(const TraceRecord& r);
  std::string ExecuteStat(const TraceRecord& r);
  std::string Open(const TraceRecord& r);
  std::string Lock(const TraceRecord& r);
  std::string Crash(const TraceRecord& r);
  std::string Release(const TraceRecord& r);
  std::string NoHandle(const TraceRecord& r) const {
    return absl::StrCat("(the replay has no open ", r.op == SimOp::kRead ? "reader" : "writer",
                        " fd=", r.handle, ")");
  }

  SimEnv* const env_;
  internal::SimState* const state_;
  std::map<uint64_t, std::unique_ptr<WritableFile>> writers_;
  std::map<uint64_t, std::unique_ptr<RandomAccessFile>> readers_;
  std::map<uint64_t, std::unique_ptr<FileLock>> locks_;
};

std::string Replayer::Execute(const TraceRecord& r) {
  switch (r.op) {
    case SimOp::kOpenWritable:
    case SimOp::kOpenRead:
      return Open(r);
    case SimOp::kAppend:
    case SimOp::kWriteAt:
    case SimOp::kSync:
    case SimOp::kTruncate:
    case SimOp::kAllocate:
    case SimOp::kClose:
    case SimOp::kRead:
      return ExecuteFileOp(r);
    case SimOp::kGetFileSize:
      return ExecuteStat(r);
    case SimOp::kGetChildren:
    case SimOp::kCreateDir:
    case SimOp::kRemoveFile:
    case SimOp::kRemoveDir:
    case SimOp::kRename:
    case SimOp::kSyncDir:
      return ExecuteDirOp(r);
    case SimOp::kLock:
      return Lock(r);
    case SimOp::kCrash:
      return Crash(r);
    case SimOp::kRelease:
      return Release(r);
  }
  return "(an operation the replay does not know)";
}

std::string Replayer::Open(const TraceRecord& r) {
  if (r.op == SimOp::kOpenRead) {
    RandomAccessFileOptions options;
    options.use_mmap = r.arg == "mmap";
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
        env_->NewRandomAccessFile(r.path, options);
    if (file.ok()) readers_[r.handle] = *std::move(file);
    return "";
  }
  if (r.arg != "truncate" && r.arg != "append") return "(open-write without arg=truncate|append)";
  absl::StatusOr<std::unique_ptr<WritableFile>> file =
      r.arg == "truncate" ? env_->NewWritableFile(r.path) : env_->NewAppendableFile(r.path);
  if (file.ok()) writers_[r.handle] = *std::move(file);
  return "";
}

// The operations of an open file. Their results are in the record `fresh` makes.
std::string Replayer::ExecuteFileOp(const TraceRecord& r) {
  if (r.op == SimOp::kRead) {
    auto reader = readers_.find(r.handle);
    if (reader == readers_.end()) return NoHandle(r);
    if (r.length > kMaxReplayRead) return "(a read too large to replay)";
    std::string scratch(static_cast<size_t>(r.length), '\0');
    // A read outside the mapping without scratch space fails with InvalidArgument: the
    // one way a read recorded with that result (and no fault) came about.
    const bool no_scratch = r.result == absl::StatusCode::kInvalidArgument && r.injected.empty();
    reader->second->Read(r.offset, scratch.size(), no_scratch ? nullptr : scratch.data())
        .IgnoreError();
    return "";
  }
  auto writer = writers_.find(r.handle);
  if (writer == writers_.end()) return NoHandle(r);
  WritableFile* file = writer->second.get();
  absl::Status ignored;  // The result is compared through the record.
  switch (r.op) {
    case SimOp::kAppend:
      ignored = file->Append(r.data);
      break;
    case SimOp::kWriteAt:
      ignored = file->WriteAt(r.offset, r.data);
      break;
    case SimOp::kSync:
      ignored = file->Sync();
      break;
    case SimOp::kTruncate:
      ignored = file->Truncate(r.offset);
      break;
    case SimOp::kAllocate:
      ignored = file->Allocate(r.offset, r.length);
      break;
    default:
      ignored = file->Close();
  }
  ignored.IgnoreError();
  return "";
}

std::string Replayer::ExecuteStat(const TraceRecord& r) {
  if (r.arg == "size") {
    env_->GetFileSize(r.path).IgnoreError();
  } else if (r.arg == "isdir") {
    env_->IsDirectory(r.path).IgnoreError();
  } else if (r.arg == "handle") {
    auto reader = readers_.find(r.handle);
    if (reader == readers_.end()) return NoHandle(r);
    reader->second->Size().IgnoreError();
  } else {
    return "(stat without arg=size|isdir|handle)";
  }
  return "";
}

std::string Replayer::ExecuteDirOp(const TraceRecord& r) {
  absl::Status ignored;
  switch (r.op) {
    case SimOp::kGetChildren:
      ignored = env_->GetChildren(r.path).status();
      break;
    case SimOp::kCreateDir:
      ignored = env_->CreateDir(r.path);
      break;
    case SimOp::kRemoveFile:
      ignored = env_->RemoveFile(r.path);
      break;
    case SimOp::kRemoveDir:
      ignored = env_->RemoveDir(r.path);
      break;
    case SimOp::kRename: {
      const std::vector<std::string> paths = absl::StrSplit(r.path, absl::MaxSplits(" -> ", 1));
      if (paths.size() != 2) return "(a rename without \"FROM -> TO\")";
      ignored = env_->RenameFile(paths[0], paths[1]);
      break;
    }
    default:
      ignored = env_->SyncDir(r.path);
  }
  ignored.IgnoreError();
  return "";
}

std::string Replayer::Lock(const TraceRecord& r) {
  absl::string_view arg = r.arg;
  absl::StatusOr<std::unique_ptr<FileLock>> lock;
  if (arg == "file") {
    lock = env_->LockFile(r.path);
  } else if (absl::ConsumePrefix(&arg, "dir=")) {
    lock = env_->LockDir(r.path, std::string(arg));
  } else {
    return "(lock without arg=file|dir=NAME)";
  }
  if (lock.ok()) locks_[r.handle] = *std::move(lock);
  return "";
}

std::string Replayer::Crash(const TraceRecord& r) {
  const std::optional<internal::ParsedCrash> crash = internal::ParseCrashArg(r.arg);
  if (!crash.has_value()) return "(a crash with a malformed arg)";
  if (crash->is_plan) {
    env_->Crash(crash->plan);
  } else {
    state_->CrashFromState(crash->options, crash->rng_state);
  }
  return "";
}

// Destroying the object releases it, and `fresh` records that (when it held anything).
std::string Replayer::Release(const TraceRecord& r) {
  if (writers_.erase(r.handle) + readers_.erase(r.handle) + locks_.erase(r.handle) == 0) {
    return absl::StrCat("(the replay has nothing open as fd=", r.handle, ")");
  }
  return "";
}

absl::Status CheckReplayable(absl::Span<const TraceRecord> trace, SimEnv* fresh,
                             internal::SimState* state) {
  const SimEnvOptions options = state->options();
  if (!options.trace_for_replay || !options.record_trace) {
    return absl::InvalidArgumentError(
        "replay trace: the SimEnv to replay on needs record_trace and trace_for_replay");
  }
  if (state->operations_served() != 0 || fresh->mutating_ops() != 0) {
    return absl::InvalidArgumentError(
        "replay trace: the SimEnv to replay on has served operations already");
  }
  if (!trace.empty() && trace[0].seq != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replay trace: the trace starts at seq ", trace[0].seq,
        ", not 0 (cleared, or the trace of a Clone): it does not start from an empty SimEnv"));
  }
  for (const TraceRecord& r : trace) {
    const bool opens =
        r.op == SimOp::kOpenWritable || r.op == SimOp::kOpenRead || r.op == SimOp::kLock;
    if (opens && r.result == absl::StatusCode::kOk && r.handle == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay trace: record \"", r.ToString(),
          "\" has no fd=: the trace was recorded without SimEnvOptions::trace_for_replay"));
    }
  }
  return absl::OkStatus();
}

// Where the seqs of `trace` leave the expected order at record `i` (an operation takes the
// next seq; a crash or release record carries the next operation's seq), or "".
std::string SeqGap(const TraceRecord& r, uint64_t next_seq) {
  if (r.seq == next_seq) return "";
  if (r.seq > next_seq) {
    return absl::StrCat("(the replay is at seq ", next_seq, ": the trace lacks operation",
                        r.seq - next_seq > 1 ? "s " : " ", next_seq,
                        r.seq - next_seq > 1 ? absl::StrCat(" to ", r.seq - 1) : "", ")");
  }
  return absl::StrCat("(the replay is at seq ", next_seq, ": the trace goes back)");
}

}  // namespace

absl::StatusOr<ReplayReport> ReplayTrace(absl::Span<const TraceRecord> trace, SimEnv* fresh,
                                         size_t context) {
  internal::SimState* const state = internal::SimEnvAccess::State(fresh);
  if (absl::Status ok = CheckReplayable(trace, fresh, state); !ok.ok()) return ok;
  std::optional<SimFault> next_fault;  // what the hook answers for the operation run next
  fresh->SetHook([&next_fault](const SimOpInfo&) {
    std::optional<SimFault> fault = next_fault;
    next_fault.reset();
    return fault;
  });
  ReplayReport report;
  {
    Replayer replayer(fresh, state);
    uint64_t next_seq = 0;
    size_t recorded = 0;  // records `fresh` has made
    for (size_t i = 0; i < trace.size(); ++i) {
      const TraceRecord& r = trace[i];
      std::string problem = SeqGap(r, next_seq);
      if (r.op != SimOp::kCrash && r.op != SimOp::kRelease) ++next_seq;
      std::vector<uint64_t> draws;
      next_fault = RecordedFault(r, &draws);
      if (next_fault.has_value() && !internal::FaultAppliesTo(*next_fault, r.op)) {
        problem = "(the trace injects a fault this operation cannot have)";
      }
      if (problem.empty()) {
        if (r.injected != "power cut") fresh->ClearPowerCut();  // as the recorded run did
        state->ForceDraws(std::move(draws));
        problem = replayer.Execute(r);
        next_fault.reset();
        state->ForceDraws({});
      }
      const std::vector<TraceRecord> got = state->TraceFrom(recorded);
      recorded += got.size();
      if (problem.empty() && got.size() == 1 && SameOperation(r, got[0])) {
        report.replayed = i + 1;
        continue;
      }
      report.identical = false;
      report.first_difference = i;
      const bool show_got = problem.empty() && !got.empty();
      if (problem.empty() && got.empty()) problem = "(the replay recorded nothing)";
      report.difference = internal::DifferenceReport(
          absl::StrCat("replay differs at record ", i, " of ", trace.size(), " (seq ", r.seq, ")"),
          trace, i, context, show_got ? &got[0] : nullptr, problem);
      break;
    }
    fresh->SetHook(nullptr);
  }  // The replay's open files and locks go here.
  return report;
}

}  // namespace ironwal
