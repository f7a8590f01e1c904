#include "kpiwatch/json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "kpiwatch/text.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

void append_decimal(std::string& out, double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("shortest_decimal: not a finite number");
  if (value == 0) value = 0;  // -0 reads as 0
  std::array<char, 64> buffer{};
  double magnitude = std::fabs(value);
  auto format = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21) ? std::chars_format::fixed
                                                                          : std::chars_format::scientific;
  auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format);
  if (error != std::errc{}) throw std::logic_error("shortest_decimal: buffer too small");
  out.append(buffer.data(), end);
}

// Strings and keys are escaped by Boost.JSON's own serializer, read straight into `out`.
void append_string(std::string& out, json::string_view text, json::serializer& escaper) {
  escaper.reset(text);
  std::array<char, 512> buffer{};
  while (!escaper.done()) {
    auto chunk = escaper.read(buffer.data(), buffer.size());
    out.append(chunk.data(), chunk.size());
  }
}

void append_value(std::string& out, const json::value& value, json::serializer& escaper) {
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(value.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(value.get_uint64());
      return;
    case json::kind::double_:
      // JSON has no NaN or infinity; JavaScript's JSON.stringify writes them as null too.
      if (!std::isfinite(value.get_double())) {
        out += "null";
      } else {
        append_decimal(out, value.get_double());
      }
      return;
    case json::kind::string:
      append_string(out, value.get_string(), escaper);
      return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_value(out, element, escaper);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(out, member.key(), escaper);
        out += ':';
        append_value(out, member.value(), escaper);
      }
      out += '}';
      return;
    }
  }
}

// Builds the value as boost::json::parser does (on a value_stack), and stops at a key that its
// object already has: Boost.JSON 1.81 keeps the last of two equal keys, and has no option to refuse them.
class StrictHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack stack;

  // The whole text, for the position of a repeated key.
  std::string_view text;
  // Set when parsing stopped at a repeated key; repeated_at is the offset of its first character
  // when the parser handed it over from the text itself (not unescaped into its own buffer).
  std::optional<std::string> repeated_key;
  std::string repeated_pointer;
  std::optional<std::size_t> repeated_at;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    open(true);
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    stack.push_object(n);
    close();
    return true;
  }
  bool on_array_begin(json::error_code&) {
    open(false);
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack.push_array(n);
    close();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    note_key_start(s);
    key_.append(s.data(), s.size());
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    note_key_start(s);
    key_.append(s.data(), s.size());
    if (!frames_[depth_ - 1].add(key_)) {
      repeated_at = key_at_;
      repeated_key = key_;
      repeated_pointer = pointer() + "/" + escaped(key_);
      ec = json::error::syntax;  // the caller reports repeated_key instead
      return false;
    }
    key_.clear();
    key_at_.reset();
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack.push_string(s);
    element_done();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    stack.push_int64(i);
    element_done();
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    stack.push_uint64(u);
    element_done();
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    stack.push_double(d);
    element_done();
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack.push_bool(b);
    element_done();
    return true;
  }
  bool on_null(json::error_code&) {
    stack.push_null();
    element_done();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // An open object (its keys so far) or array (its elements so far). Frames are reused from one
  // object to the next, so that a batch of submissions allocates them once.
  struct Frame {
    bool object = false;
    std::size_t elements = 0;
    std::vector<std::string> keys;               // a small object's keys, searched in order
    std::set<std::string, std::less<>> indexed;  // a large object's keys
    static constexpr std::size_t kSmall = 32;

    void reset(bool is_object) {
      object = is_object;
      elements = 0;
      keys.clear();
      indexed.clear();
    }
    // False if the object has `key` already.
    bool add(const std::string& key) {
      if (keys.size() < kSmall) {
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) return false;
        keys.push_back(key);
        return true;
      }
      if (indexed.empty()) indexed.insert(keys.begin(), keys.end());
      if (!indexed.insert(key).second) return false;
      keys.back() = key;  // the last key, for pointer()
      return true;
    }
  };

  void note_key_start(json::string_view s) {
    if (!key_.empty() || key_at_) return;
    if (s.data() >= text.data() && s.data() < text.data() + text.size())
      key_at_ = static_cast<std::size_t>(s.data() - text.data());
  }

  void open(bool object) {
    if (frames_.size() == depth_) frames_.emplace_back();
    frames_[depth_++].reset(object);
  }
  void close() {
    --depth_;
    element_done();
  }
  void element_done() {
    if (depth_ > 0 && !frames_[depth_ - 1].object) ++frames_[depth_ - 1].elements;
  }

  static std::string escaped(std::string_view key) {
    std::string out;
    for (char c : key) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }
  // RFC 6901: the open objects' current keys and the open arrays' current indexes.
  std::string pointer() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < depth_; ++i) {
      const auto& f = frames_[i];
      out += '/';
      out += f.object ? escaped(f.keys.back()) : std::to_string(f.elements);
    }
    return out;
  }

  std::vector<Frame> frames_;
  std::size_t depth_ = 0;
  std::string key_;
  std::optional<std::size_t> key_at_;
};

}  // namespace

Result<json::value> parse_json(std::string_view text, const json::parse_options& options) {
  json::basic_parser<StrictHandler> parser(options);
  auto& handler = parser.handler();
  handler.stack.reset();
  handler.text = text;
  json::error_code ec;
  std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  if (!ec) return handler.stack.release();

  auto fail = [&](std::size_t offset, std::string what, std::string pointer = {}) {
    auto [line, column] = line_column_of(text, offset);
    return Error{ErrorCode::invalid_json, fmt::format("malformed JSON at line {} column {}: {}", line, column, what),
                 std::move(pointer), std::nullopt};
  };
  if (handler.repeated_key) {
    // At the key's opening quote; at where the parser stopped if the key had to be unescaped.
    return fail(
        handler.repeated_at ? *handler.repeated_at - 1 : consumed,
        fmt::format("key \"{}\" appears twice in one object (at {})", *handler.repeated_key, handler.repeated_pointer),
        handler.repeated_pointer);
  }
  // Bytes that are not UTF-8 stop the parser where they begin (or within a few bytes of it).
  if (auto bad = invalid_utf8_at(text.substr(0, std::min(text.size(), consumed + 4))))
    return fail(*bad,
                fmt::format("byte 0x{:02X} (offset {}) is not UTF-8", static_cast<unsigned char>(text[*bad]), *bad));
  return fail(consumed, ec.message());
}

std::string shortest_decimal(double value) {
  std::string out;
  append_decimal(out, value);
  return out;
}

std::string serialize_json(const json::value& value) {
  std::string out;
  json::serializer escaper;
  append_value(out, value, escaper);
  return out;
}

}  // namespace kpiwatch
