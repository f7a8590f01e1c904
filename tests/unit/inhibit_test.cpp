// Inhibition ([[inhibit]] in rule files): the tables' errors as file:line:col,
// and which firing alerts inhibit an alert.
#include "kpiwatch/inhibit.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/rules.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

const std::shared_ptr<const Catalog>& catalog() {
  static const std::shared_ptr<const Catalog> c = Catalog::embedded();
  return c;
}

const std::string kRules = R"([[rule]]
id = "falling"
title = "Stage-up rate falling"
kpi = "g06.stage_up_rate"
severity = "warning"
summary_ja = "{kpi_name_ja}が低下"
summary_en = "{kpi_name_en} fell"

[rule.change]
direction = "falling"
by = "points"
more_than = 5
)";

Diagnostics diagnostics_of(const std::string& inhibit) {
  auto loaded = RuleSet::load({{"rules.toml", kRules + inhibit}}, catalog());
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
  return {};
}

// The line of `text` in the file kRules + inhibit (1-based).
int line_of(const std::string& inhibit, const std::string& text) {
  std::string file = kRules + inhibit;
  auto at = file.find(text);
  return static_cast<int>(std::count(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
}

TEST(InhibitRules, AWellFormedTableIsCompiled) {
  std::string inhibit = R"(
[[inhibit]]
source = { rule = "falling", stage = "all" }
target = { rule = "falling" }
equal = ["kpi"]
)";
  auto loaded = RuleSet::load({{"rules.toml", kRules + inhibit}}, catalog());
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(loaded)) << std::get<1>(loaded)[0].str();
  const auto& rules = std::get<0>(loaded)->inhibit_rules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].source, (Matchers{{"rule", "falling"}, {"stage", "all"}}));
  EXPECT_EQ(rules[0].target, (Matchers{{"rule", "falling"}}));
  EXPECT_EQ(rules[0].equal, (std::vector<std::string>{"kpi"}));
  EXPECT_EQ(rules[0].line, line_of(inhibit, "[[inhibit]]"));
}

TEST(InhibitRules, AnUnknownKeyIsReportedWhereItStands) {
  std::string inhibit = R"(
[[inhibit]]
source = { rule = "falling", stage = "all" }
target = { rule = "falling" }
equals = ["kpi"]
)";
  auto diags = diagnostics_of(inhibit);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(),
            fmt::format("rules.toml:{}:1: inhibit[0]: unknown key \"equals\"", line_of(inhibit, "equals")));
}

TEST(InhibitRules, AnUnknownRuleIdIsReportedAtItsValue) {
  std::string inhibit = R"(
[[inhibit]]
source = { rule = "falling", stage = "all" }
target = { rule = "rising" }
)";
  auto diags = diagnostics_of(inhibit);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(),
            fmt::format("rules.toml:{}:19: inhibit[0]: unknown rule \"rising\"", line_of(inhibit, "target")));
}

TEST(InhibitRules, EmptyOrMissingSourceAndTargetAreErrors) {
  std::string empty = R"(
[[inhibit]]
source = {}
target = { rule = "falling" }
)";
  auto diags = diagnostics_of(empty);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, line_of(empty, "source"));
  EXPECT_EQ(diags[0].column, 10);
  EXPECT_THAT(diags[0].message, HasSubstr("\"source\" needs at least one label"));

  std::string missing = R"(
[[inhibit]]
source = { rule = "falling" }
)";
  diags = diagnostics_of(missing);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, line_of(missing, "[[inhibit]]"));
  EXPECT_THAT(diags[0].message, HasSubstr("target"));
}

TEST(InhibitRules, AMatcherMustBeAString) {
  std::string inhibit = R"(
[[inhibit]]
source = { rule = "falling", goal = 6 }
target = { rule = "falling" }
)";
  auto diags = diagnostics_of(inhibit);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, line_of(inhibit, "source"));
  EXPECT_EQ(diags[0].column, 37);
  EXPECT_THAT(diags[0].message, HasSubstr("\"source.goal\" must be a string"));
}

TEST(InhibitRules, TheShippedRulesHaveTheirs) {
  auto sources = RuleSet::embedded_sources();
  auto loaded = RuleSet::load(sources, catalog());
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(loaded)) << std::get<1>(loaded)[0].str();
  std::set<std::string> targets;
  for (const auto& r : std::get<0>(loaded)->inhibit_rules()) targets.insert(r.target.at("rule"));
  EXPECT_TRUE(targets.contains("g06-stage-up-rate-falling"));
  EXPECT_TRUE(targets.contains("g06-stage-up-rate-declining"));
  EXPECT_TRUE(targets.contains("g06-market-launch-rate-falling"));
}

// --- which alerts inhibit which

AlertRecord alert(const std::string& fp, const std::string& stage, const std::string& period = "2024",
                  AlertState state = AlertState::firing) {
  AlertRecord a;
  a.fingerprint = fp;
  a.rule_id = "falling";
  a.kpi = "g06.stage_up_rate";
  a.labels = {{"rule", "falling"}, {"kpi", a.kpi}, {"goal", "6"}, {"stage", stage}};
  a.state = state;
  a.period = period;
  return a;
}

const std::vector<InhibitRule> kInhibit = {
    {{{"rule", "falling"}, {"stage", "all"}}, {{"rule", "falling"}}, {"kpi"}, "rules.toml", 1}};

std::vector<std::string> fingerprints(const std::vector<Inhibitor>& by) {
  std::vector<std::string> out;
  for (const auto& i : by) out.push_back(i.alert->fingerprint);
  return out;
}

TEST(Inhibitors, TheOverallAlertInhibitsThePerStageCopiesOfItsPeriod) {
  auto all = alert("a", "all"), clinical = alert("c", "clinical"), later = alert("l", "clinical", "2025");
  std::vector<const AlertRecord*> active{&all, &clinical, &later};
  EXPECT_EQ(fingerprints(inhibitors(kInhibit, clinical, active)), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(inhibitors(kInhibit, later, active).empty()) << "another period";
  EXPECT_TRUE(inhibitors(kInhibit, all, active).empty()) << "never itself, nor by the targets";
  auto by = inhibitors(kInhibit, clinical, active);
  ASSERT_EQ(by.size(), 1u);
  EXPECT_EQ(inhibition_reason(by[0]), "inhibited by falling (stage=all, 2024)");
}

TEST(Inhibitors, OnlyAFiringSourceWithEqualLabelsInhibits) {
  auto pending = alert("a", "all", "2024", AlertState::pending), clinical = alert("c", "clinical");
  EXPECT_TRUE(inhibitors(kInhibit, clinical, {&pending, &clinical}).empty()) << "pending does not inhibit";
  auto other_kpi = alert("b", "all");
  other_kpi.labels["kpi"] = "g06.market_launch_rate";
  EXPECT_TRUE(inhibitors(kInhibit, clinical, {&other_kpi, &clinical}).empty()) << "equal = [\"kpi\"]";
  auto all = alert("a", "all");
  auto unrelated = clinical;
  unrelated.labels["rule"] = "rising";
  EXPECT_TRUE(inhibitors(kInhibit, unrelated, {&all, &unrelated}).empty()) << "not a target";
}

TEST(Inhibitors, TwoAlertsMatchingBothSidesDoNotInhibitEachOther) {
  std::vector<InhibitRule> both = {{{{"rule", "falling"}}, {{"rule", "falling"}}, {}, "rules.toml", 1}};
  auto a = alert("a", "all"), b = alert("b", "clinical");
  EXPECT_TRUE(inhibitors(both, a, {&a, &b}).empty());
  EXPECT_TRUE(inhibitors(both, b, {&a, &b}).empty());
}

}  // namespace
}  // namespace kpiwatch
