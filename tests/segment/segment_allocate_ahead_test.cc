// SegmentWriter::set_allocate_ahead: disk space reserved past the file's end ahead of the
// flushes (kAsync), released when the writer closes, detaches or cannot have it whole.
// SimEnv counts reserved space against its capacity as a file system does (UsedBytes), and
// PosixEnv's reservation shows in the file's allocated blocks.
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/env/env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/segment/segment_writer.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;

constexpr uint64_t kAhead = 1 << 20;

// A new segment at `path` whose writer reserves kAhead at a time.
absl::StatusOr<std::unique_ptr<SegmentWriter>> ReservingWriter(Env* env, const std::string& path) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> writer,
                           SegmentWriter::Create(env, path, 0));
  writer->set_allocate_ahead(kAhead);
  return writer;
}

// Appends frames of 1,000 bytes until the writer holds at least `bytes`.
void Fill(SegmentWriter* writer, uint64_t* next_id, uint64_t bytes) {
  const std::string entry(1000, 'e');
  while (writer->size() < bytes) {
    ASSERT_OK(writer->AppendFrame((*next_id)++, {entry}, {}).status());
  }
}

TEST(SegmentAllocateAheadTest, AFlushReservesAheadAndCloseReleasesIt) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(&env, "/s.wal"));
  uint64_t id = 0;
  Fill(writer.get(), &id, 70000);
  EXPECT_EQ(env.UsedBytes(), 0u) << "nothing is reserved before the first flush";
  ASSERT_OK(writer->Flush());
  const uint64_t size = writer->flushed_size();
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(size)) << "the size does not change";
  EXPECT_EQ(env.UsedBytes(), kAhead) << "one stretch from the old end covers this flush";
  // The next flushes write into it until they pass its end, which reserves the next one.
  Fill(writer.get(), &id, kAhead + 1000);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(env.UsedBytes(), 2 * kAhead);
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(const uint64_t closed_size, env.GetFileSize("/s.wal"));
  EXPECT_EQ(closed_size, writer->flushed_size());
  EXPECT_EQ(env.UsedBytes(), closed_size) << "a closed segment holds only its frames";
}

TEST(SegmentAllocateAheadTest, DetachAndCloseUnsyncedReleaseTheReservation) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto a, ReservingWriter(&env, "/a.wal"));
  ASSERT_OK_AND_ASSIGN(auto b, ReservingWriter(&env, "/b.wal"));
  uint64_t id = 0;
  for (SegmentWriter* w : {a.get(), b.get()}) {
    Fill(w, &id, 5000);
    ASSERT_OK(w->Flush());
  }
  EXPECT_EQ(env.UsedBytes(), 2 * kAhead);
  ASSERT_OK(a->Detach());
  EXPECT_EQ(env.UsedBytes(), kAhead + a->flushed_size());
  ASSERT_OK(b->CloseUnsynced());
  EXPECT_EQ(env.UsedBytes(), a->flushed_size() + b->flushed_size());
}

// A detached writer's flush opens the file for that call only: it must reserve nothing
// (nothing would release it).
TEST(SegmentAllocateAheadTest, ADetachedWritersFlushReservesNothing) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(&env, "/s.wal"));
  ASSERT_OK(writer->Detach());
  uint64_t id = 0;
  Fill(writer.get(), &id, 5000);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(env.UsedBytes(), writer->flushed_size());
}

// Near a full disk the reservation is given back at once, so that the space is left to
// the writes themselves, here another file's; this writer then reserves no more, and its
// own writes go on.
TEST(SegmentAllocateAheadTest, AReservationThatCannotBeHadWholeIsReleasedAtOnce) {
  SimEnvOptions options;
  options.capacity_bytes = 200000;
  SimEnv env(options);
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(&env, "/s.wal"));
  uint64_t id = 0;
  Fill(writer.get(), &id, 5000);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(env.UsedBytes(), writer->flushed_size()) << "the partial reservation was kept";
  ASSERT_OK_AND_ASSIGN(auto other, env.NewWritableFile("/other"));
  ASSERT_OK(other->Append(std::string(150000, 'o')));
  Fill(writer.get(), &id, 40000);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(env.UsedBytes(), writer->flushed_size() + 150000);
}

// A failed reservation is only a hint lost: the flush succeeds.
TEST(SegmentAllocateAheadTest, AFailedReservationDoesNotFailTheFlush) {
  SimEnv env;
  FaultRule rule;
  rule.op = SimOp::kAllocate;
  rule.fault = SimFault::kIoError;
  env.AddFaultRule(rule);
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(&env, "/s.wal"));
  uint64_t id = 0;
  Fill(writer.get(), &id, 5000);
  ASSERT_OK(writer->Flush());
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(writer->flushed_size()));
  ASSERT_OK(writer->Close());
}

// The release is best effort too: the bytes are what a close promises, and a failure to
// free blocks past them must not fail it (at rotation that would poison the stream).
TEST(SegmentAllocateAheadTest, AFailedReleaseDoesNotFailTheClose) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(&env, "/s.wal"));
  uint64_t id = 0;
  Fill(writer.get(), &id, 5000);
  ASSERT_OK(writer->Flush());
  FaultRule rule;
  rule.op = SimOp::kTruncate;
  rule.fault = SimFault::kIoError;
  env.AddFaultRule(rule);
  ASSERT_OK(writer->Close());
  EXPECT_THAT(env.GetFileSize("/s.wal"), IsOkAndHolds(writer->flushed_size()));
  EXPECT_EQ(env.UsedBytes(), kAhead) << "the blocks stay, the bytes are the frames";
}

// Rollback's truncation frees the reservation (as ftruncate does); the next flush takes
// a new one from the new end.
TEST(SegmentAllocateAheadTest, RollbackReleasesAndTheNextFlushReservesAgain) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(&env, "/s.wal"));
  uint64_t id = 0;
  Fill(writer.get(), &id, 5000);
  ASSERT_OK(writer->Sync());
  const uint64_t good = writer->synced_size();
  Fill(writer.get(), &id, 9000);
  ASSERT_OK(writer->Flush());
  ASSERT_OK(writer->Rollback(good));
  EXPECT_EQ(env.UsedBytes(), good);
  Fill(writer.get(), &id, 9000);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(env.UsedBytes(), good + kAhead);
}

// Off (the default): nothing is ever reserved.
TEST(SegmentAllocateAheadTest, OffByDefault) {
  SimEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer, SegmentWriter::Create(&env, "/s.wal", 0));
  uint64_t id = 0;
  Fill(writer.get(), &id, 70000);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(env.UsedBytes(), writer->flushed_size());
}

// On the real file system: the blocks are allocated past the end while the writer is
// open, and freed when it closes (the release is an ftruncate to the file's own size).
TEST(SegmentAllocateAheadTest, PosixBlocksAreReservedAndFreed) {
  const std::string path = ::ironwal::testing::TestTmpDir() + "/allocate_ahead.wal";
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(auto writer, ReservingWriter(env, path));
  uint64_t id = 0;
  Fill(writer.get(), &id, 5000);
  ASSERT_OK(writer->Flush());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), writer->flushed_size());
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, kAhead)
      << "the file system in TEST_TMPDIR did not allocate: fallocate unsupported?";
  ASSERT_OK(writer->Close());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64u << 10);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
