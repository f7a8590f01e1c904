// JSON as people read it: doubles in their shortest round-trip decimal form.

#include "kpiwatch/json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace kpiwatch {
namespace {

namespace json = boost::json;

TEST(ShortestDecimal, WritesTheReportsFiguresAsTheReportDoes) {
  EXPECT_EQ(shortest_decimal(33.1), "33.1");
  EXPECT_EQ(shortest_decimal(26.8), "26.8");
  EXPECT_EQ(shortest_decimal(0.6), "0.6");
  EXPECT_EQ(shortest_decimal(13.28), "13.28");
  EXPECT_EQ(shortest_decimal(4086), "4086");
}

TEST(ShortestDecimal, WholeNumbersHaveNoFractionAndNegativeZeroIsZero) {
  EXPECT_EQ(shortest_decimal(2.0), "2");
  EXPECT_EQ(shortest_decimal(-52.0), "-52");
  EXPECT_EQ(shortest_decimal(0.0), "0");
  EXPECT_EQ(shortest_decimal(-0.0), "0");
}

TEST(ShortestDecimal, KeepsEveryDigitNeededToReadBackTheSameDouble) {
  EXPECT_EQ(shortest_decimal(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(shortest_decimal(1.0 / 3.0), "0.3333333333333333");
}

TEST(ShortestDecimal, IsPlainFromOneMillionthUpToOneE21AndScientificOutside) {
  EXPECT_EQ(shortest_decimal(1e-6), "0.000001");
  EXPECT_EQ(shortest_decimal(1e-7), "1e-07");
  EXPECT_EQ(shortest_decimal(1e20), "100000000000000000000");
  EXPECT_EQ(shortest_decimal(1e21), "1e+21");
  EXPECT_EQ(shortest_decimal(-2.5e-8), "-2.5e-08");
  EXPECT_EQ(shortest_decimal(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(shortest_decimal(std::numeric_limits<double>::denorm_min()), "5e-324");
}

TEST(ShortestDecimal, RefusesWhatIsNotANumber) {
  EXPECT_THROW(shortest_decimal(std::nan("")), std::invalid_argument);
  EXPECT_THROW(shortest_decimal(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST(ShortestDecimal, ReadsBackAsTheSameDoubleOverRandomBitPatterns) {
  std::mt19937_64 random(20241231);
  int checked = 0;
  while (checked < 100000) {
    std::uint64_t bits = random();
    double value = 0;
    static_assert(sizeof value == sizeof bits);
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    std::string text = shortest_decimal(value);
    ASSERT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
    ASSERT_EQ(text.find('E'), std::string::npos) << text;
    ++checked;
  }
}

TEST(ToJson, WritesDoublesByShortestDecimalInsideObjectsAndArrays) {
  json::value v = {{"value", 33.1}, {"points", json::array{2.0, 0.6, -0.0}}, {"nested", {{"rate", 1e-7}}}};
  EXPECT_EQ(serialize_json(v), R"({"value":33.1,"points":[2,0.6,0],"nested":{"rate":1e-07}})");
}

TEST(ToJson, WritesNaNAndInfinityAsNull) {
  json::array a{std::nan(""), std::numeric_limits<double>::infinity()};
  EXPECT_EQ(serialize_json(a), "[null,null]");
}

TEST(ToJson, WritesEverythingButDoublesExactlyAsBoostJsonDoes) {
  // Escapes, Japanese text, control characters, long strings (longer than one read of the escaper).
  json::value v = {{"summary_ja", "全体のステージアップ割合が33.1%から26.8%に低下"},
                   {"quote \"and\" \\ back", "tab\tnew\nline\x01"},
                   {"long", std::string(5000, 'x') + "\"" + std::string(3000, 'y')},
                   {"empty", json::object{}},
                   {"none", json::array{}},
                   {"int", -42},
                   {"uint", std::uint64_t{18446744073709551615ULL}},
                   {"flags", json::array{true, false, nullptr}}};
  EXPECT_EQ(serialize_json(v), json::serialize(v));
  EXPECT_EQ(json::parse(serialize_json(v)), v);
}

}  // namespace
}  // namespace kpiwatch
