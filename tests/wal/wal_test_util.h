// Test helpers for Wal tests: a fixture on MemEnv with reopen and byte-surgery helpers.
#ifndef IRONWAL_TESTS_WAL_WAL_TEST_UTIL_H_
#define IRONWAL_TESTS_WAL_WAL_TEST_UTIL_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/env.h"
#include "ironwal/env/mem_env.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace testing {

class WalTestBase {
 public:
  explicit WalTestBase(Env* env) : env_(env) {
    options_.env = env_;
    options_.root = "/wal";
  }

  absl::Status Open() {
    wal_.reset();
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options_);
    if (!wal.ok()) return wal.status();
    wal_ = *std::move(wal);
    return absl::OkStatus();
  }
  // Closes cleanly and opens again.
  absl::Status Reopen() {
    if (wal_ != nullptr) {
      absl::Status closed = wal_->Close();
      if (!closed.ok()) return closed;
    }
    return Open();
  }

  // What recovery reported for the stream directory `dir`; nullptr if nothing.
  const StreamRecoveryReport* Report(const std::string& dir) {
    for (const auto& r : wal_->recovery_report()) {
      if (r.dir == dir) return &r;
    }
    return nullptr;
  }

  std::string StreamDir(const std::string& key) const {
    return JoinPath(options_.root, *ironwal::internal::StreamDirName(key));
  }
  std::string SegmentPath(const std::string& key, uint64_t start) const {
    return JoinPath(StreamDir(key), ironwal::internal::SegmentFileName(start));
  }

  // Byte surgery on this Env (ironwal/testing/file_surgery.h).
  std::string ReadFile(const std::string& path) { return ReadFileOrFail(env_, path); }
  void WriteFile(const std::string& path, absl::string_view contents) {
    WriteFileOrFail(env_, path, contents);
  }
  // Keeps the first `size` bytes of `path`.
  void CutFile(const std::string& path, uint64_t size) {
    ::ironwal::testing::CutFile(env_, path, size);
  }
  void FlipByte(const std::string& path, uint64_t offset, char mask = 0x01) {
    ::ironwal::testing::FlipByte(env_, path, offset, mask);
  }
  uint64_t FileSize(const std::string& path) {
    absl::StatusOr<uint64_t> size = env_->GetFileSize(path);
    EXPECT_TRUE(size.ok()) << size.status();
    return size.ok() ? *size : 0;
  }
  std::vector<std::string> Children(const std::string& dir) {
    absl::StatusOr<std::vector<std::string>> children = env_->GetChildren(dir);
    EXPECT_TRUE(children.ok()) << children.status();
    return children.ok() ? *children : std::vector<std::string>();
  }
  std::vector<uint64_t> SegmentStarts(const std::string& key) {
    std::vector<uint64_t> starts;
    for (const std::string& name : Children(StreamDir(key))) {
      if (auto id = ironwal::internal::ParseSegmentFileName(name)) starts.push_back(*id);
    }
    return starts;
  }

  // Every entry of `stream` from `start` by iteration.
  std::vector<std::string> IterateAll(const std::string& stream, uint64_t start) {
    std::vector<std::string> out;
    auto it = wal_->NewIterator(stream, start);
    EXPECT_TRUE(it.ok()) << it.status();
    if (!it.ok()) return out;
    uint64_t expected = start;
    for (; (*it)->Valid(); (*it)->Next()) {
      EXPECT_EQ((*it)->id(), expected++);
      out.emplace_back((*it)->value());
    }
    EXPECT_TRUE((*it)->status().ok()) << (*it)->status();
    return out;
  }

 protected:
  Env* env_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
};

// A test name for a SyncMode parameter: "strict", "batchonly", "async".
inline std::string SyncModeTestName(const ::testing::TestParamInfo<SyncMode>& info) {
  std::string name = SyncModeName(info.param);
  name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
  return name;
}

struct MemEnvHolder {
  MemEnv mem_env_;
};

// A WalTestBase on its own MemEnv (a base constructed before, and destroyed after, the
// Wal that uses it).
class MemWalTest : public ::testing::Test, protected MemEnvHolder, public WalTestBase {
 public:
  MemWalTest() : WalTestBase(&mem_env_) {}
};

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTS_WAL_WAL_TEST_UTIL_H_
