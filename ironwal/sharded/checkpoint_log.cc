#include "ironwal/sharded/checkpoint_log.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "ironwal/env/env.h"
#include "ironwal/sharded/checkpoint_entry.h"
#include "ironwal/status_macros.h"
#include "ironwal/util/coding.h"

namespace ironwal {
namespace sharded {

using ::ironwal::internal::DecodeFixed32;

namespace {

constexpr absl::string_view kLogTmpSuffix = ".tmp";

absl::Status Annotate(const absl::Status& status, absl::string_view what, const std::string& path,
                      uint64_t offset) {
  return absl::Status(status.code(),
                      absl::StrCat(what, " ", path, "@", offset, ": ", status.message()));
}

// The offset of the first decodable entry that starts after `from` in `rest` (the file's
// bytes from `base` on), if any.
std::optional<uint64_t> FindEntryAfter(absl::string_view rest, uint64_t base) {
  for (size_t pos = rest.find(kCheckpointMagic, 1); pos != absl::string_view::npos;
       pos = rest.find(kCheckpointMagic, pos + 1)) {
    absl::StatusOr<uint32_t> len = DecodeEntryHeader(rest.substr(pos));
    if (!len.ok() || rest.size() - pos - kEntryHeaderSize < *len) continue;
    if (DecodeCheckpointEntry(rest.substr(pos, kEntryHeaderSize + *len)).ok()) return base + pos;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<LogScan> ScanCheckpointLog(Env* env, const std::string& path) {
  LogScan scan;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> file =
      env->NewRandomAccessFile(path, RandomAccessFileOptions());
  if (absl::IsNotFound(file.status())) return scan;
  IRONWAL_RETURN_IF_ERROR(file.status());
  scan.exists = true;
  IRONWAL_ASSIGN_OR_RETURN(scan.file_size, (*file)->Size());
  std::string buf;
  uint64_t off = 0;
  while (off < scan.file_size) {
    const uint64_t left = scan.file_size - off;
    if (left < kEntryHeaderSize) {
      scan.stop_reason = absl::StrCat("partial entry header (", left, " bytes)");
      break;
    }
    buf.resize(kEntryHeaderSize);
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view header,
                             (*file)->Read(off, kEntryHeaderSize, buf.data()));
    absl::StatusOr<uint32_t> len = DecodeEntryHeader(header);
    if (!len.ok()) {
      scan.stop_reason = std::string(len.status().message());
      break;
    }
    if (*len > left - kEntryHeaderSize) {  // checked before allocating the payload
      scan.stop_reason = absl::StrCat("entry of ", kEntryHeaderSize + *len, " bytes, only ", left,
                                      " left in the file");
      break;
    }
    const size_t size = kEntryHeaderSize + *len;
    buf.resize(size);
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view bytes, (*file)->Read(off, size, buf.data()));
    absl::StatusOr<CheckpointEntry> entry = DecodeCheckpointEntry(bytes);
    if (!entry.ok()) {
      scan.stop_reason = std::string(entry.status().message());
      break;
    }
    scan.entries.push_back({off, size, DecodeFixed32(bytes.data() + 4), *std::move(entry)});
    off += size;
  }
  scan.valid_end = off;
  if (off < scan.file_size) {
    std::string rest(scan.file_size - off, '\0');
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view bytes, (*file)->Read(off, rest.size(), rest.data()));
    scan.entry_after_damage = FindEntryAfter(bytes, off);
  }
  return scan;
}

CheckpointLog::CheckpointLog(Env* env, std::string root, bool read_only)
    : env_(env), root_(std::move(root)), read_only_(read_only) {}

std::string CheckpointLog::Path(absl::string_view name) const { return JoinPath(root_, name); }

absl::StatusOr<std::unique_ptr<CheckpointLog>> CheckpointLog::Open(Env* env,
                                                                   const std::string& root,
                                                                   bool read_only) {
  std::unique_ptr<CheckpointLog> log(new CheckpointLog(env, root, read_only));
  IRONWAL_RETURN_IF_ERROR(log->Recover());
  return log;
}

absl::Status CheckpointLog::Recover() {
  const std::string path = Path(kCheckpointLogName);
  IRONWAL_ASSIGN_OR_RETURN(const LogScan scan, ScanCheckpointLog(env_, path));
  if (scan.entry_after_damage.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "open ", path, "@", scan.valid_end, ": damaged checkpoint entry (", scan.stop_reason,
        ") followed by a valid entry at offset ", *scan.entry_after_damage));
  }
  report_.entries = scan.entries.size();
  report_.torn_tail_bytes = scan.file_size - scan.valid_end;
  report_.torn_tail_reason = scan.stop_reason;
  std::lock_guard<std::mutex> lock(mu_);
  for (const ScannedEntry& e : scan.entries) Index(e.entry.user_id, e.entry.data, e.file_offset);
  absl::StatusOr<std::string> head = ReadFileToString(env_, Path(kHeadName));
  if (head.ok()) head_ = DecodeHead(*head);
  if (read_only_) return absl::OkStatus();
  // Leftovers of an interrupted compaction or HEAD rewrite.
  for (absl::string_view name : {kCheckpointLogName, kHeadName}) {
    IRONWAL_RETURN_IF_ERROR(RemoveFileIfPresent(env_, absl::StrCat(Path(name), kLogTmpSuffix)));
  }
  IRONWAL_RETURN_IF_ERROR(CutTornTail(scan));
  IRONWAL_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(path));
  if (!scan.exists) IRONWAL_RETURN_IF_ERROR(env_->SyncDir(root_));
  // A crash between a log append and its HEAD rewrite leaves HEAD behind: 0.6 trusts
  // HEAD, so point it at the latest again.
  std::optional<IndexedCheckpoint> latest = LatestLocked();
  if (latest.has_value() && head_ != latest->user_id) {
    head_ = latest->user_id;
    IRONWAL_RETURN_IF_ERROR(WriteHeadLocked());
  }
  return absl::OkStatus();
}

absl::Status CheckpointLog::CutTornTail(const LogScan& scan) {
  if (scan.valid_end == scan.file_size) return absl::OkStatus();
  const std::string path = Path(kCheckpointLogName);
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env_->NewAppendableFile(path));
  // Only bytes that are not an entry go: a crash before the sync leaves them or not.
  absl::Status s = file->Truncate(scan.valid_end);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (!s.ok()) return Annotate(s, "cut torn tail of", path, scan.valid_end);
  return absl::OkStatus();
}

void CheckpointLog::Index(const std::string& user_id, const CheckpointData& data,
                          uint64_t file_offset) {
  auto old = offset_by_id_.find(user_id);
  if (old != offset_by_id_.end()) by_offset_.erase(old->second);
  offset_by_id_[user_id] = file_offset;
  by_offset_[file_offset] = IndexedCheckpoint{user_id, data, file_offset};
}

absl::Status CheckpointLog::CheckWritable() const {
  if (read_only_) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoints of ", root_, " are read-only"));
  }
  if (!poisoned_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint log ", Path(kCheckpointLogName),
                     " failed earlier; reopen the ShardedWal: ", poisoned_.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckpointLog::Append(const CheckpointEntry& entry) {
  IRONWAL_ASSIGN_OR_RETURN(const std::string bytes, EncodeCheckpointEntry(entry));
  std::lock_guard<std::mutex> lock(mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable());
  const uint64_t offset = file_->Size();
  absl::Status s = file_->Append(bytes);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    poisoned_ = Annotate(s, "append checkpoint to", Path(kCheckpointLogName), offset);
    return poisoned_;
  }
  Index(entry.user_id, entry.data, offset);
  head_ = entry.user_id;
  return WriteHeadLocked();
}

absl::Status CheckpointLog::WriteHeadLocked() {
  const std::string path = Path(kHeadName);
  if (!head_.has_value()) {
    absl::Status s = env_->RemoveFile(path);
    if (absl::IsNotFound(s)) return absl::OkStatus();
    if (s.ok()) s = env_->SyncDir(root_);
    return s;
  }
  IRONWAL_ASSIGN_OR_RETURN(const std::string bytes, EncodeHead(*head_));
  return WriteFileAtomically(env_, path, bytes);
}

absl::StatusOr<CheckpointData> CheckpointLog::Load(absl::string_view user_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = offset_by_id_.find(std::string(user_id));
  if (it == offset_by_id_.end()) {
    return absl::NotFoundError(absl::StrCat("checkpoint '", absl::CEscape(user_id),
                                            "' not found in ", Path(kCheckpointLogName)));
  }
  return by_offset_.at(it->second).data;
}

std::optional<IndexedCheckpoint> CheckpointLog::LatestLocked() const {
  if (by_offset_.empty()) return std::nullopt;
  return by_offset_.rbegin()->second;
}

absl::StatusOr<IndexedCheckpoint> CheckpointLog::LoadLatest() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<IndexedCheckpoint> latest = LatestLocked();
  if (!latest.has_value()) {
    return absl::NotFoundError(absl::StrCat("no checkpoints in ", Path(kCheckpointLogName)));
  }
  return *std::move(latest);
}

std::vector<IndexedCheckpoint> CheckpointLog::List() const {
  std::vector<IndexedCheckpoint> list;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [offset, checkpoint] : by_offset_) list.push_back(checkpoint);
  }
  std::stable_sort(list.begin(), list.end(),
                   [](const IndexedCheckpoint& a, const IndexedCheckpoint& b) {
                     return a.data.timestamp_ns < b.data.timestamp_ns;
                   });
  return list;
}

size_t CheckpointLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_offset_.size();
}

absl::StatusOr<CompactionStats> CheckpointLog::Compact(size_t keep_n) {
  std::lock_guard<std::mutex> lock(mu_);
  IRONWAL_RETURN_IF_ERROR(CheckWritable());
  CompactionStats stats;
  stats.checkpoints_before = by_offset_.size();
  const uint64_t old_size = file_->Size();
  // The keep_n most recent in log order, written in log order.
  std::vector<const IndexedCheckpoint*> kept;
  for (const auto& [offset, checkpoint] : by_offset_) kept.push_back(&checkpoint);
  if (kept.size() > keep_n) kept.erase(kept.begin(), kept.end() - keep_n);
  std::string bytes;
  std::vector<uint64_t> offsets;
  for (const IndexedCheckpoint* c : kept) {
    offsets.push_back(bytes.size());
    IRONWAL_ASSIGN_OR_RETURN(const std::string entry, EncodeCheckpointEntry({c->user_id, c->data}));
    bytes += entry;
  }
  const std::string path = Path(kCheckpointLogName);
  const std::string tmp = absl::StrCat(path, kLogTmpSuffix);
  {
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env_->NewWritableFile(tmp));
    absl::Status s = out->Append(bytes);
    if (s.ok()) s = out->Sync();
    if (s.ok()) s = out->Close();
    if (!s.ok()) return Annotate(s, "write", tmp, 0);
  }
  IRONWAL_RETURN_IF_ERROR(env_->RenameFile(tmp, path));
  // From here on the old handle names a replaced file: reopen whatever happens.
  absl::Status s = env_->SyncDir(root_);
  if (s.ok()) {
    absl::StatusOr<std::unique_ptr<WritableFile>> file = env_->NewAppendableFile(path);
    s = file.status();
    if (s.ok()) file_ = *std::move(file);
  }
  if (!s.ok()) {
    poisoned_ = Annotate(s, "compact", path, 0);
    return poisoned_;
  }
  std::map<uint64_t, IndexedCheckpoint> by_offset;
  std::map<std::string, uint64_t> offset_by_id;
  for (size_t i = 0; i < kept.size(); ++i) {
    IndexedCheckpoint c = *kept[i];
    c.file_offset = offsets[i];
    offset_by_id[c.user_id] = offsets[i];
    by_offset[offsets[i]] = std::move(c);
  }
  by_offset_ = std::move(by_offset);
  offset_by_id_ = std::move(offset_by_id);
  stats.checkpoints_after = by_offset_.size();
  stats.bytes_reclaimed = old_size > bytes.size() ? old_size - bytes.size() : 0;
  // HEAD follows the log (0.6 left it naming a dropped checkpoint).
  std::optional<IndexedCheckpoint> latest = LatestLocked();
  head_ = latest.has_value() ? std::optional<std::string>(latest->user_id) : std::nullopt;
  IRONWAL_RETURN_IF_ERROR(WriteHeadLocked());
  return stats;
}

}  // namespace sharded
}  // namespace ironwal
