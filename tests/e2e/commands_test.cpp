// The command line: import, check, token, test and eval, run as real processes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <regex>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

const std::string kSourceDir = KPIWATCH_SOURCE_DIR;

TEST(ImportCommand, ImportsACsvWithBomAllOrNothingAndNamesTheBadLine) {
  Daemon daemon;  // for its config and state directory; not started yet
  const std::string good = daemon.dir() + "/figures.csv";
  write_file(good,
             "\xEF\xBB\xBFkpi,period,dims.stage,value,note\r\n"
             "g06.stage_up_rate,2025,basic,21.5,\"first, preliminary\"\r\n"
             "g06.stage_up_rate,2025,all,25.0,\r\n");
  auto ok = run_kpiwatch({"import", good, "--config", daemon.config_path()});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("imported 2"), std::string::npos) << ok.out;
  const long long after_good = count_revisions(daemon.database());

  const std::string bad = daemon.dir() + "/bad.csv";
  write_file(bad,
             "kpi,period,value\n"
             "g01.trainees,2025,100\n"
             "\n"
             "g01.trainees,2026,-5\n");
  auto refused = run_kpiwatch({"import", bad, "--config", daemon.config_path()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find(bad + ":4:"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("\"value\""), std::string::npos) << refused.err;
  EXPECT_EQ(count_revisions(daemon.database()), after_good);

  daemon.start();
  auto series = http_get(daemon.port(), "/api/v1/kpis/g06.stage_up_rate/series?dims.stage=basic").json();
  const auto& points = series.at("series").at(0).at("points").as_array();
  EXPECT_EQ(points.back().at("period").as_string(), "2025");
  EXPECT_EQ(points.back().at("note").as_string(), "first, preliminary");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(ImportCommand, ImportsJsonAndReportsTheLineOfABadEntry) {
  Daemon daemon;
  const std::string file = daemon.dir() + "/figures.json";
  write_file(file,
             "{\"submissions\": [\n"
             "  {\"kpi\": \"g01.trainees\", \"period\": \"2025\", \"value\": 4100},\n"
             "  {\"kpi\": \"g01.trainees\", \"period\": \"2026\",\n"
             "   \"value\": \"many\"}\n"
             "]}\n");
  auto refused = run_kpiwatch({"import", file, "--config", daemon.config_path()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find(file + ":3:"), std::string::npos) << refused.err;

  write_file(file, R"([{"kpi": "g01.trainees", "period": "2025", "value": 4100}])");
  auto ok = run_kpiwatch({"import", file, "--config", daemon.config_path(), "--as", "amed-upload"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(CheckCommand, ReportsConfigErrorsWithFileLineAndColumn) {
  TempDir dir;
  const std::string config = dir.file("bad.toml");
  write_file(config,
             "[server]\n"
             "listen = \"127.0.0.1:8080\"\n"
             "max_conections = 5\n"
             "[storage]\n"
             "synchronous = \"sometimes\"\n");
  auto result = run_kpiwatch({"check", "--config", config});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find(config + ":3:1:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("max_conections"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(config + ":5:"), std::string::npos) << result.err;

  auto embedded = run_kpiwatch({"check"});
  EXPECT_EQ(embedded.exit_code, 0) << embedded.err;
  EXPECT_NE(embedded.out.find("OK"), std::string::npos);
}

TEST(TokenCommand, CreatesATokenWhoseConfigBlockGrantsItsScope) {
  auto created = run_kpiwatch({"token", "create", "--name", "mhlw-uploader", "--body", "mhlw"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto newline = created.out.find('\n');
  const std::string token = created.out.substr(0, newline);
  ASSERT_TRUE(token.starts_with("kpw_"));
  const std::string block = created.out.substr(newline);
  EXPECT_EQ(block.find(token), std::string::npos) << "the config block must not hold the token itself";

  Daemon daemon("", block);
  daemon.start();
  auto allowed = http_post(daemon.port(), "/api/v1/submissions",
                           R"({"kpi": "g10.new_reference_countries", "period": "2025", "items": ["Chile"]})", token);
  EXPECT_EQ(allowed.status, 201) << allowed.body;
  auto refused = http_post(daemon.port(), "/api/v1/submissions",
                           R"({"kpi": "g01.trainees", "period": "2025", "value": 1})", token);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(daemon.stop(), 0);
}

// A rule whose texts hold no numbers or periods, so they read the same whatever their format.
constexpr const char* kFewTraineesRule = R"([[rule]]
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
)";

constexpr const char* kFewTraineesTest = R"(rule_files = ["rules.toml"]

[[input]]
kpi = "g01.trainees"
values = { "2023" = 1200, "2024" = 900 }

[[expect]]
at = "2024"
alerts = [
  { rule = "few-trainees", state = "firing", summary_ja = "研修受講者数が少なくなりました", summary_en = "Few Trainees at the R&D hubs", description_ja = "基準: 1000人以上", description_en = "Criterion: at least 1000" },
]
)";

int line_of(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

TEST(TestCommand, AnAssertedTextThatDiffersFailsNamingLineFieldAndBothTexts) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kFewTraineesRule);
  const std::string test = kFewTraineesTest;
  write_file(dir.file("t_test.toml"), test);
  auto failed = run_kpiwatch({"test", dir.file("t_test.toml")});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(
      failed.out.find(fmt::format("{}:{}: alert few-trainees firing {{kpi=\"g01.trainees\"}}: summary_ja differs\n"
                                  "      expected: \"研修受講者数が少なくなりました\"\n"
                                  "      got:      \"研修受講者数が少ない\"\n",
                                  dir.file("t_test.toml"), line_of(test, "{ rule ="))),
      std::string::npos)
      << failed.out;
  EXPECT_NE(failed.out.find("0 passed, 1 failed"), std::string::npos) << failed.out;

  std::string fixed = test;
  fixed.replace(fixed.find("少なくなりました"), std::string("少なくなりました").size(), "少ない");
  write_file(dir.file("t_test.toml"), fixed);
  auto passed = run_kpiwatch({"test", "--require-texts", dir.file("t_test.toml")});
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_NE(passed.out.find("1 passed, 0 failed"), std::string::npos) << passed.out;
}

TEST(TestCommand, RequireTextsFailsNamingAFiringRuleWhoseTextsNoAlertAsserts) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kFewTraineesRule);
  std::string test = kFewTraineesTest;
  test.replace(test.find(", summary_ja"), test.find(" },\n]") - test.find(", summary_ja"), "");
  write_file(dir.file("t_test.toml"), test);
  auto plain = run_kpiwatch({"test", dir.file("t_test.toml")});
  EXPECT_EQ(plain.exit_code, 0) << plain.out;
  auto required = run_kpiwatch({"test", "--require-texts", dir.file("t_test.toml")});
  EXPECT_EQ(required.exit_code, 1) << required.out;
  EXPECT_NE(required.out.find(fmt::format("--require-texts: rule \"few-trainees\" fires ({}:{})",
                                          dir.file("t_test.toml"), line_of(test, "{ rule ="))),
            std::string::npos)
      << required.out;
  EXPECT_NE(required.out.find("1 passed, 0 failed"), std::string::npos) << "the tests themselves pass";
}

TEST(TestCommand, RefusesAnInputFigureTheCatalogRefusesAtItsPosition) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kFewTraineesRule);
  std::string test = kFewTraineesTest;
  test.replace(test.find("900"), 3, "155.5");
  write_file(dir.file("t_test.toml"), test);
  auto refused = run_kpiwatch({"test", dir.file("t_test.toml")});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find(fmt::format("{}:{}:36: input[0], period \"2024\": KPI \"g01.trainees\" counts: \"value\" "
                                         "must be a whole number, not 155.5",
                                         dir.file("t_test.toml"), line_of(test, "155.5"))),
            std::string::npos)
      << refused.out;
}

// A day's figures for the rule above, as `eval --input` reads them.
void write_trainees(const std::string& file) {
  write_file(file, R"({"submissions": [{"kpi": "g01.trainees", "period": "2023", "value": 1200},
                                   {"kpi": "g01.trainees", "period": "2024", "value": 900}]})");
}

TEST(EvalCommand, PrintsEachAlertsSummaryAndDescriptionInTheLanguageAsked) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kFewTraineesRule);
  write_trainees(dir.file("figures.json"));
  const std::vector<std::string> eval = {
      "eval", "--rules", dir.file("rules.toml"), "--input", dir.file("figures.json"), "--at", "2025-01-01"};
  auto ja =
      run_kpiwatch(eval, std::chrono::seconds(60), {{"LC_ALL", ""}, {"LC_MESSAGES", ""}, {"LANG", "ja_JP.UTF-8"}});
  ASSERT_EQ(ja.exit_code, 0) << ja.err;
  EXPECT_NE(ja.out.find("few-trainees"), std::string::npos) << ja.out;
  EXPECT_NE(ja.out.find(" 研修受講者数が少ない\n      基準: 1000人以上\n"), std::string::npos) << "ja from LANG\n"
                                                                                               << ja.out;
  EXPECT_EQ(ja.out.find("Few Trainees"), std::string::npos) << ja.out;

  auto en_args = eval;
  en_args.insert(en_args.end(), {"--lang", "en"});
  auto en = run_kpiwatch(en_args);
  ASSERT_EQ(en.exit_code, 0) << en.err;
  EXPECT_NE(en.out.find(" Few Trainees at the R&D hubs\n      Criterion: at least 1000\n"), std::string::npos)
      << en.out;
  EXPECT_EQ(en.out.find("研修受講者数"), std::string::npos) << en.out;

  auto bad_args = eval;
  bad_args.insert(bad_args.end(), {"--lang", "fr"});
  auto bad = run_kpiwatch(bad_args);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--lang must be ja or en, not \"fr\""), std::string::npos) << bad.err;
  EXPECT_EQ(bad.out.find("few-trainees"), std::string::npos) << bad.out;

  auto help = run_kpiwatch({"eval", "--help"});
  EXPECT_NE(help.out.find("--lang"), std::string::npos) << help.out;
}

TEST(EvalCommand, TheJsonFormatCarriesBothLanguages) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kFewTraineesRule);
  write_trainees(dir.file("figures.json"));
  for (const char* lang : {"ja", "en"}) {
    auto result = run_kpiwatch({"eval", "--rules", dir.file("rules.toml"), "--input", dir.file("figures.json"), "--at",
                                "2025-01-01", "--format", "json", "--lang", lang});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto root = boost::json::parse(result.out);
    const auto& periods = root.at("periods").as_array();
    ASSERT_EQ(periods.size(), 2u) << result.out;
    EXPECT_TRUE(periods[0].at("alerts").as_array().empty()) << result.out;
    const auto& alerts = periods[1].at("alerts").as_array();
    ASSERT_EQ(alerts.size(), 1u) << result.out;
    const auto& a = alerts[0].as_object();
    EXPECT_EQ(a.at("summary_ja").as_string(), "研修受講者数が少ない");
    EXPECT_EQ(a.at("summary_en").as_string(), "Few Trainees at the R&D hubs");
    EXPECT_EQ(a.at("description_ja").as_string(), "基準: 1000人以上");
    EXPECT_EQ(a.at("description_en").as_string(), "Criterion: at least 1000");
  }
}

TEST(EvalCommand, TheShippedRulesSpeakJapaneseOnTheBundledDataset) {
  auto result = run_kpiwatch(
      {"eval", "--input", kSourceDir + "/config/dataset/bundled.json", "--at", "2026-01-01", "--lang", "ja"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto y2024 = result.out.find("\n2024年（");
  ASSERT_NE(y2024, std::string::npos) << result.out;
  const std::string section = result.out.substr(y2024, result.out.find("\n\n", y2024 + 1) - y2024);
  EXPECT_NE(section.find("採択1年後のステージアップの割合"), std::string::npos) << section;
  EXPECT_EQ(section.find("Stage-up rate"), std::string::npos) << section;
}

// Every Japanese text the shipped rules write on the bundled figures, in every
// period and at deadlines past and to come, names no id: no "all", "basic",
// "g06.stage_up_rate" or "FY2023" where a label or 2023年度 belongs.
TEST(EvalCommand, NoShippedJapaneseTextNamesAnId) {
  const std::regex id("[a-z][a-z_.]{2,}|FY[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}");
  std::size_t texts = 0;
  for (const char* at : {"2024-01-01", "2025-07-01", "2026-12-01", "2028-07-01"}) {
    auto result =
        run_kpiwatch({"eval", "--input", kSourceDir + "/config/dataset/bundled.json", "--at", at, "--format", "json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto root = boost::json::parse(result.out);
    for (const auto& period : root.at("periods").as_array())
      for (const auto& alert : period.at("alerts").as_array())
        for (const char* key : {"summary_ja", "description_ja"}) {
          std::string text(alert.at(key).as_string());
          ++texts;
          std::smatch m;
          EXPECT_FALSE(std::regex_search(text, m, id))
              << at << " " << alert.at("rule").as_string() << " " << key << ": \"" << m.str() << "\" in " << text;
        }
  }
  EXPECT_GT(texts, 20u);
}

}  // namespace
}  // namespace kpiwatch::test
