// The command line: import, check and token, run as real processes.
#include <gtest/gtest.h>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

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

}  // namespace
}  // namespace kpiwatch::test
