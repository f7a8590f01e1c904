// A rule's condition in words (the alert page's criterion) and the bound it sets,
// for every condition kind, on rules written as TOML against the shipped catalog.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/rules.hpp"

namespace kpiwatch {
namespace {

const std::shared_ptr<const Catalog>& catalog() {
  static const std::shared_ptr<const Catalog> c = Catalog::embedded();
  return c;
}

// The criterion of one rule on `kpi` with `condition` (and `extra` keys before it).
RuleCriterion criterion(const std::string& kpi, const std::string& condition, const std::string& extra = "") {
  std::string text = fmt::format(
      "[[rule]]\nid = \"r\"\ntitle = \"t\"\nkpi = \"{}\"\nseverity = \"warning\"\n"
      "summary_ja = \"s\"\nsummary_en = \"s\"\n{}\n{}\n",
      kpi, extra, condition);
  auto loaded = RuleSet::load({{"test.toml", text}}, catalog());
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    std::string all;
    for (const auto& d : *diags) all += d.str() + "\n";
    ADD_FAILURE() << all << text;
    return {};
  }
  auto c = std::get<0>(loaded)->criterion("r", *catalog()->find(kpi));
  EXPECT_TRUE(c.has_value());
  return c.value_or(RuleCriterion{});
}

const std::string kRate = "g06.stage_up_rate";  // percent, year
const std::string kTrainees = "g01.trainees";   // count of 人 / trainees, year
const std::string kLag = "g08.device_lag";      // years, fiscal year

TEST(Criterion, ThresholdsSayTheBoundInTheKpisUnit) {
  auto c = criterion(kTrainees, "[rule.threshold]\nbelow = 2000");
  EXPECT_EQ(c.ja, "値が2,000人を下回る");
  EXPECT_EQ(c.en, "the figure is below 2,000 trainees");
  EXPECT_EQ(c.bound, RuleCriterion::Bound::fixed);
  EXPECT_EQ(c.bound_value(), 2000);
  EXPECT_EQ(c.bound_label(2000, *catalog()->find(kTrainees), Lang::ja), "基準値 2,000人");
  EXPECT_EQ(c.bound_label(2000, *catalog()->find(kTrainees), Lang::en), "bound 2,000 trainees");

  EXPECT_EQ(criterion(kRate, "[rule.threshold]\nabove = 40").ja, "値が40.0%を上回る");
  EXPECT_EQ(criterion(kRate, "[rule.threshold]\nat_or_above = 40").en, "the figure is at or above 40.0%");
  auto lag = criterion(kLag, "[rule.threshold]\nat_or_below = 1.5");
  EXPECT_EQ(lag.ja, "値が1.5年以下");
  EXPECT_EQ(lag.en, "the figure is at or below 1.5 years");
}

TEST(Criterion, AChangeInPointsFromThePreviousYear) {
  auto c = criterion(kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5");
  EXPECT_EQ(c.ja, "前年比で5ポイントを超えて低下");
  EXPECT_EQ(c.en, "falls by more than 5 points from the previous year");
  EXPECT_EQ(c.bound, RuleCriterion::Bound::change);
  EXPECT_EQ(c.against, RuleCriterion::Against::previous_period);
  EXPECT_FALSE(c.bound_value().has_value());  // it needs the figure compared against
  EXPECT_NEAR(*c.bound_value(33.1), 28.1, 1e-9);
  EXPECT_EQ(c.bound_label(28.1, *catalog()->find(kRate), Lang::ja), "基準値 28.1%（比較対象から5ポイント低下）");
  EXPECT_EQ(c.bound_label(28.1, *catalog()->find(kRate), Lang::en),
            "bound 28.1% (5 points below the figure compared against)");
}

TEST(Criterion, AChangeInPercentAtLeastRisingAndAgainstOtherFigures) {
  auto c = criterion(kTrainees, "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nmore_than = 10");
  EXPECT_EQ(c.ja, "前年比で10%を超えて減少");
  EXPECT_EQ(c.en, "falls by more than 10% from the previous year");
  EXPECT_NEAR(*c.bound_value(4086), 3677.4, 1e-9);

  auto rising = criterion(
      kLag, "[rule.change]\ndirection = \"rising\"\nby = \"points\"\nat_least = 0.5\nagainst = \"last_reported\"");
  EXPECT_EQ(rising.ja, "前回の報告値から0.5年以上上昇");
  EXPECT_EQ(rising.en, "rises by 0.5 years or more from the last reported figure");
  EXPECT_EQ(rising.against, RuleCriterion::Against::last_reported);
  EXPECT_NEAR(*rising.bound_value(1.0), 1.5, 1e-9);

  auto any = criterion(kTrainees, "[rule.change]\ndirection = \"falling\"\nby = \"points\"");
  EXPECT_EQ(any.ja, "前年比で減少");
  EXPECT_EQ(any.en, "falls from the previous year");

  auto fiscal =
      criterion("g08.new_device_approvals", "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 3");
  EXPECT_EQ(fiscal.ja, "前年度比で3件を超えて減少");
  EXPECT_EQ(fiscal.en, "falls by more than 3 approvals from the previous fiscal year");
}

TEST(Criterion, AChangeAgainstTheBaselineNamesItsPeriod) {
  auto c = criterion(kTrainees,
                     "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nmore_than = 5\nagainst = \"baseline\"",
                     "baseline = \"2022\"");
  EXPECT_EQ(c.ja, "2022年比で5%を超えて減少");
  EXPECT_EQ(c.en, "falls by more than 5% from 2022");
  EXPECT_EQ(c.against, RuleCriterion::Against::baseline);
  ASSERT_TRUE(c.baseline.has_value());
  EXPECT_EQ(c.baseline->str(), "2022");
}

TEST(Criterion, TrendsCountPeriodsOrGiveTheSlope) {
  auto down = criterion(kRate, "[rule.trend]\ndeclines = 2");
  EXPECT_EQ(down.ja, "2年連続で低下");
  EXPECT_EQ(down.en, "falls 2 years running");
  EXPECT_EQ(down.bound, RuleCriterion::Bound::none);
  auto up = criterion("g08.new_device_approvals", "[rule.trend]\nrises = 3");
  EXPECT_EQ(up.ja, "3年度連続で増加");
  EXPECT_EQ(up.en, "rises 3 fiscal years running");
  auto slope = criterion(kRate, "[rule.trend]\nwindow = 3\nslope_below = -1");
  EXPECT_EQ(slope.ja, "直近3年の傾き（1年あたり）が-1ポイントを下回る");
  EXPECT_EQ(slope.en, "the trend over the last 3 years is below -1 points a year");
}

TEST(Criterion, StagnationIsGrowthWithinAToleranceOrAnAtOrBelowLevel) {
  auto flat = criterion(kTrainees, "[rule.stagnation]\nwindow = 3\ntolerance = 100");
  EXPECT_EQ(flat.ja, "直近3年の伸びが100人以下にとどまる");
  EXPECT_EQ(flat.en, "grows by no more than 100 trainees over the last 3 years");
  auto percent = criterion(kTrainees, "[rule.stagnation]\nwindow = 2\ntolerance_percent = 5");
  EXPECT_EQ(percent.ja, "直近2年の伸びが5%以下にとどまる");
  auto none = criterion(kTrainees, "[rule.stagnation]\nwindow = 3");
  EXPECT_EQ(none.ja, "直近3年で伸びていない");
  EXPECT_EQ(none.en, "has not grown over the last 3 years");
  auto level = criterion(kRate, "[rule.stagnation]\nwindow = 2\nat_or_below = 10");
  EXPECT_EQ(level.ja, "2年にわたり10.0%以下にとどまる");
  EXPECT_EQ(level.en, "stays at or below 10.0% for 2 years");
  EXPECT_EQ(level.bound, RuleCriterion::Bound::fixed);
  EXPECT_EQ(level.bound_value(), 10);
}

TEST(Criterion, NewItemsAndMissingData) {
  auto item = criterion("g04.animal_free_test_methods", "[rule.new_item]");
  EXPECT_EQ(item.ja, "新しい項目が加わる");
  EXPECT_EQ(item.en, "a new item appears");
  auto missing = criterion(kTrainees, "[rule.missing]\ndue = \"3 months\"");
  EXPECT_EQ(missing.ja, "期末から3か月の期限までに数値が提出されない");
  EXPECT_EQ(missing.en, "no figure is submitted within 3 months after the period ends");
  auto days = criterion(kTrainees, "[rule.missing]\ndue = \"90 days\"");
  EXPECT_EQ(days.en, "no figure is submitted within 90 days after the period ends");
  EXPECT_EQ(missing.bound, RuleCriterion::Bound::none);
}

TEST(Criterion, ExpressionsReadWithTheKpisNames) {
  auto ratio = criterion(kTrainees, "[rule.expression]\nexpr = \"g01.trainees / g01.training_courses < 40\"");
  EXPECT_EQ(ratio.ja, "研修受講者数 ÷ 研修コース数が40を下回る");
  EXPECT_EQ(ratio.en, "Trainees at the R&D hubs ÷ Training courses at the R&D hubs is below 40");
  EXPECT_EQ(ratio.bound, RuleCriterion::Bound::none);

  auto both = criterion(kTrainees, "[rule.expression]\nexpr = \"value < previous(value) and avg(value, 3) >= 100\"");
  EXPECT_EQ(both.ja, "研修受講者数が前年の研修受講者数を下回る かつ 直近3年の研修受講者数の平均が100以上");
  EXPECT_EQ(both.en,
            "Trainees at the R&D hubs is below Trainees at the R&D hubs in the previous year and the average of "
            "Trainees at the R&D hubs over 3 years is at or above 100");
}

TEST(Criterion, HoldForSaysHowManyPeriodsRunning) {
  auto c = criterion(kRate, "[rule.threshold]\nbelow = 20", "hold_for = 3");
  EXPECT_EQ(c.ja, "値が20.0%を下回る（3年連続）");
  EXPECT_EQ(c.en, "the figure is below 20.0%, for 3 years running");
}

TEST(Criterion, AnUnknownRuleHasNone) {
  auto loaded = RuleSet::load(RuleSet::embedded_sources(), catalog());
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(loaded));
  const auto& rules = std::get<0>(loaded);
  EXPECT_FALSE(rules->criterion("no-such-rule", *catalog()->find(kRate)).has_value());
  auto shipped = rules->criterion("g06-stage-up-rate-falling", *catalog()->find(kRate));
  ASSERT_TRUE(shipped.has_value());
  EXPECT_EQ(shipped->ja, "前年比で5ポイントを超えて低下");
}

}  // namespace
}  // namespace kpiwatch
