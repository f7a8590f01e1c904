// Routing, notification bodies and their signature.
#include "kpiwatch/notifications.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kpiwatch/metrics.hpp"

namespace kpiwatch {
namespace {
namespace json = boost::json;

std::string S(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

AlertRecord stage_up_alert() {
  AlertRecord a;
  a.fingerprint = "92e990f00c8c0c39";
  a.rule_id = "g06-stage-up-rate-falling";
  a.kpi = "g06.stage_up_rate";
  a.labels = {{"rule", a.rule_id}, {"kpi", a.kpi}, {"goal", "6"}, {"severity", "warning"}, {"stage", "all"}};
  a.severity = Severity::warning;
  a.state = AlertState::firing;
  a.period = "2024";
  a.value = 26.8;
  a.summary_en = "Stage-up rate fell from 33.1% to 26.8% in 2024";
  a.summary_ja = "ステージアップ率が33.1%から26.8%に低下しました（2024）";
  a.description_en = "Change: -6.3 points.";
  a.description_ja = "前年比 -6.3 ポイント。";
  a.active_since = a.firing_since = parse_rfc3339("2026-11-23T10:00:00.000Z");
  return a;
}

Settings settings_with(const std::string& toml) {
  auto loaded = parse_settings(toml, "test.toml", "");
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    ADD_FAILURE() << (*diags)[0].str();
    return {};
  }
  return std::get<Settings>(loaded);
}

const char* kReceivers = R"(
[alerting]
default_receiver = "fallback"
external_url = "https://kpiwatch.example/"
[[receivers]]
name = "fallback"
url = "http://127.0.0.1:1/"
[[receivers]]
name = "amed"
url = "http://127.0.0.1:2/"
format = "slack"
[[receivers]]
name = "critical"
url = "http://127.0.0.1:3/"
format = "teams"
[[routes]]
match = { goal = "6" }
receivers = ["amed"]
continue = true
[[routes]]
match = { severity = "critical" }
receivers = ["critical"]
[[routes]]
match = { goal = "6" }
receivers = ["critical"]
)";

std::vector<std::string> names(const std::vector<const ReceiverConfig*>& receivers) {
  std::vector<std::string> out;
  for (const auto* r : receivers) out.push_back(r->name);
  return out;
}

TEST(Routing, RoutesMatchLabelsAndContinueOnlyWhenAsked) {
  auto config = make_notify_config(settings_with(kReceivers), "127.0.0.1:8080");
  AlertRecord a = stage_up_alert();
  // goal 6 → amed (continue) → severity critical does not match → goal 6 → critical (stop).
  EXPECT_EQ(names(config->route(a)), (std::vector<std::string>{"amed", "critical"}));

  a.labels["goal"] = "8";
  EXPECT_EQ(names(config->route(a)), (std::vector<std::string>{"fallback"}));

  a.receivers = {"amed"};  // named by the rule
  EXPECT_EQ(names(config->route(a)), (std::vector<std::string>{"amed"}));
  EXPECT_EQ(config->external_url, "https://kpiwatch.example");
}

TEST(Routing, UnknownReceiversInRoutesAreConfigErrors) {
  auto loaded = parse_settings("[[routes]]\nmatch = { goal = \"6\" }\nreceivers = [\"nobody\"]\n", "bad.toml", "");
  ASSERT_TRUE(std::holds_alternative<Diagnostics>(loaded));
  EXPECT_NE(std::get<Diagnostics>(loaded)[0].str().find("bad.toml:3:"), std::string::npos);
  EXPECT_NE(std::get<Diagnostics>(loaded)[0].message.find("unknown receiver \"nobody\""), std::string::npos);
}

TEST(NotificationBody, AlertmanagerWebhookVersion4CarriesBothLanguages) {
  ReceiverConfig r;
  r.name = "policy-staff";
  auto a = stage_up_alert();
  auto body = json::parse(notification_body(r, a, false, "http://127.0.0.1:8080")).as_object();
  EXPECT_EQ(S(body.at("version")), "4");
  EXPECT_EQ(S(body.at("status")), "firing");
  EXPECT_EQ(S(body.at("receiver")), "policy-staff");
  EXPECT_EQ(S(body.at("externalURL")), "http://127.0.0.1:8080");
  EXPECT_EQ(S(body.at("groupLabels").at("alertname")), a.rule_id);
  EXPECT_EQ(S(body.at("commonLabels").at("stage")), "all");
  EXPECT_EQ(S(body.at("commonAnnotations").at("summary_ja")), a.summary_ja);
  const auto& alert = body.at("alerts").at(0).as_object();
  EXPECT_EQ(S(alert.at("status")), "firing");
  EXPECT_EQ(S(alert.at("fingerprint")), a.fingerprint);
  EXPECT_EQ(S(alert.at("startsAt")), "2026-11-23T10:00:00.000Z");
  EXPECT_EQ(S(alert.at("endsAt")), "0001-01-01T00:00:00Z");
  EXPECT_EQ(S(alert.at("generatorURL")), "http://127.0.0.1:8080/api/v1/alerts/92e990f00c8c0c39");
  EXPECT_EQ(S(alert.at("annotations").at("summary_en")), a.summary_en);
  EXPECT_EQ(S(alert.at("annotations").at("description_ja")), a.description_ja);

  a.state = AlertState::resolved;
  a.resolved_at = parse_rfc3339("2026-11-24T10:00:00.000Z");
  auto resolved = json::parse(notification_body(r, a, true, "http://x")).as_object();
  EXPECT_EQ(S(resolved.at("status")), "resolved");
  EXPECT_EQ(S(resolved.at("alerts").at(0).at("endsAt")), "2026-11-24T10:00:00.000Z");
}

TEST(NotificationBody, SlackTeamsAndAlertmanagerApiFormats) {
  ReceiverConfig r;
  auto a = stage_up_alert();
  r.format = ReceiverFormat::slack;
  auto slack = json::parse(notification_body(r, a, false, "http://x")).as_object();
  std::string text(slack.at("text").as_string());
  EXPECT_NE(text.find("[FIRING]"), std::string::npos);
  EXPECT_NE(text.find(a.summary_ja), std::string::npos);
  EXPECT_NE(text.find("http://x/api/v1/alerts/" + a.fingerprint), std::string::npos);

  r.format = ReceiverFormat::teams;
  auto card = json::parse(notification_body(r, a, true, "http://x")).as_object();
  EXPECT_EQ(S(card.at("@type")), "MessageCard");
  EXPECT_EQ(S(card.at("@context")), "http://schema.org/extensions");
  EXPECT_NE(std::string(card.at("title").as_string()).find("RESOLVED"), std::string::npos);
  EXPECT_EQ(S(card.at("potentialAction").at(0).at("targets").at(0).at("uri")),
            "http://x/api/v1/alerts/" + a.fingerprint);

  r.format = ReceiverFormat::alertmanager_api;
  auto pushed = json::parse(notification_body(r, a, false, "http://x")).as_array();
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(S(pushed[0].at("labels").at("alertname")), a.rule_id);
  EXPECT_FALSE(pushed[0].as_object().contains("endsAt"));
}

// --- Grouping

const char* kGrouped = R"(
[alerting]
default_receiver = "fallback"
group_by = ["severity"]
group_wait_ms = 1000
[[receivers]]
name = "fallback"
url = "http://127.0.0.1:1/"
[[receivers]]
name = "amed"
url = "http://127.0.0.1:2/"
[[receivers]]
name = "am"
url = "http://127.0.0.1:3/"
format = "alertmanager_api"
[[routes]]
match = { goal = "6" }
receivers = ["amed", "am"]
group_by = ["goal"]
group_interval_ms = 9000
)";

TEST(Grouping, ARouteGroupsByItsLabelsAndInheritsTheRestFromAlerting) {
  auto config = make_notify_config(settings_with(kGrouped), "127.0.0.1:8080");
  auto a = stage_up_alert();
  auto routed = config->routes_for(a);
  ASSERT_EQ(routed.size(), 2u);
  EXPECT_EQ(routed[0].receiver->name, "amed");
  EXPECT_EQ(routed[0].grouping->group_by, (std::vector<std::string>{"goal"}));
  EXPECT_EQ(routed[0].grouping->group_wait, std::chrono::milliseconds(1000)) << "from [alerting]";
  EXPECT_EQ(routed[0].grouping->group_interval, std::chrono::milliseconds(9000));
  EXPECT_TRUE(routed[0].grouped());
  EXPECT_FALSE(routed[1].grouped()) << "alertmanager_api sends each alert alone";
  a.labels["goal"] = "8";
  routed = config->routes_for(a);
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_EQ(routed[0].receiver->name, "fallback");
  EXPECT_EQ(routed[0].grouping->group_by, (std::vector<std::string>{"severity"}));
}

TEST(Grouping, WithoutGroupByEveryAlertIsSentAlone) {
  auto config = make_notify_config(settings_with(kReceivers), "127.0.0.1:8080");
  for (const auto& r : config->routes_for(stage_up_alert())) EXPECT_FALSE(r.grouped());
}

TEST(Grouping, BadGroupSettingsNameTheirPlace) {
  auto loaded = parse_settings(
      "[[receivers]]\nname = \"a\"\nurl = \"http://x/\"\n[[routes]]\nreceivers = [\"a\"]\n"
      "group_by = [\"Goal Number\"]\ngroup_wait_ms = 0\n",
      "test.toml", "");
  ASSERT_TRUE(std::holds_alternative<Diagnostics>(loaded));
  const auto& diags = std::get<Diagnostics>(loaded);
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags[0].str(),
            "test.toml:6:12: routes[0]: \"group_by\" lists label names (e.g. [\"goal\"]), not "
            "\"Goal Number\"");
  EXPECT_EQ(diags[1].str(), "test.toml:7:17: routes[0]: \"group_wait_ms\" must be a positive number of milliseconds");
}

TEST(Grouping, TheGroupKeyIsTheGroupByLabelsValues) {
  Grouping g;
  g.group_by = {"goal", "area"};
  auto group = group_of(g, stage_up_alert());
  EXPECT_EQ(group.key, "{goal=\"6\", area=\"\"}");
  EXPECT_EQ(group.labels, (Labels{{"goal", "6"}}));
}

TEST(GroupPlanner, ANewGroupWaitsGroupWaitThenSendsAtMostOncePerGroupInterval) {
  using namespace std::chrono_literals;
  Grouping g;
  g.group_by = {"goal"};
  g.group_wait = 500ms;
  g.group_interval = 5s;
  TimePoint now = *parse_rfc3339("2026-12-01T10:00:00.000Z");
  EXPECT_EQ(group_due(std::nullopt, std::nullopt, now, g), now + 500ms) << "nothing sent yet";
  EXPECT_EQ(group_due(std::nullopt, now - 10s, now, g), now + 500ms) << "nothing sent recently";
  EXPECT_EQ(group_due(std::nullopt, now - 2s, now, g), now + 3s) << "last message 2 s ago";
  EXPECT_EQ(group_due(now + 200ms, now - 2s, now, g), now + 200ms) << "joins the message being gathered";
}

TEST(GroupBody, OneWebhookCarriesEveryAlertWithTheirCommonLabels) {
  ReceiverConfig r;
  r.name = "amed";
  auto all = stage_up_alert();
  auto clinical = stage_up_alert();
  clinical.fingerprint = "c0ffee";
  clinical.labels["stage"] = "clinical";
  clinical.resolved_at = parse_rfc3339("2026-11-24T10:00:00.000Z");
  std::vector<std::string> items{notification_item(all, false, "http://x"),
                                 notification_item(clinical, true, "http://x")};
  auto body = json::parse(group_notification_body(r, "{goal=\"6\"}", R"({"goal":"6"})", items, "http://x")).as_object();
  EXPECT_EQ(S(body.at("version")), "4");
  EXPECT_EQ(S(body.at("groupKey")), "{}:{goal=\"6\"}");
  EXPECT_EQ(S(body.at("status")), "firing") << "one of them fires";
  EXPECT_EQ(body.at("groupLabels"), (json::object{{"goal", "6"}}));
  const auto& common = body.at("commonLabels").as_object();
  EXPECT_EQ(S(common.at("goal")), "6");
  EXPECT_FALSE(common.contains("stage")) << "not common";
  ASSERT_EQ(body.at("alerts").as_array().size(), 2u);
  EXPECT_EQ(S(body.at("alerts").at(1).at("status")), "resolved");
  EXPECT_EQ(S(body.at("alerts").at(1).at("fingerprint")), "c0ffee");
  EXPECT_EQ(S(body.at("commonAnnotations").at("period")), "2024");

  r.format = ReceiverFormat::slack;
  auto text =
      S(json::parse(group_notification_body(r, "{goal=\"6\"}", R"({"goal":"6"})", items, "http://x")).at("text"));
  EXPECT_NE(text.find("[FIRING:2] goal=6"), std::string::npos) << text;
  EXPECT_NE(text.find(all.summary_en), std::string::npos);
  EXPECT_NE(text.find(all.summary_ja), std::string::npos);
  EXPECT_NE(text.find("[RESOLVED] g06-stage-up-rate-falling"), std::string::npos) << text;

  r.format = ReceiverFormat::teams;
  auto card = json::parse(group_notification_body(r, "{goal=\"6\"}", R"({"goal":"6"})", items, "http://x")).as_object();
  ASSERT_EQ(card.at("sections").as_array().size(), 2u);
  EXPECT_EQ(S(card.at("sections").at(0).at("activityTitle")), all.summary_ja);
  EXPECT_EQ(S(card.at("sections").at(0).at("activitySubtitle")), all.summary_en);
}

TEST(Signature, IsTheHmacSha256OfTimestampDotBody) {
  // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
  EXPECT_EQ(signature("key", "1700000000", "{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
  EXPECT_NE(signature("key", "1700000001", "{}"), signature("key", "1700000000", "{}"));
  EXPECT_NE(signature("other", "1700000000", "{}"), signature("key", "1700000000", "{}"));
}

TEST(Metrics, RendersPrometheusTextWithHelpTypeAndLabels) {
  Metrics m;
  m.describe("kpiwatch_submissions_total", "counter", "Submissions by result.");
  m.add("kpiwatch_submissions_total", {{"result", "accepted"}}, 3);
  m.add("kpiwatch_submissions_total", {{"result", "accepted"}});
  m.set("kpiwatch_outbox_depth", {}, 2);
  std::string text = m.render();
  EXPECT_NE(text.find("# HELP kpiwatch_submissions_total Submissions by result.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE kpiwatch_submissions_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("kpiwatch_submissions_total{result=\"accepted\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("kpiwatch_outbox_depth 2\n"), std::string::npos);
}

}  // namespace
}  // namespace kpiwatch
