// File: ironwal/ironwal.h
//
// ironwal: a write-ahead log library for systems of record, on-disk compatible with the
// Rust crate ironwal 0.6. Include this header and depend on //ironwal.
//
//   #include "ironwal/ironwal.h"
//
//   ironwal::WalOptions options;
//   options.root = "/var/lib/app/wal";
//   auto wal = ironwal::Wal::Open(options);                     // StatusOr<unique_ptr<Wal>>
//   absl::StatusOr<uint64_t> id = (*wal)->Append("orders", payload);
//
// See ironwal/wal/wal.h for the API, ironwal/stream/options.h for the sync modes, and
// ironwal/format/FORMAT.md for the bytes on disk. For tests, ironwal/env/mem_env.h and
// ironwal/env/sim_env.h (targets //ironwal/env:mem_env and //ironwal/env:sim_env).
#ifndef IRONWAL_IRONWAL_H_
#define IRONWAL_IRONWAL_H_

#include "ironwal/env/env.h"
#include "ironwal/stream/options.h"
#include "ironwal/stream/stream.h"
#include "ironwal/wal/iterator.h"
#include "ironwal/wal/txn_writer.h"
#include "ironwal/wal/wal.h"
#include "ironwal/wal/wal_options.h"

#endif  // IRONWAL_IRONWAL_H_
