// W6-W8: the read and reopen workloads of benchmarks/workloads.h.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "ironwal/status_macros.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/wal.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/workloads.h"
#include "benchmarks/workloads_internal.h"

namespace ironwal {
namespace bench {

using ::ironwal::internal::Random;

namespace {

using internal::Annotate;
using internal::OpenWal;
using internal::StrategyName;

constexpr char kStream[] = "r";
// W6 stops early after this long (the Rust crate's pread Get took 447 ms each).
constexpr double kGetBudgetSeconds = 10.0;
// W8's timed opens per strategy; the median is reported.
constexpr int kOpens = 5;

// Writes `count` single-entry frames of `payload` (kAsync, as W1 does) into a new WAL at
// `root` and closes it.
absl::Status Populate(const std::string& root, uint64_t count, const std::string& payload) {
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenWal(root, SyncMode::kAsync, ReadStrategy::kPread);
  if (!wal.ok()) return wal.status();
  for (uint64_t i = 0; i < count; ++i) {
    absl::StatusOr<uint64_t> id = (*wal)->Append(kStream, payload);
    if (!id.ok()) return id.status();
  }
  return (*wal)->Close();
}

// Reads every entry once through an iterator; checks there are `expected` of them.
absl::Status Scan(Wal* wal, uint64_t expected, uint64_t* bytes) {
  absl::StatusOr<std::unique_ptr<Iterator>> it = wal->NewIterator(kStream, 0);
  if (!it.ok()) return it.status();
  uint64_t count = 0;
  uint64_t total = 0;
  for (; (*it)->Valid(); (*it)->Next()) {
    total += (*it)->value().size();
    ++count;
  }
  if (!(*it)->status().ok()) return (*it)->status();
  if (count != expected) {
    return absl::InternalError(absl::StrCat("scan saw ", count, " entries, expected ", expected));
  }
  *bytes = total;
  return absl::OkStatus();
}

absl::StatusOr<Result> TimedGets(Wal* wal, const std::vector<uint64_t>& ids,
                                 ReadStrategy strategy) {
  std::vector<double> micros;
  micros.reserve(ids.size());
  const Clock::time_point start = Clock::now();
  for (uint64_t id : ids) {
    const Clock::time_point op_start = Clock::now();
    const absl::StatusOr<std::string> value = wal->Get(kStream, id);
    const Clock::time_point op_end = Clock::now();
    if (!value.ok()) return value.status();
    if (value->size() != kPayloadSize) {
      return absl::InternalError(absl::StrCat("Get(", id, ") returned ", value->size(), " bytes"));
    }
    micros.push_back(MicrosBetween(op_start, op_end));
    if (SecondsBetween(start, op_end) > kGetBudgetSeconds) break;
  }
  Result result;
  result.name = "W6";
  result.strategy = StrategyName(strategy);
  SetLatencyFields(micros, SecondsBetween(start, Clock::now()), &result);
  return result;
}

absl::StatusOr<Result> TimedScan(Wal* wal, uint64_t records, ReadStrategy strategy) {
  uint64_t bytes = 0;
  const Clock::time_point start = Clock::now();
  absl::Status status = Scan(wal, records, &bytes);
  const double seconds = SecondsBetween(start, Clock::now());
  if (!status.ok()) return status;
  Result result;
  result.name = "W7";
  result.strategy = StrategyName(strategy);
  result.ops = records;
  result.seconds = seconds;
  result.ops_per_s = static_cast<double>(records) / seconds;
  result.mb_per_s = static_cast<double>(bytes) / 1e6 / seconds;
  return result;
}

// One strategy's W6 and W7 on the populated WAL at `root`.
absl::Status ReadWithStrategy(const std::string& root, uint64_t records,
                              const std::vector<uint64_t>& ids, ReadStrategy strategy, Result* w6,
                              Result* w7) {
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenWal(root, SyncMode::kStrict, strategy);
  if (!wal.ok()) return wal.status();
  uint64_t ignored_bytes = 0;
  IRONWAL_RETURN_IF_ERROR(Scan(wal->get(), records, &ignored_bytes));  // warm-up
  absl::StatusOr<Result> gets = TimedGets(wal->get(), ids, strategy);
  if (!gets.ok()) return Annotate("W6", gets.status());
  absl::StatusOr<Result> scan = TimedScan(wal->get(), records, strategy);
  if (!scan.ok()) return Annotate("W7", scan.status());
  *w6 = std::move(*gets);
  *w7 = std::move(*scan);
  return (*wal)->Close();
}

// The floor of W6's pread Gets: the same frames (IDs `ids`, one frame of `frame_bytes`
// each, all in the stream's first segment) read by plain pread(2) from one descriptor of
// the segment file, timed as TimedGets times a Get. Reported as the probe
// "pread_frame_random". What is left between it and W6 pread is ironwal's own work.
absl::StatusOr<Result> PreadFramesProbe(const std::string& root, const std::vector<uint64_t>& ids,
                                        uint64_t frame_bytes) {
  const std::string path = root + "/" + kStream + "/00000000000000000000.wal";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("probe open ", path, ": errno ", errno));
  std::vector<char> buffer(frame_bytes);
  std::vector<double> micros;
  micros.reserve(ids.size());
  const Clock::time_point start = Clock::now();
  absl::Status status;
  for (uint64_t id : ids) {
    const Clock::time_point op_start = Clock::now();
    const ssize_t n = ::pread(fd, buffer.data(), frame_bytes, static_cast<off_t>(id * frame_bytes));
    const Clock::time_point op_end = Clock::now();
    // A frame starts with the magic "LAWL": the offsets are right.
    if (n != static_cast<ssize_t>(frame_bytes) || std::memcmp(buffer.data(), "LAWL", 4) != 0) {
      status = absl::InternalError(absl::StrCat("probe pread ", path, "@", id * frame_bytes,
                                                ": returned ", n, ", errno ", errno,
                                                ", not a frame of ", frame_bytes, " bytes"));
      break;
    }
    micros.push_back(MicrosBetween(op_start, op_end));
    if (SecondsBetween(start, op_end) > kGetBudgetSeconds) break;
  }
  const double seconds = SecondsBetween(start, Clock::now());
  ::close(fd);
  if (!status.ok()) return status;
  Result result;
  result.name = "pread_frame_random";
  result.is_probe = true;
  SetLatencyFields(micros, seconds, &result);
  return result;
}

}  // namespace

absl::StatusOr<std::vector<Result>> RunW6W7Reads(const BenchConfig& config) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, "w6w7");
  if (!dir.ok()) return Annotate("W6", dir.status());
  const std::string root = dir->Join("wal");
  const uint64_t records = config.Scaled(200000);
  absl::Status status = Populate(root, records, MakePayload());
  if (!status.ok()) return Annotate("W6 populate", status);
  Random rng(kSeed);
  std::vector<uint64_t> ids(config.Scaled(200000));
  for (uint64_t& id : ids) id = rng.Uniform(records);
  std::vector<Result> results(4);
  status = ReadWithStrategy(root, records, ids, ReadStrategy::kMmap, &results[0], &results[2]);
  if (status.ok()) {
    status = ReadWithStrategy(root, records, ids, ReadStrategy::kPread, &results[1], &results[3]);
  }
  if (!status.ok()) return Annotate("W6/W7", status);
  // The frames are the payload, the 32-byte header and its 4-byte length, back to back.
  absl::StatusOr<Result> probe = PreadFramesProbe(root, ids, kPayloadSize + 36);
  if (!probe.ok()) return Annotate("W6 probe", probe.status());
  results.push_back(*std::move(probe));
  return results;
}

namespace {

// W8 for one strategy: one untimed open, then kOpens timed ones.
absl::StatusOr<Result> TimedOpens(const std::string& root, uint64_t records,
                                  ReadStrategy strategy) {
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenWal(root, SyncMode::kStrict, strategy);
  if (!wal.ok()) return wal.status();
  IRONWAL_RETURN_IF_ERROR((*wal)->Close());
  wal->reset();
  ResetPeakRss();
  std::vector<double> millis;
  MemoryUsage memory;  // after the last open
  for (int i = 0; i < kOpens; ++i) {
    const Clock::time_point start = Clock::now();
    wal = OpenWal(root, SyncMode::kStrict, strategy);
    const Clock::time_point end = Clock::now();
    if (!wal.ok()) return wal.status();
    millis.push_back(MicrosBetween(start, end) / 1000.0);
    absl::StatusOr<StreamInfo> info = (*wal)->GetStreamInfo(kStream);
    if (!info.ok()) return info.status();
    if (info->next_id != records) {
      return absl::InternalError(absl::StrCat("reopened with next_id ", info->next_id));
    }
    memory = (*wal)->ApproximateMemoryUsage();
    IRONWAL_RETURN_IF_ERROR((*wal)->Close());
    wal->reset();
  }
  Result result;
  result.name = "W8";
  result.strategy = StrategyName(strategy);
  result.ops = millis.size();
  for (double ms : millis) result.seconds += ms / 1000.0;
  result.ops_per_s = static_cast<double>(result.ops) / result.seconds;
  std::sort(millis.begin(), millis.end());
  result.ms = millis[millis.size() / 2];
  result.records = records;
  result.peak_rss_kb = PeakRssKb();
  result.memory = memory;
  return result;
}

}  // namespace

absl::StatusOr<std::vector<Result>> RunW8Reopen(const BenchConfig& config) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, "w8");
  if (!dir.ok()) return Annotate("W8", dir.status());
  const std::string root = dir->Join("wal");
  const uint64_t records = config.Scaled(1000000);
  absl::Status status = Populate(root, records, MakePayload());
  if (!status.ok()) return Annotate("W8 populate", status);
  std::vector<Result> results;
  for (ReadStrategy strategy : {ReadStrategy::kPread, ReadStrategy::kMmap}) {
    absl::StatusOr<Result> result = TimedOpens(root, records, strategy);
    if (!result.ok()) return Annotate("W8", result.status());
    results.push_back(std::move(*result));
  }
  return results;
}

}  // namespace bench
}  // namespace ironwal
