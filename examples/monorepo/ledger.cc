#include "ledger.h"

#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace monorepo {

absl::StatusOr<uint64_t> Transfer(ironwal::Wal& wal, absl::string_view from, absl::string_view to,
                                  int64_t amount) {
  absl::StatusOr<ironwal::IdRange> ids =
      wal.AppendBatch("ledger", {absl::StrCat(from, " ", to, " ", amount)});
  if (!ids.ok()) return ids.status();
  return ids->first;
}

absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> Balances(ironwal::Wal& wal) {
  absl::flat_hash_map<std::string, int64_t> balances;
  absl::StatusOr<std::unique_ptr<ironwal::Iterator>> it = wal.NewIterator("ledger", 0);
  if (!it.ok()) return it.status();
  for (; (*it)->Valid(); (*it)->Next()) {
    const std::vector<std::string> words = absl::StrSplit((*it)->value(), ' ');
    int64_t amount = 0;
    if (words.size() != 3 || !absl::SimpleAtoi(words[2], &amount)) {
      return absl::DataLossError(absl::StrCat("ledger entry ", (*it)->id(), " is malformed"));
    }
    balances[words[0]] -= amount;
    balances[words[1]] += amount;
  }
  if (!(*it)->status().ok()) return (*it)->status();
  return balances;
}

}  // namespace monorepo
