// Grouping, inhibition and the alert list's filters end to end
// (docs/NOTIFICATIONS.md): the real daemon over the bundled figures, the real
// test receiver, and GET /api/v1/alerts.
//
// Goal 6 in 2024: the overall stage-up rate fell 33.1 → 26.8 and so did the
// applied, non-clinical and clinical rates; the shipped [[inhibit]] of
// config/rules/g06.toml holds the per-stage copies back while the overall
// alert fires. A 2025 figure of 10 for stage "basic" (24.1 in 2024) is a new
// fall that no overall alert of 2025 covers.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"
#include "receiver.hpp"
#include "temp_dir.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kStageUp = "g06-stage-up-rate-falling";

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }

std::string label(const json::value& alert, const std::string& name) {
  const auto* v = alert.at("labels").as_object().if_contains(name);
  return v ? str(*v) : "<none>";
}

// [alerting] and one receiver for goal 6; `route_extra` goes into the route.
std::string goal6_route(const std::string& url, const std::string& route_extra) {
  return fmt::format(R"(
[alerting]
default_receiver = ""
retry_initial_ms = 50
retry_max_ms = 400

[[receivers]]
name = "hook"
url = "{}"

[[routes]]
match = {{ goal = "6" }}
receivers = ["hook"]
{}
)",
                     url, route_extra);
}

json::array alerts(unsigned short port, const std::string& query = "") {
  auto reply = http_get(port, "/api/v1/alerts" + query);
  EXPECT_EQ(reply.status, 200) << query << ": " << reply.body;
  return reply.status == 200 ? reply.json().at("alerts").as_array() : json::array{};
}

std::set<std::string> fingerprints(const json::array& list) {
  std::set<std::string> out;
  for (const auto& a : list) out.insert(str(a.at("fingerprint")));
  return out;
}

// The fingerprints of the alerts a webhook request carries.
std::set<std::string> carried(const ReceivedRequest& r) {
  std::set<std::string> out;
  const auto body = r.json();  // kept: the loop reads into it
  for (const auto& a : body.at("alerts").as_array()) out.insert(str(a.at("fingerprint")));
  return out;
}

// (rule, stage) of the alerts a webhook request carries.
std::set<std::pair<std::string, std::string>> rules_and_stages(const ReceivedRequest& r) {
  std::set<std::pair<std::string, std::string>> out;
  const auto body = r.json();  // kept: the loop reads into it
  for (const auto& a : body.at("alerts").as_array()) out.emplace(label(a, "rule"), label(a, "stage"));
  return out;
}

// Whether the receiver got the overall stage-up alert (stage=all).
bool overall_stage_up_sent(const TestReceiver& receiver) {
  return !receiver.requests([](const ReceivedRequest& r) {
                    return rules_and_stages(r).contains({kStageUp, "all"});
                  })
              .empty();
}

void submit_basic_2025(const Daemon& daemon) {
  auto reply = http_post(daemon.port(), "/api/v1/submissions",
                         R"({"kpi": "g06.stage_up_rate", "period": "2025", "dims": {"stage": "basic"}, "value": 10})",
                         kAmedToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
}

// ---------------------------------------------------------------------------
// (a) Grouping

TEST(Grouping, AlertsOfAGoalThatFireTogetherArriveInOneRequestAndALaterOneAfterGroupInterval) {
  constexpr long long kInterval = 3000;
  TestReceiver receiver;
  receiver.start();
  Daemon daemon("", goal6_route(receiver.url(), fmt::format("group_by = [\"goal\"]\ngroup_wait_ms = 500\n"
                                                            "group_interval_ms = {}",
                                                            kInterval)));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();

  // Every firing goal-6 alert that is not inhibited, in one request.
  auto first = receiver.wait_for(1);
  ASSERT_EQ(first.size(), 1u) << daemon.log();
  auto expected = fingerprints(alerts(daemon.port(), "?goal=6&state=firing"));
  ASSERT_GE(expected.size(), 2u);
  const auto body = first[0].json().as_object();
  EXPECT_EQ(carried(first[0]), expected);
  EXPECT_EQ(body.at("groupLabels"), (json::object{{"goal", "6"}}));
  EXPECT_EQ(str(body.at("groupKey")), "{}:{goal=\"6\"}");
  EXPECT_EQ(str(body.at("commonLabels").at("goal")), "6");
  EXPECT_EQ(str(body.at("status")), "firing");
  EXPECT_FALSE(first[0].header("Idempotency-Key").empty());

  // The single-alert view says which message it went in.
  auto one = http_get(daemon.port(), "/api/v1/alerts/" + *expected.begin()).json();
  const auto& notifications = one.at("notifications").as_array();
  ASSERT_EQ(notifications.size(), 1u) << one;
  EXPECT_TRUE(eventually([&] {
    auto n = http_get(daemon.port(), "/api/v1/alerts/" + *expected.begin()).json().at("notifications").at(0);
    return str(n.at("status")) == "delivered";
  }));
  const auto& group = notifications[0].at("group");
  EXPECT_EQ(str(group.at("key")), "{goal=\"6\"}");
  EXPECT_EQ(group.at("labels"), (json::object{{"goal", "6"}}));
  EXPECT_EQ(group.at("alerts").to_number<std::size_t>(), expected.size());
  EXPECT_EQ(str(group.at("text")), fmt::format("grouped by goal=6 with {} alerts", expected.size()));

  // A later alert of the goal: a second message, not sooner than group_interval after the first.
  submit_basic_2025(daemon);
  auto both = receiver.wait_for(2);
  ASSERT_EQ(both.size(), 2u) << daemon.log();
  EXPECT_TRUE(rules_and_stages(both[1]).contains({kStageUp, "basic"})) << both[1].body;
  EXPECT_FALSE(carried(both[1]).contains(*expected.begin())) << "sent already";
  // The second is due group_interval after the first was claimed, which is before it was received.
  EXPECT_GE(both[1].received_ms - both[0].received_ms, kInterval - 1000) << both[0].received_ms;
  EXPECT_NE(both[1].header("Idempotency-Key"), both[0].header("Idempotency-Key"));
  EXPECT_EQ(receiver.requests().size(), 2u);
}

TEST(Grouping, WithoutGroupByEachAlertIsItsOwnRequest) {
  TestReceiver receiver;
  receiver.start();
  Daemon daemon("", goal6_route(receiver.url(), ""));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto expected = fingerprints(alerts(daemon.port(), "?goal=6&state=firing"));
  ASSERT_GE(expected.size(), 2u);
  auto got = receiver.wait_for(expected.size());
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& r : got) EXPECT_EQ(carried(r).size(), 1u);
}

// ---------------------------------------------------------------------------
// (b) Inhibition

TEST(Inhibition, TheOverallStageUpAlertIsSentAndThePerStageCopiesAreHeldBack) {
  TestReceiver receiver;
  receiver.start();
  Daemon daemon("", goal6_route(receiver.url(), ""));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();

  auto all = alerts(daemon.port(), fmt::format("?rule={}&inhibited=true", kStageUp));
  std::map<std::string, json::object> by_stage;
  for (const auto& a : all) by_stage[label(a, "stage")] = a.as_object();
  ASSERT_TRUE(by_stage.contains("all"));
  for (const auto* stage : {"applied", "nonclinical", "clinical"}) {
    ASSERT_TRUE(by_stage.contains(stage)) << stage;
    const auto& inhibited = by_stage[stage].at("inhibited_by").as_array();
    ASSERT_EQ(inhibited.size(), 1u) << stage;
    EXPECT_EQ(inhibited[0].at("fingerprint"), by_stage["all"].at("fingerprint"));
    EXPECT_EQ(str(inhibited[0].at("rule")), kStageUp);
    EXPECT_EQ(str(inhibited[0].at("period")), "2024");
    EXPECT_EQ(inhibited[0].at("summary").at("ja"), by_stage["all"].at("summary").at("ja"));
  }
  EXPECT_TRUE(by_stage["all"].at("inhibited_by").as_array().empty());

  // Hidden by default; the overall one is listed.
  auto shown = alerts(daemon.port(), fmt::format("?rule={}", kStageUp));
  ASSERT_EQ(shown.size(), 1u) << shown;
  EXPECT_EQ(label(shown[0], "stage"), "all");

  // The receiver gets the overall alert; the copies are recorded as suppressed, with the reason.
  ASSERT_TRUE(eventually([&] { return overall_stage_up_sent(receiver); })) << daemon.log();
  auto detail = http_get(daemon.port(), "/api/v1/alerts/" + str(by_stage["clinical"].at("fingerprint"))).json();
  const auto& notifications = detail.at("notifications").as_array();
  ASSERT_EQ(notifications.size(), 1u) << detail;
  EXPECT_EQ(str(notifications[0].at("status")), "suppressed");
  EXPECT_EQ(str(notifications[0].at("last_error")), fmt::format("inhibited by {} (stage=all, 2024)", kStageUp));
  EXPECT_EQ(detail.at("inhibited_by").at(0).at("fingerprint"), by_stage["all"].at("fingerprint"));

  // The goal's other alerts are all delivered: every request but none about a per-stage copy.
  auto expected = alerts(daemon.port(), "?goal=6&state=firing").size();
  auto got = receiver.wait_for(expected);
  EXPECT_EQ(got.size(), expected);
  for (const auto& r : receiver.requests())
    for (const auto& [rule, stage] : rules_and_stages(r)) EXPECT_FALSE(rule == kStageUp && stage != "all") << r.body;
  EXPECT_TRUE(daemon.wait_for_log("notification suppressed: inhibited by g06-stage-up-rate-falling (stage=all, 2024)"));
}

TEST(Inhibition, WhenTheOverallAlertResolvesThePerStageCopyIsSentThen) {
  TestReceiver receiver;
  receiver.start();
  Daemon daemon("", goal6_route(receiver.url(), ""));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto clinical_sent = [&](const ReceivedRequest& r) { return rules_and_stages(r).contains({kStageUp, "clinical"}); };
  ASSERT_TRUE(eventually([&] { return overall_stage_up_sent(receiver); }));
  EXPECT_TRUE(receiver.requests(clinical_sent).empty());

  // A revision of the overall 2024 figure to 33.1 (no fall): the overall alert resolves.
  auto reply = http_post(daemon.port(), "/api/v1/submissions",
                         R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "all"}, "value": 33.1})",
                         kAmedToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto got = receiver.wait_for(1, clinical_sent);
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(str(got[0].json().at("status")), "firing");
  auto shown = alerts(daemon.port(), fmt::format("?rule={}&label.stage=clinical", kStageUp));
  ASSERT_EQ(shown.size(), 1u) << "no longer inhibited: listed";
  EXPECT_TRUE(shown[0].at("inhibited_by").as_array().empty());

  // The overall fall comes back: the clinical copy is inhibited again, but the receiver was told
  // it fires, so its resolution is told too, and no second firing when the overall one goes.
  reply = http_post(daemon.port(), "/api/v1/submissions",
                    R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "all"}, "value": 26.8})",
                    kAmedToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  ASSERT_EQ(alerts(daemon.port(), fmt::format("?rule={}&label.stage=clinical", kStageUp)).size(), 0u);
  reply = http_post(daemon.port(), "/api/v1/submissions",
                    R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "clinical"}, "value": 9.3})",
                    kAmedToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  got = receiver.wait_for(2, clinical_sent);
  ASSERT_EQ(got.size(), 2u) << daemon.log();
  EXPECT_EQ(str(got[1].json().at("status")), "resolved");
}

TEST(Inhibition, AReloadWithoutTheInhibitTablesSendsTheCopiesItHeldBack) {
  // The shipped rules in a folder of the test's, so that the [[inhibit]] tables can be taken out.
  TempDir rules;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(KPIWATCH_SOURCE_DIR) + "/config/rules"))
    if (entry.path().extension() == ".toml")
      std::filesystem::copy_file(entry.path(), rules.file(entry.path().filename()));
  TestReceiver receiver;
  receiver.start();
  Daemon daemon("", goal6_route(receiver.url(), "") + fmt::format("\n[rules]\npaths = [\"{}\"]\n", rules.path()));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto clinical_sent = [&](const ReceivedRequest& r) { return rules_and_stages(r).contains({kStageUp, "clinical"}); };
  ASSERT_TRUE(eventually([&] { return overall_stage_up_sent(receiver); }));
  EXPECT_TRUE(receiver.requests(clinical_sent).empty());

  std::string g06 = read_file(rules.file("g06.toml"));
  auto tables = g06.find("[[inhibit]]");
  ASSERT_NE(tables, std::string::npos);
  write_file(rules.file("g06.toml"), g06.substr(0, tables));
  auto reloaded = http_post(daemon.port(), "/api/v1/reload", "", kAdminToken);
  ASSERT_EQ(reloaded.status, 200) << reloaded.body;

  // No rule inhibits the per-stage copy any more: its firing goes out, once, and it is listed.
  auto got = receiver.wait_for(1, clinical_sent);
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(str(got[0].json().at("status")), "firing");
  auto shown = alerts(daemon.port(), fmt::format("?rule={}&label.stage=clinical", kStageUp));
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_TRUE(shown[0].at("inhibited_by").as_array().empty());
  // A later batch does not queue it again. The outbox is written with the alert changes, before
  // the 201: the alert's notifications are then final, and hold one firing that is not held back.
  auto reply = http_post(daemon.port(), "/api/v1/submissions",
                         R"({"kpi": "g01.trainees", "period": "2035", "value": 1})", kAmedToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto detail = http_get(daemon.port(), "/api/v1/alerts/" + str(shown[0].at("fingerprint"))).json();
  std::size_t told = 0;
  for (const auto& n : detail.at("notifications").as_array())
    if (str(n.at("event")) == "firing" && str(n.at("status")) != "suppressed") ++told;
  EXPECT_EQ(told, 1u) << detail;
}

// ---------------------------------------------------------------------------
// (c) The list's filters

TEST(AlertList, FiltersByLabelsAndHidesSilencedAcknowledgedAndInhibitedUnlessAsked) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  const unsigned short port = daemon.port();

  auto change = alerts(port, "?label.criterion=change");
  ASSERT_FALSE(change.empty());
  for (const auto& a : change) EXPECT_EQ(label(a, "criterion"), "change") << a;
  auto g6 = alerts(port, "?label.criterion=change&label.goal=6");
  ASSERT_FALSE(g6.empty());
  for (const auto& a : g6) EXPECT_EQ(label(a, "goal"), "6");
  EXPECT_LT(g6.size(), change.size());
  EXPECT_TRUE(alerts(port, "?label.goal=6&label.goal=7").empty()) << "every matcher must hold";
  EXPECT_TRUE(alerts(port, "?label.criterion=no-such").empty());

  // Bad parameters: 400 naming the parameter.
  for (const auto* bad : {"?silenced=yes", "?acknowledged=1", "?inhibited=", "?label.=x", "?colour=red"}) {
    auto reply = http_get(port, std::string("/api/v1/alerts") + bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.body;
  }
  auto reply = http_get(port, "/api/v1/alerts?silenced=yes");
  EXPECT_NE(reply.body.find("silenced"), std::string::npos) << reply.body;

  // The list reads as a person reads it: firing first, the findings before the overdue figures,
  // critical before warning, goal by goal.
  auto listed = alerts(port, "?inhibited=true");
  auto rank = [](const json::value& a) {
    std::string state = str(a.at("state")), severity = str(a.at("severity"));
    int s = state == "firing" ? 0 : state == "pending" ? 1 : state == "resolved" ? 2 : 3;
    int v = severity == "critical" ? 0 : severity == "warning" ? 1 : 2;
    bool missing = a.at("labels").as_object().contains("criterion") && label(a, "criterion") == "missing_data";
    return std::tuple(s, missing, v, std::stoi(label(a, "goal")), str(a.at("kpi")));
  };
  for (std::size_t i = 1; i < listed.size(); ++i) EXPECT_LE(rank(listed[i - 1]), rank(listed[i])) << i;

  // A silence hides the alerts it matches; ?silenced=true shows them, with the silence.
  auto target = change.front();
  std::string fp = str(target.at("fingerprint"));
  std::string rule = str(target.at("rule"));
  auto silence = HttpClient(port).request(
      "POST", "/api/v1/silences",
      fmt::format(R"({{"matchers": {{"rule": "{}"}}, "ends_at": "2099-01-01T00:00:00Z", "comment": "known"}})", rule),
      {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}});
  ASSERT_EQ(silence.status, 201) << silence.body;
  auto id = silence.json().at("id");
  EXPECT_FALSE(fingerprints(alerts(port, "?label.criterion=change")).contains(fp));
  auto silenced = alerts(port, "?label.criterion=change&silenced=true");
  ASSERT_TRUE(fingerprints(silenced).contains(fp));
  for (const auto& a : silenced)
    if (str(a.at("fingerprint")) == fp) {
      EXPECT_EQ(a.at("silenced_by"), (json::array{id}));
    }
  auto removed = HttpClient(port).request("DELETE", fmt::format("/api/v1/silences/{}", str(id)), "",
                                          {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_TRUE(fingerprints(alerts(port, "?label.criterion=change")).contains(fp));

  // An acknowledgement hides the alert; ?acknowledged=true shows it, with the acknowledgement.
  auto ack = HttpClient(port).request(
      "POST", "/api/v1/alerts/" + fp + "/ack", R"({"comment": "見ています"})",
      {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}});
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_FALSE(fingerprints(alerts(port, "?label.criterion=change")).contains(fp));
  auto acked = alerts(port, "?label.criterion=change&acknowledged=true");
  ASSERT_TRUE(fingerprints(acked).contains(fp));
  for (const auto& a : acked)
    if (str(a.at("fingerprint")) == fp) {
      EXPECT_EQ(str(a.at("acknowledged").at("comment")), "見ています");
    }
  EXPECT_FALSE(fingerprints(alerts(port, "?label.criterion=change&acknowledged=false")).contains(fp));
}

}  // namespace
}  // namespace kpiwatch::test
