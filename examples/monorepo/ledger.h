// A toy account ledger of the monorepo on top of an ironwal::Wal: every transfer is one
// entry "from to amount" of the stream "ledger", and balances are rebuilt by replaying the
// stream. Not thread-safe; durability is the Wal's (each Transfer is a batch, durable when
// it returns under SyncMode::kBatchOnly).
#ifndef MONOREPO_LEDGER_H_
#define MONOREPO_LEDGER_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "ironwal/ironwal.h"

namespace monorepo {

// Appends one transfer to `wal` and returns its entry ID.
absl::StatusOr<uint64_t> Transfer(ironwal::Wal& wal, absl::string_view from, absl::string_view to,
                                  int64_t amount);

// Replays the stream and returns every account's balance.
absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> Balances(ironwal::Wal& wal);

}  // namespace monorepo

#endif  // MONOREPO_LEDGER_H_
