// The report's HTML, drawn from a read model filled by hand over the embedded catalog.
#include "report/report_html.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>

namespace kpiwatch {
namespace {

Revision figure(const std::string& kpi, int year, Dims dims, double value) {
  Revision r;
  r.submission.kpi = kpi;
  r.submission.period = Period{PeriodKind::year, year, 0};
  r.submission.dims = std::move(dims);
  r.submission.value = value;
  r.submission.source = "AMED実施調査";
  r.revision = 1;
  r.submitted_by = "amed-staff";
  r.received_at = "2025-05-16T09:00:00Z";
  return r;
}

views::Report sample(const Catalog& catalog) {
  views::Report report;
  report.year = 2024;
  report.first_year = 2022;
  report.as_of = "2025-05-16T09:00:00Z";
  report.generated_at = "2026-12-01T09:00:00Z";
  for (const Goal& goal : catalog.goals()) {
    views::ReportGoal g;
    g.goal = &goal;
    report.goals.push_back(std::move(g));
  }
  const Kpi* rate = catalog.find("g06.stage_up_rate");
  views::ReportKpi k;
  k.kpi = rate;
  k.figures.kpi = rate;
  k.figures.series.push_back(
      {{{"stage", "all"}},
       {figure(rate->id, 2023, {{"stage", "all"}}, 33.1), figure(rate->id, 2024, {{"stage", "all"}}, 26.8)}});
  k.figures.series.push_back(
      {{{"stage", "basic"}},
       {figure(rate->id, 2023, {{"stage", "basic"}}, 19.0), figure(rate->id, 2024, {{"stage", "basic"}}, 1234.5)}});
  k.direction = views::Direction::falling;
  k.verdict = views::Verdict::concern;
  k.headlines.push_back({"ステージアップの割合は低下している", "The stage-up rate fell"});
  k.sources.push_back(0);
  views::ReportGoal& g6 = report.goals[5];
  g6.kpis.push_back(std::move(k));
  g6.sources.push_back({"AMED実施調査 <script>alert(1)</script>", "amed-staff", "2025-05-16T09:00:00Z"});
  AlertRecord finding;
  finding.summary_ja = "ステージアップの割合が前年より6.3ポイント低下";
  finding.summary_en = "The stage-up rate fell 6.3 points";
  g6.findings.push_back(finding);
  return report;
}

// The text as HTML writes it.
std::string escaped(std::string text) {
  for (auto [c, entity] : {std::pair{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}})
    for (auto at = text.find(c); at != std::string::npos; at = text.find(c, at + std::string_view(entity).size()))
      text.replace(at, 1, entity);
  return text;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ReportHtml, EveryGoalHasItsPageWithItsNameInBothLanguages) {
  auto catalog = Catalog::embedded();
  auto report = sample(*catalog);
  for (Lang lang : {Lang::ja, Lang::en}) {
    std::string html = render_report_html(report, lang);
    EXPECT_NE(html.find(fmt::format("<html lang=\"{}\">", to_string(lang))), std::string::npos);
    for (const Goal& goal : catalog->goals()) {
      EXPECT_NE(html.find(fmt::format("id=\"goal-{}\"", goal.number)), std::string::npos) << goal.number;
      EXPECT_NE(html.find(escaped(lang == Lang::ja ? goal.name_ja : goal.name_en)), std::string::npos) << goal.number;
    }
    // Title page, summary, then one page per goal.
    EXPECT_EQ(count(html, "class=\"page"), 2 + catalog->goals().size());
    EXPECT_LT(html.find("class=\"page title\""), html.find("class=\"page summary\""));
    EXPECT_LT(html.find("class=\"page summary\""), html.find("id=\"goal-1\""));
  }
}

TEST(ReportHtml, TheTitleGivesJapansTimeAndTheSummaryStatesItsTolerance) {
  auto catalog = Catalog::embedded();
  auto report = sample(*catalog);
  report.tolerance = 0.03;
  std::string ja = render_report_html(report, Lang::ja), en = render_report_html(report, Lang::en);
  // 09:00 UTC is 18:00 in Japan.
  EXPECT_NE(ja.find("2026年12月1日 18:00（日本時間）"), std::string::npos);
  EXPECT_NE(en.find("1 December 2026, 09:00 UTC"), std::string::npos);
  EXPECT_NE(ja.find("差が最初の数値の3%以内なら横ばい"), std::string::npos);
  EXPECT_NE(en.find("flat within 3% of the first"), std::string::npos);
}

TEST(ReportHtml, TheFiguresTableAndTheChartCarryTheFiguresAtTheReportsPrecision) {
  auto catalog = Catalog::embedded();
  std::string html = render_report_html(sample(*catalog), Lang::ja);
  auto at = html.find("id=\"g06.stage_up_rate\"");
  ASSERT_NE(at, std::string::npos);
  std::string block = html.substr(at, html.find("</article>", at) - at);
  EXPECT_NE(block.find("<th>2023年</th><th>2024年</th>"), std::string::npos);
  EXPECT_NE(block.find("<th>全体</th><td class=\"num\">33.1</td><td class=\"num\">26.8</td>"), std::string::npos);
  EXPECT_NE(block.find("<td class=\"num\">19.0</td><td class=\"num\">1,234.5</td>"), std::string::npos);
  // The chart: one line per series, labelled from the catalog, values beside the points.
  EXPECT_EQ(count(block, "<polyline"), 2u);
  EXPECT_NE(block.find(">基礎研究</text>"), std::string::npos);
  EXPECT_NE(block.find(">33.1</text>"), std::string::npos);
  EXPECT_NE(block.find(">2024年</text>"), std::string::npos);
  EXPECT_NE(block.find("ステージアップの割合は低下している"), std::string::npos);
  EXPECT_NE(block.find("class=\"verdict-concern\">懸念"), std::string::npos);
  std::string en = render_report_html(sample(*catalog), Lang::en);
  EXPECT_NE(en.find("<th>all themes</th><td class=\"num\">33.1</td><td class=\"num\">26.8</td>"), std::string::npos);
  EXPECT_NE(en.find("The stage-up rate fell 6.3 points"), std::string::npos);
  EXPECT_NE(en.find(">basic research</text>"), std::string::npos);
}

TEST(ReportHtml, TextsAreEscapedAndNothingIsFetchedOrRun) {
  auto catalog = Catalog::embedded();
  for (Lang lang : {Lang::ja, Lang::en}) {
    std::string html = render_report_html(sample(*catalog), lang);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_FALSE(std::regex_search(html, std::regex("https?://")));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=|url\(|@import)")));
    EXPECT_EQ(count(html, "<style>"), 1u);
    // Inline style attributes would need 'unsafe-inline'; the SVG uses presentation attributes.
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(\sstyle\s*=)")));
  }
}

TEST(ReportHtml, PrintsOnA4LandscapeOneGoalToAPage) {
  std::string css(report_css());
  EXPECT_NE(css.find("@page { size: A4 landscape"), std::string::npos);
  EXPECT_NE(css.find(".page + .page { break-before: page; }"), std::string::npos);
  std::string html = render_report_html(sample(*Catalog::embedded()), Lang::ja);
  EXPECT_NE(html.find(fmt::format("<style>{}</style>", css)), std::string::npos);
}

}  // namespace
}  // namespace kpiwatch
