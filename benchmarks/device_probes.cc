#include "benchmarks/device_probes.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "benchmarks/bench_result.h"
#include "benchmarks/op_run.h"

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

// The files a probe writes, in its scratch directory.
struct ProbeFiles {
  explicit ProbeFiles(ScratchDir d) : dir(std::move(d)) {}
  ScratchDir dir;
  std::vector<PosixFile> files;  // one per thread
  std::string block;
  uint64_t next_block = 0;  // overwrite probes: the block thread 0 rewrites next
};

struct ProbeSpec {
  const char* name;
  size_t size;     // bytes per write
  uint64_t count;  // writes over all threads, before scaling
  int threads;     // each with a file of its own
  bool sync;       // fdatasync after each write (and time each one)
  bool overwrite;  // rewrite blocks of a written, synced file instead of appending
  char fill;       // overwrite probes: the byte the file is written with first
};

absl::StatusOr<OpRun> MakeProbe(const BenchConfig& config, const ProbeSpec& spec) {
  absl::StatusOr<ScratchDir> dir = ScratchDir::Create(config, spec.name);
  if (!dir.ok()) return dir.status();
  auto probe = std::make_shared<ProbeFiles>(std::move(*dir));
  for (int t = 0; t < spec.threads; ++t) {
    absl::StatusOr<PosixFile> file =
        PosixFile::Create(probe->dir.Join(absl::StrCat("probe", t, ".dat")));
    if (!file.ok()) return file.status();
    probe->files.push_back(std::move(*file));
  }
  probe->block.assign(spec.size, 'x');
  const uint64_t per_thread = config.Scaled(spec.count / spec.threads);
  if (spec.overwrite) {
    // Allocate and write every block first, and make it durable, so the timed writes
    // replace data in place and fdatasync has no metadata to flush.
    absl::Status status = probe->files[0].Write(std::string(spec.size * per_thread, spec.fill));
    if (status.ok()) status = probe->files[0].Fdatasync();
    if (!status.ok()) return status;
  }
  OpRun run;
  run.result.name = spec.name;
  run.result.is_probe = true;
  run.total_ops = per_thread * spec.threads;
  run.threads = spec.threads;
  run.time_each_op = spec.sync;
  ProbeFiles* const p = probe.get();
  const ProbeSpec s = spec;
  run.op = [p, s](int t) {
    PosixFile& file = p->files[t];
    absl::Status status = s.overwrite
                              ? file.WriteAt(p->block, static_cast<off_t>(p->next_block++ * s.size))
                              : file.Write(p->block);
    if (status.ok() && s.sync) status = file.Fdatasync();
    return status;
  };
  run.resources = std::move(probe);
  return run;
}

}  // namespace

absl::StatusOr<OpRun> BufferedWrite128Probe(const BenchConfig& config) {
  return MakeProbe(config, {"write_128", kPayloadSize, 200000, 1, false, false, 0});
}

absl::StatusOr<OpRun> Append128FdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config, {"append_128_fdatasync", kPayloadSize, 2000, 1, true, false, 0});
}

absl::StatusOr<OpRun> Overwrite4kFdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config, {"overwrite_4k_fdatasync", 4096, 2000, 1, true, true, 'o'});
}

absl::StatusOr<OpRun> Overwrite4kZeroedFdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config, {"overwrite_4k_zeroed_fdatasync", 4096, 2000, 1, true, true, '\0'});
}

absl::StatusOr<OpRun> Overwrite128ZeroedFdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config,
                   {"overwrite_128_zeroed_fdatasync", kPayloadSize, 2000, 1, true, true, '\0'});
}

absl::StatusOr<OpRun> Append16kFdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config, {"append_16k_fdatasync", 16384, 2000, 1, true, false, 0});
}

absl::StatusOr<OpRun> AppendW3FrameFdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config, {"append_13232_fdatasync", kW3FrameSize, 2000, 1, true, false, 0});
}

absl::StatusOr<OpRun> ParallelAppend128FdatasyncProbe(const BenchConfig& config) {
  return MakeProbe(config, {"4x_append_128_fdatasync", kPayloadSize, 2000, 4, true, false, 0});
}

}  // namespace bench
}  // namespace ironwal
