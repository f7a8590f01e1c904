// Reporting periods: parsing, canonical text, ordering and end dates.

#include "kpiwatch/period.hpp"

#include <gtest/gtest.h>

namespace kpiwatch {
namespace {

Period parsed(std::string_view text, PeriodKind kind) {
  auto p = parse_period(text, kind);
  EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.error().message);
  return p.ok() ? p.value() : Period{};
}

TEST(Period, ParsesACalendarYear) {
  Period p = parsed("2024", PeriodKind::year);
  EXPECT_EQ(p.kind, PeriodKind::year);
  EXPECT_EQ(p.year, 2024);
  EXPECT_EQ(p.sub, 0);
}

TEST(Period, ParsesAFiscalYear) {
  Period p = parsed("FY2024", PeriodKind::fiscal_year);
  EXPECT_EQ(p.kind, PeriodKind::fiscal_year);
  EXPECT_EQ(p.year, 2024);
  EXPECT_EQ(p.sub, 0);
}

TEST(Period, ParsesAQuarter) {
  Period p = parsed("2024-Q3", PeriodKind::quarter);
  EXPECT_EQ(p.kind, PeriodKind::quarter);
  EXPECT_EQ(p.year, 2024);
  EXPECT_EQ(p.sub, 3);
}

TEST(Period, ParsesAMonth) {
  Period p = parsed("2024-03", PeriodKind::month);
  EXPECT_EQ(p.kind, PeriodKind::month);
  EXPECT_EQ(p.year, 2024);
  EXPECT_EQ(p.sub, 3);
}

struct BadPeriod {
  std::string_view text;
  PeriodKind kind;
};

class PeriodRejects : public ::testing::TestWithParam<BadPeriod> {};

TEST_P(PeriodRejects, MalformedTextWithInvalidPeriodOnTheField) {
  auto p = parse_period(GetParam().text, GetParam().kind);
  ASSERT_FALSE(p.ok()) << GetParam().text;
  EXPECT_EQ(to_string(p.error().code), "invalid_period");
  EXPECT_EQ(p.error().field, "period");
  EXPECT_NE(p.error().message.find(std::string(GetParam().text)), std::string::npos) << p.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    BadForms, PeriodRejects,
    ::testing::Values(BadPeriod{"2024-Q5", PeriodKind::quarter}, BadPeriod{"2024-Q0", PeriodKind::quarter},
                      BadPeriod{"2024Q1", PeriodKind::quarter}, BadPeriod{"FY24", PeriodKind::fiscal_year},
                      BadPeriod{"2024", PeriodKind::fiscal_year}, BadPeriod{"fy2024", PeriodKind::fiscal_year},
                      BadPeriod{"2024-13", PeriodKind::month}, BadPeriod{"2024-00", PeriodKind::month},
                      BadPeriod{"2024-3", PeriodKind::month}, BadPeriod{" 2024", PeriodKind::year},
                      BadPeriod{"2024 ", PeriodKind::year}, BadPeriod{"+024", PeriodKind::year},
                      BadPeriod{"", PeriodKind::year}, BadPeriod{"FY2024", PeriodKind::year},
                      BadPeriod{"1899", PeriodKind::year}, BadPeriod{"3000", PeriodKind::year}));

TEST(Period, CanonicalTextRoundTripsForEveryKind) {
  for (auto [text, kind] : {std::pair{"2024", PeriodKind::year}, std::pair{"FY2024", PeriodKind::fiscal_year},
                            std::pair{"2024-Q1", PeriodKind::quarter}, std::pair{"2024-03", PeriodKind::month},
                            std::pair{"1900", PeriodKind::year}, std::pair{"2999-12", PeriodKind::month}}) {
    Period p = parsed(text, kind);
    EXPECT_EQ(p.str(), text);
    auto again = parse_period(p.str(), kind);
    ASSERT_TRUE(again.ok()) << p.str();
    EXPECT_EQ(again.value(), p);
  }
}

TEST(Period, StrPadsMonthsToTwoDigits) {
  EXPECT_EQ((Period{PeriodKind::month, 2024, 1}).str(), "2024-01");
  EXPECT_EQ((Period{PeriodKind::quarter, 2024, 4}).str(), "2024-Q4");
}

TEST(Period, ConsecutiveMonthsHaveConsecutiveOrdinalsAcrossTheYearBoundary) {
  Period dec = parsed("2023-12", PeriodKind::month);
  Period jan = parsed("2024-01", PeriodKind::month);
  EXPECT_EQ(jan.ordinal(), dec.ordinal() + 1);
  EXPECT_EQ(dec.next(), jan);
  EXPECT_EQ(jan.previous(), dec);
  EXPECT_LT(dec, jan);
}

TEST(Period, ConsecutiveQuartersHaveConsecutiveOrdinalsAcrossTheYearBoundary) {
  Period q4 = parsed("2023-Q4", PeriodKind::quarter);
  Period q1 = parsed("2024-Q1", PeriodKind::quarter);
  EXPECT_EQ(q1.ordinal(), q4.ordinal() + 1);
  EXPECT_EQ(q4.next(), q1);
  EXPECT_EQ(q1.previous(), q4);
  EXPECT_EQ(q1.next().str(), "2024-Q2");
}

TEST(Period, YearsAndFiscalYearsStepByOne) {
  Period y = parsed("2024", PeriodKind::year);
  EXPECT_EQ(y.next().str(), "2025");
  EXPECT_EQ(y.previous().str(), "2023");
  EXPECT_EQ(y.next().ordinal(), y.ordinal() + 1);
  Period fy = parsed("FY2024", PeriodKind::fiscal_year);
  EXPECT_EQ(fy.next().str(), "FY2025");
  EXPECT_EQ(fy.previous().str(), "FY2023");
}

TEST(Period, NextThenPreviousIsIdentityForEveryMonthOfAYear) {
  Period p = parsed("2023-01", PeriodKind::month);
  for (int i = 0; i < 24; ++i) {
    Period n = p.next();
    EXPECT_EQ(n.previous(), p) << p.str();
    EXPECT_EQ(n.ordinal(), p.ordinal() + 1) << p.str();
    p = n;
  }
  EXPECT_EQ(p.str(), "2025-01");
}

TEST(Period, EndDateIsTheFirstDayAfterThePeriod) {
  EXPECT_EQ(parsed("2024", PeriodKind::year).end_date(), "2025-01-01");
  EXPECT_EQ(parsed("FY2024", PeriodKind::fiscal_year).end_date(), "2025-04-01");  // fiscal years end 31 March
  EXPECT_EQ(parsed("2024-Q1", PeriodKind::quarter).end_date(), "2024-04-01");
  EXPECT_EQ(parsed("2024-Q4", PeriodKind::quarter).end_date(), "2025-01-01");
  EXPECT_EQ(parsed("2024-02", PeriodKind::month).end_date(), "2024-03-01");
  EXPECT_EQ(parsed("2024-12", PeriodKind::month).end_date(), "2025-01-01");
}

TEST(PeriodKindNames, RoundTripAndRejectUnknown) {
  for (auto kind : {PeriodKind::year, PeriodKind::fiscal_year, PeriodKind::quarter, PeriodKind::month}) {
    PeriodKind out = kind == PeriodKind::year ? PeriodKind::month : PeriodKind::year;
    ASSERT_TRUE(parse_period_kind(to_string(kind), out)) << to_string(kind);
    EXPECT_EQ(out, kind);
  }
  PeriodKind out = PeriodKind::year;
  EXPECT_FALSE(parse_period_kind("fiscal-year", out));
  EXPECT_FALSE(parse_period_kind("", out));
}

}  // namespace
}  // namespace kpiwatch
