#include "ironwal/stats/statistics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ironwal {

std::string HistogramSnapshot::ToString() const {
  return absl::StrFormat("count=%d avg=%.1f min=%d p50=%d p99=%d p999=%d max=%d", count, Average(),
                         min, p50, p99, p999, max);
}

std::string Statistics::ToString() const {
  std::string out = absl::StrCat("statistics ", enabled ? "on" : "off", "\n");
  const auto line = [&out](absl::string_view name, uint64_t value) {
    absl::StrAppend(&out, name, " ", value, "\n");
  };
  line("appends", appends);
  line("append_errors", append_errors);
  line("entries_appended", entries_appended);
  line("logical_bytes_appended", logical_bytes_appended);
  line("frames_written", frames_written);
  line("frame_bytes_written", frame_bytes_written);
  line("frames_raw", frames_raw);
  line("frames_lz4", frames_lz4);
  line("write_groups", write_groups);
  line("fdatasyncs", fdatasyncs);
  line("rotations", rotations);
  line("gets", gets);
  line("get_cache_hits", get_cache_hits);
  line("scans", scans);
  line("bytes_read", bytes_read);
  line("streams_recovered", streams_recovered);
  line("recoveries_not_clean", recoveries_not_clean);
  line("recovery_cut_bytes", recovery_cut_bytes);
  line("recovery_lost_ids", recovery_lost_ids);
  line("poisonings", poisonings);
  line("streams_unpoisoned", streams_unpoisoned);
  absl::StrAppend(&out, "append_micros ", append_micros.ToString(), "\n");
  absl::StrAppend(&out, "append_batch_micros ", append_batch_micros.ToString(), "\n");
  absl::StrAppend(&out, "append_strict_micros ", append_strict_micros.ToString(), "\n");
  absl::StrAppend(&out, "append_batch_only_micros ", append_batch_only_micros.ToString(), "\n");
  absl::StrAppend(&out, "append_async_micros ", append_async_micros.ToString(), "\n");
  absl::StrAppend(&out, "fdatasync_micros ", fdatasync_micros.ToString(), "\n");
  absl::StrAppend(&out, "group_size ", group_size.ToString(), "\n");
  return out;
}

}  // namespace ironwal
