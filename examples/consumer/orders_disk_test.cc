// The orders workload of orders_test.cc on the real disk (PosixEnv under TEST_TMPDIR),
// through @ironwal//ironwal/env:fault_injection_env: for each seed the power is cut at a
// seeded write or sync of a segment file, the unsynced data is dropped, and every order
// acknowledged durable must be there after the reopen, with no gap and nothing invented.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/env/fault_injection_env.h"
#include "ironwal/ironwal.h"

namespace {

std::string Order(uint64_t i) { return "order #" + std::to_string(i); }

// The consumer's state machine: rounds of single orders, most closed by a batch (durable
// when it returns). Stops at the first error (the power cut). Returns how many orders
// were acknowledged durable; `written` counts every order appended successfully.
uint64_t RunOrders(ironwal::Wal* wal, uint64_t* written) {
  uint64_t durable = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i) {
      auto id = wal->Append("orders", Order(*written));
      if (!id.ok()) return durable;
      EXPECT_EQ(*id, *written);
      ++*written;
    }
    if (round % 3 == 2) continue;  // leave some singles unsynced
    auto ids = wal->AppendBatch("orders", {Order(*written), Order(*written + 1)});
    if (!ids.ok()) return durable;
    *written += 2;
    durable = *written;
  }
  return durable;
}

TEST(OrdersDiskTest, AcknowledgedOrdersSurviveAPowerLossOnTheRealDisk) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string root = std::string(tmp != nullptr ? tmp : "/tmp") + "/orders_disk";
  int cuts = 0;  // seeds whose rule cut the power during the workload
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::filesystem::remove_all(root);
    ironwal::FaultInjectionEnv env(ironwal::Env::Default(), seed);
    ironwal::FaultRule cut;
    cut.op = seed % 2 == 0 ? ironwal::SimOp::kSync : ironwal::SimOp::kAppend;
    cut.path_pattern = "*.wal";
    cut.nth = 1 + (seed * 7) % 12;
    cut.fault = ironwal::SimFault::kPowerCut;
    env.AddFaultRule(cut);

    ironwal::WalOptions options;
    options.env = &env;
    options.root = root;
    options.sync_mode = ironwal::SyncMode::kBatchOnly;
    options.max_segment_size = 4096;  // several segments
    auto wal = ironwal::Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    uint64_t written = 0;
    const uint64_t durable = RunOrders(wal->get(), &written);
    if (env.power_cut()) ++cuts;

    // Whatever the Wal still does while it closes happens after the power went out.
    env.SetHook([](const ironwal::SimOpInfo& info) -> std::optional<ironwal::SimFault> {
      if (info.mutating_index == ironwal::SimOpInfo::kNotMutating) return std::nullopt;
      return ironwal::SimFault::kPowerCut;
    });
    wal->reset();
    env.SetHook(nullptr);
    ASSERT_TRUE(env.SimulatePowerLoss().ok());

    wal = ironwal::Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    auto info = (*wal)->GetStreamInfo("orders");
    ASSERT_TRUE(info.ok() || durable == 0) << info.status();
    const uint64_t next_id = info.ok() ? info->next_id : 0;
    EXPECT_GE(next_id, durable);
    EXPECT_LE(next_id, written);
    for (uint64_t id = 0; id < next_id; ++id) {
      auto entry = (*wal)->Get("orders", id);
      ASSERT_TRUE(entry.ok()) << entry.status();
      EXPECT_EQ(*entry, Order(id));
    }
  }
  EXPECT_GE(cuts, 8);
}

}  // namespace
