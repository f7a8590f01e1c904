// Rule test files (`kpiwatch test`): asserted texts, the --require-texts coverage,
// and input figures refused as ingest refuses them.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/rule_tests.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Templates without numbers written in several ways or period names, so that the
// texts stay what these tests expect whatever the number and period formats become.
constexpr const char* kRules = R"([[rule]]
id = "few-trainees"
title = "Few trainees"
kpi = "g01.trainees"
severity = "warning"
summary_ja = "{kpi_name_ja}が少ない"
summary_en = "Few {kpi_name_en}"
description_ja = "基準: 1000人以上"
description_en = "Criterion: at least 1000"
[rule.threshold]
below = 1000

[[rule]]
id = "low-rate"
title = "Low stage-up rate"
kpi = "g06.stage_up_rate"
severity = "info"
summary_ja = "割合{value:.0f}%"
summary_en = "rate {value:.0f}%"
[rule.threshold]
below = 10
)";

const std::shared_ptr<const Catalog>& catalog() {
  static const std::shared_ptr<const Catalog> c = Catalog::embedded();
  return c;
}

class RuleTestFiles : public ::testing::Test {
 protected:
  RuleTestFiles() { write("rules.toml", kRules); }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
  }
  std::string file(const std::string& name) const { return dir_.file(name); }

  // Runs one test file holding `body` after the rule_files line.
  RuleTestReport run(const std::string& body, RuleTestOptions options = {}) {
    text_ = "rule_files = [\"rules.toml\"]\n" + body;
    write("t_test.toml", text_);
    return run_rule_tests({file("t_test.toml")}, catalog(), options);
  }

  // "FILE:LINE" of the first line of the last test file that holds `needle`.
  std::string at_line(const std::string& needle) const {
    auto at = text_.find(needle);
    EXPECT_NE(at, std::string::npos) << needle;
    return fmt::format("{}:{}", file("t_test.toml"),
                       1 + std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  }

  // "FILE:LINE:COL" of `needle` in the last test file (columns in characters, as toml++ counts).
  std::string at_position(const std::string& needle) const {
    auto at = text_.find(needle);
    EXPECT_NE(at, std::string::npos) << needle;
    auto line_start = text_.rfind('\n', at);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    int column = 1;
    for (auto i = line_start; i < at; ++i)
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    return fmt::format("{}:{}", at_line(needle), column);
  }

 private:
  test::TempDir dir_;
  std::string text_;
};

constexpr const char* kFewTrainees = R"(
[[input]]
kpi = "g01.trainees"
values = { "2024" = 900 }
)";

TEST_F(RuleTestFiles, AnAlertAssertingItsFourTextsPasses) {
  auto report = run(std::string(kFewTrainees) + R"(
[[expect]]
at = "2024"
alerts = [
  { rule = "few-trainees", state = "firing", summary_ja = "研修受講者数が少ない", summary_en = "Few Trainees at the R&D hubs", description_ja = "基準: 1000人以上", description_en = "Criterion: at least 1000" },
]
)");
  EXPECT_EQ(report.passed, 1) << report.output;
  EXPECT_EQ(report.failed, 0) << report.output;
}

TEST_F(RuleTestFiles, ADifferentTextFailsWithTheLineTheFieldAndBothTextsWhole) {
  auto report = run(std::string(kFewTrainees) + R"(
[[expect]]
at = "2024"
alerts = [
  { rule = "few-trainees", summary_ja = "研修受講者数が基準を下回りました", description_en = "Criterion: at least 1000" },
]
)");
  EXPECT_EQ(report.failed, 1) << report.output;
  EXPECT_THAT(report.output, HasSubstr(at_line("{ rule = \"few-trainees\"") +
                                       ": alert few-trainees firing {kpi=\"g01.trainees\"}: summary_ja differs\n"
                                       "      expected: \"研修受講者数が基準を下回りました\"\n"
                                       "      got:      \"研修受講者数が少ない\"\n"));
  EXPECT_THAT(report.output, Not(HasSubstr("description_en differs"))) << "an equal text is no difference";
  EXPECT_THAT(report.output, Not(HasSubstr("expected alert not raised")));
  EXPECT_THAT(report.output, Not(HasSubstr("unexpected alert")));
}

TEST_F(RuleTestFiles, EveryDifferentTextIsReported) {
  auto report = run(std::string(kFewTrainees) + R"(
[[expect]]
at = "2024"
alerts = [
  { rule = "few-trainees", summary_en = "Few trainees", description_ja = "基準：1000人以上" },
]
)");
  EXPECT_EQ(report.failed, 1);
  EXPECT_THAT(report.output, HasSubstr("summary_en differs\n      expected: \"Few trainees\"\n"
                                       "      got:      \"Few Trainees at the R&D hubs\"\n"));
  EXPECT_THAT(report.output, HasSubstr("description_ja differs\n      expected: \"基準：1000人以上\"\n"
                                       "      got:      \"基準: 1000人以上\"\n"));
}

TEST_F(RuleTestFiles, TextsPairEachExpectedAlertWithTheRaisedOneThatSaysIt) {
  // Neither alert names its series: only the texts tell them apart, in either order.
  const std::string input = R"(
[[input]]
kpi = "g06.stage_up_rate"
dims = { stage = "basic" }
values = { "2024" = 3 }

[[input]]
kpi = "g06.stage_up_rate"
dims = { stage = "clinical" }
values = { "2024" = 5 }
)";
  for (const auto& [first, second] : {std::pair{"3", "5"}, std::pair{"5", "3"}}) {
    auto report = run(input + fmt::format(R"(
[[expect]]
at = "2024"
alerts = [
  {{ rule = "low-rate", summary_ja = "割合{}%" }},
  {{ rule = "low-rate", summary_en = "rate {}%" }},
]
)",
                                          first, second));
    EXPECT_EQ(report.passed, 1) << report.output;
  }
}

TEST_F(RuleTestFiles, AnUnknownKeyOrAWrongTypeInAnExpectedAlertIsAnError) {
  auto report = run(std::string(kFewTrainees) + R"(
[[expect]]
at = "2024"
alerts = [
  { rule = "few-trainees", summary = "研修受講者数が少ない", summary_en = 5 },
]
)");
  EXPECT_EQ(report.failed, 1);
  EXPECT_THAT(report.output, HasSubstr(at_line("{ rule = \"few-trainees\"") + ":"));
  EXPECT_THAT(report.output, HasSubstr("alert: unknown key \"summary\""));
  EXPECT_THAT(report.output, HasSubstr(at_position("5 }") + ": alert: \"summary_en\" must be a string"));
}

constexpr const char* kTwoFiring = R"(
[[input]]
kpi = "g01.trainees"
values = { "2024" = 900 }

[[input]]
kpi = "g06.stage_up_rate"
values = { "2024" = 3 }
)";

TEST_F(RuleTestFiles, RequireTextsNamesEachFiringRuleWithoutAnAlertAssertingItsFourTexts) {
  const std::string expect = R"(
[[expect]]
at = "2024"
alerts = [
  { rule = "few-trainees", summary_ja = "研修受講者数が少ない", summary_en = "Few Trainees at the R&D hubs", description_ja = "基準: 1000人以上", description_en = "Criterion: at least 1000" },
  { rule = "low-rate", summary_ja = "割合3%", summary_en = "rate 3%", description_ja = "" },
]
)";
  auto plain = run(kTwoFiring + expect);
  EXPECT_EQ(plain.passed, 1) << plain.output;
  EXPECT_EQ(plain.rules_without_texts, 0) << "only with the option";

  auto required = run(kTwoFiring + expect, RuleTestOptions{true});
  EXPECT_EQ(required.passed, 1) << required.output;
  EXPECT_EQ(required.rules_without_texts, 1) << required.output;
  EXPECT_THAT(required.output, HasSubstr("--require-texts: rule \"low-rate\" fires (" +
                                         at_line("{ rule = \"low-rate\"") + ") but none of its expected alerts"));
  EXPECT_THAT(required.output, Not(HasSubstr("rule \"few-trainees\" fires")));

  // An empty description is asserted as "".
  std::string complete = expect;
  complete.replace(complete.find("description_ja = \"\""), 19, "description_ja = \"\", description_en = \"\"");
  auto covered = run(kTwoFiring + complete, RuleTestOptions{true});
  EXPECT_EQ(covered.passed, 1) << covered.output;
  EXPECT_EQ(covered.rules_without_texts, 0) << covered.output;
}

TEST_F(RuleTestFiles, RequireTextsCountsAnyTestFileAssertingTheTexts) {
  write("a_test.toml", "rule_files = [\"rules.toml\"]\n" + std::string(kFewTrainees) +
                           "[[expect]]\nat = \"2024\"\nalerts = [{ rule = \"few-trainees\" }]\n");
  write("b_test.toml", "rule_files = [\"rules.toml\"]\n" + std::string(kFewTrainees) +
                           "[[expect]]\nat = \"2024\"\nalerts = [{ rule = \"few-trainees\", summary_ja = "
                           "\"研修受講者数が少ない\", summary_en = \"Few Trainees at the R&D hubs\", description_ja = "
                           "\"基準: 1000人以上\", description_en = \"Criterion: at least 1000\" }]\n");
  auto one = run_rule_tests({file("a_test.toml")}, catalog(), RuleTestOptions{true});
  EXPECT_EQ(one.rules_without_texts, 1) << one.output;
  EXPECT_THAT(one.output, HasSubstr("rule \"few-trainees\" fires (" + file("a_test.toml") + ":8)"));
  auto both = run_rule_tests({file("a_test.toml"), file("b_test.toml")}, catalog(), RuleTestOptions{true});
  EXPECT_EQ(both.passed, 2) << both.output;
  EXPECT_EQ(both.rules_without_texts, 0) << both.output;
}

// Each input the catalog refuses, and where the error points.
struct RefusedInput {
  std::string input;   // an [[input]] table
  std::string at;      // the text the error points at
  std::string reason;  // part of the message
};

TEST_F(RuleTestFiles, InputFiguresTheCatalogRefusesAreErrorsAtTheirPosition) {
  const std::vector<RefusedInput> cases = {
      {"kpi = \"g01.trainees\"\nvalues = { \"2023\" = 900, \"2024\" = 155.5 }\n", "155.5",
       "input[0], period \"2024\": KPI \"g01.trainees\" counts: \"value\" must be a whole number, not 155.5"},
      {"kpi = \"g06.stage_up_rate\"\nvalues = { \"2024\" = 120 }\n", "120",
       "input[0], period \"2024\": \"value\" 120 is outside the valid range of KPI \"g06.stage_up_rate\" (0 to 100"},
      {"kpi = \"g06.stage_up_rate\"\ndims = { stage = \"preclinical\" }\nvalues = { \"2024\" = 12 }\n",
       "\"preclinical\"", "\"preclinical\" is not a value of dimension \"stage\""},
      {"kpi = \"g06.stage_up_rate\"\ndims = { phase = \"basic\" }\nvalues = { \"2024\" = 12 }\n", "\"basic\"",
       "KPI \"g06.stage_up_rate\" has no dimension \"phase\""},
      {"kpi = \"g01.trainees\"\nvalues = { \"FY2024\" = 900 }\n", "\"FY2024\"",
       "period \"FY2024\" does not match the KPI's period kind"},
      {"kpi = \"g01.trainees\"\nitems = { \"2024\" = [\"Chile\"] }\n", "[\"Chile\"]",
       "KPI \"g01.trainees\" is a number (count): give \"value\", not \"items\""},
      {"kpi = \"g10.new_reference_countries\"\nitems = { \"2024\" = [\"Chile\", \"Peru\", \"Chile\"] }\n", "\"Chile\"]",
       "item \"Chile\" is listed twice"},
      {"kpi = \"g01.trainees\"\nvalues = { \"2024\" = \"many\" }\n", "\"many\"", "\"value\" must be a number"},
  };
  for (const auto& c : cases) {
    auto report = run("\n[[input]]\n" + c.input + "\n[[expect]]\nat = \"2024\"\nalerts = []\n");
    EXPECT_EQ(report.failed, 1) << c.input << report.output;
    EXPECT_THAT(report.output, HasSubstr("FAILED: " + at_position(c.at) + ": input[0]")) << c.input;
    EXPECT_THAT(report.output, HasSubstr(c.reason)) << c.input;
  }
}

TEST_F(RuleTestFiles, ValidFiguresOfEveryKindAreTaken) {
  auto report = run(R"(
[[input]]
kpi = "g01.trainees"
values = { "2023" = 1200, "2024" = 900 }

[[input]]
kpi = "g06.stage_up_rate"
dims = { stage = "clinical" }
values = { "2024" = 100.0 }

[[input]]
kpi = "g10.new_reference_countries"
items = { "2024" = ["Chile", "Brazil"] }

[[expect]]
at = "2024"
alerts = [{ rule = "few-trainees" }]
)");
  EXPECT_EQ(report.passed, 1) << report.output;
}

}  // namespace
}  // namespace kpiwatch
