#include "ironwal/segment/segment_reader.h"

#include <cstring>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"
#include "ironwal/segment/segment_scan.h"

namespace ironwal {
namespace internal {

absl::StatusOr<absl::string_view> VerifiedFrame::Entry(uint64_t id) {
  if (id < header_.start_id || id >= header_.end_id()) {
    return absl::OutOfRangeError(absl::StrCat("ID ", id, " is not in frame [", header_.start_id,
                                              ", ", header_.end_id(), ")"));
  }
  const uint64_t index = id - header_.start_id;
  if (header_.codec == format::Codec::kRaw && !decoded_.has_value()) {
    absl::string_view single;
    if (header_.entry_count == 1 && SingleEntry(payload_, &single)) return single;
    return RawEntryAt(payload_, header_.entry_count, index);
  }
  IRONWAL_ASSIGN_OR_RETURN(const DecodedPayload* decoded, Decode());
  return decoded->EntryAt(index);
}

absl::StatusOr<const DecodedPayload*> VerifiedFrame::Decode() {
  if (!decoded_.has_value()) {
    IRONWAL_ASSIGN_OR_RETURN(DecodedPayload decoded, DecodePayload(header_, payload_));
    decoded_ = std::move(decoded);
  }
  return &*decoded_;
}

namespace {

// Opens `path` for reading by mmap or pread, as `options` says.
absl::StatusOr<std::unique_ptr<RandomAccessFile>> OpenFile(Env* env, const std::string& path,
                                                           const SegmentReaderOptions& options) {
  RandomAccessFileOptions file_options;
  file_options.use_mmap = options.use_mmap;
  return env->NewRandomAccessFile(path, file_options);
}

}  // namespace

SegmentReader::SegmentReader(std::unique_ptr<RandomAccessFile> file,
                             std::shared_ptr<const OffsetIndex> index)
    : file_(std::move(file)), mapped_size_(file_->MappedSize()), index_(std::move(index)) {}

absl::StatusOr<std::shared_ptr<SegmentReader>> SegmentReader::OpenSealed(
    Env* env, const std::string& path, uint64_t start_id, std::optional<uint64_t> end_id,
    const SegmentReaderOptions& options) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, OpenFile(env, path, options));
  auto index = std::make_shared<OffsetIndex>(start_id);
  // The walk publishes each frame before it looks at the next, so after DataLoss the index
  // holds the good frames before the damage.
  absl::Status walked =
      IndexSealedSegment(*file, start_id, end_id, options.buffer_size, index.get());
  if (!walked.ok() && !absl::IsDataLoss(walked)) return walked;
  std::shared_ptr<SegmentReader> reader(new SegmentReader(std::move(file), std::move(index)));
  reader->damage_ = std::move(walked);
  reader->sealed_ = true;
  return reader;
}

absl::StatusOr<std::shared_ptr<SegmentReader>> SegmentReader::OpenSealedIndexed(
    Env* env, const std::string& path, std::shared_ptr<const OffsetIndex> index,
    const SegmentReaderOptions& options) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, OpenFile(env, path, options));
  std::shared_ptr<SegmentReader> reader(new SegmentReader(std::move(file), std::move(index)));
  reader->sealed_ = true;
  return reader;
}

absl::StatusOr<std::shared_ptr<SegmentReader>> SegmentReader::OpenActive(
    Env* env, const std::string& path, std::shared_ptr<const OffsetIndex> index,
    const SegmentReaderOptions& options) {
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, OpenFile(env, path, options));
  return std::shared_ptr<SegmentReader>(new SegmentReader(std::move(file), std::move(index)));
}

absl::StatusOr<VerifiedFrame> SegmentReader::ReadOnce(const FrameLocation& where, bool fresh,
                                                      std::string* scratch) const {
  VerifiedFrame frame;
  // The error context is built only on the error paths: this runs once per Get.
  const auto at = [&] { return absl::StrCat("read ", file_->path(), "@", where.offset, ": "); };
  const size_t n = static_cast<size_t>(where.size);
  absl::string_view bytes;
  if (!fresh && where.end_offset() <= file_->MappedSize()) {
    IRONWAL_ASSIGN_OR_RETURN(bytes, file_->Read(where.offset, n, nullptr));
  } else {
    std::string& buffer = scratch != nullptr ? *scratch : frame.owned_;
    if (buffer.size() < n) buffer.resize(n);
    IRONWAL_ASSIGN_OR_RETURN(bytes, file_->Read(where.offset, n, &buffer[0]));
    if (bytes.data() != buffer.data()) {
      std::memcpy(&buffer[0], bytes.data(), bytes.size());
      bytes = absl::string_view(buffer.data(), bytes.size());
    }
  }
  if (bytes.size() != n) {
    return absl::DataLossError(
        absl::StrCat(at(), "file ends after ", bytes.size(), " of the frame's ", n, " bytes"));
  }
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(bytes);
  if (!header.ok()) return absl::DataLossError(absl::StrCat(at(), header.status().message()));
  if (header->start_id != where.start_id || header->entry_count != where.entry_count ||
      header->frame_size() != where.size) {
    return absl::DataLossError(absl::StrCat(at(), "frame header says IDs [", header->start_id, ", ",
                                            header->end_id(), ") in ", header->frame_size(),
                                            " bytes; the index says [", where.start_id, ", ",
                                            where.end_id(), ") in ", where.size));
  }
  frame.header_ = *header;
  frame.payload_ = bytes.substr(format::kFrameHeaderSize);
  absl::Status verified = VerifyFramePayload(frame.header_, frame.payload_);
  if (!verified.ok()) return absl::DataLossError(absl::StrCat(at(), verified.message()));
  return frame;
}

absl::Status SegmentReader::CheckLastFrame(uint8_t stream_tag) const {
  const std::optional<FrameLocation> last =
      index_->frame_count() == 0 ? std::nullopt : index_->Find(index_->end_id() - 1);
  if (!last.has_value()) {
    return absl::DataLossError(absl::StrCat("check ", file_->path(), ": the index is empty"));
  }
  char buffer[format::kFrameHeaderSize];
  IRONWAL_ASSIGN_OR_RETURN(const absl::string_view bytes,
                           file_->Read(last->offset, format::kFrameHeaderSize, buffer));
  FrameHeader header;
  if (bytes.size() != format::kFrameHeaderSize || !TryDecodeFrameHeader(bytes.data(), &header) ||
      header.start_id != last->start_id || header.entry_count != last->entry_count ||
      header.frame_size() != last->size ||
      ReadFrameStamp(header, stream_tag).kind == StampReading::Kind::kMismatch) {
    return absl::DataLossError(absl::StrCat(
        "check ", file_->path(), "@", last->offset, ": the last frame, IDs [", last->start_id, ", ",
        last->end_id(), ") in ", last->size, " bytes, is not there, or not this stream's"));
  }
  return absl::OkStatus();
}

bool SegmentReader::TryReadEntry(const FrameLocation& where, uint64_t id, std::string* scratch,
                                 absl::string_view* entry) const {
  const size_t n = static_cast<size_t>(where.size);
  if (n < format::kFrameHeaderSize || id < where.start_id || id >= where.end_id()) return false;
  char* buffer = nullptr;  // none: the frame is in the mapping
  if (where.end_offset() > mapped_size_) {
    if (scratch->size() < n) scratch->resize(n);
    buffer = &(*scratch)[0];
  }
  const absl::StatusOr<absl::string_view> bytes = file_->Read(where.offset, n, buffer);
  if (ABSL_PREDICT_FALSE(!bytes.ok() || bytes->size() != n)) return false;
  const char* const frame = bytes->data();
  FrameHeader header;
  if (!TryDecodeFrameHeader(frame, &header) || header.codec != format::Codec::kRaw ||
      header.start_id != where.start_id || header.entry_count != where.entry_count ||
      header.frame_size() != where.size || !FrameMatchesInPlace(header, frame)) {
    return false;
  }
  const absl::string_view payload(frame + format::kFrameHeaderSize, header.disk_size);
  if (header.entry_count == 1) return SingleEntry(payload, entry);
  return TryRawEntryAt(payload, header.entry_count, id - header.start_id, entry);
}

absl::Status SegmentReader::Annotate(const FrameLocation& where, const absl::Status& status) const {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat("read ", file_->path(), "@", where.offset, ": ",
                                                  status.message()));
}

absl::StatusOr<VerifiedFrame> SegmentReader::ReadFrame(const FrameLocation& where) const {
  return ReadFrame(where, nullptr);
}

absl::StatusOr<VerifiedFrame> SegmentReader::ReadFrame(const FrameLocation& where,
                                                       std::string* scratch) const {
  absl::StatusOr<VerifiedFrame> frame = ReadOnce(where, /*fresh=*/false, scratch);
  if (frame.ok() || !absl::IsDataLoss(frame.status())) return frame;
  // A bit flipped on the way from the disk is not corruption: read it once more.
  absl::StatusOr<VerifiedFrame> again = ReadOnce(where, /*fresh=*/true, nullptr);
  if (again.ok()) return again;
  return frame.status();
}

}  // namespace internal
}  // namespace ironwal
