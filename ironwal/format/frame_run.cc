#include "ironwal/format/frame_run.h"

#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/util/coding.h"

namespace ironwal {
namespace internal {
namespace {

// Appends the entries of a raw entry block holding `count` of them to `*entries`: true
// exactly when SplitEntries(block, count, ...) would succeed. On false `*entries` may hold
// some of them (the caller drops them).
bool AppendEntries(absl::string_view block, uint32_t count,
                   std::vector<absl::string_view>* entries) {
  const char* p = block.data();
  size_t left = block.size();
  for (uint32_t i = 0; i < count; ++i) {
    if (left < format::kEntryLengthSize) return false;
    const uint32_t length = DecodeFixed32(p);
    left -= format::kEntryLengthSize;
    if (length > left) return false;
    entries->emplace_back(p + format::kEntryLengthSize, length);
    p += format::kEntryLengthSize + length;
    left -= length;
  }
  return left == 0;
}

}  // namespace

RawRun TakeRawRun(absl::string_view span, uint64_t id, uint64_t stop_id, size_t max_entries,
                  std::vector<absl::string_view>* entries) {
  entries->clear();
  RawRun run;
  const char* p = span.data();
  uint64_t left = span.size();
  uint64_t next = id;  // the ID the next frame must hold
  while (left >= format::kFrameHeaderSize && next < stop_id && entries->size() < max_entries) {
    FrameHeader header;
    if (!TryDecodeFrameHeader(p, &header) || header.codec != format::Codec::kRaw) break;
    const uint64_t size = header.frame_size();
    if (size > left) break;
    const bool holds = run.bytes == 0 ? header.start_id <= next && next < header.end_id()
                                      : header.start_id == next;
    if (!holds || !FrameMatchesInPlace(header, p)) break;
    const absl::string_view payload(p + format::kFrameHeaderSize, header.disk_size);
    if (header.entry_count == 1) {
      absl::string_view entry;
      if (!SingleEntry(payload, &entry)) break;
      entries->push_back(entry);
    } else {
      const size_t before = entries->size();
      if (!AppendEntries(payload, header.entry_count, entries)) {
        entries->resize(before);
        break;
      }
    }
    if (run.bytes == 0) run.start_id = header.start_id;
    run.bytes += size;
    next = header.end_id();
    p += size;
    left -= size;
  }
  return run;
}

}  // namespace internal
}  // namespace ironwal
