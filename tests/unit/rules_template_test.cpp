// Summary and description templates, and how numbers are written in them.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <variant>

#include "template.hpp"  // rules/src

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

TEST(Template, RendersJapaneseText) {
  auto t = compile("{kpi_name_ja}が{previous}%から{value}%に低下（{period}）");
  EXPECT_EQ(t.render({{"kpi_name_ja", "採択1年後のステージアップの割合"},
                      {"previous", "33.1"},
                      {"value", "26.8"},
                      {"period", "2024"}}),
            "採択1年後のステージアップの割合が33.1%から26.8%に低下（2024）");
}

TEST(Template, DoubledBracesAreLiteralBraces) {
  auto t = compile("{{value}} = {value}, }} {{");
  EXPECT_EQ(t.render({{"value", "3"}}), "{value} = 3, } {");
}

TEST(Template, DimsAndLabelsPlaceholders) {
  auto t = compile("{dims.stage}/{labels.area}");
  EXPECT_EQ(t.render({{"dims.stage", "clinical"}, {"labels.area", "r_and_d"}}), "clinical/r_and_d");
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
  EXPECT_EQ(format_number(33.1), "33.1");
  EXPECT_EQ(format_number(26.8), "26.8");
  EXPECT_EQ(format_number(2737), "2737");
  EXPECT_EQ(format_number(2.0), "2");
  EXPECT_EQ(format_number(-6.3), "-6.3");
  EXPECT_EQ(format_number(26.8 - 33.1), "-6.3");
  EXPECT_EQ(format_number(47.98), "47.98");
  EXPECT_EQ(format_number(2399.0 / 50.0), "47.98");
  EXPECT_EQ(format_number(19.0 / 3.0), "6.33");
  EXPECT_EQ(format_number(2.0 / 3.0), "0.67");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(0.001), "0");
  EXPECT_EQ(format_number(-0.001), "0");  // never "-0"
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(1e9), "1000000000");
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "n/a");
  EXPECT_EQ(format_number(std::numeric_limits<double>::infinity()), "n/a");
}

}  // namespace
}  // namespace kpiwatch
