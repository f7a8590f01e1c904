// Missing data end to end, against the real binary on the system clock: one
// alert per KPI listing its missing series, resolved by the figures within the
// request; the digest per reporting body at GET /api/v1/overdue and in the log.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

std::string str(const json::value& v) { return std::string(v.as_string()); }

std::string label(const json::value& alert, const std::string& name) {
  const auto* v = alert.at("labels").as_object().if_contains(name);
  return v ? str(*v) : "<none>";
}

json::array overdue_alerts(unsigned short port, const std::string& state = "firing") {
  auto reply = http_get(port, "/api/v1/alerts?rule=data-overdue&state=" + state);
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.status == 200 ? reply.json().at("alerts").as_array() : json::array();
}

json::array digests(unsigned short port) {
  auto reply = http_get(port, "/api/v1/overdue");
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.status == 200 ? reply.json().at("overdue").as_array() : json::array();
}

// The latest calendar year whose figures are overdue today (due by 30 June of the next year).
int overdue_year() {
  std::chrono::year_month_day today(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  int y = static_cast<int>(today.year());
  return today.month() >= std::chrono::July ? y - 1 : y - 2;
}

void submit(const Daemon& daemon, const std::string& kpi, int year, double value, const std::string& dims = "{}") {
  std::string body = fmt::format(R"({{"kpi": "{}", "period": "{}", "dims": {}, "value": {}}})", kpi, year, dims, value);
  auto reply = http_post(daemon.port(), "/api/v1/submissions", body, kAmedToken);
  ASSERT_EQ(reply.status, 201) << body << ": " << reply.body;
}

// Waits (bounded) until the log since the last start holds `text`.
bool wait_since_start(const Daemon& daemon, const std::string& text, std::chrono::milliseconds deadline = 20s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    std::string log = daemon.log();
    auto start = log.rfind("--- start ");
    if (log.find(text, start == std::string::npos ? 0 : start) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::string stage(const std::string& s) { return fmt::format(R"({{"stage": "{}"}})", s); }

TEST(Overdue, OneAlertPerKpiAndADigestPerBodyThatFiguresResolve) {
  Daemon daemon("", "[dataset]\nload_bundled = false\n");
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  // Nothing submitted yet: no KPI is overdue, however long ago its deadline passed.
  EXPECT_EQ(overdue_alerts(daemon.port()).size(), 0u);
  EXPECT_EQ(digests(daemon.port()).size(), 0u);

  const int y = overdue_year();
  // Figures for the year before: three stages and the trainees, so four figures are overdue for y.
  for (const auto* s : {"all", "basic", "clinical"}) submit(daemon, "g06.stage_up_rate", y - 1, 30, stage(s));
  submit(daemon, "g01.trainees", y - 1, 4000);

  auto firing = overdue_alerts(daemon.port());
  ASSERT_EQ(firing.size(), 2u) << json::serialize(firing);
  std::map<std::string, const json::value*> by_kpi;
  for (const auto& a : firing) by_kpi[str(a.at("kpi"))] = &a;
  ASSERT_EQ(by_kpi.count("g06.stage_up_rate"), 1u);
  const json::value& rate = *by_kpi["g06.stage_up_rate"];
  EXPECT_EQ(str(rate.at("period")), std::to_string(y));
  EXPECT_EQ(rate.at("value").to_number<int>(), 3);
  EXPECT_EQ(label(rate, "criterion"), "missing_data");
  EXPECT_EQ(label(rate, "body"), "amed");
  EXPECT_EQ(label(rate, "due"), fmt::format("{}-06-30", y + 1));
  EXPECT_EQ(label(rate, "stage"), "<none>");
  EXPECT_NE(str(rate.at("summary").at("ja")).find(fmt::format("{}年の数値が", y)), std::string::npos)
      << json::serialize(rate);
  // The missing series by their labels, in the catalog's order.
  EXPECT_NE(
      str(rate.at("description").at("ja")).find("未提出3件（前回までに報告のあった3件中）: 基礎研究、臨床研究、全体。"),
      std::string::npos)
      << json::serialize(rate);
  const std::string fp = str(rate.at("fingerprint"));

  auto d = digests(daemon.port());
  ASSERT_EQ(d.size(), 1u) << json::serialize(d);
  EXPECT_EQ(str(d[0].at("body")), "amed");
  EXPECT_EQ(str(d[0].at("period")), std::to_string(y));
  EXPECT_EQ(d[0].at("overdue").to_number<int>(), 4);
  EXPECT_EQ(str(d[0].at("due")), fmt::format("{}-06-30", y + 1));
  ASSERT_EQ(d[0].at("kpis").as_array().size(), 2u);
  EXPECT_EQ(str(d[0].at("kpis").at(0).at("kpi")), "g01.trainees");  // catalog order
  const std::string sentence_en = fmt::format("AMED: 4 figures for {} not submitted by 30 June {}", y, y + 1);
  EXPECT_EQ(str(d[0].at("sentence").at("en")), sentence_en);
  EXPECT_EQ(str(d[0].at("sentence").at("ja")),
            fmt::format("日本医療研究開発機構: {}年の数値4件が期限（{}年6月30日）を過ぎても未提出です", y, y + 1));
  ASSERT_TRUE(daemon.wait_for_log("overdue: " + sentence_en)) << daemon.log();

  // The digest is logged again at start-up.
  ASSERT_EQ(daemon.stop(), 0);
  daemon.start();
  ASSERT_TRUE(wait_since_start(daemon, "rules evaluated over")) << daemon.log();
  EXPECT_TRUE(wait_since_start(daemon, "overdue: " + sentence_en, 1s)) << daemon.log();

  // Two of the three stages arrive: the same alert lists one series.
  submit(daemon, "g06.stage_up_rate", y, 31, stage("all"));
  submit(daemon, "g06.stage_up_rate", y, 32, stage("basic"));
  firing = overdue_alerts(daemon.port());
  ASSERT_EQ(firing.size(), 2u);
  for (const auto& a : firing)
    if (str(a.at("kpi")) == "g06.stage_up_rate") {
      EXPECT_EQ(str(a.at("fingerprint")), fp);
      EXPECT_EQ(a.at("value").to_number<int>(), 1);
    }
  ASSERT_TRUE(daemon.wait_for_log(fmt::format("overdue: AMED: 2 figures for {}", y))) << daemon.log();

  // The rest: resolved, and the digest is empty.
  submit(daemon, "g06.stage_up_rate", y, 33, stage("clinical"));
  submit(daemon, "g01.trainees", y, 4100);
  EXPECT_EQ(overdue_alerts(daemon.port()).size(), 0u);
  auto resolved = http_get(daemon.port(), "/api/v1/alerts/" + fp);
  ASSERT_EQ(resolved.status, 200);
  EXPECT_EQ(str(resolved.json().at("state")), "resolved");
  EXPECT_EQ(digests(daemon.port()).size(), 0u);
  ASSERT_TRUE(daemon.wait_for_log(fmt::format("overdue: none left for {} (amed)", y))) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Overdue, OnTheBundledDataOneAlertPerKpiWithFiguresAndDigestsThatAddUp) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto firing = overdue_alerts(daemon.port());
  ASSERT_FALSE(firing.empty()) << "the bundled figures stop at 2024";
  std::set<std::string> kpis;
  std::map<std::string, int> missing_by_body;
  for (const auto& a : firing) {
    EXPECT_TRUE(kpis.insert(str(a.at("kpi"))).second) << "two alerts for " << a.at("kpi");
    EXPECT_EQ(label(a, "criterion"), "missing_data");
    missing_by_body[label(a, "body")] += a.at("value").to_number<int>();
  }
  // The bundled dataset has no figures for these: nothing is expected of them yet.
  for (const auto* none : {"g04.animal_free_test_methods", "g08.samd_consultations", "g09.c1_c2_listings",
                           "g11.supply_instability_products"})
    EXPECT_EQ(kpis.count(none), 0u) << none;
  std::map<std::string, int> digested;
  for (const auto& d : digests(daemon.port())) digested[str(d.at("body"))] += d.at("overdue").to_number<int>();
  EXPECT_EQ(digested, missing_by_body);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
