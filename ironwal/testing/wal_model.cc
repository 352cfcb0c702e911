#include "ironwal/testing/wal_model.h"

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ironwal {
namespace testing {
namespace {

std::string Show(absl::string_view bytes) {
  std::string shown = absl::CHexEscape(bytes.substr(0, 24));
  if (bytes.size() > 24) absl::StrAppend(&shown, "...(", bytes.size(), " bytes)");
  return "\"" + shown + "\"";
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::vector<std::string> WalModel::OnAppend(const std::string& stream,
                                            absl::Span<const std::string> entries, bool batch,
                                            const absl::StatusOr<IdRange>& result) {
  std::vector<std::string> violations;
  Stream& s = streams_[stream];
  const uint64_t n = s.next_id;
  const uint64_t k = entries.size();
  if (result.ok()) {
    if (s.poisoned) {
      violations.push_back(absl::StrCat(stream, ": a poisoned stream acknowledged IDs [",
                                        result->first, ", ", result->end, ")"));
    }
    if (k > 0 && (result->first != n || result->end != n + k)) {
      violations.push_back(absl::StrCat(stream, ": got IDs [", result->first, ", ", result->end,
                                        "), expected [", n, ", ", n + k, ")"));
      return violations;
    }
    for (uint64_t i = 0; i < k; ++i) {
      s.acked[n + i] = entries[i];
      s.attempted[n + i].push_back(entries[i]);
    }
    s.next_id = n + k;
    s.maybe_poisoned = false;
    if (mode_ == SyncMode::kStrict || (mode_ == SyncMode::kBatchOnly && batch)) {
      s.durable_end = s.next_id;
    }
    return violations;
  }
  switch (result.status().code()) {
    case absl::StatusCode::kInvalidArgument:
      return violations;  // Refused before anything was written.
    case absl::StatusCode::kFailedPrecondition:
      s.poisoned = true;  // Poisoned by a failure this model did not see (a flush, a sync).
      return violations;
    case absl::StatusCode::kResourceExhausted:
      s.maybe_poisoned = true;
      break;
    default:
      s.poisoned = true;
      break;
  }
  for (uint64_t i = 0; i < k; ++i) s.attempted[n + i].push_back(entries[i]);
  return violations;
}

void WalModel::OnSync(const absl::Status& result) {
  if (!result.ok()) return;
  for (auto& [key, s] : streams_) {
    if (!s.poisoned) s.durable_end = s.next_id;
  }
}

std::vector<std::string> WalModel::OnTruncate(const std::string& stream, uint64_t keep_from_id,
                                              const absl::StatusOr<TruncateResult>& result) {
  std::vector<std::string> violations;
  Stream& s = streams_[stream];
  if (!result.ok()) {
    s.first_id_max = std::max(s.first_id_max, std::min(keep_from_id, s.next_id));
    return violations;
  }
  // Whole segments only: the new first ID is the start of the segment holding
  // keep_from_id (or of the active segment), never past it.
  // A truncation that failed may have taken effect (up to first_id_max).
  const uint64_t bound = std::max(
      keep_from_id < s.next_id ? std::max(keep_from_id, s.first_id) : s.next_id, s.first_id_max);
  if (result->first_id < s.first_id || result->first_id > bound) {
    violations.push_back(absl::StrCat(stream, ": truncate(", keep_from_id, ") left first ID ",
                                      result->first_id, " (was ", s.first_id, ", next ", s.next_id,
                                      ")"));
  }
  s.first_id = std::max(s.first_id, result->first_id);
  s.first_id_max = std::max(s.first_id_max, s.first_id);
  return violations;
}

std::vector<std::string> WalModel::OnTruncateSuffix(const std::string& stream, uint64_t from_id,
                                                    const absl::Status& result) {
  std::vector<std::string> violations;
  Stream& s = streams_[stream];
  if (!result.ok()) {
    if (absl::IsOutOfRange(result) || absl::IsNotFound(result)) {
      if (from_id >= s.first_id && from_id <= s.next_id && !s.poisoned && !disturbed_ &&
          s.next_id > 0 && !s.maybe_poisoned) {
        violations.push_back(absl::StrCat(stream, ": TruncateSuffix(", from_id,
                                          ") refused: ", result.ToString(), " (first ", s.first_id,
                                          ", next ", s.next_id, ")"));
      }
      return violations;
    }
    // It may have happened (and poisoned the stream): IDs from from_id on need not survive.
    s.maybe_poisoned = true;
    s.durable_end = std::min(s.durable_end, from_id);
    return violations;
  }
  if (from_id < s.first_id || from_id > s.next_id) {
    violations.push_back(absl::StrCat(stream, ": TruncateSuffix(", from_id, ") succeeded outside [",
                                      s.first_id, ", ", s.next_id, "]"));
    return violations;
  }
  if (from_id == s.next_id) return violations;  // a no-op
  // The old bytes of the removed IDs must never come back: forget them.
  s.acked.erase(s.acked.lower_bound(from_id), s.acked.end());
  s.attempted.erase(s.attempted.lower_bound(from_id), s.attempted.end());
  s.next_id = from_id;
  s.durable_end = from_id;  // everything before it was made durable first
  return violations;
}

std::vector<std::string> WalModel::OnReset(const std::string& stream, uint64_t next_id,
                                           const absl::Status& result) {
  std::vector<std::string> violations;
  Stream& s = streams_[stream];
  if (!result.ok()) {
    s.maybe_poisoned = true;
    s.maybe_reset.insert(next_id);
    return violations;
  }
  Stream fresh;
  fresh.first_id = fresh.first_id_max = fresh.next_id = fresh.durable_end = next_id;
  fresh.metadata = s.metadata;
  s = std::move(fresh);
  return violations;
}

std::vector<std::string> WalModel::OnCreate(const std::string& stream, uint64_t first_id,
                                            const absl::Status& result) {
  if (absl::IsAlreadyExists(result)) {
    std::vector<std::string> violations;
    auto it = streams_.find(stream);
    if (it == streams_.end() && !disturbed_) {
      violations.push_back(stream + ": CreateStream says AlreadyExists for a stream never made");
    }
    return violations;
  }
  return OnReset(stream, first_id, result);
}

std::vector<std::string> WalModel::OnTrimFront(const std::string& stream, uint64_t first_id,
                                               const absl::StatusOr<TruncateResult>& result) {
  std::vector<std::string> violations;
  Stream& s = streams_[stream];
  if (!result.ok()) {
    if (!absl::IsOutOfRange(result.status())) {
      s.first_id_max = std::max(s.first_id_max, std::min(first_id, s.next_id));
      s.maybe_poisoned = true;
    }
    return violations;
  }
  const uint64_t expected = std::max(s.first_id, first_id);
  if (result->first_id < expected || result->first_id > std::max(expected, s.first_id_max)) {
    violations.push_back(absl::StrCat(stream, ": TrimFront(", first_id, ") left first ID ",
                                      result->first_id, ", expected ", expected));
  }
  s.first_id = std::max(s.first_id, result->first_id);
  s.first_id_max = std::max(s.first_id_max, s.first_id);
  return violations;
}

std::vector<std::string> WalModel::OnPutMetadata(const std::string& stream,
                                                 const std::string& value,
                                                 const absl::Status& result) {
  Stream& s = streams_[stream];
  if (result.ok()) {
    s.metadata = {value};
  } else if (!absl::IsInvalidArgument(result)) {
    s.metadata.insert(value);
    s.maybe_poisoned = true;  // creating the stream's files may have failed
  }
  return {};
}

std::vector<std::string> WalModel::OnDelete(const std::string& stream, const absl::Status& result) {
  if (result.ok()) {
    streams_.erase(stream);
    return {};
  }
  auto it = streams_.find(stream);
  if (it != streams_.end() && !absl::IsNotFound(result)) {
    it->second.maybe_deleted = true;
    it->second.maybe_poisoned = true;
  }
  return {};
}

std::vector<std::string> WalModel::OnAppendIf(const std::string& stream, uint64_t expected_next_id,
                                              absl::Span<const std::string> entries,
                                              const absl::StatusOr<IdRange>& result) {
  const Stream& s = streams_[stream];
  if (absl::IsFailedPrecondition(result.status()) &&
      absl::StrContains(result.status().message(), "next id is")) {
    if (expected_next_id == s.next_id && !s.poisoned && !s.maybe_poisoned && !disturbed_) {
      return {absl::StrCat(stream, ": AppendBatchIf(", expected_next_id,
                           ") refused although the next ID is that: ", result.status().ToString())};
    }
    return {};
  }
  if (result.ok() && expected_next_id != s.next_id) {
    return {absl::StrCat(stream, ": AppendBatchIf(", expected_next_id, ") appended at ",
                         result->first, " (next ID ", s.next_id, ")")};
  }
  if (result.ok() && entries.empty()) return {};
  return OnAppend(stream, entries, /*batch=*/true, result);
}

std::vector<std::string> WalModel::OnReadRange(
    const std::string& stream, uint64_t lo, uint64_t hi, size_t max_bytes,
    const absl::StatusOr<std::vector<std::string>>& result, bool faults_active) {
  std::vector<std::string> violations;
  if (!result.ok()) {
    // Errors are judged as a Get of lo would be.
    return OnGet(stream, lo, result.status(), faults_active || hi <= lo);
  }
  size_t total = 0;
  for (size_t i = 0; i < result->size(); ++i) {
    const std::string& e = (*result)[i];
    if (i > 0 && total + e.size() > max_bytes) {
      violations.push_back(absl::StrCat(stream, ": ReadRange(", lo, ", ", hi, ", ", max_bytes,
                                        ") went over its budget"));
      break;
    }
    total += e.size();
    std::vector<std::string> v = OnGet(stream, lo + i, e, faults_active);
    violations.insert(violations.end(), v.begin(), v.end());
  }
  const uint64_t end = std::min(hi, next_id(stream));
  if (result->empty() && lo < end && !faults_active) {
    violations.push_back(absl::StrCat(stream, ": ReadRange(", lo, ", ", hi, ") returned nothing"));
  }
  return violations;
}

std::vector<std::string> WalModel::OnGet(const std::string& stream, uint64_t id,
                                         const absl::StatusOr<std::string>& result,
                                         bool faults_active) {
  std::vector<std::string> violations;
  auto it = streams_.find(stream);
  if (it == streams_.end()) return violations;
  const Stream& s = it->second;
  const std::string what = absl::StrCat(stream, ": Get(", id, ")");
  if (s.next_id == 0 && absl::IsNotFound(result.status())) {
    return violations;  // Nothing stored yet: the stream may not exist (again).
  }
  if (id >= s.next_id) {
    if (result.ok() || result.status().code() != absl::StatusCode::kOutOfRange) {
      if (!faults_active || result.ok()) {
        violations.push_back(
            absl::StrCat(what, " past the next ID ", s.next_id, " returned ",
                         result.ok() ? Show(*result) : result.status().ToString()));
      }
    }
    return violations;
  }
  if (id < s.first_id_max) {
    if (result.ok() && id >= s.first_id && *result != s.acked.at(id)) {
      violations.push_back(absl::StrCat(what, " returned ", Show(*result)));
    }
    if (result.ok() && id < s.first_id) {
      violations.push_back(absl::StrCat(what, " returned a truncated ID"));
    }
    return violations;
  }
  if (!result.ok()) {
    // Errors are allowed while faults are injected, and after any disturbance (a stream may
    // have been poisoned where this model could not see it, dropping kAsync buffered
    // frames) until the next recovery; wrong data never is.
    if (!faults_active && !disturbed_ && !s.poisoned && !s.maybe_poisoned) {
      violations.push_back(absl::StrCat(what, " failed: ", result.status().ToString()));
    }
    return violations;
  }
  if (*result != s.acked.at(id)) {
    violations.push_back(
        absl::StrCat(what, " returned ", Show(*result), ", wrote ", Show(s.acked.at(id))));
  }
  return violations;
}

std::vector<std::string> WalModel::CheckRecovered(Wal* wal, bool crashed) {
  std::vector<std::string> violations;
  absl::StatusOr<std::vector<std::string>> listed = wal->ListStreams();
  if (!listed.ok()) {
    violations.push_back("ListStreams failed: " + listed.status().ToString());
    return violations;
  }
  for (const std::string& key : *listed) {
    if (streams_.count(key) == 0) violations.push_back("phantom stream " + key);
  }
  for (auto& [key, s] : streams_) {
    std::vector<std::string> v = CheckStream(wal, key, &s, crashed || disturbed_);
    violations.insert(violations.end(), v.begin(), v.end());
  }
  disturbed_ = false;
  return violations;
}

std::vector<std::string> WalModel::CheckStream(Wal* wal, const std::string& key, Stream* s,
                                               bool crashed) {
  std::vector<std::string> v;
  const bool must_keep_all = !crashed && !s->poisoned && !s->maybe_poisoned;
  absl::StatusOr<StreamInfo> info = wal->GetStreamInfo(key);
  uint64_t first = 0;
  uint64_t next = 0;
  if (absl::IsNotFound(info.status()) && s->maybe_deleted) {
    *s = Stream();  // deleted after all
    return v;
  }
  if (info.ok() && info->first_id == info->next_id && s->maybe_reset.count(info->next_id) > 0) {
    // The failed reset took effect.
    Stream fresh;
    fresh.first_id = fresh.first_id_max = fresh.next_id = fresh.durable_end = info->next_id;
    fresh.metadata = s->metadata;
    *s = std::move(fresh);
  }
  if (info.ok()) {
    absl::StatusOr<std::string> meta = wal->GetStreamMetadata(key);
    if (!meta.ok() || s->metadata.count(*meta) == 0) {
      v.push_back(absl::StrCat(key, ": metadata after recovery is ",
                               meta.ok() ? Show(*meta) : meta.status().ToString(),
                               ", which no put wrote"));
      return v;
    }
    s->metadata = {*meta};
  }
  if (absl::IsNotFound(info.status())) {
    if (s->durable_end > s->first_id || (must_keep_all && s->next_id > s->first_id)) {
      v.push_back(absl::StrCat(key, ": lost the whole stream (acknowledged up to ", s->next_id,
                               ", durable up to ", s->durable_end, ")"));
    }
  } else if (!info.ok()) {
    v.push_back(absl::StrCat(key, ": GetStreamInfo failed: ", info.status().ToString()));
    return v;
  } else {
    first = info->first_id;
    next = info->next_id;
  }
  // 1, 3: durable acknowledgements survive; a clean reopen keeps every acknowledgement.
  if (next < s->durable_end) {
    v.push_back(absl::StrCat(key, ": next ID ", next, " after recovery, but IDs below ",
                             s->durable_end, " were acknowledged durable"));
  }
  if (must_keep_all && next != s->next_id) {
    v.push_back(
        absl::StrCat(key, ": clean reopen has next ID ", next, ", acknowledged ", s->next_id));
  }
  // 2: no truncated ID comes back, nothing appears that was never attempted.
  if (next > 0 && (first < s->first_id || first > std::max(s->first_id_max, s->first_id))) {
    v.push_back(absl::StrCat(key, ": first ID ", first, " after recovery, expected [", s->first_id,
                             ", ", s->first_id_max, "]"));
  }
  for (uint64_t id = std::max(first, s->next_id); id < next; ++id) {
    if (s->attempted.count(id) == 0) {
      v.push_back(absl::StrCat(key, ": phantom ID ", id, " (next ID ", next, ")"));
      break;
    }
  }
  if (!v.empty()) return v;

  // 2, 4, 5: iteration yields exactly [first, next), each entry one that was written for
  // that ID (the acknowledged one if durable), and Get agrees.
  std::map<uint64_t, std::string> recovered;
  if (next > first) {
    absl::StatusOr<std::unique_ptr<Iterator>> it = wal->NewIterator(key, first);
    if (!it.ok()) {
      v.push_back(absl::StrCat(key, ": NewIterator(", first, ") failed: ", it.status().ToString()));
      return v;
    }
    uint64_t expected = first;
    for (; (*it)->Valid(); (*it)->Next(), ++expected) {
      if ((*it)->id() != expected) {
        v.push_back(absl::StrCat(key, ": iterator at ID ", (*it)->id(), ", expected ", expected));
        return v;
      }
      recovered[expected] = std::string((*it)->value());
    }
    if (!(*it)->status().ok() || expected != next) {
      v.push_back(absl::StrCat(key, ": iteration ended at ", expected, " of [", first, ", ", next,
                               "): ", (*it)->status().ToString()));
      return v;
    }
  }
  for (const auto& [id, bytes] : recovered) {
    const bool durable = id < s->durable_end;
    auto acked = s->acked.find(id);
    if (durable && acked != s->acked.end() && bytes != acked->second) {
      v.push_back(absl::StrCat(key, ": durable ID ", id, " holds ", Show(bytes), ", wrote ",
                               Show(acked->second)));
    } else if (!durable && (s->attempted.count(id) == 0 || !Contains(s->attempted[id], bytes))) {
      v.push_back(absl::StrCat(key, ": ID ", id, " holds ", Show(bytes),
                               ", which no write attempted for it"));
    }
    absl::StatusOr<std::string> got = wal->Get(key, id);
    if (!got.ok() || *got != bytes) {
      v.push_back(absl::StrCat(key, ": Get(", id, ") disagrees with iteration: ",
                               got.ok() ? Show(*got) : got.status().ToString()));
    }
    if (v.size() > 8) return v;
  }
  if (info.ok()) {
    absl::StatusOr<std::string> past = wal->Get(key, next);
    if (past.ok() || !absl::IsOutOfRange(past.status())) {
      v.push_back(absl::StrCat(key, ": Get(next ID ", next, ") is not OutOfRange"));
    }
  }
  if (!v.empty()) return v;

  // Adopt the recovered state: after an open, everything a stream shows is durable.
  Stream adopted;
  adopted.metadata = s->metadata;
  adopted.first_id = adopted.first_id_max = first;
  adopted.next_id = adopted.durable_end = next;
  for (const auto& [id, bytes] : recovered) {
    adopted.acked[id] = bytes;
    adopted.attempted[id].push_back(bytes);
  }
  *s = std::move(adopted);
  return v;
}

uint64_t WalModel::next_id(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.next_id;
}

uint64_t WalModel::first_id(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.first_id;
}

bool WalModel::poisoned(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it != streams_.end() && it->second.poisoned;
}

std::vector<std::string> WalModel::streams() const {
  std::vector<std::string> keys;
  for (const auto& [key, s] : streams_) keys.push_back(key);
  return keys;
}

}  // namespace testing
}  // namespace ironwal
