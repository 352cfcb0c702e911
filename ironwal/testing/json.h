// File: ironwal/testing/json.h
//
// A small JSON reader for test data (the fixtures' manifest.json files, the CLI's jsonl
// output). testonly. Numbers keep their text so u64 values such as 18446744073709551615
// survive exactly.
//
//   IRONWAL_ASSIGN_OR_RETURN(Json doc, Json::Parse(text));
//   uint64_t next = doc["streams"]["orders"]["next_id"].AsUint64();
//
// Accessors on the wrong type, or a missing key, fail the current test (ADD_FAILURE) and
// return a null value, so a malformed manifest shows up as a test failure, not a crash.
#ifndef IRONWAL_TESTING_JSON_H_
#define IRONWAL_TESTING_JSON_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ironwal {
namespace testing {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  // Parses one JSON value (with surrounding whitespace). InvalidArgument with the byte
  // offset on malformed input.
  static absl::StatusOr<Json> Parse(absl::string_view text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }

  bool AsBool() const;
  uint64_t AsUint64() const;
  double AsDouble() const;
  const std::string& AsString() const;
  const std::vector<Json>& AsArray() const;
  const std::map<std::string, Json>& AsObject() const;

  bool Has(const std::string& key) const;
  const Json& operator[](const std::string& key) const;
  const Json& operator[](size_t index) const;
  size_t size() const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;  // string value, or a number's text
  std::vector<Json> array_;
  std::map<std::string, Json> object_;
};

}  // namespace testing
}  // namespace ironwal

#endif  // IRONWAL_TESTING_JSON_H_
