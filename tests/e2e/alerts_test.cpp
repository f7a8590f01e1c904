// Rules and alerts end to end, against the real binary: the shipped rules over
// the bundled dataset, an alert raised and resolved by submissions within the
// request, reload of rule files (success and failure), restarts, and the rule
// commands (check, test, eval).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;
namespace fs = std::filesystem;

const std::string kSourceDir = KPIWATCH_SOURCE_DIR;
constexpr const char* kNoDataset = "[dataset]\nload_bundled = false\n";

// How often `needle` occurs in `text`.
int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// Log lines that contain every one of `parts`.
int count_lines(const std::string& log, const std::vector<std::string>& parts) {
  int n = 0;
  std::size_t start = 0;
  while (start < log.size()) {
    auto end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string_view line(log.data() + start, end - start);
    if (std::all_of(parts.begin(), parts.end(), [&](const std::string& p) { return line.find(p) != line.npos; })) ++n;
    start = end + 1;
  }
  return n;
}

// Waits (bounded) until the log holds `n` lines with every one of `parts`.
bool wait_for_lines(const Daemon& daemon, const std::vector<std::string>& parts, int n,
                    std::chrono::milliseconds deadline = 20s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (count_lines(daemon.log(), parts) >= n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// Alert transitions logged in `log`.
int transitions(const std::string& log) {
  return count(log, "alert firing:") + count(log, "alert resolved:") + count(log, "alert pending:") +
         count(log, "alert inactive:");
}

// The log since the last start.
std::string log_of_last_start(const Daemon& daemon) {
  std::string log = daemon.log();
  auto at = log.rfind("--- start ");
  return at == std::string::npos ? log : log.substr(at);
}

json::array get_alerts(unsigned short port, const std::string& query = "") {
  auto reply = http_get(port, "/api/v1/alerts" + query);
  EXPECT_EQ(reply.status, 200) << query << ": " << reply.body;
  if (reply.status != 200) return {};
  return reply.json().at("alerts").as_array();
}

std::string label(const json::value& alert, const std::string& name) {
  const auto* v = alert.at("labels").as_object().if_contains(name);
  return v ? std::string(v->as_string()) : "<none>";
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

// The alerts of `rule` (with label `key` = `value`, if given).
std::vector<json::object> alerts_of(const json::array& alerts, const std::string& rule, const std::string& key = "",
                                    const std::string& value = "") {
  std::vector<json::object> out;
  for (const auto& a : alerts)
    if (str(a.at("rule")) == rule && (key.empty() || label(a, key) == value)) out.push_back(a.as_object());
  return out;
}

json::value get_alert(unsigned short port, const std::string& fingerprint) {
  auto reply = http_get(port, "/api/v1/alerts/" + fingerprint);
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.status == 200 ? reply.json() : json::value();
}

// from→to of every transition in an alert's history, e.g. "inactive→firing,firing→resolved".
std::string history_of(const json::value& alert) {
  std::string out;
  for (const auto& t : alert.at("history").as_array()) {
    if (!out.empty()) out += ',';
    out += str(t.at("from"));
    out += "→";
    out += str(t.at("to"));
  }
  return out;
}

std::string submission(const std::string& kpi, const std::string& period, double value,
                       const std::string& dims = "{}") {
  return fmt::format(R"({{"kpi": "{}", "period": "{}", "dims": {}, "value": {}}})", kpi, period, dims, value);
}

void submit(const Daemon& daemon, const std::string& body) {
  auto reply = http_post(daemon.port(), "/api/v1/submissions", body, kAmedToken);
  ASSERT_EQ(reply.status, 201) << body << ": " << reply.body;
}

// 1-based line:col of the first `needle` in `text` (ASCII).
std::string position(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  int line = 1, column = 1;
  for (std::size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("{}:{}", line, column);
}

int line_of(const std::string& text, const std::string& needle) {
  auto p = position(text, needle);
  return std::stoi(p.substr(0, p.find(':')));
}

// ---------------------------------------------------------------------------
// (a) The shipped rules over the bundled dataset

TEST(Alerts, TheShippedRulesFlagWhatTheReportFlagsFor2024) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  // Inhibited ones too: the per-stage copies are held back by the overall one (config/rules/g06.toml).
  auto firing = get_alerts(daemon.port(), "?state=firing&inhibited=true");
  auto stage_up = alerts_of(firing, "g06-stage-up-rate-falling");
  std::map<std::string, double> values;
  for (const auto& a : stage_up) {
    EXPECT_EQ(str(a.at("state")), "firing");
    EXPECT_EQ(str(a.at("period")), "2024");
    EXPECT_EQ(str(a.at("kpi")), "g06.stage_up_rate");
    EXPECT_EQ(str(a.at("severity")), "warning");
    values[label(a, "stage")] = a.at("value").to_number<double>();
  }
  // The report: all 33.1 → 26.8, applied 52.3 → 44.8, non-clinical 52.0 → 37.0,
  // clinical 9.3 → 2.0; basic rose 19.0 → 24.1 and is not flagged.
  EXPECT_EQ(values, (std::map<std::string, double>{
                        {"all", 26.8}, {"applied", 44.8}, {"nonclinical", 37.0}, {"clinical", 2.0}}));
  auto all = alerts_of(firing, "g06-stage-up-rate-falling", "stage", "all");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_THAT(str(all[0].at("summary").at("en")), HasSubstr("from 33.1% to 26.8%"));
  EXPECT_THAT(str(all[0].at("summary").at("ja")), HasSubstr("33.1%から26.8%"));
  EXPECT_THAT(str(all[0].at("summary").at("ja")), Not(HasSubstr("all")));  // the stage by its label
  EXPECT_EQ(label(all[0], "goal"), "6");
  EXPECT_EQ(label(all[0], "area"), "r_and_d");
  // The same fingerprint as the rule engine computes in-process (see rules_test.cpp).
  EXPECT_EQ(str(all[0].at("fingerprint")), "92e990f00c8c0c39");

  // The market-launch rate (3.8 → 0.6) and a country newly treating Japan as a reference (info).
  EXPECT_EQ(alerts_of(firing, "g06-market-launch-rate-falling", "stage", "all").size(), 1u);
  EXPECT_EQ(alerts_of(firing, "g10-new-reference-country", "item", "Brazil").size(), 1u);
  EXPECT_EQ(alerts_of(firing, "g06-stage-up-rate-falling", "stage", "basic").size(), 0u);

  // GET /api/v1/alerts/{fingerprint}: the alert and its history.
  auto one = get_alert(daemon.port(), str(all[0].at("fingerprint")));
  ASSERT_TRUE(one.is_object());
  EXPECT_EQ(history_of(one), "inactive→firing");
  const auto& t = one.at("history").at(0);
  EXPECT_EQ(str(t.at("period")), "2024");
  EXPECT_EQ(t.at("value").to_number<double>(), 26.8);
  EXPECT_FALSE(str(t.at("at")).empty());
  EXPECT_EQ(str(t.at("at")), str(one.at("firing_since")));
  // The figures behind it: the stage "all" series only, with their provenance.
  const auto& figures = one.at("figures");
  EXPECT_EQ(str(figures.at("kpi")), "g06.stage_up_rate");
  ASSERT_EQ(figures.at("series").as_array().size(), 1u);
  const auto& series = figures.at("series").at(0);
  EXPECT_EQ(str(series.at("dims").at("stage")), "all");
  std::vector<std::string> points;
  for (const auto& p : series.at("points").as_array())
    points.push_back(fmt::format("{}={}", str(p.at("period")), p.at("value").to_number<double>()));
  EXPECT_EQ(points, (std::vector<std::string>{"2023=33.1", "2024=26.8"})) << json::serialize(series);
  EXPECT_FALSE(str(series.at("points").at(1).at("source")).empty());
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/alerts/0000000000000000").status, 404);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Alerts, TheGoalsOverviewShowsEachGoalsKpisLatestFiguresAndAlerts) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto reply = http_get(daemon.port(), "/api/v1/goals");
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto overview = reply.json();
  ASSERT_EQ(overview.at("goals").as_array().size(), 11u);
  int firing = 0;
  for (const auto& g : overview.at("goals").as_array())
    for (const auto& k : g.at("kpis").as_array())
      for (const auto& a : k.at("alerts").as_array()) firing += str(a.at("state")) == "firing";
  const auto& totals = overview.at("firing");
  EXPECT_EQ(firing, totals.at("info").to_number<int>() + totals.at("warning").to_number<int>() +
                        totals.at("critical").to_number<int>());
  EXPECT_GT(firing, 0);

  auto goal = http_get(daemon.port(), "/api/v1/goals/6");
  ASSERT_EQ(goal.status, 200) << goal.body;
  EXPECT_NE(goal.body.find("\"change\":-6.3}"), std::string::npos) << goal.body;
  auto six = goal.json();
  const json::object* rate = nullptr;
  for (const auto& k : six.at("kpis").as_array())
    if (str(k.at("id")) == "g06.stage_up_rate") rate = &k.as_object();
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(str(rate->at("name").at("ja")), "採択1年後のステージアップの割合");
  EXPECT_EQ(str(rate->at("bodies").at(0).at("id")), "amed");
  const json::object* all = nullptr;
  for (const auto& f : rate->at("latest").as_array())
    if (str(f.at("dims").at("stage")) == "all") all = &f.as_object();
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(str(all->at("latest").at("period")), "2024");
  EXPECT_EQ(all->at("latest").at("value").to_number<double>(), 26.8);
  EXPECT_EQ(all->at("previous").at("value").to_number<double>(), 33.1);
  EXPECT_NEAR(all->at("change").to_number<double>(), -6.3, 1e-9);
  EXPECT_FALSE(alerts_of(rate->at("alerts").as_array(), "g06-stage-up-rate-falling", "stage", "all").empty());

  EXPECT_EQ(http_get(daemon.port(), "/api/v1/goals/12").status, 404);
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/goals/x").status, 404);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Alerts, FiltersByStateGoalSeverityRuleAndKpi) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto every = get_alerts(daemon.port());
  ASSERT_GT(every.size(), 5u);

  auto check = [&](const std::string& query, const std::function<bool(const json::value&)>& wanted) {
    auto filtered = get_alerts(daemon.port(), query);
    std::size_t expected = 0;
    for (const auto& a : every) expected += wanted(a) ? 1 : 0;
    EXPECT_GT(expected, 0u) << query << ": the filter must select something to be tested";
    EXPECT_EQ(filtered.size(), expected) << query;
    for (const auto& a : filtered) EXPECT_TRUE(wanted(a)) << query << ": " << json::serialize(a);
  };
  check("?state=firing", [](const json::value& a) { return str(a.at("state")) == "firing"; });
  check("?goal=6", [](const json::value& a) { return label(a, "goal") == "6"; });
  check("?severity=info", [](const json::value& a) { return str(a.at("severity")) == "info"; });
  check("?severity=warning", [](const json::value& a) { return str(a.at("severity")) == "warning"; });
  check("?rule=g06-stage-up-rate-falling",
        [](const json::value& a) { return str(a.at("rule")) == "g06-stage-up-rate-falling"; });
  check("?kpi=g06.market_launch_rate",
        [](const json::value& a) { return str(a.at("kpi")) == "g06.market_launch_rate"; });
  check("?state=firing&goal=6&severity=warning&rule=g06-stage-up-rate-falling", [](const json::value& a) {
    return str(a.at("state")) == "firing" && label(a, "goal") == "6" && str(a.at("severity")) == "warning" &&
           str(a.at("rule")) == "g06-stage-up-rate-falling";
  });
  EXPECT_EQ(get_alerts(daemon.port(), "?state=resolved").size(), 0u);
  EXPECT_EQ(get_alerts(daemon.port(), "?rule=no-such-rule").size(), 0u);
  EXPECT_EQ(get_alerts(daemon.port(), "?goal=6&severity=critical").size(), 0u);

  for (const char* bad : {"?state=burning", "?goal=12", "?goal=x", "?severity=urgent", "?colour=red"}) {
    auto reply = http_get(daemon.port(), std::string("/api/v1/alerts") + bad);
    EXPECT_EQ(reply.status, 400) << bad;
    EXPECT_EQ(reply.error_code(), "invalid_parameter") << bad;
  }
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// (b) Submissions raise and resolve alerts within the request

TEST(Alerts, ASubmissionRaisesTheAlertBeforeIts201AndARevisionResolvesIt) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  const std::string rule = "g06-stage-up-rate-falling";
  const std::string basic = R"({"stage": "basic"})";
  submit(daemon, submission("g06.stage_up_rate", "2023", 30, basic));
  EXPECT_EQ(alerts_of(get_alerts(daemon.port()), rule).size(), 0u);

  // 30 → 20: a fall of 10 points. No sleep, no polling: the alert exists once the 201 is back.
  submit(daemon, submission("g06.stage_up_rate", "2024", 20, basic));
  auto raised = alerts_of(get_alerts(daemon.port(), "?rule=" + rule), rule);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(str(raised[0].at("state")), "firing");
  EXPECT_EQ(label(raised[0], "stage"), "basic");
  EXPECT_EQ(raised[0].at("value").to_number<double>(), 20.0);
  EXPECT_EQ(str(raised[0].at("period")), "2024");
  const std::string fp = str(raised[0].at("fingerprint"));
  const std::vector<std::string> firing_line = {"alert firing:", "fingerprint=" + fp};
  EXPECT_EQ(count_lines(daemon.log(), firing_line), 1) << daemon.log();

  // Unrelated figures, and the same figure again: one log line per transition, not per evaluation.
  submit(daemon, submission("g01.trainees", "2024", 4000));
  submit(daemon, submission("g06.stage_up_rate", "2024", 20, basic));
  submit(daemon, submission("g06.stage_up_rate", "2024", 19, basic));  // still falling: still firing
  auto still = get_alert(daemon.port(), fp);
  EXPECT_EQ(str(still.at("state")), "firing");
  EXPECT_EQ(still.at("value").to_number<double>(), 19.0);
  EXPECT_EQ(history_of(still), "inactive→firing");
  EXPECT_EQ(count_lines(daemon.log(), firing_line), 1) << daemon.log();

  // A revision that removes the condition: 30 → 28 is a fall of 2 points.
  submit(daemon, submission("g06.stage_up_rate", "2024", 28, basic));
  auto resolved = get_alert(daemon.port(), fp);
  EXPECT_EQ(str(resolved.at("state")), "resolved");
  EXPECT_EQ(history_of(resolved), "inactive→firing,firing→resolved");
  EXPECT_FALSE(str(resolved.at("resolved_at")).empty());
  EXPECT_EQ(get_alerts(daemon.port(), "?state=resolved&rule=" + rule).size(), 1u);
  EXPECT_EQ(get_alerts(daemon.port(), "?state=firing&rule=" + rule).size(), 0u);
  EXPECT_EQ(count_lines(daemon.log(), firing_line), 1);
  EXPECT_EQ(count_lines(daemon.log(), {"alert resolved:", "fingerprint=" + fp}), 1) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Alerts, ABatchThatBreaksTwoSeriesRaisesTwoAlerts) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  submit(daemon, R"({"submissions": [
    {"kpi": "g06.stage_up_rate", "period": "2023", "dims": {"stage": "applied"}, "value": 52.3},
    {"kpi": "g06.stage_up_rate", "period": "2023", "dims": {"stage": "clinical"}, "value": 9.3},
    {"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "applied"}, "value": 44.8},
    {"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "clinical"}, "value": 2.0}]})");
  auto raised = alerts_of(get_alerts(daemon.port(), "?state=firing"), "g06-stage-up-rate-falling");
  std::set<std::string> stages;
  for (const auto& a : raised) stages.insert(label(a, "stage"));
  EXPECT_EQ(stages, (std::set<std::string>{"applied", "clinical"}));
  EXPECT_EQ(count_lines(daemon.log(), {"alert firing:", "rule=g06-stage-up-rate-falling"}), 2);
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// (c) Reload of rule files

const std::string kFewTrainees = R"([[rule]]
id = "few-trainees"
title = "Few trainees"
kpi = "g01.trainees"
severity = "warning"
summary_ja = "研修受講者数が{value}人（{period}）"
summary_en = "{value} trainees in {period}"

[rule.threshold]
below = 50
)";

const std::string kFewCourses = R"([[rule]]
id = "few-courses"
title = "Few courses"
kpi = "g01.training_courses"
severity = "critical"
summary_ja = "研修コース数が{value}（{period}）"
summary_en = "{value} courses in {period}"

[rule.threshold]
below = 10
)";

const std::string kBroken = R"([[rule]]
id = "broken"
title = "Broken"
kpi = "g01.trainees"
severity = "urgent"
summary_ja = "x"
summary_en = "{valeu} trainees"
colour = "red"

[rule.expression]
expr = "g01.trainees / / g01.training_courses < 50"
)";

// The diagnostics kBroken must produce, as file:line:col: message parts.
std::vector<std::string> broken_diagnostics(const std::string& file) {
  return {
      fmt::format("{}:{}: rule \"broken\": severity must be info, warning or critical", file,
                  position(kBroken, "\"urgent\"")),
      fmt::format("{}:{}: rule \"broken\": \"summary_en\": unknown placeholder {{valeu}}", file,
                  position(kBroken, "{valeu}")),
      fmt::format("{}:{}: rule \"broken\": unknown key \"colour\"", file, position(kBroken, "colour")),
      fmt::format("{}:{}: rule \"broken\" [rule.expression]: expected a number, a KPI or \"(\"", file,
                  position(kBroken, "/ g01.training_courses")),
  };
}

TEST(Alerts, ReloadAddsRulesRefusesBrokenOnesAndKeepsAlertStates) {
  TempDir rules;
  write_file(rules.file("a.toml"), kFewTrainees);
  Daemon daemon("", fmt::format("{}\n[rules]\npaths = [\"{}\"]\n", kNoDataset, rules.path()));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over"));

  submit(daemon, submission("g01.trainees", "2024", 40));
  submit(daemon, submission("g01.training_courses", "2024", 5));  // no rule on courses yet
  auto trainees = alerts_of(get_alerts(daemon.port()), "few-trainees");
  ASSERT_EQ(trainees.size(), 1u);
  const std::string fp = str(trainees[0].at("fingerprint"));
  const std::string firing_since = str(trainees[0].at("firing_since"));
  EXPECT_EQ(alerts_of(get_alerts(daemon.port()), "few-courses").size(), 0u);

  // A new rule file and SIGHUP: reloaded, and the new rule runs over the stored figures.
  write_file(rules.file("b.toml"), kFewCourses);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_log("reloaded:")) << daemon.log();
  ASSERT_TRUE(wait_for_lines(daemon, {"alert firing:", "rule=few-courses"}, 1)) << daemon.log();
  auto courses = alerts_of(get_alerts(daemon.port()), "few-courses");
  ASSERT_EQ(courses.size(), 1u);
  EXPECT_EQ(str(courses[0].at("state")), "firing");
  EXPECT_EQ(str(courses[0].at("severity")), "critical");
  // The alert of a rule that still exists keeps its state: same fingerprint, no new transition.
  auto kept = get_alert(daemon.port(), fp);
  EXPECT_EQ(str(kept.at("state")), "firing");
  EXPECT_EQ(str(kept.at("firing_since")), firing_since);
  EXPECT_EQ(history_of(kept), "inactive→firing");
  EXPECT_EQ(count_lines(daemon.log(), {"alert firing:", "fingerprint=" + fp}), 1);

  // A broken rule file: SIGHUP fails, with file:line:col for every error in the log.
  const std::string broken = rules.file("c.toml");
  write_file(broken, kBroken);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_log("reload failed")) << daemon.log();
  for (const auto& d : broken_diagnostics(broken)) EXPECT_NE(daemon.log().find(d), std::string::npos) << d;
  // POST /api/v1/reload: 422 with the same diagnostics.
  auto refused = http_post(daemon.port(), "/api/v1/reload", "", kAdminToken);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.error_code(), "reload_failed");
  std::string diagnostics;
  const json::value body = refused.json();
  for (const auto& d : body.at("error").at("diagnostics").as_array()) diagnostics += str(d) + "\n";
  for (const auto& d : broken_diagnostics(broken)) EXPECT_NE(diagnostics.find(d), std::string::npos) << d;
  EXPECT_EQ(count(diagnostics, "\n"), 4) << diagnostics;

  // The previous rules keep running and requests keep being answered.
  EXPECT_EQ(http_get(daemon.port(), "/readyz").status, 200);
  submit(daemon, submission("g01.training_courses", "2025", 20));  // the old rule set resolves few-courses
  auto resolved = alerts_of(get_alerts(daemon.port()), "few-courses");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(str(resolved[0].at("state")), "resolved");
  submit(daemon, submission("g01.trainees", "2025", 30));  // still below 50: firing, on 2025
  kept = get_alert(daemon.port(), fp);
  EXPECT_EQ(str(kept.at("state")), "firing");
  EXPECT_EQ(str(kept.at("period")), "2025");
  EXPECT_EQ(history_of(kept), "inactive→firing");
  EXPECT_EQ(alerts_of(get_alerts(daemon.port()), "broken").size(), 0u);

  // Files removed: the removed rule's alerts resolve, the others keep theirs.
  fs::remove(broken);
  submit(daemon, submission("g01.training_courses", "2025", 3));  // few-courses fires again
  ASSERT_EQ(str(alerts_of(get_alerts(daemon.port()), "few-courses")[0].at("state")), "firing");
  fs::remove(rules.file("b.toml"));
  auto ok = http_post(daemon.port(), "/api/v1/reload", "", kAdminToken);
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(wait_for_lines(daemon, {"alert resolved:", "rule=few-courses"}, 2)) << daemon.log();
  auto retired = get_alert(daemon.port(), str(courses[0].at("fingerprint")));
  EXPECT_EQ(str(retired.at("state")), "resolved");
  EXPECT_EQ(history_of(retired), "inactive→firing,firing→resolved,resolved→firing,firing→resolved");
  kept = get_alert(daemon.port(), fp);
  EXPECT_EQ(str(kept.at("state")), "firing");
  EXPECT_EQ(history_of(kept), "inactive→firing");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Alerts, MalformedRuleFilesNeverCrashTheDaemon) {
  TempDir rules;
  write_file(rules.file("a.toml"), kFewTrainees);
  Daemon daemon("", fmt::format("{}\n[rules]\npaths = [\"{}\"]\n", kNoDataset, rules.path()));
  daemon.start();
  const std::string g06 = read_file(kSourceDir + "/config/rules/g06.toml");
  ASSERT_GT(g06.size(), 1000u);
  std::string dotted = "[[rule]]\nx";
  for (int i = 0; i < 10000; ++i) dotted += ".a";
  const std::vector<std::string> bad = {
      g06.substr(0, g06.size() / 3),
      g06.substr(0, g06.find("[rule.change]") + 8),
      "x = " + std::string(10000, '['),
      "[[rule]]\nid = " + std::string(10000, '{'),
      dotted + " = 1\n",
      "[[rule]]\nid = \"x\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\nsummary_ja = \"s\"\n"
      "summary_en = \"s\"\n[rule.expression]\nexpr = \"" +
          std::string(5000, '(') + "value" + std::string(5000, ')') + " < 1\"\n",
      std::string("\xff\xfe\x00\x01garbage", 11),
      "[[rule]]\nid = 1\ntitle = []\nkpi = {}\nseverity = 2.5\nhold_for = \"x\"\nsummary_ja = 1979-05-27\n",
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    write_file(rules.file("z.toml"), bad[i]);
    auto reply = http_post(daemon.port(), "/api/v1/reload", "", kAdminToken);
    EXPECT_EQ(reply.status, 422) << i << ": " << reply.body;
    EXPECT_NE(reply.body.find(rules.file("z.toml") + ":"), std::string::npos) << i << ": " << reply.body;
  }
  EXPECT_EQ(http_get(daemon.port(), "/healthz").status, 200);
  submit(daemon, submission("g01.trainees", "2024", 40));
  EXPECT_EQ(alerts_of(get_alerts(daemon.port()), "few-trainees").size(), 1u);
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// (d) Restarts

TEST(Alerts, ARestartKeepsAlertStatesWithoutNewTransitions) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over"));
  // A revision (19.0 → 10 in 2024: firing). Not a new period: that would also change a
  // missing-data alert (see overdue_test.cpp).
  submit(daemon, submission("g06.stage_up_rate", "2024", 10, R"({"stage": "basic"})"));
  auto snapshot = [&] {
    std::map<std::string, std::string> out;  // fingerprint → state, period, history
    for (const auto& a : get_alerts(daemon.port())) {
      std::string fp = str(a.at("fingerprint"));
      out[fp] = str(a.at("state")) + " " + str(a.at("period")) + " " + history_of(get_alert(daemon.port(), fp));
    }
    return out;
  };
  auto before = snapshot();
  ASSERT_GT(before.size(), 5u);
  EXPECT_EQ(before.count("92e990f00c8c0c39"), 1u);
  const int transitions_before = transitions(daemon.log());
  EXPECT_GT(transitions_before, 5);
  EXPECT_EQ(daemon.stop(), 0);

  daemon.start();
  ASSERT_TRUE(wait_for_lines(daemon, {"rules evaluated over"}, 2)) << daemon.log();
  EXPECT_EQ(snapshot(), before);
  const std::string since = log_of_last_start(daemon);
  EXPECT_EQ(transitions(since), 0) << since;
  EXPECT_EQ(transitions(daemon.log()), transitions_before);

  // After a SIGKILL too.
  daemon.kill_hard();
  daemon.start();
  ASSERT_TRUE(wait_for_lines(daemon, {"rules evaluated over"}, 3)) << daemon.log();
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(transitions(log_of_last_start(daemon)), 0) << log_of_last_start(daemon);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Alerts, ARestartWithUnchangedRulesSkipsTheFullPassAndAChangedRuleFileDoesIt) {
  TempDir rules;
  write_file(rules.file("a.toml"), kFewTrainees);
  Daemon daemon("", fmt::format("{}\n[rules]\npaths = [\"{}\"]\n", kNoDataset, rules.path()));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over"));
  EXPECT_THAT(daemon.log(), HasSubstr("rules changed: full pass over 0 series")) << "a new database";
  submit(daemon, submission("g01.trainees", "2024", 40));
  submit(daemon, submission("g01.training_courses", "2024", 5));
  auto trainees = alerts_of(get_alerts(daemon.port()), "few-trainees");
  ASSERT_EQ(trainees.size(), 1u);
  const std::string fp = str(trainees[0].at("fingerprint"));
  const std::string firing_since = str(trainees[0].at("firing_since"));
  EXPECT_EQ(daemon.stop(), 0);

  daemon.start();
  ASSERT_TRUE(wait_for_lines(daemon, {"rules evaluated over"}, 2)) << daemon.log();
  std::string since = log_of_last_start(daemon);
  EXPECT_THAT(since, HasSubstr("rules unchanged since the last run: no full pass (2 series loaded"));
  // The courses figure changed no alert, so it is evaluated once more (no tick wrote it down): cheaply, no transition.
  EXPECT_THAT(since, HasSubstr("revision(s) to evaluate since"));
  EXPECT_EQ(transitions(since), 0) << since;
  EXPECT_EQ(str(get_alert(daemon.port(), fp).at("state")), "firing");
  EXPECT_EQ(str(get_alert(daemon.port(), fp).at("firing_since")), firing_since);
  // The states it loaded are the ones incremental evaluation goes on from.
  submit(daemon, submission("g01.trainees", "2024", 60));
  EXPECT_EQ(str(get_alert(daemon.port(), fp).at("state")), "resolved");
  submit(daemon, submission("g01.trainees", "2024", 40));
  EXPECT_EQ(str(get_alert(daemon.port(), fp).at("state")), "firing");
  EXPECT_EQ(daemon.stop(), 0);

  // A rule file changed while the daemon was down: the pass runs, and the new rule fires.
  write_file(rules.file("b.toml"), kFewCourses);
  daemon.start();
  ASSERT_TRUE(wait_for_lines(daemon, {"rules evaluated over"}, 3)) << daemon.log();
  since = log_of_last_start(daemon);
  EXPECT_THAT(since, HasSubstr("rules changed: full pass over 2 series"));
  EXPECT_EQ(alerts_of(get_alerts(daemon.port()), "few-courses").size(), 1u) << since;
  EXPECT_EQ(str(get_alert(daemon.port(), fp).at("state")), "firing");
  EXPECT_EQ(daemon.stop(), 0);

  // And the next start, with those rules unchanged, skips it again.
  daemon.start();
  ASSERT_TRUE(wait_for_lines(daemon, {"rules evaluated over"}, 4)) << daemon.log();
  since = log_of_last_start(daemon);
  EXPECT_THAT(since, HasSubstr("rules unchanged since the last run: no full pass"));
  EXPECT_EQ(transitions(since), 0) << since;
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// (e) The rule commands

TEST(RuleCommands, CheckReportsEveryErrorOfABrokenRuleDirectory) {
  TempDir dir;
  write_file(dir.file("a.toml"), kFewTrainees);
  write_file(dir.file("c.toml"), kBroken);
  const std::string second =
      "# a second broken file\n[[rule]]\nid = \"few-trainees\"\ntitle = \"dup\"\n"
      "kpi = \"g99.none\"\nseverity = \"info\"\nsummary_ja = \"x\"\nsummary_en = \"x\"\n"
      "[rule.new_item]\n";
  write_file(dir.file("d.toml"), second);
  auto result = run_kpiwatch({"check", dir.path()});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_LT(result.exit_code, 128) << "a crash, not a refusal";
  for (const auto& d : broken_diagnostics(dir.file("c.toml")))
    EXPECT_NE(result.err.find(d), std::string::npos) << d << "\n" << result.err;
  EXPECT_NE(result.err.find(fmt::format("{}:{}: rule \"few-trainees\": unknown KPI \"g99.none\"", dir.file("d.toml"),
                                        position(second, "\"g99.none\""))),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.out.find("OK"), std::string::npos) << result.out;

  auto ok = run_kpiwatch({"check", kSourceDir + "/config/rules"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("OK"), std::string::npos) << ok.out;
  auto single = run_kpiwatch({"check", dir.file("a.toml")});
  EXPECT_EQ(single.exit_code, 0) << single.err;
  EXPECT_NE(single.out.find("1 rules"), std::string::npos) << single.out;
}

TEST(RuleCommands, CheckNeverCrashesOnMalformedFiles) {
  TempDir dir;
  const std::string g06 = read_file(kSourceDir + "/config/rules/g06.toml");
  std::string huge;
  for (int i = 0; i < 20000; ++i)
    huge += fmt::format(
        "[[rule]]\nid = \"r{}\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"info\"\n"
        "summary_ja = \"x\"\nsummary_en = \"x\"\n[rule.threshold]\nbelow = {}\n",
        i, i);
  const std::vector<std::pair<std::string, bool>> files = {
      {g06.substr(0, g06.find("\nid = \"") + 7), false},  // inside the first rule's id
      {"x = " + std::string(100000, '['), false},
      {"[[rule]]\nid = 1\ntitle = []\nkpi = {}\nseverity = 2.5\n", false},
      {huge, true},
  };
  for (const auto& [text, valid] : files) {
    write_file(dir.file("r.toml"), text);
    auto result = run_kpiwatch({"check", dir.file("r.toml")});
    EXPECT_EQ(result.exit_code, valid ? 0 : 1) << result.err.substr(0, 2000);
    if (!valid) {
      EXPECT_NE(result.err.find(dir.file("r.toml") + ":"), std::string::npos) << result.err.substr(0, 2000);
    }
  }
}

TEST(RuleCommands, TheShippedRuleTestsPass) {
  std::vector<std::string> args = {"test"};
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/config/rules/tests"))
    if (entry.path().extension() == ".toml") args.push_back(entry.path().string());
  ASSERT_EQ(args.size(), 13u);  // one per goal, and overdue_test.toml
  auto result = run_kpiwatch(args);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("12 passed, 0 failed"), std::string::npos) << result.out;
}

TEST(RuleCommands, AWrongRuleTestFailsNamingTheAlert) {
  TempDir dir;
  const std::string g06 = kSourceDir + "/config/rules/g06.toml";
  const std::string test = fmt::format(R"(rule_files = ["{}"]

[[input]]
kpi = "g06.stage_up_rate"
dims = {{ stage = "basic" }}
values = {{ "2023" = 19.0, "2024" = 24.1 }}

[[input]]
kpi = "g06.stage_up_rate"
dims = {{ stage = "clinical" }}
values = {{ "2023" = 9.3, "2024" = 2.0 }}

# Wrong on purpose: basic rose, clinical fell.
[[expect]]
at = "2024"
alerts = [
  {{ rule = "g06-stage-up-rate-falling", state = "firing", labels = {{ stage = "basic" }} }},
]
)",
                                       g06);
  write_file(dir.file("wrong_test.toml"), test);
  auto result = run_kpiwatch({"test", dir.file("wrong_test.toml")});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("0 passed, 1 failed"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(fmt::format("{}:{}: expected alert not raised: g06-stage-up-rate-falling firing",
                                        dir.file("wrong_test.toml"), line_of(test, "{ rule ="))),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("stage=\"basic\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("unexpected alert: g06-stage-up-rate-falling firing"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("stage=\"clinical\""), std::string::npos) << result.out;

  // With the expectation fixed, the same file passes.
  auto fixed = test;
  fixed.replace(fixed.rfind("labels = { stage = \"basic\" }"), 28, "labels = { stage = \"clinical\" }");
  write_file(dir.file("right_test.toml"), fixed);
  auto passed = run_kpiwatch({"test", dir.file("right_test.toml")});
  EXPECT_EQ(passed.exit_code, 0) << passed.out;
  EXPECT_NE(passed.out.find("1 passed, 0 failed"), std::string::npos) << passed.out;
}

TEST(RuleCommands, ARuleTestAtAPeriodNoInputHasFailsInsteadOfPassingEmpty) {
  TempDir dir;
  const std::string test = fmt::format(R"(rule_files = ["{}/config/rules/g06.toml"]

[[input]]
kpi = "g06.stage_up_rate"
values = {{ "2023" = 33.1, "2024" = 33.0 }}

[[expect]]
at = "2024"
alerts = []

[[expect]]
at = "FY2024"
alerts = []
)",
                                       kSourceDir);
  write_file(dir.file("typo_test.toml"), test);
  auto result = run_kpiwatch({"test", dir.file("typo_test.toml")});
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("ok: at 2024"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(fmt::format("{}:{}: \"at\" = \"FY2024\" is not a period of any input series",
                                        dir.file("typo_test.toml"), line_of(test, "[[expect]]\nat = \"FY"))),
            std::string::npos)
      << result.out;
}

TEST(RuleCommands, EvalOnTheBundledDatasetPrintsThe2024Alerts) {
  auto result = run_kpiwatch({"eval", "--input", kSourceDir + "/config/dataset/bundled.json", "--at", "2026-01-01",
                              "--lang", "en"});  // the English summaries
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  auto y2024 = out.find("\n2024 (");
  ASSERT_NE(y2024, std::string::npos) << out;
  auto end = out.find("\n\n", y2024 + 1);
  const std::string section = out.substr(y2024, end == std::string::npos ? std::string::npos : end - y2024);
  for (const auto& [stage, from, to] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"all", "33.1", "26.8"},
                                                                      {"applied", "52.3", "44.8"},
                                                                      {"nonclinical", "52.0", "37.0"},
                                                                      {"clinical", "9.3", "2.0"}})
    EXPECT_NE(section.find(fmt::format("from {}% to {}%", from, to)), std::string::npos) << stage << "\n" << section;
  EXPECT_EQ(section.find("stage at adoption: basic"), std::string::npos) << section;
  EXPECT_EQ(count(section, "g06-stage-up-rate-falling"), 4) << section;
  // 2023 is the first year of the survey: no stage-up alert.
  auto y2023 = out.find("\n2023 (");
  ASSERT_NE(y2023, std::string::npos);
  EXPECT_EQ(out.substr(y2023, y2024 - y2023).find("g06-stage-up-rate-falling"), std::string::npos);
  EXPECT_NE(out.find("missing data as of 2026-01-01"), std::string::npos) << out;
}

}  // namespace
}  // namespace kpiwatch::test
