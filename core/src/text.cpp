#include "kpiwatch/text.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/locale/utf.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kpiwatch {
namespace {

constexpr std::array<std::string_view, 12> kMonthsEn = {"January",   "February", "March",    "April",
                                                        "May",       "June",     "July",     "August",
                                                        "September", "October",  "November", "December"};

std::string group_thousands(std::string digits) {
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    out += digits[static_cast<std::size_t>(i)];
    int left = n - 1 - i;
    if (left > 0 && left % 3 == 0) out += ',';
  }
  return out;
}

// Unicode's White_Space characters, and the invisible marks people paste with them.
bool blank_code_point(char32_t c) {
  if (c == 0x20 || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680) return true;
  if ((c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F) return true;
  return c == 0x3000 || c == 0xFEFF;
}

}  // namespace

std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
  using utf8 = boost::locale::utf::utf_traits<char>;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p != end) {
    // ASCII needs no decoding, and is most of what kpiwatch reads.
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
      continue;
    }
    const char* start = p;
    auto c = utf8::decode(p, end);
    if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete)
      return static_cast<std::size_t>(start - text.data());
  }
  return std::nullopt;
}

std::pair<std::size_t, std::size_t> line_column_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

bool is_blank(std::string_view text) {
  using utf8 = boost::locale::utf::utf_traits<char>;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p != end) {
    auto c = utf8::decode(p, end);
    if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete) return false;
    if (!blank_code_point(static_cast<char32_t>(c))) return false;
  }
  return true;
}

std::string_view to_string(Lang lang) { return lang == Lang::ja ? "ja" : "en"; }

bool parse_lang(std::string_view text, Lang& out) {
  if (text == "ja")
    out = Lang::ja;
  else if (text == "en")
    out = Lang::en;
  else
    return false;
  return true;
}

Result<NumberFormat> NumberFormat::parse(std::string_view spec) {
  NumberFormat f;
  std::string_view s = spec;
  auto bad = [&] {
    return Error{ErrorCode::rules_error,
                 fmt::format("unknown number format \"{}\" (write e.g. \".1f\", \"+.1f\", \",\" or \",.0f\")", spec),
                 {},
                 std::nullopt};
  };
  if (s.starts_with('+')) {
    f.sign = true;
    s.remove_prefix(1);
  }
  if (s.starts_with(',')) {
    f.grouping = true;
    s.remove_prefix(1);
  }
  if (s.starts_with('.')) {
    s.remove_prefix(1);
    if (s.empty() || s[0] < '0' || s[0] > '9') return bad();
    f.decimals = s[0] - '0';
    s.remove_prefix(1);
    if (!s.starts_with('f')) return bad();
    s.remove_prefix(1);
  }
  if (!s.empty()) return bad();
  return f;
}

std::string format_number(double value, const NumberFormat& format) {
  if (!std::isfinite(value)) return "n/a";
  int decimals = format.decimals.value_or(2);
  double scale = std::pow(10.0, decimals);
  double rounded = std::round(value * scale) / scale;
  if (rounded == 0) rounded = 0;  // no "-0"
  std::string s = fmt::format("{:.{}f}", std::fabs(rounded), decimals);
  if (!format.decimals && s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (format.grouping) {
    auto dot = s.find('.');
    s = group_thousands(s.substr(0, dot)) + (dot == std::string::npos ? "" : s.substr(dot));
  }
  if (rounded < 0) return "-" + s;
  if (format.sign && rounded > 0) return "+" + s;
  return s;
}

std::string period_name(const Period& p, Lang lang) {
  bool ja = lang == Lang::ja;
  switch (p.kind) {
    case PeriodKind::year:
      return ja ? fmt::format("{}年", p.year) : fmt::format("{}", p.year);
    case PeriodKind::fiscal_year:
      return ja ? fmt::format("{}年度", p.year) : fmt::format("FY{}", p.year);
    case PeriodKind::quarter:
      return ja ? fmt::format("{}年第{}四半期", p.year, p.sub) : fmt::format("Q{} {}", p.sub, p.year);
    case PeriodKind::month:
      return ja ? fmt::format("{}年{}月", p.year, p.sub)
                : fmt::format("{} {}", kMonthsEn[static_cast<std::size_t>(p.sub - 1) % 12], p.year);
  }
  return p.str();
}

std::string date_name(std::chrono::year_month_day day, Lang lang) {
  int y = static_cast<int>(day.year());
  unsigned m = static_cast<unsigned>(day.month());
  unsigned d = static_cast<unsigned>(day.day());
  if (lang == Lang::ja) return fmt::format("{}年{}月{}日", y, m, d);
  return fmt::format("{} {} {}", d, kMonthsEn[(m - 1) % 12], y);
}

std::optional<std::chrono::year_month_day> parse_date_id(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
  std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!day.ok()) return std::nullopt;
  return day;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string date_id(std::chrono::year_month_day day) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                     static_cast<unsigned>(day.day()));
}

}  // namespace kpiwatch
