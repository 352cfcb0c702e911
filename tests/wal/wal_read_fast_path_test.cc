// The iterator's and Get's fast paths (single raw entry, frames already at hand, reused
// buffers) return exactly what the checked slow path returns: a stream of single-entry,
// multi-entry and LZ4 frames over several segments is read by the iterator and by Get and
// compared with a plain decode of its segment files (FrameCursor::Next, VerifyFramePayload,
// DecodePayload); and a byte changed in a single-entry frame is reported with its path and
// offset, by both. Both read strategies.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/env/sim_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/testing/file_surgery.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/wal.h"

namespace ironwal {
namespace {

using internal::DecodedPayload;
using internal::FrameCursor;
using ::ironwal::testing::IsOkAndHolds;

struct SlowFrame {
  std::string path;
  uint64_t offset = 0;
  internal::FrameHeader header;
  std::vector<std::string> entries;
};

class WalReadFastPathTest : public ::testing::TestWithParam<bool> {  // mmap?
 protected:
  WalReadFastPathTest() {
    options_.env = &env_;
    options_.root = "/wal";
    options_.read_strategy = GetParam() ? ReadStrategy::kMmap : ReadStrategy::kPread;
    options_.max_segment_size = 16 << 10;  // several segments
    options_.compression = Compression::kLz4;
    options_.min_compression_size = 256;
  }

  void Open() {
    wal_.reset();
    ASSERT_OK_AND_ASSIGN(wal_, Wal::Open(options_));
  }

  std::string StreamDir() const { return JoinPath("/wal", *internal::StreamDirName("s")); }

  // 200 appends to stream "s" of 40 random bytes each (seeded), every fourth a batch of
  // three; `values` gets the entries in ID order.
  void AppendSinglesAndBatches(uint64_t seed, std::vector<std::string>* values) {
    internal::Random rng(seed);
    for (int i = 0; i < 200; ++i) {
      std::vector<std::string> batch;
      for (uint64_t n = i % 4 == 3 ? 3 : 1; n > 0; --n) batch.push_back(rng.Bytes(40));
      std::vector<absl::string_view> views(batch.begin(), batch.end());
      ASSERT_OK(wal_->AppendBatch("s", views).status());
      values->insert(values->end(), batch.begin(), batch.end());
    }
  }

  // Every frame of every segment file of stream "s", decoded by the checked slow path (in
  // `env`, options_.env when null).
  std::vector<SlowFrame> SlowDecode(Env* env = nullptr) {
    if (env == nullptr) env = options_.env;
    std::vector<SlowFrame> frames;
    absl::StatusOr<std::vector<std::string>> names = env->GetChildren(StreamDir());
    EXPECT_OK(names.status());
    std::vector<std::pair<uint64_t, std::string>> segments;
    for (const std::string& name : *names) {
      if (auto start = internal::ParseSegmentFileName(name)) segments.emplace_back(*start, name);
    }
    std::sort(segments.begin(), segments.end());
    for (const auto& [start, name] : segments) {
      const std::string path = JoinPath(StreamDir(), name);
      auto file = env->NewRandomAccessFile(path, RandomAccessFileOptions());
      EXPECT_OK(file.status());
      const uint64_t size = *(*file)->Size();
      FrameCursor cursor(file->get(), 0, size, 4096);
      for (;;) {
        absl::StatusOr<FrameCursor::Item> item = cursor.Next();
        EXPECT_OK(item.status());
        if (!item.ok() || item->kind != FrameCursor::Kind::kFrame) break;
        EXPECT_OK(internal::VerifyFramePayload(item->header, item->payload));
        absl::StatusOr<DecodedPayload> decoded =
            internal::DecodePayload(item->header, item->payload);
        EXPECT_OK(decoded.status());
        SlowFrame frame{path, item->offset, item->header, {}};
        for (absl::string_view e : decoded->entries()) frame.entries.emplace_back(e);
        frames.push_back(std::move(frame));
      }
    }
    return frames;
  }

  // Appends a seeded mix: single entries (empty, small, past the CRC's one-pass size),
  // raw batches and compressible (LZ4) batches, interleaved.
  void AppendMix(uint64_t seed) {
    internal::Random rng(seed);
    for (int i = 0; i < 300; ++i) {
      const uint64_t kind = rng.Uniform(10);
      if (kind < 6) {
        const size_t size = kind == 0 ? 0 : kind == 1 ? 600 + rng.Uniform(400) : rng.Uniform(200);
        ASSERT_OK(wal_->Append("s", rng.Bytes(size)).status());
      } else if (kind < 9) {
        std::vector<std::string> batch;
        for (uint64_t n = 2 + rng.Uniform(6); n > 0; --n)
          batch.push_back(rng.Bytes(rng.Uniform(40)));
        std::vector<absl::string_view> views(batch.begin(), batch.end());
        ASSERT_OK(wal_->AppendBatch("s", views).status());
      } else {
        std::vector<std::string> batch(3, std::string(200, static_cast<char>('a' + i % 26)));
        std::vector<absl::string_view> views(batch.begin(), batch.end());
        ASSERT_OK(wal_->AppendBatch("s", views).status());
      }
    }
  }

  MemEnv env_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
};

TEST_P(WalReadFastPathTest, ScanAndGetReturnWhatTheSlowPathDecodes) {
  const uint64_t seed = 5;
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(AppendMix(seed));
  for (int round = 0; round < 2; ++round) {  // the active segment, then after a reopen
    SCOPED_TRACE(absl::StrCat("seed ", seed, " round ", round));
    ASSERT_OK(wal_->Flush());
    const std::vector<SlowFrame> frames = SlowDecode();
    std::vector<std::string> expected;
    int singles = 0, batches = 0, compressed = 0;
    for (const SlowFrame& f : frames) {
      ASSERT_EQ(f.header.start_id, expected.size());
      expected.insert(expected.end(), f.entries.begin(), f.entries.end());
      if (f.header.codec == internal::format::Codec::kLz4) {
        ++compressed;
      } else if (f.header.entry_count == 1) {
        ++singles;
      } else {
        ++batches;
      }
    }
    // The mix holds every kind of frame, in more than one segment.
    EXPECT_GT(singles, 10);
    EXPECT_GT(batches, 10);
    EXPECT_GT(compressed, 5);
    EXPECT_NE(frames.front().path, frames.back().path);
    for (uint64_t start : {uint64_t{0}, uint64_t{1}, uint64_t{expected.size() / 2}}) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal_->NewIterator("s", start));
      uint64_t id = start;
      for (; it->Valid(); it->Next(), ++id) {
        ASSERT_EQ(it->id(), id);
        ASSERT_LT(id, expected.size());
        ASSERT_EQ(it->value(), expected[id]) << "ID " << id;
      }
      ASSERT_OK(it->status());
      EXPECT_EQ(id, expected.size());
    }
    for (uint64_t id = 0; id < expected.size(); ++id) {
      ASSERT_OK_AND_ASSIGN(std::string value, wal_->Get("s", id));
      ASSERT_EQ(value, expected[id]) << "ID " << id;
    }
    ASSERT_OK(wal_->Close());
    ASSERT_NO_FATAL_FAILURE(Open());
  }
}

TEST_P(WalReadFastPathTest, AChangedByteInASingleEntryFrameIsReportedWithPathAndOffset) {
  options_.compression = Compression::kNone;
  ASSERT_NO_FATAL_FAILURE(Open());
  internal::Random rng(9);
  for (int i = 0; i < 200; ++i) ASSERT_OK(wal_->Append("s", rng.Bytes(100)).status());
  ASSERT_OK(wal_->Close());
  // A single-entry frame in the middle of the first (sealed) segment.
  std::vector<SlowFrame> frames = SlowDecode();
  ASSERT_GT(frames.size(), 20u);
  const SlowFrame victim = frames[10];
  ASSERT_EQ(victim.path, frames[0].path);
  ASSERT_NE(victim.path, frames.back().path);
  ASSERT_EQ(victim.header.entry_count, 1u);
  testing::FlipByte(&env_, victim.path, victim.offset + internal::format::kFrameHeaderSize + 50);
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::string where = absl::StrCat(victim.path, "@", victim.offset);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal_->NewIterator("s", 0));
  uint64_t id = 0;
  for (; it->Valid(); it->Next()) ASSERT_EQ(it->id(), id++);
  EXPECT_EQ(id, victim.header.start_id) << "every ID before the changed frame, none after";
  EXPECT_TRUE(absl::IsDataLoss(it->status())) << it->status();
  EXPECT_NE(it->status().message().find(where), absl::string_view::npos) << it->status();
  EXPECT_NE(it->status().message().find("crc"), absl::string_view::npos) << it->status();

  absl::StatusOr<std::string> got = wal_->Get("s", victim.header.start_id);
  EXPECT_TRUE(absl::IsDataLoss(got.status())) << got.status();
  EXPECT_NE(got.status().message().find(where), absl::string_view::npos) << got.status();
  EXPECT_OK(wal_->Get("s", victim.header.start_id + 1).status());
  EXPECT_OK(wal_->Get("s", victim.header.start_id - 1).status());
}

// A byte changed anywhere in a frame (its header, its payload; a single entry, a batch;
// in sealed segments): a scan from ID 0, which reaches the frame
// through the bulk path, returns every ID before it and then exactly the status the general
// path gives for it (an iterator started at the frame's own ID reads it through the general
// path first), naming the path and offset. The three stamp bytes, which no CRC covers and
// only recovery reads, are left out.
TEST_P(WalReadFastPathTest, AChangedByteAnywhereInAFrameIsReportedAsTheSlowPathReportsIt) {
  options_.compression = Compression::kNone;
  options_.max_segment_size = 4 << 10;
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::string> values;
  ASSERT_NO_FATAL_FAILURE(AppendSinglesAndBatches(21, &values));
  ASSERT_OK(wal_->Close());
  const std::vector<SlowFrame> frames = SlowDecode();
  // A single-entry frame and a batch in the middle of the first segment, and the first
  // frame of the second (the bulk path reaches it after the scan crosses segments).
  size_t second = 0;
  while (second < frames.size() && frames[second].path == frames[0].path) ++second;
  ASSERT_LT(second, frames.size());
  ASSERT_NE(frames[second].path, frames.back().path) << "the second segment is sealed";
  std::vector<SlowFrame> victims = {frames[5], frames[7], frames[second]};
  ASSERT_EQ(victims[0].header.entry_count, 1u);
  ASSERT_EQ(victims[1].header.entry_count, 3u);
  for (const SlowFrame& victim : victims) {
    const uint64_t size = victim.header.frame_size();
    for (uint64_t at = 0; at < size; ++at) {
      if (at >= internal::format::kReservedOffset && at < internal::format::kFrameHeaderSize) {
        continue;
      }
      SCOPED_TRACE(absl::StrCat(victim.path, "@", victim.offset, " byte ", at));
      testing::FlipByte(&env_, victim.path, victim.offset + at, 0x20);
      ASSERT_NO_FATAL_FAILURE(Open());
      // The general path's verdict on the victim.
      absl::Status slow;
      absl::StatusOr<std::unique_ptr<Iterator>> at_victim =
          wal_->NewIterator("s", victim.header.start_id);
      if (!at_victim.ok()) {
        slow = at_victim.status();
      } else {
        for (; (*at_victim)->Valid(); (*at_victim)->Next()) {
        }
        slow = (*at_victim)->status();
      }
      // The scan from 0.
      absl::StatusOr<std::unique_ptr<Iterator>> it = wal_->NewIterator("s", 0);
      absl::Status fast = it.status();
      uint64_t id = 0;
      if (it.ok()) {
        for (; (*it)->Valid(); (*it)->Next(), ++id) {
          ASSERT_EQ((*it)->id(), id);
          ASSERT_EQ((*it)->value(), values[id]);
        }
        fast = (*it)->status();
      }
      EXPECT_FALSE(slow.ok());
      EXPECT_EQ(fast, slow);
      if (!slow.ok() && id > 0) {
        EXPECT_EQ(id, victim.header.start_id);
      }
      EXPECT_NE(fast.message().find(victim.path), absl::string_view::npos) << fast;
      wal_.reset();
      testing::FlipByte(&env_, victim.path, victim.offset + at, 0x20);  // restored
    }
  }
}

// An iterator that tails a stream while a writer appends singles and batches returns every
// ID once, in order, with its value; at its end a Seek(next) picks up what came since.
TEST_P(WalReadFastPathTest, ATailingScanWhileAWriterAppendsReadsEveryEntry) {
  options_.compression = Compression::kNone;
  options_.max_segment_size = 8 << 10;  // the writer rotates under the reader
  ASSERT_NO_FATAL_FAILURE(Open());
  constexpr uint64_t kEntries = 3000;
  const auto value = [](uint64_t id) {
    return absl::StrCat("value-", id, std::string(id % 50, 'x'));
  };
  std::thread writer([&] {
    uint64_t id = 0;
    while (id < kEntries) {
      if (id % 5 == 4 && id + 4 <= kEntries) {
        std::vector<std::string> batch;
        for (int k = 0; k < 4; ++k) batch.push_back(value(id + k));
        std::vector<absl::string_view> views(batch.begin(), batch.end());
        ASSERT_OK(wal_->AppendBatch("s", views).status());
        id += 4;
      } else {
        ASSERT_OK(wal_->Append("s", value(id)).status());
        ++id;
      }
    }
  });
  // The stream exists once the first append returns.
  while (!wal_->GetStreamInfo("s").ok()) std::this_thread::yield();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Iterator> it, wal_->NewIterator("s", 0));
  uint64_t next = 0;
  while (next < kEntries) {
    it->Seek(next);
    for (; it->Valid(); it->Next(), ++next) {
      ASSERT_EQ(it->id(), next);
      ASSERT_EQ(it->value(), value(next));
    }
    ASSERT_OK(it->status());
    if (next < kEntries) std::this_thread::yield();
  }
  writer.join();
  EXPECT_EQ(next, kEntries);
}

// Get's fast path (a reader already cached: SegmentReader::TryReadEntry) on a frame whose
// read comes back with a bit flipped, in a sealed segment (indexed by the writer that
// sealed it, so its reader opens without a walk) and in the active one, for a single entry
// and a batch. A flip on every read: DataLoss naming the file and the frame's offset, as
// the general path reports it, and the entry again once the reads are clean. A flip on
// one read only: the general path's read gets the right bytes. Never other bytes.
TEST_P(WalReadFastPathTest, AGetThroughACachedReaderOfAFlippedFrameIsDataLossOrTheEntry) {
  SimEnv sim;
  struct CloseFirst {  // the Wal goes before the Env it uses, however the test ends
    std::unique_ptr<Wal>* wal;
    ~CloseFirst() { wal->reset(); }
  } close_first{&wal_};
  options_.env = &sim;
  options_.compression = Compression::kNone;
  options_.max_segment_size = 4 << 10;
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::string> values;
  ASSERT_NO_FATAL_FAILURE(AppendSinglesAndBatches(33, &values));
  const std::vector<SlowFrame> frames = SlowDecode(&sim);
  ASSERT_GT(frames.size(), 20u);
  ASSERT_NE(frames[6].path, frames.back().path) << "frames 6 and 7 are in a sealed segment";
  const size_t last = frames.size() - 1;
  size_t last_batch = last;
  while (last_batch > 0 && frames[last_batch].header.entry_count == 1) --last_batch;
  ASSERT_EQ(frames[last_batch].path, frames.back().path) << "a batch in the active segment";
  int data_losses = 0;
  for (const SlowFrame& victim : {frames[6], frames[7], frames[last_batch], frames[last]}) {
    const std::string where = absl::StrCat(victim.path, "@", victim.offset);
    SCOPED_TRACE(where);
    for (uint64_t id = victim.header.start_id; id < victim.header.end_id(); ++id) {
      ASSERT_THAT(wal_->Get("s", id), IsOkAndHolds(values[id]));  // its reader is cached now
      FaultRule flip;
      flip.op = SimOp::kRead;
      flip.fault = SimFault::kBitFlip;
      flip.path_pattern = victim.path;
      const int every = sim.AddFaultRule(flip);
      const uint64_t hint_hits = internal::ReaderCache::ThreadHintHits();
      absl::StatusOr<std::string> got = wal_->Get("s", id);
      EXPECT_GT(internal::ReaderCache::ThreadHintHits(), hint_hits) << "the cached reader";
      // The flipped bit is drawn from SimEnv's seed: one in the three header bytes no CRC
      // covers (the stamp, which only recovery reads) leaves the entry intact.
      if (got.ok()) {
        EXPECT_EQ(*got, values[id]);
      } else {
        ++data_losses;
        EXPECT_TRUE(absl::IsDataLoss(got.status())) << got.status();
        EXPECT_NE(got.status().message().find(where), absl::string_view::npos) << got.status();
        EXPECT_GE(sim.FaultFires(every), 3u) << "the fast path's read, the general path's two";
      }
      sim.RemoveFaultRule(every);
      ASSERT_THAT(wal_->Get("s", id), IsOkAndHolds(values[id]));

      flip.max_fires = 1;
      const int once = sim.AddFaultRule(flip);
      EXPECT_THAT(wal_->Get("s", id), IsOkAndHolds(values[id]));
      EXPECT_EQ(sim.FaultFires(once), 1u);
      sim.RemoveFaultRule(once);
    }
  }
  EXPECT_GE(data_losses, 6) << "of 8 IDs";
  ASSERT_OK(wal_->Close());
}

// Get's fast path reads through cached readers; a suffix cut replaces the files they read
// (and IDs are then written again). Every segment's reader is cached by a Get of each ID,
// then the stream is cut inside a sealed segment and inside the active one and written
// again with entries of the same sizes (so the old frames sit at the same offsets with the
// same IDs and sizes, and pass every check but the bytes): each Get returns the new bytes.
TEST_P(WalReadFastPathTest, AfterASuffixCutAndNewAppendsGetReturnsTheNewBytes) {
  options_.compression = Compression::kNone;
  options_.max_segment_size = 1 << 10;
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::string> values;
  const auto write = [&](uint64_t from, uint64_t to, const char* tag) {
    values.resize(from);
    for (uint64_t id = from; id < to; ++id) {
      values.push_back(absl::StrCat(tag, "-", 1000 + id, std::string(40, tag[0])));
      ASSERT_OK(wal_->Append("s", values.back()).status());
    }
  };
  const auto read_all = [&](const std::string& when) {
    for (uint64_t id = 0; id < values.size(); ++id) {
      ASSERT_THAT(wal_->Get("s", id), IsOkAndHolds(values[id])) << when << ", ID " << id;
    }
  };
  ASSERT_NO_FATAL_FAILURE(write(0, 100, "old"));
  ASSERT_NO_FATAL_FAILURE(read_all("before the cuts"));
  ASSERT_OK_AND_ASSIGN(StreamInfo info, wal_->GetStreamInfo("s"));
  ASSERT_GE(info.segment_count, 4u);
  ASSERT_GT(info.active_segment_start_id, 31u);
  ASSERT_OK(wal_->TruncateSuffix("s", 30));  // inside a sealed segment
  ASSERT_NO_FATAL_FAILURE(write(30, 100, "new"));
  ASSERT_NO_FATAL_FAILURE(read_all("after the cut inside a sealed segment"));
  ASSERT_OK_AND_ASSIGN(info, wal_->GetStreamInfo("s"));
  const uint64_t cut = info.active_segment_start_id + 1;
  ASSERT_LT(cut, 99u);
  ASSERT_OK(wal_->TruncateSuffix("s", cut));  // inside the active segment
  ASSERT_NO_FATAL_FAILURE(write(cut, 100, "fix"));
  ASSERT_NO_FATAL_FAILURE(read_all("after the cut inside the active segment"));
}

INSTANTIATE_TEST_SUITE_P(Strategies, WalReadFastPathTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Mmap" : "Pread"; });

}  // namespace
}  // namespace ironwal
