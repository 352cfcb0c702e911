#include "ironwal/testing/status_matchers.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace {

using ::ironwal::testing::IsOk;
using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;

template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  ::testing::Matcher<const T&>(matcher).MatchAndExplain(value, &listener);
  return listener.str();
}

TEST(StatusMatchersTest, IsOkMatchesOkStatusAndStatusOr) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::StatusOr<int>(7), IsOk());
  EXPECT_THAT(absl::InternalError("x"), Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(absl::NotFoundError("x")), Not(IsOk()));
}

TEST(StatusMatchersTest, IsOkExplainsTheActualStatus) {
  EXPECT_THAT(Explain(IsOk(), absl::DataLossError("bad crc at 64")),
              HasSubstr("DATA_LOSS: bad crc at 64"));
}

TEST(StatusMatchersTest, StatusIsComparesCode) {
  EXPECT_THAT(absl::NotFoundError("gone"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(absl::NotFoundError("gone"), Not(StatusIs(absl::StatusCode::kOutOfRange)));
  EXPECT_THAT(absl::OkStatus(), StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(absl::StatusOr<int>(absl::OutOfRangeError("id 9")),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(absl::StatusOr<int>(3), Not(StatusIs(absl::StatusCode::kInternal)));
}

TEST(StatusMatchersTest, StatusIsComparesMessage) {
  const absl::Status s = absl::DataLossError("read orders/0.wal@4096: crc mismatch");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("@4096")));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kDataLoss, HasSubstr("@8192"))));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kNotFound, HasSubstr("@4096"))));
}

TEST(StatusMatchersTest, IsOkAndHoldsMatchesTheValue) {
  EXPECT_THAT(absl::StatusOr<int>(42), IsOkAndHolds(42));
  EXPECT_THAT(absl::StatusOr<int>(42), IsOkAndHolds(Eq(42)));
  EXPECT_THAT(absl::StatusOr<int>(41), Not(IsOkAndHolds(42)));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("e")), Not(IsOkAndHolds(42)));
  EXPECT_THAT(absl::StatusOr<std::string>("abc"), IsOkAndHolds(HasSubstr("b")));
}

TEST(StatusMatchersTest, IsOkAndHoldsExplainsAnError) {
  const absl::StatusOr<int> failed = absl::UnavailableError("later");
  EXPECT_THAT(Explain(IsOkAndHolds(1), failed), HasSubstr("UNAVAILABLE: later"));
  const absl::StatusOr<int> wrong = 2;
  EXPECT_THAT(Explain(IsOkAndHolds(1), wrong), HasSubstr("doesn't match"));
}

TEST(StatusMatchersTest, AssertOkAndAssignUnwraps) {
  ASSERT_OK_AND_ASSIGN(const std::string value, absl::StatusOr<std::string>("v"));
  EXPECT_EQ(value, "v");
  ASSERT_OK(absl::OkStatus());
  EXPECT_OK(absl::StatusOr<int>(1));
}

}  // namespace
}  // namespace ironwal
