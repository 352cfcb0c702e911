// read_profile: a small, deterministic driver of the read path (W6's Gets and W7's scan of
// benchmarks/README.md) for instruction-count profiling. It writes `records` entries of
// 128 bytes into a fresh WAL (one frame each, or `batch` per frame), reopens it with the
// given strategy (statistics on, as `ironwal bench` opens it), and runs Scans() and Gets()
// -- the two functions to give callgrind's --toggle-collect:
//
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*ProfiledScans*'
//       bazel-bin/benchmarks/read_profile mmap 10000 1     (one command line)
//
// Arguments: mmap|pread, records, entries per frame (1 = W6/W7's single-entry frames).
// Instructions per record = the toggled total / (2 * records) for scans (two full scans),
// / records for Gets. Prints what it read so nothing is optimised away; exits 1 on error.
//
// W8's reopen: `read_profile reopen RECORDS ENTRIES_PER_FRAME [SEGMENT_MB]` writes the WAL
// (segments of SEGMENT_MB, default 64 as WalOptions), opens and closes it once untimed, then
// opens it again in ProfiledOpen (kStrict, kPread, as W8's timed opens): give callgrind
// --toggle-collect='*ProfiledOpen*' and divide by the frames of the active segment.
// `read_profile reopen RECORDS ENTRIES_PER_FRAME SEGMENT_MB OPENS` then times OPENS more
// opens (wall clock, each followed by a close) and prints their minimum and median: on a
// shared machine the minimum is the steadiest figure of one binary; compare binaries by
// running them alternately.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "ironwal/util/random.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

constexpr char kStream[] = "r";

absl::Status Populate(const std::string& root, uint64_t records, uint64_t batch,
                      uint64_t segment_bytes) {
  WalOptions options;
  options.root = root;
  options.max_segment_size = segment_bytes;
  options.sync_mode = SyncMode::kAsync;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (!wal.ok()) return wal.status();
  internal::Random rng(42);
  std::vector<std::string> payloads;
  for (uint64_t i = 0; i < batch; ++i) payloads.push_back(rng.Bytes(128));
  std::vector<absl::string_view> views(payloads.begin(), payloads.end());
  for (uint64_t i = 0; i < records; i += batch) {
    absl::StatusOr<IdRange> ids = (*wal)->AppendBatch(kStream, views);
    if (!ids.ok()) return ids.status();
  }
  return (*wal)->Close();
}

// Two full scans; returns the bytes seen.
__attribute__((noinline)) uint64_t ProfiledScans(Wal* wal, absl::Status* status) {
  uint64_t bytes = 0;
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<std::unique_ptr<Iterator>> it = wal->NewIterator(kStream, 0);
    if (!it.ok()) {
      *status = it.status();
      return bytes;
    }
    for (; (*it)->Valid(); (*it)->Next()) bytes += (*it)->value().size();
    if (!(*it)->status().ok()) *status = (*it)->status();
  }
  return bytes;
}

__attribute__((noinline)) uint64_t ProfiledGets(Wal* wal, const std::vector<uint64_t>& ids,
                                                absl::Status* status) {
  uint64_t bytes = 0;
  for (uint64_t id : ids) {
    absl::StatusOr<std::string> value = wal->Get(kStream, id);
    if (!value.ok()) {
      *status = value.status();
      return bytes;
    }
    bytes += value->size();
  }
  return bytes;
}

WalOptions ReopenOptions(const std::string& root, uint64_t segment_bytes) {
  WalOptions options;
  options.root = root;
  options.max_segment_size = segment_bytes;
  options.sync_mode = SyncMode::kStrict;
  options.read_strategy = ReadStrategy::kPread;
  return options;
}

__attribute__((noinline)) absl::StatusOr<std::unique_ptr<Wal>> ProfiledOpen(
    const WalOptions& options) {
  return Wal::Open(options);
}

// `opens` timed opens and closes of the WAL at `root`; prints the minimum and median open.
absl::Status TimedOpens(const std::string& root, uint64_t segment_bytes, int opens) {
  std::vector<double> millis;
  for (int i = 0; i < opens; ++i) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(ReopenOptions(root, segment_bytes));
    const auto end = std::chrono::steady_clock::now();
    if (!wal.ok()) return wal.status();
    millis.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    absl::Status closed = (*wal)->Close();
    if (!closed.ok()) return closed;
  }
  if (millis.empty()) return absl::OkStatus();
  std::sort(millis.begin(), millis.end());
  std::printf("%d timed opens: min %.2f ms, median %.2f ms\n", opens, millis.front(),
              millis[millis.size() / 2]);
  return absl::OkStatus();
}

// W8's reopen (see the top of the file); prints the next ID so the open is not idle.
absl::Status Reopen(const std::string& root, uint64_t segment_bytes, int timed_opens) {
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(ReopenOptions(root, segment_bytes));
  if (!wal.ok()) return wal.status();
  absl::Status closed = (*wal)->Close();
  if (!closed.ok()) return closed;
  wal->reset();
  wal = ProfiledOpen(ReopenOptions(root, segment_bytes));
  if (!wal.ok()) return wal.status();
  absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(kStream);
  if (!info.ok()) return info.status();
  std::printf("reopened: next ID %llu, %llu segments, %llu records in the active one\n",
              static_cast<unsigned long long>(info->next_id),
              static_cast<unsigned long long>(info->segment_count),
              static_cast<unsigned long long>(info->next_id - info->active_segment_start_id));
  closed = (*wal)->Close();
  if (!closed.ok()) return closed;
  wal->reset();
  return TimedOpens(root, segment_bytes, timed_opens);
}

int Main(int argc, char** argv) {
  const bool reopen = argc >= 2 && absl::string_view(argv[1]) == "reopen";
  if (argc != 4 && !(reopen && (argc == 5 || argc == 6))) {
    std::fprintf(stderr,
                 "usage: read_profile mmap|pread RECORDS ENTRIES_PER_FRAME\n"
                 "       read_profile reopen RECORDS ENTRIES_PER_FRAME [SEGMENT_MB [OPENS]]\n");
    return 2;
  }
  const bool mmap = absl::string_view(argv[1]) == "mmap";
  const uint64_t records = std::strtoull(argv[2], nullptr, 10);
  const uint64_t batch = std::strtoull(argv[3], nullptr, 10);
  char dir[] = "/tmp/read_profile.XXXXXX";
  if (records == 0 || batch == 0 || mkdtemp(dir) == nullptr) return 2;
  const std::string root = std::string(dir) + "/wal";
  const uint64_t segment_bytes = (argc >= 5 ? std::strtoull(argv[4], nullptr, 10) : uint64_t{64})
                                 << 20;
  const int timed_opens = argc == 6 ? std::atoi(argv[5]) : 0;
  absl::Status status = Populate(root, records, batch, segment_bytes);
  if (reopen) {
    if (status.ok()) status = Reopen(root, segment_bytes, timed_opens);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    if (!status.ok()) std::printf("%s\n", status.ToString().c_str());
    return status.ok() ? 0 : 1;
  }
  WalOptions options;
  options.root = root;
  options.statistics = true;
  options.read_strategy = mmap ? ReadStrategy::kMmap : ReadStrategy::kPread;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  if (status.ok() && !wal.ok()) status = wal.status();
  uint64_t scanned = 0;
  uint64_t got = 0;
  if (status.ok()) {
    const uint64_t written = (records + batch - 1) / batch * batch;
    internal::Random rng(7);
    std::vector<uint64_t> ids(records);
    for (uint64_t& id : ids) id = rng.Uniform(written);
    scanned = ProfiledScans(wal->get(), &status);
    if (status.ok()) got = ProfiledGets(wal->get(), ids, &status);
    if (status.ok()) status = (*wal)->Close();
  }
  std::printf("scanned %llu bytes, got %llu bytes: %s\n", static_cast<unsigned long long>(scanned),
              static_cast<unsigned long long>(got), status.ToString().c_str());
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace ironwal

int main(int argc, char** argv) { return ironwal::Main(argc, argv); }
