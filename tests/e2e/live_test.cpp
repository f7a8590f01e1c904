// The status page's server side, against the real binary: live events on
// GET /api/v1/events, the security headers on every response, and read tokens.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"
#include "sse_client.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kNoDataset = "[dataset]\nload_bundled = false\n";
constexpr auto kWait = 5s;  // bounded waits; an event normally arrives within milliseconds

std::string str(const json::value& v) { return std::string(v.as_string()); }

std::string submission(const std::string& period, double value) {
  return fmt::format(R"({{"kpi": "g06.stage_up_rate", "period": "{}", "dims": {{"stage": "basic"}}, "value": {}}})",
                     period, value);
}

HttpReply admin(unsigned short port, const std::string& method, const std::string& target,
                const std::string& body = "") {
  return HttpClient(port).request(
      method, target, body,
      {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}});
}

HttpReply get_with(unsigned short port, const std::string& target, const std::string& token) {
  std::map<std::string, std::string> headers;
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  return HttpClient(port).request("GET", target, "", headers);
}

// The next event `name` on `client`; fails the test if none comes in time.
json::object next_event(SseClient& client, const std::string& name, std::set<long long>& ids) {
  auto e = client.next(name, kWait);
  EXPECT_TRUE(e.has_value()) << "no \"" << name << "\" event within the wait";
  if (!e) return {};
  long long id = std::stoll(e->id);
  EXPECT_TRUE(ids.empty() || id > *ids.rbegin()) << "event ids must increase: " << id;
  ids.insert(id);
  return e->json().as_object();
}

TEST(LiveEvents, EachChangeArrivesAsAnEventWithAnIncreasingId) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  SseClient stream(daemon.port());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.headers().at("content-type"), "text/event-stream");
  EXPECT_EQ(stream.headers().at("cache-control"), "no-cache");
  std::set<long long> ids;

  ASSERT_EQ(http_post(daemon.port(), "/api/v1/submissions", submission("2023", 30), kAmedToken).status, 201);
  auto stored = next_event(stream, "submission", ids);
  EXPECT_EQ(stream.retry(), "2000");
  EXPECT_EQ(str(stored.at("kpi")), "g06.stage_up_rate");
  EXPECT_EQ(stored.at("goal").to_number<int>(), 6);
  EXPECT_EQ(str(stored.at("period")), "2023");
  EXPECT_EQ(stored.at("dims"), (json::object{{"stage", "basic"}}));
  EXPECT_EQ(stored.at("revision").to_number<int>(), 1);

  // 30 → 20: a fall of 10 points raises g06-stage-up-rate-falling.
  ASSERT_EQ(http_post(daemon.port(), "/api/v1/submissions", submission("2024", 20), kAmedToken).status, 201);
  EXPECT_EQ(str(next_event(stream, "submission", ids).at("period")), "2024");
  auto alert = next_event(stream, "alert", ids);
  EXPECT_EQ(str(alert.at("kpi")), "g06.stage_up_rate");
  EXPECT_EQ(alert.at("goal").to_number<int>(), 6);
  EXPECT_EQ(str(alert.at("from")), "inactive");
  EXPECT_EQ(str(alert.at("to")), "firing");
  const std::string fp = str(alert.at("fingerprint"));
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/alerts/" + fp).status, 200);

  ASSERT_EQ(admin(daemon.port(), "POST", "/api/v1/alerts/" + fp + "/ack", R"({"comment": "seen"})").status, 200);
  EXPECT_EQ(str(next_event(stream, "ack", ids).at("fingerprint")), fp);

  auto silence = admin(daemon.port(), "POST", "/api/v1/silences",
                       R"({"matchers": {"rule": "g06-stage-up-rate-falling"}, "ends_at": "2099-01-01T00:00:00Z"})");
  ASSERT_EQ(silence.status, 201) << silence.body;
  auto id = silence.json().at("id").to_number<int>();
  auto created = next_event(stream, "silence", ids);
  EXPECT_EQ(created.at("id").to_number<int>(), id);
  EXPECT_EQ(str(created.at("action")), "created");
  ASSERT_EQ(admin(daemon.port(), "DELETE", fmt::format("/api/v1/silences/{}", id)).status, 200);
  auto expired = next_event(stream, "silence", ids);
  EXPECT_EQ(expired.at("id").to_number<int>(), id);
  EXPECT_EQ(str(expired.at("action")), "expired");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(LiveEvents, FiguresImportedByAnotherProcessArriveToo) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  SseClient stream(daemon.port());
  ASSERT_EQ(stream.status(), 200);
  std::string csv = daemon.dir() + "/figures.csv";
  write_file(csv, "kpi,period,dims.stage,value\ng06.stage_up_rate,2023,basic,31\n");
  auto imported = run_kpiwatch({"import", "--config", daemon.config_path(), csv});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto e = stream.next("submission", kWait);
  ASSERT_TRUE(e.has_value()) << daemon.log();
  EXPECT_EQ(str(e->json().at("period")), "2023");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(LiveEvents, ALargeBatchArrivesAsOneEventPerKpiWithItsCount) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  SseClient stream(daemon.port());
  ASSERT_EQ(stream.status(), 200);
  std::string batch;
  for (const char* stage : {"basic", "applied", "nonclinical", "clinical", "all"})
    for (int year = 2020; year <= 2024; ++year)
      batch +=
          fmt::format(R"({}{{"kpi": "g06.stage_up_rate", "period": "{}", "dims": {{"stage": "{}"}}, "value": 30}})",
                      batch.empty() ? "" : ",", year, stage);
  auto posted = http_post(daemon.port(), "/api/v1/submissions", "{\"submissions\": [" + batch + "]}", kAmedToken);
  ASSERT_EQ(posted.status, 201) << posted.body;
  auto e = stream.next("submission", kWait);
  ASSERT_TRUE(e.has_value()) << daemon.log();
  auto counted = e->json().as_object();
  EXPECT_EQ(str(counted.at("kpi")), "g06.stage_up_rate");
  EXPECT_EQ(counted.at("goal").to_number<int>(), 6);
  EXPECT_EQ(counted.at("count").to_number<int>(), 25);
  EXPECT_FALSE(stream.next("submission", 500ms).has_value()) << "the 25 figures came as one event";
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(LiveEvents, StreamsBeyondSixtyFourAreAnswered503) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  std::vector<std::unique_ptr<SseClient>> open;
  for (int i = 0; i < 64; ++i) {
    open.push_back(std::make_unique<SseClient>(daemon.port()));
    ASSERT_EQ(open.back()->status(), 200) << i;
  }
  SseClient refused(daemon.port());
  EXPECT_EQ(refused.status(), 503);
  EXPECT_NE(refused.body().find("too_many_connections"), std::string::npos) << refused.body();
  EXPECT_EQ(refused.headers().count("retry-after"), 1u);
  // The other routes still answer, and a stream that goes frees its place.
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/goals").status, 200);
  open.pop_back();
  bool admitted = false;
  for (auto until = std::chrono::steady_clock::now() + kWait; !admitted && std::chrono::steady_clock::now() < until;) {
    admitted = SseClient(daemon.port()).status() == 200;
    if (!admitted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(admitted);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(LiveEvents, SigtermEndsOpenStreamsAndDoesNotWaitForThem) {
  // A drain that waited for the stream would take the whole 60 s shutdown timeout.
  Daemon daemon("shutdown_timeout_ms = 60000", kNoDataset);
  daemon.start();
  SseClient stream(daemon.port());
  ASSERT_EQ(stream.status(), 200);
  ASSERT_FALSE(stream.ended_by_server(100ms));
  EXPECT_EQ(daemon.stop(10s), 0) << daemon.log();
  EXPECT_TRUE(stream.ended_by_server(kWait));
  EXPECT_TRUE(stream.ended_cleanly()) << "a stream ends with its last chunk on shutdown";
}

void expect_security_headers(const std::map<std::string, std::string>& headers, const std::string& what) {
  ASSERT_TRUE(headers.contains("content-security-policy")) << what;
  EXPECT_EQ(headers.at("content-security-policy"),
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
      << what;
  EXPECT_EQ(headers.count("x-content-type-options") ? headers.at("x-content-type-options") : "", "nosniff") << what;
  EXPECT_EQ(headers.count("referrer-policy") ? headers.at("referrer-policy") : "", "no-referrer") << what;
  EXPECT_EQ(headers.count("x-frame-options") ? headers.at("x-frame-options") : "", "DENY") << what;
}

TEST(SecurityHeaders, AreOnEveryResponse) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  auto port = daemon.port();
  expect_security_headers(http_get(port, "/api/v1/goals").headers, "an API read");
  expect_security_headers(http_get(port, "/healthz").headers, "/healthz");
  expect_security_headers(http_get(port, "/no/such/page").headers, "a 404");
  expect_security_headers(HttpClient(port).request("DELETE", "/api/v1/goals", "", {}).headers, "a 405");
  expect_security_headers(http_post(port, "/api/v1/submissions", "{}").headers, "a 401");
  expect_security_headers(http_post(port, "/api/v1/submissions", "{", kAmedToken).headers, "a 400");
  HttpClient malformed(port);
  malformed.send_raw("THIS IS NOT HTTP\r\n\r\n");
  expect_security_headers(malformed.read_reply().headers, "a malformed request");
  expect_security_headers(SseClient(port).headers(), "the event stream");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(SecurityHeaders, AreOnTheAnswerOverTheConnectionCap) {
  Daemon daemon("max_connections = 2", kNoDataset);
  daemon.start();
  // Two streams: an idle connection would be closed to make room.
  SseClient stream(daemon.port());
  ASSERT_EQ(stream.status(), 200);
  SseClient second(daemon.port());
  ASSERT_EQ(second.status(), 200);
  HttpClient over(daemon.port());
  over.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto refused = over.read_reply();
  EXPECT_EQ(refused.status, 503);
  expect_security_headers(refused.headers, "a 503 over the connection cap");
  EXPECT_EQ(daemon.stop(), 0);
}

// A daemon whose reads need a token, with a read token that `kpiwatch token create --read` made.
struct ReadTokenDaemon {
  std::string reader;
  std::unique_ptr<Daemon> daemon;

  ReadTokenDaemon() {
    auto created = run_kpiwatch({"token", "create", "--name", "page-reader", "--read"});
    EXPECT_EQ(created.exit_code, 0) << created.err;
    auto newline = created.out.find('\n');
    reader = created.out.substr(0, newline);
    std::string block = created.out.substr(newline + 1);
    EXPECT_NE(block.find("scopes = [\"read\"]"), std::string::npos) << block;
    daemon = std::make_unique<Daemon>("", std::string(kNoDataset) + "[api]\nread_token = true\n" + block);
    daemon->start();
  }
};

TEST(ReadTokens, EveryApiReadNeedsAToken) {
  ReadTokenDaemon d;
  auto port = d.daemon->port();
  for (const std::string target :
       {"/api/v1/goals", "/api/v1/kpis", "/api/v1/alerts", "/api/v1/overdue", "/api/v1/goals/6",
        "/api/v1/kpis/g06.stage_up_rate", "/api/v1/kpis/g06.stage_up_rate/series",
        "/api/v1/kpis/g06.stage_up_rate/series?format=csv", "/api/v1/export.csv", "/api/v1/alerts/groups"}) {
    auto anonymous = http_get(port, target);
    EXPECT_EQ(anonymous.status, 401) << target;
    EXPECT_EQ(anonymous.error_code(), "unauthorized") << target;
    EXPECT_EQ(anonymous.headers["www-authenticate"], R"(Bearer realm="kpiwatch")") << target;
    EXPECT_EQ(get_with(port, target, "kpw_not_a_token").status, 401) << target;
    EXPECT_EQ(get_with(port, target, d.reader).status, 200) << target;
    EXPECT_EQ(get_with(port, target, kAmedToken).status, 200) << target << ": a submit token may read";
    EXPECT_EQ(get_with(port, target, kAdminToken).status, 200) << target;
  }
  // The report too; this daemon holds no figures, so a reader is told there is no report yet.
  for (const std::string target : {"/report", "/report?year=2024&lang=en"}) {
    EXPECT_EQ(http_get(port, target).status, 401) << target;
    auto read = get_with(port, target, d.reader);
    EXPECT_EQ(read.status, 404) << target;
    EXPECT_NE(read.body.find("no figures"), std::string::npos) << read.body;
  }
  // Health, readiness and metrics stay open.
  EXPECT_EQ(http_get(port, "/healthz").status, 200);
  EXPECT_EQ(http_get(port, "/readyz").status, 200);
  EXPECT_EQ(http_get(port, "/metrics").status, 200);

  SseClient anonymous(port);
  EXPECT_EQ(anonymous.status(), 401);
  EXPECT_NE(anonymous.body().find("unauthorized"), std::string::npos) << anonymous.body();
  SseClient stream(port, d.reader);
  ASSERT_EQ(stream.status(), 200);
  ASSERT_EQ(http_post(port, "/api/v1/submissions", submission("2023", 30), kAmedToken).status, 201);
  EXPECT_TRUE(stream.next("submission", kWait).has_value());
  EXPECT_EQ(d.daemon->stop(), 0);
}

TEST(ReadTokens, AReadTokenCannotWriteAndWritesStillNeedTheirScope) {
  ReadTokenDaemon d;
  auto port = d.daemon->port();
  auto by_reader = http_post(port, "/api/v1/submissions", submission("2023", 30), d.reader);
  EXPECT_EQ(by_reader.status, 403);
  EXPECT_EQ(by_reader.error_code(), "forbidden");
  EXPECT_NE(by_reader.body.find("may only read"), std::string::npos) << by_reader.body;
  EXPECT_EQ(http_post(port, "/api/v1/submissions", submission("2023", 30)).status, 401);
  // A submit token's scope is as before: amed may not submit jfmda's KPIs.
  EXPECT_EQ(http_post(port, "/api/v1/submissions", submission("2023", 30), kJfmdaToken).status, 403);
  EXPECT_EQ(http_post(port, "/api/v1/submissions", submission("2023", 30), kAmedToken).status, 201);
  auto ack = HttpClient(port).request("POST", "/api/v1/alerts/x/ack", "", {{"Authorization", "Bearer " + d.reader}});
  EXPECT_EQ(ack.status, 403);
  auto silences = get_with(port, "/api/v1/silences", d.reader);
  EXPECT_EQ(silences.status, 403) << "administration needs an admin token";
  EXPECT_EQ(count_revisions(d.daemon->database()), 1);
  EXPECT_EQ(d.daemon->stop(), 0);
}

TEST(ReadTokens, ReadsStayAnonymousByDefault) {
  Daemon daemon("", kNoDataset);
  daemon.start();
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/goals").status, 200);
  EXPECT_EQ(SseClient(daemon.port()).status(), 200);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(ReadTokens, ABadSettingIsRefusedNamingItsKey) {
  Daemon daemon("", "[api]\nread_token = \"yes\"\n");
  auto check = run_kpiwatch({"serve", "--config", daemon.config_path()}, 30s);
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find("\"read_token\" must be true or false"), std::string::npos) << check.err;
}

}  // namespace
}  // namespace kpiwatch::test
