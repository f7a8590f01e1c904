// Summary and description templates, and how numbers are written in them.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <variant>

#include "kpiwatch/template.hpp"

namespace kpiwatch {
namespace {

Template compile(const std::string& text) {
  auto t = Template::compile(text);
  if (auto* e = std::get_if<Template::Error>(&t)) {
    ADD_FAILURE() << text << ": " << e->message;
    return Template{};
  }
  return std::get<Template>(std::move(t));
}

TemplateNumber pct(double v) { return {v, NumberFormat{false, true, 1}}; }
TemplateNumber count(double v) { return {v, NumberFormat{false, true, 0}}; }

Period period(std::string_view text, PeriodKind kind = PeriodKind::year) { return parse_period(text, kind).value(); }

TEST(Template, RendersEachLanguageWithTheKpisOwnPrecision) {
  TemplateValues v = {{"kpi_name", TemplateLabel{"g06.stage_up_rate", "ステージアップの割合", "stage-up rate"}},
                      {"previous", pct(9.3)},
                      {"value", pct(2)},
                      {"change", pct(2 - 9.3)},
                      {"period", period("2024")}};
  auto ja = compile("{kpi_name}が{previous}%から{value}%に低下（{period}、{change:+.1f}ポイント）");
  EXPECT_EQ(ja.render(v, Lang::ja), "ステージアップの割合が9.3%から2.0%に低下（2024年、-7.3ポイント）");
  auto en = compile("{kpi_name} fell from {previous}% to {value}% in {period}");
  EXPECT_EQ(en.render(v, Lang::en), "stage-up rate fell from 9.3% to 2.0% in 2024");
}

TEST(Template, FormatSpecsOverrideThePrecision) {
  TemplateValues v = {{"value", count(4086)}, {"change_percent", pct(-34.513)}, {"change_percent_abs", pct(34.513)}};
  EXPECT_EQ(compile("{value}人").render(v, Lang::ja), "4,086人");
  EXPECT_EQ(compile("{value:.0f}").render(v, Lang::ja), "4086");
  EXPECT_EQ(compile("{value:,.1f}").render(v, Lang::ja), "4,086.0");
  EXPECT_EQ(compile("前年比{change_percent_abs}%減").render(v, Lang::ja), "前年比34.5%減");
  EXPECT_EQ(compile("{change_percent:+.2f}%").render(v, Lang::en), "-34.51%");
}

TEST(Template, PeriodsDatesAndLabelsInTheTextsLanguage) {
  TemplateValues v = {{"period", period("FY2023", PeriodKind::fiscal_year)},
                      {"due", std::chrono::year_month_day(std::chrono::year(2026) / 6 / 30)},
                      {"dims.stage", TemplateLabel{"basic", "基礎研究", "basic research"}},
                      {"items", TemplateLabel{"Brazil, Egypt", "ブラジル、エジプト", "Brazil, Egypt"}}};
  auto t = compile("{period}|{due}|{dims.stage}|{dims.stage:id}|{items}|{period:id}|{due:id}");
  EXPECT_EQ(t.render(v, Lang::ja), "2023年度|2026年6月30日|基礎研究|basic|ブラジル、エジプト|FY2023|2026-06-30");
  EXPECT_EQ(t.render(v, Lang::en), "FY2023|30 June 2026|basic research|basic|Brazil, Egypt|FY2023|2026-06-30");
}

TEST(Template, DoubledBracesAreLiteralBraces) {
  auto t = compile("{{value}} = {value}, }} {{");
  EXPECT_EQ(t.render({{"value", count(3)}}, Lang::en), "{value} = 3, } {");
}

TEST(Template, LabelsPlaceholdersAreWrittenAsGiven) {
  auto t = compile("{labels.area}");
  EXPECT_EQ(t.render({{"labels.area", std::string("r_and_d")}}, Lang::ja), "r_and_d");
}

TEST(Template, SpecsThatDoNotFitThePlaceholderAreRefused) {
  struct Case {
    std::string text;
    std::size_t offset;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"{value:.1}", 7, "unknown number format \".1\""},
      {"{value:x}", 7, "unknown number format"},
      {"値{period:.1f}", 11, "the only format of {period} is \":id\""},
      {"{kpi:id}", 5, "{kpi} takes no format"},
      {"{labels.area:.1f}", 13, "takes no format"},
  };
  for (const auto& c : cases) {
    auto t = Template::compile(c.text);
    auto* e = std::get_if<Template::Error>(&t);
    ASSERT_NE(e, nullptr) << c.text;
    EXPECT_EQ(e->offset, c.offset) << c.text;
    EXPECT_NE(e->message.find(c.message_part), std::string::npos) << e->message;
  }
}

TEST(Template, ErrorsCarryTheByteOffsetOfTheBrace) {
  struct Case {
    std::string text;
    std::size_t offset;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"{valeu}", 0, "unknown placeholder {valeu}"},
      {"値は{value}、前年{previos}", 22, "unknown placeholder {previos}"},  // UTF-8: 3 bytes a character
      {"abc {value", 4, "unclosed"},
      {"abc } def", 4, "unmatched"},
      {"{dims.}", 0, "unknown placeholder {dims.}"},
      {"{}", 0, "unknown placeholder {}"},
  };
  for (const auto& c : cases) {
    auto t = Template::compile(c.text);
    auto* e = std::get_if<Template::Error>(&t);
    ASSERT_NE(e, nullptr) << c.text;
    EXPECT_EQ(e->offset, c.offset) << c.text;
    EXPECT_NE(e->message.find(c.message_part), std::string::npos) << e->message;
  }
}

TEST(FormatNumber, UpToTwoDecimalsWithoutTrailingZeros) {
  EXPECT_EQ(format_number(33.1, {}), "33.1");
  EXPECT_EQ(format_number(26.8, {}), "26.8");
  EXPECT_EQ(format_number(2737, {}), "2737");
  EXPECT_EQ(format_number(2.0, {}), "2");
  EXPECT_EQ(format_number(-6.3, {}), "-6.3");
  EXPECT_EQ(format_number(26.8 - 33.1, {}), "-6.3");
  EXPECT_EQ(format_number(47.98, {}), "47.98");
  EXPECT_EQ(format_number(2399.0 / 50.0, {}), "47.98");
  EXPECT_EQ(format_number(19.0 / 3.0, {}), "6.33");
  EXPECT_EQ(format_number(2.0 / 3.0, {}), "0.67");
  EXPECT_EQ(format_number(0.5, {}), "0.5");
  EXPECT_EQ(format_number(0, {}), "0");
  EXPECT_EQ(format_number(0.001, {}), "0");
  EXPECT_EQ(format_number(-0.001, {}), "0");  // never "-0"
  EXPECT_EQ(format_number(-0.0, {}), "0");
  EXPECT_EQ(format_number(1e9, {}), "1000000000");
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN(), {}), "n/a");
  EXPECT_EQ(format_number(std::numeric_limits<double>::infinity(), {}), "n/a");
}

}  // namespace
}  // namespace kpiwatch
