#include "ironwal/wal/event_listener.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

namespace ironwal {
namespace {

class StderrLogger final : public Logger {
 public:
  void Log(LogLevel level, absl::string_view message) override {
    const std::string line = absl::StrCat("ironwal ", LogLevelName(level), ": ", message, "\n");
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
};

}  // namespace

const char* TruncationKindName(TruncationKind kind) {
  switch (kind) {
    case TruncationKind::kFront:
      return "front";
    case TruncationKind::kSuffix:
      return "suffix";
    case TruncationKind::kReset:
      return "reset";
    case TruncationKind::kDelete:
      return "delete";
  }
  return "?";
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::shared_ptr<Logger> NewStderrLogger() { return std::make_shared<StderrLogger>(); }

}  // namespace ironwal
