#include "kpiwatch/json.hpp"

#include <array>
#include <boost/json/serializer.hpp>
#include <charconv>
#include <cmath>
#include <stdexcept>

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

}  // namespace

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
