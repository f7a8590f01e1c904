#pragma once
// Texts for people: the language of a text, and numbers, periods and dates
// written as a policy officer writes them in it ("2023年度", "FY2023", "4,086").

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "kpiwatch/period.hpp"
#include "kpiwatch/result.hpp"

namespace kpiwatch {

enum class Lang { ja, en };
std::string_view to_string(Lang lang);
// "ja" or "en"; false (out untouched) for anything else.
bool parse_lang(std::string_view text, Lang& out);

// How a number is written: a format spec such as "+,.1f" (sign, thousands
// separators, fixed decimals), a subset of Python's and fmt's.
struct NumberFormat {
  bool sign = false;            // "+": a plus sign on positive numbers
  bool grouping = false;        // ",": 4,086
  std::optional<int> decimals;  // ".1f": exactly one decimal; none: up to two, trailing zeros dropped
  static Result<NumberFormat> parse(std::string_view spec);
};

// "33.1", "4,086", "+1.5", "-6.3"; "n/a" for NaN and infinities.
std::string format_number(double value, const NumberFormat& format);

// "2024年" / "2024", "2023年度" / "FY2023", "2024年第1四半期" / "Q1 2024", "2024年6月" / "June 2024".
std::string period_name(const Period& period, Lang lang);
// "2026年6月30日" / "30 June 2026".
std::string date_name(std::chrono::year_month_day day, Lang lang);
// "2026-06-30", for labels and JSON.
std::string date_id(std::chrono::year_month_day day);
// The inverse of date_id, for any year of a period (no nanosecond clock, which ends in 2262).
std::optional<std::chrono::year_month_day> parse_date_id(std::string_view text);

// The byte offset of the first sequence in `text` that is not UTF-8 (a stray or cut-off byte, an
// overlong form, a surrogate, a code point above U+10FFFF); none if all of it is.
std::optional<std::size_t> invalid_utf8_at(std::string_view text);
// 1-based line and column (in bytes) of byte `offset` of `text`.
std::pair<std::size_t, std::size_t> line_column_of(std::string_view text, std::size_t offset);

// True if `text` shows nothing: empty, or only white space (U+0020, tabs, newlines, U+00A0,
// the ideographic space U+3000, ...) and invisible marks (U+200B, U+FEFF).
// REQUIRES: `text` is UTF-8 (invalid_utf8_at gives none).
bool is_blank(std::string_view text);

// Text for HTML element content and quoted attributes: & < > " ' escaped.
std::string html_escape(std::string_view text);

}  // namespace kpiwatch
