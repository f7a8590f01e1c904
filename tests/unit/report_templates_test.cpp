// The report's template parts (ratio, direction words, figure lists), the
// tolerance of a flat line, and the template file's errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "kpiwatch/report.hpp"
#include "kpiwatch/template.hpp"

namespace kpiwatch::views {
namespace {

using ::testing::HasSubstr;

Template compile(const std::string& text) {
  auto t = Template::compile(text, TemplateNames::report);
  if (auto* e = std::get_if<Template::Error>(&t)) {
    ADD_FAILURE() << text << ": " << e->message;
    return Template{};
  }
  return std::get<Template>(std::move(t));
}

Period year(int y) { return Period{PeriodKind::year, y, 0}; }

TemplateFigures courses() {
  return {{{year(2022), 49}, {year(2023), 58}, {year(2024), 69}},
          NumberFormat{false, true, 0},
          TemplateLabel{"count", "コース", "courses"},
          true};
}

TEST(ReportTemplate, WritesARatioInEachLanguage) {
  TemplateValues v = {{"ratio", TemplateRatio{69.0 / 49.0}}};
  EXPECT_EQ(compile("{ratio}に増加").render(v, Lang::ja), "1.4倍に増加");
  EXPECT_EQ(compile("{ratio}").render(v, Lang::en), "1.4 times");
  EXPECT_EQ(compile("{ratio:.2f}").render(v, Lang::ja), "1.41倍");
}

TEST(ReportTemplate, WritesTheDirectionWordsOrTheTemplatesOwn) {
  auto t = compile("{direction}");
  EXPECT_EQ(t.render({{"direction", TemplateDirection::rising}}, Lang::ja), "増加");
  EXPECT_EQ(t.render({{"direction", TemplateDirection::falling}}, Lang::ja), "減少");
  EXPECT_EQ(t.render({{"direction", TemplateDirection::flat}}, Lang::ja), "横ばい");
  EXPECT_EQ(t.render({{"direction", TemplateDirection::falling}}, Lang::en), "decreased");
  EXPECT_EQ(t.render({{"direction", TemplateDirection::none}}, Lang::ja), "");
  auto own = compile("{direction:増えて|減って|横ばいで}いる");
  EXPECT_EQ(own.render({{"direction", TemplateDirection::falling}}, Lang::ja), "減っている");
  EXPECT_EQ(own.render({{"direction", TemplateDirection::flat}}, Lang::ja), "横ばいでいる");
}

TEST(ReportTemplate, WritesFigureListsWithPeriodsAndUnits) {
  TemplateValues v = {{"figures", courses()}};
  EXPECT_EQ(compile("{figures}").render(v, Lang::ja), "2022年に49コース、2023年に58コース、2024年に69コース");
  EXPECT_EQ(compile("{figures}").render(v, Lang::en), "49 courses in 2022, 58 courses in 2023 and 69 courses in 2024");
  auto lag = courses();
  lag.with_periods = false;
  lag.unit = {"years", "年", "years"};
  lag.format = NumberFormat{false, true, 1};
  lag.points = {{year(2021), 4.1}, {year(2022), 2}, {year(2023), 0.4}};
  EXPECT_EQ(compile("{values}").render({{"values", lag}}, Lang::ja), "4.1年、2.0年、0.4年");
  EXPECT_EQ(compile("{values:.2f}").render({{"values", lag}}, Lang::ja), "4.10年、2.00年、0.40年");
  auto pct = lag;
  pct.unit = {"percent", "%", "%"};
  EXPECT_EQ(compile("{values}").render({{"values", pct}}, Lang::en), "4.1%, 2.0% and 0.4%");
}

TEST(ReportTemplate, AlertTextsDoNotKnowTheReportsPlaceholders) {
  auto t = Template::compile("{ratio}");
  ASSERT_TRUE(std::holds_alternative<Template::Error>(t));
  EXPECT_THAT(std::get<Template::Error>(t).message, HasSubstr("unknown placeholder {ratio}"));
}

TEST(ReportTemplate, RejectsDirectionWordsThatAreNotThree) {
  auto t = Template::compile("{direction:増えて|減って}", TemplateNames::report);
  ASSERT_TRUE(std::holds_alternative<Template::Error>(t));
  EXPECT_EQ(std::get<Template::Error>(t).offset, 11u);  // the spec, after "{direction:"
  EXPECT_THAT(std::get<Template::Error>(t).message, HasSubstr("three words"));
}

TEST(ReportDirection, IsFlatWithinTheTolerance) {
  EXPECT_EQ(direction_of({100, 105}, 0.05), Direction::flat);  // exactly at the tolerance
  EXPECT_EQ(direction_of({100, 105.1}, 0.05), Direction::rising);
  EXPECT_EQ(direction_of({100, 94.9}, 0.05), Direction::falling);
  EXPECT_EQ(direction_of({100, 95}, 0.05), Direction::flat);
  EXPECT_EQ(direction_of({112, 226, 148}, 0.05), Direction::rising);  // first against last
  EXPECT_EQ(direction_of({2, 3, 2}, 0.05), Direction::flat);
  EXPECT_EQ(direction_of({39.3, 37.2, 37.8}, 0.05), Direction::flat);
  EXPECT_EQ(direction_of({39.3, 37.2, 37.8}, 0.03), Direction::falling);
  EXPECT_EQ(direction_of({0, 0, 2}, 0.05), Direction::rising);
  EXPECT_EQ(direction_of({0, 0}, 0.05), Direction::flat);
  EXPECT_EQ(direction_of({42}, 0.05), Direction::none);
  EXPECT_EQ(direction_of({}, 0.05), Direction::none);
}

std::string first_error(const std::string& toml) {
  auto t = ReportTemplates::parse(toml, "headlines.toml", *Catalog::embedded());
  if (!std::holds_alternative<Diagnostics>(t)) return "no error";
  return std::get<Diagnostics>(t).front().str();
}

TEST(ReportTemplateFile, NamesTheLineAndColumnOfABadPlaceholder) {
  // Columns count characters: 「{nope}」 begins at the 20th of line 3.
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.trainees\"\nja = \"総数は{figures}と{nope}\"\nen = \"x\"\n"),
              HasSubstr("headlines.toml:3:20: headline[0]: \"ja\": unknown placeholder {nope} (known: "));
  EXPECT_THAT(first_error("[[progress]]\nkpi = \"g01.trainees\"\nja = \"x\"\nen = \"{ratio:x}\"\n"),
              HasSubstr("headlines.toml:4:14: progress[0]: \"en\": {ratio:x}"));
}

TEST(ReportTemplateFile, NamesTheFieldOfEachMistake) {
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.nothing\"\nja = \"x\"\nen = \"x\"\n"),
              HasSubstr("headlines.toml:2:7: headline[0]: unknown KPI \"g01.nothing\""));
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.trainees\"\nwhen = [\"up\"]\nja = \"x\"\nen = \"x\"\n"),
              HasSubstr("headlines.toml:3:8: headline[0]: when: \"up\" is not rising, falling, flat or none"));
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.trainees\"\nverdict = \"great\"\nja = \"x\"\nen = \"x\"\n"),
              HasSubstr("headlines.toml:3:11: headline[0]: verdict: \"great\" is not on_track or concern"));
  EXPECT_THAT(
      first_error("[[headline]]\nkpi = \"g06.stage_up_rate\"\ndims = { stage = \"x\" }\nja = \"x\"\nen = \"x\"\n"),
      HasSubstr("headlines.toml:3:18: headline[0]: dims.stage: not a value of the dimension"));
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.trainees\"\ncompare = \"last\"\nja = \"x\"\nen = \"x\"\n"),
              HasSubstr("headlines.toml:3:11: headline[0]: compare: \"last\" is not first or previous"));
  EXPECT_THAT(first_error("[report]\ntolerance = 1.5\n"),
              HasSubstr("headlines.toml:2:13: report: tolerance must be at least 0 and below 1"));
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.trainees\"\nja = \"x\"\n"), HasSubstr("en"));
  EXPECT_THAT(first_error("[[headline]]\nkpi = \"g01.trainees\"\nja = \"x\"\nen = \"x\"\ncolour = 1\n"),
              HasSubstr("headlines.toml:5:1"));
  EXPECT_THAT(first_error("[[headline]\n"), HasSubstr("headlines.toml:1:"));
}

TEST(ReportTemplateFile, TheShippedFileLoadsAndSpeaksOfGoals1To10) {
  const auto& t = ReportTemplates::embedded();
  EXPECT_DOUBLE_EQ(t.tolerance(), 0.05);
  EXPECT_GT(t.headlines().size(), 20u);
  EXPECT_GT(t.progress().size(), 3u);
}

}  // namespace
}  // namespace kpiwatch::views
