#include "ironwal/segment/segment_scan.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

namespace ironwal {
namespace internal {

std::string ScanRowMeaning(const SegmentScan& scan) {
  switch (scan.row) {
    case 'G':
      return absl::StrCat("valid frames follow at byte ", scan.next_valid_offset.value_or(0));
    case 'H':
      return "damage in data that was synced";
    case 'I':
      return absl::StrCat("holes in unsynced data; valid frames follow at byte ",
                          scan.next_valid_offset.value_or(0));
    case 'J':
      return "this file does not hold the IDs its name says";
    case 'K':
      return absl::StrCat("damage in data that was synced: the valid frame at byte ",
                          scan.proving_frame_offset.value_or(0), " was written when bytes up to ",
                          scan.proving_frame_frontier, " had been synced");
    case 'L':
      return "this file was written for another stream";
    case 'Z':
      return "a zero tail: space written with zeros ahead of the frames, a clean end";
    default:
      return ScanOutcomeName(scan.outcome);
  }
}

namespace {

// Reads [offset, offset + n) afresh, bypassing any buffer.
absl::StatusOr<std::string> ReadFresh(const RandomAccessFile& file, uint64_t offset, size_t n) {
  std::string bytes(n, '\0');
  size_t got = 0;
  while (got < n) {
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view chunk,
                             file.Read(offset + got, n - got, &bytes[got]));
    if (chunk.empty()) break;
    if (chunk.data() != &bytes[got]) std::memcpy(&bytes[got], chunk.data(), chunk.size());
    got += chunk.size();
  }
  bytes.resize(got);
  return bytes;
}

// Whether the frame at `offset` verifies on a second, unbuffered read.
absl::StatusOr<bool> VerifiesOnReread(const RandomAccessFile& file, uint64_t offset,
                                      uint64_t frame_size) {
  IRONWAL_ASSIGN_OR_RETURN(const std::string frame, ReadFresh(file, offset, frame_size));
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(frame);
  if (!header.ok() || header->frame_size() != frame.size()) return false;
  return VerifyFramePayload(*header, absl::string_view(frame).substr(format::kFrameHeaderSize))
      .ok();
}

// The first offset in (from, size) holding a CRC-valid frame with start ID >= min_id.
absl::StatusOr<std::optional<uint64_t>> FindValidFrameAfter(const RandomAccessFile& file,
                                                            uint64_t from, uint64_t size,
                                                            uint64_t min_id) {
  constexpr size_t kChunk = 1 << 20;
  char magic[4];
  EncodeFixed32(magic, format::kFrameMagic);
  for (uint64_t base = from; base + format::kFrameHeaderSize <= size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk + 3, size - base));
    IRONWAL_ASSIGN_OR_RETURN(const std::string chunk, ReadFresh(file, base, n));
    for (size_t i = 0; i + 4 <= chunk.size(); ++i) {
      if (std::memcmp(chunk.data() + i, magic, 4) != 0) continue;
      const uint64_t at = base + i;
      if (size - at < format::kFrameHeaderSize) break;
      IRONWAL_ASSIGN_OR_RETURN(const std::string head,
                               ReadFresh(file, at, format::kFrameHeaderSize));
      absl::StatusOr<FrameHeader> header = DecodeFrameHeader(head);
      if (!header.ok() || header->start_id < min_id || header->frame_size() > size - at) continue;
      IRONWAL_ASSIGN_OR_RETURN(const bool valid, VerifiesOnReread(file, at, header->frame_size()));
      if (valid) return std::optional<uint64_t>(at);
    }
    if (n < kChunk + 3) break;
    base += kChunk;
  }
  return std::optional<uint64_t>();
}

// Whether every byte of `file` in [from, size) is zero (row Z).
absl::StatusOr<bool> ZerosToEnd(const RandomAccessFile& file, uint64_t from, uint64_t size) {
  constexpr uint64_t kChunk = 1 << 20;
  for (uint64_t at = from; at < size;) {
    const size_t n = static_cast<size_t>(std::min(kChunk, size - at));
    IRONWAL_ASSIGN_OR_RETURN(const std::string bytes, ReadFresh(file, at, n));
    if (bytes.size() != n) return false;  // the file shrank under the scan
    if (bytes.find_first_not_of('\0') != std::string::npos) return false;
    at += n;
  }
  return true;
}

// Row Z: the bytes from the end of the verified frames to the end of the file are all
// zero, and no durable frontier lies past them (that is row H).
absl::StatusOr<bool> IsZeroTail(const RandomAccessFile& file, const ScanOptions& options,
                                SegmentScan* scan) {
  if (options.durable_offset_known && scan->valid_end < options.durable_offset) return false;
  IRONWAL_ASSIGN_OR_RETURN(const bool zeros, ZerosToEnd(file, scan->valid_end, scan->file_size));
  if (!zeros) return false;
  scan->outcome = ScanOutcome::kClean;
  scan->row = 'Z';
  scan->reason = absl::StrCat("zero tail of ", scan->file_size - scan->valid_end,
                              " bytes from byte ", scan->valid_end);
  return true;
}

// The stamps (frame.h) of a segment's frames, read for one stream.
class StampTally {
 public:
  explicit StampTally(uint8_t stream_tag) : tag_(stream_tag) {}

  void Add(const FrameHeader& header, uint64_t offset) {
    if (header.reserved == 0) return;  // ironwal 0.6's frame: no information
    // One reading per frame (ProvenFrontier would read the stamp again).
    const StampReading reading = ReadFrameStamp(header, tag_);
    if (reading.kind == StampReading::Kind::kThisStream) {
      ++this_stream_;
      if (reading.frontier_distance.has_value() && *reading.frontier_distance <= offset) {
        proven_frontier_ = std::max(proven_frontier_, offset - *reading.frontier_distance);
      }
    } else if (reading.kind == StampReading::Kind::kMismatch) {
      if (mismatched_ == 0) other_tag_ = reading.implied_tag;
      if (reading.implied_tag != other_tag_) other_tags_agree_ = false;
      ++mismatched_;
    }
  }

  // Whether the frames were written for another stream: none passes this stream's check,
  // and at least two fail it the same way (one damaged stamp implies a random tag, and is
  // otherwise ignored, as a frame without a stamp).
  bool Foreign() const { return this_stream_ == 0 && mismatched_ >= 2 && other_tags_agree_; }

  std::string ForeignReason(const std::string& path) const {
    return absl::StrFormat(
        "segment %s belongs to another stream: its %d stamped frames carry stream tag 0x%02x, "
        "this stream's is 0x%02x",
        path, mismatched_, other_tag_, tag_);
  }

  uint64_t proven_frontier() const { return proven_frontier_; }

  // Adds the tally of the frames that follow these (the second half of a split scan), as
  // if they had been added here one by one.
  void Merge(const StampTally& later) {
    if (later.mismatched_ > 0) {
      if (mismatched_ == 0) other_tag_ = later.other_tag_;
      if (!later.other_tags_agree_ || later.other_tag_ != other_tag_) other_tags_agree_ = false;
    }
    this_stream_ += later.this_stream_;
    mismatched_ += later.mismatched_;
    proven_frontier_ = std::max(proven_frontier_, later.proven_frontier_);
  }

 private:
  const uint8_t tag_;
  uint64_t this_stream_ = 0;
  uint64_t mismatched_ = 0;
  uint8_t other_tag_ = 0;
  bool other_tags_agree_ = true;
  uint64_t proven_frontier_ = 0;
};

// The CRC-valid frames after a damaged offset, and what their stamps prove.
struct ValidAfter {
  std::optional<uint64_t> first;  // where the first one starts
  // The first frame whose stamp proves the durable frontier was past the damage, and the
  // frontier it proves.
  std::optional<uint64_t> proving_offset;
  uint64_t proven_frontier = 0;
};

// Walks the CRC-valid frames with start IDs >= min_id in [from, size), until one's stamp
// (for `stream_tag`) proves the durable frontier past `damage`. Runs of frames are read
// through a cursor; only between runs is the file searched for the next valid frame.
absl::StatusOr<ValidAfter> FindValidFramesAfter(const RandomAccessFile& file, uint64_t from,
                                                uint64_t size, uint64_t min_id, uint64_t damage,
                                                uint8_t stream_tag, size_t buffer_size) {
  ValidAfter found;
  for (;;) {
    IRONWAL_ASSIGN_OR_RETURN(const std::optional<uint64_t> at,
                             FindValidFrameAfter(file, from, size, min_id));
    if (!at.has_value()) return found;
    if (!found.first.has_value()) found.first = at;
    FrameCursor cursor(&file, *at, size, buffer_size);
    from = *at + 1;
    for (;;) {
      IRONWAL_ASSIGN_OR_RETURN(const FrameCursor::Item item, cursor.Next());
      if (item.kind != FrameCursor::Kind::kFrame || item.header.start_id < min_id ||
          !VerifyFramePayload(item.header, item.payload).ok()) {
        break;
      }
      const uint64_t proven = ProvenFrontier(item.header, item.offset, stream_tag);
      if (proven > damage) {
        found.proving_offset = item.offset;
        found.proven_frontier = proven;
        return found;
      }
      from = item.offset + item.header.frame_size();
    }
  }
}

// Room in `frames` for a segment of `file_size` bytes whose first frame is `frame_size`
// bytes (an estimate, at most 4 Mi frames beyond which the arrays grow as they fill:
// PublishAll gives back a reserve far too large).
void ReserveFrames(uint64_t file_size, uint64_t frame_size, OffsetIndex::Frames* frames) {
  const uint64_t estimate = file_size / std::max<uint64_t>(frame_size, 1) + 1;
  frames->Reserve(static_cast<size_t>(std::min<uint64_t>(estimate, uint64_t{1} << 22)));
}

// The scan's fast path (issue 17, W8): verifies the frames at hand in the mapping or the
// read-ahead buffer (FrameCursor::BytesAtHand: no Status, no virtual read, no cursor call
// per frame) while each decodes, fits, continues the IDs and passes its CRC, recording
// them in `frames`, `stamps` and `scan` (end_id, valid_end). Stops before the first frame
// that does not, or that is not wholly at hand, with the cursor there: Next() reports it,
// and a bad CRC is read again before it is judged, as on the slow path. The CRCs of up to
// kChunk frames are checked in one call, in place (Crc32Of17AndTailMatching: the frames lie
// whole in `hand`, which its reads stay inside).
void VerifyFramesAtHand(FrameCursor* cursor, SegmentScan* scan, OffsetIndex::Frames* frames,
                        StampTally* stamps) {
  const absl::string_view hand = cursor->BytesAtHand();
  const uint64_t base = cursor->offset();
  constexpr size_t kChunk = 64;
  FrameHeader headers[kChunk];
  Crc32Of17AndTailItem crcs[kChunk];
  size_t pos = 0;  // the verified frames' end in `hand`
  for (;;) {
    size_t count = 0;
    size_t at = pos;
    uint64_t next_id = scan->end_id;
    while (count < kChunk && hand.size() - at >= format::kFrameHeaderSize &&
           TryDecodeFrameHeader(hand.data() + at, &headers[count]) &&
           headers[count].start_id == next_id) {
      const FrameHeader& header = headers[count];
      const uint64_t size = header.frame_size();
      if (size > hand.size() - at) break;
      const char* frame = hand.data() + at;
      crcs[count++] = {frame + format::kCrcCoveredBegin, frame + format::kFrameHeaderSize,
                       header.disk_size, header.crc};
      next_id = header.end_id();
      at += static_cast<size_t>(size);
    }
    if (count == 0) break;
    const size_t matching = Crc32Of17AndTailMatching(crcs, count);
    for (size_t i = 0; i < matching; ++i) {
      const FrameHeader& header = headers[i];
      const uint64_t size = header.frame_size();
      const uint64_t offset = base + pos;
      if (frames->empty()) ReserveFrames(scan->file_size, size, frames);
      frames->Add(header.start_id, offset);
      stamps->Add(header, offset);
      scan->end_id = header.end_id();
      scan->valid_end = offset + size;
      pos += static_cast<size_t>(size);
    }
    if (matching < count) break;
  }
  cursor->Skip(pos);
}

// Verifies frames from the cursor for as long as they verify (each a whole frame before
// the cursor's limit, decoding, continuing the IDs from scan->end_id and passing its CRC),
// recording them as VerifyFramesAtHand does; stops at the first that does not, or at the
// limit, without judging it and without reading it again. Returns I/O errors only.
absl::Status VerifyWhileValid(FrameCursor* cursor, SegmentScan* scan, OffsetIndex::Frames* frames,
                              StampTally* stamps) {
  for (;;) {
    VerifyFramesAtHand(cursor, scan, frames, stamps);
    IRONWAL_ASSIGN_OR_RETURN(const FrameCursor::Item item, cursor->Next());
    if (item.kind != FrameCursor::Kind::kFrame || item.header.start_id != scan->end_id ||
        !FramePayloadMatches(item.header, item.payload)) {
      return absl::OkStatus();
    }
    if (frames->empty()) ReserveFrames(scan->file_size, item.header.frame_size(), frames);
    frames->Add(item.header.start_id, item.offset);
    stamps->Add(item.header, item.offset);
    scan->end_id = item.header.end_id();
    scan->valid_end = item.offset + item.header.frame_size();
  }
}

// How far past the middle the second walker looks for a frame to start at.
constexpr size_t kSplitSearchBytes = 64 << 10;

// The second half of a split scan (segment_scan.h): the frames verified from `begin`, the
// first offset past the middle holding a CRC-valid frame.
struct SecondHalf {
  explicit SecondHalf(uint8_t tag) : stamps(tag) {}
  uint64_t begin = 0;
  uint64_t first_id = 0;
  SegmentScan run;  // end_id and valid_end: where its verified frames end
  OffsetIndex::Frames frames;
  StampTally stamps;
};

// Where a second walker may start in `file` (of `size` bytes): the first offset in
// [from, from + kSplitSearchBytes) holding a header that decodes, a frame that ends by
// `size` and a matching CRC; with the ID it starts at. Not necessarily a frame boundary (a
// payload may hold a frame's bytes). nullopt when there is none or a read fails (the scan
// is then one walk).
std::optional<std::pair<uint64_t, uint64_t>> FindSplit(const RandomAccessFile& file, uint64_t from,
                                                       uint64_t size) {
  char magic[4];
  EncodeFixed32(magic, format::kFrameMagic);
  absl::StatusOr<std::string> window = ReadFresh(
      file, from, static_cast<size_t>(std::min<uint64_t>(kSplitSearchBytes, size - from)));
  if (!window.ok()) return std::nullopt;
  for (size_t i = 0; i + format::kFrameHeaderSize <= window->size(); ++i) {
    if (std::memcmp(window->data() + i, magic, 4) != 0) continue;
    FrameHeader header;
    if (!TryDecodeFrameHeader(window->data() + i, &header)) continue;
    const uint64_t at = from + i;
    if (header.frame_size() > size - at) continue;
    absl::StatusOr<bool> valid = VerifiesOnReread(file, at, header.frame_size());
    if (!valid.ok()) return std::nullopt;
    if (*valid) return std::make_pair(at, header.start_id);
  }
  return std::nullopt;
}

// Starts the second half of a split scan of `file` on a thread of options.env, when the
// segment is large enough and the Env runs work concurrently; nullptr otherwise. The
// thread fills `*half`, which must outlive it.
std::unique_ptr<Env::Thread> StartSecondHalf(const RandomAccessFile& file, uint64_t size,
                                             const ScanOptions& options, SecondHalf* half) {
  if (options.env == nullptr || size < kSplitScanMinBytes) return nullptr;
  const std::optional<std::pair<uint64_t, uint64_t>> split = FindSplit(file, size / 2, size);
  if (!split.has_value()) return nullptr;
  half->begin = split->first;
  half->first_id = split->second;
  half->run.file_size = size - half->begin;  // for the frames' reserve
  half->run.end_id = half->first_id;
  half->run.valid_end = half->begin;
  const size_t buffer_size = options.buffer_size;
  return options.env->StartThread([&file, size, buffer_size, half] {
    FrameCursor cursor(&file, half->begin, size, buffer_size);
    // A read error only ends this walk: the frames before it were verified, and the first
    // walk, going on from them, reads there itself (and reports the error if it persists).
    VerifyWhileValid(&cursor, &half->run, &half->frames, &half->stamps).IgnoreError();
  });
}

// The first half of a split scan: verifies frames from the segment's start up to the
// second half's beginning, waits for the second half, and takes its frames when the first
// half ends exactly where it began, with the IDs continuing. The walk goes on from
// scan->valid_end either way.
absl::Status WalkFirstHalf(const RandomAccessFile& file, const ScanOptions& options,
                           Env::Thread* thread, SecondHalf* half, SegmentScan* scan,
                           StampTally* stamps, OffsetIndex::Frames* frames) {
  FrameCursor cursor(&file, 0, half->begin, options.buffer_size);
  // The frames' reserve is for this half's bytes: the second half's frames are appended
  // as parts of their own, so room for them here would stay unused.
  const uint64_t file_size = scan->file_size;
  scan->file_size = half->begin;
  const absl::Status first = VerifyWhileValid(&cursor, scan, frames, stamps);
  scan->file_size = file_size;
  thread->Join();
  IRONWAL_RETURN_IF_ERROR(first);
  if (scan->valid_end != half->begin || scan->end_id != half->first_id || half->frames.empty()) {
    return absl::OkStatus();
  }
  frames->Append(std::move(half->frames));
  stamps->Merge(half->stamps);
  scan->end_id = half->run.end_id;
  scan->valid_end = half->run.valid_end;
  scan->split_at = half->begin;
  return absl::OkStatus();
}

// Classifies the first unverified frame at scan->valid_end (rows B-K).
absl::Status Judge(const RandomAccessFile& file, const ScanOptions& options, uint8_t stream_tag,
                   bool first_frame, char row, std::string reason, SegmentScan* scan) {
  scan->row = row;
  scan->reason = std::move(reason);
  const uint64_t x = scan->valid_end;
  if (row == 'F' && first_frame) {
    scan->row = 'J';
    scan->outcome = ScanOutcome::kWrongSegment;
    return absl::OkStatus();
  }
  IRONWAL_ASSIGN_OR_RETURN(const ValidAfter after,
                           FindValidFramesAfter(file, x + 1, scan->file_size, scan->end_id, x,
                                                stream_tag, options.buffer_size));
  scan->next_valid_offset = after.first;
  if (options.durable_offset_known && x < options.durable_offset) {
    scan->row = 'H';
    scan->outcome = ScanOutcome::kCorrupt;
  } else if (after.proving_offset.has_value()) {
    scan->row = 'K';
    scan->outcome = ScanOutcome::kCorrupt;
    scan->proving_frame_offset = after.proving_offset;
    scan->proving_frame_frontier = after.proven_frontier;
  } else if (scan->next_valid_offset.has_value() && !options.durable_offset_known) {
    scan->row = 'G';
    scan->outcome = ScanOutcome::kCorrupt;
  } else {
    if (scan->next_valid_offset.has_value()) scan->row = 'I';
    scan->outcome = ScanOutcome::kTorn;
  }
  return absl::OkStatus();
}

// ScanActiveSegment's walk and verdict (rows A-K) into `*scan_out`, whose end_id and
// valid_end describe `verified_frames` however the walk ends (even on an I/O error); the
// caller publishes them.
absl::Status WalkActiveSegment(const RandomAccessFile& file, uint64_t start_id,
                               const ScanOptions& options, uint8_t tag, StampTally* stamps,
                               OffsetIndex::Frames* verified_frames, SegmentScan* scan_out) {
  SegmentScan& scan = *scan_out;
  scan.end_id = start_id;
  IRONWAL_ASSIGN_OR_RETURN(scan.file_size, file.Size());
  SecondHalf half(tag);
  if (std::unique_ptr<Env::Thread> thread = StartSecondHalf(file, scan.file_size, options, &half)) {
    IRONWAL_RETURN_IF_ERROR(
        WalkFirstHalf(file, options, thread.get(), &half, &scan, stamps, verified_frames));
  }
  FrameCursor cursor(&file, scan.valid_end, scan.file_size, options.buffer_size);
  for (;;) {
    // Frames at hand take the fast path; the first that does not (or needs a read) is
    // reported by Next() below. X is the segment's first frame when none verified (row J).
    VerifyFramesAtHand(&cursor, &scan, verified_frames, stamps);
    const bool first = scan.valid_end == 0;
    IRONWAL_ASSIGN_OR_RETURN(FrameCursor::Item item, cursor.Next());
    if (item.kind == FrameCursor::Kind::kTruncatedHeader ||
        item.kind == FrameCursor::Kind::kBadHeader) {
      IRONWAL_ASSIGN_OR_RETURN(const bool zero_tail, IsZeroTail(file, options, &scan));
      if (zero_tail) return absl::OkStatus();  // row Z
    }
    switch (item.kind) {
      case FrameCursor::Kind::kEnd:
        if (options.durable_offset_known && scan.valid_end < options.durable_offset) {
          // Cut at a frame boundary short of the frontier: synced frames are missing.
          scan.outcome = ScanOutcome::kCorrupt;
          scan.row = 'H';
          scan.reason = absl::StrCat("the file ends at byte ", scan.valid_end,
                                     ", before the durable frontier at byte ",
                                     options.durable_offset, ": synced frames are missing");
          return absl::OkStatus();
        }
        scan.outcome = ScanOutcome::kClean;
        scan.row = 'A';
        return absl::OkStatus();
      case FrameCursor::Kind::kTruncatedHeader:
        IRONWAL_RETURN_IF_ERROR(
            Judge(file, options, tag, first, 'B',
                  absl::StrCat("header cut short: ", scan.file_size - item.offset, " of 32 bytes"),
                  &scan));
        return absl::OkStatus();
      case FrameCursor::Kind::kBadHeader:
        IRONWAL_RETURN_IF_ERROR(
            Judge(file, options, tag, first, 'C', std::string(item.problem.message()), &scan));
        return absl::OkStatus();
      case FrameCursor::Kind::kTruncatedPayload:
        IRONWAL_RETURN_IF_ERROR(Judge(
            file, options, tag, first, 'D',
            absl::StrCat("frame of ", item.header.frame_size(), " bytes runs past the end by ",
                         item.offset + item.header.frame_size() - scan.file_size, " bytes"),
            &scan));
        return absl::OkStatus();
      case FrameCursor::Kind::kFrame:
        break;
    }
    absl::Status verified = VerifyFramePayload(item.header, item.payload);
    if (!verified.ok()) {
      IRONWAL_ASSIGN_OR_RETURN(const bool second_read_ok,
                               VerifiesOnReread(file, item.offset, item.header.frame_size()));
      if (second_read_ok) verified = absl::OkStatus();
    }
    if (!verified.ok()) {
      IRONWAL_RETURN_IF_ERROR(
          Judge(file, options, tag, first, 'E', std::string(verified.message()), &scan));
      return absl::OkStatus();
    }
    if (item.header.start_id != scan.end_id) {
      IRONWAL_RETURN_IF_ERROR(Judge(file, options, tag, first, 'F',
                                    absl::StrCat("frame starts at ID ", item.header.start_id,
                                                 ", expected a frame starting at ID ", scan.end_id),
                                    &scan));
      return absl::OkStatus();
    }
    if (verified_frames->empty()) {
      ReserveFrames(scan.file_size, item.header.frame_size(), verified_frames);
    }
    verified_frames->Add(item.header.start_id, item.offset);
    stamps->Add(item.header, item.offset);
    scan.end_id = item.header.end_id();
    scan.valid_end = item.offset + item.header.frame_size();
  }
}

// Where the frames a walk collected end: one past their last ID, and their last byte.
struct WalkEnd {
  uint64_t id = 0;
  uint64_t offset = 0;
};

// IndexSealedSegment's walk: collects the frames into `frames` up to the first problem,
// and where they end into `*end`. With `check_ids` false, only the headers' decoding ends
// the walk.
absl::Status WalkSealedSegment(const RandomAccessFile& file, uint64_t start_id,
                               std::optional<uint64_t> end_id, size_t buffer_size, bool check_ids,
                               StampTally* stamps, OffsetIndex::Frames* frames, WalkEnd* end) {
  IRONWAL_ASSIGN_OR_RETURN(const uint64_t size, file.Size());
  FrameCursor cursor(&file, 0, size, buffer_size);
  uint64_t& expected = end->id;
  expected = start_id;
  for (;;) {
    IRONWAL_ASSIGN_OR_RETURN(FrameCursor::Item item, cursor.Next(/*read_payload=*/false));
    const auto where = [&] { return absl::StrCat("index ", file.path(), "@", item.offset, ": "); };
    switch (item.kind) {
      case FrameCursor::Kind::kEnd:
        if (end_id.has_value() && expected != *end_id) {
          return absl::DataLossError(absl::StrCat(where(), "sealed segment ends at ID ", expected,
                                                  ", the next segment starts at ", *end_id));
        }
        return absl::OkStatus();
      case FrameCursor::Kind::kTruncatedHeader:
        return absl::DataLossError(absl::StrCat(where(), "sealed segment ends inside a header"));
      case FrameCursor::Kind::kBadHeader:
        return absl::DataLossError(absl::StrCat(where(), item.problem.message()));
      case FrameCursor::Kind::kTruncatedPayload:
        return absl::DataLossError(absl::StrCat(where(), "sealed segment ends inside a frame"));
      case FrameCursor::Kind::kFrame:
        break;
    }
    if (check_ids && (item.header.start_id != expected ||
                      (end_id.has_value() && item.header.end_id() > *end_id))) {
      return absl::DataLossError(absl::StrCat(
          where(), "frame holds IDs [", item.header.start_id, ", ", item.header.end_id(), "), ",
          item.header.start_id != expected
              ? absl::StrCat("expected a frame starting at ID ", expected)
              : absl::StrCat("past the next segment, which starts at ID ", *end_id)));
    }
    if (frames->empty()) ReserveFrames(size, item.header.frame_size(), frames);
    frames->Add(item.header.start_id, item.offset);
    stamps->Add(item.header, item.offset);
    expected = item.header.end_id();
    end->offset = item.offset + item.header.frame_size();
  }
}

}  // namespace

absl::StatusOr<SegmentScan> ScanActiveSegment(const RandomAccessFile& file, uint64_t start_id,
                                              const ScanOptions& options, OffsetIndex* index) {
  const uint8_t tag = options.stream_tag.value_or(StreamTagOfSegment(file.path()));
  StampTally stamps(tag);
  OffsetIndex::Frames verified_frames;
  absl::StatusOr<SegmentScan> scan = SegmentScan();
  const absl::Status walked =
      WalkActiveSegment(file, start_id, options, tag, &stamps, &verified_frames, &*scan);
  const uint64_t verified_end_id = scan->end_id;
  const uint64_t verified_end_offset = scan->valid_end;
  if (!walked.ok()) scan = walked;
  // Row L: the frames verify, but they were written for another stream: nothing is
  // published. Otherwise the verified frames are, together (one lock), however the scan
  // ended.
  if (stamps.Foreign()) {
    if (!scan.ok()) return scan;
    scan->outcome = ScanOutcome::kWrongSegment;
    scan->row = 'L';
    scan->reason = stamps.ForeignReason(file.path());
    scan->valid_end = 0;
    scan->end_id = start_id;
    scan->next_valid_offset.reset();
    scan->proving_frame_offset.reset();
    scan->proving_frame_frontier = 0;
    return scan;
  }
  index->PublishAll(std::move(verified_frames), verified_end_id, verified_end_offset);
  if (scan.ok()) scan->proven_frontier = stamps.proven_frontier();
  return scan;
}

absl::StatusOr<std::optional<uint64_t>> FindNextValidFrame(const RandomAccessFile& file,
                                                           uint64_t from, uint64_t size,
                                                           uint64_t min_id) {
  return FindValidFrameAfter(file, from, size, min_id);
}

absl::Status IndexSealedSegment(const RandomAccessFile& file, uint64_t start_id,
                                std::optional<uint64_t> end_id, size_t buffer_size,
                                OffsetIndex* index) {
  StampTally stamps(StreamTagOfSegment(file.path()));
  OffsetIndex::Frames frames;
  WalkEnd end;
  const absl::Status walked = WalkSealedSegment(file, start_id, end_id, buffer_size,
                                                /*check_ids=*/true, &stamps, &frames, &end);
  // A walk that ended in damage keeps the frames before it readable, unless they are
  // another stream's.
  if (stamps.Foreign() && (walked.ok() || absl::IsDataLoss(walked))) {
    return absl::DataLossError(
        absl::StrCat("index ", file.path(), "@0: ", stamps.ForeignReason(file.path())));
  }
  index->PublishAll(std::move(frames), end.id, end.offset);
  return walked;
}

absl::Status CheckSegmentStream(const RandomAccessFile& file, size_t buffer_size) {
  StampTally stamps(StreamTagOfSegment(file.path()));
  OffsetIndex::Frames frames;
  WalkEnd end;
  const absl::Status walked = WalkSealedSegment(file, 0, std::nullopt, buffer_size,
                                                /*check_ids=*/false, &stamps, &frames, &end);
  if (!walked.ok() && !absl::IsDataLoss(walked)) return walked;
  if (!stamps.Foreign()) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("index ", file.path(), "@0: ", stamps.ForeignReason(file.path())));
}

}  // namespace internal
}  // namespace ironwal
