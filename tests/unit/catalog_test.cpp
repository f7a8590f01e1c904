// The KPI catalog: the shipped one loads, and a malformed one is reported as
// `file:line:col: message`, every problem at once.

#include "kpiwatch/catalog.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

// A small valid catalog; tests replace or append lines to break it.
const std::string kBodies = R"(schema = 1

[[bodies]]
id = "amed"
name_ja = "機構"
name_en = "Agency"

[[goals]]
number = 1
name_ja = "目標1"
name_en = "Goal 1"
bodies = ["amed"]
)";

std::string kpi_block(const std::string& id, const std::string& extra = "", const std::string& goal = "1",
                      const std::string& unit = "\"count\"") {
  return "\n[[kpis]]\nid = \"" + id + "\"\ngoal = " + goal +
         "\nname_ja = \"指標\"\nname_en = \"A KPI\"\nunit = " + unit + "\nperiod = \"year\"\nbodies = [\"amed\"]\n" +
         extra;
}

struct Position {
  int line = 0;
  int column = 0;
};

// 1-based line and column where `needle` first occurs at or after `from`.
Position position_of(const std::string& text, const std::string& needle, std::size_t from = 0) {
  auto at = text.find(needle, from);
  EXPECT_NE(at, std::string::npos) << needle;
  if (at == std::string::npos) return {};
  Position p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

Diagnostics diagnostics_of(const std::string& text, const std::string& file = "catalog.toml") {
  auto loaded = Catalog::parse(text, file);
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
  ADD_FAILURE() << "the catalog was accepted:\n" << text;
  return {};
}

std::string joined(const Diagnostics& diags) {
  std::string out;
  for (const auto& d : diags) out += d.str() + "\n";
  return out;
}

// Expects exactly one diagnostic, at `where`, whose message contains `message`.
void expect_single(const std::string& text, Position where, const std::string& message) {
  auto diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 1u) << joined(diags);
  EXPECT_EQ(diags[0].file, "catalog.toml");
  EXPECT_EQ(diags[0].line, where.line) << diags[0].str();
  EXPECT_EQ(diags[0].column, where.column) << diags[0].str();
  EXPECT_THAT(diags[0].message, HasSubstr(message));
  EXPECT_THAT(diags[0].str(), ::testing::StartsWith("catalog.toml:" + std::to_string(where.line) + ":" +
                                                    std::to_string(where.column) + ": "));
}

TEST(EmbeddedCatalog, HasTheElevenGoalsOfThePlan) {
  auto catalog = Catalog::embedded();
  ASSERT_NE(catalog, nullptr);
  ASSERT_EQ(catalog->goals().size(), 11u);
  for (int n = 1; n <= 11; ++n) {
    const Goal* goal = catalog->goal(n);
    ASSERT_NE(goal, nullptr) << "goal " << n;
    EXPECT_FALSE(goal->name_ja.empty()) << "goal " << n;
    EXPECT_FALSE(goal->name_en.empty()) << "goal " << n;
  }
}

TEST(EmbeddedCatalog, EveryGoalHasAtLeastOneKpi) {
  auto catalog = Catalog::embedded();
  for (const auto& goal : catalog->goals()) {
    int count = 0;
    for (const auto& kpi : catalog->kpis()) count += kpi.goal == goal.number;
    EXPECT_GE(count, 1) << "goal " << goal.number;
  }
}

TEST(EmbeddedCatalog, HasItemListKpisForGoalsTenAndEleven) {
  auto catalog = Catalog::embedded();
  for (int goal : {10, 11}) {
    bool found = false;
    for (const auto& kpi : catalog->kpis()) found |= kpi.goal == goal && kpi.is_items();
    EXPECT_TRUE(found) << "goal " << goal;
  }
  const Kpi* countries = catalog->find("g10.new_reference_countries");
  ASSERT_NE(countries, nullptr);
  EXPECT_EQ(countries->unit, Unit::items);
  const Kpi* products = catalog->find("g11.supply_instability_products");
  ASSERT_NE(products, nullptr);
  EXPECT_EQ(products->unit, Unit::items);
}

TEST(EmbeddedCatalog, EveryKpiIsFindableAndNamesKnownGoalAndBodies) {
  auto catalog = Catalog::embedded();
  std::set<std::string> ids;
  for (const auto& kpi : catalog->kpis()) {
    EXPECT_TRUE(ids.insert(kpi.id).second) << kpi.id;
    EXPECT_EQ(catalog->find(kpi.id), &kpi) << kpi.id;
    EXPECT_NE(catalog->goal(kpi.goal), nullptr) << kpi.id;
    EXPECT_FALSE(kpi.bodies.empty()) << kpi.id;
    for (const auto& body : kpi.bodies) EXPECT_NE(catalog->body(body), nullptr) << kpi.id << " " << body;
    EXPECT_FALSE(kpi.name_ja.empty()) << kpi.id;
    EXPECT_FALSE(kpi.name_en.empty()) << kpi.id;
    for (const auto& dim : kpi.dims) {
      if (dim.default_value) {
        EXPECT_TRUE(dim.allows(*dim.default_value)) << kpi.id << " " << dim.name;
      }
    }
  }
  EXPECT_EQ(catalog->find("g99.nothing"), nullptr);
}

TEST(EmbeddedCatalog, CountsAndPercentsGetTheirImplicitRanges) {
  auto catalog = Catalog::embedded();
  for (const auto& kpi : catalog->kpis()) {
    if (kpi.unit == Unit::count) {
      ASSERT_TRUE(kpi.min.has_value()) << kpi.id;
      EXPECT_GE(*kpi.min, 0) << kpi.id;
    }
    if (kpi.unit == Unit::percent) {
      ASSERT_TRUE(kpi.min && kpi.max) << kpi.id;
      EXPECT_GE(*kpi.min, 0) << kpi.id;
      EXPECT_LE(*kpi.max, 100) << kpi.id;
    }
  }
}

TEST(Catalog, AValidSmallCatalogLoadsWithItsDimensions) {
  std::string text = kBodies + kpi_block("g01.courses",
                                         "\n[kpis.dims.stage]\nvalues = [\"basic\", \"all\"]\n"
                                         "default = \"all\"\n");
  auto loaded = Catalog::parse(text, "catalog.toml");
  ASSERT_EQ(loaded.index(), 0u) << joined(std::get<1>(loaded));
  const auto& catalog = std::get<0>(loaded);
  const Kpi* kpi = catalog->find("g01.courses");
  ASSERT_NE(kpi, nullptr);
  EXPECT_EQ(kpi->goal, 1);
  EXPECT_EQ(kpi->unit, Unit::count);
  EXPECT_EQ(kpi->period, PeriodKind::year);
  EXPECT_TRUE(kpi->submittable_by("amed"));
  EXPECT_FALSE(kpi->submittable_by("mhlw"));
  const Dimension* stage = kpi->dimension("stage");
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->values, (std::vector<std::string>{"basic", "all"}));
  EXPECT_EQ(stage->default_value, "all");
  EXPECT_EQ(kpi->dimension("phase"), nullptr);
  EXPECT_EQ(kpi->min, 0.0);  // counts are non-negative
}

TEST(Catalog, ReportsAnUnknownKeyAtTheKey) {
  std::string text = kBodies + kpi_block("g01.courses", "  colour = \"red\"\n");
  expect_single(text, position_of(text, "colour"), "unknown key \"colour\"");
}

TEST(Catalog, ABoundThatIsNotFiniteIsAnErrorAtItsValue) {
  // TOML writes nan and inf; a range bound of either would let every figure through.
  for (const char* bound : {"nan", "inf", "-inf"}) {
    SCOPED_TRACE(bound);
    std::string text = kBodies + kpi_block("g01.courses", fmt::format("  max = {}\n", bound));
    expect_single(text, position_of(text, bound, text.find("max = ")),
                  fmt::format("\"max\" must be a finite number, not {}", bound));
  }
}

TEST(Catalog, ReportsAnUnknownTopLevelKey) {
  std::string text = kBodies + kpi_block("g01.courses");
  text.insert(text.find('\n') + 1, "owner = \"someone\"\n");
  expect_single(text, position_of(text, "owner"), "unknown key \"owner\"");
}

TEST(Catalog, ReportsAnUnknownKeyInADimension) {
  std::string text = kBodies + kpi_block("g01.courses", "\n[kpis.dims.stage]\nvalues = [\"all\"]\ndefualt = \"all\"\n");
  expect_single(text, position_of(text, "defualt"), "unknown key \"defualt\"");
}

TEST(Catalog, ReportsAWrongTypeAtTheValue) {
  std::string text = kBodies + kpi_block("g01.courses", "min = \"zero\"\n");
  expect_single(text, position_of(text, "\"zero\""), "\"min\" must be a number");
}

TEST(Catalog, ReportsAGoalNumberGivenAsAString) {
  std::string text = kBodies + kpi_block("g01.courses", "", "\"1\"");
  auto diags = diagnostics_of(text);
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0].line, position_of(text, "goal = \"1\"").line) << joined(diags);
  EXPECT_THAT(diags[0].message, HasSubstr("\"goal\" must be an integer"));
}

TEST(Catalog, ReportsAnUnknownUnit) {
  std::string text = kBodies + kpi_block("g01.courses", "", "1", "\"litres\"");
  expect_single(text, position_of(text, "\"litres\""), "unknown unit \"litres\"");
}

TEST(Catalog, ReportsAnUnknownPeriodKind) {
  std::string text = kBodies + kpi_block("g01.courses");
  auto at = text.find("\"year\"");
  text.replace(at, 6, "\"decade\"");
  expect_single(text, position_of(text, "\"decade\""), "unknown period kind \"decade\"");
}

TEST(Catalog, ReportsAnUnknownGoalAtTheKpi) {
  std::string text = kBodies + kpi_block("g07.courses", "", "7");
  expect_single(text, position_of(text, "[[kpis]]"), "unknown goal 7");
}

TEST(Catalog, ReportsAnUnknownReportingBody) {
  std::string text = kBodies + kpi_block("g01.courses");
  text.replace(text.rfind("[\"amed\"]"), 8, "[\"nobody\"]");
  auto diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 1u) << joined(diags);
  EXPECT_THAT(diags[0].message, HasSubstr("unknown reporting body \"nobody\""));
  EXPECT_EQ(diags[0].line, position_of(text, "[[kpis]]").line);
}

TEST(Catalog, ReportsADuplicateKpiIdAtTheSecondOne) {
  std::string text = kBodies + kpi_block("g01.courses") + kpi_block("g01.courses");
  auto second = text.find("[[kpis]]", text.find("[[kpis]]") + 1);
  expect_single(text, position_of(text, "[[kpis]]", second), "duplicate KPI id \"g01.courses\"");
}

TEST(Catalog, ReportsAKpiIdWhoseGoalDigitsDisagreeWithItsGoal) {
  std::string text = kBodies + kpi_block("g02.courses", "", "1");
  expect_single(text, position_of(text, "[[kpis]]"), "names goal 2 but goal = 1");
}

TEST(Catalog, ReportsAMalformedKpiId) {
  std::string text = kBodies + kpi_block("courses");
  expect_single(text, position_of(text, "[[kpis]]"), "must look like g06.stage_up_rate");
}

TEST(Catalog, ReportsADimensionDefaultThatIsNotOneOfItsValues) {
  std::string text =
      kBodies + kpi_block("g01.courses", "\n[kpis.dims.stage]\nvalues = [\"basic\", \"all\"]\ndefault = \"none\"\n");
  expect_single(text, position_of(text, "[kpis.dims.stage]"), "default \"none\" is not one of the values");
}

TEST(Catalog, ReportsADimensionWithoutValues) {
  std::string text = kBodies + kpi_block("g01.courses", "\n[kpis.dims.stage]\nvalues = []\n");
  auto diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 1u) << joined(diags);
  EXPECT_THAT(diags[0].message, HasSubstr("at least one value"));
  EXPECT_EQ(diags[0].line, position_of(text, "[kpis.dims.stage]").line);
}

TEST(Catalog, ReportsARangeOnAnItemsKpi) {
  std::string text = kBodies + kpi_block("g01.products", "min = 0\n", "1", "\"items\"");
  expect_single(text, position_of(text, "[[kpis]]"), "an items KPI has no valid range");
}

TEST(Catalog, ReportsMinGreaterThanMax) {
  std::string text = kBodies + kpi_block("g01.courses", "min = 10\nmax = 5\n");
  expect_single(text, position_of(text, "[[kpis]]"), "min is greater than max");
}

TEST(Catalog, ReportsAMissingRequiredKey) {
  std::string text = kBodies + kpi_block("g01.courses");
  text.erase(text.find("name_en = \"A KPI\"\n"), 18);
  expect_single(text, position_of(text, "[[kpis]]"), "missing required key \"name_en\"");
}

TEST(Catalog, ReportsAnUnsupportedSchema) {
  std::string text = kBodies + kpi_block("g01.courses");
  text.replace(0, 10, "schema = 2");
  expect_single(text, Position{1, 10}, "unsupported catalog schema 2");
}

TEST(Catalog, ReportsTruncatedTomlWithItsPosition) {
  std::string text = kBodies + kpi_block("g01.courses");
  text.resize(text.find("name_en = \"A KPI\"") + 14);  // cut inside the string
  auto diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 1u) << joined(diags);
  EXPECT_EQ(diags[0].file, "catalog.toml");
  EXPECT_EQ(diags[0].line, position_of(text, "name_en = \"A K").line);
  EXPECT_GT(diags[0].column, 1);
  EXPECT_FALSE(diags[0].message.empty());
}

TEST(Catalog, ReportsEveryErrorInOneFile) {
  std::string text = kBodies + kpi_block("g01.courses", "colour = \"red\"\n", "1", "\"litres\"") +
                     kpi_block("g07.themes", "", "7") + kpi_block("g01.courses");
  auto diags = diagnostics_of(text);
  std::string all = joined(diags);
  EXPECT_EQ(diags.size(), 4u) << all;
  EXPECT_THAT(all, HasSubstr("unknown unit \"litres\""));
  EXPECT_THAT(all, HasSubstr("unknown key \"colour\""));
  EXPECT_THAT(all, HasSubstr("unknown goal 7"));
  EXPECT_THAT(all, HasSubstr("duplicate KPI id \"g01.courses\""));
  for (const auto& d : diags) {
    EXPECT_EQ(d.file, "catalog.toml");
    EXPECT_GT(d.line, 0) << d.str();
    EXPECT_GT(d.column, 0) << d.str();
  }
}

TEST(EmbeddedCatalog, DeadlinesByPeriodKindAndTheThreeYearAveragesEveryThreeYears) {
  auto catalog = Catalog::embedded();
  for (const auto& kpi : catalog->kpis()) {
    ASSERT_TRUE(kpi.due) << kpi.id;
    EXPECT_EQ(kpi.due->months, kpi.period == PeriodKind::fiscal_year ? 3 : 6) << kpi.id;
    EXPECT_EQ(kpi.every, kpi.id.ends_with("_3yr_avg") ? 3 : 1) << kpi.id;
  }
  // Both fall due on 30 June.
  const Kpi* lag = catalog->find("g08.device_lag");
  const Kpi* trainees = catalog->find("g01.trainees");
  ASSERT_TRUE(lag && trainees);
  using namespace std::chrono;
  EXPECT_EQ(lag->due->due(parse_period("FY2025", PeriodKind::fiscal_year).value()), 2026y / June / 30);
  EXPECT_EQ(trainees->due->due(parse_period("2025", PeriodKind::year).value()), 2026y / June / 30);
  EXPECT_EQ(catalog->body("amed")->short_en, "AMED");
}

TEST(Catalog, DeadlinesDefaultByPeriodKindAndAKpiMaySetItsOwn) {
  std::string text = kBodies + "\n[deadlines]\nyear = \"6 months\"\n" + kpi_block("g01.courses") +
                     kpi_block("g01.average", "due = \"90 days\"\nevery = 3\n");
  auto loaded = Catalog::parse(text, "catalog.toml");
  ASSERT_EQ(loaded.index(), 0u) << joined(std::get<1>(loaded));
  const auto& catalog = std::get<0>(loaded);
  const Kpi* courses = catalog->find("g01.courses");
  const Kpi* average = catalog->find("g01.average");
  ASSERT_TRUE(courses && courses->due && average && average->due);
  EXPECT_EQ(courses->due->months, 6);
  EXPECT_EQ(courses->every, 1);
  EXPECT_EQ(average->due->days, 90);
  EXPECT_EQ(average->every, 3);
  // 1 January 2025 + 90 days is 1 April: overdue from then, due by 31 March.
  using namespace std::chrono;
  Period y2024 = parse_period("2024", PeriodKind::year).value();
  EXPECT_EQ(average->due->due(y2024), 2025y / March / 31);
  EXPECT_EQ(courses->due->due(y2024), 2025y / June / 30);
  // No short English name: the full one.
  EXPECT_EQ(catalog->body("amed")->short_en, "Agency");
}

TEST(Catalog, WithoutDeadlinesAKpiHasNone) {
  auto loaded = Catalog::parse(kBodies + kpi_block("g01.courses"), "catalog.toml");
  ASSERT_EQ(loaded.index(), 0u) << joined(std::get<1>(loaded));
  EXPECT_FALSE(std::get<0>(loaded)->find("g01.courses")->due);
}

TEST(Catalog, BadDeadlinesAreReportedAtTheirValue) {
  std::string bad_due = kBodies + kpi_block("g01.courses", "due = \"half a year\"\n");
  expect_single(bad_due, position_of(bad_due, "\"half a year\""), "\"due\" must be like \"3 months\"");
  std::string bad_default = kBodies + "\n[deadlines]\nyear = \"6 moons\"\n" + kpi_block("g01.courses");
  expect_single(bad_default, position_of(bad_default, "\"6 moons\""), "\"year\" must be like \"3 months\"");
  std::string bad_kind = kBodies + "\n[deadlines]\nweek = \"6 days\"\n" + kpi_block("g01.courses");
  expect_single(bad_kind, position_of(bad_kind, "\"6 days\""), "unknown period kind \"week\"");
  std::string bad_every = kBodies + kpi_block("g01.courses", "every = 0\n");
  expect_single(bad_every, position_of(bad_every, "0\n", bad_every.find("every")), "\"every\" must be 1–100");
}

TEST(Catalog, LoadFileNamesAMissingFile) {
  auto loaded = Catalog::load_file("/nonexistent/kpiwatch/catalog.toml");
  ASSERT_EQ(loaded.index(), 1u);
  const auto& diags = std::get<1>(loaded);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].file, "/nonexistent/kpiwatch/catalog.toml");
  EXPECT_THAT(diags[0].message, HasSubstr("cannot open"));
}

}  // namespace
}  // namespace kpiwatch

namespace kpiwatch {
namespace {

TEST(EmbeddedCatalog, EveryDimensionValueAndBundledItemHasALabelInBothLanguages) {
  for (const auto& k : Catalog::embedded()->kpis()) {
    EXPECT_FALSE(k.unit_name(Lang::ja).empty()) << k.id;
    for (const auto& d : k.dims) {
      EXPECT_FALSE(d.name_ja.empty()) << k.id << " " << d.name;
      EXPECT_FALSE(d.name_en.empty()) << k.id << " " << d.name;
      for (const auto& v : d.values) {
        EXPECT_TRUE(d.labels_ja.contains(v)) << k.id << " " << d.name << "=" << v;
        EXPECT_TRUE(d.labels_en.contains(v)) << k.id << " " << d.name << "=" << v;
      }
    }
  }
  const Kpi* countries = Catalog::embedded()->find("g10.new_reference_countries");
  ASSERT_NE(countries, nullptr);
  for (std::string_view c : {"El Salvador", "Peru", "Brazil", "Egypt", "Uzbekistan"})
    EXPECT_NE(countries->item_label(c, Lang::ja), c) << c;
  EXPECT_EQ(countries->item_label("Egypt", Lang::ja), "エジプト");
  EXPECT_EQ(countries->item_label("Egypt", Lang::en), "Egypt");
}

TEST(Catalog, LabelsUnitsAndPrecisionAreRead) {
  std::string text = kBodies +
                     kpi_block("g01.trainees",
                               "unit_ja = \"人\"\nunit_en = \"trainees\"\n"
                               "\n[kpis.dims.stage]\nvalues = [\"basic\", \"all\"]\nname_ja = \"段階\"\n"
                               "labels_ja = { basic = \"基礎研究\" }\nlabels_en = { basic = \"basic research\" }\n") +
                     kpi_block("g01.rate", "decimals = 2\n", "1", "\"percent\"");
  auto loaded = Catalog::parse(text, "catalog.toml");
  ASSERT_EQ(loaded.index(), 0u) << joined(std::get<1>(loaded));
  const auto& catalog = std::get<0>(loaded);
  const Kpi* trainees = catalog->find("g01.trainees");
  EXPECT_EQ(trainees->unit_name(Lang::ja), "人");
  EXPECT_EQ(trainees->unit_name(Lang::en), "trainees");
  EXPECT_EQ(trainees->precision(), 0);
  const Dimension* stage = trainees->dimension("stage");
  EXPECT_EQ(stage->label("basic", Lang::ja), "基礎研究");
  EXPECT_EQ(stage->label("all", Lang::ja), "all");  // no label: the id
  EXPECT_EQ(stage->title(Lang::ja), "段階");
  EXPECT_EQ(stage->title(Lang::en), "stage");
  const Kpi* rate = catalog->find("g01.rate");
  EXPECT_EQ(rate->precision(), 2);
  EXPECT_EQ(rate->unit_name(Lang::ja), "%");
}

TEST(Catalog, ReportsALabelOfAnUnknownValueAtTheLabel) {
  std::string text =
      kBodies +
      kpi_block("g01.courses", "\n[kpis.dims.stage]\nvalues = [\"basic\"]\nlabels_ja = { basci = \"基礎\" }\n");
  expect_single(text, position_of(text, "\"基礎\""), "\"labels_ja\" labels \"basci\", which is not one of the values");
}

TEST(Catalog, ReportsDecimalsOutOfRange) {
  std::string text = kBodies + kpi_block("g01.courses", "decimals = 9\n");
  expect_single(text, position_of(text, "9"), "\"decimals\" must be 0–6");
}

}  // namespace
}  // namespace kpiwatch
