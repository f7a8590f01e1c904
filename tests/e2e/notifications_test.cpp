// Alert delivery end to end (docs/NOTIFICATIONS.md): the real daemon sends its
// notifications over loopback to the real test receiver
// (support/receiver_main.cpp), which records them, fails, hangs, is absent,
// serves HTTPS and checks signatures as each test tells it.
//
// The alert: the shipped rule g06-stage-up-rate-falling on the series
// stage = "basic" of g06.stage_up_rate. The bundled figures are 19.0 (2023)
// and 24.1 (2024); 10 for 2025 is a fall of 14.1 points (> 5: firing), and a
// revision to 30 resolves it. Only that series is routed to the test receivers
// (default_receiver = ""), so that the other alerts the shipped rules raise on
// the bundled data do not reach them; some tests also route the series
// stage = "all" (33.1 → 26.8, firing from the first start) as a marker (the
// per-stage copies of 2024 are inhibited by it: config/rules/g06.toml).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "http_client.hpp"
#include "kpiwatch/clock.hpp"
#include "process.hpp"
#include "receiver.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kRule = "g06-stage-up-rate-falling";
constexpr const char* kSecret = "hook-secret-秘密";
constexpr const char* kExternalUrl = "http://kpiwatch.test:8080";

// ---------------------------------------------------------------------------
// Configuration

struct ReceiverSpec {
  std::string name = "hook";
  std::string url;
  std::string format = "alertmanager";
  std::string secret = kSecret;
  int timeout_ms = 2000;
  std::string extra = "";  // more keys of the [[receivers]] table
};

struct AlertingSpec {
  long long retry_initial_ms = 50;
  long long retry_max_ms = 400;
  long long max_age_ms = 600000;
  long long evaluation_interval_ms = 60000;     // [rules]: the tick that sends repeats
  std::vector<std::string> stages = {"basic"};  // series of the rule routed to every receiver
};

std::string alerting(const std::vector<ReceiverSpec>& receivers, const AlertingSpec& a = {}) {
  std::string out =
      fmt::format(R"(
[rules]
evaluation_interval_ms = {}

[alerting]
external_url = "{}"
default_receiver = ""
retry_initial_ms = {}
retry_max_ms = {}
max_age_ms = {}
)",
                  a.evaluation_interval_ms, kExternalUrl, a.retry_initial_ms, a.retry_max_ms, a.max_age_ms);
  std::string names;
  for (const auto& r : receivers) {
    out += fmt::format(R"(
[[receivers]]
name = "{}"
url = "{}"
format = "{}"
secret = "{}"
timeout_ms = {}
{}
)",
                       r.name, r.url, r.format, r.secret, r.timeout_ms, r.extra);
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", r.name);
  }
  for (const auto& stage : a.stages)
    out += fmt::format(R"(
[[routes]]
match = {{ rule = "{}", stage = "{}" }}
receivers = [{}]
)",
                       kRule, stage, names);
  return out;
}

// ---------------------------------------------------------------------------
// The daemon's API

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }

HttpReply submit_stage_up(unsigned short port, const std::string& stage, double value,
                          const std::string& period = "2025") {
  return http_post(port, "/api/v1/submissions",
                   fmt::format(R"({{"kpi": "g06.stage_up_rate", "period": "{}", "dims": {{"stage": "{}"}},
                                   "value": {}, "source": "e2e"}})",
                               period, stage, value),
                   kAdminToken);
}

HttpReply admin_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body = "", const std::string& token = kAdminToken) {
  std::map<std::string, std::string> headers{{"Authorization", "Bearer " + token}};
  if (!body.empty()) headers["Content-Type"] = "application/json";
  return HttpClient(port).request(method, target, body, headers);
}

// The alert of the rule on a series; null if there is none.
json::value alert_of(unsigned short port, const std::string& stage) {
  auto reply =
      http_get(port, std::string("/api/v1/alerts?silenced=true&acknowledged=true&inhibited=true&rule=") + kRule);
  EXPECT_EQ(reply.status, 200) << reply.body;
  const auto alerts = reply.json();
  for (const auto& a : alerts.at("alerts").as_array())
    if (a.at("labels").as_object().contains("stage") && str(a.at("labels").at("stage")) == stage) return a;
  return nullptr;
}

std::string fingerprint_of(unsigned short port, const std::string& stage) {
  auto a = alert_of(port, stage);
  return a.is_null() ? "" : std::string(a.at("fingerprint").as_string());
}

json::object alert_detail(unsigned short port, const std::string& fingerprint) {
  auto reply = http_get(port, "/api/v1/alerts/" + fingerprint);
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.json().as_object();
}

json::array outbox(unsigned short port, const std::string& state = "") {
  auto reply = admin_request(port, "GET", "/api/v1/outbox" + (state.empty() ? "" : "?state=" + state));
  EXPECT_EQ(reply.status, 200) << reply.body;
  if (reply.status != 200) return {};
  return reply.json().at("notifications").as_array();
}

std::vector<json::object> outbox_of(unsigned short port, const std::string& fingerprint,
                                    const std::string& state = "") {
  std::vector<json::object> out;
  for (const auto& e : outbox(port, state))
    if (str(e.at("fingerprint")) == fingerprint) out.push_back(e.as_object());
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// One sample of GET /metrics: the value of `name` whose labels include `labels`.
std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::map<std::string, std::string>& labels = {}) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto brace = line.find('{');
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    std::string metric_name = line.substr(0, std::min(brace, space));
    if (metric_name != name) continue;
    std::map<std::string, std::string> found;
    if (brace != std::string::npos && brace < space) {
      static const std::regex pair(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
      auto body = line.substr(brace, line.find('}', brace) - brace);
      for (std::sregex_iterator it(body.begin(), body.end(), pair), end; it != end; ++it) found[(*it)[1]] = (*it)[2];
    }
    bool all = std::all_of(labels.begin(), labels.end(), [&](const auto& kv) {
      auto it = found.find(kv.first);
      return it != found.end() && it->second == kv.second;
    });
    if (all) return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

std::string metrics_text(unsigned short port) {
  auto reply = http_get(port, "/metrics");
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.body;
}

// ---------------------------------------------------------------------------
// What the receiver got

// The Alertmanager webhook body of a request, or null if it is none.
json::value webhook_body(const ReceivedRequest& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("alerts")) return nullptr;
  return v;
}

std::string stage_of(const ReceivedRequest& r) {
  auto v = webhook_body(r);
  if (v.is_null()) return "";
  const auto& labels = v.at("alerts").at(0).at("labels").as_object();
  return labels.contains("stage") ? std::string(labels.at("stage").as_string()) : "";
}

std::string status_of(const ReceivedRequest& r) {
  auto v = webhook_body(r);
  return v.is_null() ? "" : std::string(v.at("status").as_string());
}

std::string rule_of(const ReceivedRequest& r) {
  auto v = webhook_body(r);
  if (v.is_null()) return "";
  const auto& labels = v.at("alerts").at(0).at("labels").as_object();
  return labels.contains("rule") ? std::string(labels.at("rule").as_string()) : "";
}

// Alertmanager webhook requests about the rule's alert on a series (any attempt).
std::function<bool(const ReceivedRequest&)> about(const std::string& stage, const std::string& status = "",
                                                  bool delivered_only = false, const std::string& rule = kRule) {
  return [=](const ReceivedRequest& r) {
    if (delivered_only && (r.status < 200 || r.status >= 300)) return false;
    return rule_of(r) == rule && stage_of(r) == stage && (status.empty() || status_of(r) == status);
  };
}

// ... answered 2xx.
std::function<bool(const ReceivedRequest&)> delivered(const std::string& stage, const std::string& status = "",
                                                      const std::string& rule = kRule) {
  return about(stage, status, true, rule);
}

std::set<std::string> keys_of(const std::vector<ReceivedRequest>& requests) {
  std::set<std::string> keys;
  for (const auto& r : requests) keys.insert(r.header("Idempotency-Key"));
  return keys;
}

std::string version() {
  auto r = run_kpiwatch({"version"});
  auto text = r.out.substr(r.out.find(' ') + 1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

bool is_rfc3339_utc(const std::string& s) {
  static const std::regex re(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  return std::regex_match(s, re);
}

// ---------------------------------------------------------------------------
// Formats

TEST(Notifications, AlertmanagerWebhookFieldByFieldFiringThenResolved) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon(
      "",
      alerting({{.url = receiver.url("/hooks/am?team=md"), .extra = R"(headers = { "X-Team" = "medical-devices" })"}}));
  daemon.start();

  auto reply = submit_stage_up(daemon.port(), "basic", 10);
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto got = receiver.wait_for(1, delivered("basic", "firing"));
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");
  ASSERT_FALSE(fp.empty());
  auto alert = alert_detail(daemon.port(), fp);
  ASSERT_EQ(alert.at("state"), "firing");

  // The request.
  const auto& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hooks/am?team=md");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("User-Agent"), "kpiwatch/" + version());
  EXPECT_EQ(r.header("X-Team"), "medical-devices");
  EXPECT_EQ(r.signature, "valid") << r.header("X-Kpiwatch-Signature");
  EXPECT_FALSE(r.header("Idempotency-Key").empty());
  auto timestamp = std::stoll(r.header("X-Kpiwatch-Timestamp"));
  EXPECT_LE(std::abs(r.received_ms / 1000 - timestamp), 60) << "Unix seconds when the attempt was sent";

  // The raw text: the figure as people write it, the counter as a plain integer.
  EXPECT_NE(r.body.find(R"("value":"10")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("truncatedAlerts":0,)"), std::string::npos) << r.body;

  // The body, field by field.
  auto body = r.json().as_object();
  EXPECT_EQ(body.at("version"), "4");
  ASSERT_TRUE(body.at("groupKey").is_string());
  // docs/NOTIFICATIONS.md's example is {}:{rule="<rule>"}; the form is Alertmanager's "{route}:{group labels}".
  EXPECT_TRUE(str(body.at("groupKey")).starts_with("{}:{")) << body.at("groupKey");
  EXPECT_NE(str(body.at("groupKey")).find(kRule), std::string::npos) << body.at("groupKey");
  EXPECT_EQ(body.at("truncatedAlerts"), 0);
  EXPECT_EQ(body.at("status"), "firing");
  EXPECT_EQ(body.at("receiver"), "hook");
  EXPECT_EQ(body.at("groupLabels"), (json::object{{"alertname", kRule}}));
  const json::object labels{{"alertname", kRule}, {"rule", kRule},         {"kpi", "g06.stage_up_rate"},
                            {"goal", "6"},        {"severity", "warning"}, {"stage", "basic"},
                            {"area", "r_and_d"},  {"criterion", "change"}};
  EXPECT_EQ(body.at("commonLabels"), labels);
  const auto& annotations = body.at("commonAnnotations").as_object();
  EXPECT_EQ(annotations.at("summary"), annotations.at("summary_en"));
  EXPECT_NE(str(annotations.at("summary_en")).find("from 24.1% to 10.0%"), std::string::npos)
      << str(annotations.at("summary_en"));
  EXPECT_NE(str(annotations.at("summary_ja")).find("24.1%から10.0%"), std::string::npos)
      << str(annotations.at("summary_ja"));
  EXPECT_NE(str(annotations.at("description_en")).find("14.1"), std::string::npos)
      << str(annotations.at("description_en"));
  EXPECT_NE(str(annotations.at("description_ja")).find("14.1"), std::string::npos)
      << str(annotations.at("description_ja"));
  EXPECT_FALSE(str(annotations.at("title")).empty());
  EXPECT_EQ(annotations.at("period"), "2025");
  EXPECT_EQ(annotations.at("value"), "10");
  EXPECT_EQ(annotations.at("summary_en"), alert.at("summary").at("en"));
  EXPECT_EQ(annotations.at("summary_ja"), alert.at("summary").at("ja"));
  EXPECT_EQ(body.at("externalURL"), kExternalUrl);

  const auto& alerts = body.at("alerts").as_array();
  ASSERT_EQ(alerts.size(), 1u) << "one notification carries one alert";
  const auto& a = alerts[0].as_object();
  EXPECT_EQ(a.at("status"), "firing");
  EXPECT_EQ(a.at("labels"), labels);
  EXPECT_EQ(a.at("annotations"), body.at("commonAnnotations"));
  EXPECT_TRUE(is_rfc3339_utc(str(a.at("startsAt")))) << a.at("startsAt");
  EXPECT_EQ(a.at("startsAt"), alert.at("firing_since"));
  EXPECT_EQ(a.at("endsAt"), "0001-01-01T00:00:00Z");
  EXPECT_EQ(str(a.at("generatorURL")), std::string(kExternalUrl) + "/api/v1/alerts/" + fp);
  EXPECT_EQ(str(a.at("fingerprint")), fp);
  // generatorURL's path is the alert in kpiwatch's API.
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/alerts/" + fp).status, 200);

  // The resolution: a revision back to 30.
  reply = submit_stage_up(daemon.port(), "basic", 30);
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto resolved = receiver.wait_for(1, delivered("basic", "resolved"));
  ASSERT_EQ(resolved.size(), 1u) << daemon.log();
  alert = alert_detail(daemon.port(), fp);
  EXPECT_EQ(alert.at("state"), "resolved");
  const auto& rr = resolved[0];
  EXPECT_EQ(rr.signature, "valid");
  EXPECT_NE(rr.header("Idempotency-Key"), r.header("Idempotency-Key")) << "another notification, another key";
  auto rbody = rr.json().as_object();
  EXPECT_EQ(rbody.at("version"), "4");
  EXPECT_EQ(rbody.at("status"), "resolved");
  EXPECT_EQ(rbody.at("receiver"), "hook");
  EXPECT_EQ(rbody.at("commonLabels"), labels);
  const auto& ra = rbody.at("alerts").at(0).as_object();
  EXPECT_EQ(ra.at("status"), "resolved");
  EXPECT_EQ(str(ra.at("fingerprint")), fp);
  EXPECT_EQ(ra.at("startsAt"), a.at("startsAt")) << "the same episode";
  EXPECT_TRUE(is_rfc3339_utc(str(ra.at("endsAt")))) << ra.at("endsAt");
  EXPECT_EQ(ra.at("endsAt"), alert.at("resolved_at"));
  EXPECT_GT(str(ra.at("endsAt")), str(ra.at("startsAt")));

  // Exactly one notification per transition: firing, resolved.
  EXPECT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, SlackTextHasStateSeverityBothSummariesAndTheLink) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.name = "slack", .url = receiver.url("/slack"), .format = "slack"}}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  auto got = receiver.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");
  auto alert = alert_detail(daemon.port(), fp);
  EXPECT_EQ(got[0].signature, "valid");
  EXPECT_EQ(got[0].header("Content-Type"), "application/json");
  auto body = got[0].json().as_object();
  EXPECT_EQ(body.size(), 1u) << json::serialize(body);
  const auto text = str(body.at("text"));
  EXPECT_NE(text.find("FIRING"), std::string::npos) << text;
  EXPECT_NE(text.find("warning"), std::string::npos) << text;
  EXPECT_NE(text.find(str(alert.at("summary").at("en"))), std::string::npos) << text;
  EXPECT_NE(text.find(str(alert.at("summary").at("ja"))), std::string::npos) << text;
  EXPECT_NE(text.find(std::string(kExternalUrl) + "/api/v1/alerts/" + fp), std::string::npos) << text;

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u) << daemon.log();
  const auto resolved = str(got[1].json().at("text"));
  EXPECT_NE(resolved.find("RESOLVED"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find(std::string(kExternalUrl) + "/api/v1/alerts/" + fp), std::string::npos) << resolved;
}

TEST(Notifications, TeamsMessageCardFields) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.name = "teams", .url = receiver.url("/teams"), .format = "teams"}}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  auto got = receiver.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");
  auto alert = alert_detail(daemon.port(), fp);
  const auto summary_en = str(alert.at("summary").at("en"));
  const auto summary_ja = str(alert.at("summary").at("ja"));
  EXPECT_EQ(got[0].signature, "valid");
  auto card = got[0].json().as_object();
  EXPECT_EQ(card.at("@type"), "MessageCard");
  EXPECT_EQ(card.at("@context"), "http://schema.org/extensions");
  EXPECT_TRUE(std::regex_match(str(card.at("themeColor")), std::regex("[0-9A-Fa-f]{6}"))) << card.at("themeColor");
  EXPECT_NE(str(card.at("summary")).find(summary_en), std::string::npos) << card.at("summary");
  EXPECT_NE(str(card.at("title")).find(kRule), std::string::npos) << card.at("title");
  EXPECT_NE(str(card.at("title")).find("FIRING"), std::string::npos) << card.at("title");
  EXPECT_NE(str(card.at("text")).find(summary_en), std::string::npos) << card.at("text");
  EXPECT_NE(str(card.at("text")).find(summary_ja), std::string::npos) << card.at("text");
  const auto& sections = card.at("sections").as_array();
  ASSERT_FALSE(sections.empty());
  std::map<std::string, std::string> facts;
  for (const auto& f : sections[0].at("facts").as_array()) facts[str(f.at("name"))] = str(f.at("value"));
  EXPECT_EQ(facts["stage"], "basic");
  EXPECT_EQ(facts["kpi"], "g06.stage_up_rate");
  EXPECT_EQ(facts["severity"], "warning");
  EXPECT_EQ(facts["period"], "2025");
  EXPECT_EQ(facts["value"], "10");
  const auto& actions = card.at("potentialAction").as_array();
  ASSERT_FALSE(actions.empty());
  EXPECT_EQ(actions[0].at("@type"), "OpenUri");
  EXPECT_EQ(str(actions[0].at("targets").at(0).at("uri")), std::string(kExternalUrl) + "/api/v1/alerts/" + fp);

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u) << daemon.log();
  auto resolved = got[1].json().as_object();
  EXPECT_NE(str(resolved.at("title")).find("RESOLVED"), std::string::npos) << resolved.at("title");
  EXPECT_NE(resolved.at("themeColor"), card.at("themeColor"));
}

TEST(Notifications, AlertmanagerApiPostsAlertArraysAndResendsFiringAlerts) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.name = "am-api",
                               .url = receiver.url("/am"),
                               .format = "alertmanager_api",
                               .extra = "resend_interval_ms = 200"}},
                             {.stages = {"basic", "all"}}));
  daemon.start();
  // The body is a JSON array of alerts, posted to <url>/api/v2/alerts.
  auto alert_in = [](const ReceivedRequest& r, const std::string& stage) -> json::value {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_array() || v.as_array().size() != 1) return nullptr;
    const auto& a = v.as_array()[0];
    return str(a.at("labels").at("stage")) == stage ? a : json::value(nullptr);
  };
  auto about_stage = [&](const std::string& stage, bool resolved) {
    return [&, stage, resolved](const ReceivedRequest& r) {
      auto a = alert_in(r, stage);
      return !a.is_null() && a.as_object().contains("endsAt") == resolved;
    };
  };

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  // The firing notification, then re-sends every resend_interval_ms.
  auto firing = receiver.wait_for(3, about_stage("basic", false));
  ASSERT_GE(firing.size(), 3u) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");
  auto alert = alert_detail(daemon.port(), fp);
  for (const auto& r : firing) {
    EXPECT_EQ(r.target, "/am/api/v2/alerts");
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    auto a = alert_in(r, "basic").as_object();
    std::set<std::string> keys;
    for (const auto& kv : a) keys.insert(std::string(kv.key()));
    EXPECT_EQ(keys, (std::set<std::string>{"labels", "annotations", "startsAt", "generatorURL"})) << r.body;
    EXPECT_EQ(a.at("labels").at("alertname"), kRule);
    EXPECT_EQ(a.at("labels").at("rule"), kRule);
    EXPECT_EQ(a.at("labels").at("kpi"), "g06.stage_up_rate");
    EXPECT_EQ(a.at("labels").at("goal"), "6");
    EXPECT_EQ(a.at("labels").at("severity"), "warning");
    EXPECT_EQ(a.at("annotations").at("summary_en"), alert.at("summary").at("en"));
    EXPECT_EQ(a.at("annotations").at("summary_ja"), alert.at("summary").at("ja"));
    EXPECT_EQ(a.at("startsAt"), alert.at("firing_since"));
    EXPECT_EQ(str(a.at("generatorURL")), std::string(kExternalUrl) + "/api/v1/alerts/" + fp);
  }
  // docs/NOTIFICATIONS.md, "What a receiver gets": every POST carries these headers.
  for (const auto& r : firing) {
    EXPECT_FALSE(r.header("X-Kpiwatch-Timestamp").empty()) << "request " << r.seq;
    EXPECT_FALSE(r.header("Idempotency-Key").empty()) << "request " << r.seq;
    EXPECT_EQ(r.signature, "valid") << "request " << r.seq;
  }

  // The resolution, with endsAt; then no more re-sends of it (the overall alert's continue).
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  auto resolved = receiver.wait_for(1, about_stage("basic", true));
  ASSERT_EQ(resolved.size(), 1u) << daemon.log();
  alert = alert_detail(daemon.port(), fp);
  auto a = alert_in(resolved[0], "basic");
  EXPECT_EQ(a.at("endsAt"), alert.at("resolved_at"));
  EXPECT_EQ(a.at("startsAt"), alert.at("firing_since"));
  const auto resolved_seq = resolved[0].seq;
  ASSERT_TRUE(eventually([&] {
    auto overall = receiver.requests(about_stage("all", false));
    return std::count_if(overall.begin(), overall.end(),
                         [&](const ReceivedRequest& r) { return r.seq > resolved_seq; }) >= 2;
  })) << daemon.log();
  for (const auto& r : receiver.requests(about_stage("basic", false)))
    EXPECT_LT(r.seq, resolved_seq) << "a firing re-sent after the resolution: " << r.body;
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// Signatures

TEST(Notifications, SignaturesVerifyWithTheReceiversSecretOnly) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.name = "right", .url = receiver.url("/right")},
                              {.name = "wrong", .url = receiver.url("/wrong"), .secret = "not-the-receivers-secret"}}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  auto got = receiver.wait_for(4);
  ASSERT_EQ(got.size(), 4u) << daemon.log();
  for (const auto& r : got) {
    ASSERT_TRUE(r.target == "/right" || r.target == "/wrong") << r.target;
    EXPECT_TRUE(r.header("X-Kpiwatch-Signature").starts_with("sha256=")) << r.header("X-Kpiwatch-Signature");
    EXPECT_EQ(r.header("X-Kpiwatch-Signature").size(), 7u + 64u);
    EXPECT_EQ(r.signature, r.target == "/right" ? "valid" : "invalid") << r.target << " " << r.body;
  }
}

// ---------------------------------------------------------------------------
// Durability

TEST(Notifications, AReceiverDownThroughRetriesGetsEachNotificationWithTheSameIdempotencyKey) {
  TestReceiver receiver({.mode = "fail", .secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  daemon.start();

  // Failing (503): the firing notification is retried; the resolution queued
  // behind it waits, so that the two arrive in order.
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_GE(receiver.wait_for(3, about("basic", "firing")).size(), 3u) << daemon.log();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  ASSERT_GE(receiver.wait_for(4, about("basic", "firing")).size(), 4u) << daemon.log();
  EXPECT_TRUE(receiver.requests(about("basic", "resolved")).empty());

  // Absent: connections refused.
  const auto refused_before = count(daemon.log(), "cannot connect");
  ASSERT_EQ(receiver.stop(), 0);
  ASSERT_TRUE(eventually([&] { return count(daemon.log(), "cannot connect") >= refused_before + 3; })) << daemon.log();

  // Back, still failing once more, then up.
  receiver.start();
  ASSERT_GE(receiver.wait_for(4, about("basic", "firing")).size(), 4u) << daemon.log();
  receiver.set_mode("ok");
  auto firing = receiver.wait_for(1, delivered("basic", "firing"));
  auto resolved = receiver.wait_for(1, delivered("basic", "resolved"));
  ASSERT_EQ(firing.size(), 1u) << daemon.log();
  ASSERT_EQ(resolved.size(), 1u) << daemon.log();

  // Every attempt of one notification carries the same key; two notifications, two keys.
  auto firing_attempts = receiver.requests(about("basic", "firing"));
  auto resolved_attempts = receiver.requests(about("basic", "resolved"));
  EXPECT_GE(firing_attempts.size(), 5u);
  EXPECT_EQ(keys_of(firing_attempts), std::set<std::string>{firing[0].header("Idempotency-Key")});
  EXPECT_EQ(keys_of(resolved_attempts), std::set<std::string>{resolved[0].header("Idempotency-Key")});
  EXPECT_NE(firing[0].header("Idempotency-Key"), resolved[0].header("Idempotency-Key"));
  // The same bytes each time, each attempt signed afresh.
  for (const auto& r : firing_attempts) {
    EXPECT_EQ(r.body, firing[0].body);
    EXPECT_EQ(r.signature, "valid");
  }

  // The outbox agrees: both delivered, with their attempts.
  const auto fp = fingerprint_of(daemon.port(), "basic");
  std::vector<json::object> entries;
  ASSERT_TRUE(eventually([&] {
    entries = outbox_of(daemon.port(), fp, "delivered");
    return entries.size() == 2;
  })) << json::serialize(outbox(daemon.port()));
  for (const auto& e : entries) {
    EXPECT_EQ(e.at("receiver"), "hook");
    EXPECT_FALSE(str(e.at("delivered_at")).empty());
    const auto& attempts = e.at("event") == "firing" ? firing_attempts : resolved_attempts;
    EXPECT_EQ(str(e.at("idempotency_key")), attempts.at(0).header("Idempotency-Key"));
    EXPECT_GE(e.at("attempts").to_number<long long>(), static_cast<long long>(attempts.size()) - 1)
        << json::serialize(e);
  }

  // Metrics: sent, failed and retried by receiver.
  auto text = metrics_text(daemon.port());
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "hook"}, {"result", "sent"}}), 2.0) << text;
  EXPECT_GE(metric(text, "kpiwatch_notifications_total", {{"receiver", "hook"}, {"result", "failed"}}).value_or(0),
            static_cast<double>(firing_attempts.size() + resolved_attempts.size() - 2))
      << text;
  EXPECT_GE(metric(text, "kpiwatch_notifications_total", {{"receiver", "hook"}, {"result", "retried"}}).value_or(0),
            static_cast<double>(firing_attempts.size() + resolved_attempts.size() - 2))
      << text;
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, AfterAnOutageTheResolutionArrivesAfterTheFiring) {
  // Not stated in docs/NOTIFICATIONS.md, but what "receivers written for
  // Alertmanager work unchanged" needs: a firing delivered after its own
  // resolution leaves the receiver (or an Alertmanager: alertmanager_api)
  // believing the alert fires.
  TestReceiver receiver({.mode = "fail", .secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}, {.retry_initial_ms = 200, .retry_max_ms = 2000}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_GE(receiver.wait_for(3, about("basic", "firing")).size(), 3u) << daemon.log();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  ASSERT_GE(receiver.wait_for(4, about("basic", "firing")).size(), 4u) << daemon.log();
  EXPECT_TRUE(receiver.requests(about("basic", "resolved")).empty()) << "the resolution waits for the firing";
  receiver.set_mode("ok");
  auto ok = receiver.wait_for(2, delivered("basic"));
  ASSERT_EQ(ok.size(), 2u) << daemon.log();
  EXPECT_EQ(status_of(ok[0]), "firing");
  EXPECT_EQ(status_of(ok[1]), "resolved");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, NothingIsLostWhenTheDaemonIsKilledWithDeliveriesPending) {
  TestReceiver receiver({.mode = "fail", .secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  daemon.start();

  // Three notifications: firing, resolved, firing again; the receiver refuses the
  // first, and the others wait behind it in the outbox.
  for (double value : {10.0, 30.0, 10.0}) ASSERT_EQ(submit_stage_up(daemon.port(), "basic", value).status, 201);
  ASSERT_TRUE(eventually([&] { return !receiver.requests().empty(); })) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");
  std::set<std::string> queued;
  ASSERT_TRUE(eventually([&] {
    queued.clear();
    for (const auto& e : outbox_of(daemon.port(), fp, "pending")) queued.insert(str(e.at("idempotency_key")));
    return queued.size() == 3;
  })) << json::serialize(outbox(daemon.port()));
  daemon.kill_hard();

  receiver.set_mode("ok");
  daemon.restart();
  std::vector<ReceivedRequest> ok;
  ASSERT_TRUE(eventually([&] {
    ok = receiver.requests([](const ReceivedRequest& r) { return r.status == 200; });
    return keys_of(ok).size() >= 3;
  })) << daemon.log();
  EXPECT_EQ(keys_of(ok), queued) << "the same notifications, none lost, none new";
  EXPECT_EQ(ok.size(), 3u) << "each delivered once";
  std::vector<std::string> statuses;
  statuses.reserve(ok.size());
  for (const auto& r : ok) statuses.push_back(status_of(r));
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<std::string>{"firing", "firing", "resolved"}));
  EXPECT_TRUE(eventually([&] { return outbox(daemon.port(), "pending").empty(); }));
  EXPECT_EQ(daemon.stop(), 0);
}

// `kpiwatch import` on the daemon's database while it runs.
CommandResult import_into(const Daemon& daemon, const std::string& csv) {
  const std::string file = daemon.dir() + "/figures.csv";
  write_file(file, csv);
  return run_kpiwatch({"import", file, "--config", daemon.config_path()});
}

TEST(Notifications, AFigureImportedWhileTheDaemonRunsAlertsAndNotifiesWithoutARestart) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();

  auto imported = import_into(daemon, "kpi,period,dims.stage,value\ng06.stage_up_rate,2025,basic,10\n");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // No submission follows: the daemon's own look for other processes' commits finds it.
  auto got = receiver.wait_for(1, delivered("basic", "firing"));
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(alert_of(daemon.port(), "basic").at("state"), "firing");
  EXPECT_EQ(alert_of(daemon.port(), "basic").at("value").to_number<double>(), 10.0);
  EXPECT_NE(daemon.log().find("evaluating 1 revision(s) committed by another process (import:"), std::string::npos)
      << daemon.log();

  // A correction imported later resolves it, and notifies once more.
  imported = import_into(daemon, "kpi,period,dims.stage,value\ng06.stage_up_rate,2025,basic,30\n");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto resolved = receiver.wait_for(1, delivered("basic", "resolved"));
  ASSERT_EQ(resolved.size(), 1u) << daemon.log();
  EXPECT_EQ(receiver.requests().size(), 2u) << "one notification per transition";
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, ARestartWithUnchangedRulesNotifiesNothingAgain) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_EQ(receiver.wait_for(1, delivered("basic", "firing")).size(), 1u) << daemon.log();
  const auto before = receiver.requests().size();
  EXPECT_EQ(daemon.stop(), 0);

  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules unchanged since the last run: no full pass")) << daemon.log();
  EXPECT_EQ(alert_of(daemon.port(), "basic").at("state"), "firing");
  // A resolution goes out once, and nothing of before the restart again.
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  ASSERT_EQ(receiver.wait_for(1, delivered("basic", "resolved")).size(), 1u) << daemon.log();
  EXPECT_EQ(receiver.requests().size(), before + 1) << "one notification per transition";
  EXPECT_EQ(receiver.requests(delivered("basic", "firing")).size(), 1u);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, AFigureImportedWhileTheDaemonWasDownIsEvaluatedAtStart) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);

  auto imported = import_into(daemon, "kpi,period,dims.stage,value\ng06.stage_up_rate,2025,basic,10\n");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("1 revision(s) to evaluate since")) << daemon.log();
  EXPECT_NE(daemon.log().find("rules unchanged since the last run: no full pass"), std::string::npos) << daemon.log();
  auto got = receiver.wait_for(1, delivered("basic", "firing"));
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(alert_of(daemon.port(), "basic").at("state"), "firing");
  EXPECT_EQ(alert_of(daemon.port(), "basic").at("value").to_number<double>(), 10.0);
  EXPECT_EQ(receiver.requests().size(), 1u) << "one notification per transition";
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, AnImportedFigureIsEvaluatedWithTheNextSubmissionBeforeAnyLook) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  // The periodic look is ten minutes away: only the next submission's evaluation can find the import.
  std::string config = read_file(daemon.config_path());
  auto at = config.find("state_directory");
  ASSERT_NE(at, std::string::npos);
  config.insert(at, "external_check_ms = 600000\n");
  daemon.write_config(config);
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();

  auto imported = import_into(daemon, "kpi,period,dims.stage,value\ng06.stage_up_rate,2025,basic,10\n");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_TRUE(alert_of(daemon.port(), "basic").is_null()) << "not looked at yet";
  // An unrelated figure over HTTP (the applied stage rises): its 201 comes after both are evaluated.
  ASSERT_EQ(submit_stage_up(daemon.port(), "applied", 60).status, 201);
  auto alert = alert_of(daemon.port(), "basic");
  ASSERT_FALSE(alert.is_null()) << daemon.log();
  EXPECT_EQ(alert.at("state"), "firing");
  EXPECT_EQ(receiver.wait_for(1, delivered("basic", "firing")).size(), 1u) << daemon.log();
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, AHangingReceiverDoesNotDelaySubmissions) {
  TestReceiver receiver({.mode = "hang", .secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url(), .timeout_ms = 10000}}));
  daemon.start();

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_EQ(receiver.wait_for(1).size(), 1u) << daemon.log();  // the delivery hangs now
  const auto fp = fingerprint_of(daemon.port(), "basic");

  // Submissions are answered while it hangs: each within 5 s, against a 10 s delivery timeout.
  for (int year = 2090; year < 2095; ++year) {
    HttpClient client(daemon.port(), 5s);
    auto reply = client.post(
        "/api/v1/submissions",
        fmt::format(R"({{"kpi": "g01.trainees", "period": "{}", "value": {}}})", year, year - 2000), kAdminToken);
    EXPECT_EQ(reply.status, 201) << reply.body;
  }
  // A submission the rules evaluate (stage "all", already firing): as quick.
  {
    HttpClient client(daemon.port(), 5s);
    auto reply = client.post("/api/v1/submissions",
                             R"({"kpi": "g06.stage_up_rate", "period": "2025", "dims": {"stage": "all"}, "value": 5})",
                             kAdminToken);
    EXPECT_EQ(reply.status, 201) << reply.body;
  }
  // ... and they were answered during the hang: still the one request, its attempt unfinished.
  EXPECT_EQ(receiver.requests().size(), 1u);
  auto pending = outbox_of(daemon.port(), fp, "pending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].at("attempts"), 0) << json::serialize(pending[0]);

  // The receiver goes away mid-request and comes back answering: delivered.
  receiver.set_mode("ok");
  ASSERT_EQ(receiver.stop(), 0);
  receiver.start();
  ASSERT_EQ(receiver.wait_for(1, delivered("basic", "firing")).size(), 1u) << daemon.log();
  EXPECT_EQ(keys_of(receiver.requests()).size(), 1u);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, AHangingReceiverTimesOutAndTheNotificationIsRetried) {
  TestReceiver receiver({.mode = "hang", .secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url(), .timeout_ms = 200}}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_GE(receiver.wait_for(2).size(), 2u) << daemon.log();
  EXPECT_TRUE(daemon.wait_for_log("timed out after 200 ms")) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");
  auto entries = outbox_of(daemon.port(), fp);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(str(entries[0].at("last_error")).find("timed out"), std::string::npos) << json::serialize(entries[0]);

  receiver.set_mode("ok");
  auto ok = receiver.wait_for(1, delivered("basic", "firing"));
  ASSERT_EQ(ok.size(), 1u) << daemon.log();
  EXPECT_EQ(keys_of(receiver.requests()), keys_of(ok));
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// HTTPS

TEST(Notifications, HttpsVerifiesTheCertificateAndTheHostName) {
  TestCertificates certs;
  TestReceiver good({.secret = kSecret, .cert_file = certs.server_cert, .key_file = certs.server_key});
  TestReceiver wrong_host({.secret = kSecret, .cert_file = certs.wrong_host_cert, .key_file = certs.wrong_host_key});
  TestReceiver untrusted({.secret = kSecret, .cert_file = certs.self_signed_cert, .key_file = certs.self_signed_key});
  good.start();
  wrong_host.start();
  untrusted.start();
  const std::string ca = "ca_file = \"" + certs.ca_file + "\"";
  Daemon daemon("", alerting({{.name = "good-name", .url = good.url("/by-name", "localhost"), .extra = ca},
                              {.name = "good-ip", .url = good.url("/by-ip", "127.0.0.1"), .extra = ca},
                              {.name = "system-ca", .url = good.url("/system-ca", "localhost")},
                              {.name = "wrong-host", .url = wrong_host.url("/hook", "localhost"), .extra = ca},
                              {.name = "untrusted", .url = untrusted.url("/hook", "localhost"), .extra = ca}}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  const auto fp = fingerprint_of(daemon.port(), "basic");

  // The certificate of the test CA, for localhost and 127.0.0.1: accepted.
  auto got = good.wait_for(2, delivered("basic", "firing"));
  ASSERT_EQ(got.size(), 2u) << daemon.log();
  std::set<std::string> targets;
  for (const auto& r : got) {
    targets.insert(r.target);
    EXPECT_TRUE(r.tls);
    EXPECT_EQ(r.signature, "valid");
  }
  EXPECT_EQ(targets, (std::set<std::string>{"/by-name", "/by-ip"}));

  // The others fail at the handshake, retried with a certificate error, never delivered.
  std::map<std::string, std::string> errors;
  ASSERT_TRUE(eventually([&] {
    for (const auto& e : outbox_of(daemon.port(), fp))
      if (!str(e.at("last_error")).empty()) errors[str(e.at("receiver"))] = str(e.at("last_error"));
    return errors.size() >= 3;
  })) << json::serialize(outbox(daemon.port()))
      << daemon.log();
  for (const auto& name : {"wrong-host", "untrusted", "system-ca"}) {
    auto error = errors[name];
    for (auto& c : error) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(error.find("certificate"), std::string::npos) << name << ": " << errors[name];
  }
  for (const auto& e : outbox_of(daemon.port(), fp)) {
    if (e.at("receiver") == "good-name" || e.at("receiver") == "good-ip") continue;
    EXPECT_EQ(e.at("state"), "pending") << json::serialize(e);
  }
  EXPECT_NE(daemon.log().find("certificate verify failed"), std::string::npos) << daemon.log();
  EXPECT_TRUE(wrong_host.requests().empty());
  EXPECT_TRUE(untrusted.requests().empty());
  EXPECT_EQ(good.requests([](const ReceivedRequest& r) { return r.target == "/system-ca"; }).size(), 0u);
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// Noise control

TEST(Notifications, ASilenceSuppressesTheNotificationWhichIsLoggedAndVisible) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url()}}));
  daemon.start();

  const std::string silence =
      fmt::format(R"({{"matchers": {{"rule": "{}", "stage": "basic"}}, "ends_at": "2099-01-01T00:00:00Z",
                      "comment": "known: survey method changed 調査方法の変更"}})",
                  kRule);
  EXPECT_EQ(admin_request(daemon.port(), "POST", "/api/v1/silences", silence, kAmedToken).status, 403);
  EXPECT_EQ(HttpClient(daemon.port()).post("/api/v1/silences", silence).status, 401);
  auto created = admin_request(daemon.port(), "POST", "/api/v1/silences", silence);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = created.json().at("id").to_number<long long>();
  EXPECT_TRUE(daemon.wait_for_log(fmt::format("silence {} created by test-admin", id))) << daemon.log();

  auto listed = admin_request(daemon.port(), "GET", "/api/v1/silences");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const auto listed_json = listed.json();
  const auto& silences = listed_json.at("silences").as_array();
  ASSERT_EQ(silences.size(), 1u);
  EXPECT_EQ(silences[0].at("id"), id);
  EXPECT_EQ(silences[0].at("matchers"), (json::object{{"rule", kRule}, {"stage", "basic"}}));
  EXPECT_EQ(silences[0].at("comment"), "known: survey method changed 調査方法の変更");

  // Firing while silenced: recorded as suppressed, logged, never sent.
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  const auto fp = fingerprint_of(daemon.port(), "basic");
  std::vector<json::object> entries;
  ASSERT_TRUE(eventually([&] {
    entries = outbox_of(daemon.port(), fp);
    return !entries.empty();
  }));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("state"), "suppressed");
  EXPECT_EQ(entries[0].at("event"), "firing");
  EXPECT_EQ(outbox_of(daemon.port(), fp, "suppressed").size(), 1u);
  EXPECT_TRUE(daemon.wait_for_log("notification suppressed")) << daemon.log();
  auto alert = alert_detail(daemon.port(), fp);
  EXPECT_EQ(alert.at("state"), "firing");
  EXPECT_EQ(alert.at("silenced_by"), (json::array{id}));
  auto text = metrics_text(daemon.port());
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "hook"}, {"result", "suppressed"}}), 1.0)
      << text;
  EXPECT_TRUE(receiver.requests().empty()) << "a suppressed notification is never pending, so never sent";

  // Removed: no longer listed nor shown; the resolution is sent.
  EXPECT_EQ(admin_request(daemon.port(), "DELETE", fmt::format("/api/v1/silences/{}", id), "", kAmedToken).status, 403);
  auto removed = admin_request(daemon.port(), "DELETE", fmt::format("/api/v1/silences/{}", id));
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_TRUE(daemon.wait_for_log(fmt::format("silence {} removed", id))) << daemon.log();
  EXPECT_EQ(admin_request(daemon.port(), "DELETE", fmt::format("/api/v1/silences/{}", id)).status, 404);
  EXPECT_TRUE(admin_request(daemon.port(), "GET", "/api/v1/silences").json().at("silences").as_array().empty());
  EXPECT_TRUE(alert_detail(daemon.port(), fp).at("silenced_by").as_array().empty());
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  auto got = receiver.wait_for(1, delivered("basic", "resolved"));
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, ASilenceIsValidated) {
  Daemon daemon;
  daemon.start();
  for (const std::string body :
       {R"({"matchers": {}, "ends_at": "2099-01-01T00:00:00Z"})", R"({"matchers": {"rule": "x"}})",
        R"({"matchers": {"rule": "x"}, "ends_at": "tomorrow"})",
        R"({"matchers": {"rule": 6}, "ends_at": "2099-01-01T00:00:00Z"})",
        R"({"matchers": {"rule": "x"}, "starts_at": "2099-01-02T00:00:00Z",
                                     "ends_at": "2099-01-01T00:00:00Z"})",
        R"([1, 2])"}) {
    auto reply = admin_request(daemon.port(), "POST", "/api/v1/silences", body);
    EXPECT_GE(reply.status, 400) << body;
    EXPECT_LT(reply.status, 500) << body;
    EXPECT_FALSE(reply.error_code().empty()) << reply.body;
  }
  EXPECT_TRUE(admin_request(daemon.port(), "GET", "/api/v1/silences").json().at("silences").as_array().empty());
}

TEST(Notifications, AnAcknowledgementStopsRepeatsUntilTheResolutionClearsIt) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url(), .extra = "repeat_interval_ms = 300"}},
                             {.evaluation_interval_ms = 50, .stages = {"basic", "all"}}));
  daemon.start();

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_EQ(receiver.wait_for(1, delivered("basic", "firing")).size(), 1u) << daemon.log();
  const auto fp = fingerprint_of(daemon.port(), "basic");

  const std::string ack = R"({"comment": "調査中 looking into it"})";
  EXPECT_EQ(admin_request(daemon.port(), "POST", "/api/v1/alerts/" + fp + "/ack", ack, kAmedToken).status, 403);
  EXPECT_EQ(admin_request(daemon.port(), "POST", "/api/v1/alerts/0000000000000000/ack", ack).status, 404);
  auto acked = admin_request(daemon.port(), "POST", "/api/v1/alerts/" + fp + "/ack", ack);
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_TRUE(daemon.wait_for_log("alert acknowledged by test-admin")) << daemon.log();
  auto alert = alert_detail(daemon.port(), fp);
  ASSERT_TRUE(alert.contains("acknowledged")) << json::serialize(alert);
  EXPECT_EQ(alert.at("acknowledged").at("by"), "test-admin");
  EXPECT_EQ(alert.at("acknowledged").at("comment"), "調査中 looking into it");
  const auto acked_at = str(alert.at("acknowledged").at("at"));

  // The overall alert keeps repeating; the acknowledged one does not.
  const auto overall = fingerprint_of(daemon.port(), "all");
  ASSERT_FALSE(overall.empty());
  ASSERT_TRUE(eventually([&] {
    auto later = outbox_of(daemon.port(), overall);
    return std::count_if(later.begin(), later.end(), [&](const json::object& e) {
             return e.at("event") == "repeat" && str(e.at("created_at")) > acked_at;
           }) >= 2;
  })) << json::serialize(outbox(daemon.port()));
  for (const auto& e : outbox_of(daemon.port(), fp))
    EXPECT_FALSE(str(e.at("created_at")) > acked_at) << "queued after the acknowledgement: " << json::serialize(e);

  // The resolution is sent, and clears the acknowledgement.
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  ASSERT_EQ(receiver.wait_for(1, delivered("basic", "resolved")).size(), 1u) << daemon.log();
  alert = alert_detail(daemon.port(), fp);
  EXPECT_EQ(alert.at("state"), "resolved");
  EXPECT_FALSE(alert.contains("acknowledged")) << json::serialize(alert);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, RepeatIntervalResendsAnAlertThatStaysFiring) {
  TestReceiver receiver({.secret = kSecret});
  receiver.start();
  Daemon daemon("", alerting({{.url = receiver.url(), .extra = "repeat_interval_ms = 300"}},
                             {.evaluation_interval_ms = 50, .stages = {"basic", "all"}}));
  daemon.start();

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  auto firing = receiver.wait_for(3, delivered("basic", "firing"));
  ASSERT_GE(firing.size(), 3u) << daemon.log();
  EXPECT_EQ(keys_of(firing).size(), firing.size()) << "each repeat is a notification of its own";
  for (const auto& r : firing) {
    EXPECT_EQ(r.signature, "valid");
    EXPECT_EQ(r.json().at("alerts").at(0).at("startsAt"), firing[0].json().at("alerts").at(0).at("startsAt"));
  }
  const auto fp = fingerprint_of(daemon.port(), "basic");
  auto entries = outbox_of(daemon.port(), fp);
  std::vector<std::string> created;
  std::multiset<std::string> events;
  for (const auto& e : entries) {
    events.insert(str(e.at("event")));
    created.push_back(str(e.at("created_at")));
  }
  EXPECT_EQ(events.count("firing"), 1u);
  EXPECT_GE(events.count("repeat"), 2u);
  std::sort(created.begin(), created.end());
  // Not sooner than the interval (a lower bound only: the tick may be late).
  for (std::size_t i = 1; i < created.size(); ++i) {
    auto previous = parse_rfc3339(created[i - 1]);
    auto next = parse_rfc3339(created[i]);
    ASSERT_TRUE(previous && next) << created[i - 1] << " " << created[i];
    EXPECT_GE(*next - *previous, 300ms) << created[i - 1] << " → " << created[i];
  }

  // Resolved: the repeats stop (the overall alert, still firing, keeps repeating meanwhile).
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  ASSERT_EQ(receiver.wait_for(1, delivered("basic", "resolved")).size(), 1u) << daemon.log();
  std::string resolved_at;
  for (const auto& e : outbox_of(daemon.port(), fp))
    if (e.at("event") == "resolved") resolved_at = str(e.at("created_at"));
  ASSERT_FALSE(resolved_at.empty());
  const auto overall = fingerprint_of(daemon.port(), "all");
  ASSERT_TRUE(eventually([&] {
    auto later = outbox_of(daemon.port(), overall);
    return std::count_if(later.begin(), later.end(), [&](const json::object& e) {
             return e.at("event") == "repeat" && str(e.at("created_at")) > resolved_at;
           }) >= 2;
  })) << json::serialize(outbox(daemon.port()));
  for (const auto& e : outbox_of(daemon.port(), fp))
    EXPECT_FALSE(e.at("event") == "repeat" && str(e.at("created_at")) > resolved_at) << json::serialize(e);
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// Dead letters

TEST(Notifications, DeadLettersAreRequeuedThroughTheApiAndTheCommand) {
  TestReceiver receiver({.mode = "fail", .secret = kSecret});
  receiver.start();
  Daemon daemon("",
                alerting({{.url = receiver.url()}}, {.retry_initial_ms = 50, .retry_max_ms = 100, .max_age_ms = 400}));
  daemon.start();

  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 30).status, 201);
  const auto fp = fingerprint_of(daemon.port(), "basic");
  std::vector<json::object> dead;
  ASSERT_TRUE(eventually([&] {
    dead = outbox_of(daemon.port(), fp, "dead");
    return dead.size() == 2;
  })) << json::serialize(outbox(daemon.port()))
      << daemon.log();
  EXPECT_TRUE(daemon.wait_for_log("notification dead after")) << daemon.log();
  for (const auto& e : dead) {
    EXPECT_NE(str(e.at("last_error")).find("503"), std::string::npos) << json::serialize(e);
    EXPECT_GE(e.at("attempts").to_number<long long>(), 1);
  }
  auto text = metrics_text(daemon.port());
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "hook"}, {"result", "dead"}}), 2.0) << text;
  EXPECT_EQ(metric(text, "kpiwatch_outbox_depth"), 0.0) << text;
  const auto attempts_before = receiver.requests().size();

  // `kpiwatch outbox list --state dead` shows them.
  auto listed = run_kpiwatch({"outbox", "list", "--config", daemon.config_path(), "--state", "dead"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(count(listed.out, fp), 2u) << listed.out;
  EXPECT_EQ(count(listed.out, "dead"), 2u) << listed.out;

  receiver.set_mode("ok");
  const auto& firing = dead[0].at("event") == "firing" ? dead[0] : dead[1];
  const auto& resolution = dead[0].at("event") == "firing" ? dead[1] : dead[0];
  ASSERT_EQ(firing.at("event"), "firing");
  ASSERT_EQ(resolution.at("event"), "resolved");

  // Through the API: admin only, dead letters only.
  const auto requeue = fmt::format("/api/v1/outbox/{}/requeue", firing.at("id").to_number<long long>());
  EXPECT_EQ(admin_request(daemon.port(), "POST", requeue, "", kAmedToken).status, 403);
  auto reply = admin_request(daemon.port(), "POST", requeue);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto got = receiver.wait_for(1, delivered("basic", "firing"));
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(got[0].header("Idempotency-Key"), str(firing.at("idempotency_key")));
  EXPECT_EQ(got[0].signature, "valid");
  EXPECT_EQ(admin_request(daemon.port(), "POST", requeue).status, 404) << "no longer a dead letter";

  // Through the command, beside the running daemon.
  auto requeued = run_kpiwatch({"outbox", "requeue", "--config", daemon.config_path(), "--all-dead"});
  EXPECT_EQ(requeued.exit_code, 0) << requeued.out << requeued.err;
  EXPECT_NE(requeued.out.find("requeued 1"), std::string::npos) << requeued.out;
  got = receiver.wait_for(1, delivered("basic", "resolved"), 30s);
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  EXPECT_EQ(got[0].header("Idempotency-Key"), str(resolution.at("idempotency_key")));
  EXPECT_TRUE(eventually([&] { return outbox_of(daemon.port(), fp, "delivered").size() == 2; }));
  EXPECT_TRUE(outbox_of(daemon.port(), fp, "dead").empty());
  EXPECT_EQ(receiver.requests().size(), attempts_before + 2);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, TheOutboxNeedsAnAdminToken) {
  Daemon daemon;
  daemon.start();
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/outbox").status, 401);
  EXPECT_EQ(admin_request(daemon.port(), "GET", "/api/v1/outbox", "", kAmedToken).status, 403);
  EXPECT_EQ(admin_request(daemon.port(), "GET", "/api/v1/outbox").status, 200);
  EXPECT_EQ(admin_request(daemon.port(), "GET", "/api/v1/outbox?state=sideways").status, 400);
  EXPECT_EQ(HttpClient(daemon.port()).post("/api/v1/outbox/1/requeue", "").status, 401);
}

TEST(Notifications, ListingSilencesNeedsAnAdminToken) {
  // docs/NOTIFICATIONS.md: "`GET /api/v1/silences`, `DELETE /api/v1/silences/{id}` (admin)."
  Daemon daemon;
  daemon.start();
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/silences").status, 401);
  EXPECT_EQ(admin_request(daemon.port(), "GET", "/api/v1/silences", "", kAmedToken).status, 403);
  EXPECT_EQ(admin_request(daemon.port(), "GET", "/api/v1/silences").status, 200);
}

// ---------------------------------------------------------------------------
// Routing

TEST(Notifications, RoutesPickReceiversFirstMatchOrContinueElseTheDefault) {
  std::vector<std::unique_ptr<TestReceiver>> r;
  for (int i = 0; i < 4; ++i) {
    r.push_back(std::make_unique<TestReceiver>(ReceiverOptions{.secret = kSecret}));
    r.back()->start();
  }
  std::string extra = fmt::format(R"(
[alerting]
external_url = "{}"
default_receiver = "d"
retry_initial_ms = 50
)",
                                  kExternalUrl);
  const char* names[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; ++i)
    extra +=
        fmt::format("\n[[receivers]]\nname = \"{}\"\nurl = \"{}\"\nsecret = \"{}\"\n", names[i], r[i]->url(), kSecret);
  extra += R"(
[[routes]]
match = { stage = "basic" }
receivers = ["a"]
continue = true

[[routes]]
match = { goal = "6", severity = "warning" }
receivers = ["b"]

[[routes]]
match = { rule = "g06-stage-up-rate-falling" }
receivers = ["c"]
)";
  Daemon daemon("", extra);
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  const auto fp = fingerprint_of(daemon.port(), "basic");

  // basic: the first route, and as it continues, the second, which stops.
  ASSERT_EQ(r[0]->wait_for(1, delivered("basic", "firing")).size(), 1u) << daemon.log();
  ASSERT_EQ(r[1]->wait_for(1, delivered("basic", "firing")).size(), 1u) << daemon.log();
  std::set<std::string> receivers;
  for (const auto& e : outbox_of(daemon.port(), fp)) receivers.insert(str(e.at("receiver")));
  EXPECT_EQ(receivers, (std::set<std::string>{"a", "b"}));
  // Only basic went to "a"; only goal-6 warnings to "b"; nothing reaches "c"; the rest to the default.
  for (const auto& q : r[0]->requests()) EXPECT_EQ(stage_of(q), "basic") << q.body;
  for (const auto& q : r[1]->requests()) {
    const auto labels = webhook_body(q).at("commonLabels");
    EXPECT_EQ(labels.at("goal"), "6") << q.body;
    EXPECT_EQ(labels.at("severity"), "warning") << q.body;
  }
  EXPECT_TRUE(r[2]->requests().empty());
  for (const auto& e : outbox(daemon.port())) EXPECT_NE(e.at("receiver"), "c") << json::serialize(e);
  for (const auto& q : r[3]->requests()) {
    const auto labels = webhook_body(q).at("commonLabels");
    EXPECT_FALSE(labels.at("goal") == "6" && labels.at("severity") == "warning") << q.body;
    EXPECT_NE(stage_of(q), "basic");
  }
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Notifications, ARuleMayNameItsReceivers) {
  TestReceiver direct({.secret = kSecret});
  direct.start();
  Daemon daemon;
  write_file(daemon.dir() + "/rules.toml", R"(
[[rule]]
id = "g06-basic-falling"
title = "Stage-up rate (basic) falling"
kpi = "g06.stage_up_rate"
dims = { stage = "basic" }
severity = "critical"
receivers = ["direct"]
summary_ja = "{value}%に低下"
summary_en = "fell to {value}%"

[rule.change]
direction = "falling"
by = "points"
more_than = 5
)");
  daemon.write_config(test_config(daemon.state_dir(), "",
                                  fmt::format(R"(
[rules]
paths = ["{}"]

[alerting]
default_receiver = ""
retry_initial_ms = 50

[[receivers]]
name = "direct"
url = "{}"
format = "alertmanager"
secret = "{}"
)",
                                              daemon.dir() + "/rules.toml", direct.url(), kSecret)));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  auto got = direct.wait_for(1, delivered("basic", "firing", "g06-basic-falling"));
  ASSERT_EQ(got.size(), 1u) << daemon.log();
  auto body = got[0].json();
  EXPECT_EQ(body.at("commonLabels").at("rule"), "g06-basic-falling");
  EXPECT_EQ(body.at("commonLabels").at("severity"), "critical");
  EXPECT_EQ(body.at("commonAnnotations").at("summary_en"), "fell to 10.0%");
  // No external_url: links go to the address the daemon listens on.
  const auto fp = str(body.at("alerts").at(0).at("fingerprint"));
  EXPECT_EQ(body.at("alerts").at(0).at("generatorURL"),
            json::value(fmt::format("http://127.0.0.1:{}/api/v1/alerts/{}", daemon.port(), fp)));
  EXPECT_EQ(body.at("externalURL"), json::value(fmt::format("http://127.0.0.1:{}", daemon.port())));
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/alerts/" + fp).status, 200);
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// Metrics

TEST(Notifications, MetricsShowEveryDocumentedFamilyAndNotificationsByReceiver) {
  TestReceiver a({.secret = kSecret});
  TestReceiver b({.mode = "fail", .fail_count = 2, .secret = kSecret});
  a.start();
  b.start();
  Daemon daemon("", alerting({{.name = "receiver-a", .url = a.url()}, {.name = "receiver-b", .url = b.url()}}));
  daemon.start();
  ASSERT_EQ(submit_stage_up(daemon.port(), "basic", 10).status, 201);
  auto rejected =
      http_post(daemon.port(), "/api/v1/submissions", R"({"kpi": "g06.stage_up_rate", "period": "1800"})", kAdminToken);
  ASSERT_GE(rejected.status, 400) << rejected.body;
  ASSERT_LT(rejected.status, 500) << rejected.body;
  ASSERT_EQ(a.wait_for(1, delivered("basic")).size(), 1u);
  ASSERT_EQ(b.wait_for(1, delivered("basic")).size(), 1u);

  auto reply = http_get(daemon.port(), "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.headers["content-type"].starts_with("text/plain")) << reply.headers["content-type"];
  const auto& text = reply.body;
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "receiver-a"}, {"result", "sent"}}), 1.0)
      << text;
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "receiver-b"}, {"result", "sent"}}), 1.0)
      << text;
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "receiver-b"}, {"result", "failed"}}), 2.0)
      << text;
  EXPECT_EQ(metric(text, "kpiwatch_notifications_total", {{"receiver", "receiver-b"}, {"result", "retried"}}), 2.0)
      << text;
  EXPECT_FALSE(metric(text, "kpiwatch_notifications_total", {{"receiver", "receiver-a"}, {"result", "failed"}}))
      << text;
  EXPECT_GE(metric(text, "kpiwatch_submissions_total", {{"result", "accepted"}}).value_or(0), 1.0) << text;
  EXPECT_GE(metric(text, "kpiwatch_submissions_total", {{"result", "rejected"}}).value_or(0), 1.0) << text;
  EXPECT_GE(
      metric(text, "kpiwatch_http_requests_total", {{"route", "/api/v1/submissions"}, {"status", "201"}}).value_or(0),
      1.0)
      << text;
  EXPECT_GE(metric(text, "kpiwatch_rule_evaluations_total").value_or(0), 1.0) << text;
  EXPECT_TRUE(metric(text, "kpiwatch_rule_evaluation_seconds_sum")) << text;
  EXPECT_GE(metric(text, "kpiwatch_rule_evaluation_seconds_count").value_or(0), 1.0) << text;
  EXPECT_GE(metric(text, "kpiwatch_alerts", {{"state", "firing"}}).value_or(0), 1.0) << text;
  EXPECT_TRUE(metric(text, "kpiwatch_outbox_depth")) << text;
  EXPECT_TRUE(metric(text, "kpiwatch_outbox_oldest_age_seconds")) << text;
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
