#include "ironwal/format/frame_run.h"

#include <algorithm>

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

namespace ironwal {
namespace internal {
namespace {

// Writes the entries of a raw entry block holding `count` of them to out[0, count): true
// exactly when SplitEntries(block, count, ...) would succeed (on false some may be written).
bool SplitInto(absl::string_view block, uint32_t count, absl::string_view* out) {
  const char* p = block.data();
  size_t left = block.size();
  for (uint32_t i = 0; i < count; ++i) {
    if (left < format::kEntryLengthSize) return false;
    const uint32_t length = DecodeFixed32(p);
    left -= format::kEntryLengthSize;
    if (length > left) return false;
    out[i] = absl::string_view(p + format::kEntryLengthSize, length);
    p += format::kEntryLengthSize + length;
    left -= length;
  }
  return left == 0;
}

}  // namespace

RawRun TakeRawRun(absl::string_view span, uint64_t id, uint64_t stop_id, size_t max_entries,
                  std::vector<absl::string_view>* entries) {
  RawRun run;
  const char* p = span.data();
  const char* const end = p + span.size();
  size_t count = 0;    // entries taken, in entries[0, count)
  uint64_t next = id;  // the ID the next frame must hold
  // Up to kChunk frames at a time: their headers, then all their CRCs in one call, then
  // their entries; the run ends at the first frame that fails any of the three.
  constexpr size_t kChunk = 64;
  Crc32Of17AndTailItem crcs[kChunk];
  uint32_t entry_counts[kChunk];
  for (;;) {
    size_t frames = 0;
    size_t total = count;  // count and the entries of the frames so far
    const char* q = p;
    uint64_t left = static_cast<uint64_t>(end - q);
    for (uint64_t at = next; frames < kChunk && left >= format::kFrameHeaderSize && at < stop_id &&
                             total < max_entries;) {
      FrameHeader header;
      if (!TryDecodeFrameHeader(q, &header) || header.codec != format::Codec::kRaw) break;
      const uint64_t size = header.frame_size();
      if (size > left) break;
      if (total == 0) {
        if (header.start_id > at || at >= header.end_id()) break;
        run.start_id = header.start_id;
      } else if (header.start_id != at) {
        break;
      }
      crcs[frames] = {q + format::kCrcCoveredBegin, q + format::kFrameHeaderSize, header.disk_size,
                      header.crc};
      entry_counts[frames++] = header.entry_count;
      total += header.entry_count;
      at = header.end_id();
      q += size;
      left -= size;
    }
    if (frames == 0) break;
    const size_t checked = Crc32Of17AndTailMatching(crcs, frames);
    if (total > entries->size()) {  // grow; never shrunk, so rare
      entries->resize(std::max<size_t>({total, 2 * entries->size(), 64}));
    }
    absl::string_view* out = entries->data();
    size_t taken = 0;
    for (; taken < checked; ++taken) {
      const absl::string_view payload(crcs[taken].tail, crcs[taken].n);
      const uint32_t n = entry_counts[taken];
      if (n == 1 ? !SingleEntry(payload, &out[count]) : !SplitInto(payload, n, &out[count])) break;
      count += n;
      p = crcs[taken].tail + crcs[taken].n;
    }
    if (taken < frames) break;
    next = run.start_id + count;
  }
  run.bytes = static_cast<uint64_t>(p - span.data());
  run.entries = count;
  return run;
}

}  // namespace internal
}  // namespace ironwal
