#include "kpiwatch/template.hpp"

#include <fmt/format.h>

#include <set>
#include <variant>

namespace kpiwatch {

namespace {
enum class Kind { number, period, date, label, text, ratio, direction, figures };

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

// The report's headline templates name these too.
const std::map<std::string_view, Kind>& report_names() {
  static const std::map<std::string_view, Kind> names = {
      {"ratio", Kind::ratio},  {"direction", Kind::direction}, {"figures", Kind::figures},  {"values", Kind::figures},
      {"first", Kind::number}, {"first_period", Kind::period}, {"series_name", Kind::text},
  };
  return names;
}

std::optional<Kind> kind_of(std::string_view name, TemplateNames names) {
  if (auto it = known().find(name); it != known().end()) return it->second;
  if (names == TemplateNames::report)
    if (auto it = report_names().find(name); it != report_names().end()) return it->second;
  if (name.starts_with("dims.") && name.size() > 5) return Kind::label;
  if (name.starts_with("labels.") && name.size() > 7) return Kind::text;
  return std::nullopt;
}

std::string known_names(TemplateNames which) {
  std::set<std::string_view> names;
  for (const auto& [name, kind] : known()) names.insert(name);
  if (which == TemplateNames::report)
    for (const auto& [name, kind] : report_names()) names.insert(name);
  return fmt::format("{}, dims.NAME, labels.NAME", fmt::join(names, ", "));
}

std::vector<std::string> split_words(std::string_view spec) {
  std::vector<std::string> words;
  std::size_t start = 0;
  for (auto bar = spec.find('|'); bar != std::string_view::npos; bar = spec.find('|', start)) {
    words.emplace_back(spec.substr(start, bar - start));
    start = bar + 1;
  }
  words.emplace_back(spec.substr(start));
  return words;
}

std::string_view direction_word(TemplateDirection d, Lang lang) {
  bool ja = lang == Lang::ja;
  switch (d) {
    case TemplateDirection::rising:
      return ja ? "増加" : "increased";
    case TemplateDirection::falling:
      return ja ? "減少" : "decreased";
    case TemplateDirection::flat:
      return ja ? "横ばい" : "stayed flat";
    case TemplateDirection::none:
      break;
  }
  return "";
}

// "49コース", "33.1%", "4,086 trainees", "2.0年".
std::string with_unit(const std::string& number, const TemplateLabel& unit, Lang lang) {
  const std::string& name = lang == Lang::ja ? unit.ja : unit.en;
  if (name.empty()) return number;
  if (lang == Lang::ja || name == "%") return number + name;
  return number + " " + name;
}

std::string figure_list(const TemplateFigures& f, const NumberFormat& format, Lang lang) {
  std::vector<std::string> items;
  for (const auto& [period, value] : f.points) {
    std::string figure = with_unit(format_number(value, format), f.unit, lang);
    if (!f.with_periods)
      items.push_back(std::move(figure));
    else if (lang == Lang::ja)
      items.push_back(period_name(period, lang) + "に" + figure);
    else
      items.push_back(figure + " in " + period_name(period, lang));
  }
  if (lang == Lang::ja) return fmt::format("{}", fmt::join(items, "、"));
  if (items.size() < 2) return items.empty() ? std::string() : items.front();
  std::string out;
  for (std::size_t i = 0; i + 1 < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + " and " + items.back();
}

struct Writer {
  Lang lang;
  const std::optional<NumberFormat>& format;
  bool raw_id;
  const std::vector<std::string>& words;

  std::string operator()(const std::string& s) const { return s; }
  std::string operator()(const TemplateLabel& l) const { return raw_id ? l.id : lang == Lang::ja ? l.ja : l.en; }
  std::string operator()(const TemplateNumber& n) const { return format_number(n.value, format.value_or(n.format)); }
  std::string operator()(const Period& p) const { return raw_id ? p.str() : period_name(p, lang); }
  std::string operator()(const std::chrono::year_month_day& d) const {
    return raw_id ? date_id(d) : date_name(d, lang);
  }
  std::string operator()(const TemplateRatio& r) const {
    std::string number = format_number(r.value, format.value_or(NumberFormat{false, true, 1}));
    return lang == Lang::ja ? number + "倍" : number + " times";
  }
  std::string operator()(const TemplateDirection& d) const {
    if (d == TemplateDirection::none) return "";
    if (words.size() == 3) return words[static_cast<std::size_t>(d)];
    return std::string(direction_word(d, lang));
  }
  std::string operator()(const TemplateFigures& f) const { return figure_list(f, format.value_or(f.format), lang); }
};
}  // namespace

std::optional<Template::Error> Template::parse_placeholder(std::string_view inside, std::size_t at, TemplateNames names,
                                                           Part& part) {
  auto colon = inside.find(':');
  std::string_view name = inside.substr(0, colon);
  part.placeholder = true;
  part.text = std::string(name);
  auto kind = kind_of(name, names);
  if (!kind) return Error{at, fmt::format("unknown placeholder {{{}}} (known: {})", name, known_names(names))};
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view spec = inside.substr(colon + 1);
  if (*kind == Kind::direction) {
    part.words = split_words(spec);
    if (part.words.size() == 3) return std::nullopt;
    return Error{at + colon + 2, fmt::format("{{{}}}: write three words for rising, falling and flat, "
                                             "separated by \"|\" (増えて|減って|横ばいで)",
                                             inside)};
  }
  if (*kind == Kind::number || *kind == Kind::ratio || *kind == Kind::figures) {
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

std::variant<Template, Template::Error> Template::compile(std::string_view text, TemplateNames names) {
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
      if (auto e = parse_placeholder(text.substr(i + 1, close - i - 1), i, names, part)) return *e;
      if (!literal.empty()) t.parts_.push_back({false, std::move(literal), std::nullopt, false, {}});
      literal.clear();
      t.parts_.push_back(std::move(part));
      i = close;
    } else if (c == '}') {
      return Error{i, "unmatched \"}\" (write \"}}\" for a brace)"};
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) t.parts_.push_back({false, std::move(literal), std::nullopt, false, {}});
  return t;
}

std::string Template::render(const TemplateValues& values, Lang lang) const {
  static const TemplateValues none;
  return render(values, none, lang);
}

std::string Template::render(const TemplateValues& values, const TemplateValues& fallback, Lang lang) const {
  std::string out;
  for (const auto& part : parts_) {
    if (!part.placeholder) {
      out += part.text;
      continue;
    }
    const TemplateValue* value = nullptr;
    if (auto it = values.find(part.text); it != values.end())
      value = &it->second;
    else if (auto f = fallback.find(part.text); f != fallback.end())
      value = &f->second;
    if (value) out += std::visit(Writer{lang, part.format, part.raw_id, part.words}, *value);
  }
  return out;
}

}  // namespace kpiwatch
