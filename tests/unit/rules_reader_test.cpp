// The first stage of loading rules: TOML → rule specs with positions, without
// the catalog; and positions inside string values.

#include <gtest/gtest.h>

#include <string>

#include "kpiwatch/source_position.hpp"
#include "rule_reader.hpp"

namespace kpiwatch {
namespace {

const std::string kRule = R"([[rule]]
id = "few"
title = "Few trainees"
kpi = "g99.not_in_any_catalog"
dims = { stage = "all" }
severity = "info"
summary_ja = "s"
summary_en = "s"

[rule.change]
direction = "falling"
by = "points"
more_than = "5"
)";

TEST(RuleReader, KeepsThePositionOfEveryValueAndKnowsNoCatalog) {
  RuleSource source{"rules.toml", kRule};
  Diagnostics diags;
  auto file = read_rule_file(source, diags);
  ASSERT_EQ(file.rules.size(), 1u);
  const RuleSpec& rule = file.rules[0];
  EXPECT_EQ(rule.where, "rule \"few\"");
  ASSERT_TRUE(rule.kpi);
  EXPECT_EQ(rule.kpi->value, "g99.not_in_any_catalog");  // unknown KPIs are the compiler's business
  EXPECT_EQ(rule.kpi->at.line, 4);
  EXPECT_EQ(rule.kpi->at.column, 7);
  ASSERT_TRUE(rule.dims);
  ASSERT_EQ(rule.dims->entries.size(), 1u);
  EXPECT_EQ(rule.dims->entries[0].key_at.column, 10);
  EXPECT_EQ(rule.dims->entries[0].value_at.column, 18);
  ASSERT_TRUE(rule.condition);
  EXPECT_EQ(rule.condition->kind, ConditionKind::change);
  EXPECT_EQ(rule.condition->where, "rule \"few\" [rule.change]");
  EXPECT_EQ(rule.condition->string("direction"), "falling");
  EXPECT_EQ(rule.condition->position("by").line, 12);
  // A value of the wrong type is reported, and written but absent.
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(), "rules.toml:13:13: rule \"few\" [rule.change]: \"more_than\" must be a number, not string");
  EXPECT_TRUE(rule.condition->has("more_than"));
  EXPECT_FALSE(rule.condition->number("more_than"));
  EXPECT_FALSE(rule.well_formed);
}

TEST(RuleReader, ARuleWithoutOneConditionHasNone) {
  RuleSource source{"rules.toml",
                    "[[rule]]\nid = \"x\"\n[rule.threshold]\nbelow = 1\n[rule.missing]\ndue = \"1 month\"\n"};
  Diagnostics diags;
  auto file = read_rule_file(source, diags);
  ASSERT_EQ(file.rules.size(), 1u);
  EXPECT_FALSE(file.rules[0].condition);
  bool reported = false;
  for (const auto& d : diags) reported = reported || d.message.find("threshold, missing") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(SourcePosition, CountsCharactersEscapesAndLinesAsWritten) {
  // "é" is two bytes decoded and one column; \t is one byte decoded and two columns written.
  std::string text = "x = \"é\\tab\"\n";
  EXPECT_EQ(position_in_string(text, {1, 5}, 0).column, 6);
  EXPECT_EQ(position_in_string(text, {1, 5}, 2).column, 7);  // after é
  EXPECT_EQ(position_in_string(text, {1, 5}, 3).column, 9);  // after \t
  // A multi-line string: its first newline is no text.
  std::string multi = "x = \"\"\"\nab\ncd\"\"\"\n";
  SourcePos c = position_in_string(multi, {1, 5}, 3);
  EXPECT_EQ(c.line, 3);
  EXPECT_EQ(c.column, 1);
}

}  // namespace
}  // namespace kpiwatch
