#include "ironwal/raft/raft_storage.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

#include "ironwal/status_macros.h"

namespace ironwal {
namespace raft {
namespace {

constexpr absl::string_view kSnapshotPrefix = "snap-";
constexpr absl::string_view kTmpSuffix = ".tmp";

std::string SnapshotName(const SnapshotRecord& s) {
  return absl::StrFormat("snap-%020d-%020d", s.index, s.term);
}

absl::StatusOr<std::string> ReadWholeFile(Env* env, const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path, RandomAccessFileOptions()));
  IRONWAL_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string buffer(size, '\0');
  IRONWAL_ASSIGN_OR_RETURN(absl::string_view got, file->Read(0, size, &buffer[0]));
  if (got.size() != size) {
    return absl::DataLossError(
        absl::StrCat("read ", path, ": ", got.size(), " bytes at offset 0, expected ", size));
  }
  return std::string(got);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RaftStorage>> RaftStorage::Open(const RaftStorageOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  IRONWAL_RETURN_IF_ERROR(CreateDirRecursively(env, options.dir + "/snapshots"));
  WalOptions wal_options;
  wal_options.env = env;
  wal_options.root = options.dir + "/wal";
  // Appends are synced by RaftStorage::Sync, once for many (group commit).
  wal_options.sync_mode = SyncMode::kAsync;
  wal_options.max_segment_size = options.max_segment_size;
  wal_options.preallocate_bytes = options.preallocate_bytes;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(wal_options));
  std::unique_ptr<RaftStorage> storage(new RaftStorage(env, options.dir, std::move(wal)));
  absl::StatusOr<StreamInfo> info = storage->wal_->GetStreamInfo(kStream);
  if (absl::IsNotFound(info.status())) {
    IRONWAL_RETURN_IF_ERROR(storage->wal_->CreateStream(kStream, 1));
  } else if (!info.ok()) {
    return info.status();
  }
  IRONWAL_ASSIGN_OR_RETURN(std::string meta, storage->wal_->GetStreamMetadata(kStream));
  IRONWAL_RETURN_IF_ERROR(DecodeTermVote(meta, "open " + wal_options.root + " stream raft-log",
                                         &storage->term_, &storage->vote_));
  // A snapshot write interrupted before its rename leaves a .tmp file: never a snapshot.
  IRONWAL_ASSIGN_OR_RETURN(auto names, env->GetChildren(storage->snapshot_dir_));
  for (const std::string& name : names) {
    if (absl::EndsWith(name, kTmpSuffix)) {
      IRONWAL_RETURN_IF_ERROR(env->RemoveFile(storage->snapshot_dir_ + "/" + name));
    }
  }
  return storage;
}

RaftStorage::RaftStorage(Env* env, std::string dir, std::unique_ptr<Wal> wal)
    : env_(env), dir_(std::move(dir)), snapshot_dir_(dir_ + "/snapshots"), wal_(std::move(wal)) {}

RaftStorage::~RaftStorage() { (void)wal_->Close(); }

absl::Status RaftStorage::Fail(absl::Status status) {
  if (!status.ok() && failure_.ok()) failure_ = status;
  return status;
}

absl::Status RaftStorage::CheckUsable() const {
  if (failure_.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("raft storage ", dir_, " stopped after an earlier error: ", failure_.message()));
}

absl::StatusOr<StreamInfo> RaftStorage::LogInfo() {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  absl::StatusOr<StreamInfo> info = wal_->GetStreamInfo(kStream);
  if (!info.ok()) return Fail(info.status());
  return info;
}

absl::StatusOr<RaftState> RaftStorage::Load() {
  RaftState state;
  IRONWAL_ASSIGN_OR_RETURN(state.snapshot, GetSnapshot());
  IRONWAL_ASSIGN_OR_RETURN(StreamInfo info, FinishInstall(state.snapshot));
  state.term = term_;
  state.vote = vote_;
  state.start_index = info.first_id;
  for (uint64_t lo = info.first_id; lo < info.next_id;) {
    absl::StatusOr<std::vector<std::string>> chunk =
        wal_->ReadRange(kStream, lo, info.next_id, 8 << 20);
    if (!chunk.ok()) return Fail(chunk.status());
    for (const std::string& bytes : *chunk) {
      absl::StatusOr<LogEntry> entry =
          DecodeEntry(bytes, absl::StrCat("load ", dir_, "/wal raft-log entry ", lo));
      if (!entry.ok()) return Fail(entry.status());
      state.entries.push_back(*std::move(entry));
      ++lo;
    }
  }
  return state;
}

absl::StatusOr<StreamInfo> RaftStorage::FinishInstall(
    const std::optional<SnapshotRecord>& snapshot) {
  IRONWAL_ASSIGN_OR_RETURN(StreamInfo info, LogInfo());
  if (snapshot && snapshot->installed && info.first_id != snapshot->index + 1) {
    // The install wrote the snapshot, then was cut before the log was reset: finish it.
    IRONWAL_RETURN_IF_ERROR(Fail(wal_->ResetStream(kStream, snapshot->index + 1)));
    IRONWAL_ASSIGN_OR_RETURN(info, LogInfo());
  }
  return info;
}

absl::StatusOr<uint64_t> RaftStorage::Recover(const LogEntry& configuration) {
  IRONWAL_ASSIGN_OR_RETURN(std::optional<SnapshotRecord> snapshot, GetSnapshot());
  IRONWAL_ASSIGN_OR_RETURN(StreamInfo info, FinishInstall(snapshot));
  LogEntry entry = configuration;
  if (info.next_id > info.first_id) {
    const uint64_t last = info.next_id - 1;
    absl::StatusOr<std::string> bytes = wal_->Get(kStream, last);
    if (!bytes.ok()) return Fail(bytes.status());
    absl::StatusOr<LogEntry> last_entry =
        DecodeEntry(*bytes, absl::StrCat("recover ", dir_, "/wal raft-log entry ", last));
    if (!last_entry.ok()) return Fail(last_entry.status());
    entry.term = last_entry->term;
  } else if (snapshot) {
    entry.term = snapshot->term;
  } else {
    return absl::FailedPreconditionError(
        absl::StrCat("recover ", dir_,
                     ": nothing to recover (no log entries, no snapshot; "
                     "bootstrap a new cluster instead)"));
  }
  IRONWAL_RETURN_IF_ERROR(Append(info.next_id, {entry}));
  IRONWAL_RETURN_IF_ERROR(Sync());
  return info.next_id;
}

absl::Status RaftStorage::Bootstrap(const LogEntry& configuration) {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  IRONWAL_ASSIGN_OR_RETURN(StreamInfo info, LogInfo());
  IRONWAL_ASSIGN_OR_RETURN(auto snapshots, SnapshotNames());
  if (term_ != 0 || vote_ != 0 || info.first_id != 1 || info.next_id != 1 || !snapshots.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("bootstrap ", dir_, ": already bootstrapped (term ", term_, ", log [",
                     info.first_id, ", ", info.next_id, "))"));
  }
  IRONWAL_RETURN_IF_ERROR(Append(1, {configuration}));
  IRONWAL_RETURN_IF_ERROR(Sync());
  return PutTermVote(1, 0);
}

absl::Status RaftStorage::PutTermVote(uint64_t term, uint64_t vote) {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  IRONWAL_RETURN_IF_ERROR(Fail(wal_->PutStreamMetadata(kStream, EncodeTermVote(term, vote))));
  term_ = term;
  vote_ = vote;
  return absl::OkStatus();
}

absl::Status RaftStorage::SetTerm(uint64_t term) { return PutTermVote(term, 0); }

absl::Status RaftStorage::SetVote(uint64_t server_id) { return PutTermVote(term_, server_id); }

absl::Status RaftStorage::Append(uint64_t first_index, absl::Span<const LogEntry> entries) {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  std::vector<std::string> encoded;
  encoded.reserve(entries.size());
  for (const LogEntry& entry : entries) encoded.push_back(EncodeEntry(entry));
  std::vector<absl::string_view> views(encoded.begin(), encoded.end());
  return Fail(wal_->AppendBatchIf(kStream, first_index, views).status());
}

absl::Status RaftStorage::Sync() {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  return Fail(wal_->Sync());
}

absl::Status RaftStorage::Truncate(uint64_t index) {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  IRONWAL_RETURN_IF_ERROR(Sync());  // earlier appends first, in order
  return Fail(wal_->TruncateSuffix(kStream, index));
}

absl::Status RaftStorage::PutSnapshot(const SnapshotRecord& snapshot, uint64_t trailing) {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  IRONWAL_RETURN_IF_ERROR(Sync());
  IRONWAL_RETURN_IF_ERROR(WriteSnapshotFile(snapshot, trailing == 0));
  if (trailing == 0) {
    return Fail(wal_->ResetStream(kStream, snapshot.index + 1));
  }
  if (snapshot.index < trailing) return absl::OkStatus();
  IRONWAL_ASSIGN_OR_RETURN(StreamInfo info, LogInfo());
  uint64_t first = std::min(snapshot.index - trailing + 1, info.next_id);
  if (first <= info.first_id) return absl::OkStatus();
  return Fail(wal_->TrimFront(kStream, first).status());
}

absl::Status RaftStorage::WriteSnapshotFile(const SnapshotRecord& snapshot, bool installed) {
  SnapshotRecord record = snapshot;
  record.installed = installed;
  const std::string name = SnapshotName(record);
  const std::string path = snapshot_dir_ + "/" + name;
  const std::string tmp = path + std::string(kTmpSuffix);
  const std::string bytes = EncodeSnapshot(record);
  auto write = [&]() -> absl::Status {
    IRONWAL_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(tmp));
    IRONWAL_RETURN_IF_ERROR(file->Append(bytes));
    IRONWAL_RETURN_IF_ERROR(file->Sync());
    IRONWAL_RETURN_IF_ERROR(file->Close());
    IRONWAL_RETURN_IF_ERROR(env_->RenameFile(tmp, path));
    IRONWAL_RETURN_IF_ERROR(env_->SyncDir(snapshot_dir_));
    IRONWAL_ASSIGN_OR_RETURN(auto names, SnapshotNames());
    for (const std::string& old : names) {
      if (old != name) IRONWAL_RETURN_IF_ERROR(env_->RemoveFile(snapshot_dir_ + "/" + old));
    }
    return env_->SyncDir(snapshot_dir_);
  };
  return Fail(write());
}

absl::StatusOr<std::vector<std::string>> RaftStorage::SnapshotNames() {
  IRONWAL_ASSIGN_OR_RETURN(auto children, env_->GetChildren(snapshot_dir_));
  std::vector<std::string> names;
  for (std::string& name : children) {
    if (absl::StartsWith(name, kSnapshotPrefix) && !absl::EndsWith(name, kTmpSuffix)) {
      names.push_back(std::move(name));
    }
  }
  return names;  // sorted: GetChildren sorts, and the numbers are zero-padded
}

absl::StatusOr<std::optional<SnapshotRecord>> RaftStorage::GetSnapshot() {
  IRONWAL_RETURN_IF_ERROR(CheckUsable());
  absl::StatusOr<std::vector<std::string>> names = SnapshotNames();
  if (!names.ok()) return Fail(names.status());
  if (names->empty()) return std::optional<SnapshotRecord>();
  // A crash after a rename but before the old file's removal leaves two: the newest wins.
  const std::string path = snapshot_dir_ + "/" + names->back();
  absl::StatusOr<std::string> bytes = ReadWholeFile(env_, path);
  if (!bytes.ok()) return Fail(bytes.status());
  absl::StatusOr<SnapshotRecord> record = DecodeSnapshot(*bytes, "read " + path);
  if (!record.ok()) return Fail(record.status());
  return std::optional<SnapshotRecord>(*std::move(record));
}

}  // namespace raft
}  // namespace ironwal
