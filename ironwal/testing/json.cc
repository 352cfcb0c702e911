#include "ironwal/testing/json.h"

#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ironwal {
namespace testing {

class JsonParser {
 public:
  explicit JsonParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<Json> ParseDocument() {
    Json value;
    if (!ParseValue(&value, 0)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) {
      error_ = "trailing characters";
      return Error();
    }
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;

  absl::Status Error() const {
    return absl::InvalidArgumentError(absl::StrCat("json at byte ", pos_, ": ", error_));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Consume(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool Fail(const char* why) {
    error_ = why;
    return false;
  }

  bool ParseValue(Json* out, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      out->type_ = Json::Type::kString;
      return ParseString(&out->text_);
    }
    if (Consume("true") || Consume("false")) {
      out->type_ = Json::Type::kBool;
      out->bool_ = text_[pos_ - 1] == 'e' && text_[pos_ - 2] == 'u';
      return true;
    }
    if (Consume("null")) return true;
    return ParseNumber(out);
  }

  bool ParseNumber(Json* out) {
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
            text_[pos_] == '+' || text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
    }
    if (pos_ == start) return Fail("expected a value");
    out->type_ = Json::Type::kNumber;
    out->text_ = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (!Consume("\\u") || !ParseHex4(&low)) return Fail("lone surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  bool ParseHex4(uint32_t* cp) {
    if (text_.size() - pos_ < 4) return Fail("short \\u escape");
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      *cp <<= 4;
      if (h >= '0' && h <= '9')
        *cp |= h - '0';
      else if (h >= 'a' && h <= 'f')
        *cp |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        *cp |= h - 'A' + 10;
      else
        return Fail("bad hex digit");
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool ParseArray(Json* out, int depth) {
    out->type_ = Json::Type::kArray;
    ++pos_;
    SkipSpace();
    if (Consume("]")) return true;
    while (true) {
      out->array_.emplace_back();
      if (!ParseValue(&out->array_.back(), depth + 1)) return false;
      SkipSpace();
      if (Consume("]")) return true;
      if (!Consume(",")) return Fail("expected , or ]");
    }
  }

  bool ParseObject(Json* out, int depth) {
    out->type_ = Json::Type::kObject;
    ++pos_;
    SkipSpace();
    if (Consume("}")) return true;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (!Consume(":")) return Fail("expected :");
      Json value;
      if (!ParseValue(&value, depth + 1)) return false;
      out->object_[key] = std::move(value);
      SkipSpace();
      if (Consume("}")) return true;
      if (!Consume(",")) return Fail("expected , or }");
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  const char* error_ = "";
};

absl::StatusOr<Json> Json::Parse(absl::string_view text) {
  return JsonParser(text).ParseDocument();
}

namespace {
const Json& Null() {
  static const Json* const null = new Json();
  return *null;
}
}  // namespace

bool Json::AsBool() const {
  if (type_ != Type::kBool) ADD_FAILURE() << "json: not a bool";
  return bool_;
}

uint64_t Json::AsUint64() const {
  uint64_t v = 0;
  if (type_ != Type::kNumber || !absl::SimpleAtoi(text_, &v)) {
    ADD_FAILURE() << "json: not an unsigned integer: " << text_;
  }
  return v;
}

double Json::AsDouble() const {
  double v = 0;
  if (type_ != Type::kNumber || !absl::SimpleAtod(text_, &v)) {
    ADD_FAILURE() << "json: not a number: " << text_;
  }
  return v;
}

const std::string& Json::AsString() const {
  if (type_ != Type::kString) ADD_FAILURE() << "json: not a string";
  return text_;
}

const std::vector<Json>& Json::AsArray() const {
  if (type_ != Type::kArray) ADD_FAILURE() << "json: not an array";
  return array_;
}

const std::map<std::string, Json>& Json::AsObject() const {
  if (type_ != Type::kObject) ADD_FAILURE() << "json: not an object";
  return object_;
}

bool Json::Has(const std::string& key) const {
  return type_ == Type::kObject && object_.count(key) > 0;
}

const Json& Json::operator[](const std::string& key) const {
  auto it = object_.find(key);
  if (type_ != Type::kObject || it == object_.end()) {
    ADD_FAILURE() << "json: no key '" << key << "'";
    return Null();
  }
  return it->second;
}

const Json& Json::operator[](size_t index) const {
  if (type_ != Type::kArray || index >= array_.size()) {
    ADD_FAILURE() << "json: no index " << index;
    return Null();
  }
  return array_[index];
}

size_t Json::size() const {
  return type_ == Type::kArray ? array_.size() : type_ == Type::kObject ? object_.size() : 0;
}

}  // namespace testing
}  // namespace ironwal
