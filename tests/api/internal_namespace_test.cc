// Checks that ironwal's internal classes live in ironwal::internal, not in ironwal, so that
// the namespace users see holds only the public API (README, "Code layout").
//
// For each internal class name X this test includes the internal header that declares it and
// looks X up in a namespace that nominates both ::ironwal and a fallback namespace holding its
// own X. If ironwal::X exists, the lookup is ambiguous and this file does not compile (so the
// test fails); otherwise it finds the fallback, and ironwal::internal::X must be a class.
// A class added to an internal header belongs in the list below.
//
// Thread-safety: compile-time checks and one trivial test.
#include <type_traits>

#include "gtest/gtest.h"

#include "ironwal/base/mutex.h"
#include "ironwal/env/io_error.h"
#include "ironwal/env/posix_env.h"
#include "ironwal/format/format.h"
#include "ironwal/format/frame.h"
#include "ironwal/format/names.h"
#include "ironwal/index/offset_index.h"
#include "ironwal/index/segment_index.h"
#include "ironwal/ironwal.h"
#include "ironwal/segment/frame_cursor.h"
#include "ironwal/segment/segment_reader.h"
#include "ironwal/segment/segment_scan.h"
#include "ironwal/segment/segment_writer.h"
#include "ironwal/stats/histogram.h"
#include "ironwal/stats/recorder.h"
#include "ironwal/stream/directory_plan.h"
#include "ironwal/stream/log_files.h"
#include "ironwal/stream/options.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/stream.h"
#include "ironwal/stream/stream_dir.h"
#include "ironwal/stream/write_queue.h"
#include "ironwal/stream/writer_budget.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/lz4_frame.h"
#include "ironwal/util/random.h"
#include "ironwal/wal/root_lock.h"

#define IRONWAL_INTERNAL_CLASSES(X) \
  X(CondVar)                        \
  X(DecodedPayload)                 \
  X(DirectoryPlan)                  \
  X(DirectoryState)                 \
  X(DurablePos)                     \
  X(FrameCursor)                    \
  X(FrameEncodeOptions)             \
  X(FrameHeader)                    \
  X(FrameLocation)                  \
  X(FrameStamp)                     \
  X(HistogramBuckets)               \
  X(LogIntent)                      \
  X(Mutex)                          \
  X(MutexLock)                      \
  X(OffsetIndex)                    \
  X(PlanFinding)                    \
  X(PlanFix)                        \
  X(PlanOptions)                    \
  X(QueuedWrite)                    \
  X(Random)                         \
  X(ReaderCache)                    \
  X(ReaderMutexLock)                \
  X(ScanOptions)                    \
  X(SegmentEnd)                     \
  X(SegmentReader)                  \
  X(SegmentReaderOptions)           \
  X(SegmentScan)                    \
  X(SegmentWriter)                  \
  X(SharedMutex)                    \
  X(StampReading)                   \
  X(StatsRecorder)                  \
  X(Stream)                         \
  X(StreamDir)                      \
  X(StreamDirEntry)                 \
  X(StreamFile)                     \
  X(StreamFileKind)                 \
  X(StreamListing)                  \
  X(StreamOptions)                  \
  X(VerifiedFrame)                  \
  X(WriteQueue)                     \
  X(WriterBudget)                   \
  X(WriterMutexLock)

// One fallback per name, marked so the lookup below can tell it from a real class.
namespace ironwal_namespace_test_fallback {
#define IRONWAL_DECLARE_FALLBACK(Name)      \
  struct Name {                             \
    static constexpr bool kFallback = true; \
  };
IRONWAL_INTERNAL_CLASSES(IRONWAL_DECLARE_FALLBACK)
#undef IRONWAL_DECLARE_FALLBACK
}  // namespace ironwal_namespace_test_fallback

namespace ironwal_namespace_test_probe {
using namespace ::ironwal;                          // NOLINT(build/namespaces): the probe
using namespace ::ironwal_namespace_test_fallback;  // NOLINT(build/namespaces)
}  // namespace ironwal_namespace_test_probe

namespace {

// Ambiguous (a compile error) if ::ironwal::Name exists besides the fallback.
#define IRONWAL_CHECK_INTERNAL(Name)                                                   \
  static_assert(ironwal_namespace_test_probe::Name::kFallback,                         \
                "ironwal::" #Name " must not exist: internal classes go in internal"); \
  static_assert(std::is_class<::ironwal::internal::Name>::value ||                     \
                    std::is_enum<::ironwal::internal::Name>::value,                    \
                "ironwal::internal::" #Name " must exist");
IRONWAL_INTERNAL_CLASSES(IRONWAL_CHECK_INTERNAL)
#undef IRONWAL_CHECK_INTERNAL

// The checks above are static; this test only makes the target a test that passed them.
TEST(InternalNamespaceTest, InternalClassesAreInInternal) { SUCCEED(); }

}  // namespace
