#pragma once
// Time as a dependency, so that deadlines, backoff and alert times are testable.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kpiwatch {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// "2024-06-30T12:34:56.789Z"
std::string format_rfc3339(TimePoint t);
// format_rfc3339, or "" for no time.
std::string format_rfc3339(const std::optional<TimePoint>& t);
// Midnight UTC of a "YYYY-MM-DD" date; nullopt otherwise.
std::optional<TimePoint> parse_day(std::string_view text);
// Reads what format_rfc3339 writes (and "...Z" without milliseconds); nullopt otherwise.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace kpiwatch
