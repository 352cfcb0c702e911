// `ironwal verify` beside a live writer (issue 8, section 6): a writer that appends and
// moves its durable frontier while the check runs must not read as lost data. The check
// sees the directory change and runs again.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/format/names.h"
#include "ironwal/ironwal.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/wal/maintenance.h"

namespace ironwal {

using internal::DurablePos;
using internal::EncodeDurablePos;
using internal::SegmentFileName;

namespace {

// Plays the writer: the first time durable.pos is opened after the segment was, appends
// `frame` to the segment and moves durable.pos past it, as a writer's sync would.
class RacingEnv : public MemEnv {
 public:
  std::string segment, durable_pos, frame;
  bool segment_opened = false;
  bool raced = false;

  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path, const RandomAccessFileOptions& options) override {
    if (path == segment) segment_opened = true;
    if (path == durable_pos && segment_opened && !raced) {
      raced = true;
      auto file = MemEnv::NewAppendableFile(segment);
      EXPECT_OK(file.status());
      EXPECT_OK((*file)->Append(frame));
      DurablePos pos;
      pos.offset = (*file)->Size();
      EXPECT_OK((*file)->Close());
      EXPECT_OK(WriteFileAtomically(this, durable_pos, EncodeDurablePos(pos)));
    }
    return MemEnv::NewRandomAccessFile(path, options);
  }
};

TEST(VerifierRaceTest, AWriterSyncingDuringTheCheckIsNotDataLoss) {
  RacingEnv env;
  WalOptions options;
  options.env = &env;
  options.root = "/wal";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    for (int i = 0; i < 4; ++i) ASSERT_OK(wal->Append("s", "entry").status());
    ASSERT_OK(wal->Close());
  }
  env.segment = "/wal/s/" + SegmentFileName(0);
  env.durable_pos = "/wal/s/durable.pos";
  ASSERT_OK_AND_ASSIGN(const std::string bytes, ReadFileToString(&env, env.segment));
  const size_t three = bytes.size() / 4 * 3;
  env.frame = bytes.substr(three);
  // Before the race: three frames, all synced.
  ASSERT_OK(WriteFileAtomically(&env, env.segment, bytes.substr(0, three)));
  DurablePos pos;
  pos.offset = three;
  ASSERT_OK(WriteFileAtomically(&env, env.durable_pos, EncodeDurablePos(pos)));

  ASSERT_OK_AND_ASSIGN(const StreamCheck check, CheckStream(&env, "/wal", "s"));
  EXPECT_TRUE(env.raced);
  for (const Finding& finding : check.findings) ADD_FAILURE() << finding.ToString();
  EXPECT_EQ(check.next_id, 4u);
}

}  // namespace
}  // namespace ironwal
