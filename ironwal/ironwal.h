// File: ironwal/ironwal.h
//
// ironwal: a write-ahead log library for systems of record, on-disk compatible with the
// Rust crate ironwal 0.6. Include this header and depend on //ironwal: it brings the whole
// public API and nothing else (no internal header is reachable from it).
//
//   #include "ironwal/ironwal.h"
//
//   absl::StatusOr<uint64_t> AppendOrder(absl::string_view payload) {
//     ironwal::WalOptions options;
//     options.root = "/var/lib/app/wal";
//     IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<ironwal::Wal> wal, ironwal::Wal::Open(options));
//     return wal->Append("orders", payload);
//   }
//
// ironwal/wal/wal.h     Wal: the API and its status codes
// ironwal/wal/wal_options.h  WalOptions
// ironwal/wal/types.h   SyncMode and the other enums, IdRange, StreamInfo, TruncateResult,
//                       StreamRecoveryReport
// ironwal/wal/iterator.h, ironwal/wal/txn_writer.h   Iterator, TxnWriter
// ironwal/status_macros.h   IRONWAL_RETURN_IF_ERROR, IRONWAL_ASSIGN_OR_RETURN
// ironwal/env/env.h     Env, the I/O interface
// ironwal/format/FORMAT.md   the bytes on disk
// For tests: ironwal/env/mem_env.h and ironwal/env/sim_env.h (targets //ironwal/env:mem_env
// and //ironwal/env:sim_env).
//
// Thread-safety: see each header; every Wal method is thread-safe.
#ifndef IRONWAL_IRONWAL_H_
#define IRONWAL_IRONWAL_H_

#include "ironwal/env/env.h"
#include "ironwal/status_macros.h"
#include "ironwal/wal/event_listener.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/txn_writer.h"
#include "ironwal/wal/types.h"
#include "ironwal/wal/wal.h"
#include "ironwal/wal/wal_options.h"

#endif  // IRONWAL_IRONWAL_H_
