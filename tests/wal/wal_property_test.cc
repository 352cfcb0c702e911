// Property test: random sequences of appends, batches, transactions, truncations, reads
// and reopens against an in-memory model, over random options (sync mode, read strategy,
// compression, tiny segments, entry limits). Parity with (and beyond) ironwal 0.6's
// fuzz_wal_consistency.
//
// Seeds: IRONWAL_SEED=n runs one seed; IRONWAL_SEEDS=n runs seeds 0..n-1 (default 60).
// A failure names its seed.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/testing/random_wal_options.h"
#include "ironwal/testing/test_knobs.h"
#include "ironwal/util/random.h"

#include "tests/wal/wal_test_util.h"

namespace ironwal {

using internal::Random;

namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;

using ::ironwal::testing::EnvNumber;

struct ModelStream {
  uint64_t first_id = 0;
  std::vector<std::string> entries;  // by ID; entries below first_id are kept but dead
  uint64_t next_id() const { return entries.size(); }
};

class PropertyRun : public ::ironwal::testing::WalTestBase {
 public:
  PropertyRun(Env* env, uint64_t seed) : WalTestBase(env), rng_(seed) {
    // The default ranges are this test's (tests/sim draws the same with wider ones).
    ::ironwal::testing::RandomizeWalOptions(&rng_, ::ironwal::testing::RandomWalOptionsRanges(),
                                            &options_);
  }

  void Run(int steps) {
    ASSERT_OK(Open());
    for (int step = 0; step < steps; ++step) {
      SCOPED_TRACE(absl::StrCat("step ", step));
      Step();
      if (::testing::Test::HasFatalFailure()) return;
    }
    ASSERT_OK(Reopen());
    for (const auto& [key, model] : model_) CheckStream(key, model);
  }

 private:
  std::string RandomEntry(size_t max) {
    std::string e = rng_.OneIn(2) ? rng_.Bytes(rng_.Uniform(max + 1))
                                  : std::string(rng_.Uniform(max + 1), 'a' + rng_.Uniform(26));
    return e;
  }
  std::string RandomStream() {
    return absl::StrCat("s", rng_.Uniform(3), rng_.OneIn(4) ? "/x" : "");
  }

  void Step() {
    const std::string key = RandomStream();
    ModelStream& model = model_[key];
    const uint64_t op = rng_.Uniform(100);
    if (op < 35) {
      const std::string e = RandomEntry(128);
      ASSERT_THAT(wal_->Append(key, e), IsOkAndHolds(model.next_id()));
      model.entries.push_back(e);
    } else if (op < 55) {
      std::vector<std::string> batch(rng_.Range(1, 10));
      for (auto& e : batch) e = RandomEntry(64);
      const uint64_t first = model.next_id();
      if (rng_.OneIn(2)) {
        ASSERT_THAT(wal_->AppendBatch(key, batch),
                    IsOkAndHolds(IdRange{first, first + batch.size()}));
      } else {
        TxnWriter txn = wal_->NewTransaction(key);
        for (const auto& e : batch) ASSERT_OK(txn.Add(e));
        if (rng_.OneIn(5)) {
          txn.Abort();
          return;
        }
        ASSERT_THAT(txn.Commit(), IsOkAndHolds(IdRange{first, first + batch.size()}));
      }
      model.entries.insert(model.entries.end(), batch.begin(), batch.end());
    } else if (op < 70) {
      if (model.next_id() == 0) return;
      const uint64_t id = rng_.Uniform(model.next_id() + 2);
      if (id >= model.next_id()) {
        ASSERT_THAT(wal_->Get(key, id), StatusIs(absl::StatusCode::kOutOfRange));
      } else if (id < model.first_id) {
        ASSERT_THAT(wal_->Get(key, id), StatusIs(absl::StatusCode::kNotFound));
      } else {
        ASSERT_THAT(wal_->Get(key, id), IsOkAndHolds(model.entries[id]));
      }
    } else if (op < 78) {
      if (model.next_id() == 0) return;
      std::vector<uint64_t> ids(rng_.Range(1, 6));
      for (auto& id : ids) id = model.first_id + rng_.Uniform(model.next_id() - model.first_id);
      std::vector<absl::StatusOr<std::string>> got = wal_->MultiGet(key, ids);
      for (size_t i = 0; i < ids.size(); ++i)
        ASSERT_THAT(got[i], IsOkAndHolds(model.entries[ids[i]]));
    } else if (op < 86) {
      if (model.next_id() == 0) return;
      const uint64_t from = model.first_id + rng_.Uniform(model.next_id() - model.first_id + 1);
      const std::vector<std::string> all = IterateAll(key, from);
      ASSERT_EQ(all.size(), model.next_id() - from);
      for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], model.entries[from + i]);
    } else if (op < 93) {
      if (model.next_id() == 0) return;
      const uint64_t keep = rng_.Uniform(model.next_id() + 3);
      ASSERT_OK_AND_ASSIGN(const TruncateResult r, wal_->Truncate(key, keep));
      // Whole segments only: the first retained ID never passes keep_from_id or the
      // active segment, and never moves backwards.
      ASSERT_GE(r.first_id, model.first_id);
      ASSERT_LE(r.first_id, std::max(keep, model.first_id));
      model.first_id = r.first_id;
    } else {
      ASSERT_OK(Reopen());
      for (const auto& [k, m] : model_) {
        if (m.next_id() > 0) CheckInfo(k, m);
      }
    }
  }

  void CheckInfo(const std::string& key, const ModelStream& model) {
    ASSERT_OK_AND_ASSIGN(const StreamInfo info, wal_->GetStreamInfo(key));
    ASSERT_EQ(info.next_id, model.next_id()) << key;
    ASSERT_EQ(info.first_id, model.first_id) << key;
  }

  void CheckStream(const std::string& key, const ModelStream& model) {
    SCOPED_TRACE("final check of " + key);
    if (model.next_id() == 0) {
      ASSERT_THAT(wal_->GetStreamInfo(key), StatusIs(absl::StatusCode::kNotFound));
      return;
    }
    CheckInfo(key, model);
    const std::vector<std::string> all = IterateAll(key, model.first_id);
    ASSERT_EQ(all.size(), model.next_id() - model.first_id);
    for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], model.entries[model.first_id + i]);
  }

  Random rng_;
  std::map<std::string, ModelStream> model_;
};

TEST(WalPropertyTest, RandomOperationsMatchTheModel) {
  const char* one = std::getenv("IRONWAL_SEED");
  const uint64_t first = one != nullptr ? EnvNumber("IRONWAL_SEED", 0) : 0;
  const uint64_t count = one != nullptr ? 1 : EnvNumber("IRONWAL_SEEDS", 60);
  for (uint64_t seed = first; seed < first + count; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed, " (rerun with IRONWAL_SEED=", seed, ")"));
    MemEnv env;
    PropertyRun run(&env, seed);
    run.Run(300);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace ironwal
