#include "kpiwatch/period.hpp"

#include <fmt/format.h>

#include <charconv>

namespace kpiwatch {
namespace {

bool parse_int(std::string_view text, int& out) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

bool valid_year(int year) { return year >= 1900 && year <= 2999; }

}  // namespace

std::string_view to_string(PeriodKind kind) {
  switch (kind) {
    case PeriodKind::year:
      return "year";
    case PeriodKind::fiscal_year:
      return "fiscal_year";
    case PeriodKind::quarter:
      return "quarter";
    case PeriodKind::month:
      return "month";
  }
  return "year";
}

bool parse_period_kind(std::string_view text, PeriodKind& out) {
  for (auto kind : {PeriodKind::year, PeriodKind::fiscal_year, PeriodKind::quarter, PeriodKind::month}) {
    if (text == to_string(kind)) {
      out = kind;
      return true;
    }
  }
  return false;
}

std::string_view period_format(PeriodKind kind) {
  switch (kind) {
    case PeriodKind::year:
      return "YYYY, e.g. \"2024\"";
    case PeriodKind::fiscal_year:
      return "FYYYYY, e.g. \"FY2024\"";
    case PeriodKind::quarter:
      return "YYYY-Qn, e.g. \"2024-Q1\"";
    case PeriodKind::month:
      return "YYYY-MM, e.g. \"2024-03\"";
  }
  return "";
}

std::string Period::str() const {
  switch (kind) {
    case PeriodKind::year:
      return fmt::format("{:04}", year);
    case PeriodKind::fiscal_year:
      return fmt::format("FY{:04}", year);
    case PeriodKind::quarter:
      return fmt::format("{:04}-Q{}", year, sub);
    case PeriodKind::month:
      return fmt::format("{:04}-{:02}", year, sub);
  }
  return {};
}

int Period::ordinal() const {
  switch (kind) {
    case PeriodKind::quarter:
      return year * 4 + (sub - 1);
    case PeriodKind::month:
      return year * 12 + (sub - 1);
    default:
      return year;
  }
}

Period Period::previous() const {
  Period p = *this;
  if (kind == PeriodKind::quarter || kind == PeriodKind::month) {
    int per_year = kind == PeriodKind::quarter ? 4 : 12;
    if (--p.sub == 0) {
      p.sub = per_year;
      --p.year;
    }
  } else {
    --p.year;
  }
  return p;
}

Period Period::next() const {
  Period p = *this;
  if (kind == PeriodKind::quarter || kind == PeriodKind::month) {
    int per_year = kind == PeriodKind::quarter ? 4 : 12;
    if (++p.sub > per_year) {
      p.sub = 1;
      ++p.year;
    }
  } else {
    ++p.year;
  }
  return p;
}

std::string Period::end_date() const {
  switch (kind) {
    case PeriodKind::year:
      return fmt::format("{:04}-01-01", year + 1);
    case PeriodKind::fiscal_year:
      return fmt::format("{:04}-04-01", year + 1);
    case PeriodKind::quarter: {
      Period n = next();
      return fmt::format("{:04}-{:02}-01", n.year, (n.sub - 1) * 3 + 1);
    }
    case PeriodKind::month: {
      Period n = next();
      return fmt::format("{:04}-{:02}-01", n.year, n.sub);
    }
  }
  return {};
}

Result<Period> parse_period(std::string_view text, PeriodKind kind) {
  auto fail = [&]() -> Error {
    return {ErrorCode::invalid_period,
            fmt::format("period \"{}\" does not match the KPI's period kind {} ({})", text, to_string(kind),
                        period_format(kind)),
            "period", std::nullopt};
  };
  Period p;
  p.kind = kind;
  switch (kind) {
    case PeriodKind::year:
      if (text.size() != 4 || !parse_int(text, p.year)) return fail();
      break;
    case PeriodKind::fiscal_year:
      if (text.size() != 6 || !text.starts_with("FY") || !parse_int(text.substr(2), p.year)) return fail();
      break;
    case PeriodKind::quarter:
      if (text.size() != 7 || text.substr(4, 2) != "-Q" || !parse_int(text.substr(0, 4), p.year) ||
          !parse_int(text.substr(6), p.sub) || p.sub < 1 || p.sub > 4)
        return fail();
      break;
    case PeriodKind::month:
      if (text.size() != 7 || text[4] != '-' || !parse_int(text.substr(0, 4), p.year) ||
          !parse_int(text.substr(5), p.sub) || p.sub < 1 || p.sub > 12)
        return fail();
      break;
  }
  if (!valid_year(p.year)) return fail();
  return p;
}

}  // namespace kpiwatch
