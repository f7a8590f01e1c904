// The JSON the status page reads (issue 11), against the real binary on the
// embedded default data: the overview's trends, caps and counts, the alert page's
// rule in words with its bound, the alert list's pages and groups, and pages of series.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {
using ::testing::HasSubstr;
namespace json = boost::json;

std::string str(const json::value& v) { return std::string(v.as_string()); }
double num(const json::value& v) { return v.to_number<double>(); }

json::value get_json(unsigned short port, const std::string& target) {
  auto reply = http_get(port, target);
  EXPECT_EQ(reply.status, 200) << target << ": " << reply.body;
  return reply.status == 200 ? reply.json() : json::value(json::object{});
}

const json::object* kpi_of(const json::value& goal, const std::string& id) {
  for (const auto& k : goal.at("kpis").as_array())
    if (str(k.at("id")) == id) return &k.as_object();
  return nullptr;
}

class StatusReads : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.start();
    ASSERT_TRUE(daemon_.wait_for_log("rules evaluated over")) << daemon_.log();
  }
  void TearDown() override { EXPECT_EQ(daemon_.stop(), 0); }
  unsigned short port() const { return daemon_.port(); }

  // The firing stage-up alert of the overall series (33.1% → 26.8% in 2024).
  std::string stage_up_fingerprint() {
    auto list = get_json(port(), "/api/v1/alerts?rule=g06-stage-up-rate-falling&label.stage=all&inhibited=true");
    const auto& alerts = list.at("alerts").as_array();
    EXPECT_EQ(alerts.size(), 1u) << json::serialize(list);
    return alerts.empty() ? std::string() : str(alerts[0].at("fingerprint"));
  }

  Daemon daemon_;
};

TEST_F(StatusReads, TheGoalShowsEachKpisTrendUnitCountsAndLatestWithNames) {
  auto six = get_json(port(), "/api/v1/goals/6");
  const json::object* rate = kpi_of(six, "g06.stage_up_rate");
  ASSERT_NE(rate, nullptr) << json::serialize(six);
  EXPECT_EQ(str(rate->at("unit_name").at("ja")), "%");
  EXPECT_EQ(rate->at("decimals").to_number<int>(), 1);
  EXPECT_EQ(rate->at("series_count").to_number<int>(), 5);  // stages basic … clinical and all
  // The lead series is the overall one (stage = all), with its periods named.
  const auto& trend = rate->at("trend");
  EXPECT_EQ(str(trend.at("dims").at("stage")), "all");
  EXPECT_EQ(str(trend.at("label").at("en")), "all themes") << json::serialize(trend);
  std::vector<std::string> points;
  for (const auto& p : trend.at("points").as_array())
    points.push_back(fmt::format("{} {}", str(p.at("period_name").at("ja")), num(p.at("value"))));
  EXPECT_EQ(points, (std::vector<std::string>{"2023年 33.1", "2024年 26.8"}));
  // Latest figures carry the series' label and the period's name.
  const auto& latest = rate->at("latest").as_array();
  ASSERT_FALSE(latest.empty());
  for (const auto& f : latest) {
    EXPECT_FALSE(str(f.at("label").at("ja")).empty());
    EXPECT_EQ(str(f.at("period_name").at("en")), "2024");
    EXPECT_EQ(str(f.at("latest").at("period_name").at("ja")), "2024年");
  }
  // Firing counts per KPI add up to the goal's.
  int warning = 0;
  for (const auto& k : six.at("kpis").as_array()) warning += k.at("firing").at("warning").to_number<int>();
  EXPECT_EQ(warning, six.at("firing").at("warning").to_number<int>());
  EXPECT_GE(rate->at("firing").at("warning").to_number<int>(), 1);
  EXPECT_TRUE(six.at("overdue").is_number());
  // An item KPI has no trend.
  auto ten = get_json(port(), "/api/v1/goals/10");
  const json::object* countries = kpi_of(ten, "g10.new_reference_countries");
  ASSERT_NE(countries, nullptr);
  EXPECT_TRUE(countries->at("trend").is_null());
  EXPECT_EQ(str(countries->at("unit_name").at("en")), "countries");

  auto all = get_json(port(), "/api/v1/goals");
  for (const auto& g : all.at("goals").as_array()) {
    EXPECT_TRUE(g.at("overdue").is_number());
    for (const auto& k : g.at("kpis").as_array()) EXPECT_LE(k.at("latest").as_array().size(), 10u);
  }
}

TEST_F(StatusReads, TheStageUpAlertPageSaysItsCriterionBoundAndSeries) {
  std::string fp = stage_up_fingerprint();
  ASSERT_FALSE(fp.empty());
  auto alert = get_json(port(), "/api/v1/alerts/" + fp);
  const auto& rule = alert.at("rule");
  EXPECT_EQ(str(rule.at("id")), "g06-stage-up-rate-falling");
  EXPECT_EQ(str(rule.at("criterion").at("ja")), "前年比で5ポイントを超えて低下");
  EXPECT_EQ(str(rule.at("criterion").at("en")), "falls by more than 5 points from the previous year");
  // 33.1 in 2023 less 5 points: the 2024 figure had to stay above 28.1.
  EXPECT_NEAR(num(rule.at("bound")), 28.1, 1e-9);
  EXPECT_THAT(str(rule.at("bound_label").at("ja")), HasSubstr("28.1%"));
  EXPECT_THAT(str(rule.at("bound_label").at("en")), HasSubstr("28.1%"));
  EXPECT_EQ(str(alert.at("series_dims").at("stage")), "all");
  EXPECT_EQ(alert.at("goal").to_number<int>(), 6);
  EXPECT_EQ(str(alert.at("kpi_name").at("ja")), "採択1年後のステージアップの割合");
  EXPECT_FALSE(str(alert.at("goal_name").at("en")).empty());
  EXPECT_EQ(str(alert.at("period_name").at("ja")), "2024年");
  // Its figures: 33.1 then 26.8, the periods named, with their provenance.
  const auto& series = alert.at("figures").at("series").as_array();
  ASSERT_EQ(series.size(), 1u);
  const auto& points = series[0].at("points").as_array();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(num(points[0].at("value")), 33.1);
  EXPECT_EQ(num(points[1].at("value")), 26.8);
  EXPECT_EQ(str(points[1].at("period_name").at("en")), "2024");
  EXPECT_FALSE(str(points[1].at("source")).empty());
  EXPECT_TRUE(points[1].at("note").is_string());
  EXPECT_FALSE(str(points[1].at("submitted_at")).empty());
}

TEST_F(StatusReads, TheAlertListPagesWithTotalAndNextOffset) {
  auto every = get_json(port(), "/api/v1/alerts?inhibited=true&limit=500&offset=0");
  const auto& all = every.at("alerts").as_array();
  auto total = every.at("total").to_number<std::size_t>();
  ASSERT_EQ(all.size(), total);
  ASSERT_GE(total, 3u);
  EXPECT_TRUE(every.at("next_offset").is_null());
  for (const auto& a : all) {
    EXPECT_TRUE(a.at("goal").is_number());
    EXPECT_FALSE(str(a.at("kpi_name").at("ja")).empty());
    EXPECT_FALSE(str(a.at("goal_name").at("en")).empty());
    EXPECT_FALSE(str(a.at("period_name").at("ja")).empty());
  }
  // Two at a time, in the same order.
  std::vector<std::string> paged;
  json::value next = 0;
  while (!next.is_null()) {
    auto page = get_json(port(), fmt::format("/api/v1/alerts?inhibited=true&limit=2&offset={}", num(next)));
    EXPECT_EQ(page.at("total").to_number<std::size_t>(), total);
    EXPECT_LE(page.at("alerts").as_array().size(), 2u);
    for (const auto& a : page.at("alerts").as_array()) paged.push_back(str(a.at("fingerprint")));
    next = page.at("next_offset");
    ASSERT_LE(paged.size(), total);
  }
  std::vector<std::string> listed;
  for (const auto& a : all) listed.push_back(str(a.at("fingerprint")));
  EXPECT_EQ(paged, listed);

  for (const std::string bad : {"limit=0", "limit=501", "limit=x", "offset=-1", "offset="}) {
    auto reply = http_get(port(), "/api/v1/alerts?" + bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.body;
    EXPECT_EQ(str(reply.json().at("error").at("field")), bad.substr(0, bad.find('='))) << reply.body;
  }
}

TEST_F(StatusReads, TheAlertListWalksByCursorEveryAlertOnceInOrder) {
  for (const std::string filter : {"inhibited=true&silenced=true&acknowledged=true", "state=firing&inhibited=true"}) {
    auto every = get_json(port(), "/api/v1/alerts?limit=500&" + filter);
    EXPECT_TRUE(every.at("next_cursor").is_null());
    EXPECT_FALSE(every.as_object().contains("total"));  // only a page by offset counts them all
    std::vector<std::string> listed;
    for (const auto& a : every.at("alerts").as_array()) listed.push_back(str(a.at("fingerprint")));
    ASSERT_GE(listed.size(), 3u) << filter;
    std::vector<std::string> walked;
    std::string cursor;
    for (int pages = 0; pages <= static_cast<int>(listed.size()); ++pages) {
      auto page = get_json(port(), "/api/v1/alerts?limit=2&" + filter + (cursor.empty() ? "" : "&cursor=" + cursor));
      const auto& alerts = page.at("alerts").as_array();
      EXPECT_LE(alerts.size(), 2u);
      for (const auto& a : alerts) walked.push_back(str(a.at("fingerprint")));
      if (page.at("next_cursor").is_null()) break;
      EXPECT_EQ(alerts.size(), 2u);
      cursor = str(page.at("next_cursor"));
      EXPECT_FALSE(cursor.empty());
    }
    EXPECT_EQ(walked, listed) << filter;
  }
  for (const std::string bad : {"cursor=", "cursor=nope", "cursor=a7b", "cursor=s00", "cursor=a00&offset=1"}) {
    auto reply = http_get(port(), "/api/v1/alerts?" + bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.body;
    EXPECT_EQ(str(reply.json().at("error").at("field")), "cursor") << reply.body;
    EXPECT_THAT(str(reply.json().at("error").at("message")), HasSubstr("cursor"));
  }
}

TEST_F(StatusReads, SeriesWalkByCursor) {
  auto every = get_json(port(), "/api/v1/kpis/g06.stage_up_rate/series?limit=500");
  EXPECT_TRUE(every.at("next_cursor").is_null());
  std::vector<std::string> listed;
  for (const auto& s : every.at("series").as_array()) listed.push_back(json::serialize(s.at("dims")));
  ASSERT_GE(listed.size(), 3u);
  std::vector<std::string> walked;
  std::string cursor;
  for (std::size_t pages = 0; pages <= listed.size(); ++pages) {
    auto page = get_json(port(), "/api/v1/kpis/g06.stage_up_rate/series?limit=2" +
                                     (cursor.empty() ? std::string() : "&cursor=" + cursor));
    EXPECT_EQ(page.at("series_count").to_number<std::size_t>(), listed.size());
    for (const auto& s : page.at("series").as_array()) walked.push_back(json::serialize(s.at("dims")));
    if (page.at("next_cursor").is_null()) break;
    cursor = str(page.at("next_cursor"));
  }
  EXPECT_EQ(walked, listed);
  auto reply = http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?cursor=zz");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(str(reply.json().at("error").at("field")), "cursor") << reply.body;
}

TEST_F(StatusReads, AlertGroupsFollowTheRoutesGrouping) {
  auto grouped = get_json(port(), "/api/v1/alerts/groups?inhibited=true");
  const auto& groups = grouped.at("groups").as_array();
  ASSERT_FALSE(groups.empty()) << json::serialize(grouped);
  EXPECT_EQ(grouped.at("total").to_number<std::size_t>(), groups.size());
  std::size_t alerts = 0;
  for (const auto& g : groups) {
    EXPECT_TRUE(g.at("receiver").is_string());
    EXPECT_TRUE(g.at("group_by").is_array());
    EXPECT_TRUE(g.at("labels").is_object());
    EXPECT_LE(g.at("alerts").as_array().size(), 20u);
    alerts += g.at("count").to_number<std::size_t>();
  }
  EXPECT_GE(alerts,
            get_json(port(), "/api/v1/alerts?inhibited=true&limit=500&offset=0").at("total").to_number<std::size_t>());
  auto first = get_json(port(), "/api/v1/alerts/groups?inhibited=true&limit=1");
  EXPECT_EQ(first.at("groups").as_array().size(), 1u);
  if (groups.size() > 1) {
    EXPECT_EQ(first.at("next_offset").to_number<int>(), 1);
  }
  EXPECT_EQ(http_get(port(), "/api/v1/alerts/groups?limit=0").status, 400);
}

TEST_F(StatusReads, AlertGroupsByTheLabelsAPersonAsksFor) {
  auto list = get_json(port(), "/api/v1/alerts?limit=500").at("alerts").as_array();
  std::set<std::string> goals;
  for (const auto& a : list) goals.insert(str(a.at("labels").at("goal")));
  auto by_goal = get_json(port(), "/api/v1/alerts/groups?group_by=goal&limit=500");
  const auto& groups = by_goal.at("groups").as_array();
  ASSERT_EQ(groups.size(), goals.size()) << json::serialize(by_goal);
  std::size_t counted = 0;
  for (const auto& g : groups) {
    EXPECT_EQ(json::serialize(g.at("group_by")), R"(["goal"])");
    const std::string goal = str(g.at("labels").at("goal"));
    for (const auto& a : g.at("alerts").as_array()) EXPECT_EQ(str(a.at("labels").at("goal")), goal);
    counted += g.at("count").to_number<std::size_t>();
  }
  EXPECT_EQ(counted, list.size());
  // The first group holds the list's first alert: groups keep the list's order.
  EXPECT_EQ(str(groups.at(0).at("alerts").at(0).at("fingerprint")), str(list.at(0).at("fingerprint")));

  auto one = get_json(port(), "/api/v1/alerts/groups?group_by=");
  ASSERT_EQ(one.at("groups").as_array().size(), 1u);
  EXPECT_EQ(one.at("groups").at(0).at("count").to_number<std::size_t>(), list.size());
}

TEST_F(StatusReads, SeriesComeInPagesWithLabelsAndNames) {
  auto page = get_json(port(), "/api/v1/kpis/g06.stage_up_rate/series?limit=2");
  EXPECT_EQ(page.at("series_count").to_number<int>(), 5);
  EXPECT_EQ(page.at("series").as_array().size(), 2u);
  EXPECT_EQ(page.at("next_offset").to_number<int>(), 2);
  EXPECT_EQ(str(page.at("name").at("en")), "Stage-up rate of funded themes one year after adoption");
  EXPECT_EQ(page.at("decimals").to_number<int>(), 1);
  const auto& s = page.at("series").at(0);
  EXPECT_FALSE(str(s.at("label").at("ja")).empty());
  EXPECT_FALSE(str(s.at("points").at(0).at("period_name").at("ja")).empty());
  auto last = get_json(port(), "/api/v1/kpis/g06.stage_up_rate/series?limit=2&offset=4");
  EXPECT_EQ(last.at("series").as_array().size(), 1u);
  EXPECT_TRUE(last.at("next_offset").is_null());
  auto whole = get_json(port(), "/api/v1/kpis/g06.stage_up_rate/series");
  EXPECT_EQ(whole.at("series").as_array().size(), 5u);  // the default page holds 50
  EXPECT_EQ(http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?limit=501").status, 400);
}

}  // namespace
}  // namespace kpiwatch::test
