// Limits of rule conditions that fuzzing (tests/fuzz) found missing: what a
// condition may cost the evaluator, and errors that quote the text whole.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "expression.hpp"
#include "kpiwatch/catalog.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

std::variant<std::unique_ptr<Expr>, ExprError> parse(const std::string& text) {
  static const auto catalog = Catalog::embedded();
  return parse_expression(text, *catalog, *catalog->find("g01.trainees"));
}

std::string chain(const std::string& term, const std::string& op, int operators) {
  std::string text = term;
  for (int i = 0; i < operators; ++i) text += " " + op + " " + term;
  return text;
}

TEST(ExpressionLimits, EachOperatorOfAChainNests) {
  for (const std::string op : {"+", "-", "*", "/", "and", "or"}) {
    std::string term = op == "and" || op == "or" ? "value < 1" : "value";
    EXPECT_TRUE(std::holds_alternative<std::unique_ptr<Expr>>(parse(chain(term, op, 64)))) << op;
    auto text = chain(term, op, 65);
    auto parsed = parse(text);
    const auto* error = std::get_if<ExprError>(&parsed);
    ASSERT_NE(error, nullptr) << op;
    EXPECT_THAT(error->message, HasSubstr("nested deeper than 64")) << op;
    EXPECT_EQ(error->offset, text.rfind(" " + op + " ") + 1) << op;  // at the 65th operator
  }
}

TEST(ExpressionLimits, AVeryLongChainIsAnErrorNotAStackOverflow) {
  // A tree this deep overflowed the stack when it was evaluated, walked or freed.
  auto parsed = parse(chain("value", "+", 300000) + " < 1");
  const auto* error = std::get_if<ExprError>(&parsed);
  ASSERT_NE(error, nullptr);
  EXPECT_THAT(error->message, HasSubstr("nested deeper than 64"));
}

TEST(ExpressionLimits, NestedWindowsThatReadTooManyFiguresAreAnError) {
  EXPECT_TRUE(std::holds_alternative<std::unique_ptr<Expr>>(parse("avg(max(value, 120), 120) < 1")));
  // 120 × 120 × 2 figures, and one more: each window multiplies what it holds.
  std::string text = "value < 1 and avg(avg(max(value, 120), 120), 2) < 1";
  auto parsed = parse(text);
  const auto* error = std::get_if<ExprError>(&parsed);
  ASSERT_NE(error, nullptr);
  EXPECT_THAT(error->message, HasSubstr("reads up to 28801 figures per evaluation, more than 14400"));
  EXPECT_EQ(error->offset, text.find("avg"));
}

TEST(ExpressionLimits, AnUnexpectedCharacterIsQuotedWhole) {
  std::string text = "value ＞ 1";  // a full-width ">", three bytes in UTF-8
  auto parsed = parse(text);
  const auto* error = std::get_if<ExprError>(&parsed);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->message, "unexpected character \"＞\"");
  EXPECT_EQ(error->offset, 6u);
  // A cut-off character is quoted as far as it goes.
  parsed = parse("value \xEF\xBC");
  error = std::get_if<ExprError>(&parsed);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->message, "unexpected character \"\xEF\xBC\"");
}

}  // namespace
}  // namespace kpiwatch
