#pragma once
// Reporting periods: calendar years, Japanese fiscal years (April–March),
// quarters and months, each with a canonical text form.

#include <string>
#include <string_view>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

enum class PeriodKind { year, fiscal_year, quarter, month };

std::string_view to_string(PeriodKind kind);
// Returns false for an unknown name.
bool parse_period_kind(std::string_view text, PeriodKind& out);
// The text form of a period of this kind, for error messages: "2024", "FY2024", ...
std::string_view period_format(PeriodKind kind);

struct Period {
  PeriodKind kind = PeriodKind::year;
  int year = 0;
  int sub = 0;  // quarter 1–4 or month 1–12; 0 for (fiscal) years

  // Canonical text: "2024", "FY2024", "2024-Q1", "2024-03".
  std::string str() const;
  // Consecutive periods of one kind have consecutive ordinals.
  int ordinal() const;
  Period previous() const;
  Period next() const;
  // First day after the period ends, as "YYYY-MM-DD" (fiscal years end 31 March).
  std::string end_date() const;

  friend bool operator==(const Period&, const Period&) = default;
  friend auto operator<=>(const Period& a, const Period& b) { return a.ordinal() <=> b.ordinal(); }
};

// Parses `text` as a period of `kind`; years 1900–2999.
Result<Period> parse_period(std::string_view text, PeriodKind kind);

}  // namespace kpiwatch
