#include "kpiwatch/template.hpp"

#include <fmt/format.h>

#include <set>
#include <variant>

namespace kpiwatch {

namespace {
enum class Kind { number, period, date, label, text };

const std::map<std::string_view, Kind>& known() {
  static const std::map<std::string_view, Kind> names = {
      {"value", Kind::number},
      {"previous", Kind::number},
      {"change", Kind::number},
      {"change_abs", Kind::number},
      {"change_percent", Kind::number},
      {"change_percent_abs", Kind::number},
      {"baseline", Kind::number},
      {"baseline_change", Kind::number},
      {"baseline_change_abs", Kind::number},
      {"baseline_change_percent", Kind::number},
      {"baseline_change_percent_abs", Kind::number},
      {"period", Kind::period},
      {"previous_period", Kind::period},
      {"baseline_period", Kind::period},
      {"due", Kind::date},
      {"kpi_name", Kind::label},
      {"goal_name", Kind::label},
      {"unit", Kind::label},
      {"items", Kind::label},
      {"kpi", Kind::text},
      {"kpi_name_ja", Kind::text},
      {"kpi_name_en", Kind::text},
      {"goal", Kind::text},
      {"goal_name_ja", Kind::text},
      {"goal_name_en", Kind::text},
      {"rule", Kind::text},
      {"title", Kind::text},
      {"severity", Kind::text},
      {"missing_count", Kind::number},
      {"expected_count", Kind::number},
      {"missing", Kind::label},
      {"body_name", Kind::label},
      {"body_name_ja", Kind::text},
      {"body_name_en", Kind::text},
  };
  return names;
}

std::optional<Kind> kind_of(std::string_view name) {
  if (auto it = known().find(name); it != known().end()) return it->second;
  if (name.starts_with("dims.") && name.size() > 5) return Kind::label;
  if (name.starts_with("labels.") && name.size() > 7) return Kind::text;
  return std::nullopt;
}

std::string known_names() {
  std::vector<std::string_view> names;
  for (const auto& [name, kind] : known()) names.push_back(name);
  return fmt::format("{}, dims.NAME, labels.NAME", fmt::join(names, ", "));
}

struct Writer {
  Lang lang;
  const std::optional<NumberFormat>& format;
  bool raw_id;

  std::string operator()(const std::string& s) const { return s; }
  std::string operator()(const TemplateLabel& l) const { return raw_id ? l.id : lang == Lang::ja ? l.ja : l.en; }
  std::string operator()(const TemplateNumber& n) const { return format_number(n.value, format.value_or(n.format)); }
  std::string operator()(const Period& p) const { return raw_id ? p.str() : period_name(p, lang); }
  std::string operator()(const std::chrono::year_month_day& d) const {
    return raw_id ? date_id(d) : date_name(d, lang);
  }
};
}  // namespace

std::optional<Template::Error> Template::parse_placeholder(std::string_view inside, std::size_t at, Part& part) {
  auto colon = inside.find(':');
  std::string_view name = inside.substr(0, colon);
  part.placeholder = true;
  part.text = std::string(name);
  auto kind = kind_of(name);
  if (!kind) return Error{at, fmt::format("unknown placeholder {{{}}} (known: {})", name, known_names())};
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view spec = inside.substr(colon + 1);
  if (*kind == Kind::number) {
    auto format = NumberFormat::parse(spec);
    if (!format) return Error{at + colon + 2, fmt::format("{{{}}}: {}", inside, format.error().message)};
    part.format = format.value();
  } else if (spec == "id" && *kind != Kind::text) {
    part.raw_id = true;
  } else {
    return Error{at + colon + 2, *kind == Kind::text ? fmt::format("{{{}}}: {{{}}} takes no format", inside, name)
                                                     : fmt::format("{{{}}}: the only format of {{{}}} is \":id\" "
                                                                   "(the id instead of its name)",
                                                                   inside, name)};
  }
  return std::nullopt;
}

std::variant<Template, Template::Error> Template::compile(std::string_view text) {
  Template t;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '{') {
      auto close = text.find('}', i);
      if (close == std::string_view::npos) return Error{i, "unclosed \"{\" (write \"{{\" for a brace)"};
      Part part;
      if (auto e = parse_placeholder(text.substr(i + 1, close - i - 1), i, part)) return *e;
      if (!literal.empty()) t.parts_.push_back({false, std::move(literal), std::nullopt, false});
      literal.clear();
      t.parts_.push_back(std::move(part));
      i = close;
    } else if (c == '}') {
      return Error{i, "unmatched \"}\" (write \"}}\" for a brace)"};
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) t.parts_.push_back({false, std::move(literal), std::nullopt, false});
  return t;
}

std::string Template::render(const TemplateValues& values, Lang lang) const {
  std::string out;
  for (const auto& part : parts_) {
    if (!part.placeholder) {
      out += part.text;
    } else if (auto it = values.find(part.text); it != values.end()) {
      out += std::visit(Writer{lang, part.format, part.raw_id}, it->second);
    }
  }
  return out;
}

}  // namespace kpiwatch
