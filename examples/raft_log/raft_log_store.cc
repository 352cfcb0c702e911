// RaftLogStore: a Raft log on ironwal's log primitives (see raft_log_store.h).
#include "examples/raft_log/raft_log_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace raft_log {
namespace {

// The metadata record, version 1: version (1 byte), last_front_op (1 byte), then u64 LE:
// hard state term, vote, commit; snapshot index, term; base index, term.
constexpr uint8_t kMetaVersion = 1;
constexpr size_t kMetaSize = 2 + 7 * 8;
constexpr size_t kTermSize = 8;
// The budget of the reads Append makes to compare terms.
constexpr size_t kScanBytes = 1 << 20;

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetU64(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}

std::string EncodeMeta(const RaftLogStore::Meta& m) {
  std::string out;
  out.push_back(static_cast<char>(kMetaVersion));
  out.push_back(static_cast<char>(m.last_front_op));
  for (uint64_t v : {m.hard_state.term, m.hard_state.vote, m.hard_state.commit, m.snapshot.index,
                     m.snapshot.term, m.base.index, m.base.term}) {
    PutU64(&out, v);
  }
  return out;
}

// "" (a stream whose metadata was never written) is the initial record.
absl::StatusOr<RaftLogStore::Meta> DecodeMeta(absl::string_view in) {
  RaftLogStore::Meta m;
  if (in.empty()) return m;
  if (in.size() != kMetaSize) {
    return absl::DataLossError(
        absl::StrCat("metadata record is ", in.size(), " bytes, expected ", kMetaSize));
  }
  if (static_cast<uint8_t>(in[0]) != kMetaVersion) {
    return absl::DataLossError(absl::StrCat("metadata record has version ",
                                            static_cast<uint8_t>(in[0]), ", expected ",
                                            static_cast<int>(kMetaVersion)));
  }
  const uint8_t op = static_cast<uint8_t>(in[1]);
  if (op > static_cast<uint8_t>(RaftLogStore::FrontOp::kSnapshot)) {
    return absl::DataLossError(absl::StrCat("metadata record has front op ", op));
  }
  m.last_front_op = static_cast<RaftLogStore::FrontOp>(op);
  uint64_t* fields[] = {&m.hard_state.term, &m.hard_state.vote, &m.hard_state.commit,
                        &m.snapshot.index,  &m.snapshot.term,   &m.base.index,
                        &m.base.term};
  for (size_t i = 0; i < 7; ++i) *fields[i] = GetU64(in.substr(2 + 8 * i, 8));
  return m;
}

std::string EncodeEntry(const RaftEntry& e) {
  std::string out;
  out.reserve(kTermSize + e.data.size());
  PutU64(&out, e.term);
  out.append(e.data);
  return out;
}

}  // namespace

RaftLogStore::RaftLogStore(ironwal::Wal* wal, absl::string_view group) : wal_(wal), group_(group) {}

std::string RaftLogStore::Where(absl::string_view op) const {
  return absl::StrCat(op, " raft log '", absl::CEscape(group_), "'");
}

absl::StatusOr<std::unique_ptr<RaftLogStore>> RaftLogStore::Open(ironwal::Wal* wal,
                                                                 absl::string_view group) {
  std::unique_ptr<RaftLogStore> store(new RaftLogStore(wal, group));
  std::lock_guard<std::mutex> lock(store->mu_);
  absl::Status recovered = store->Recover();
  if (!recovered.ok()) return recovered;
  return store;
}

absl::Status RaftLogStore::Recover() {
  absl::StatusOr<ironwal::StreamInfo> info = wal_->GetStreamInfo(group_);
  if (absl::IsNotFound(info.status())) {
    absl::Status created = wal_->CreateStream(group_, 1);
    if (!created.ok()) return created;
    info = wal_->GetStreamInfo(group_);
  }
  if (!info.ok()) return info.status();
  absl::StatusOr<std::string> raw = wal_->GetStreamMetadata(group_);
  if (!raw.ok()) return raw.status();
  absl::StatusOr<Meta> meta = DecodeMeta(*raw);
  if (!meta.ok()) {
    return absl::DataLossError(absl::StrCat(Where("open"), ": ", meta.status().message()));
  }
  meta_ = *meta;
  if (info->first_id == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Where("open"), ": the stream starts at ID 0, which is no Raft index"));
  }
  absl::Status finished = FinishFrontOp(info->first_id, info->next_id);
  if (!finished.ok()) return finished;
  info = wal_->GetStreamInfo(group_);
  if (!info.ok()) return info.status();
  last_index_ = info->next_id - 1;
  if (meta_.hard_state.commit > last_index_) {
    return absl::DataLossError(absl::StrCat(Where("open"), ": commit index ",
                                            meta_.hard_state.commit, " is past the last index ",
                                            last_index_, " (committed entries are missing)"));
  }
  return absl::OkStatus();
}

// The metadata is written before the stream changes: a stream starting below base + 1 is a
// Compact or ApplySnapshot that a crash interrupted, finished here.
absl::Status RaftLogStore::FinishFrontOp(uint64_t first_id, uint64_t next_id) {
  const uint64_t want_first = meta_.base.index + 1;
  if (first_id > want_first) {
    return absl::DataLossError(absl::StrCat(Where("open"), ": the log starts at index ", first_id,
                                            " but its base is index ", meta_.base.index));
  }
  if (first_id == want_first) return absl::OkStatus();
  switch (meta_.last_front_op) {
    case FrontOp::kSnapshot:
      return wal_->ResetStream(group_, want_first);
    case FrontOp::kCompact:
      if (next_id < want_first) {
        return absl::DataLossError(absl::StrCat(Where("open"), ": compacted up to index ",
                                                meta_.base.index, " but the log ends at index ",
                                                next_id - 1));
      }
      return wal_->TrimFront(group_, want_first).status();
    case FrontOp::kNone:
      break;
  }
  return absl::DataLossError(absl::StrCat(Where("open"), ": the log starts at index ", first_id,
                                          " below its base index ", meta_.base.index));
}

absl::Status RaftLogStore::CheckWritable(absl::string_view op) {
  if (broken_.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      Where(op), ": an earlier write failed (reopen to recover): ", broken_.message()));
}

absl::Status RaftLogStore::Broken(absl::Status status) {
  if (!status.ok() && broken_.ok()) broken_ = status;
  return status;
}

absl::Status RaftLogStore::WriteMeta(const Meta& meta) {
  absl::Status put = wal_->PutStreamMetadata(group_, EncodeMeta(meta));
  if (!put.ok()) return Broken(put);
  meta_ = meta;
  return absl::OkStatus();
}

uint64_t RaftLogStore::FirstIndex() {
  std::lock_guard<std::mutex> lock(mu_);
  return meta_.base.index + 1;
}

uint64_t RaftLogStore::LastIndex() {
  std::lock_guard<std::mutex> lock(mu_);
  return last_index_;
}

RaftHardState RaftLogStore::HardState() {
  std::lock_guard<std::mutex> lock(mu_);
  return meta_.hard_state;
}

RaftSnapshotMeta RaftLogStore::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return meta_.snapshot;
}

absl::StatusOr<std::vector<RaftEntry>> RaftLogStore::ReadLocked(uint64_t lo, uint64_t hi,
                                                                size_t max_bytes) {
  if (lo <= meta_.base.index) {
    return absl::NotFoundError(absl::StrCat(
        Where("read"), ": index ", lo, " is compacted (first index ", meta_.base.index + 1, ")"));
  }
  if (hi > last_index_ + 1) {
    return absl::OutOfRangeError(
        absl::StrCat(Where("read"), ": index ", hi - 1, " is past the last index ", last_index_));
  }
  std::vector<RaftEntry> out;
  if (hi <= lo) return out;
  absl::StatusOr<std::vector<std::string>> raw = wal_->ReadRange(group_, lo, hi, max_bytes);
  if (!raw.ok()) return raw.status();
  out.reserve(raw->size());
  for (std::string& stored : *raw) {
    const uint64_t index = lo + out.size();
    if (stored.size() < kTermSize) {
      return absl::DataLossError(absl::StrCat(Where("read"), ": entry ", index, " is ",
                                              stored.size(), " bytes, shorter than its term"));
    }
    RaftEntry e;
    e.index = index;
    e.term = GetU64(stored);
    e.data = stored.substr(kTermSize);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<RaftEntry>> RaftLogStore::Entries(uint64_t lo, uint64_t hi,
                                                             size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadLocked(lo, hi, max_bytes);
}

absl::StatusOr<uint64_t> RaftLogStore::TermLocked(uint64_t index) {
  if (index == meta_.base.index) return meta_.base.term;
  if (index > last_index_) {
    return absl::OutOfRangeError(
        absl::StrCat(Where("term of"), ": index ", index, " is past the last index ", last_index_));
  }
  absl::StatusOr<std::vector<RaftEntry>> e = ReadLocked(index, index + 1, kScanBytes);
  if (!e.ok()) return e.status();
  return e->front().term;
}

absl::StatusOr<uint64_t> RaftLogStore::Term(uint64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  return TermLocked(index);
}

absl::Status RaftLogStore::Append(absl::Span<const RaftEntry> entries) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status writable = CheckWritable("append to");
  if (!writable.ok() || entries.empty()) return writable;
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != entries[0].index + k) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where("append to"), ": entry ", k, " has index ", entries[k].index,
                       ", expected ", entries[0].index + k, " (entries must be consecutive)"));
    }
  }
  if (entries[0].index > last_index_ + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where("append to"), ": first index ", entries[0].index,
                     " would leave a gap after the last index ", last_index_));
  }
  // Entries the base covers are in the snapshot already.
  const uint64_t skip =
      meta_.base.index >= entries[0].index
          ? std::min<uint64_t>(meta_.base.index - entries[0].index + 1, entries.size())
          : 0;
  entries.remove_prefix(static_cast<size_t>(skip));
  const size_t overlap = static_cast<size_t>(std::min<uint64_t>(
      entries.empty() || entries[0].index > last_index_ ? 0 : last_index_ - entries[0].index + 1,
      entries.size()));
  absl::StatusOr<uint64_t> conflict = FindConflict(entries.subspan(0, overlap));
  if (!conflict.ok()) return conflict.status();
  if (*conflict != 0) {
    if (*conflict <= meta_.hard_state.commit) {
      return absl::FailedPreconditionError(absl::StrCat(
          Where("append to"), ": entry ", *conflict,
          " conflicts with a committed entry (commit index ", meta_.hard_state.commit, ")"));
    }
    absl::Status cut = wal_->TruncateSuffix(group_, *conflict);
    if (!cut.ok()) return Broken(cut);
    last_index_ = *conflict - 1;
  }
  const size_t fresh = static_cast<size_t>(*conflict != 0 ? *conflict - entries[0].index : overlap);
  return AppendNew(entries.subspan(fresh));
}

absl::StatusOr<uint64_t> RaftLogStore::FindConflict(absl::Span<const RaftEntry> entries) {
  size_t k = 0;
  while (k < entries.size()) {
    absl::StatusOr<std::vector<RaftEntry>> have =
        ReadLocked(entries[k].index, entries.back().index + 1, kScanBytes);
    if (!have.ok()) return have.status();
    for (const RaftEntry& e : *have) {
      if (e.term != entries[k].term) return e.index;
      ++k;
    }
  }
  return 0;
}

// Entries that start exactly at last_index_ + 1.
absl::Status RaftLogStore::AppendNew(absl::Span<const RaftEntry> entries) {
  if (entries.empty()) return absl::OkStatus();
  std::vector<std::string> stored;
  stored.reserve(entries.size());
  for (const RaftEntry& e : entries) stored.push_back(EncodeEntry(e));
  const std::vector<absl::string_view> views(stored.begin(), stored.end());
  absl::StatusOr<ironwal::IdRange> ids = wal_->AppendBatchIf(group_, last_index_ + 1, views);
  if (!ids.ok()) return Broken(ids.status());
  last_index_ += entries.size();
  // kAsync only buffers a batch; the other modes synced it.
  if (wal_->options().sync_mode == ironwal::SyncMode::kAsync) {
    absl::Status synced = wal_->Sync();
    if (!synced.ok()) return Broken(synced);
  }
  return absl::OkStatus();
}

absl::Status RaftLogStore::TruncateSuffix(uint64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status writable = CheckWritable("truncate suffix of");
  if (!writable.ok()) return writable;
  if (index <= meta_.base.index || index > last_index_ + 1) {
    return absl::OutOfRangeError(absl::StrCat(Where("truncate suffix of"), ": index ", index,
                                              " is outside [", meta_.base.index + 1, ", ",
                                              last_index_ + 1, "]"));
  }
  if (index <= meta_.hard_state.commit) {
    return absl::FailedPreconditionError(absl::StrCat(Where("truncate suffix of"), ": index ",
                                                      index, " is committed (commit index ",
                                                      meta_.hard_state.commit, ")"));
  }
  if (index == last_index_ + 1) return absl::OkStatus();
  absl::Status cut = wal_->TruncateSuffix(group_, index);
  if (!cut.ok()) return Broken(cut);
  last_index_ = index - 1;
  return absl::OkStatus();
}

absl::Status RaftLogStore::Compact(uint64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status writable = CheckWritable("compact");
  if (!writable.ok() || index <= meta_.base.index) return writable;
  if (index > last_index_) {
    return absl::OutOfRangeError(
        absl::StrCat(Where("compact"), ": index ", index, " is past the last index ", last_index_));
  }
  if (index > meta_.hard_state.commit) {
    return absl::FailedPreconditionError(absl::StrCat(Where("compact"), ": index ", index,
                                                      " is not committed (commit index ",
                                                      meta_.hard_state.commit, ")"));
  }
  absl::StatusOr<uint64_t> term = TermLocked(index);
  if (!term.ok()) return term.status();
  Meta next = meta_;
  next.base = {index, *term};
  next.last_front_op = FrontOp::kCompact;
  absl::Status written = WriteMeta(next);
  if (!written.ok()) return written;
  return Broken(wal_->TrimFront(group_, index + 1).status());
}

absl::Status RaftLogStore::SetHardState(const RaftHardState& state) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status writable = CheckWritable("set hard state of");
  if (!writable.ok()) return writable;
  const RaftHardState& old = meta_.hard_state;
  std::string bad;
  if (state.term < old.term) {
    bad = absl::StrCat("term ", state.term, " is below ", old.term);
  } else if (state.term == old.term && old.vote != 0 && state.vote != old.vote) {
    bad = absl::StrCat("vote ", state.vote, " replaces vote ", old.vote, " in term ", old.term);
  } else if (state.commit < old.commit) {
    bad = absl::StrCat("commit index ", state.commit, " is below ", old.commit);
  } else if (state.commit > last_index_) {
    bad = absl::StrCat("commit index ", state.commit, " is past the last index ", last_index_);
  }
  if (!bad.empty()) return absl::InvalidArgumentError(Where("set hard state of") + ": " + bad);
  Meta next = meta_;
  next.hard_state = state;
  return WriteMeta(next);
}

absl::Status RaftLogStore::ApplySnapshot(uint64_t index, uint64_t term) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status writable = CheckWritable("apply snapshot to");
  if (!writable.ok()) return writable;
  if (index < meta_.hard_state.commit || index < meta_.base.index) {
    return absl::FailedPreconditionError(absl::StrCat(
        Where("apply snapshot to"), ": snapshot index ", index, " is behind the commit index ",
        meta_.hard_state.commit, " or the base index ", meta_.base.index));
  }
  if (index == meta_.hard_state.commit && index <= last_index_) {
    absl::StatusOr<uint64_t> committed = TermLocked(index);
    if (!committed.ok()) return committed.status();
    if (*committed != term) {
      return absl::FailedPreconditionError(
          absl::StrCat(Where("apply snapshot to"), ": snapshot term ", term, " at index ", index,
                       " differs from the committed entry's term ", *committed));
    }
  }
  if (index == meta_.base.index && last_index_ > index) {
    // The front does not move, so Open could not tell an interrupted install from a
    // finished one: the entries past it (uncommitted, as index >= commit) go first.
    absl::Status cut = wal_->TruncateSuffix(group_, index + 1);
    if (!cut.ok()) return Broken(cut);
    last_index_ = index;
  }
  return InstallSnapshotMeta(index, term);
}

// The record first (Open finishes the reset from it), then the reset.
absl::Status RaftLogStore::InstallSnapshotMeta(uint64_t index, uint64_t term) {
  Meta next = meta_;
  next.hard_state.commit = index;
  next.snapshot = {index, term};
  next.base = {index, term};
  next.last_front_op = FrontOp::kSnapshot;
  absl::Status written = WriteMeta(next);
  if (!written.ok()) return written;
  absl::Status reset = wal_->ResetStream(group_, index + 1);
  if (!reset.ok()) return Broken(reset);
  last_index_ = index;
  return absl::OkStatus();
}

}  // namespace raft_log
