#include "ironwal/testing/json.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"

namespace ironwal {
namespace testing {
namespace {

TEST(JsonTest, ParsesNestedValues) {
  ASSERT_OK_AND_ASSIGN(const Json doc, Json::Parse(R"({"a": [1, 2, {"b": "x\"y\u00e9"}],
      "max": 18446744073709551615, "t": true, "f": false, "n": null, "d": -1.5e2})"));
  EXPECT_EQ(doc["a"].size(), 3u);
  EXPECT_EQ(doc["a"][1].AsUint64(), 2u);
  EXPECT_EQ(doc["a"][2]["b"].AsString(), "x\"y\xc3\xa9");
  EXPECT_EQ(doc["max"].AsUint64(), 18446744073709551615ull);
  EXPECT_TRUE(doc["t"].AsBool());
  EXPECT_FALSE(doc["f"].AsBool());
  EXPECT_TRUE(doc["n"].is_null());
  EXPECT_DOUBLE_EQ(doc["d"].AsDouble(), -150.0);
  EXPECT_TRUE(doc.Has("a"));
  EXPECT_FALSE(doc.Has("zz"));
}

TEST(JsonTest, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "[1] x", "{1: 2}", "tru"}) {
    EXPECT_THAT(Json::Parse(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace testing
}  // namespace ironwal
