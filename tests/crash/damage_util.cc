#include "tests/crash/damage_util.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

#include "ironwal/base/check.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"

namespace ironwal {
namespace crash {

namespace format = ::ironwal::internal::format;
using ::ironwal::internal::DecodeFrameHeader;
using ::ironwal::internal::DurablePos;
using ::ironwal::internal::EncodeDurablePos;
using ::ironwal::internal::EncodeFrameHeader;
using ::ironwal::internal::EncodeFrameStamp;
using ::ironwal::internal::FrameHeader;
using ::ironwal::internal::FrameStamp;
using ::ironwal::internal::ParseSegmentFileName;
using ::ironwal::internal::Random;
using ::ironwal::internal::StreamDirName;
using ::ironwal::internal::StreamTagOfSegment;

namespace {

void TakeSnapshotOf(Env* env, const std::string& dir, Snapshot* snapshot) {
  absl::StatusOr<std::vector<std::string>> children = env->GetChildren(dir);
  IRONWAL_CHECK(children.ok());
  snapshot->dirs.insert(dir);
  for (const std::string& name : *children) {
    const std::string path = JoinPath(dir, name);
    absl::StatusOr<bool> is_dir = env->IsDirectory(path);
    IRONWAL_CHECK(is_dir.ok());
    if (*is_dir) {
      TakeSnapshotOf(env, path, snapshot);
    } else if (!(dir == kRoot && name == "LOCK")) {
      snapshot->files[path] = testing::ReadFileOrFail(env, path);
    }
  }
}

std::vector<Frame> ParseFrames(const std::string& contents) {
  std::vector<Frame> frames;
  uint64_t offset = 0;
  while (offset < contents.size()) {
    absl::StatusOr<FrameHeader> header =
        DecodeFrameHeader(absl::string_view(contents).substr(offset));
    IRONWAL_CHECK(header.ok());
    Frame frame;
    frame.offset = offset;
    frame.size = header->frame_size();
    frame.start_id = header->start_id;
    frame.count = header->entry_count;
    frame.lz4 = header->codec == format::Codec::kLz4;
    frames.push_back(frame);
    offset += frame.size;
  }
  IRONWAL_CHECK(offset == contents.size());
  return frames;
}

const char* const kStreams[] = {"alpha", "user/42", "lz", "tiny"};

// Appends to every stream in a fixed pattern of single appends and batches.
void RunWorkload(Wal* wal) {
  std::map<std::string, uint64_t> next;
  const auto append = [&](const std::string& key, size_t n) {
    std::vector<std::string> batch;
    for (size_t i = 0; i < n; ++i) batch.push_back(EntryBytes(key, next[key] + i));
    if (n == 1) {
      absl::StatusOr<uint64_t> id = wal->Append(key, batch[0]);
      IRONWAL_CHECK(id.ok() && *id == next[key]);
    } else {
      absl::StatusOr<IdRange> ids = wal->AppendBatch(key, batch);
      IRONWAL_CHECK(ids.ok() && ids->first == next[key] && ids->size() == n);
    }
    next[key] += n;
  };
  for (int round = 0; round < 10; ++round) {
    append("alpha", 1);
    append("alpha", round % 2 == 0 ? 3 : 1);
    append("alpha", 1);
    append("user/42", static_cast<size_t>(round % 3 + 1));
    append("lz", round % 2 == 0 ? 2 : 1);
    if (round < 4) append("tiny", 1);
  }
  // Every active segment ends with a run of at least four single frames (the cut sweeps'
  // subject).
  for (const char* key : kStreams) {
    int singles = 0;
    uint64_t segment = UINT64_MAX;
    while (singles < 4) {
      append(key, 1);
      absl::StatusOr<StreamInfo> info = wal->GetStreamInfo(key);
      IRONWAL_CHECK(info.ok());
      if (info->active_segment_start_id != segment) singles = 0;
      segment = info->active_segment_start_id;
      ++singles;
    }
  }
}

Reference* BuildReference() {
  auto* ref = new Reference;
  MemEnv env;
  WalOptions options = ref->Options();
  options.env = &env;
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
    IRONWAL_CHECK(wal.ok());
    RunWorkload(wal->get());
    IRONWAL_CHECK((*wal)->Close().ok());
  }
  ref->snapshot = TakeSnapshot(&env, kRoot);
  for (const char* key : kStreams) {
    StreamRef& s = ref->streams[key];
    s.key = key;
    s.dir = JoinPath(kRoot, *StreamDirName(key));
    for (const auto& [path, contents] : ref->snapshot.files) {
      if (Dirname(path) != s.dir) continue;
      std::optional<uint64_t> start = ParseSegmentFileName(Basename(path));
      if (!start.has_value()) continue;
      Segment segment;
      segment.start_id = *start;
      segment.path = path;
      segment.frames = ParseFrames(contents);
      s.segments.push_back(std::move(segment));
    }
    IRONWAL_CHECK(!s.segments.empty());
    const uint64_t n = s.segments.back().frames.back().end_id();
    for (uint64_t id = 0; id < n; ++id) s.entries.push_back(EntryBytes(key, id));
  }
  return ref;
}

std::string Show(absl::string_view bytes) {
  std::string shown = absl::CHexEscape(bytes.substr(0, 24));
  if (bytes.size() > 24) absl::StrAppend(&shown, "...(", bytes.size(), " bytes)");
  return "\"" + shown + "\"";
}

// The checks of one opened Wal against `expect`.
class Checker {
 public:
  Checker(Wal* wal, const Expectation& expect, std::vector<std::string>* problems)
      : wal_(wal), expect_(expect), problems_(problems) {}

  // `every_read`: read every ID of the streams that read_all by Get and MultiGet too
  // (iteration always reads them).
  void CheckAll(bool every_read) {
    CheckListing();
    for (const auto& [key, s] : expect_.streams) {
      CheckStream(key, s, every_read);
      CheckReport(key, s);
    }
    CheckNoOtherReports();
  }

 private:
  void Problem(std::string text) { problems_->push_back(std::move(text)); }

  void CheckListing() {
    absl::StatusOr<std::vector<std::string>> listed = wal_->ListStreams();
    if (!listed.ok()) return Problem("ListStreams: " + listed.status().ToString());
    std::vector<std::string> want;
    for (const auto& [key, s] : expect_.streams) {
      want.push_back(s.listed_key.empty() ? key : s.listed_key);
    }
    std::sort(want.begin(), want.end());
    if (*listed != want) {
      Problem(absl::StrCat("ListStreams gave [", absl::StrJoin(*listed, ", "), "], expected [",
                           absl::StrJoin(want, ", "), "]"));
    }
  }

  // One ID's read: exact bytes, or DataLoss where allowed.
  void CheckRead(const std::string& key, const StreamExpect& s, uint64_t id,
                 const absl::StatusOr<std::string>& got, const char* how) {
    const std::string what = absl::StrCat(key, ": ", how, "(", id, ")");
    const bool must_fail = s.must_fail.count(id) > 0;
    const bool may_fail = must_fail || s.may_fail.count(id) > 0;
    if (got.ok()) {
      if (*got != EntryBytes(key, id)) {
        Problem(
            absl::StrCat(what, " returned ", Show(*got), ", wrote ", Show(EntryBytes(key, id))));
      } else if (must_fail) {
        Problem(absl::StrCat(what, " read a damaged frame back as the right bytes"));
      }
      return;
    }
    if (!may_fail || !absl::IsDataLoss(got.status())) {
      Problem(absl::StrCat(what, " failed: ", got.status().ToString()));
    } else if (!absl::StrContains(got.status().message(), s.damaged_file)) {
      Problem(absl::StrCat(what, " does not name ", s.damaged_file, ": ", got.status().ToString()));
    }
  }

  void CheckStream(const std::string& key, const StreamExpect& s, bool every_read) {
    absl::StatusOr<StreamInfo> info = wal_->GetStreamInfo(key);
    if (!info.ok()) return Problem(key + ": GetStreamInfo: " + info.status().ToString());
    if (info->first_id != s.first_id || info->next_id != s.next_id) {
      return Problem(absl::StrCat(key, ": holds IDs [", info->first_id, ", ", info->next_id,
                                  "), expected [", s.first_id, ", ", s.next_id, ")"));
    }
    if (s.next_id > s.first_id) {
      CheckRead(key, s, s.next_id - 1, wal_->Get(key, s.next_id - 1), "Get");
    }
    if (!absl::IsOutOfRange(wal_->Get(key, s.next_id).status())) {
      Problem(absl::StrCat(key, ": Get(", s.next_id, ") past the end is not OutOfRange"));
    }
    if (!s.read_all) return;
    absl::StatusOr<std::unique_ptr<Iterator>> it = wal_->NewIterator(key, s.first_id);
    const bool first_unreadable = s.must_fail.count(s.first_id) + s.may_fail.count(s.first_id) > 0;
    if (it.ok()) {
      CheckIteration(key, s, it->get());
    } else if (!first_unreadable || !absl::IsDataLoss(it.status())) {
      Problem(key + ": NewIterator: " + it.status().ToString());
    }
    if (!every_read) return;
    // Get and MultiGet of every ID agree with what was written.
    std::vector<uint64_t> ids;
    for (uint64_t id = s.first_id; id < s.next_id; ++id) {
      ids.push_back(id);
      CheckRead(key, s, id, wal_->Get(key, id), "Get");
    }
    std::vector<absl::StatusOr<std::string>> multi = wal_->MultiGet(key, ids);
    for (size_t i = 0; i < ids.size() && i < multi.size(); ++i) {
      CheckRead(key, s, ids[i], multi[i], "MultiGet");
    }
    for (uint64_t past : {s.next_id, s.next_id + 1, s.next_id + 1000}) {
      absl::StatusOr<std::string> got = wal_->Get(key, past);
      if (!absl::IsOutOfRange(got.status())) {
        Problem(absl::StrCat(key, ": Get(", past, ") past the end gave ",
                             got.ok() ? Show(*got) : got.status().ToString()));
      }
    }
    if (s.first_id > 0 && !absl::IsNotFound(wal_->Get(key, s.first_id - 1).status())) {
      Problem(absl::StrCat(key, ": Get(", s.first_id - 1, ") below the first ID is not NotFound"));
    }
  }

  // Iteration: exactly the IDs up to the first unreadable one, then DataLoss.
  void CheckIteration(const std::string& key, const StreamExpect& s, Iterator* it) {
    uint64_t stop = s.next_id;
    for (uint64_t id : s.must_fail) stop = std::min(stop, id);
    uint64_t expected = s.first_id;
    for (; it->Valid(); it->Next(), ++expected) {
      if (it->id() != expected || expected >= stop) {
        return Problem(absl::StrCat(key, ": iteration at ID ", it->id(), ", expected ", expected,
                                    " (stop at ", stop, ")"));
      }
      if (it->value() != EntryBytes(key, expected)) {
        return Problem(
            absl::StrCat(key, ": iteration of ID ", expected, " gave ", Show(it->value())));
      }
    }
    const absl::Status status = it->status();
    if (expected == s.next_id) {
      if (!status.ok()) Problem(key + ": iteration ended with " + status.ToString());
    } else if (!absl::IsDataLoss(status) ||
               (s.must_fail.count(expected) == 0 && s.may_fail.count(expected) == 0)) {
      Problem(absl::StrCat(key, ": iteration stopped at ID ", expected, " of ", s.next_id, " with ",
                           status.ToString()));
    } else if (!absl::StrContains(status.message(), s.damaged_file)) {
      Problem(absl::StrCat(key, ": iteration's error does not name ", s.damaged_file, ": ",
                           status.ToString()));
    }
  }

  const StreamRecoveryReport* ReportOf(const std::string& key) {
    const std::string dir = *StreamDirName(key);
    for (const StreamRecoveryReport& r : wal_->recovery_report()) {
      if (r.dir == dir) return &r;
    }
    return nullptr;
  }

  void CheckReport(const std::string& key, const StreamExpect& s) {
    const StreamRecoveryReport* r = ReportOf(key);
    const bool index_findings =
        r != nullptr && (r->index_rebuilt || r->index_rewritten || !r->removed_files.empty());
    const bool head_findings = r != nullptr && !r->head_state_problem.empty();
    const bool findings_allowed =
        s.metadata_findings || (!index_findings && (!head_findings || s.head_state_findings));
    if (s.tail_row == 'A') {
      if (r == nullptr) return;
      if (r->tail != ScanOutcome::kClean || r->tail_row != 'A' || !r->quarantine_file.empty() ||
          !findings_allowed) {
        Problem(absl::StrCat(key, ": unexpected recovery report: ", r->ToString()));
      }
      return;
    }
    if (r == nullptr) {
      return Problem(
          absl::StrCat(key, ": no recovery report, expected row ", std::string(1, s.tail_row)));
    }
    if (r->tail_row != s.tail_row && s.other_rows.find(r->tail_row) == std::string::npos) {
      Problem(absl::StrCat(key, ": report row ", std::string(1, r->tail_row), ", expected ",
                           std::string(1, s.tail_row), s.other_rows, ": ", r->ToString()));
    }
    if (r->cut_offset != s.cut_offset) {
      Problem(absl::StrCat(key, ": report cut at ", r->cut_offset, ", expected ", s.cut_offset));
    }
    if (!findings_allowed) {
      Problem(absl::StrCat(key, ": unexpected metadata findings: ", r->ToString()));
    }
    if (!s.quarantine.has_value()) {
      if (!r->quarantine_file.empty()) {
        Problem(absl::StrCat(key, ": unexpected quarantine file ", r->quarantine_file));
      }
      return;
    }
    const std::string want_name =
        absl::StrCat(Basename(s.damaged_file), format::kQuarantineInfix, s.cut_offset);
    if (r->quarantine_file != want_name) {
      return Problem(
          absl::StrCat(key, ": quarantine file '", r->quarantine_file, "', expected ", want_name));
    }
    absl::StatusOr<std::string> kept = ReadFileToString(
        wal_->options().env, JoinPath(Dirname(s.damaged_file), r->quarantine_file));
    if (!kept.ok() || *kept != *s.quarantine) {
      Problem(absl::StrCat(key, ": quarantine file holds ",
                           kept.ok() ? Show(*kept) : kept.status().ToString(), ", expected ",
                           Show(*s.quarantine)));
    }
  }

  void CheckNoOtherReports() {
    for (const StreamRecoveryReport& r : wal_->recovery_report()) {
      bool known = false;
      for (const auto& [key, s] : expect_.streams) known |= r.dir == *StreamDirName(key);
      if (!known) Problem("report for an unknown directory: " + r.ToString());
    }
  }

  Wal* const wal_;
  const Expectation& expect_;
  std::vector<std::string>* const problems_;
};

std::string DiffSnapshots(const Snapshot& a, const Snapshot& b) {
  std::vector<std::string> diffs;
  for (const auto& [path, contents] : a.files) {
    auto it = b.files.find(path);
    if (it == b.files.end()) {
      diffs.push_back(path + " removed");
    } else if (it->second != contents) {
      diffs.push_back(
          absl::StrCat(path, " changed (", contents.size(), " -> ", it->second.size(), " bytes)"));
    }
  }
  for (const auto& [path, contents] : b.files) {
    if (a.files.count(path) == 0) diffs.push_back(path + " created");
  }
  if (a.dirs != b.dirs) diffs.push_back("directories changed");
  return absl::StrJoin(diffs, "; ");
}

}  // namespace

Snapshot TakeSnapshot(Env* env, const std::string& root) {
  Snapshot snapshot;
  TakeSnapshotOf(env, root, &snapshot);
  return snapshot;
}

void Restore(const Snapshot& snapshot, Env* env) {
  for (const std::string& dir : snapshot.dirs) IRONWAL_CHECK(CreateDirRecursively(env, dir).ok());
  for (const auto& [path, contents] : snapshot.files) testing::WriteFileOrFail(env, path, contents);
}

std::string StreamRef::File(absl::string_view name) const { return JoinPath(dir, name); }

std::string EntryBytes(const std::string& stream, uint64_t id) {
  uint64_t seed = 1469598103934665603ull;  // FNV-1a of the key, then the ID
  for (char c : stream) seed = (seed ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  Random rng(seed ^ (id * 0x9E3779B97F4A7C15ull));
  if (stream == "lz") {
    // Compressible, and over min_compression_size: stored as LZ4.
    std::string unit = absl::StrCat("lz entry ", id, " ");
    std::string out;
    const size_t size = 124 + rng.Uniform(100);
    while (out.size() < size) out += unit;
    out.resize(size);
    return out;
  }
  if (id % 11 == 3) return "";
  return rng.Bytes(1 + rng.Uniform(50));
}

const Reference& Reference::Get() {
  static const Reference* const ref = BuildReference();
  return *ref;
}

WalOptions Reference::Options() const {
  WalOptions options;
  options.root = kRoot;
  options.max_segment_size = 1024;
  options.compression = Compression::kLz4;
  options.min_compression_size = 128;
  return options;
}

Expectation Reference::Intact(const std::string& focus) const {
  Expectation expect;
  for (const auto& [key, s] : streams) {
    StreamExpect& e = expect.streams[key];
    e.next_id = s.entries.size();
    e.read_all = focus.empty() || key == focus;
  }
  return expect;
}

std::vector<std::string> CheckCase(const Snapshot& damaged, WalOptions options,
                                   const Expectation& expect) {
  std::vector<std::string> problems;
  MemEnv env;
  Restore(damaged, &env);
  options.env = &env;
  options.root = kRoot;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (expect.open_error.has_value()) {
    if (wal.ok()) {
      problems.push_back(
          absl::StrCat("Open succeeded; expected ", absl::StatusCodeToString(*expect.open_error)));
      return problems;
    }
    if (wal.status().code() != *expect.open_error) {
      problems.push_back("Open failed with the wrong code: " + wal.status().ToString());
    }
    for (const std::string& part : expect.message_has) {
      if (!absl::StrContains(wal.status().message(), part)) {
        problems.push_back(
            absl::StrCat("Open's error does not say '", part, "': ", wal.status().ToString()));
      }
    }
    const std::string diff = DiffSnapshots(damaged, TakeSnapshot(&env, kRoot));
    if (!diff.empty()) problems.push_back("a refused open changed files: " + diff);
    return problems;
  }
  if (!wal.ok()) {
    problems.push_back("Open failed: " + wal.status().ToString());
    return problems;
  }
  Checker(wal->get(), expect, &problems).CheckAll(/*every_read=*/true);
  if (!problems.empty()) return problems;

  // The recovered streams take new appends at their next IDs, and the next open is clean.
  Expectation after = expect;
  for (auto& [key, s] : after.streams) {
    const std::string key_copy = key;
    absl::StatusOr<uint64_t> id = (*wal)->Append(key_copy, EntryBytes(key_copy, s.next_id));
    if (!id.ok() || *id != s.next_id) {
      problems.push_back(absl::StrCat(key, ": append after recovery gave ",
                                      id.ok() ? absl::StrCat("ID ", *id) : id.status().ToString(),
                                      ", expected ID ", s.next_id));
    }
    ++s.next_id;
    s.listed_key.clear();  // the append recorded the key
    s.tail_row = 'A';
    s.quarantine.reset();
    s.head_state_findings = s.metadata_findings;
    s.metadata_findings = false;
  }
  if (!problems.empty()) return problems;
  absl::Status closed = (*wal)->Close();
  if (!closed.ok()) problems.push_back("Close after recovery: " + closed.ToString());
  wal->reset();
  wal = Wal::Open(options);
  if (!wal.ok()) {
    problems.push_back("second Open failed: " + wal.status().ToString());
    return problems;
  }
  std::vector<std::string> second;
  Checker(wal->get(), after, &second).CheckAll(/*every_read=*/false);
  for (std::string& p : second) problems.push_back("after reopening: " + p);
  return problems;
}

void CutTo(std::string* contents, uint64_t size) {
  IRONWAL_CHECK(size <= contents->size());
  contents->resize(static_cast<size_t>(size));
}

void FlipBit(std::string* contents, uint64_t bit) {
  IRONWAL_CHECK(bit / 8 < contents->size());
  (*contents)[static_cast<size_t>(bit / 8)] ^= static_cast<char>(1u << (bit % 8));
}

std::string ForgottenDurablePos(uint64_t segment_start) {
  DurablePos pos;
  pos.segment_start_id = segment_start;
  pos.offset = 0;
  return EncodeDurablePos(pos);
}

void Sweep::Run(const std::string& case_id, const Snapshot& damaged, const WalOptions& options,
                const Expectation& expect) {
  ++cases_;
  const std::vector<std::string> problems = CheckCase(damaged, options, expect);
  if (problems.empty()) return;
  if (++failures_ <= 10) {
    ADD_FAILURE() << name_ << " case " << case_id << ":\n  " << absl::StrJoin(problems, "\n  ");
  }
}

std::string Sweep::Summary() const {
  return absl::StrCat(name_, ": ", cases_, " cases, ", failures_, " failed");
}

const char* FrontierName(Frontier frontier) {
  switch (frontier) {
    case Frontier::kSynced:
      return "synced";
    case Frontier::kForgotten:
      return "forgotten";
    case Frontier::kNone:
      return "none";
    case Frontier::kStale:
      return "stale";
  }
  return "?";
}

namespace {

// Rewrites the frame stamps (ironwal/format/frame.h) of `segment`'s frames in `contents`:
// as written when nothing of the segment had been synced (`unsynced`), or as ironwal 0.6
// writes them (zeros).
void Restamp(const Segment& segment, bool unsynced, std::string* contents) {
  const uint8_t tag = StreamTagOfSegment(segment.path);
  for (const Frame& f : segment.frames) {
    absl::StatusOr<FrameHeader> header =
        DecodeFrameHeader(absl::string_view(*contents).substr(f.offset));
    IRONWAL_CHECK(header.ok()) << header.status();
    FrameStamp stamp;
    stamp.frontier_distance = f.offset;
    stamp.stream_tag = tag;
    header->reserved = unsynced ? EncodeFrameStamp(header->crc, stamp) : 0;
    EncodeFrameHeader(*header, &(*contents)[f.offset]);
  }
}

}  // namespace

Snapshot WithFrontier(const StreamRef& s, Frontier frontier) {
  Snapshot snapshot = Reference::Get().snapshot;
  const std::string pos = s.File(format::kDurablePosFileName);
  if (frontier == Frontier::kForgotten) {
    // The process died before its first sync of the active segment: durable.pos is at
    // its start, and so is the frontier every frame's stamp records.
    snapshot.files[pos] = ForgottenDurablePos(s.active().start_id);
    Restamp(s.active(), /*unsynced=*/true, &snapshot.files[s.active().path]);
  } else if (frontier == Frontier::kStale) {
    snapshot.files[pos] = ForgottenDurablePos(s.active().start_id);
  } else if (frontier == Frontier::kNone) {
    // Written by ironwal 0.6: no durable.pos, no stamps.
    snapshot.files.erase(pos);
    for (const Segment& segment : s.segments) {
      Restamp(segment, /*unsynced=*/false, &snapshot.files[segment.path]);
    }
  }
  return snapshot;
}

bool FullSweep() { return testing::EnvNumber("IRONWAL_SWEEP_FULL", 0) != 0; }

}  // namespace crash
}  // namespace ironwal
