// File: ironwal/stats/statistics.h
//
// Statistics: a snapshot of what a Wal has done since it opened (or since the last
// Wal::ResetStatistics): counters and latency histograms, read with Wal::GetStatistics()
// at any time. WalOptions::statistics turns the recording on (the default) or off.
//
//   const ironwal::Statistics stats = wal->GetStatistics();
//   if (stats.poisonings > 0) alert(stats.ToString());
//   log(stats.append_micros.p99);
//
// Latencies are measured by the Env's clock (Env::NowMicros), so under SimEnv they are the
// simulated time. Histograms keep counts in log-linear buckets (8 per power of two), so a
// percentile is the upper bound of the bucket holding it: at most 12.5% above the truth,
// and never above the largest value recorded.
//
// Thread-safety: a value; copy it freely. Durability: memory only; nothing is written.
#ifndef IRONWAL_STATS_STATISTICS_H_
#define IRONWAL_STATS_STATISTICS_H_

#include <cstdint>
#include <string>

namespace ironwal {

// A histogram's summary.
struct HistogramSnapshot {
  uint64_t count = 0;
  uint64_t sum = 0;
  uint64_t min = 0;  // 0 when count is 0
  uint64_t max = 0;
  uint64_t p50 = 0;
  uint64_t p99 = 0;
  uint64_t p999 = 0;

  double Average() const { return count == 0 ? 0.0 : static_cast<double>(sum) / count; }
  // "count=.. avg=.. min=.. p50=.. p99=.. p999=.. max=..".
  std::string ToString() const;
};

struct Statistics {
  // False when WalOptions::statistics is off: every field below is then 0.
  bool enabled = false;

  // Writes. An append is one successful call that appended entries: Append, AppendBatch,
  // AppendBatchIf, a committed transaction (calls that write nothing are not counted).
  // Each is counted by its stream when its entries become readable, before the call
  // returns, and is one frame.
  uint64_t appends = 0;
  uint64_t append_errors = 0;  // such calls that failed (poisoned, full disk, ...)
  uint64_t entries_appended = 0;
  uint64_t logical_bytes_appended = 0;  // the entries' bytes
  // Frames published (made visible), their bytes in the segment files (headers included,
  // after compression), and how many were stored raw or LZ4-compressed.
  uint64_t frames_written = 0;
  uint64_t frame_bytes_written = 0;
  uint64_t frames_raw = 0;
  uint64_t frames_lz4 = 0;
  // Write groups: the writes one leader wrote together (group commit; kAsync: one each).
  uint64_t write_groups = 0;
  // fdatasyncs of active segments (group commits, Sync, rotations, Close); the syncs of
  // small metadata files and directories are not counted.
  uint64_t fdatasyncs = 0;
  uint64_t rotations = 0;  // new active segments started by the write path

  // Reads. gets: IDs asked for by Get and MultiGet; get_cache_hits: those Get served from
  // the frame cache (WalOptions::block_cache_size). scans: NewIterator and ReadRange calls.
  // bytes_read: entry bytes returned by Get, MultiGet, ReadRange and iterators (each entry
  // an iterator of Wal::NewIterator stops at counts once, when it gets there).
  uint64_t gets = 0;
  uint64_t get_cache_hits = 0;
  uint64_t scans = 0;
  uint64_t bytes_read = 0;

  // Recovery, by Wal::Open and Wal::RecoverStream: the streams recovered, how many of those
  // were not clean (StreamRecoveryReport::clean), the bytes cut off their active segments,
  // and the IDs recorded as lost (lost.ids).
  uint64_t streams_recovered = 0;
  uint64_t recoveries_not_clean = 0;
  uint64_t recovery_cut_bytes = 0;
  uint64_t recovery_lost_ids = 0;
  // Streams poisoned by a failed write, sync or file operation, and poisoned streams made
  // writable again by Wal::RecoverStream.
  uint64_t poisonings = 0;
  uint64_t streams_unpoisoned = 0;

  // Latencies in microseconds of successful calls: Append (single entries), and the batch
  // paths (AppendBatch, AppendBatchIf, transactions), under the Wal's sync mode (which
  // decides what they wait for); and of each fdatasync counted above.
  // kStrict and kBatchOnly time every append. kAsync times one append in 64 of each
  // stream's (its first, its 65th, ...; appends racing on one stream may be timed a little
  // more often): such an append is a memory copy, cheaper than the two clock reads that
  // would time it, so there a histogram's count is the appends timed, not `appends`; the
  // percentiles are those of the sample, and start when the stream has been found (in the
  // other modes, before).
  HistogramSnapshot append_micros;
  HistogramSnapshot append_batch_micros;
  // The same calls (single and batch together) by the sync mode they ran under: the
  // Wal's (WalOptions::sync_mode), so one Wal fills one of them; side by side they compare
  // what each mode costs (the bench, or Statistics of Wals with different modes).
  HistogramSnapshot append_strict_micros;
  HistogramSnapshot append_batch_only_micros;
  HistogramSnapshot append_async_micros;
  HistogramSnapshot fdatasync_micros;
  // Writes per write group.
  HistogramSnapshot group_size;

  // Every field, one "name value" per line, histograms on their own lines.
  std::string ToString() const;
};

}  // namespace ironwal

#endif  // IRONWAL_STATS_STATISTICS_H_
