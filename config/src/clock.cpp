#include "kpiwatch/clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace kpiwatch {

std::string format_rfc3339(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", std::chrono::floor<std::chrono::seconds>(t), ms);
}

}  // namespace kpiwatch
