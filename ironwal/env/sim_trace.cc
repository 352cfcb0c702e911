#include "ironwal/env/sim_trace.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ironwal {
namespace {

constexpr absl::string_view kInjected = " (injected: ";

std::optional<SimOp> ParseOpName(absl::string_view name) {
  for (int i = static_cast<int>(SimOp::kOpenWritable); i <= static_cast<int>(SimOp::kLock); ++i) {
    const SimOp op = static_cast<SimOp>(i);
    if (name == SimOpName(op)) return op;
  }
  return std::nullopt;
}

std::optional<absl::StatusCode> ParseCodeName(absl::string_view name) {
  for (int i = 0; i <= static_cast<int>(absl::StatusCode::kUnauthenticated); ++i) {
    const auto code = static_cast<absl::StatusCode>(i);
    if (name == absl::StatusCodeToString(code)) return code;
  }
  return std::nullopt;
}

bool HasRange(SimOp op) {
  return op == SimOp::kAppend || op == SimOp::kRead || op == SimOp::kAllocate;
}

// Splits "path@offset+length" (HasRange) or "path@size" (kTruncate) into the record.
bool ParseTarget(absl::string_view target, TraceRecord* record) {
  if (!HasRange(record->op) && record->op != SimOp::kTruncate) {
    record->path = std::string(target);
    return !target.empty();
  }
  const size_t at = target.rfind('@');
  if (at == absl::string_view::npos || at == 0) return false;
  record->path = std::string(target.substr(0, at));
  absl::string_view numbers = target.substr(at + 1);
  if (record->op == SimOp::kTruncate) return absl::SimpleAtoi(numbers, &record->offset);
  const size_t plus = numbers.find('+');
  if (plus == absl::string_view::npos) return false;
  return absl::SimpleAtoi(numbers.substr(0, plus), &record->offset) &&
         absl::SimpleAtoi(numbers.substr(plus + 1), &record->length);
}

absl::Status BadLine(absl::string_view line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("parse trace record \"", line, "\": ", what));
}

}  // namespace

std::string FormatTrace(absl::Span<const TraceRecord> trace) {
  std::string text;
  for (const TraceRecord& record : trace) absl::StrAppend(&text, record.ToString(), "\n");
  return text;
}

absl::StatusOr<TraceRecord> ParseTraceRecord(absl::string_view line) {
  TraceRecord record;
  absl::string_view rest = line;
  const size_t injected = rest.find(kInjected);
  if (injected != absl::string_view::npos) {
    if (rest.back() != ')') return BadLine(line, "an unclosed \"(injected: ...\"");
    const size_t begin = injected + kInjected.size();
    record.injected = std::string(rest.substr(begin, rest.size() - 1 - begin));
    rest = rest.substr(0, injected);
  }
  const size_t first_space = rest.find(' ');
  const size_t second_space =
      first_space == absl::string_view::npos ? first_space : rest.find(' ', first_space + 1);
  const size_t last_space = rest.rfind(' ');
  if (second_space == absl::string_view::npos || last_space <= second_space) {
    return BadLine(line, "want \"SEQ OP PATH CODE\"");
  }
  if (!absl::SimpleAtoi(rest.substr(0, first_space), &record.seq)) {
    return BadLine(line, "the sequence number is not a number");
  }
  std::optional<SimOp> op =
      ParseOpName(rest.substr(first_space + 1, second_space - first_space - 1));
  if (!op.has_value()) return BadLine(line, "unknown operation");
  record.op = *op;
  std::optional<absl::StatusCode> code = ParseCodeName(rest.substr(last_space + 1));
  if (!code.has_value()) return BadLine(line, "unknown status code");
  record.result = *code;
  if (!ParseTarget(rest.substr(second_space + 1, last_space - second_space - 1), &record)) {
    return BadLine(line, "a malformed path, offset or length");
  }
  return record;
}

absl::StatusOr<std::vector<TraceRecord>> ParseTrace(absl::string_view text) {
  std::vector<TraceRecord> trace;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    absl::StatusOr<TraceRecord> record = ParseTraceRecord(line);
    if (!record.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", record.status().message()));
    }
    trace.push_back(*std::move(record));
  }
  return trace;
}

absl::Status SaveTrace(Env* env, const std::string& path, absl::Span<const TraceRecord> trace) {
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path);
  if (!file.ok()) return file.status();
  absl::Status status = (*file)->Append(FormatTrace(trace));
  if (status.ok()) status = (*file)->Sync();
  absl::Status closed = (*file)->Close();
  return status.ok() ? closed : status;
}

absl::StatusOr<std::vector<TraceRecord>> LoadTrace(Env* env, const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(env, path);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<TraceRecord>> trace = ParseTrace(*text);
  if (!trace.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("load trace ", path, ": ", trace.status().message()));
  }
  return trace;
}

bool SameOperation(const TraceRecord& a, const TraceRecord& b) {
  return a.op == b.op && a.path == b.path && a.offset == b.offset && a.length == b.length &&
         a.result == b.result && a.injected == b.injected;
}

std::string DiffTraces(absl::Span<const TraceRecord> expected, absl::Span<const TraceRecord> actual,
                       size_t context) {
  const size_t common = std::min(expected.size(), actual.size());
  size_t i = 0;
  while (i < common && SameOperation(expected[i], actual[i])) ++i;
  if (i == expected.size() && i == actual.size()) return "";
  std::string report = absl::StrCat("traces differ at operation ", i, " (expected ",
                                    expected.size(), " operations, got ", actual.size(), ")\n");
  for (size_t j = i - std::min(i, context); j < i; ++j) {
    absl::StrAppend(&report, "    ", expected[j].ToString(), "\n");
  }
  if (i < expected.size()) {
    absl::StrAppend(&report, "  - ", expected[i].ToString(), "\n");
  } else {
    absl::StrAppend(&report, "  - (expected trace ends here)\n");
  }
  if (i < actual.size()) {
    absl::StrAppend(&report, "  + ", actual[i].ToString(), "\n");
  } else {
    absl::StrAppend(&report, "  + (actual trace ends here)\n");
  }
  return report;
}

}  // namespace ironwal
