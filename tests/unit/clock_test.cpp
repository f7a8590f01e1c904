// Time formatting for stored and reported timestamps.

#include "kpiwatch/clock.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace kpiwatch {
namespace {

using std::chrono::milliseconds;

// Runs the test in a time zone far from UTC, restoring the old one afterwards.
class InTokyo {
 public:
  InTokyo() {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", "Asia/Tokyo", 1);
    ::tzset();
  }
  ~InTokyo() {
    if (old_)
      ::setenv("TZ", old_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }
  InTokyo(const InTokyo&) = delete;
  InTokyo& operator=(const InTokyo&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST(FormatRfc3339, WritesUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(TimePoint{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(TimePoint{milliseconds(1719750896789)}), "2024-06-30T12:34:56.789Z");
}

TEST(FormatRfc3339, IsUtcWhateverTheLocalTimeZone) {
  InTokyo tz;
  EXPECT_EQ(format_rfc3339(TimePoint{milliseconds(1719750896789)}), "2024-06-30T12:34:56.789Z");
}

TEST(FormatRfc3339, TruncatesSubMillisecondsAndHandlesTimesBeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339(TimePoint{std::chrono::microseconds(1'999)}), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(format_rfc3339(TimePoint{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
}

TEST(SystemClock, AdvancesWithRealTime) {
  SystemClock clock;
  TimePoint a = clock.now();
  TimePoint b = clock.now();
  EXPECT_LE(a, b);
  EXPECT_GT(a, TimePoint{milliseconds(1'700'000'000'000)});  // after 2023-11
}

}  // namespace
}  // namespace kpiwatch
