#include "kpiwatch/text.hpp"

#include <gtest/gtest.h>

namespace kpiwatch {
namespace {

std::string fmt_spec(double v, std::string_view spec) {
  auto f = NumberFormat::parse(spec);
  EXPECT_TRUE(f) << spec;
  return f ? format_number(v, f.value()) : "";
}

TEST(Text, NumbersFollowTheirSpec) {
  EXPECT_EQ(fmt_spec(2, ".1f"), "2.0");
  EXPECT_EQ(fmt_spec(52, ".1f"), "52.0");
  EXPECT_EQ(fmt_spec(13.28, ".1f"), "13.3");
  EXPECT_EQ(fmt_spec(-6.3, "+.1f"), "-6.3");
  EXPECT_EQ(fmt_spec(1.5, "+.1f"), "+1.5");
  EXPECT_EQ(fmt_spec(0, "+.1f"), "0.0");
  EXPECT_EQ(fmt_spec(-0.04, ".1f"), "0.0");
  EXPECT_EQ(fmt_spec(4086, ","), "4,086");
  EXPECT_EQ(fmt_spec(1234567.891, ",.2f"), "1,234,567.89");
  EXPECT_EQ(fmt_spec(-2737, ","), "-2,737");
  EXPECT_EQ(fmt_spec(999, ","), "999");
  EXPECT_EQ(fmt_spec(33.1, ""), "33.1");
  EXPECT_EQ(fmt_spec(-6.300000000000001, ""), "-6.3");
}

TEST(Text, UnknownSpecsAreRefusedByName) {
  for (std::string_view spec : {"x", ".f", ".1", "1f", "+,.1g", ".1f%"}) {
    auto f = NumberFormat::parse(spec);
    ASSERT_FALSE(f) << spec;
    EXPECT_NE(f.error().message.find(spec), std::string::npos) << f.error().message;
  }
}

TEST(Text, PeriodsAreNamedInTheLanguageOfTheText) {
  auto name = [](std::string_view text, PeriodKind kind, Lang lang) {
    return period_name(parse_period(text, kind).value(), lang);
  };
  EXPECT_EQ(name("2024", PeriodKind::year, Lang::ja), "2024年");
  EXPECT_EQ(name("2024", PeriodKind::year, Lang::en), "2024");
  EXPECT_EQ(name("FY2023", PeriodKind::fiscal_year, Lang::ja), "2023年度");
  EXPECT_EQ(name("FY2023", PeriodKind::fiscal_year, Lang::en), "FY2023");
  EXPECT_EQ(name("2024-Q1", PeriodKind::quarter, Lang::ja), "2024年第1四半期");
  EXPECT_EQ(name("2024-Q1", PeriodKind::quarter, Lang::en), "Q1 2024");
  EXPECT_EQ(name("2024-06", PeriodKind::month, Lang::ja), "2024年6月");
  EXPECT_EQ(name("2024-06", PeriodKind::month, Lang::en), "June 2024");
}

TEST(Text, DatesAreWrittenAsPeopleWriteThem) {
  using namespace std::chrono;
  EXPECT_EQ(date_name(year(2026) / June / 30, Lang::ja), "2026年6月30日");
  EXPECT_EQ(date_name(year(2026) / June / 30, Lang::en), "30 June 2026");
  Lang lang = Lang::en;
  EXPECT_TRUE(parse_lang("ja", lang));
  EXPECT_EQ(lang, Lang::ja);
  EXPECT_FALSE(parse_lang("jp", lang));
}

}  // namespace
}  // namespace kpiwatch

namespace kpiwatch {
namespace {

TEST(Text, DateIdsRoundTripForAnyYearOfAPeriod) {
  using namespace std::chrono;
  for (auto day : {year(2026) / June / 30, year(2999) / December / 31, year(1900) / January / 1}) {
    auto parsed = parse_date_id(date_id(day));
    ASSERT_TRUE(parsed.has_value()) << date_id(day);
    EXPECT_EQ(*parsed, day);
  }
  EXPECT_EQ(date_id(year(2500) / July / 1), "2500-07-01");
  for (std::string_view bad : {"2026-02-30", "2026-6-30", "30 June 2026", ""}) EXPECT_FALSE(parse_date_id(bad)) << bad;
}

}  // namespace
}  // namespace kpiwatch
