// Figures as CSV from the real daemon: GET /api/v1/export.csv and
// /api/v1/kpis/{id}/series?format=csv on the embedded default data, and the
// round trip export → `kpiwatch import` into a fresh state → the same figures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "daemon_suite.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

const std::string kSourceDir = KPIWATCH_SOURCE_DIR;
const std::string kBom = "\xEF\xBB\xBF";
const std::string kJaHeader =
    "目標,KPI,KPI名,期間,期間名,系列,次元,値,単位,項目,報告機関,出典,備考,提出者,提出日時,版\r\n";
const std::string kEnHeader =
    "goal,kpi,kpi_name,period,period_name,series,dims,value,unit,items,body,source,note,submitted_by,submitted_at,"
    "revision\r\n";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// RFC 4180 rows as cells: a reader independent of the daemon's own.
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(cell));
      cell.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(std::move(cell));
      cell.clear();
      rows.emplace_back();
      ++i;
    } else {
      cell += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

class ExportTest : public DaemonSuite<ExportTest> {};

TEST_F(ExportTest, EveryFigureInJapaneseWithBomCrlfAndPlainDecimals) {
  auto reply = http_get(port(), "/api/v1/export.csv");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_TRUE(std::regex_match(reply.headers["content-disposition"],
                               std::regex(R"(attachment; filename="kpiwatch-figures-\d{4}-\d{2}-\d{2}\.csv")")))
      << reply.headers["content-disposition"];
  ASSERT_TRUE(reply.body.starts_with(kBom + kJaHeader)) << reply.body.substr(0, 300);
  EXPECT_TRUE(contains(reply.body, ",2023,2023年,全体,stage=all,33.1,%,")) << reply.body;
  EXPECT_TRUE(contains(reply.body, ",2024,2024年,全体,stage=all,26.8,%,")) << reply.body;
  EXPECT_FALSE(std::regex_search(reply.body, std::regex(R"(,-?[0-9.]+[eE][-+]?[0-9]+,)"))) << reply.body;

  // One row per figure of the bundled dataset, each of its goals present.
  auto bundled = boost::json::parse(read_file(kSourceDir + "/config/dataset/bundled.json"));
  std::set<std::string> bundled_goals;
  for (const auto& s : bundled.at("submissions").as_array())
    bundled_goals.insert(std::to_string(std::stoi(std::string(s.at("kpi").as_string()).substr(1, 2))));
  auto rows = csv_rows(reply.body.substr(kBom.size()));
  ASSERT_EQ(rows.size(), bundled.at("submissions").as_array().size() + 1);
  std::set<std::string> goals;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size()) << i;
    goals.insert(rows[i][0]);
  }
  EXPECT_EQ(goals, bundled_goals);
}

TEST_F(ExportTest, EnglishHeadersAndNames) {
  auto reply = http_get(port(), "/api/v1/export.csv?lang=en&goal=6");
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_TRUE(reply.body.starts_with(kBom + kEnHeader)) << reply.body.substr(0, 300);
  EXPECT_TRUE(contains(reply.body, ",2024,2024,all themes,stage=all,26.8,%,")) << reply.body;
  auto rows = csv_rows(reply.body.substr(kBom.size()));
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i][0], "6") << i;
}

TEST_F(ExportTest, OneKpiAndEveryRevisionWhenAsked) {
  auto posted =
      http_post(port(), "/api/v1/submissions",
                R"({"kpi": "g01.training_courses", "period": "2024", "value": 70, "note": "corrected"})", kAdminToken);
  ASSERT_EQ(posted.status, 201) << posted.body;
  auto current = http_get(port(), "/api/v1/export.csv?kpi=g01.training_courses").body;
  auto all = http_get(port(), "/api/v1/export.csv?kpi=g01.training_courses&revisions=true").body;
  EXPECT_TRUE(contains(current, ",2024,2024年,"));
  EXPECT_TRUE(contains(current, ",70,") && contains(current, ",corrected,")) << current;
  EXPECT_EQ(csv_rows(all).size(), csv_rows(current).size() + 1) << all;
  auto rows = csv_rows(all.substr(kBom.size()));
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i][1], "g01.training_courses");
}

TEST_F(ExportTest, ABadParameterIsA400NamingIt) {
  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"goal=12", "goal"},
                                                        {"goal=six", "goal"},
                                                        {"kpi=g99.nothing", "kpi"},
                                                        {"lang=fr", "lang"},
                                                        {"revisions=yes", "revisions"},
                                                        {"goal=1&kpi=g06.stage_up_rate", "kpi"},
                                                        {"format=csv", "format"}}) {
    auto reply = http_get(port(), "/api/v1/export.csv?" + query);
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.body;
    EXPECT_EQ(reply.json().at("error").at("field").as_string(), field) << query;
  }
}

TEST_F(ExportTest, TheSeriesOfOneKpiAsCsvHasTheSameColumns) {
  auto reply = http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?format=csv");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_TRUE(
      contains(reply.headers["content-disposition"], "attachment; filename=\"kpiwatch-figures-g06.stage_up_rate-"))
      << reply.headers["content-disposition"];
  ASSERT_TRUE(reply.body.starts_with(kBom + kJaHeader));
  EXPECT_TRUE(contains(reply.body, ",stage=all,33.1,"));
  EXPECT_TRUE(contains(reply.body, ",stage=basic,"));  // every series
  auto en = http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?format=csv&lang=en");
  EXPECT_TRUE(en.body.starts_with(kBom + kEnHeader));
  EXPECT_EQ(http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?format=xml").status, 400);
  EXPECT_EQ(http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?format=csv&lang=de").status, 400);
  EXPECT_EQ(http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?format=json").status, 200);
}

// Every column but who submitted a figure and when, which the import sets anew.
std::vector<std::vector<std::string>> figures(const std::string& csv) {
  auto rows = csv_rows(csv.substr(kBom.size()));
  for (auto& row : rows) row.erase(row.begin() + 13, row.begin() + 15);
  return rows;
}

TEST(ExportRoundTrip, AnExportImportedIntoAFreshStateGivesTheSameFigures) {
  Daemon source;
  source.start();
  // A note with a comma, a quote and a newline; a Japanese source.
  auto posted = http_post(source.port(), "/api/v1/submissions",
                          R"({"kpi": "g06.stage_up_rate", "period": "2025", "dims": {"stage": "all"}, "value": 24.9,
                              "source": "日本医療研究開発機構", "note": "first, \"preliminary\"\nsee p. 12"})",
                          kAmedToken);
  ASSERT_EQ(posted.status, 201) << posted.body;
  auto exported = http_get(source.port(), "/api/v1/export.csv");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(source.stop(), 0);

  Daemon fresh("", "[dataset]\nload_bundled = false\n");
  const std::string file = fresh.dir() + "/kpiwatch-figures.csv";
  write_file(file, exported.body);
  auto imported = run_kpiwatch({"import", file, "--config", fresh.config_path()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  fresh.start();
  auto again = http_get(fresh.port(), "/api/v1/export.csv");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(fresh.stop(), 0);

  auto before = figures(exported.body);
  auto after = figures(again.body);
  ASSERT_GT(before.size(), 100u);
  EXPECT_EQ(after, before);
  EXPECT_TRUE(contains(again.body, ",24.9,%,,amed,日本医療研究開発機構,\"first, \"\"preliminary\"\"\nsee p. 12\","))
      << again.body;
}

}  // namespace
}  // namespace kpiwatch::test

namespace kpiwatch::test {
namespace {

TEST(ImportEncodingCommand, ImportsWhatJapaneseExcelSavesAndNamesAnUndecodableByte) {
  Daemon daemon("", "[dataset]\nload_bundled = false\n");
  const std::string utf8 = daemon.dir() + "/utf8.csv";
  const std::string sjis = daemon.dir() + "/excel.csv";
  write_file(utf8,
             "KPI,期間,次元,値,出典,備考\r\n"
             "g06.stage_up_rate,2024,stage=all,26.8,AMED実施調査,日本医療研究開発機構による\r\n");
  ASSERT_EQ(std::system(("iconv -f UTF-8 -t CP932 '" + utf8 + "' > '" + sjis + "'").c_str()), 0);
  ASSERT_EQ(read_file(sjis).find("日本医療研究開発機構"), std::string::npos);
  auto ok = run_kpiwatch({"import", sjis, "--config", daemon.config_path()});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(count_revisions(daemon.database()), 1);

  const std::string bad = daemon.dir() + "/bad.csv";
  write_file(bad, "kpi,period,value,note\r\ng01.trainees,2024,4086,\x85 \r\n");
  auto refused = run_kpiwatch({"import", bad, "--config", daemon.config_path()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find(bad + ":2: byte 0x85 at offset 46"), std::string::npos) << refused.err;
  EXPECT_EQ(count_revisions(daemon.database()), 1);

  daemon.start();
  auto csv = http_get(daemon.port(), "/api/v1/export.csv").body;
  EXPECT_NE(csv.find(",26.8,%,,,AMED実施調査,日本医療研究開発機構による,"), std::string::npos) << csv;
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
