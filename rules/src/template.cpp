#include "template.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <variant>

namespace kpiwatch {

namespace {
const std::set<std::string_view> kNames = {
    "kpi",           "kpi_name_ja",    "kpi_name_en", "goal",           "goal_name_ja", "goal_name_en",
    "value",         "previous",       "change",      "change_percent", "period",       "previous_period",
    "unit",          "items",          "due",         "rule",           "title",        "severity",
    "missing_count", "expected_count", "missing",     "body_name_ja",   "body_name_en"};

bool valid_name(std::string_view name) {
  if (kNames.contains(name)) return true;
  for (std::string_view prefix : {"dims.", "labels."})
    if (name.starts_with(prefix) && name.size() > prefix.size()) return true;
  return false;
}
}  // namespace

std::variant<Template, Template::Error> Template::compile(std::string_view text) {
  Template t;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      auto close = text.find('}', i);
      if (close == std::string_view::npos) return Error{i, "unclosed \"{\" (write \"{{\" for a brace)"};
      std::string name(text.substr(i + 1, close - i - 1));
      if (!valid_name(name))
        return Error{i, fmt::format("unknown placeholder {{{}}} (known: {}, dims.NAME, labels.NAME)", name,
                                    fmt::join(kNames, ", "))};
      if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
      literal.clear();
      t.parts_.push_back({true, std::move(name)});
      i = close;
    } else if (c == '}') {
      return Error{i, "unmatched \"}\" (write \"}}\" for a brace)"};
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
  return t;
}

std::string Template::render(const std::map<std::string, std::string>& values) const {
  std::string out;
  for (const auto& part : parts_) {
    if (!part.placeholder) {
      out += part.text;
    } else if (auto it = values.find(part.text); it != values.end()) {
      out += it->second;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return "n/a";
  double rounded = std::round(value * 100.0) / 100.0;
  if (rounded == 0) rounded = 0;  // no "-0"
  std::string s = fmt::format("{:.2f}", rounded);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace kpiwatch
