#include "ironwal/format/names.h"

#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

namespace ironwal {
namespace internal {

std::string SegmentFileName(uint64_t start_id) {
  return absl::StrFormat("%020u%s", start_id, format::kSegmentSuffix);
}

namespace {

// The start ID of "<20 digits><suffix>"; nullopt for anything else.
std::optional<uint64_t> ParseIdFileName(absl::string_view name, absl::string_view suffix) {
  if (name.size() != format::kSegmentIdDigits + suffix.size()) return std::nullopt;
  if (name.substr(format::kSegmentIdDigits) != suffix) return std::nullopt;
  uint64_t id = 0;
  for (size_t i = 0; i < format::kSegmentIdDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (id > (UINT64_MAX - digit) / 10) return std::nullopt;  // Past u64: not ours.
    id = id * 10 + digit;
  }
  return id;
}

}  // namespace

std::optional<uint64_t> ParseSegmentFileName(absl::string_view name) {
  return ParseIdFileName(name, format::kSegmentSuffix);
}

std::string FrameIndexFileName(uint64_t segment_start_id) {
  return absl::StrFormat("%020u%s", segment_start_id, format::kFrameIndexSuffix);
}

namespace {

// Length of the UTF-8 sequence starting at s[0] and its code point, or 0 when invalid.
size_t DecodeUtf8(absl::string_view s, uint32_t* code_point) {
  const uint8_t b0 = static_cast<uint8_t>(s[0]);
  size_t len;
  uint32_t cp;
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return len;
}

// Unicode White_Space, which Rust's str::trim() strips.
bool IsUnicodeWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

bool IsKeptAscii(uint32_t cp) {
  return cp < 0x80 && (absl::ascii_isalnum(static_cast<unsigned char>(cp)) || cp == '-' ||
                       cp == '_' || cp == '.');
}

}  // namespace

absl::StatusOr<std::string> StreamDirName(absl::string_view key) {
  if (key.size() > format::kMaxStreamKeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream key of ", key.size(), " bytes exceeds the limit of ", format::kMaxStreamKeySize));
  }
  std::string dir;
  dir.reserve(key.size());
  bool all_whitespace = true;
  for (size_t pos = 0; pos < key.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(key.substr(pos), &cp);
    if (len == 0) {  // Not UTF-8: one '_' for this byte.
      len = 1;
      cp = 0xFFFD;
    }
    all_whitespace = all_whitespace && IsUnicodeWhitespace(cp);
    dir.push_back(IsKeptAscii(cp) ? static_cast<char>(cp) : '_');
    pos += len;
  }
  if (all_whitespace) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream key '", absl::CEscape(key), "' is empty or only whitespace"));
  }
  if (dir == "." || dir == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("stream key '", absl::CEscape(key), "' names directory '", dir, "'"));
  }
  if (dir.size() > format::kMaxStreamDirNameSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream key '", absl::CEscape(key.substr(0, 40)), "...' maps to a directory name of ",
        dir.size(), " bytes; the limit is ", format::kMaxStreamDirNameSize));
  }
  if (dir == format::kLockFileName) {
    return absl::InvalidArgumentError(absl::StrCat("stream key '", absl::CEscape(key),
                                                   "' maps to '", dir, "', the root's lock file"));
  }
  return dir;
}

StreamFile ClassifyStreamFile(absl::string_view name) {
  StreamFile file;
  if (std::optional<uint64_t> id = ParseSegmentFileName(name)) {
    file.kind = StreamFileKind::kSegment;
    file.segment_start_id = *id;
  } else if (name == format::kSegmentIndexFileName) {
    file.kind = StreamFileKind::kSegmentIndex;
  } else if (name == format::kHeadStateFileName) {
    file.kind = StreamFileKind::kHeadState;
  } else if (name == format::kStreamKeyFileName) {
    file.kind = StreamFileKind::kStreamKey;
  } else if (name == format::kDurablePosFileName) {
    file.kind = StreamFileKind::kDurablePos;
  } else if (name == format::kTruncateIntentFileName) {
    file.kind = StreamFileKind::kTruncateIntent;
  } else if (name == format::kStreamMetadataFileName) {
    file.kind = StreamFileKind::kMetadata;
  } else if (name == format::kFirstIdFileName) {
    file.kind = StreamFileKind::kFirstId;
  } else if (name == format::kLogIntentFileName) {
    file.kind = StreamFileKind::kLogIntent;
  } else if (name == format::kLostIdsFileName) {
    file.kind = StreamFileKind::kLostIds;
  } else if (name == format::kSealedSizesFileName) {
    file.kind = StreamFileKind::kSealedSizes;
  } else if (std::optional<uint64_t> start = ParseIdFileName(name, format::kFrameIndexSuffix)) {
    file.kind = StreamFileKind::kFrameIndex;
    file.segment_start_id = *start;
  } else if (absl::EndsWith(name, format::kTempSuffix)) {
    file.kind = StreamFileKind::kTemp;
  } else if (absl::StrContains(name, format::kQuarantineInfix)) {
    file.kind = StreamFileKind::kQuarantine;
  }
  return file;
}

StreamListing ListStreamFiles(const std::vector<std::string>& names) {
  std::vector<StreamDirEntry> entries;
  entries.reserve(names.size());
  for (const std::string& name : names) entries.push_back({name, true});
  return ListStreamEntries(entries);
}

StreamListing ListStreamEntries(const std::vector<StreamDirEntry>& entries) {
  StreamListing listing;
  for (const StreamDirEntry& entry : entries) {
    const std::string& name = entry.name;
    const StreamFile file = ClassifyStreamFile(name);
    if (file.kind != StreamFileKind::kOther && file.kind != StreamFileKind::kTemp &&
        file.kind != StreamFileKind::kQuarantine && file.kind != StreamFileKind::kFrameIndex) {
      listing.is_stream = true;
    }
    // (A frame index is only a hint, which a reader opens only if it is a regular file: one
    // that is not is ignored, not refused.)
    if (!entry.regular && file.kind != StreamFileKind::kOther &&
        file.kind != StreamFileKind::kFrameIndex) {
      listing.not_files.push_back(name);
      continue;
    }
    switch (file.kind) {
      case StreamFileKind::kSegment:
        listing.segments[file.segment_start_id] = name;
        break;
      case StreamFileKind::kSegmentIndex:
        listing.has_index = true;
        break;
      case StreamFileKind::kHeadState:
        listing.has_head = true;
        break;
      case StreamFileKind::kStreamKey:
        listing.has_key = true;
        break;
      case StreamFileKind::kDurablePos:
        listing.has_durable_pos = true;
        break;
      case StreamFileKind::kTruncateIntent:
        listing.has_truncate_intent = true;
        break;
      case StreamFileKind::kMetadata:
        listing.has_metadata = true;
        break;
      case StreamFileKind::kFirstId:
        listing.has_first_id = true;
        break;
      case StreamFileKind::kLogIntent:
        listing.has_log_intent = true;
        break;
      case StreamFileKind::kLostIds:
        listing.has_lost_ids = true;
        break;
      case StreamFileKind::kSealedSizes:
        listing.has_sealed_sizes = true;
        break;
      case StreamFileKind::kFrameIndex:
        if (entry.regular) listing.frame_indexes[file.segment_start_id] = name;
        break;
      case StreamFileKind::kTemp:
        listing.temp_files.push_back(name);
        break;
      case StreamFileKind::kQuarantine:
        listing.quarantine_files.push_back(name);
        break;
      case StreamFileKind::kOther:
        listing.other_files.push_back(name);
        break;
    }
  }
  return listing;
}

std::string EncodeHeadState(uint64_t active_segment_start_id) {
  const std::string name = SegmentFileName(active_segment_start_id);
  std::string out;
  out.push_back(static_cast<char>(format::kHeadStateVersion));
  out.push_back(static_cast<char>(name.size()));
  out += name;
  return out;
}

absl::StatusOr<uint64_t> DecodeHeadState(absl::string_view contents) {
  if (contents.size() < format::kHeadStateHeaderSize) {
    return absl::DataLossError(absl::StrCat("head.state of ", contents.size(), " bytes"));
  }
  const uint8_t version = static_cast<uint8_t>(contents[0]);
  if (version != format::kHeadStateVersion) {
    return absl::DataLossError(absl::StrCat("head.state version ", version));
  }
  const uint8_t length = static_cast<uint8_t>(contents[1]);
  if (length == 0 || contents.size() != format::kHeadStateHeaderSize + length) {
    return absl::DataLossError(absl::StrCat("head.state name length ", length, " in a file of ",
                                            contents.size(), " bytes"));
  }
  const absl::string_view name = contents.substr(format::kHeadStateHeaderSize);
  std::optional<uint64_t> id = ParseSegmentFileName(name);
  if (!id.has_value()) {
    return absl::DataLossError(
        absl::StrCat("head.state names '", absl::CEscape(name), "', not a segment file"));
  }
  return *id;
}

std::string EncodeSegmentIndex(const std::vector<uint64_t>& start_ids) {
  std::string out;
  out.reserve(start_ids.size() * format::kSegmentIndexEntrySize);
  for (uint64_t id : start_ids) PutFixed64(&out, id);
  return out;
}

absl::StatusOr<std::vector<uint64_t>> DecodeSegmentIndex(absl::string_view contents) {
  if (contents.size() % format::kSegmentIndexEntrySize != 0) {
    return absl::DataLossError(
        absl::StrCat("segments.idx of ", contents.size(), " bytes is not a multiple of 8"));
  }
  std::vector<uint64_t> ids;
  ids.reserve(contents.size() / format::kSegmentIndexEntrySize);
  for (size_t pos = 0; pos < contents.size(); pos += format::kSegmentIndexEntrySize) {
    const uint64_t id = DecodeFixed64(contents.data() + pos);
    if (!ids.empty() && id < ids.back()) {
      return absl::DataLossError(
          absl::StrCat("segments.idx decreases at byte ", pos, ": ", id, " after ", ids.back()));
    }
    if (ids.empty() || id != ids.back()) ids.push_back(id);
  }
  return ids;
}

std::string EncodeTruncateIntent(uint64_t first_id) {
  std::string out(format::kTruncateIntentMagic, 4);
  PutFixed64(&out, first_id);
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<uint64_t> DecodeTruncateIntent(absl::string_view contents) {
  if (contents.size() != format::kTruncateIntentSize ||
      contents.substr(0, 4) != format::kTruncateIntentMagic) {
    return absl::DataLossError(
        absl::StrCat("truncate.intent: bad magic or size ", contents.size()));
  }
  if (Crc32(contents.substr(0, 12)) != DecodeFixed32(contents.data() + 12)) {
    return absl::DataLossError("truncate.intent: crc mismatch");
  }
  return DecodeFixed64(contents.data() + 4);
}

namespace {

using IdPairs = std::vector<std::pair<uint64_t, uint64_t>>;

// The layout sealed.sizes and lost.ids share: magic, u32 count, count x (u64, u64), CRC.
std::string EncodeIdPairs(const char* magic, const IdPairs& pairs) {
  std::string out(magic, 4);
  PutFixed32(&out, static_cast<uint32_t>(pairs.size()));
  for (const auto& [a, b] : pairs) {
    PutFixed64(&out, a);
    PutFixed64(&out, b);
  }
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<IdPairs> DecodeIdPairs(absl::string_view file, const char* magic,
                                      absl::string_view contents) {
  if (contents.size() < 12 || contents.substr(0, 4) != magic) {
    return absl::DataLossError(absl::StrCat(file, ": bad magic or size ", contents.size()));
  }
  const uint64_t n = DecodeFixed32(contents.data() + 4);
  if (contents.size() != 12 + 16 * n) {
    return absl::DataLossError(
        absl::StrCat(file, ": size ", contents.size(), " for ", n, " entries"));
  }
  const size_t body = contents.size() - 4;
  if (Crc32(contents.substr(0, body)) != DecodeFixed32(contents.data() + body)) {
    return absl::DataLossError(absl::StrCat(file, ": crc mismatch"));
  }
  IdPairs pairs;
  for (uint64_t i = 0; i < n; ++i) {
    pairs.emplace_back(DecodeFixed64(contents.data() + 8 + 16 * i),
                       DecodeFixed64(contents.data() + 16 + 16 * i));
  }
  return pairs;
}

}  // namespace

std::string EncodeFrameIndex(const FrameIndexFile& file) {
  std::string out(format::kFrameIndexMagic, 4);
  out.reserve(format::kFrameIndexHeaderSize + format::kFrameIndexEntrySize * file.frames.size() +
              4);
  PutFixed64(&out, file.start_id);
  PutFixed64(&out, file.end_id);
  PutFixed64(&out, file.segment_size);
  PutFixed32(&out, static_cast<uint32_t>(file.frames.size()));
  for (const auto& [entries, payload] : file.frames) {
    PutFixed32(&out, entries);
    PutFixed32(&out, payload);
  }
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<FrameIndexFile> DecodeFrameIndex(absl::string_view contents) {
  const auto bad = [](auto&&... what) {
    return absl::DataLossError(absl::StrCat("frame index: ", what...));
  };
  constexpr size_t kHeader = format::kFrameIndexHeaderSize;
  if (contents.size() < kHeader + 4 || contents.substr(0, 4) != format::kFrameIndexMagic) {
    return bad("bad magic or size ", contents.size());
  }
  const uint64_t n = DecodeFixed32(contents.data() + 28);
  if (n == 0 || contents.size() != kHeader + format::kFrameIndexEntrySize * n + 4) {
    return bad("size ", contents.size(), " for ", n, " frames");
  }
  const size_t body = contents.size() - 4;
  if (Crc32(contents.substr(0, body)) != DecodeFixed32(contents.data() + body)) {
    return bad("crc mismatch");
  }
  FrameIndexFile file;
  file.start_id = DecodeFixed64(contents.data() + 4);
  file.end_id = DecodeFixed64(contents.data() + 12);
  file.segment_size = DecodeFixed64(contents.data() + 20);
  file.frames.reserve(n);
  uint64_t id = file.start_id;
  uint64_t offset = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const char* entry = contents.data() + kHeader + format::kFrameIndexEntrySize * i;
    const uint32_t entries = DecodeFixed32(entry);
    const uint32_t payload = DecodeFixed32(entry + 4);
    if (entries == 0 || id > file.end_id || file.end_id - id < entries) {
      return bad("frame ", i, " of ", entries, " entries from ID ", id, " past the end ID ",
                 file.end_id);
    }
    id += entries;
    offset += format::kFrameHeaderSize + uint64_t{payload};
    file.frames.emplace_back(entries, payload);
  }
  if (id != file.end_id || offset != file.segment_size) {
    return bad("frames end at ID ", id, ", byte ", offset, "; the file says ", file.end_id, ", ",
               file.segment_size);
  }
  return file;
}

std::string EncodeSealedSizes(const std::map<uint64_t, uint64_t>& sizes) {
  return EncodeIdPairs(format::kSealedSizesMagic, IdPairs(sizes.begin(), sizes.end()));
}

absl::StatusOr<std::map<uint64_t, uint64_t>> DecodeSealedSizes(absl::string_view contents) {
  IRONWAL_ASSIGN_OR_RETURN(const IdPairs pairs, DecodeIdPairs(format::kSealedSizesFileName,
                                                              format::kSealedSizesMagic, contents));
  std::map<uint64_t, uint64_t> sizes;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (!sizes.empty() && pairs[i].first <= sizes.rbegin()->first) {
      return absl::DataLossError(absl::StrCat("sealed.sizes: entry ", i, " out of order"));
    }
    sizes.insert(pairs[i]);
  }
  return sizes;
}

std::string EncodeLostIds(const IdPairs& ranges) {
  return EncodeIdPairs(format::kLostIdsMagic, ranges);
}

absl::StatusOr<IdPairs> DecodeLostIds(absl::string_view contents) {
  IRONWAL_ASSIGN_OR_RETURN(const IdPairs ranges, DecodeIdPairs(format::kLostIdsFileName,
                                                               format::kLostIdsMagic, contents));
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].first >= ranges[i].second || (i > 0 && ranges[i].first < ranges[i - 1].second)) {
      return absl::DataLossError(absl::StrCat("lost.ids: range ", i, " [", ranges[i].first, ", ",
                                              ranges[i].second, ") is empty or out of order"));
    }
  }
  return ranges;
}

std::string EncodeStreamKey(absl::string_view key) {
  std::string out(format::kStreamKeyMagic, 4);
  out.push_back(static_cast<char>(format::kStreamKeyVersion));
  PutFixed32(&out, static_cast<uint32_t>(key.size()));
  out.append(key.data(), key.size());
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<std::string> DecodeStreamKey(absl::string_view contents) {
  constexpr size_t kFixed = format::kStreamKeyHeaderSize + format::kStreamKeyCrcSize;
  if (contents.size() < kFixed || contents.substr(0, 4) != format::kStreamKeyMagic) {
    return absl::DataLossError("stream.key: bad magic or size");
  }
  if (static_cast<uint8_t>(contents[4]) != format::kStreamKeyVersion) {
    return absl::DataLossError(
        absl::StrCat("stream.key: version ", static_cast<int>(static_cast<uint8_t>(contents[4]))));
  }
  const uint32_t length = DecodeFixed32(contents.data() + 5);
  if (length == 0 || length > format::kMaxStreamKeySize || contents.size() != kFixed + length) {
    return absl::DataLossError(
        absl::StrCat("stream.key: length ", length, " in a file of ", contents.size(), " bytes"));
  }
  const size_t crc_offset = format::kStreamKeyHeaderSize + length;
  if (Crc32(contents.substr(0, crc_offset)) != DecodeFixed32(contents.data() + crc_offset)) {
    return absl::DataLossError("stream.key: crc mismatch");
  }
  return std::string(contents.substr(format::kStreamKeyHeaderSize, length));
}

std::string EncodeDurablePos(const DurablePos& pos) {
  std::string out(format::kDurablePosMagic, 4);
  PutFixed64(&out, pos.segment_start_id);
  PutFixed64(&out, pos.offset);
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<DurablePos> DecodeDurablePos(absl::string_view contents) {
  if (contents.size() != format::kDurablePosSize ||
      contents.substr(0, 4) != format::kDurablePosMagic) {
    return absl::DataLossError(absl::StrCat("durable.pos: bad magic or size ", contents.size()));
  }
  if (Crc32(contents.substr(0, 20)) != DecodeFixed32(contents.data() + 20)) {
    return absl::DataLossError("durable.pos: crc mismatch");
  }
  DurablePos pos;
  pos.segment_start_id = DecodeFixed64(contents.data() + 4);
  pos.offset = DecodeFixed64(contents.data() + 12);
  return pos;
}

std::string EncodeStreamMetadata(absl::string_view value) {
  std::string out(format::kStreamMetadataMagic, 4);
  out.push_back(static_cast<char>(format::kStreamMetadataVersion));
  PutFixed32(&out, static_cast<uint32_t>(value.size()));
  out.append(value.data(), value.size());
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<std::string> DecodeStreamMetadata(absl::string_view contents) {
  constexpr size_t kFixed = format::kStreamMetadataHeaderSize + 4;
  if (contents.size() < kFixed || contents.substr(0, 4) != format::kStreamMetadataMagic) {
    return absl::DataLossError("stream.meta: bad magic or size");
  }
  if (static_cast<uint8_t>(contents[4]) != format::kStreamMetadataVersion) {
    return absl::DataLossError(
        absl::StrCat("stream.meta: version ", static_cast<int>(static_cast<uint8_t>(contents[4]))));
  }
  const uint32_t length = DecodeFixed32(contents.data() + 5);
  if (length > format::kMaxStreamMetadataSize || contents.size() != kFixed + length) {
    return absl::DataLossError(
        absl::StrCat("stream.meta: length ", length, " in a file of ", contents.size(), " bytes"));
  }
  const size_t crc_offset = format::kStreamMetadataHeaderSize + length;
  if (Crc32(contents.substr(0, crc_offset)) != DecodeFixed32(contents.data() + crc_offset)) {
    return absl::DataLossError("stream.meta: crc mismatch");
  }
  return std::string(contents.substr(format::kStreamMetadataHeaderSize, length));
}

std::string EncodeFirstId(uint64_t first_id) {
  std::string out(format::kFirstIdMagic, 4);
  PutFixed64(&out, first_id);
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<uint64_t> DecodeFirstId(absl::string_view contents) {
  if (contents.size() != format::kFirstIdSize || contents.substr(0, 4) != format::kFirstIdMagic) {
    return absl::DataLossError(absl::StrCat("first.id: bad magic or size ", contents.size()));
  }
  if (Crc32(contents.substr(0, 12)) != DecodeFixed32(contents.data() + 12)) {
    return absl::DataLossError("first.id: crc mismatch");
  }
  return DecodeFixed64(contents.data() + 4);
}

std::string EncodeLogIntent(const LogIntent& intent) {
  std::string out(format::kLogIntentMagic, 4);
  out.push_back(static_cast<char>(format::kLogIntentVersion));
  out.push_back(static_cast<char>(intent.kind));
  PutFixed64(&out, intent.next_id);
  PutFixed64(&out, intent.first_id);
  PutFixed64(&out, intent.segments.empty() ? 0 : intent.active_start());
  PutFixed64(&out, intent.active_size);
  out.push_back(intent.staged ? 1 : 0);
  PutFixed32(&out, static_cast<uint32_t>(intent.segments.size()));
  for (uint64_t start : intent.segments) PutFixed64(&out, start);
  PutFixed32(&out, Crc32(out));
  return out;
}

absl::StatusOr<LogIntent> DecodeLogIntent(absl::string_view contents) {
  constexpr size_t kFixed = format::kLogIntentHeaderSize + 4;
  const auto bad = [](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("log.intent: ", why));
  };
  // The first log.intent files carried lost.ids' magic: accepted (the name told them apart).
  if (contents.size() < kFixed || (contents.substr(0, 4) != format::kLogIntentMagic &&
                                   contents.substr(0, 4) != format::kLogIntentOldMagic)) {
    return bad("bad magic or size");
  }
  if (static_cast<uint8_t>(contents[4]) != format::kLogIntentVersion) {
    return bad(absl::StrCat("version ", static_cast<int>(static_cast<uint8_t>(contents[4]))));
  }
  const uint32_t count = DecodeFixed32(contents.data() + 39);
  if (count == 0 || (contents.size() - kFixed) / 8 != count ||
      (contents.size() - kFixed) % 8 != 0) {
    return bad(absl::StrCat(count, " segments in a file of ", contents.size(), " bytes"));
  }
  const size_t crc_offset = contents.size() - 4;
  if (Crc32(contents.substr(0, crc_offset)) != DecodeFixed32(contents.data() + crc_offset)) {
    return bad("crc mismatch");
  }
  LogIntent intent;
  const uint8_t kind = static_cast<uint8_t>(contents[5]);
  if (kind != 1 && kind != 2) return bad(absl::StrCat("kind ", static_cast<int>(kind)));
  intent.kind = static_cast<LogIntent::Kind>(kind);
  intent.next_id = DecodeFixed64(contents.data() + 6);
  intent.first_id = DecodeFixed64(contents.data() + 14);
  const uint64_t active = DecodeFixed64(contents.data() + 22);
  intent.active_size = DecodeFixed64(contents.data() + 30);
  intent.staged = contents[38] != 0;
  for (uint32_t i = 0; i < count; ++i) {
    intent.segments.push_back(
        DecodeFixed64(contents.data() + format::kLogIntentHeaderSize + 8 * i));
    if (i > 0 && intent.segments[i] <= intent.segments[i - 1])
      return bad("start IDs not ascending");
  }
  if (intent.active_start() != active || intent.first_id > intent.next_id ||
      intent.active_start() > intent.next_id || intent.first_id < intent.segments.front()) {
    return bad("inconsistent IDs");
  }
  return intent;
}

}  // namespace internal
}  // namespace ironwal
