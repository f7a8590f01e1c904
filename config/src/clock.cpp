#include "kpiwatch/clock.hpp"

#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace kpiwatch {

std::string format_rfc3339(TimePoint t) {
  // fmt 9 formats a time_point in local time; the "Z" needs UTC.
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - seconds).count();
  std::tm utc = fmt::gmtime(std::chrono::system_clock::to_time_t(seconds));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, ms);
}

}  // namespace kpiwatch
