// Wal::Impl: delivering the events streams queue (ironwal/stream/events.h) to the
// listeners of WalOptions::listeners and the messages to the logger
// (ironwal/wal/event_listener.h). Runs with no lock of the Wal held.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/format/format.h"
#include "ironwal/format/names.h"
#include "ironwal/wal/wal_impl.h"

namespace ironwal {

void Wal::Impl::QueueRecovery(internal::Stream* stream, const StreamRecoveryReport& report) {
  const std::string key = stream->key();
  if (report.tail == ScanOutcome::kCorrupt || report.tail == ScanOutcome::kWrongSegment) {
    // The damaged segment: the quarantine file is named after it; else (nothing was kept
    // aside) it is the active one.
    std::string name = report.quarantine_file;
    const size_t infix = name.find(internal::format::kQuarantineInfix);
    if (infix != std::string::npos) {
      name.resize(infix);
    } else {
      name = internal::SegmentFileName(stream->Info().active_segment_start_id);
    }
    internal::Event corruption;
    corruption.kind = internal::Event::Kind::kCorruption;
    corruption.stream = key;
    corruption.corruption =
        CorruptionEvent{key, JoinPath(JoinPath(options_.root, report.dir), name), report.cut_offset,
                        report.tail_reason};
    events_.Push(std::move(corruption));
  }
  internal::Event finished;
  finished.kind = internal::Event::Kind::kRecoveryFinished;
  finished.stream = key;
  finished.report = report;
  events_.Push(std::move(finished));
}

void Wal::Impl::DeliverEvents() {
  events_.Drain([this](const internal::Event& event) { Deliver(event); });
}

void Wal::Impl::Deliver(const internal::Event& event) {
  using Kind = internal::Event::Kind;
  LogEvent(event);
  for (const std::shared_ptr<EventListener>& listener : options_.listeners) {
    if (listener == nullptr) continue;
    switch (event.kind) {
      case Kind::kSegmentCreated:
        listener->OnSegmentCreated(event.segment);
        break;
      case Kind::kSegmentSealed:
        listener->OnSegmentSealed(event.segment);
        break;
      case Kind::kSegmentDeleted:
        listener->OnSegmentDeleted(event.segment);
        break;
      case Kind::kStreamCreated:
        listener->OnStreamCreated(event.stream, event.first_id);
        break;
      case Kind::kStreamTruncated:
        listener->OnStreamTruncated(event.truncation);
        break;
      case Kind::kRecoveryFinished:
        listener->OnRecoveryFinished(event.stream, event.report);
        break;
      case Kind::kCorruption:
        listener->OnCorruption(event.corruption);
        break;
      case Kind::kStreamPoisoned:
        listener->OnStreamPoisoned(event.stream, event.status);
        break;
      case Kind::kDiskFull:
        listener->OnDiskFull(event.stream, event.status);
        break;
      case Kind::kDiskSpaceRecovered:
        listener->OnDiskSpaceRecovered(event.stream);
        break;
    }
  }
}

void Wal::Impl::LogEvent(const internal::Event& event) {
  using Kind = internal::Event::Kind;
  const std::string where = absl::StrCat("wal ", options_.root, ", stream '", event.stream, "'");
  switch (event.kind) {
    case Kind::kRecoveryFinished:
      if (!event.report.clean()) {
        logger_->Log(LogLevel::kWarning,
                     absl::StrCat(where, ": recovery was not clean: ", event.report.ToString()));
      }
      break;
    case Kind::kCorruption:
      logger_->Log(LogLevel::kError,
                   absl::StrCat(where, ": corruption in ", event.corruption.path, "@",
                                event.corruption.offset, ": ", event.corruption.what));
      break;
    case Kind::kStreamPoisoned:
      logger_->Log(LogLevel::kError, absl::StrCat(where,
                                                  ": poisoned (writes fail until "
                                                  "RecoverStream or a reopen): ",
                                                  event.status.ToString()));
      break;
    case Kind::kDiskFull:
      logger_->Log(LogLevel::kWarning,
                   absl::StrCat(where, ": disk full: ", event.status.ToString()));
      break;
    case Kind::kDiskSpaceRecovered:
      logger_->Log(LogLevel::kInfo, absl::StrCat(where, ": writing again after a full disk"));
      break;
    default:
      break;
  }
}

void Wal::Impl::LogOpenFailure(const absl::Status& status) {
  logger_->Log(LogLevel::kError, absl::StrCat("open failed: ", status.ToString()));
}

}  // namespace ironwal
