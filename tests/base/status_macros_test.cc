#include "ironwal/base/status_macros.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::Status ReturnIfError(absl::Status s, int* reached) {
  IRONWAL_RETURN_IF_ERROR(s);
  ++*reached;
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int n, int* reached) {
  IRONWAL_ASSIGN_OR_RETURN(int half, Half(n));
  ++*reached;
  IRONWAL_ASSIGN_OR_RETURN(const int quarter, Half(half));
  ++*reached;
  return quarter;
}

TEST(StatusMacrosTest, ReturnIfErrorPassesOkThrough) {
  int reached = 0;
  EXPECT_TRUE(ReturnIfError(absl::OkStatus(), &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheErrorUnchanged) {
  int reached = 0;
  const absl::Status s = ReturnIfError(absl::DataLossError("crc"), &reached);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "crc");
  EXPECT_EQ(reached, 0);
}

TEST(StatusMacrosTest, ReturnIfErrorAcceptsStatusOr) {
  auto f = [](absl::StatusOr<int> v) -> absl::Status {
    IRONWAL_RETURN_IF_ERROR(v);
    return absl::OkStatus();
  };
  EXPECT_TRUE(f(3).ok());
  EXPECT_EQ(f(absl::NotFoundError("x")).code(), absl::StatusCode::kNotFound);
}

TEST(StatusMacrosTest, ReturnIfErrorEvaluatesItsArgumentOnce) {
  int calls = 0;
  auto f = [&]() -> absl::Status {
    IRONWAL_RETURN_IF_ERROR((++calls, absl::OkStatus()));
    return absl::OkStatus();
  };
  EXPECT_TRUE(f().ok());
  EXPECT_EQ(calls, 1);
}

TEST(StatusMacrosTest, AssignOrReturnAssignsValues) {
  int reached = 0;
  absl::StatusOr<int> q = Quarter(12, &reached);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 3);
  EXPECT_EQ(reached, 2);
}

TEST(StatusMacrosTest, AssignOrReturnStopsAtTheFirstError) {
  int reached = 0;
  absl::StatusOr<int> q = Quarter(6, &reached);  // 6 -> 3 -> odd.
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reached, 1);
  reached = 0;
  EXPECT_FALSE(Quarter(5, &reached).ok());
  EXPECT_EQ(reached, 0);
}

TEST(StatusMacrosTest, AssignOrReturnMovesMoveOnlyValues) {
  auto make = []() -> absl::StatusOr<std::unique_ptr<std::string>> {
    return std::make_unique<std::string>("moved");
  };
  auto f = [&]() -> absl::StatusOr<std::string> {
    IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<std::string> p, make());
    return *p;
  };
  absl::StatusOr<std::string> s = f();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "moved");
}

TEST(StatusMacrosTest, AssignOrReturnAssignsToAnExistingVariable) {
  auto f = []() -> absl::StatusOr<int> {
    int v = 0;
    IRONWAL_ASSIGN_OR_RETURN(v, Half(8));
    IRONWAL_ASSIGN_OR_RETURN(v, Half(v));
    return v;
  };
  absl::StatusOr<int> v = f();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 2);
}

}  // namespace
}  // namespace ironwal
