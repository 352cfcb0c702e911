// W9-W11: the scale workloads of benchmarks/workloads_scale.h.
#include "benchmarks/workloads_scale.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "ironwal/env/env.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/types.h"
#include "ironwal/wal/wal.h"
#include "ironwal/wal/wal_options.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/workloads_internal.h"

namespace ironwal {
namespace bench {

using ::ironwal::internal::Random;

namespace {

using internal::Annotate;

constexpr int kThreads = 4;

absl::StatusOr<std::unique_ptr<Wal>> OpenAt(const std::string& root, SyncMode mode,
                                            const std::function<void(WalOptions*)>& tweak) {
  WalOptions options;
  options.root = root;
  options.env = Env::Default();
  options.sync_mode = mode;
  if (tweak) tweak(&options);
  return Wal::Open(options);
}

// Runs `body(t)` on kThreads threads started together; the first error wins.
absl::Status RunThreads(int threads, const std::function<absl::Status(int)>& body,
                        double* seconds) {
  std::vector<absl::Status> status(static_cast<size_t>(threads));
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      status[static_cast<size_t>(t)] = body(t);
    });
  }
  const Clock::time_point start = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& th : pool) th.join();
  if (seconds != nullptr) *seconds = SecondsBetween(start, Clock::now());
  for (const absl::Status& s : status) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

Result Point(const char* name, std::string variant) {
  Result r;
  r.name = name;
  r.variant = std::move(variant);
  return r;
}

// Opens the Wal at `root`, timed, and sets `*point` to the point `name`/`variant` of that
// one open (ops, seconds, ops/s, ms).
absl::StatusOr<std::unique_ptr<Wal>> TimedOpen(const std::string& root, SyncMode mode,
                                               const std::function<void(WalOptions*)>& tweak,
                                               const char* name, std::string variant,
                                               Result* point) {
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenAt(root, mode, tweak);
  const double ms = MicrosBetween(start, Clock::now()) / 1000.0;
  if (!wal.ok()) return wal.status();
  *point = Point(name, std::move(variant));
  point->ops = 1;
  point->seconds = ms / 1000.0;
  point->ops_per_s = 1000.0 / ms;
  point->ms = ms;
  return wal;
}

// --- W9 ------------------------------------------------------------------------------

std::string StreamKey(uint64_t i) { return absl::StrCat("s", i); }

// Appends `per_thread` times per thread, round-robin over the thread's streams.
absl::StatusOr<Result> W9Appends(Wal* wal, uint64_t streams, uint64_t per_thread,
                                 const std::string& payload, std::string variant) {
  // Each thread's latencies in its own slice of one vector, sorted in place at the end:
  // no copies for the peak RSS to count.
  std::vector<double> all(kThreads * per_thread);
  double seconds = 0;
  const absl::Status run = RunThreads(
      kThreads,
      [&](int t) -> absl::Status {
        double* const mine = all.data() + static_cast<size_t>(t) * per_thread;
        const uint64_t share = streams >= kThreads ? (streams - t + kThreads - 1) / kThreads : 1;
        for (uint64_t i = 0; i < per_thread; ++i) {
          const uint64_t s = streams >= kThreads ? t + kThreads * (i % share) : 0;
          const std::string key = StreamKey(s);
          const Clock::time_point start = Clock::now();
          absl::StatusOr<uint64_t> id = wal->Append(key, payload);
          mine[i] = MicrosBetween(start, Clock::now());
          if (!id.ok()) return id.status();
        }
        return absl::OkStatus();
      },
      &seconds);
  if (!run.ok()) return run;
  Result r = Point("W9", std::move(variant));
  r.threads = kThreads;
  SetLatencyFields(std::move(all), seconds, &r);
  r.memory = wal->ApproximateMemoryUsage();
  return r;
}

// One point of W9: `streams` streams.
absl::Status W9Point(const BenchConfig& config, uint64_t streams, std::vector<Result>* out) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, absl::StrCat("w9-", streams));
  if (!dir.ok()) return dir.status();
  const std::string root = dir->Join("wal");
  const std::string payload = MakePayload();
  const size_t budget = static_cast<size_t>(std::max<uint64_t>(1, 128 / config.scale));
  const auto tweak = [budget](WalOptions* o) { o->max_open_segments = budget; };
  ResetPeakRss();
  {
    // The streams' creation (directories, names, syncs), untimed, four at a time.
    absl::StatusOr<std::unique_ptr<Wal>> wal = OpenAt(root, SyncMode::kAsync, tweak);
    if (!wal.ok()) return wal.status();
    absl::Status created = RunThreads(
        kThreads,
        [&](int t) -> absl::Status {
          for (uint64_t s = static_cast<uint64_t>(t); s < streams; s += kThreads) {
            absl::StatusOr<uint64_t> id = (*wal)->Append(StreamKey(s), payload);
            if (!id.ok()) return id.status();
          }
          return absl::OkStatus();
        },
        nullptr);
    if (created.ok()) created = (*wal)->Close();
    if (!created.ok()) return created;
  }
  const std::string n = absl::StrCat(" n=", streams);
  for (SyncMode mode : {SyncMode::kAsync, SyncMode::kStrict}) {
    absl::StatusOr<std::unique_ptr<Wal>> wal = OpenAt(root, mode, tweak);
    if (!wal.ok()) return wal.status();
    // kAsync: at least 1,000 appends a stream (250 a thread), so that with many streams
    // the run reaches the steady state where the evicted writers' buffers are at the
    // budget's limit and each append pays for its share of their flushes, rather than
    // ending while the buffers first fill (100 appends a stream, before).
    const uint64_t per_thread =
        config.Scaled(mode == SyncMode::kAsync ? std::max<uint64_t>(25000, streams * 250) : 250);
    absl::StatusOr<Result> r =
        W9Appends(wal->get(), streams, per_thread, payload, SyncModeName(mode) + n);
    if (!r.ok()) return r.status();
    out->push_back(*std::move(r));
    absl::Status closed = (*wal)->Close();
    if (!closed.ok()) return closed;
  }
  // Open, eager and with defer_stream_recovery, alternating twice; after each deferred
  // one, the recovery of every stream it deferred (RecoverPendingStreams), timed apart.
  const std::function<void(WalOptions*)> eager = tweak;
  const std::function<void(WalOptions*)> deferred = [budget](WalOptions* o) {
    o->max_open_segments = budget;
    o->defer_stream_recovery = true;
  };
  for (int round = 0; round < 2; ++round) {
    for (const bool defer : {false, true}) {
      // Each open's peak is its own: not the appends' before it (their latencies alone
      // are 80 MB at 10,000 streams) nor an earlier open's.
      ResetPeakRss();
      Result open;
      absl::StatusOr<std::unique_ptr<Wal>> wal =
          TimedOpen(root, SyncMode::kStrict, defer ? deferred : eager, "W9",
                    (defer ? "open deferred" : "open") + n, &open);
      if (!wal.ok()) return wal.status();
      open.records = streams;
      open.peak_rss_kb = PeakRssKb();
      open.memory = (*wal)->ApproximateMemoryUsage();
      out->push_back(open);
      if (defer) {
        const Clock::time_point start = Clock::now();
        const absl::Status recovered = (*wal)->RecoverPendingStreams();
        const double ms = MicrosBetween(start, Clock::now()) / 1000.0;
        if (!recovered.ok()) return recovered;
        Result all = Point("W9", "recover pending" + n);
        all.ops = 1;
        all.seconds = ms / 1000.0;
        all.ops_per_s = 1000.0 / ms;
        all.ms = ms;
        all.records = streams;
        out->push_back(all);
      }
      absl::Status closed = (*wal)->Close();
      if (!closed.ok()) return closed;
    }
  }
  return absl::OkStatus();
}

// --- W10 -----------------------------------------------------------------------------

// Drops the page cache of every file under `dir` (posix_fadvise DONTNEED).
void DropCaches(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Reads every file under `dir` once, so that the page cache holds the log (the warm
// round's precondition: after the cold round's drops, most pages would come from the disk).
void WarmCaches(const std::string& dir) {
  std::error_code ec;
  std::vector<char> buffer(1 << 20);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
  }
}

std::string MiB(uint64_t bytes) { return absl::StrCat(bytes >> 20, "MiB"); }

// The floor of a Get that misses the open readers: for `count` random frames of the log's
// segment files (`frame_bytes` each, back to back), open the file, fstat it, pread the
// frame and close it, as a miss does (SegmentReader::OpenSealedIndexed, then the evicted
// reader's close), timed each. Reported as the probe "open_pread_close <size>".
absl::StatusOr<Result> MissProbe(const std::string& root, uint64_t frame_bytes, uint64_t count,
                                 uint64_t seed, const std::string& size) {
  std::vector<std::pair<std::string, uint64_t>> files;  // path, frames
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/log", ec)) {
    if (entry.path().extension() != ".wal") continue;
    const uint64_t frames = entry.file_size(ec) / frame_bytes;
    if (frames > 0) files.emplace_back(entry.path().string(), frames);
  }
  if (ec || files.empty()) return absl::InternalError("probe: no segments under " + root);
  std::sort(files.begin(), files.end());  // the directory's order is the file system's
  Random rng(seed);
  std::vector<char> buffer(frame_bytes);
  std::vector<double> micros;
  micros.reserve(count);
  double seconds = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const auto& [path, frames] = files[rng.Uniform(files.size())];
    const off_t offset = static_cast<off_t>(rng.Uniform(frames) * frame_bytes);
    const Clock::time_point start = Clock::now();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    const bool ok =
        fd >= 0 && ::fstat(fd, &st) == 0 &&
        ::pread(fd, buffer.data(), frame_bytes, offset) == static_cast<ssize_t>(frame_bytes);
    if (fd >= 0) ::close(fd);
    const double us = MicrosBetween(start, Clock::now());
    if (!ok || std::memcmp(buffer.data(), "LAWL", 4) != 0) {
      return absl::InternalError(
          absl::StrCat("probe read ", path, "@", offset, ": not a frame (errno ", errno, ")"));
    }
    micros.push_back(us);
    seconds += us / 1e6;
  }
  Result r;
  r.name = "open_pread_close " + size;
  r.is_probe = true;
  SetLatencyFields(micros, seconds, &r);
  return r;
}

// `count` random Gets of IDs below `records`, each timed; `before` runs untimed first.
absl::StatusOr<Result> TimedGets(Wal* wal, uint64_t records, uint64_t count, uint64_t seed,
                                 const std::function<void()>& before, std::string variant) {
  Random rng(seed);
  std::vector<double> micros;
  micros.reserve(count);
  double seconds = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t id = rng.Uniform(records);
    if (before) before();
    const Clock::time_point start = Clock::now();
    absl::StatusOr<std::string> entry = wal->Get("log", id);
    const double us = MicrosBetween(start, Clock::now());
    if (!entry.ok()) return entry.status();
    micros.push_back(us);
    seconds += us / 1e6;
  }
  Result r = Point("W10", std::move(variant));
  SetLatencyFields(micros, seconds, &r);
  return r;
}

absl::Status W10Point(const BenchConfig& config, uint64_t log_bytes, uint64_t segment_bytes,
                      std::vector<Result>* out) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, "w10-" + MiB(log_bytes));
  if (!dir.ok()) return dir.status();
  const std::string root = dir->Join("wal");
  const auto tweak = [segment_bytes](WalOptions* o) {
    o->max_segment_size = segment_bytes;
    o->max_open_read_segments = 8;
  };
  const std::string payload = MakePayload();
  uint64_t records = 0;
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = OpenAt(root, SyncMode::kAsync, tweak);
    if (!wal.ok()) return wal.status();
    // A frame is the payload plus a 32-byte header and a 4-byte length.
    records = std::max<uint64_t>(1, log_bytes / (payload.size() + 36));
    for (uint64_t i = 0; i < records; ++i) {
      absl::StatusOr<uint64_t> id = (*wal)->Append("log", payload);
      if (!id.ok()) return id.status();
    }
    absl::Status closed = (*wal)->Close();
    if (!closed.ok()) return closed;
  }
  const std::string size = MiB(log_bytes);
  DropCaches(root);
  Result open;
  absl::StatusOr<std::unique_ptr<Wal>> wal =
      TimedOpen(root, SyncMode::kAsync, tweak, "W10", "open cold " + size, &open);
  if (!wal.ok()) return wal.status();
  open.records = records;
  out->push_back(open);
  absl::StatusOr<Result> cold = TimedGets(
      wal->get(), records, config.Scaled(300), kSeed, [&root] { DropCaches(root); },
      "get cold " + size);
  if (!cold.ok()) return cold.status();
  out->push_back(*std::move(cold));
  WarmCaches(root);  // untimed: "warm" is the page cache holding the log
  absl::StatusOr<Result> warm =
      TimedGets(wal->get(), records, config.Scaled(5000), kSeed + 1, nullptr, "get warm " + size);
  if (!warm.ok()) return warm.status();
  out->push_back(*std::move(warm));
  // A frame is the payload plus a 32-byte header and a 4-byte length.
  absl::StatusOr<Result> probe =
      MissProbe(root, payload.size() + 36, config.Scaled(5000), kSeed + 2, size);
  if (!probe.ok()) return probe.status();
  out->push_back(*std::move(probe));
  return (*wal)->Close();
}

// --- W11 -----------------------------------------------------------------------------

struct W11State {
  Wal* wal = nullptr;
  std::atomic<uint64_t> next{0};  // every ID below it was acknowledged
  std::atomic<bool> writer_done{false};
  std::vector<std::vector<double>> micros;  // [0] writer, [1..4] readers
  uint64_t tailed = 0;
};

absl::Status W11Writer(W11State* s, uint64_t appends, const std::string& payload) {
  for (uint64_t i = 0; i < appends; ++i) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<uint64_t> id = s->wal->Append("mixed", payload);
    s->micros[0].push_back(MicrosBetween(start, Clock::now()));
    if (!id.ok()) return id.status();
    s->next.store(*id + 1, std::memory_order_release);
  }
  return absl::OkStatus();
}

constexpr uint64_t kMinReaderGets = 100;

absl::Status W11Reader(W11State* s, int t) {
  Random rng(kSeed + static_cast<uint64_t>(t));
  std::vector<double>& mine = s->micros[static_cast<size_t>(t)];
  // At least kMinReaderGets each, however the threads are scheduled: a reader that starts after
  // the writer has finished (a small --scale on a busy machine) still measures something.
  for (uint64_t done = 0; done < kMinReaderGets || !s->writer_done.load(std::memory_order_acquire);
       ++done) {
    const uint64_t id = rng.Uniform(s->next.load(std::memory_order_acquire));
    const Clock::time_point start = Clock::now();
    absl::StatusOr<std::string> entry = s->wal->Get("mixed", id);
    mine.push_back(MicrosBetween(start, Clock::now()));
    if (!entry.ok()) return entry.status();
  }
  return absl::OkStatus();
}

// Tails the stream as Wal::WaitFor's comment shows a consumer doing it: it reads what is
// visible, then sleeps in WaitFor until the next entry is (polling with Seek instead would
// keep a core busy that the writer needs on a small machine).
absl::Status W11Tailer(W11State* s) {
  absl::StatusOr<std::unique_ptr<Iterator>> it = s->wal->NewIterator("mixed", 0);
  if (!it.ok()) return it.status();
  Env* const env = s->wal->options().env;
  uint64_t next = 0;
  for (;;) {
    const bool done = s->writer_done.load(std::memory_order_acquire);
    for (; (*it)->Valid(); (*it)->Next()) ++next;
    if (!(*it)->status().ok()) return (*it)->status();
    if (done && next >= s->next.load(std::memory_order_acquire)) break;
    // A short deadline: after the writer's last entry nothing wakes the wait.
    const absl::Status ready =
        s->wal->WaitFor("mixed", next, env->NowMicros() + 2000, WaitCondition::kVisible);
    if (!ready.ok() && !absl::IsDeadlineExceeded(ready)) return ready;
    (*it)->Seek(next);
  }
  s->tailed = next;
  return absl::OkStatus();
}

Result Latencies(const char* variant, const std::vector<double>& micros, double seconds) {
  Result r = Point("W11", variant);
  SetLatencyFields(micros, seconds, &r);
  return r;
}

}  // namespace

absl::StatusOr<std::vector<Result>> RunW9ManyStreams(const BenchConfig& config) {
  std::vector<uint64_t> sizes = {1, 4, 100, 1000};
  if (config.big) sizes.push_back(10000);
  std::vector<Result> results;
  for (uint64_t n : sizes) {
    const uint64_t streams = std::max<uint64_t>(1, n / config.scale);
    absl::Status point = W9Point(config, streams, &results);
    if (!point.ok()) return Annotate(absl::StrCat("W9 n=", streams), point);
  }
  return results;
}

absl::StatusOr<std::vector<Result>> RunW10BigLog(const BenchConfig& config) {
  const std::vector<uint64_t> sizes_mib =
      config.big ? std::vector<uint64_t>{100, 1024, 10240} : std::vector<uint64_t>{16, 64, 256};
  const uint64_t segment =
      std::max<uint64_t>(64 << 10, (config.big ? 64ull << 20 : 4ull << 20) / config.scale);
  std::vector<Result> results;
  for (uint64_t mib : sizes_mib) {
    const uint64_t bytes = std::max<uint64_t>(1, mib / config.scale) << 20;
    absl::Status point = W10Point(config, bytes, segment, &results);
    if (!point.ok()) return Annotate(absl::StrCat("W10 ", MiB(bytes)), point);
  }
  return results;
}

absl::StatusOr<std::vector<Result>> RunW11Mixed(const BenchConfig& config) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, "w11");
  if (!dir.ok()) return dir.status();
  const std::string root = dir->Join("wal");
  const std::string payload = MakePayload();
  const uint64_t history = config.Scaled(200000);
  {
    absl::StatusOr<std::unique_ptr<Wal>> wal = OpenAt(root, SyncMode::kAsync, nullptr);
    if (!wal.ok()) return wal.status();
    for (uint64_t i = 0; i < history; ++i) {
      absl::StatusOr<uint64_t> id = (*wal)->Append("mixed", payload);
      if (!id.ok()) return Annotate("W11", id.status());
    }
    absl::Status closed = (*wal)->Close();
    if (!closed.ok()) return Annotate("W11", closed);
  }
  absl::StatusOr<std::unique_ptr<Wal>> wal = OpenAt(root, SyncMode::kStrict, nullptr);
  if (!wal.ok()) return Annotate("W11", wal.status());
  W11State s;
  s.wal = wal->get();
  s.next.store(history);
  s.micros.resize(1 + kThreads);
  const uint64_t appends = config.Scaled(2000);
  double seconds = 0;
  const absl::Status run = RunThreads(
      2 + kThreads,
      [&](int t) -> absl::Status {
        if (t == 0) {
          absl::Status written = W11Writer(&s, appends, payload);
          s.writer_done.store(true, std::memory_order_release);
          return written;
        }
        if (t == 1 + kThreads) return W11Tailer(&s);
        return W11Reader(&s, t);
      },
      &seconds);
  if (!run.ok()) return Annotate("W11", run);
  std::vector<double> readers;
  for (int t = 1; t <= kThreads; ++t) {
    readers.insert(readers.end(), s.micros[static_cast<size_t>(t)].begin(),
                   s.micros[static_cast<size_t>(t)].end());
  }
  std::vector<Result> results = {Latencies("writer strict", s.micros[0], seconds),
                                 Latencies("readers x4 get", readers, seconds)};
  Result tail = Point("W11", "tail scan");
  tail.ops = s.tailed;
  tail.seconds = seconds;
  tail.ops_per_s = static_cast<double>(s.tailed) / seconds;
  results.push_back(tail);
  absl::Status closed = (*wal)->Close();
  if (!closed.ok()) return Annotate("W11", closed);
  return results;
}

}  // namespace bench
}  // namespace ironwal
