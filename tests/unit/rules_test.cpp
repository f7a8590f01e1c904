// The rule engine: each condition kind at its edges, on rules written as TOML
// strings against the shipped catalog and series built by hand.

#include "kpiwatch/rules.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/series.hpp"

namespace kpiwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const std::shared_ptr<const Catalog>& catalog() {
  static const std::shared_ptr<const Catalog> c = Catalog::embedded();
  return c;
}

// One [[rule]] with the keys every rule needs; `extra` goes before the condition table.
std::string rule_toml(const std::string& id, const std::string& kpi, const std::string& condition,
                      const std::string& extra = "") {
  std::string summary_en =
      extra.find("summary_en") == std::string::npos ? "summary_en = \"{kpi_name_en} {value}\"\n" : "";
  return fmt::format(
      "[[rule]]\n"
      "id = \"{}\"\n"
      "title = \"Test rule\"\n"
      "kpi = \"{}\"\n"
      "severity = \"warning\"\n"
      "summary_ja = \"{{kpi_name_ja}} {{value}}\"\n"
      "{}"
      "{}\n"
      "{}\n",
      id, kpi, summary_en, extra, condition);
}

std::shared_ptr<const RuleSet> load(const std::string& text) {
  auto loaded = RuleSet::load({{"test.toml", text}}, catalog());
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    std::string all;
    for (const auto& d : *diags) all += d.str() + "\n";
    ADD_FAILURE() << "rules did not load:\n" << all << "\n" << text;
    return nullptr;
  }
  return std::get<0>(loaded);
}

Period period(const std::string& kpi, const std::string& text) {
  const Kpi* k = catalog()->find(kpi);
  EXPECT_NE(k, nullptr) << kpi;
  auto p = parse_period(text, k ? k->period : PeriodKind::year);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? p.value() : Period{};
}

void put(SeriesIndex& index, const std::string& kpi, const Dims& dims, const std::string& at, double value) {
  index.upsert(kpi, dims, Point{period(kpi, at), value, {}});
}

void put_items(SeriesIndex& index, const std::string& kpi, const std::string& at, std::vector<std::string> items) {
  index.upsert(kpi, {}, Point{period(kpi, at), std::nullopt, std::move(items)});
}

// The alerts (pending or firing) the rules raise with the data up to `at`.
std::vector<AlertSample> active_at(const RuleSet& rules, const SeriesIndex& index, const std::string& kpi,
                                   const std::string& at) {
  std::vector<AlertSample> out;
  for (const auto& e : rules.evaluate_at(index, period(kpi, at)))
    for (const auto& a : e.active) out.push_back(a);
  return out;
}

std::vector<AlertSample> deadlines(const RuleSet& rules, const SeriesIndex& index, const std::string& day) {
  int y = 0;
  unsigned m = 0, d = 0;
  EXPECT_EQ(std::sscanf(day.c_str(), "%d-%u-%u", &y, &m, &d), 3);
  TimePoint now = std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(m) / std::chrono::day(d)) +
                  std::chrono::hours(12);
  std::vector<AlertSample> out;
  for (const auto& e : rules.evaluate_deadlines(index, now))
    for (const auto& a : e.active) out.push_back(a);
  return out;
}

std::string label(const AlertSample& a, const std::string& name) {
  auto it = a.labels.find(name);
  return it == a.labels.end() ? "<none>" : it->second;
}

std::vector<std::string> labels_of(const std::vector<AlertSample>& alerts, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& a : alerts) out.push_back(label(a, name));
  return out;
}

const std::string kTrainees = "g01.trainees";   // count, year, no dims
const std::string kRate = "g06.stage_up_rate";  // percent, year, dim stage (default all)
const Dims kAll = {{"stage", "all"}};

// ---------------------------------------------------------------------------
// threshold

TEST(ThresholdCondition, BoundsAreExclusiveOrInclusiveAsNamed) {
  struct Case {
    std::string key;
    double value;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"above", 100, false},         {"above", 100.01, true},        {"above", 99, false},   {"at_or_above", 100, true},
      {"at_or_above", 99.99, false}, {"below", 100, false},          {"below", 99.99, true}, {"below", 101, false},
      {"at_or_below", 100, true},    {"at_or_below", 100.01, false},
  };
  for (const auto& c : cases) {
    auto rules = load(rule_toml("t", kTrainees, "[rule.threshold]\n" + c.key + " = 100"));
    ASSERT_TRUE(rules);
    SeriesIndex index;
    put(index, kTrainees, {}, "2024", c.value);
    auto alerts = active_at(*rules, index, kTrainees, "2024");
    EXPECT_EQ(alerts.size(), c.fires ? 1u : 0u) << c.key << " 100 with value " << c.value;
  }
}

TEST(ThresholdCondition, AnAlertCarriesItsLabelsAndValue) {
  auto rules = load(rule_toml("low", kRate, "[rule.threshold]\nbelow = 30",
                              "labels = { area = \"r_and_d\" }\nreceivers = [\"policy\"]"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2024", 26.8);
  auto alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  const auto& a = alerts[0];
  EXPECT_EQ(a.rule_id, "low");
  EXPECT_EQ(a.kpi, kRate);
  EXPECT_EQ(a.state, AlertState::firing);
  EXPECT_EQ(a.severity, Severity::warning);
  EXPECT_EQ(a.period.str(), "2024");
  EXPECT_EQ(a.value, 26.8);
  EXPECT_EQ(a.labels, (Labels{{"area", "r_and_d"},
                              {"goal", "6"},
                              {"kpi", kRate},
                              {"rule", "low"},
                              {"severity", "warning"},
                              {"stage", "all"}}));
  EXPECT_THAT(a.receivers, ElementsAre("policy"));
}

TEST(ThresholdCondition, NoFigureAtThePeriodRaisesNothing) {
  auto rules = load(rule_toml("t", kTrainees, "[rule.threshold]\nbelow = 100"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2023", 50);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2023").size(), 1u);
}

// ---------------------------------------------------------------------------
// change

TEST(ChangeCondition, OnePeriodOnlyCannotFire) {
  auto rules = load(rule_toml("c", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 0"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2024", 1);
  EXPECT_THAT(active_at(*rules, index, kRate, "2024"), IsEmpty());
  EXPECT_THAT(rules->evaluate_all(index)[0].active, IsEmpty());
}

TEST(ChangeCondition, AGapBreaksPreviousPeriodButNotLastReported) {
  auto rules = load(
      rule_toml("prev", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5",
                "description_en = \"since {previous_period}: {previous} to {value}\"") +
      rule_toml("last", kRate,
                "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5\nagainst = \"last_reported\"",
                "description_en = \"since {previous_period}: {previous} to {value}\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2022", 40);
  put(index, kRate, kAll, "2024", 30);  // no 2023
  auto alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "last");
  EXPECT_EQ(alerts[0].description_en, "since 2022: 40.0 to 30.0");  // a percent: one decimal, as printed

  // Once 2023 is reported, both compare with it.
  put(index, kRate, kAll, "2023", 36);
  alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 2u);
  for (const auto& a : alerts) EXPECT_EQ(a.description_en, "since 2023: 36.0 to 30.0") << a.rule_id;
}

TEST(ChangeCondition, EqualValuesAreNoChange) {
  auto rules =
      load(rule_toml("more0", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 0") +
           rule_toml("least0", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nat_least = 0") +
           rule_toml("rise0", kRate, "[rule.change]\ndirection = \"rising\"\nby = \"percent\"\nmore_than = 0"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2023", 26.8);
  put(index, kRate, kAll, "2024", 26.8);
  EXPECT_THAT(active_at(*rules, index, kRate, "2024"), IsEmpty());
}

TEST(ChangeCondition, MoreThanIsStrictAndAtLeastIsInclusive) {
  auto rules =
      load(rule_toml("more5", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5") +
           rule_toml("least5", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nat_least = 5"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2023", 30);
  put(index, kRate, kAll, "2024", 25);  // exactly 5 points
  auto alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "least5");

  put(index, kRate, kAll, "2024", 24.5);  // 5.5 points
  EXPECT_EQ(active_at(*rules, index, kRate, "2024").size(), 2u);
  put(index, kRate, kAll, "2024", 25.5);  // 4.5 points
  EXPECT_THAT(active_at(*rules, index, kRate, "2024"), IsEmpty());
}

TEST(ChangeCondition, PointsAndPercentMeasureDifferently) {
  // 50 → 45 is a fall of 5 points, or of 10 percent.
  auto rules =
      load(rule_toml("points6", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 6") +
           rule_toml("percent6", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nmore_than = 6") +
           rule_toml("points4", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 4") +
           rule_toml("percent11", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nmore_than = 11") +
           rule_toml("percent10", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nat_least = 10"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2023", 50);
  put(index, kRate, kAll, "2024", 45);
  std::vector<std::string> fired;
  for (const auto& a : active_at(*rules, index, kRate, "2024")) fired.push_back(a.rule_id);
  EXPECT_THAT(fired, UnorderedElementsAre("percent6", "points4", "percent10"));
}

TEST(ChangeCondition, PercentOfAZeroPreviousValueCannotBeMeasured) {
  auto rules =
      load(rule_toml("rise", kTrainees, "[rule.change]\ndirection = \"rising\"\nby = \"percent\"\nmore_than = 0") +
           rule_toml("risep", kTrainees, "[rule.change]\ndirection = \"rising\"\nby = \"points\"\nmore_than = 0"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2023", 0);
  put(index, kTrainees, {}, "2024", 10);
  auto alerts = active_at(*rules, index, kTrainees, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "risep");
}

TEST(ChangeCondition, DirectionMatters) {
  auto rules =
      load(rule_toml("up", kTrainees, "[rule.change]\ndirection = \"rising\"\nby = \"points\"\nmore_than = 1"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2023", 10);
  put(index, kTrainees, {}, "2024", 5);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
  put(index, kTrainees, {}, "2024", 12);
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
}

TEST(ChangeCondition, ARevisionRewritesHistory) {
  auto rules = load(rule_toml("c", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2023", 33.1);
  put(index, kRate, kAll, "2024", 26.8);
  EXPECT_EQ(active_at(*rules, index, kRate, "2024").size(), 1u);
  // The 2023 figure is revised down: the fall is now under 5 points.
  put(index, kRate, kAll, "2023", 30.0);
  EXPECT_THAT(active_at(*rules, index, kRate, "2024"), IsEmpty());
  // The 2024 figure is revised down: it fires again.
  put(index, kRate, kAll, "2024", 20.0);
  auto alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].value, 20.0);
  EXPECT_EQ(index.find(kRate, kAll)->points.size(), 2u);  // a revision replaces, never adds
}

TEST(ChangeCondition, DimsFilterSelectsSeriesAndEachSeriesIsItsOwnAlert) {
  auto rules =
      load(rule_toml("only-all", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5",
                     "dims = { stage = \"all\" }") +
           rule_toml("every", kRate, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  // The report's 2023 → 2024 figures.
  const std::vector<std::tuple<std::string, double, double>> figures = {{"all", 33.1, 26.8},
                                                                        {"basic", 19.0, 24.1},
                                                                        {"applied", 52.3, 44.8},
                                                                        {"nonclinical", 52.0, 37.0},
                                                                        {"clinical", 9.3, 2.0}};
  for (const auto& [stage, y2023, y2024] : figures) {
    put(index, kRate, {{"stage", stage}}, "2023", y2023);
    put(index, kRate, {{"stage", stage}}, "2024", y2024);
  }
  auto alerts = active_at(*rules, index, kRate, "2024");
  std::vector<std::string> only_all, every;
  for (const auto& a : alerts) (a.rule_id == "only-all" ? only_all : every).push_back(label(a, "stage"));
  EXPECT_THAT(only_all, ElementsAre("all"));
  EXPECT_THAT(every, UnorderedElementsAre("all", "applied", "nonclinical", "clinical"));
  // Each series is its own alert: distinct fingerprints.
  std::vector<std::string> fingerprints;
  for (const auto& a : alerts) fingerprints.push_back(a.fingerprint);
  std::sort(fingerprints.begin(), fingerprints.end());
  EXPECT_EQ(std::unique(fingerprints.begin(), fingerprints.end()), fingerprints.end());
}

// ---------------------------------------------------------------------------
// trend

TEST(TrendCondition, DeclinesNeedEveryStepToFallAndEveryPeriodPresent) {
  auto rules = load(rule_toml("d2", kTrainees, "[rule.trend]\ndeclines = 2"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2023", 40);
  put(index, kTrainees, {}, "2024", 35);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty()) << "one step only";
  put(index, kTrainees, {}, "2022", 45);
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
  put(index, kTrainees, {}, "2024", 40);  // equal is no decline
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
  put(index, kTrainees, {}, "2024", 41);  // a rise
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());

  SeriesIndex gap;
  put(gap, kTrainees, {}, "2021", 50);
  put(gap, kTrainees, {}, "2023", 40);  // no 2022
  put(gap, kTrainees, {}, "2024", 30);
  EXPECT_THAT(active_at(*rules, gap, kTrainees, "2024"), IsEmpty());
}

TEST(TrendCondition, Rises) {
  auto rules = load(rule_toml("r3", kTrainees, "[rule.trend]\nrises = 3"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  for (auto [year, v] : std::vector<std::pair<std::string, double>>{{"2021", 1}, {"2022", 2}, {"2023", 3}, {"2024", 4}})
    put(index, kTrainees, {}, year, v);
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2023"), IsEmpty()) << "only two steps before 2023";
  put(index, kTrainees, {}, "2022", 1);  // 1 → 1 is no rise
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
}

TEST(TrendCondition, SlopeOverAWindowIsStrict) {
  // 10, 12, 14: slope exactly 2 per period.
  auto rules = load(rule_toml("above19", kTrainees, "[rule.trend]\nwindow = 3\nslope_above = 1.9") +
                    rule_toml("above2", kTrainees, "[rule.trend]\nwindow = 3\nslope_above = 2") +
                    rule_toml("below21", kTrainees, "[rule.trend]\nwindow = 3\nslope_below = 2.1") +
                    rule_toml("below0", kTrainees, "[rule.trend]\nwindow = 3\nslope_below = 0"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2022", 10);
  put(index, kTrainees, {}, "2023", 12);
  put(index, kTrainees, {}, "2024", 14);
  std::vector<std::string> fired;
  for (const auto& a : active_at(*rules, index, kTrainees, "2024")) fired.push_back(a.rule_id);
  EXPECT_THAT(fired, UnorderedElementsAre("above19", "below21"));

  // A falling window; and a gap makes the slope unevaluable.
  put(index, kTrainees, {}, "2024", 4);
  fired.clear();
  for (const auto& a : active_at(*rules, index, kTrainees, "2024")) fired.push_back(a.rule_id);
  EXPECT_THAT(fired, UnorderedElementsAre("below21", "below0"));
  SeriesIndex gap;
  put(gap, kTrainees, {}, "2022", 10);
  put(gap, kTrainees, {}, "2024", 4);
  EXPECT_THAT(active_at(*rules, gap, kTrainees, "2024"), IsEmpty());
}

// ---------------------------------------------------------------------------
// stagnation

TEST(StagnationCondition, GrowthWithinTheToleranceIsStagnation) {
  auto rules = load(rule_toml("tol0", kTrainees, "[rule.stagnation]\nwindow = 3") +
                    rule_toml("tol1", kTrainees, "[rule.stagnation]\nwindow = 3\ntolerance = 1") +
                    rule_toml("tol099", kTrainees, "[rule.stagnation]\nwindow = 3\ntolerance = 0.99"));
  ASSERT_TRUE(rules);
  auto fired = [&](double a, double b, double c) {
    SeriesIndex index;
    put(index, kTrainees, {}, "2022", a);
    put(index, kTrainees, {}, "2023", b);
    put(index, kTrainees, {}, "2024", c);
    std::vector<std::string> ids;
    for (const auto& x : active_at(*rules, index, kTrainees, "2024")) ids.push_back(x.rule_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_THAT(fired(10, 12, 10), ElementsAre("tol0", "tol099", "tol1"));  // back where it started
  EXPECT_THAT(fired(10, 9, 8), ElementsAre("tol0", "tol099", "tol1"));    // falling is not growing
  EXPECT_THAT(fired(10, 10, 11), ElementsAre("tol1"));                    // grew by exactly the tolerance
  EXPECT_THAT(fired(10, 10, 12), IsEmpty());
}

TEST(StagnationCondition, TolerancePercentIsOfTheFirstValue) {
  auto rules = load(rule_toml("pct", kTrainees, "[rule.stagnation]\nwindow = 2\ntolerance_percent = 10"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2023", 200);
  put(index, kTrainees, {}, "2024", 220);  // +10%
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
  put(index, kTrainees, {}, "2024", 221);  // +10.5%
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
  put(index, kTrainees, {}, "2023", 0);  // percent of nothing
  put(index, kTrainees, {}, "2024", 0);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
}

TEST(StagnationCondition, AtOrBelowALevelForTheWholeWindow) {
  auto rules = load(rule_toml("low", kTrainees, "[rule.stagnation]\nwindow = 3\nat_or_below = 2"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2022", 2);
  put(index, kTrainees, {}, "2023", 1);
  put(index, kTrainees, {}, "2024", 2);
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2023"), IsEmpty()) << "the window starts in 2021";
  put(index, kTrainees, {}, "2023", 3);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
}

TEST(StagnationCondition, AWindowNeedsEveryPeriod) {
  auto rules = load(rule_toml("tol0", kTrainees, "[rule.stagnation]\nwindow = 3"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2021", 10);
  put(index, kTrainees, {}, "2022", 10);
  put(index, kTrainees, {}, "2024", 10);  // no 2023
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
  put(index, kTrainees, {}, "2023", 10);
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
}

// ---------------------------------------------------------------------------
// new_item

const std::string kCountries = "g10.new_reference_countries";

std::shared_ptr<const RuleSet> new_item_rules() {
  return load(
      "[[rule]]\nid = \"new\"\ntitle = \"New\"\nkpi = \"g10.new_reference_countries\"\nseverity = \"info\"\n"
      "summary_ja = \"{items}が日本を参照国に（{period}）\"\nsummary_en = \"{items} ({period})\"\n"
      "[rule.new_item]\n");
}

TEST(NewItemCondition, EveryItemOfTheFirstPeriodIsNew) {
  auto rules = new_item_rules();
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put_items(index, kCountries, "2023", {"El Salvador", "Peru"});
  auto alerts = active_at(*rules, index, kCountries, "2023");
  EXPECT_THAT(labels_of(alerts, "item"), UnorderedElementsAre("El Salvador", "Peru"));
}

TEST(NewItemCondition, OnlyItemsNotSeenInAnyEarlierPeriodOneAlertEach) {
  auto rules = new_item_rules();
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put_items(index, kCountries, "2021", {"Chile"});
  put_items(index, kCountries, "2023", {"El Salvador", "Peru"});
  put_items(index, kCountries, "2024", {"Peru", "Brazil", "Chile", "Egypt"});
  auto alerts = active_at(*rules, index, kCountries, "2024");
  ASSERT_EQ(alerts.size(), 2u);
  std::sort(alerts.begin(), alerts.end(), [](auto& a, auto& b) { return a.labels.at("item") < b.labels.at("item"); });
  EXPECT_EQ(label(alerts[0], "item"), "Brazil");
  EXPECT_EQ(alerts[0].summary_en, "Brazil (2024)");
  EXPECT_EQ(alerts[0].summary_ja, "ブラジルが日本を参照国に（2024年）");  // the catalog's label
  EXPECT_EQ(alerts[0].state, AlertState::firing);
  EXPECT_EQ(label(alerts[1], "item"), "Egypt");
  EXPECT_NE(alerts[0].fingerprint, alerts[1].fingerprint);
  EXPECT_EQ(alerts[0].fingerprint, alert_fingerprint("new", Labels{{"item", "Brazil"}, {"kpi", kCountries}}));

  // A later period does not count as earlier; an empty list raises nothing.
  put_items(index, kCountries, "2025", {});
  EXPECT_THAT(active_at(*rules, index, kCountries, "2025"), IsEmpty());
  EXPECT_EQ(active_at(*rules, index, kCountries, "2024").size(), 2u);
}

TEST(NewItemCondition, ARevisionOfAnEarlierPeriodChangesWhatIsNew) {
  auto rules = new_item_rules();
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put_items(index, kCountries, "2023", {"Peru"});
  put_items(index, kCountries, "2024", {"Brazil"});
  EXPECT_EQ(active_at(*rules, index, kCountries, "2024").size(), 1u);
  put_items(index, kCountries, "2023", {"Peru", "Brazil"});
  EXPECT_THAT(active_at(*rules, index, kCountries, "2024"), IsEmpty());
}

// ---------------------------------------------------------------------------
// missing

TEST(MissingCondition, AFiscalYearFigureDueThreeMonthsAfterTheYearEnds) {
  auto rules = load(rule_toml("late", "g08.device_lag", "[rule.missing]\ndue = \"3 months\"",
                              "summary_en = \"{kpi} {period} due {due}\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, "g08.device_lag", {}, "FY2023", 0.3);
  // FY2024 ends on 31 March 2025; its figure is due by 30 June 2025.
  EXPECT_THAT(deadlines(*rules, index, "2025-06-30"), IsEmpty());
  auto alerts = deadlines(*rules, index, "2025-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].period.str(), "FY2024");
  EXPECT_EQ(alerts[0].state, AlertState::firing);
  EXPECT_EQ(label(alerts[0], "kpi"), "g08.device_lag");
  // Submitted: nothing is missing until FY2025 falls due.
  put(index, "g08.device_lag", {}, "FY2024", 0.2);
  EXPECT_THAT(deadlines(*rules, index, "2025-07-01"), IsEmpty());
  EXPECT_THAT(deadlines(*rules, index, "2026-06-30"), IsEmpty());
  EXPECT_EQ(deadlines(*rules, index, "2026-07-01").size(), 1u);
  // Missing rules are not evaluated on data.
  EXPECT_THAT(rules->evaluate_all(index), IsEmpty());
  EXPECT_THAT(rules->evaluate_changed(index, "g08.device_lag", {}), IsEmpty());
}

TEST(MissingCondition, TheDueDateIsTheDayBeforeTheAlertFires) {
  auto rules = load(
      "[[rule]]\nid = \"late\"\ntitle = \"Late\"\nkpi = \"g08.device_lag\"\nseverity = \"warning\"\n"
      "summary_ja = \"{kpi_name_ja}の{period}の数値が期限（{due}）までに提出されていません\"\n"
      "summary_en = \"{period} due {due}\"\n[rule.missing]\ndue = \"3 months\"\n");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, "g08.device_lag", {}, "FY2023", 0.4);
  auto alerts = deadlines(*rules, index, "2025-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].summary_en, "FY2024 due 30 June 2025");
  EXPECT_EQ(alerts[0].summary_ja,
            "デバイスラグ（開発ラグ）の2024年度の数値が期限（2025年6月30日）までに提出されていません");
  EXPECT_EQ(label(alerts[0], "due"), "2025-06-30");
}

TEST(MissingCondition, TheCatalogsDeadlineUnlessTheRuleSetsOne) {
  // The catalog: fiscal years 3 months, calendar years 6 months.
  auto rules = load(rule_toml("late", "*", "[rule.missing]") +
                    rule_toml("later", "g08.device_lag", "[rule.missing]\ndue = \"4 months\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, "g08.device_lag", {}, "FY2023", 0.4);
  put(index, kTrainees, {}, "2024", 4086);
  EXPECT_THAT(deadlines(*rules, index, "2025-06-30"), IsEmpty());
  auto alerts = deadlines(*rules, index, "2025-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "late");
  EXPECT_EQ(alerts[0].period.str(), "FY2024");
  EXPECT_EQ(deadlines(*rules, index, "2025-08-01").size(), 2u);  // FY2024 + 4 months
  EXPECT_THAT(labels_of(deadlines(*rules, index, "2026-07-01"), "kpi"),
              UnorderedElementsAre("g08.device_lag", "g08.device_lag", "g01.trainees"));
}

TEST(MissingCondition, AYearFigureDueSixMonthsAfterTheYearEnds) {
  auto rules = load(rule_toml("late", kRate, "[rule.missing]\ndue = \"6 months\"",
                              "dims = { stage = \"all\" }\nsummary_en = \"{missing}\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2023", 33.1);
  put(index, kRate, {{"stage", "basic"}}, "2022", 10);  // filtered out by dims
  EXPECT_THAT(deadlines(*rules, index, "2025-06-30"), IsEmpty());
  auto alerts = deadlines(*rules, index, "2025-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].period.str(), "2024");
  EXPECT_EQ(alerts[0].summary_en, "all themes");   // the missing series by its label
  EXPECT_EQ(label(alerts[0], "stage"), "<none>");  // one alert for the KPI, not per series
}

TEST(MissingCondition, DaysAreCountedFromTheFirstDayAfterThePeriod) {
  auto rules = load(rule_toml("late", "g08.device_lag", "[rule.missing]\ndue = \"90 days\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, "g08.device_lag", {}, "FY2023", 0.3);
  // 1 April 2025 + 90 days = 30 June 2025.
  EXPECT_THAT(deadlines(*rules, index, "2025-06-29"), IsEmpty());
  EXPECT_EQ(deadlines(*rules, index, "2025-06-30").size(), 1u);
}

TEST(MissingCondition, AKpiThatNeverHadAFigureRaisesNothing) {
  auto rules = load(rule_toml("late", "g08.samd_consultations", "[rule.missing]") +
                    rule_toml("late-g06", "g06.*", "[rule.missing]"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2024", 26.8);
  EXPECT_THAT(deadlines(*rules, index, "2025-07-01"), IsEmpty());
  auto alerts = deadlines(*rules, index, "2026-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kpi, kRate);
}

TEST(MissingCondition, OneAlertPerKpiListsTheSeriesThatReportedBefore) {
  auto rules = load(rule_toml("late", kRate, "[rule.missing]",
                              "labels = { criterion = \"missing\", area = \"r_and_d\" }\n"
                              "summary_en = \"{missing_count} of {expected_count}: {missing} ({body_name_en})\"\n"
                              "description_ja = \"{body_name_ja}: {labels.criterion}\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2024", 26.8);
  put(index, kRate, {{"stage", "basic"}}, "2024", 24.1);
  put(index, kRate, {{"stage", "clinical"}}, "2023", 9.3);
  put(index, kRate, {{"stage", "applied"}}, "2023", 52.3);
  auto alerts = deadlines(*rules, index, "2025-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  const auto& a = alerts[0];
  EXPECT_EQ(a.period.str(), "2024");
  EXPECT_EQ(a.summary_en,
            "2 of 4: applied research, clinical verification (Japan Agency for Medical Research and "
            "Development (AMED))");
  EXPECT_EQ(a.description_ja, "日本医療研究開発機構: missing_data");
  EXPECT_EQ(a.value, 2);
  EXPECT_EQ(label(a, "criterion"), "missing_data");  // whatever the rule says
  EXPECT_EQ(label(a, "body"), "amed");
  EXPECT_EQ(label(a, "area"), "r_and_d");
  EXPECT_EQ(a.fingerprint, alert_fingerprint("late", Labels{{"kpi", kRate}}));
  // A year later every series is missing, and it is still the same alert.
  auto later = deadlines(*rules, index, "2026-07-01");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].summary_en.substr(0, 7), "4 of 4:");
  EXPECT_EQ(later[0].fingerprint, a.fingerprint);
}

TEST(MissingCondition, AThreeYearAverageIsDueOncePerWindow) {
  const std::string avg = "g02.ventures_without_product_3yr_avg";
  auto rules = load(rule_toml("late", avg, "[rule.missing]"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, avg, {}, "2024", 22.7);
  EXPECT_THAT(deadlines(*rules, index, "2025-07-01"), IsEmpty());
  EXPECT_THAT(deadlines(*rules, index, "2026-12-01"), IsEmpty());
  EXPECT_THAT(deadlines(*rules, index, "2028-06-30"), IsEmpty());
  auto alerts = deadlines(*rules, index, "2028-07-01");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].period.str(), "2027");
  put(index, avg, {}, "2027", 21.0);
  EXPECT_THAT(deadlines(*rules, index, "2030-06-30"), IsEmpty());
  EXPECT_EQ(deadlines(*rules, index, "2031-07-01").at(0).period.str(), "2030");
}

TEST(MissingCondition, FiguresThatArriveResolveTheAlert) {
  auto rules = load(rule_toml("late", kRate, "[rule.missing]"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2024", 26.8);
  put(index, kRate, {{"stage", "basic"}}, "2024", 24.1);
  TimePoint now = std::chrono::sys_days(std::chrono::year(2026) / 7 / 2);
  AlertBook book;
  auto fired = book.plan(rules->evaluate_deadlines(index, now), now);
  ASSERT_EQ(fired.transitions.size(), 1u);
  EXPECT_EQ(fired.transitions[0].to, AlertState::firing);
  EXPECT_EQ(fired.transitions[0].alert.value, 2);
  book.commit(fired);
  // One of two arrives: the same alert, now listing one.
  put(index, kRate, kAll, "2025", 27.0);
  auto fewer = book.plan(rules->evaluate_deadlines(index, now, kRate), now);
  EXPECT_TRUE(fewer.transitions.empty());
  ASSERT_EQ(fewer.updated.size(), 1u);
  EXPECT_EQ(fewer.updated[0].value, 1);
  book.commit(fewer);
  // The last one: resolved.
  put(index, kRate, {{"stage", "basic"}}, "2025", 25.0);
  auto resolved = book.plan(rules->evaluate_deadlines(index, now, kRate), now);
  ASSERT_EQ(resolved.transitions.size(), 1u);
  EXPECT_EQ(resolved.transitions[0].to, AlertState::resolved);
}

TEST(MissingCondition, WithoutDeadlineAKpiNeedsDue) {
  auto parsed = Catalog::parse(
      "schema = 1\n[[bodies]]\nid = \"amed\"\nname_ja = \"機構\"\nname_en = \"Agency\"\n"
      "[[goals]]\nnumber = 1\nname_ja = \"目標\"\nname_en = \"Goal\"\n"
      "[deadlines]\nyear = \"6 months\"\n"
      "[[kpis]]\nid = \"g01.yearly\"\ngoal = 1\nname_ja = \"年\"\nname_en = \"Yearly\"\nunit = \"count\"\n"
      "period = \"year\"\nbodies = [\"amed\"]\n"
      "[[kpis]]\nid = \"g01.quarterly\"\ngoal = 1\nname_ja = \"四半期\"\nname_en = \"Quarterly\"\n"
      "unit = \"count\"\nperiod = \"quarter\"\nbodies = [\"amed\"]\n",
      "catalog.toml");
  ASSERT_EQ(parsed.index(), 0u);
  auto small = std::get<0>(parsed);
  std::string single = rule_toml("late", "g01.quarterly", "[rule.missing]");
  auto refused = RuleSet::load({{"test.toml", single}}, small);
  ASSERT_EQ(refused.index(), 1u);
  const auto& diags = std::get<1>(refused);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 9) << diags[0].str();
  EXPECT_THAT(diags[0].message, ::testing::HasSubstr("KPI \"g01.quarterly\" has no reporting deadline"));
  // A pattern keeps the KPIs that have one; a rule's own due covers the rest.
  auto pattern = RuleSet::load({{"test.toml", rule_toml("late", "g01.*", "[rule.missing]")}}, small);
  ASSERT_EQ(pattern.index(), 0u);
  EXPECT_TRUE(std::get<0>(pattern)->covers("late", "g01.yearly", {}));
  EXPECT_FALSE(std::get<0>(pattern)->covers("late", "g01.quarterly", {}));
  EXPECT_EQ(
      RuleSet::load({{"test.toml", rule_toml("late", "g01.quarterly", "[rule.missing]\ndue = \"1 month\"")}}, small)
          .index(),
      0u);
}

// ---------------------------------------------------------------------------
// expression

std::shared_ptr<const RuleSet> expression_rule(const std::string& kpi, const std::string& expr,
                                               const std::string& extra = "") {
  return load(rule_toml("x", kpi, "[rule.expression]\nexpr = '" + expr + "'", extra));
}

TEST(ExpressionCondition, ArithmeticOverTwoKpis) {
  auto rules =
      expression_rule(kTrainees, "g01.trainees / g01.training_courses < 50", "summary_en = \"{value:.2f} per course\"");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2024", 2399);
  put(index, "g01.training_courses", {}, "2024", 50);
  auto alerts = active_at(*rules, index, kTrainees, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].summary_en, "47.98 per course");  // {value} is the left-hand side
  put(index, kTrainees, {}, "2024", 2500);              // exactly 50
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty());
}

TEST(ExpressionCondition, DivisionByZeroOrAMissingFigureRaisesNothing) {
  auto rules = expression_rule(kTrainees, "g01.trainees / g01.training_courses < 50");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2024", 10);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty()) << "no course figure";
  put(index, "g01.training_courses", {}, "2024", 0);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty()) << "division by zero";
  put(index, "g01.training_courses", {}, "2024", 1);
  EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), 1u);
}

TEST(ExpressionCondition, PrecedenceAndBooleans) {
  struct Case {
    std::string expr;
    bool fires;
  };
  const std::vector<Case> cases = {
      {"1 + 2 * 3 == 7", true},
      {"(1 + 2) * 3 == 9", true},
      {"10 - 4 - 3 == 3", true},
      {"12 / 3 / 2 == 2", true},
      {"-value == -8", true},
      {"- - value == 8", true},
      {"value > 5 and value < 10", true},
      {"value > 9 and value < 10", false},
      {"value > 9 or value < 10", true},
      {"not value > 9", true},
      {"not (value > 5 and value < 10)", false},
      {"value != 8", false},
      {"value >= 8 and value <= 8", true},
      // An unevaluable side (division by zero) does not hide a decisive other side, in either order.
      {"value / 0 > 1 or value > 1", true},
      {"value > 1 or value / 0 > 1", true},
      {"value / 0 > 1 and value > 9", false},
      {"value > 9 and value / 0 > 1", false},
      {"value / 0 > 1 or value > 9", false},
      {"value / 0 > 1 and value > 1", false},
  };
  for (const auto& c : cases) {
    auto rules = expression_rule(kTrainees, c.expr);
    ASSERT_TRUE(rules) << c.expr;
    SeriesIndex index;
    put(index, kTrainees, {}, "2024", 8);
    EXPECT_EQ(active_at(*rules, index, kTrainees, "2024").size(), c.fires ? 1u : 0u) << c.expr;
  }
}

TEST(ExpressionCondition, PreviousLooksOnePeriodBack) {
  auto rules = expression_rule(kTrainees, "value < previous(value)",
                               "summary_en = \"{previous} → {value} ({previous_period} → {period})\"");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2024", 5);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty()) << "no previous period";
  put(index, kTrainees, {}, "2023", 5);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2024"), IsEmpty()) << "equal";
  put(index, kTrainees, {}, "2023", 6);
  auto alerts = active_at(*rules, index, kTrainees, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].summary_en, "6 → 5 (2023 → 2024)");
}

TEST(ExpressionCondition, AvgMinMaxOverAWindowNeedEveryPeriod) {
  auto avg = expression_rule(kTrainees, "avg(value, 3) < 20");
  auto min = expression_rule(kTrainees, "min(value, 3) >= 10");
  auto max = expression_rule(kTrainees, "max(value, 2) > 25");
  ASSERT_TRUE(avg && min && max);
  SeriesIndex index;
  put(index, kTrainees, {}, "2022", 10);
  put(index, kTrainees, {}, "2023", 20);
  put(index, kTrainees, {}, "2024", 30);
  EXPECT_THAT(active_at(*avg, index, kTrainees, "2024"), IsEmpty()) << "avg is exactly 20";
  EXPECT_EQ(active_at(*min, index, kTrainees, "2024").size(), 1u);
  EXPECT_EQ(active_at(*max, index, kTrainees, "2024").size(), 1u);
  put(index, kTrainees, {}, "2024", 29);
  EXPECT_EQ(active_at(*avg, index, kTrainees, "2024").size(), 1u) << "avg 19.67";
  put(index, kTrainees, {}, "2022", 9);
  EXPECT_THAT(active_at(*min, index, kTrainees, "2024"), IsEmpty());
  EXPECT_EQ(active_at(*max, index, kTrainees, "2024").size(), 1u);
  put(index, kTrainees, {}, "2024", 25);
  EXPECT_THAT(active_at(*max, index, kTrainees, "2024"), IsEmpty()) << "max(20, 25) is not above 25";

  SeriesIndex gap;
  put(gap, kTrainees, {}, "2022", 1);
  put(gap, kTrainees, {}, "2024", 1);
  EXPECT_THAT(active_at(*avg, gap, kTrainees, "2024"), IsEmpty());
  EXPECT_THAT(active_at(*min, gap, kTrainees, "2024"), IsEmpty());
  EXPECT_EQ(active_at(*max, gap, kTrainees, "2024").size(), 0u);
}

TEST(ExpressionCondition, CountIsTheNumberOfItems) {
  auto rules = expression_rule(kCountries, "count(g10.new_reference_countries) < 1");
  auto by_value = expression_rule(kCountries, "count(value) >= 3");
  ASSERT_TRUE(rules && by_value);
  SeriesIndex index;
  put_items(index, kCountries, "2023", {"El Salvador", "Peru"});
  put_items(index, kCountries, "2024", {});
  put_items(index, kCountries, "2025", {"Brazil", "Egypt", "Uzbekistan"});
  EXPECT_THAT(active_at(*rules, index, kCountries, "2023"), IsEmpty());
  EXPECT_EQ(active_at(*rules, index, kCountries, "2024").size(), 1u);
  EXPECT_THAT(active_at(*by_value, index, kCountries, "2023"), IsEmpty());
  EXPECT_EQ(active_at(*by_value, index, kCountries, "2025").size(), 1u);
}

TEST(ExpressionCondition, AnExplicitSelectorPicksAnotherSeries) {
  auto rules = expression_rule(kRate, "value < g06.stage_up_rate{stage=\"basic\"}", "dims = { stage = \"all\" }");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2024", 26.8);
  put(index, kRate, {{"stage", "basic"}}, "2024", 24.1);
  EXPECT_THAT(active_at(*rules, index, kRate, "2024"), IsEmpty());
  put(index, kRate, {{"stage", "basic"}}, "2024", 30);
  auto alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(label(alerts[0], "stage"), "all");
}

TEST(ExpressionCondition, AKpiWithTheSameDimsInheritsTheWatchedSeriesDims) {
  // Per stage: stage-up themes per evaluated theme, in percent.
  auto rules = expression_rule(kRate, "100 * g06.stage_up_themes / g06.themes_evaluated < 30");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  const std::vector<std::tuple<std::string, double, double>> figures = {
      {"all", 44, 164}, {"basic", 7, 29}, {"applied", 26, 58}, {"clinical", 1, 50}};
  for (const auto& [stage, up, evaluated] : figures) {
    put(index, kRate, {{"stage", stage}}, "2024", 0);  // the watched series
    put(index, "g06.stage_up_themes", {{"stage", stage}}, "2024", up);
    put(index, "g06.themes_evaluated", {{"stage", stage}}, "2024", evaluated);
  }
  // all 26.8, basic 24.1, applied 44.8, clinical 2.0
  EXPECT_THAT(labels_of(active_at(*rules, index, kRate, "2024"), "stage"),
              UnorderedElementsAre("all", "basic", "clinical"));
}

TEST(ExpressionCondition, AChangeOfAnotherKpiItReadsReevaluatesTheWatchedSeries) {
  auto rules = expression_rule(kTrainees, "g01.trainees / g01.training_courses < 50");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2024", 2000);
  put(index, "g01.training_courses", {}, "2024", 10);
  auto first = rules->evaluate_changed(index, kTrainees, {});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_THAT(first[0].active, IsEmpty());  // 200 per course
  put(index, "g01.training_courses", {}, "2024", 50);
  auto second = rules->evaluate_changed(index, "g01.training_courses", {});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].active.size(), 1u);  // 40 per course
  EXPECT_EQ(second[0].group, first[0].group);
  // A KPI the rule does not read re-evaluates nothing.
  EXPECT_THAT(rules->evaluate_changed(index, "g06.stage_up_rate", kAll), IsEmpty());
}

// ---------------------------------------------------------------------------
// hold_for

TEST(HoldFor, PendingUntilTheConditionHeldLongEnough) {
  auto rules = load(rule_toml("held", kTrainees, "[rule.threshold]\nbelow = 50", "hold_for = 3"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2021", 60);
  put(index, kTrainees, {}, "2022", 40);
  put(index, kTrainees, {}, "2023", 40);
  put(index, kTrainees, {}, "2024", 40);
  EXPECT_THAT(active_at(*rules, index, kTrainees, "2021"), IsEmpty());
  auto at = [&](const std::string& p) {
    auto alerts = active_at(*rules, index, kTrainees, p);
    EXPECT_EQ(alerts.size(), 1u) << p;
    return alerts.empty() ? AlertState::inactive : alerts[0].state;
  };
  EXPECT_EQ(at("2022"), AlertState::pending);
  EXPECT_EQ(at("2023"), AlertState::pending);
  EXPECT_EQ(at("2024"), AlertState::firing);
  // A gap breaks the streak.
  SeriesIndex gap;
  put(gap, kTrainees, {}, "2021", 40);
  put(gap, kTrainees, {}, "2022", 40);
  put(gap, kTrainees, {}, "2024", 40);
  auto alerts = active_at(*rules, gap, kTrainees, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::pending);
}

// ---------------------------------------------------------------------------
// templates

TEST(Templates, RenderInJapaneseWithEveryPlaceholder) {
  auto rules = load(
      "[[rule]]\n"
      "id = \"g06-falling\"\n"
      "title = \"ステージアップ低下\"\n"
      "kpi = \"g06.stage_up_rate\"\n"
      "severity = \"critical\"\n"
      "labels = { area = \"r_and_d\" }\n"
      "summary_ja = \"{kpi_name_ja}が{previous}%から{value}%に低下\"\n"
      "summary_en = \"{kpi_name_en} fell from {previous}% to {value}% in {period}\"\n"
      "description_ja = \"ゴール{goal}（{goal_name_ja}）: {previous_period}→{period} "
      "{change}ポイント（{change_percent}%）、"
      "ステージ{dims.stage}、{labels.area}、単位{unit}、{kpi}、{rule}、{title}、{severity}、{{括弧}}\"\n"
      "description_en = \"Goal {goal}: {goal_name_en}\"\n"
      "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5\n");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kRate, kAll, "2023", 33.1);
  put(index, kRate, kAll, "2024", 26.8);
  auto alerts = active_at(*rules, index, kRate, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  const auto& a = alerts[0];
  EXPECT_EQ(a.summary_ja, "採択1年後のステージアップの割合が33.1%から26.8%に低下");
  EXPECT_EQ(a.summary_en, "Stage-up rate of funded themes one year after adoption fell from 33.1% to 26.8% in 2024");
  EXPECT_EQ(a.description_ja,
            "ゴール6（重点分野における研究開発の活性化）: 2023年→2024年 -6.3ポイント（-19.0%）、ステージ全体、r_and_d、"
            "単位%、g06.stage_up_rate、g06-falling、ステージアップ低下、critical、{括弧}");
  EXPECT_EQ(a.description_en, "Goal 6: More active R&D in the five priority areas");
}

TEST(Templates, ABaselinePeriodGivesTheChangeSinceThePlansStart) {
  // Joint research 112 → 226 → 148: a fall on the year, a rise since 2022.
  auto rules = load(
      "[[rule]]\nid = \"jr\"\ntitle = \"t\"\nkpi = \"g03.joint_research\"\nseverity = \"info\"\n"
      "baseline = \"2022\"\n"
      "summary_ja = "
      "\"前年比{change_percent_abs}%減（{previous}{unit}→{value}{unit}）。{baseline_period}（{baseline}{unit}）比では"
      "{baseline_change_percent:+.1f}%\"\n"
      "summary_en = \"{change_percent:.1f}% on {previous_period}; {baseline_change_percent:+.1f}% on "
      "{baseline_period}\"\n"
      "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nmore_than = 10\n" +
      std::string("[[rule]]\nid = \"since\"\ntitle = \"t\"\nkpi = \"g03.joint_research\"\nseverity = \"info\"\n"
                  "baseline = \"2022\"\nsummary_ja = \"s\"\nsummary_en = \"{previous} ({previous_period})\"\n"
                  "[rule.change]\ndirection = \"rising\"\nby = \"percent\"\nmore_than = 30\nagainst = \"baseline\"\n"));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, "g03.joint_research", {}, "2022", 112);
  put(index, "g03.joint_research", {}, "2023", 226);
  put(index, "g03.joint_research", {}, "2024", 148);
  auto alerts = active_at(*rules, index, "g03.joint_research", "2024");
  ASSERT_EQ(alerts.size(), 2u);
  const auto& jr = alerts[0].rule_id == "jr" ? alerts[0] : alerts[1];
  const auto& since = alerts[0].rule_id == "jr" ? alerts[1] : alerts[0];
  EXPECT_EQ(jr.summary_ja, "前年比34.5%減（226件→148件）。2022年（112件）比では+32.1%");
  EXPECT_EQ(jr.summary_en, "-34.5% on 2023; +32.1% on 2022");
  EXPECT_EQ(since.summary_en, "112 (2022)");  // 148 is 32.1% above 2022
}

TEST(Templates, ABaselineMustBeAPeriodOfTheKpisKind) {
  std::string text =
      "[[rule]]\nid = \"b\"\ntitle = \"t\"\nkpi = \"g08.device_lag\"\nseverity = \"info\"\nbaseline = \"2022\"\n"
      "summary_ja = \"s\"\nsummary_en = \"s\"\n[rule.change]\ndirection = \"rising\"\nagainst = \"baseline\"\n";
  auto loaded = RuleSet::load({{"b.toml", text}}, catalog());
  auto* diags = std::get_if<Diagnostics>(&loaded);
  ASSERT_NE(diags, nullptr);
  ASSERT_FALSE(diags->empty());
  EXPECT_EQ((*diags)[0].line, 6);
  EXPECT_THAT((*diags)[0].message, HasSubstr("\"baseline\""));
  EXPECT_THAT((*diags)[0].message, HasSubstr("fiscal_year"));
}

TEST(Templates, AnUnavailablePlaceholderRendersEmpty) {
  // {previous} of a threshold rule on a first period; {items} outside new_item rules.
  auto rules = load(rule_toml("t", kTrainees, "[rule.threshold]\nbelow = 100",
                              "summary_en = \"[{previous}] [{items}] [{due}] {value}\""));
  ASSERT_TRUE(rules);
  SeriesIndex index;
  put(index, kTrainees, {}, "2024", 50);
  auto alerts = active_at(*rules, index, kTrainees, "2024");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].summary_en, "[] [] [] 50");
}

// ---------------------------------------------------------------------------
// fingerprints

TEST(Fingerprint, StableAcrossRunsAndIndependentOfSeverityAndLabels) {
  // A fixed value: fingerprints are stored, so they must not change between builds.
  EXPECT_EQ(alert_fingerprint("g06-stage-up-rate-falling", Labels{{"kpi", "g06.stage_up_rate"}, {"stage", "all"}}),
            alert_fingerprint("g06-stage-up-rate-falling", Labels{{"stage", "all"}, {"kpi", "g06.stage_up_rate"}}));
  const std::string fixed =
      alert_fingerprint("g06-stage-up-rate-falling", Labels{{"kpi", "g06.stage_up_rate"}, {"stage", "all"}});
  EXPECT_EQ(fixed.size(), 16u);
  EXPECT_EQ(fixed, "92e990f00c8c0c39");  // sha256("g06-stage-up-rate-falling\nkpi=g06.stage_up_rate\nstage=all")

  auto fingerprint_with = [&](const std::string& severity, const std::string& labels) {
    auto rules =
        load("[[rule]]\nid = \"g06-stage-up-rate-falling\"\ntitle = \"T\"\nkpi = \"g06.stage_up_rate\"\nseverity = \"" +
             severity + "\"\nlabels = " + labels +
             "\nsummary_ja = \"x\"\nsummary_en = \"x\"\n[rule.change]\ndirection = \"falling\"\nby = \"points\"\n");
    SeriesIndex index;
    put(index, kRate, kAll, "2023", 33.1);
    put(index, kRate, kAll, "2024", 26.8);
    auto alerts = active_at(*rules, index, kRate, "2024");
    EXPECT_EQ(alerts.size(), 1u);
    return alerts.empty() ? std::string() : alerts[0].fingerprint;
  };
  EXPECT_EQ(fingerprint_with("warning", "{ area = \"r_and_d\", criterion = \"change\" }"), fixed);
  EXPECT_EQ(fingerprint_with("critical", "{ criterion = \"change\", area = \"r_and_d\" }"), fixed);
  EXPECT_EQ(fingerprint_with("info", "{}"), fixed);
  // Other series or rules are other alerts.
  EXPECT_NE(alert_fingerprint("g06-stage-up-rate-falling", Labels{{"kpi", "g06.stage_up_rate"}, {"stage", "basic"}}),
            fixed);
  EXPECT_NE(alert_fingerprint("other", Labels{{"kpi", "g06.stage_up_rate"}, {"stage", "all"}}), fixed);
}

// ---------------------------------------------------------------------------
// the shipped rules

TEST(ShippedRules, LoadFromTheBinary) {
  auto sources = RuleSet::embedded_sources();
  EXPECT_EQ(sources.size(), 12u);  // one per goal, and overdue.toml
  auto loaded = RuleSet::load(sources, catalog());
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(loaded));
  auto rules = std::get<0>(loaded);
  EXPECT_GE(rules->size(), 11u);
  EXPECT_TRUE(rules->has_rule("g06-stage-up-rate-falling"));
}

}  // namespace
}  // namespace kpiwatch

namespace kpiwatch {
namespace {

// What a daemon compares at start to know whether stored alert states still hold.
TEST(RuleSetDigest, IsTheSameForTheSameFilesAndCatalogAndChangesWithEither) {
  const std::string text = rule_toml("low", "g01.trainees", "[rule.threshold]\nbelow = 50");
  auto a = load(text);
  auto b = load(text);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->digest().size(), 64u);
  EXPECT_EQ(a->digest(), b->digest());
  auto bound = load(rule_toml("low", "g01.trainees", "[rule.threshold]\nbelow = 51"));
  ASSERT_TRUE(bound);
  EXPECT_NE(a->digest(), bound->digest()) << "a changed bound";

  auto renamed = RuleSet::load({{"other.toml", text}}, catalog());
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(renamed));
  EXPECT_NE(std::get<0>(renamed)->digest(), a->digest()) << "another file name";

  auto small = Catalog::parse(
      "schema = 1\n[[bodies]]\nid = \"b\"\nname_ja = \"b\"\nname_en = \"b\"\n"
      "[[goals]]\nnumber = 1\nname_ja = \"g\"\nname_en = \"g\"\nbodies = [\"b\"]\n"
      "[[kpis]]\nid = \"g01.trainees\"\ngoal = 1\nname_ja = \"t\"\nname_en = \"t\"\nunit = \"count\"\n"
      "period = \"year\"\nbodies = [\"b\"]\n",
      "small.toml");
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const Catalog>>(small));
  auto other_catalog = RuleSet::load({{"test.toml", text}}, std::get<0>(small));
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(other_catalog));
  EXPECT_NE(std::get<0>(other_catalog)->digest(), a->digest()) << "another catalog";
}

}  // namespace
}  // namespace kpiwatch
