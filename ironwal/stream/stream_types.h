// File: ironwal/stream/stream_types.h
//
// The value types a stream reports (IdRange, StreamRecoveryReport, StreamInfo,
// TruncateResult) are public and live in ironwal/wal/types.h; this header only includes
// it, for the stream package's sources.
//
// Thread-safety: values; copy them freely.
#ifndef IRONWAL_STREAM_STREAM_TYPES_H_
#define IRONWAL_STREAM_STREAM_TYPES_H_

#include "ironwal/wal/types.h"

#endif  // IRONWAL_STREAM_STREAM_TYPES_H_
