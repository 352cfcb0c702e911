#include "ironwal/segment/frame_cursor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "ironwal/base/status_macros.h"
#include "ironwal/format/format.h"

namespace ironwal {
namespace internal {

FrameCursor::FrameCursor(const RandomAccessFile* file, uint64_t offset, uint64_t limit,
                         size_t buffer_size)
    : file_(file),
      offset_(offset),
      limit_(limit),
      buffer_size_(std::max<size_t>(buffer_size, 4096)) {}

absl::StatusOr<absl::string_view> FrameCursor::View(uint64_t offset, size_t n) {
  if (offset + n <= file_->MappedSize()) return file_->Read(offset, n, nullptr);
  if (offset >= buffer_start_ && offset + n <= buffer_start_ + buffer_valid_) {
    return absl::string_view(buffer_).substr(offset - buffer_start_, n);
  }
  // Refill: read ahead from `offset`, at least n bytes, at most up to the limit.
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(n, buffer_size_), limit_ - offset));
  if (buffer_.size() < want) buffer_.resize(want);
  size_t got = 0;
  while (got < want) {
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view chunk,
                             file_->Read(offset + got, want - got, &buffer_[got]));
    if (chunk.empty()) break;
    if (chunk.data() != &buffer_[got]) std::copy(chunk.begin(), chunk.end(), &buffer_[got]);
    got += chunk.size();
  }
  buffer_start_ = offset;
  buffer_valid_ = got;
  if (got < n) {
    return absl::DataLossError(absl::StrCat("read ", file_->path(), "@", offset, ": file ends ",
                                            "after ", got, " of ", n, " bytes"));
  }
  return absl::string_view(buffer_).substr(0, n);
}

absl::StatusOr<FrameCursor::Item> FrameCursor::Next(bool read_payload) {
  Item item;
  item.offset = offset_;
  if (offset_ >= limit_) {
    item.kind = Kind::kEnd;
    return item;
  }
  if (limit_ - offset_ < format::kFrameHeaderSize) {
    item.kind = Kind::kTruncatedHeader;
    return item;
  }
  IRONWAL_ASSIGN_OR_RETURN(absl::string_view header_bytes, View(offset_, format::kFrameHeaderSize));
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(header_bytes);
  if (!header.ok()) {
    item.kind = Kind::kBadHeader;
    item.problem = header.status();
    return item;
  }
  item.header = *header;
  if (header->frame_size() > limit_ - offset_) {
    item.kind = Kind::kTruncatedPayload;
    return item;
  }
  item.kind = Kind::kFrame;
  if (read_payload) {
    IRONWAL_ASSIGN_OR_RETURN(absl::string_view frame, View(offset_, header->frame_size()));
    item.payload = frame.substr(format::kFrameHeaderSize);
  }
  offset_ += header->frame_size();
  return item;
}

void FrameCursor::TakeMapping() {
  mapped_taken_ = true;
  const uint64_t mapped = file_->MappedSize();
  if (mapped > 0) {
    absl::StatusOr<absl::string_view> all = file_->Read(0, mapped, nullptr);
    if (all.ok() && all->size() == mapped) mapped_ = *all;
  }
}

absl::string_view FrameCursor::BytesAtHand() {
  if (offset_ >= limit_) return absl::string_view();
  if (!mapped_taken_) TakeMapping();
  const uint64_t room = limit_ - offset_;
  if (offset_ < mapped_.size()) {
    return absl::string_view(mapped_.data() + offset_, static_cast<size_t>(std::min<uint64_t>(
                                                           mapped_.size() - offset_, room)));
  }
  if (offset_ >= buffer_start_ && offset_ < buffer_start_ + buffer_valid_) {
    return absl::string_view(
        buffer_.data() + (offset_ - buffer_start_),
        static_cast<size_t>(std::min<uint64_t>(buffer_start_ + buffer_valid_ - offset_, room)));
  }
  return absl::string_view();
}

}  // namespace internal
}  // namespace ironwal
