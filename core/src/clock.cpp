#include "kpiwatch/clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>

namespace kpiwatch {

std::string format_rfc3339(TimePoint t) {
  // fmt 9 formats a time_point in local time; the "Z" needs UTC.
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - seconds).count();
  std::tm utc = fmt::gmtime(std::chrono::system_clock::to_time_t(seconds));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, ms);
}

std::optional<TimePoint> parse_day(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

std::string format_rfc3339(const std::optional<TimePoint>& t) { return t ? format_rfc3339(*t) : std::string(); }

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  int y = 0, ms = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::string s(text);
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return std::nullopt;
  std::string_view rest = text.substr(static_cast<std::size_t>(n));
  if (rest.starts_with(".")) {
    if (rest.size() < 5 || std::sscanf(std::string(rest.substr(1, 3)).c_str(), "%3d", &ms) != 1) return std::nullopt;
    rest.remove_prefix(4);
  }
  if (rest != "Z" || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
         std::chrono::milliseconds(ms);
}

}  // namespace kpiwatch
