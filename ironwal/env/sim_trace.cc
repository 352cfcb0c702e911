#include "ironwal/env/sim_trace.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "ironwal/env/internal/trace_report.h"

namespace ironwal {
namespace {

constexpr absl::string_view kInjected = " (injected: ";

std::optional<SimOp> ParseOpName(absl::string_view name) {
  for (int i = static_cast<int>(SimOp::kOpenWritable); i <= static_cast<int>(SimOp::kRelease);
       ++i) {
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
  return op == SimOp::kAppend || op == SimOp::kWriteAt || op == SimOp::kRead ||
         op == SimOp::kAllocate;
}

// The escape of arg= and out= values: bytes outside '!'..'~', and '%', as %XX.
std::string Escape(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > ' ' && byte < 0x7f && byte != '%') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(byte, absl::kZeroPad2));
    }
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unescape(absl::string_view text, std::string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    const int high = i + 1 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

bool UnHex(absl::string_view text, std::string* out) {
  if (text.size() % 2 != 0) return false;
  out->reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int high = HexDigit(text[i]);
    const int low = HexDigit(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

// Takes the replay fields (" fd=N", " arg=", " data=", " out=") off the end of `rest`,
// into the record. False for a malformed one.
bool ParseFields(absl::string_view* rest, TraceRecord* record) {
  while (true) {
    const size_t space = rest->rfind(' ');
    if (space == absl::string_view::npos) return true;
    absl::string_view field = rest->substr(space + 1);
    bool ok = true;
    if (absl::ConsumePrefix(&field, "fd=")) {
      ok = absl::SimpleAtoi(field, &record->handle);
    } else if (absl::ConsumePrefix(&field, "arg=")) {
      ok = Unescape(field, &record->arg);
    } else if (absl::ConsumePrefix(&field, "data=")) {
      ok = UnHex(field, &record->data);
    } else if (absl::ConsumePrefix(&field, "out=")) {
      ok = Unescape(field, &record->out);
    } else {
      return true;
    }
    if (!ok) return false;
    *rest = rest->substr(0, space);
  }
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

std::string TraceRecord::ToString() const {
  std::string line = absl::StrCat(seq, " ", SimOpName(op), " ", path);
  if (HasRange(op)) {
    absl::StrAppend(&line, "@", offset, "+", length);
  } else if (op == SimOp::kTruncate) {
    absl::StrAppend(&line, "@", offset);
  }
  absl::StrAppend(&line, " ", absl::StatusCodeToString(result));
  if (handle != 0) absl::StrAppend(&line, " fd=", handle);
  if (!arg.empty()) absl::StrAppend(&line, " arg=", Escape(arg));
  if (!data.empty()) absl::StrAppend(&line, " data=", absl::BytesToHexString(data));
  if (!out.empty()) absl::StrAppend(&line, " out=", Escape(out));
  if (!injected.empty()) absl::StrAppend(&line, kInjected, injected, ")");
  return line;
}

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
  if (!ParseFields(&rest, &record)) return BadLine(line, "a malformed fd=, arg=, data= or out=");
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
         a.result == b.result && a.injected == b.injected && a.handle == b.handle &&
         a.arg == b.arg && a.data == b.data && a.out == b.out;
}

std::string DiffTraces(absl::Span<const TraceRecord> expected, absl::Span<const TraceRecord> actual,
                       size_t context) {
  const size_t common = std::min(expected.size(), actual.size());
  size_t i = 0;
  while (i < common && SameOperation(expected[i], actual[i])) ++i;
  if (i == expected.size() && i == actual.size()) return "";
  const std::string headline =
      absl::StrCat("traces differ at operation ", i, " (expected ", expected.size(),
                   " operations, got ", actual.size(), ")");
  return internal::DifferenceReport(headline, expected, i, context,
                                    i < actual.size() ? &actual[i] : nullptr,
                                    "(actual trace ends here)");
}

namespace internal {
namespace {

// Which field of `actual` differs from `expected` first, as a line ("" if none does).
std::string FieldDifference(const TraceRecord& expected, const TraceRecord& actual) {
  if (expected.data != actual.data) {
    const size_t common = std::min(expected.data.size(), actual.data.size());
    size_t at = 0;
    while (at < common && expected.data[at] == actual.data[at]) ++at;
    if (at == common) {
      return absl::StrCat("    data: ", expected.data.size(), " bytes expected, ",
                          actual.data.size(), " got\n");
    }
    return absl::StrCat(
        "    data differs at byte ", at, ": 0x",
        absl::Hex(static_cast<unsigned char>(expected.data[at]), absl::kZeroPad2), " expected, 0x",
        absl::Hex(static_cast<unsigned char>(actual.data[at]), absl::kZeroPad2), " got\n");
  }
  if (expected.out != actual.out) {
    return absl::StrCat("    out: \"", expected.out, "\" expected, \"", actual.out, "\" got\n");
  }
  return "";
}

// The record's line, its data cut to 32 bytes.
std::string Shortened(const TraceRecord& record) {
  constexpr size_t kShown = 32;
  if (record.data.size() <= kShown) return record.ToString();
  TraceRecord shown = record;
  shown.data.resize(kShown);
  std::string line = shown.ToString();
  const std::string hex = absl::BytesToHexString(shown.data);
  const size_t at = line.find(" data=" + hex);
  if (at != std::string::npos) {
    line.insert(at + 6 + hex.size(), absl::StrCat("...(", record.data.size(), " bytes)"));
  }
  return line;
}

}  // namespace

std::string DifferenceReport(absl::string_view headline, absl::Span<const TraceRecord> expected,
                             size_t at, size_t context, const TraceRecord* actual,
                             absl::string_view instead) {
  std::string report = absl::StrCat(headline, "\n");
  for (size_t j = at - std::min(at, context); j < at; ++j) {
    absl::StrAppend(&report, "    ", Shortened(expected[j]), "\n");
  }
  if (at < expected.size()) {
    absl::StrAppend(&report, "  - ", Shortened(expected[at]), "\n");
  } else {
    absl::StrAppend(&report, "  - (expected trace ends here)\n");
  }
  absl::StrAppend(&report, "  + ", actual != nullptr ? Shortened(*actual) : instead, "\n");
  if (actual != nullptr && at < expected.size()) {
    absl::StrAppend(&report, FieldDifference(expected[at], *actual));
  }
  return report;
}

}  // namespace internal
}  // namespace ironwal
