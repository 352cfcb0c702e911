// The ironwal 0.6.3 fixtures through the whole Wal:
//  - every fixture opens (a copy, on the real disk) and reads exactly as its manifest says,
//    with both read strategies, by Get and by iteration, with eager Open and with
//    WalOptions::defer_stream_recovery, and opening and reading change no fixture file;
//  - replaying a fixture's operations with its options writes byte-identical files where
//    ironwal 0.6 wrote each batch as one frame (basic, txn), except the three reserved
//    header bytes of each frame (0.6's zeros, this library's frame stamp, which must pass
//    for the stream), and the same frames, modulo the LZ4 encoder's bytes, for
//    compressed;
//  - where 0.6 split batches across segments (rotation, truncated) the replay keeps each
//    batch in one frame and returns the same entries.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/posix_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/frame_stamps.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/wal/wal.h"

namespace ironwal {

namespace format = internal::format;
using internal::DecodeFrameHeader;
using internal::FrameHeader;
using internal::SegmentFileName;
using internal::StreamTag;

namespace {

using ::ironwal::testing::Fixture;
using ::ironwal::testing::FixtureNames;
using ::ironwal::testing::FixtureStream;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::LoadFixture;
using ::ironwal::testing::StatusIs;

// Copies the tree at `from` to `to` (which must not exist).
void CopyTree(Env* env, const std::string& from, const std::string& to) {
  ASSERT_OK(env->CreateDir(to));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> children, env->GetChildren(from));
  for (const std::string& name : children) {
    const std::string src = JoinPath(from, name);
    ASSERT_OK_AND_ASSIGN(const bool is_dir, env->IsDirectory(src));
    if (is_dir) {
      CopyTree(env, src, JoinPath(to, name));
    } else {
      ASSERT_OK_AND_ASSIGN(const std::string contents, ReadFileToString(env, src));
      ASSERT_OK(WriteFileAtomically(env, JoinPath(to, name), contents));
    }
  }
}

std::string TempDir(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  return absl::StrCat(tmp, "/", name);
}

// `segment` (this library's bytes) with each frame's reserved bytes zeroed, as ironwal 0.6
// writes them; checks that every frame's stamp passes for the stream tagged `tag`.
std::string WithoutStamps(const std::string& segment, uint8_t tag) {
  std::vector<std::string> problems;
  std::string zeroed = testing::WithoutFrameStamps(segment, tag, &problems);
  EXPECT_THAT(problems, ::testing::IsEmpty());
  return zeroed;
}

WalOptions FixtureOptions(const Fixture& fixture) {
  WalOptions options;
  options.max_segment_size = fixture.options.max_segment_size;
  options.max_entries_per_segment = fixture.options.max_entries_per_segment;
  options.write_buffer_size = fixture.options.write_buffer_size;
  options.min_compression_size = fixture.options.min_compression_size;
  options.compression =
      fixture.options.compression == "Lz4" ? Compression::kLz4 : Compression::kNone;
  options.sync_mode = SyncMode::kStrict;
  return options;
}

void ExpectStreamReadsAsManifest(Wal* wal, const FixtureStream& stream) {
  SCOPED_TRACE("stream " + stream.key);
  ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal->GetStreamInfo(stream.key));
  EXPECT_EQ(info.first_id, stream.first_id);
  EXPECT_EQ(info.next_id, stream.next_id);
  EXPECT_EQ(info.segment_count, stream.segments.size());
  for (const auto& [id, bytes] : stream.entries) {
    ASSERT_THAT(wal->Get(stream.key, id), IsOkAndHolds(bytes)) << "id " << id;
  }
  for (const auto& [id, bytes] : stream.deleted_entries) {
    EXPECT_THAT(wal->Get(stream.key, id), StatusIs(absl::StatusCode::kNotFound)) << "id " << id;
  }
  EXPECT_THAT(wal->Get(stream.key, stream.next_id), StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(auto it, wal->NewIterator(stream.key, stream.first_id));
  auto expected = stream.entries.begin();
  for (; it->Valid(); it->Next(), ++expected) {
    ASSERT_NE(expected, stream.entries.end()) << "iterator runs past the manifest";
    ASSERT_EQ(it->id(), expected->first);
    ASSERT_EQ(it->value(), expected->second) << "id " << it->id();
  }
  EXPECT_OK(it->status());
  EXPECT_EQ(expected, stream.entries.end()) << "iterator stopped early";
  if (stream.first_id > 0) {
    // ironwal 0.6 silently yields nothing here; this library says why.
    EXPECT_THAT(wal->NewIterator(stream.key, 0), StatusIs(absl::StatusCode::kNotFound));
  }
}

// The third parameter: WalOptions::defer_stream_recovery (streams recovered at first use).
class FixtureOpenTest
    : public ::testing::TestWithParam<std::tuple<std::string, ReadStrategy, bool>> {};

std::string FixtureRoot(const std::string& name, ReadStrategy strategy, bool deferred,
                        const char* suffix) {
  return TempDir(absl::StrCat(name, strategy == ReadStrategy::kMmap ? "-mmap" : "-pread",
                              deferred ? "-deferred" : "", suffix));
}

TEST_P(FixtureOpenTest, ReadsExactlyAsTheManifestSaysAndChangesNothing) {
  const auto& [name, strategy, deferred] = GetParam();
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(name));
  Env* env = Env::Default();
  const std::string root = FixtureRoot(name, strategy, deferred, "");
  CopyTree(env, fixture.root, root);

  WalOptions options = FixtureOptions(fixture);
  options.root = root;
  options.read_strategy = strategy;
  options.defer_stream_recovery = deferred;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    std::vector<std::string> keys;
    for (const auto& [key, stream] : fixture.streams) {  // deferred: the first uses
      keys.push_back(key);
      ExpectStreamReadsAsManifest(wal.get(), stream);
    }
    EXPECT_THAT(wal->ListStreams(), IsOkAndHolds(keys));
    EXPECT_TRUE(wal->recovery_report().empty()) << wal->recovery_report().front().ToString();
  }
  for (const auto& file : fixture.files) {
    const std::string relative = file.path.substr(file.path.find('/') + 1);  // drop "wal/"
    ASSERT_OK_AND_ASSIGN(const std::string ours, ReadFileToString(env, JoinPath(root, relative)));
    ASSERT_OK_AND_ASSIGN(const std::string theirs,
                         ReadFileToString(env, JoinPath(fixture.dir, file.path)));
    EXPECT_TRUE(ours == theirs) << file.path << " changed";
  }
}

TEST_P(FixtureOpenTest, KeepsWritingWhereIronwal06StoppedAndReopens) {
  const auto& [name, strategy, deferred] = GetParam();
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(name));
  Env* env = Env::Default();
  const std::string root = FixtureRoot(name, strategy, deferred, "-w");
  CopyTree(env, fixture.root, root);
  WalOptions options = FixtureOptions(fixture);
  options.root = root;
  options.read_strategy = strategy;
  options.defer_stream_recovery = deferred;
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
    for (const auto& [key, stream] : fixture.streams) {
      const uint64_t next = stream.next_id + round;
      EXPECT_THAT(wal->Append(key, absl::StrCat("after-", round)), IsOkAndHolds(next));
      EXPECT_THAT(wal->Get(key, next), IsOkAndHolds(absl::StrCat("after-", round)));
      if (!stream.entries.empty()) {
        EXPECT_THAT(wal->Get(key, stream.entries.rbegin()->first),
                    IsOkAndHolds(stream.entries.rbegin()->second));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureOpenTest,
                         ::testing::Combine(::testing::ValuesIn(FixtureNames()),
                                            ::testing::Values(ReadStrategy::kPread,
                                                              ReadStrategy::kMmap),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) +
                                  (std::get<1>(info.param) == ReadStrategy::kMmap ? "_Mmap"
                                                                                  : "_Pread") +
                                  (std::get<2>(info.param) ? "_Deferred" : "");
                         });

// Replays the fixture's operations into an empty root on `env`.
void Replay(const Fixture& fixture, Env* env, const std::string& root) {
  WalOptions options = FixtureOptions(fixture);
  options.env = env;
  options.root = root;
  std::unique_ptr<Wal> wal;
  for (const auto& op : fixture.ops) {
    SCOPED_TRACE(absl::StrCat(op.op, " ", op.stream, " ", op.id, " ", op.start_id));
    if (op.op == "open") {
      ASSERT_OK_AND_ASSIGN(wal, Wal::Open(options));
    } else if (op.op == "close") {
      ASSERT_OK(wal->Close());
      wal.reset();
    } else if (op.op == "append") {
      const std::string& entry = fixture.streams.at(op.stream).entries.count(op.id)
                                     ? fixture.streams.at(op.stream).entries.at(op.id)
                                     : fixture.streams.at(op.stream).deleted_entries.at(op.id);
      ASSERT_THAT(wal->Append(op.stream, entry), IsOkAndHolds(op.id));
    } else if (op.op == "append_batch" || op.op == "txn_commit") {
      const FixtureStream& stream = fixture.streams.at(op.stream);
      TxnWriter txn = wal->NewTransaction(op.stream);
      for (uint64_t id = op.start_id; id < op.start_id + op.count; ++id) {
        ASSERT_OK(txn.Add(stream.entries.count(id) ? stream.entries.at(id)
                                                   : stream.deleted_entries.at(id)));
      }
      ASSERT_OK_AND_ASSIGN(const IdRange ids, txn.Commit());
      if (op.count > 0) {
        EXPECT_EQ(ids, (IdRange{op.start_id, op.start_id + op.count}));
      }
    } else if (op.op == "truncate") {
      ASSERT_OK(wal->Truncate(op.stream, op.safe_id));
    } else {
      FAIL() << "unknown op " << op.op;
    }
  }
}

// Issue 8 section 7, the limit FORMAT.md states: ironwal 0.6's frames carry no stream
// identity, so swapping two streams' only segments (same start ID, IDs that still fit)
// cannot be detected in a directory written by 0.6. Each stream then reads as the other.
// (Segments this library writes carry a stream tag: tests/wal/wal_frame_stamp_test.cc.)
TEST(FixtureSwapTest, SegmentsSwappedBetweenStreamsOfIronwal06AreUndetectable) {
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture("basic"));
  Env* env = Env::Default();
  const std::string root = TempDir("basic-swapped");
  CopyTree(env, fixture.root, root);
  const std::string users = JoinPath(JoinPath(root, "users"), SegmentFileName(0));
  const std::string empty = JoinPath(JoinPath(root, "empty-payloads"), SegmentFileName(0));
  ASSERT_OK_AND_ASSIGN(const std::string users_bytes, ReadFileToString(env, users));
  ASSERT_OK_AND_ASSIGN(const std::string empty_bytes, ReadFileToString(env, empty));
  ASSERT_OK(WriteFileAtomically(env, users, empty_bytes));
  ASSERT_OK(WriteFileAtomically(env, empty, users_bytes));
  WalOptions options = FixtureOptions(fixture);
  options.root = root;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  const FixtureStream& empty_stream = fixture.streams.at("empty-payloads");
  const FixtureStream& users_stream = fixture.streams.at("users");
  EXPECT_THAT(wal->Get("users", 0), IsOkAndHolds(empty_stream.entries.at(0)));
  EXPECT_THAT(wal->Get("empty-payloads", 0), IsOkAndHolds(users_stream.entries.at(0)));
}

class FixtureReplayTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureReplayTest, WritesWhatIronwal06Wrote) {
  ASSERT_OK_AND_ASSIGN(const Fixture fixture, LoadFixture(GetParam()));
  MemEnv env;
  Replay(fixture, &env, "/replay");
  if (HasFatalFailure()) return;

  const bool byte_identical = GetParam() == "basic" || GetParam() == "txn";
  for (const auto& [key, stream] : fixture.streams) {
    SCOPED_TRACE("stream " + key);
    const std::string dir = JoinPath("/replay", stream.dir);
    ASSERT_OK_AND_ASSIGN(const std::string idx,
                         ReadFileToString(&env, JoinPath(dir, format::kSegmentIndexFileName)));
    if (byte_identical) {
      for (const auto& segment : stream.segments) {
        ASSERT_OK_AND_ASSIGN(const std::string ours,
                             ReadFileToString(&env, JoinPath(dir, segment.file)));
        ASSERT_OK_AND_ASSIGN(
            const std::string theirs,
            ReadFileToString(Env::Default(),
                             JoinPath(JoinPath(fixture.root, stream.dir), segment.file)));
        EXPECT_TRUE(WithoutStamps(ours, StreamTag(stream.dir)) == theirs)
            << segment.file << " differs";
      }
      ASSERT_OK_AND_ASSIGN(
          const std::string theirs_idx,
          ReadFileToString(Env::Default(), JoinPath(JoinPath(fixture.root, stream.dir),
                                                    format::kSegmentIndexFileName)));
      EXPECT_EQ(idx, theirs_idx);
      EXPECT_FALSE(env.GetFileSize(JoinPath(dir, format::kHeadStateFileName)).ok());
    }
    if (GetParam() == "compressed") {
      // Same frames, same codecs; LZ4 bytes may differ, their decoded entries may not.
      ASSERT_EQ(stream.segments.size(), 1u);
      ASSERT_OK_AND_ASSIGN(const std::string ours,
                           ReadFileToString(&env, JoinPath(dir, stream.segments[0].file)));
      uint64_t offset = 0;
      for (const auto& expected : stream.segments[0].frames) {
        ASSERT_OK_AND_ASSIGN(const FrameHeader h,
                             DecodeFrameHeader(absl::string_view(ours).substr(offset)));
        EXPECT_EQ(h.start_id, expected.start_id);
        EXPECT_EQ(h.entry_count, expected.count);
        EXPECT_EQ(static_cast<int>(h.codec), expected.type) << "frame at " << offset;
        EXPECT_EQ(h.uncompressed_size, expected.uncompressed_size);
        if (expected.type == 0) {
          EXPECT_EQ(h.crc, expected.crc32);
        }
        offset += h.frame_size();
      }
      EXPECT_EQ(offset, ours.size());
    }
  }

  // Whatever the layout, the replay reads back exactly the manifest's entries.
  WalOptions options = FixtureOptions(fixture);
  options.env = &env;
  options.root = "/replay";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Wal> wal, Wal::Open(options));
  for (const auto& [key, stream] : fixture.streams) {
    ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal->GetStreamInfo(key));
    EXPECT_EQ(info.next_id, stream.next_id);
    for (const auto& [id, bytes] : stream.entries) {
      ASSERT_THAT(wal->Get(key, id), IsOkAndHolds(bytes)) << "id " << id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureReplayTest, ::testing::ValuesIn(FixtureNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ironwal
