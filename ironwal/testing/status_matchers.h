// File: ironwal/testing/status_matchers.h
//
// gMock matchers for absl::Status and absl::StatusOr<T> (Debian's Abseil 20220623 has no
// absl/status/status_matchers.h). testonly.
//
//   EXPECT_THAT(env->CreateDir(path), IsOk());
//   EXPECT_THAT(wal->Get("s", 99), StatusIs(absl::StatusCode::kOutOfRange));
//   EXPECT_THAT(wal->Get("s", 99), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("99")));
//   EXPECT_THAT(wal->Append("s", "x"), IsOkAndHolds(0));
//   ASSERT_OK_AND_ASSIGN(auto wal, Wal::Open(options));
//
// Each matcher accepts both absl::Status and absl::StatusOr<T>, and explains a mismatch
// with the actual status.
#ifndef IRONWAL_TESTING_STATUS_MATCHERS_H_
#define IRONWAL_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// IsOk(): the status (or StatusOr's status) is OK.
class IsOkMatcher {
 public:
  template <typename StatusType>
  bool MatchAndExplain(const StatusType& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    if (!status.ok()) *listener << "whose status is " << status;
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

// StatusIs(code[, message_matcher]).
class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename StatusType>
  bool MatchAndExplain(const StatusType& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    *listener << "whose status is " << status;
    if (status.code() != code_) return false;
    const std::string message(status.message());
    return message_.MatchAndExplain(message, listener);
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_)
        << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

// IsOkAndHolds(m): a StatusOr<T> that is OK and whose value matches m.
template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT: implicit by design.
    using ValueType = typename std::decay_t<StatusOrType>::value_type;
    return ::testing::Matcher<StatusOrType>(
        new Impl<StatusOrType>(::testing::SafeMatcherCast<const ValueType&>(inner_)));
  }

 private:
  template <typename StatusOrType>
  class Impl : public ::testing::MatcherInterface<StatusOrType> {
   public:
    using ValueType = typename std::decay_t<StatusOrType>::value_type;
    explicit Impl(::testing::Matcher<const ValueType&> inner) : inner_(std::move(inner)) {}

    bool MatchAndExplain(StatusOrType actual,
                         ::testing::MatchResultListener* listener) const override {
      if (!actual.ok()) {
        *listener << "whose status is " << actual.status();
        return false;
      }
      ::testing::StringMatchResultListener inner_listener;
      const bool matches = inner_.MatchAndExplain(*actual, &inner_listener);
      const std::string explanation = inner_listener.str();
      *listener << "whose value " << ::testing::PrintToString(*actual)
                << (matches ? " matches" : " doesn't match");
      if (!explanation.empty()) *listener << ", " << explanation;
      return matches;
    }
    void DescribeTo(std::ostream* os) const override {
      *os << "is OK and has a value that ";
      inner_.DescribeTo(os);
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "is not OK or has a value that ";
      inner_.DescribeNegationTo(os);
    }

   private:
    ::testing::Matcher<const ValueType&> inner_;
  };

  InnerMatcher inner_;
};

}  // namespace internal

inline ::testing::PolymorphicMatcher<internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal::IsOkMatcher());
}

inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(
    absl::StatusCode code,
    ::testing::Matcher<const std::string&> message = ::testing::A<const std::string&>()) {
  return ::testing::MakePolymorphicMatcher(internal::StatusIsMatcher(code, std::move(message)));
}

template <typename InnerMatcher>
internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(InnerMatcher&& inner) {
  return internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

}  // namespace testing
}  // namespace ironwal

#define IRONWAL_TESTING_CONCAT_INNER_(x, y) x##y
#define IRONWAL_TESTING_CONCAT_(x, y) IRONWAL_TESTING_CONCAT_INNER_(x, y)

// ASSERT_OK(expr): fatal unless the status (or StatusOr) is OK.
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::ironwal::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::ironwal::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(lhs, expr): fatal unless `expr` (a StatusOr) is OK; then lhs = value.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(IRONWAL_TESTING_CONCAT_(ironwal_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr)       \
  auto statusor = (expr);                                     \
  ASSERT_THAT(statusor.status(), ::ironwal::testing::IsOk()); \
  lhs = *std::move(statusor)

#endif  // IRONWAL_TESTING_STATUS_MATCHERS_H_
