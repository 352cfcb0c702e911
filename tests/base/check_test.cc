#include "ironwal/base/check.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace {

TEST(CheckDeathTest, PassingCheckDoesNothing) {
  int evaluated = 0;
  IRONWAL_CHECK(++evaluated == 1) << "never printed";
  EXPECT_EQ(evaluated, 1);
  IRONWAL_CHECK_OK(absl::OkStatus());
}

TEST(CheckDeathTest, FailingCheckAbortsWithConditionAndContext) {
  const int offset = 4096;
  EXPECT_DEATH(IRONWAL_CHECK(offset == 0) << "frame at " << offset,
               "check_test.cc:[0-9]+: IRONWAL_CHECK failed: offset == 0 frame at 4096");
}

TEST(CheckDeathTest, CheckOkPrintsTheStatus) {
  EXPECT_DEATH(IRONWAL_CHECK_OK(absl::DataLossError("bad crc")) << "segment 7",
               "IRONWAL_CHECK failed: .* is OK DATA_LOSS: bad crc segment 7");
}

TEST(CheckDeathTest, ChecksStayOnWithNdebug) {
  // This file is compiled like the rest of the project; IRONWAL_CHECK must not depend on
  // NDEBUG the way assert() does.
#ifdef NDEBUG
  EXPECT_DEATH(IRONWAL_CHECK(false), "IRONWAL_CHECK failed: false");
#else
  EXPECT_DEATH(IRONWAL_CHECK(false), "IRONWAL_CHECK failed: false");
#endif
}

}  // namespace
}  // namespace ironwal
