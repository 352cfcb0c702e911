// File: ironwal/testing/wal_model.h
//
// WalModel: the oracle of the crash and fault tests. It records what a test attempted
// against a Wal and what the Wal acknowledged, and after every recovery checks the
// promises listed in README.md:
//
//   1. every ID acknowledged as durable (per the sync mode) survives;
//   2. each stream is a contiguous prefix of what was attempted: no hole, no reordering,
//      no phantom or altered entry, no truncated ID back;
//   3. an ID acknowledged durable is never handed out again for other data;
//   4. Get, iteration and GetStreamInfo agree on which IDs exist;
//   5. nothing returned differs from what was written (reads return the data or an error).
//
// During a run it checks that every read returns exactly what was written, and that a
// poisoned stream acknowledges nothing until reopened.
//
//   WalModel model(options.sync_mode);
//   std::vector<std::string> batch = {"a", "b"};
//   model.OnAppend("s", batch, /*batch=*/true, wal->AppendBatch("s", batch));
//   ... crash, reopen ...
//   std::vector<std::string> violations = model.CheckRecovered(wal.get(), /*crashed=*/true);
//
// Each check returns human-readable violations (empty when all promises hold) and then
// adopts what the Wal now holds as the new baseline (a recovered stream is durable).
// testonly. Thread-compatible (one thread).
#ifndef IRONWAL_TESTING_WAL_MODEL_H_
#define IRONWAL_TESTING_WAL_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include "ironwal/wal/wal.h"

namespace ironwal {
namespace testing {

class WalModel {
 public:
  explicit WalModel(SyncMode mode) : mode_(mode) {}

  // An append or batch (or committed transaction) of `entries` to `stream`, and what it
  // returned. Returns a violation if the result itself breaks a promise (IDs that are not
  // the next ones, a success from a poisoned stream).
  std::vector<std::string> OnAppend(const std::string& stream,
                                    absl::Span<const std::string> entries, bool batch,
                                    const absl::StatusOr<IdRange>& result);
  // Wal::Sync() (all streams) and what it returned.
  void OnSync(const absl::Status& result);
  // Faults, a power cut or a full disk are about to affect the Wal: any stream may be
  // poisoned by a failure this model does not see (a writer closed for another stream, a
  // flush for a read), losing what it had not made durable. Until the next check, a clean
  // reopen need only keep durable acknowledgements.
  void OnDisturbance() { disturbed_ = true; }
  bool disturbed() const { return disturbed_; }
  // Wal::Truncate and what it returned.
  std::vector<std::string> OnTruncate(const std::string& stream, uint64_t keep_from_id,
                                      const absl::StatusOr<TruncateResult>& result);
  // The log primitives (Wal's methods of the same names) and what they returned. A
  // failed one may or may not have taken effect: recovery must show the old state or the
  // new one, never a mix.
  std::vector<std::string> OnTruncateSuffix(const std::string& stream, uint64_t from_id,
                                            const absl::Status& result);
  std::vector<std::string> OnReset(const std::string& stream, uint64_t next_id,
                                   const absl::Status& result);
  std::vector<std::string> OnCreate(const std::string& stream, uint64_t first_id,
                                    const absl::Status& result);
  std::vector<std::string> OnTrimFront(const std::string& stream, uint64_t first_id,
                                       const absl::StatusOr<TruncateResult>& result);
  std::vector<std::string> OnPutMetadata(const std::string& stream, const std::string& value,
                                         const absl::Status& result);
  std::vector<std::string> OnDelete(const std::string& stream, const absl::Status& result);
  // AppendBatchIf: a FailedPrecondition "next id is" when the model's next ID was the
  // expected one is a violation; otherwise as OnAppend (a batch).
  std::vector<std::string> OnAppendIf(const std::string& stream, uint64_t expected_next_id,
                                      absl::Span<const std::string> entries,
                                      const absl::StatusOr<IdRange>& result);
  // ReadRange(lo, hi, max_bytes) and what it returned.
  std::vector<std::string> OnReadRange(const std::string& stream, uint64_t lo, uint64_t hi,
                                       size_t max_bytes,
                                       const absl::StatusOr<std::vector<std::string>>& result,
                                       bool faults_active);

  // A read of `id` and what it returned. `faults_active`: read faults may be injected, so
  // an error is allowed (wrong data never is).
  std::vector<std::string> OnGet(const std::string& stream, uint64_t id,
                                 const absl::StatusOr<std::string>& result, bool faults_active);

  // After the Wal was reopened: `crashed` when the Env crashed (power loss) since the last
  // check, false after a clean Close. Checks promises 1-5 on every stream the model knows,
  // by Get and by iteration, then adopts the recovered state.
  std::vector<std::string> CheckRecovered(Wal* wal, bool crashed);

  // The next ID the model expects `stream` to hand out (what was acknowledged).
  uint64_t next_id(const std::string& stream) const;
  // The first retained ID as far as the model knows.
  uint64_t first_id(const std::string& stream) const;
  bool poisoned(const std::string& stream) const;
  std::vector<std::string> streams() const;

 private:
  struct Stream {
    uint64_t first_id = 0;                  // acknowledged truncation point
    uint64_t first_id_max = 0;              // a failed truncation may have moved it up to here
    uint64_t next_id = 0;                   // one past the last acknowledged ID
    uint64_t durable_end = 0;               // IDs below were acknowledged durable
    bool poisoned = false;                  // a write failed in a way that must poison
    bool maybe_poisoned = false;            // a write failed in a way that may poison (ENOSPC)
    std::map<uint64_t, std::string> acked;  // ID -> acknowledged bytes
    std::map<uint64_t, std::vector<std::string>> attempted;  // ID -> every attempt's bytes
    // Failed resets (or creates) to these IDs may have taken effect: an empty stream at
    // one of them is the new state.
    std::set<uint64_t> maybe_reset;
    bool maybe_deleted = false;  // a failed delete may have taken effect
    // The metadata values recovery may show (the acknowledged one, and failed puts').
    std::set<std::string> metadata = {""};
  };

  std::vector<std::string> CheckStream(Wal* wal, const std::string& key, Stream* s, bool crashed);

  const SyncMode mode_;
  bool disturbed_ = false;
  std::map<std::string, Stream> streams_;
};

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_WAL_MODEL_H_
