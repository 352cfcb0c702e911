#include "benchmarks/device_probes.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "benchmarks/bench_result.h"

namespace ironwal {
namespace bench {
namespace {

absl::Status ErrnoError(const char* call, const std::string& path) {
  return absl::InternalError(absl::StrCat(call, " ", path, ": ", std::strerror(errno)));
}

// A file descriptor opened for writing, closed on destruction.
class PosixFile {
 public:
  static absl::StatusOr<PosixFile> Create(const std::string& path) {
    const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError("open", path);
    return PosixFile(fd, path);
  }
  PosixFile(PosixFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  PosixFile& operator=(PosixFile&&) = delete;
  ~PosixFile() {
    if (fd_ >= 0) close(fd_);
  }

  // Writes all of `data` at the end (write(2), looping over short writes).
  absl::Status Write(const std::string& data) { return WriteAt(data, -1); }

  // pwrite(2) of all of `data` at `offset`; write(2) at the end for offset -1.
  absl::Status WriteAt(const std::string& data, off_t offset) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = offset < 0 ? write(fd_, data.data() + done, data.size() - done)
                                   : pwrite(fd_, data.data() + done, data.size() - done,
                                            offset + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return ErrnoError(offset < 0 ? "write" : "pwrite", path_);
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Fdatasync() {
    if (fdatasync(fd_) != 0) return ErrnoError("fdatasync", path_);
    return absl::OkStatus();
  }

 private:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

absl::StatusOr<Result> NewResult(const char* name) {
  Result result;
  result.name = name;
  result.is_probe = true;
  return result;
}

// `count` x (write `block` at the end, or over block i when `overwrite`, + fdatasync)
// into `file`; one latency per iteration appended to `micros`.
absl::Status SyncedWrites(PosixFile* file, const std::string& block, uint64_t count, bool overwrite,
                          std::vector<double>* micros) {
  for (uint64_t i = 0; i < count; ++i) {
    const Clock::time_point start = Clock::now();
    const off_t offset = overwrite ? static_cast<off_t>(i * block.size()) : -1;
    absl::Status status = file->WriteAt(block, offset);
    if (status.ok()) status = file->Fdatasync();
    if (!status.ok()) return status;
    micros->push_back(MicrosBetween(start, Clock::now()));
  }
  return absl::OkStatus();
}

// A probe of `count` synced writes of `size` bytes into a new file.
absl::StatusOr<Result> SyncedWriteProbe(const BenchConfig& config, const char* name, size_t size,
                                        uint64_t count, bool overwrite) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, name);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<PosixFile> file = PosixFile::Create(dir->Join("probe.dat"));
  if (!file.ok()) return file.status();
  const std::string block(size, 'x');
  if (overwrite) {
    // Allocate and write every block first, and make it durable, so the timed writes
    // replace data in place and fdatasync has no metadata to flush.
    const std::string all(size * count, 'o');
    absl::Status status = file->Write(all);
    if (status.ok()) status = file->Fdatasync();
    if (!status.ok()) return status;
  }
  std::vector<double> micros;
  micros.reserve(count);
  const Clock::time_point start = Clock::now();
  absl::Status status = SyncedWrites(&*file, block, count, overwrite, &micros);
  if (!status.ok()) return status;
  const double seconds = SecondsBetween(start, Clock::now());
  absl::StatusOr<Result> result = NewResult(name);
  SetLatencyFields(micros, seconds, &*result);
  return result;
}

}  // namespace

absl::StatusOr<Result> ProbeBufferedWrite128(const BenchConfig& config) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, "write_128");
  if (!dir.ok()) return dir.status();
  absl::StatusOr<PosixFile> file = PosixFile::Create(dir->Join("probe.dat"));
  if (!file.ok()) return file.status();
  const std::string block(kPayloadSize, 'x');
  const uint64_t count = config.Scaled(200000);
  const Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    absl::Status status = file->Write(block);
    if (!status.ok()) return status;
  }
  const double seconds = SecondsBetween(start, Clock::now());
  absl::StatusOr<Result> result = NewResult("write_128");
  result->ops = count;
  result->seconds = seconds;
  result->ops_per_s = static_cast<double>(count) / seconds;
  return result;
}

absl::StatusOr<Result> ProbeAppend128Fdatasync(const BenchConfig& config) {
  return SyncedWriteProbe(config, "append_128_fdatasync", kPayloadSize, config.Scaled(2000),
                          /*overwrite=*/false);
}

absl::StatusOr<Result> ProbeOverwrite4kFdatasync(const BenchConfig& config) {
  return SyncedWriteProbe(config, "overwrite_4k_fdatasync", 4096, config.Scaled(2000),
                          /*overwrite=*/true);
}

absl::StatusOr<Result> ProbeAppend16kFdatasync(const BenchConfig& config) {
  return SyncedWriteProbe(config, "append_16k_fdatasync", 16384, config.Scaled(2000),
                          /*overwrite=*/false);
}

absl::StatusOr<Result> ProbeParallelAppend128Fdatasync(const BenchConfig& config) {
  constexpr int kThreads = 4;
  const char* const name = "4x_append_128_fdatasync";
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, name);
  if (!dir.ok()) return dir.status();
  std::vector<PosixFile> files;
  for (int t = 0; t < kThreads; ++t) {
    absl::StatusOr<PosixFile> file = PosixFile::Create(dir->Join(absl::StrCat("probe", t)));
    if (!file.ok()) return file.status();
    files.push_back(std::move(*file));
  }
  const uint64_t per_thread = config.Scaled(500);
  const std::string block(kPayloadSize, 'x');
  std::vector<std::vector<double>> micros(kThreads);
  std::vector<absl::Status> statuses(kThreads);
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      micros[t].reserve(per_thread);
      statuses[t] = SyncedWrites(&files[t], block, per_thread, /*overwrite=*/false, &micros[t]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = SecondsBetween(start, Clock::now());
  std::vector<double> all;
  for (int t = 0; t < kThreads; ++t) {
    if (!statuses[t].ok()) return statuses[t];
    all.insert(all.end(), micros[t].begin(), micros[t].end());
  }
  absl::StatusOr<Result> result = NewResult(name);
  SetLatencyFields(all, seconds, &*result);
  result->threads = kThreads;
  return result;
}

}  // namespace bench
}  // namespace ironwal
