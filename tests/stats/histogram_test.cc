// The statistics' histogram buckets and percentiles (ironwal/stats/histogram.h,
// recorder.h): every value lands in the bucket whose bounds hold it, buckets tile the
// uint64 range, and percentiles of known data are within a bucket's width of the truth.
#include "ironwal/stats/histogram.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/stats/recorder.h"
#include "ironwal/stats/statistics.h"

namespace ironwal {
namespace internal {
namespace {

TEST(HistogramBucketsTest, BucketsTileTheRange) {
  EXPECT_EQ(HistogramBuckets::Of(0), 0);
  EXPECT_EQ(HistogramBuckets::Upper(0), 0u);
  for (int b = 0; b + 1 < HistogramBuckets::kCount; ++b) {
    const uint64_t upper = HistogramBuckets::Upper(b);
    ASSERT_EQ(HistogramBuckets::Of(upper), b) << upper;
    ASSERT_EQ(HistogramBuckets::Of(upper + 1), b + 1) << upper;
  }
  EXPECT_EQ(HistogramBuckets::Upper(HistogramBuckets::kCount - 1), UINT64_MAX);
  EXPECT_EQ(HistogramBuckets::Of(UINT64_MAX), HistogramBuckets::kCount - 1);
}

TEST(HistogramBucketsTest, UpperBoundIsWithinAnEighth) {
  for (uint64_t v = 1; v < (uint64_t{1} << 40); v = v * 3 + 1) {
    const uint64_t upper = HistogramBuckets::Upper(HistogramBuckets::Of(v));
    EXPECT_GE(upper, v);
    EXPECT_LE(upper - v, v / 8) << v;
  }
}

TEST(StatsRecorderTest, PercentilesOfKnownValues) {
  StatsRecorder recorder;
  for (uint64_t v = 1; v <= 1000; ++v) recorder.Record(StatsRecorder::kAppendMicros, v);
  const HistogramSnapshot h = recorder.Snapshot().append_micros;
  EXPECT_EQ(h.count, 1000u);
  EXPECT_EQ(h.sum, 500500u);
  EXPECT_EQ(h.min, 1u);
  EXPECT_EQ(h.max, 1000u);
  // The bucket holding the true value, reported by its upper bound.
  EXPECT_EQ(h.p50, HistogramBuckets::Upper(HistogramBuckets::Of(500)));
  EXPECT_EQ(h.p99, 1000u);  // 990's bucket ends at 1023: clamped to the largest value
  EXPECT_EQ(HistogramBuckets::Upper(HistogramBuckets::Of(990)), 1023u);
  EXPECT_EQ(h.p999, 1000u);
  EXPECT_DOUBLE_EQ(h.Average(), 500.5);
  EXPECT_EQ(recorder.Snapshot().fdatasync_micros.count, 0u);
}

TEST(StatsRecorderTest, CountersFromManyThreadsAddUpAndReset) {
  StatsRecorder recorder;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&recorder] {
      for (int i = 0; i < 10000; ++i) {
        recorder.Add(StatsRecorder::kAppends);
        recorder.Add(StatsRecorder::kEntriesAppended, 1);
        recorder.Add(StatsRecorder::kFrameBytesWritten, 32 + 4 + 3);  // a raw frame of 3 bytes
        recorder.Record(StatsRecorder::kGroupSize, 2);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Statistics s = recorder.Snapshot();
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.appends, 40000u);
  EXPECT_EQ(s.entries_appended, 40000u);
  EXPECT_EQ(s.logical_bytes_appended, 120000u);  // derived from the frames' bytes
  EXPECT_EQ(s.group_size.count, 40000u);
  EXPECT_EQ(s.group_size.p999, 2u);
  recorder.Reset();
  s = recorder.Snapshot();
  EXPECT_EQ(s.appends, 0u);
  EXPECT_EQ(s.group_size.count, 0u);
  EXPECT_EQ(s.group_size.max, 0u);
  EXPECT_EQ(s.group_size.min, 0u);
}

TEST(StatsRecorderTest, AThreadsShardOutlivesItAndIsReused) {
  StatsRecorder recorder;
  // 50 threads one after another: each count stays, and each new thread takes over the
  // shard of the one that ended, so one shard is ever made.
  for (int t = 0; t < 50; ++t) {
    std::thread([&recorder, t] {
      recorder.Add(StatsRecorder::kAppends);
      recorder.Record(StatsRecorder::kGroupSize, static_cast<uint64_t>(t));
    }).join();
  }
  const Statistics s = recorder.Snapshot();
  EXPECT_EQ(s.appends, 50u);
  EXPECT_EQ(s.group_size.count, 50u);
  EXPECT_EQ(s.group_size.min, 0u);
  EXPECT_EQ(s.group_size.max, 49u);
  EXPECT_EQ(recorder.shard_count(), 1u);
}

TEST(StatsRecorderTest, ThreadsOutliveRecordersAndUseMany) {
  // A thread records into recorders that are destroyed before it ends, and into more than
  // it keeps track of at once (ASan would see a shard given back to a dead recorder).
  std::thread([] {
    for (int i = 0; i < 20; ++i) {
      StatsRecorder a;
      StatsRecorder b;
      for (int n = 0; n < 3; ++n) {  // alternating: the one-entry cache misses each time
        a.Add(StatsRecorder::kGets);
        b.Add(StatsRecorder::kScans);
      }
      EXPECT_EQ(a.Snapshot().gets, 3u);
      EXPECT_EQ(b.Snapshot().scans, 3u);
      EXPECT_EQ(a.shard_count(), 1u);
      EXPECT_EQ(b.shard_count(), 1u);
    }
  }).join();
  // A recorder that outlives a thread gets its shard back; a new recorder starts at zero
  // even if it reuses a dead one's address.
  StatsRecorder kept;
  std::thread([&kept] { kept.Add(StatsRecorder::kGets, 2); }).join();
  kept.Add(StatsRecorder::kGets);  // this thread takes over the shard given back
  EXPECT_EQ(kept.Snapshot().gets, 3u);
  EXPECT_EQ(kept.shard_count(), 1u);
}

TEST(StatsRecorderTest, GroupsOfOneFoldIntoTheGroupSizeHistogram) {
  StatsRecorder recorder;
  for (int i = 0; i < 3; ++i) recorder.Mine().RecordGroup(1);
  recorder.Mine().RecordGroup(4);
  Statistics s = recorder.Snapshot();
  EXPECT_EQ(s.write_groups, 4u);
  EXPECT_EQ(s.group_size.count, 4u);
  EXPECT_EQ(s.group_size.sum, 7u);
  EXPECT_EQ(s.group_size.min, 1u);
  EXPECT_EQ(s.group_size.max, 4u);
  EXPECT_EQ(s.group_size.p50, 1u);
  EXPECT_EQ(s.group_size.p999, 4u);
  recorder.Reset();
  recorder.Mine().RecordGroup(1);  // ones only
  s = recorder.Snapshot();
  EXPECT_EQ(s.group_size.count, 1u);
  EXPECT_EQ(s.group_size.min, 1u);
  EXPECT_EQ(s.group_size.max, 1u);
  EXPECT_EQ(s.group_size.p99, 1u);
}

TEST(StatisticsTest, ToStringNamesEveryCounter) {
  Statistics s;
  s.enabled = true;
  s.fdatasyncs = 7;
  s.append_micros.count = 2;
  const std::string text = s.ToString();
  EXPECT_NE(text.find("fdatasyncs 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("append_micros count=2"), std::string::npos) << text;
  EXPECT_NE(text.find("poisonings 0\n"), std::string::npos) << text;
}

// Snapshot sums counters that their writers update one at a time, without a lock
// (recorder.h): a stream publishes a write group as kAppends, kEntriesAppended, then
// kFrameBytesWritten (and kFramesLz4 after kAppends; stream.cc), and Snapshot reads them in
// enum order. So a snapshot racing a publish can see a group's counts without its bytes,
// or (its kAppends read before the publish, its kFramesLz4 after) more LZ4 frames than
// frames. Here the counters hold exactly what such a snapshot reads: the derived fields
// (logical_bytes_appended, frames_raw) stop at 0 instead of wrapping to nearly 2^64.
TEST(StatsRecorderTest, ASnapshotOfAPartlyCountedGroupNeverUnderflows) {
  StatsRecorder recorder;
  StatsRecorder::Counters* stream = recorder.NewCounters();
  // The stream's first group: 2 appends of 3 entries (5 payload bytes) in all, counted...
  stream->Add(StatsRecorder::kAppends, 2);
  stream->Add(StatsRecorder::kEntriesAppended, 3);
  Statistics s = recorder.Snapshot();  // ... before its bytes.
  EXPECT_EQ(s.appends, 2u);
  EXPECT_EQ(s.frame_bytes_written, 0u);
  EXPECT_EQ(s.logical_bytes_appended, 0u) << "the group's framing exceeds the bytes seen";
  EXPECT_EQ(s.frames_raw, 2u);
  stream->Add(StatsRecorder::kFrameBytesWritten, 2 * 32 + 3 * 4 + 5);
  s = recorder.Snapshot();
  EXPECT_EQ(s.logical_bytes_appended, 5u) << "all counted: exact again";

  // A later group of 1 append (7 bytes), counted but its bytes not yet: the framing seen
  // (3 x 32 + 4 x 4 = 112) exceeds the bytes seen (81), so 0: below any state the stream
  // was in (5 bytes, then 12), but never wrapped.
  stream->Add(StatsRecorder::kAppends, 1);
  stream->Add(StatsRecorder::kEntriesAppended, 1);
  s = recorder.Snapshot();
  EXPECT_EQ(s.logical_bytes_appended, 0u);
  stream->Add(StatsRecorder::kFrameBytesWritten, 32 + 4 + 7);
  EXPECT_EQ(recorder.Snapshot().logical_bytes_appended, 12u);

  // LZ4 frames of a group whose kAppends the snapshot read before the group was counted:
  // more LZ4 frames than frames.
  StatsRecorder lz4;
  StatsRecorder::Counters* other = lz4.NewCounters();
  other->Add(StatsRecorder::kAppends, 1);
  other->Add(StatsRecorder::kFramesLz4, 2);
  s = lz4.Snapshot();
  EXPECT_EQ(s.frames_written, 1u);
  EXPECT_EQ(s.frames_lz4, 2u);
  EXPECT_EQ(s.frames_raw, 0u);
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
