// File: ironwal/env/internal/trace_report.h
//
// The readable report of the first difference between an expected trace and what
// happened, shared by DiffTraces and ReplayTrace (sim_trace.h). Pure functions.
#ifndef IRONWAL_ENV_INTERNAL_TRACE_REPORT_H_
#define IRONWAL_ENV_INTERNAL_TRACE_REPORT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "ironwal/env/sim_env.h"

namespace ironwal {
namespace internal {

// `headline`, then the `context` records of `expected` before `at` (which both share),
// then "  - " and expected[at] (or that the expected trace ends there), then "  + " and
// `actual` (or, when it is null, `instead`: why there is no record to show), then a line
// naming the first field in which `actual` differs (for data, the first differing byte).
// Data longer than 32 bytes is shown by its first 32 and its size.
std::string DifferenceReport(absl::string_view headline, absl::Span<const TraceRecord> expected,
                             size_t at, size_t context, const TraceRecord* actual,
                             absl::string_view instead);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_TRACE_REPORT_H_
