// The randomized crash and fault simulation: workloads generated from one seed, run on a
// SimEnv against a WalModel (ironwal/testing/wal_model.h), and shrunk when they fail.
//
// A workload is a list of self-contained operations, so deleting some of them still
// leaves a valid workload: that is how a failing one is shrunk.
#ifndef IRONWAL_TESTS_SIM_SIM_WORKLOAD_H_
#define IRONWAL_TESTS_SIM_SIM_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ironwal/env/sim_env.h"
#include "ironwal/wal/wal_options.h"

namespace ironwal {
namespace sim {

struct Op {
  enum class Kind {
    kAppend,    // entries[0] to stream
    kBatch,     // entries as one batch
    kTxn,       // entries as a committed transaction
    kTxnAbort,  // entries added to a transaction, then aborted
    kGet,       // the ID at fraction `frac` of [first, next]
    kMultiGet,  // three IDs around `frac`
    kIterate,   // from the ID at `frac`
    kTruncate,  // keep from the ID at `frac` of [0, next + 2]
    kSync,
    kFlush,
    kReopen,    // clean Close and Open
    kCrash,     // SimEnv::Crash(crash), then Open
    kPowerCut,  // the next `cut_after` mutating operations succeed, the rest fail
    kFault,     // SimEnv::AddFaultRule(rule)
    kClearFaults,
    kSqueeze,  // capacity := used + `squeeze` bytes (appends start failing with ENOSPC)
    kRelease,  // capacity unlimited again
    // The log primitives (Wal::TruncateSuffix ...).
    kTruncateSuffix,  // from the ID at `frac` of [first, next]
    kReset,           // next ID := `frac` x (next + 8)
    kCreate,          // CreateStream at `frac` x 100
    kTrimFront,       // first ID := the ID at `frac` of [first, next]
    kPutMetadata,     // entries[0] as the metadata
    kAppendIf,        // entries as a batch, expecting the next ID (off by one if `frac` < 0.2)
    kReadRange,       // from the ID at `frac`, 8 IDs, a budget of 300 bytes
    kDelete,
  };
  Kind kind = Kind::kAppend;
  int stream = 0;
  std::vector<std::string> entries;
  double frac = 0;
  CrashOptions crash;
  uint64_t cut_after = 0;
  FaultRule rule;
  uint64_t squeeze = 0;

  std::string ToString() const;
};

struct Workload {
  uint64_t seed = 0;
  WalOptions options;  // env and root are set by the runner
  SimEnvOptions sim;
  std::vector<Op> ops;
};

// A workload of about `n_ops` operations, everything drawn from `seed`.
Workload Generate(uint64_t seed, size_t n_ops);

struct Outcome {
  std::vector<std::string> violations;  // empty when every promise held
  std::vector<std::string> log;         // one line per operation run, with its result
  std::vector<std::string> trace;       // the SimEnv's last operations
  uint64_t recoveries = 0;              // reopens and crashes checked
};

// Runs `workload` on a fresh SimEnv. Stops at the first violation.
Outcome Run(const Workload& workload);

// A shorter workload that still fails (ddmin over operations), trying at most
// `max_runs` candidates.
Workload Shrink(const Workload& failing, int max_runs);

// A report for a failure: the seed, the violations, the (shrunk) operations, the tail of
// the SimEnv trace and the command that replays it.
std::string Describe(const Workload& workload, const Outcome& outcome);

}  // namespace sim
}  // namespace ironwal

#endif  // IRONWAL_TESTS_SIM_SIM_WORKLOAD_H_
