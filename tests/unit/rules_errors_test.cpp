// Rule files that people get wrong: every error is `file:line:col: message`
// at the right place, all errors of a load at once, and no file crashes the
// loader (truncated, wrong types, huge, deeply nested).

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/rules.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::shared_ptr<const Catalog>& catalog() {
  static const std::shared_ptr<const Catalog> c = Catalog::embedded();
  return c;
}

struct Position {
  int line = 0;
  int column = 0;
};

// 1-based line and column (in characters, as toml++ counts them) of the
// `nth` occurrence of `needle`.
Position position_of(const std::string& text, const std::string& needle, int nth = 1) {
  std::size_t at = std::string::npos, from = 0;
  for (int i = 0; i < nth; ++i, from = at + 1) at = text.find(needle, from);
  EXPECT_NE(at, std::string::npos) << needle;
  if (at == std::string::npos) return {};
  Position p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++p.column;
    }
  }
  return p;
}

// 1-based line and column of the byte at `offset`.
Position position_at(const std::string& text, std::size_t offset) {
  EXPECT_NE(offset, std::string::npos);
  Position p{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

Loaded<std::shared_ptr<const RuleSet>> load(const std::vector<RuleSource>& sources) {
  return RuleSet::load(sources, catalog());
}

Diagnostics diagnostics_of(const std::string& text, const std::string& file = "rules.toml") {
  auto loaded = load({{file, text}});
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
  ADD_FAILURE() << "the rules were accepted:\n" << text;
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
  ASSERT_EQ(diags.size(), 1u) << joined(diags) << text;
  EXPECT_EQ(diags[0].file, "rules.toml");
  EXPECT_THAT(diags[0].str(), StartsWith(fmt::format("rules.toml:{}:{}: ", where.line, where.column))) << text;
  EXPECT_THAT(diags[0].message, HasSubstr(message));
}

// A valid rule; tests replace parts of it.
const std::string kRule = R"([[rule]]
id = "g06-falling"
title = "Stage-up rate falling"
kpi = "g06.stage_up_rate"
dims = { stage = "all" }
severity = "warning"
labels = { area = "r_and_d" }
summary_ja = "{kpi_name_ja}が{previous}%から{value}%に低下"
summary_en = "{kpi_name_en} fell from {previous}% to {value}%"

[rule.change]
direction = "falling"
by = "points"
more_than = 5
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(RuleErrors, TheValidRuleLoads) {
  auto loaded = load({{"rules.toml", kRule}});
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(loaded)) << joined(std::get<1>(loaded));
  EXPECT_EQ(std::get<0>(loaded)->size(), 1u);
}

TEST(RuleErrors, AFilesErrorsComeInTheOrderOfTheFile) {
  // Rule 1: a KPI the catalog lacks (the compiler's) and an unknown key (the reader's);
  // rule 2: no title (the reader's). Printed top to bottom, whichever stage found them.
  std::string first =
      replaced(replaced(kRule, "g06.stage_up_rate", "g06.nope"), "severity = ", "colour = 1\nseverity = ");
  std::string second = replaced(replaced(kRule, "g06-falling", "g06-other"), "title = \"Stage-up rate falling\"\n", "");
  std::string text = first + "\n" + second;
  auto diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 3u) << joined(diags);
  EXPECT_THAT(diags[0].message, HasSubstr("g06.nope"));
  EXPECT_THAT(diags[1].message, HasSubstr("colour"));
  EXPECT_THAT(diags[2].message, HasSubstr("title"));
  for (std::size_t i = 1; i < diags.size(); ++i)
    EXPECT_LT(std::pair(diags[i - 1].line, diags[i - 1].column), std::pair(diags[i].line, diags[i].column))
        << joined(diags);
}

TEST(RuleErrors, UnknownKeyInARule) {
  auto text = replaced(kRule, "severity = ", "colour = \"red\"\nseverity = ");
  expect_single(text, position_of(text, "colour"), "unknown key \"colour\"");
}

TEST(RuleErrors, UnknownKeyInAConditionAndAtTheTop) {
  auto text = replaced(kRule, "more_than = 5", "more_than = 5\nmore_then = 6");
  expect_single(text, position_of(text, "more_then"), "unknown key \"more_then\"");
  text = "version = 2\n" + kRule;
  expect_single(text, position_of(text, "version"), "unknown key \"version\"");
}

TEST(RuleErrors, WrongTypes) {
  auto text = replaced(kRule, "severity = \"warning\"", "severity = 3");
  expect_single(text, position_of(text, "3\n"), "\"severity\" must be a string");
  text = replaced(kRule, "more_than = 5", "more_than = \"5\"");
  expect_single(text, position_of(text, "\"5\""), "\"more_than\" must be a number");
  text = replaced(kRule, "labels = { area = \"r_and_d\" }", "labels = { area = 1 }");
  expect_single(text, position_of(text, "1 }"), "must be a string");
  text = replaced(kRule, "[rule.change]", "hold_for = 1.5\n[rule.change]");
  expect_single(text, position_of(text, "1.5"), "\"hold_for\" must be an integer");
  text = replaced(kRule, "[rule.change]\n", "[rule.change]\nagainst = true\n");
  expect_single(text, position_of(text, "true"), "\"against\" must be a string");
}

TEST(RuleErrors, BadValues) {
  auto text = replaced(kRule, "severity = \"warning\"", "severity = \"urgent\"");
  expect_single(text, position_of(text, "\"urgent\""), "severity must be info, warning or critical");
  text = replaced(kRule, "direction = \"falling\"", "direction = \"down\"");
  expect_single(text, position_of(text, "\"down\""), "\"direction\" must be \"falling\" or \"rising\"");
  text = replaced(kRule, "id = \"g06-falling\"", "id = \"G06 Falling\"");
  expect_single(text, position_of(text, "\"G06"), "rule id must use");
}

TEST(RuleErrors, UnknownKpi) {
  auto text = replaced(kRule, "kpi = \"g06.stage_up_rate\"", "kpi = \"g06.stage_up_ratio\"");
  auto diags = diagnostics_of(text);
  ASSERT_GE(diags.size(), 1u);
  EXPECT_THAT(diags[0].str(), StartsWith(fmt::format("rules.toml:{}:{}: ", position_of(text, "\"g06.").line,
                                                     position_of(text, "\"g06.").column)));
  EXPECT_THAT(diags[0].message, HasSubstr("unknown KPI \"g06.stage_up_ratio\""));
  EXPECT_EQ(diags.size(), 1u) << "no follow-up errors about the dims of an unknown KPI:\n" << joined(diags);
}

TEST(RuleErrors, UnknownDimensionAndValue) {
  auto text = replaced(kRule, "dims = { stage = \"all\" }", "dims = { phase = \"all\" }");
  expect_single(text, position_of(text, "phase"), "KPI \"g06.stage_up_rate\" has no dimension \"phase\"");
  text = replaced(kRule, "dims = { stage = \"all\" }", "dims = { stage = \"everything\" }");
  expect_single(text, position_of(text, "\"everything\""),
                "\"everything\" is not a value of dimension \"stage\" of KPI \"g06.stage_up_rate\"");
}

TEST(RuleErrors, NewItemOnANumberKpi) {
  auto text =
      replaced(kRule, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5\n", "[rule.new_item]\n");
  expect_single(text, position_of(text, "\"g06.stage_up_rate\""),
                "[rule.new_item] needs an item-list KPI; \"g06.stage_up_rate\" is a percent KPI");
}

TEST(RuleErrors, ANumberConditionOnAnItemKpi) {
  auto text = replaced(replaced(kRule, "kpi = \"g06.stage_up_rate\"", "kpi = \"g10.new_reference_countries\""),
                       "dims = { stage = \"all\" }\n", "");
  expect_single(text, position_of(text, "\"g10."), "[rule.change] needs a number KPI");
}

TEST(RuleErrors, BadExpressionsPointAtTheBadToken) {
  struct Case {
    std::string expr;   // as written in the file, quotes included
    std::string token;  // where the error must point (first occurrence after "expr = ")
    std::string message;
  };
  const std::vector<Case> cases = {
      {"\"g01.trainees / / g01.training_courses < 50\"", "/ g01.training", "expected a number, a KPI or \"(\""},
      {"\"g01.trainees / g01.training_course < 50\"", "g01.training_course ", "unknown KPI or function"},
      {"\"g01.trainees < 50 50\"", "50\"", "unexpected \"50\""},
      {"\"(g01.trainees < 50\"", "\"\n", "expected \")\""},  // at the closing quote: the end
      {"\"g01.trainees $ 3 < 50\"", "$", "unexpected character \"$\""},
      {"\"g01.trainees + 1\"", "g01.trainees + 1", "the expression must be a comparison"},
      {"'g06.stage_up_rate{stage=\"later\"} < 50'", "\"later\"", "expected a quoted value of dimension \"stage\""},
      {"'g06.stage_up_rate{phase=\"basic\"} < 50'", "phase", "has no dimension \"phase\""},
      {"\"avg(g01.trainees, 0) < 50\"", "0)", "the window of avg() must be a whole number of periods"},
      {"\"g08.device_lag < 50\"", "g08", "reported per fiscal_year"},
      {"\"count(g01.training_courses) < 1\"", "g01.training_courses", "count() takes an item-list KPI"},
      // Escapes and characters before the bad token shift the column as the file shows them.
      {"\"g06.stage_up_rate{stage=\\\"basic\\\"} < nope\"", "nope", "unknown KPI or function \"nope\""},
      {"\"value < 1 and value < ｘ\"", "ｘ", "unexpected character"},
  };
  for (const auto& c : cases) {
    std::string text =
        "[[rule]]\nid = \"x\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\n"
        "summary_ja = \"s\"\nsummary_en = \"s\"\n[rule.expression]\nexpr = " +
        c.expr + "\n";
    if (c.expr.find("g06.") != std::string::npos)
      text = replaced(text, "kpi = \"g01.trainees\"", "kpi = \"g06.stage_up_rate\"");
    auto diags = diagnostics_of(text);
    ASSERT_EQ(diags.size(), 1u) << c.expr << "\n" << joined(diags);
    // The token is searched on the expr line, after the opening quote.
    Position where = position_at(text, text.find(c.token, text.find("expr = ") + 8));
    EXPECT_THAT(diags[0].str(), StartsWith(fmt::format("rules.toml:{}:{}: ", where.line, where.column))) << c.expr;
    EXPECT_THAT(diags[0].message, HasSubstr(c.message)) << c.expr;
  }
}

TEST(RuleErrors, AnExpressionNestedTooDeeplyIsAnErrorNotACrash) {
  for (int depth : {63, 64, 65, 1000, 100000}) {
    std::string expr = std::string(static_cast<std::size_t>(depth), '(') + "value" +
                       std::string(static_cast<std::size_t>(depth), ')') + " < 1";
    std::string text =
        "[[rule]]\nid = \"x\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\n"
        "summary_ja = \"s\"\nsummary_en = \"s\"\n[rule.expression]\nexpr = \"" +
        expr + "\"\n";
    auto loaded = load({{"rules.toml", text}});
    if (depth <= 64) {
      EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(loaded)) << depth;
    } else {
      auto* diags = std::get_if<Diagnostics>(&loaded);
      ASSERT_NE(diags, nullptr) << depth;
      ASSERT_EQ(diags->size(), 1u) << joined(*diags);
      EXPECT_THAT((*diags)[0].message, HasSubstr("nested deeper than 64")) << depth;
      EXPECT_EQ((*diags)[0].line, 9);
    }
  }
  // Deep unary chains, not only parentheses.
  for (const std::string& op : {std::string("-"), std::string("not "), std::string("previous(")}) {
    std::string expr;
    for (int i = 0; i < 10000; ++i) expr += op;
    expr += "value";
    if (op == "previous(") expr += std::string(10000, ')');
    std::string text =
        "[[rule]]\nid = \"x\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\n"
        "summary_ja = \"s\"\nsummary_en = \"s\"\n[rule.expression]\nexpr = \"" +
        expr + " < 1\"\n";
    auto diags = diagnostics_of(text);
    ASSERT_EQ(diags.size(), 1u) << op;
    EXPECT_THAT(diags[0].message, HasSubstr("nested deeper than 64")) << op;
  }
}

TEST(RuleErrors, UnknownTemplatePlaceholderPointsAtItsBrace) {
  auto text = replaced(kRule, "{previous}%から", "{previos}%から");
  expect_single(text, position_of(text, "{previos}"), "unknown placeholder {previos}");
  // After Japanese text: the column counts characters, as an editor shows them.
  text = replaced(kRule, "%に低下\"", "%に低下（{periods}）\"");
  expect_single(text, position_of(text, "{periods}"), "unknown placeholder {periods}");
  text = replaced(kRule, "% to {value}%\"", "% to {value}% {\"");
  expect_single(text, position_of(text, "{\""), "unclosed \"{\"");
  // In a multi-line string, after escapes.
  text = replaced(kRule, "summary_en = \"{kpi_name_en} fell from {previous}% to {value}%\"",
                  "summary_en = \"\"\"\n\\u00e9\\t{kpi_name_en} fell\n  from {previous}% to {valeu}%\"\"\"");
  expect_single(text, position_of(text, "{valeu}"), "unknown placeholder {valeu}");
  text = replaced(kRule, "summary_en = \"{kpi_name_en} fell from {previous}% to {value}%\"",
                  "summary_en = '''\n「{kpi_name_en}」\n  {valeu}%'''");
  expect_single(text, position_of(text, "{valeu}"), "unknown placeholder {valeu}");
}

TEST(RuleErrors, MissingRequiredKeys) {
  auto text = replaced(kRule, "title = \"Stage-up rate falling\"\n", "");
  expect_single(text, {1, 1}, "missing required key \"title\"");
}

TEST(RuleErrors, DuplicateRuleIdsAcrossTwoFiles) {
  auto second = "# another file\n\n" + kRule;
  auto loaded = load({{"a.toml", kRule}, {"b.toml", second}});
  auto* diags = std::get_if<Diagnostics>(&loaded);
  ASSERT_NE(diags, nullptr);
  ASSERT_EQ(diags->size(), 1u) << joined(*diags);
  EXPECT_EQ((*diags)[0].str(), "b.toml:3:1: duplicate rule id \"g06-falling\" (first defined at a.toml:1)");
  // And within one file.
  auto same = kRule + "\n" + kRule;
  auto d = diagnostics_of(same);
  ASSERT_EQ(d.size(), 1u) << joined(d);
  EXPECT_EQ(d[0].line, position_of(same, "[[rule]]", 2).line);
}

TEST(RuleErrors, NoConditionOrTwoConditions) {
  auto none = replaced(kRule, "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5\n", "");
  expect_single(none, {1, 1}, "a rule needs one condition table");
  auto two = kRule + "\n[rule.threshold]\nbelow = 3\n";
  expect_single(two, {1, 1}, "a rule has one condition, but this one has threshold, change");
}

TEST(RuleErrors, EveryErrorOfAFileInOneLoad) {
  std::string text = kRule;
  text = replaced(text, "severity = \"warning\"", "severity = \"urgent\"");
  text = replaced(text, "more_than = 5", "more_than = -5\ncolour = 1");
  text +=
      "\n[[rule]]\nid = \"second\"\ntitle = \"t\"\nkpi = \"g99.nothing\"\nseverity = \"info\"\n"
      "summary_ja = \"{nope}\"\nsummary_en = \"s\"\n[rule.expression]\nexpr = \"value <\"\n";
  auto other = replaced(kRule, "id = \"g06-falling\"", "id = \"third\"");
  other = replaced(other, "by = \"points\"", "by = \"pts\"");
  auto loaded = load({{"rules.toml", text}, {"other.toml", other}});
  auto* diags = std::get_if<Diagnostics>(&loaded);
  ASSERT_NE(diags, nullptr);
  std::string all = joined(*diags);
  EXPECT_THAT(all, HasSubstr(fmt::format("rules.toml:{}:{}: ", position_of(text, "\"urgent\"").line,
                                         position_of(text, "\"urgent\"").column)));
  EXPECT_THAT(all, HasSubstr("must not be negative"));
  EXPECT_THAT(all, HasSubstr(fmt::format("rules.toml:{}:1: ", position_of(text, "colour").line)));
  EXPECT_THAT(all, HasSubstr("unknown KPI \"g99.nothing\""));
  EXPECT_THAT(all, HasSubstr("unknown placeholder {nope}"));
  EXPECT_THAT(all, HasSubstr(fmt::format("other.toml:{}:", position_of(other, "\"pts\"").line)));
  EXPECT_GE(diags->size(), 6u) << all;
  for (const auto& d : *diags) {
    EXPECT_GT(d.line, 0) << d.str();
    EXPECT_GT(d.column, 0) << d.str();
  }
}

TEST(RuleErrors, TomlSyntaxErrorsAreDiagnostics) {
  auto diags = diagnostics_of("[[rule]]\nid = \"x\ntitle = 3\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_THAT(diags[0].str(), StartsWith("rules.toml:2:"));
  // toml++ counts columns in characters: the rule loader's own columns must agree.
  std::string text = "[[rule]]\ntitle = \"日本語\" x\n";
  diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_EQ(diags[0].column, position_of(text, " x").column + 1) << diags[0].str();
}

// ---------------------------------------------------------------------------
// Malformed files never crash the loader.

const std::string& shipped_g06() {
  static const std::string text = [] {
    for (const auto& s : RuleSet::embedded_sources())
      if (s.name.find("g06.toml") != std::string::npos) return s.text;
    return std::string();
  }();
  return text;
}

TEST(MalformedRules, EveryPrefixOfAShippedFileLoadsOrFailsCleanly) {
  const std::string& full = shipped_g06();
  ASSERT_GT(full.size(), 1000u);
  auto whole = load({{"g06.toml", full}});
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(whole));
  int failed = 0, loaded = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto result = load({{"g06.toml", full.substr(0, n)}});
    if (auto* diags = std::get_if<Diagnostics>(&result)) {
      ++failed;
      ASSERT_FALSE(diags->empty()) << n;
      for (const auto& d : *diags) {
        ASSERT_EQ(d.file, "g06.toml") << n;
        ASSERT_FALSE(d.message.empty()) << n;
      }
    } else {
      ++loaded;
      ASSERT_NE(std::get<0>(result), nullptr);
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(loaded, 0);  // the prefixes that end between two rules
}

TEST(MalformedRules, WrongTypesEverywhere) {
  // Every key of a rule and of its conditions, given each wrong kind of value.
  const std::vector<std::string> keys = {
      "id",       "title",      "kpi",        "dims",           "severity",       "labels",    "receivers",
      "hold_for", "summary_ja", "summary_en", "description_ja", "description_en", "threshold", "change",
      "trend",    "stagnation", "new_item",   "missing",        "expression"};
  const std::vector<std::string> values = {"1",         "1.5",   "true",       "\"x\"", "[1, \"a\"]",
                                           "{ a = 1 }", "[[1]]", "1979-05-27", "{}",    "[]"};
  int errors = 0, accepted = 0;
  auto check = [&](const std::string& text) {
    auto result = load({{"rules.toml", text}});
    if (auto* diags = std::get_if<Diagnostics>(&result)) {
      ++errors;
      EXPECT_FALSE(diags->empty()) << text;
      for (const auto& d : *diags) EXPECT_GT(d.line, 0) << d.str() << "\n" << text;
    } else {
      ++accepted;
    }
  };
  const std::vector<std::string> condition_keys = {
      "above",       "at_or_above", "below",     "at_or_below",       "direction", "by",
      "more_than",   "at_least",    "against",   "declines",          "rises",     "window",
      "slope_below", "slope_above", "tolerance", "tolerance_percent", "due",       "expr"};
  for (const auto& key : keys)
    for (const auto& value : values) check("[[rule]]\n" + key + " = " + value + "\n");
  for (const auto& kind : {"threshold", "change", "trend", "stagnation", "missing", "expression", "new_item"})
    for (const auto& key : condition_keys)
      for (const auto& value : values)
        check(kRule.substr(0, kRule.find("[rule.change]")) + "[rule." + kind + "]\n" + key + " = " + value + "\n");
  // The only valid ones: a threshold bound given as a number, and trend declines or rises = 1.
  EXPECT_EQ(accepted, 10);
  EXPECT_GT(errors, 1000);
  // The top level and [[rule]] itself of the wrong type.
  for (const auto& text : {"rule = 1\n", "rule = \"x\"\n", "rule = [1, 2]\n", "[rule]\nid = \"x\"\n",
                           "rule = [{ id = 1 }]\n", "[[rule]]\n[[rule.change]]\n"}) {
    auto result = load({{"rules.toml", text}});
    ASSERT_TRUE(std::holds_alternative<Diagnostics>(result)) << text;
  }
}

TEST(MalformedRules, AHugeFileLoadsOrFailsCleanly) {
  std::string text;
  text.reserve(std::size_t{20000} * 260);
  for (int i = 0; i < 20000; ++i)
    text += fmt::format(
        "[[rule]]\nid = \"r{}\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\n"
        "summary_ja = \"{{value}}\"\nsummary_en = \"{{value}}\"\n[rule.threshold]\nbelow = {}\n\n",
        i, i);
  auto result = load({{"huge.toml", text}});
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(result));
  EXPECT_EQ(std::get<0>(result)->size(), 20000u);

  // The same with an error in every rule: every one reported.
  std::string bad;
  for (int i = 0; i < 20000; ++i)
    bad += fmt::format(
        "[[rule]]\nid = \"r{}\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\n"
        "summary_ja = \"x\"\nsummary_en = \"x\"\n[rule.threshold]\nbelow = \"{}\"\n\n",
        i, i);
  auto failed = load({{"huge.toml", bad}});
  ASSERT_TRUE(std::holds_alternative<Diagnostics>(failed));
  EXPECT_EQ(std::get<Diagnostics>(failed).size(), 20000u);
}

TEST(MalformedRules, DeeplyNestedTomlIsAnErrorNotAStackOverflow) {
  const std::vector<std::string> texts = {
      "x = " + std::string(10000, '['),
      "x = " + std::string(10000, '[') + std::string(10000, ']'),
      [] {
        std::string s = "x = ";
        for (int i = 0; i < 10000; ++i) s += "{ a = ";
        return s + "1" + std::string(10000, '}');
      }(),
      "[[rule]]\ndims = " + std::string(100000, '['),
  };
  for (const auto& text : texts) {
    auto result = load({{"nested.toml", text}});
    auto* diags = std::get_if<Diagnostics>(&result);
    ASSERT_NE(diags, nullptr);
    ASSERT_FALSE(diags->empty());
    EXPECT_EQ((*diags)[0].file, "nested.toml");
  }
}

TEST(MalformedRules, DeeplyNestedTablesByDottedKeysOrHeaders) {
  std::string dotted = "[[rule]]\nx";
  std::string header = "[a";
  for (int i = 0; i < 10000; ++i) {
    dotted += ".a";
    header += ".a";
  }
  dotted += " = 1\n";
  header += "]\nb = 1\n";
  for (const auto& text : {dotted, header}) {
    auto result = load({{"nested.toml", text}});
    auto* diags = std::get_if<Diagnostics>(&result);
    ASSERT_NE(diags, nullptr);
    ASSERT_FALSE(diags->empty());
  }
}

TEST(MalformedRules, BinaryAndInvalidUtf8) {
  for (const std::string& text : {std::string("\xff\xfe\x00\x01", 4), std::string("id = \"\xc3\x28\"\n"),
                                  std::string(1000, '\0'), std::string("[[rule]]\nid = \"a\x01\"\n")}) {
    auto result = load({{"bin.toml", text}});
    ASSERT_TRUE(std::holds_alternative<Diagnostics>(result));
  }
}

}  // namespace
}  // namespace kpiwatch
