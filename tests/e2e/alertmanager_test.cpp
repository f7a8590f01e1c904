// A receiver of format "alertmanager_api" pushes alerts to a real Alertmanager
// (Debian's prometheus-alertmanager, started on 127.0.0.1): the alert arrives
// with its labels and annotations, and its resolution ends it. Skipped when
// /usr/bin/prometheus-alertmanager is not installed (scripts/install-deps.sh
// installs it).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <functional>
#include <thread>

#include "http_client.hpp"
#include "kpiwatch/clock.hpp"
#include "process.hpp"
#include "receiver.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
constexpr const char* kRule = "g06-stage-up-rate-falling";
constexpr const char* kExternalUrl = "http://kpiwatch.test:8080";

// A port that was free a moment ago (bound to port 0, then closed).
unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// Alertmanager on 127.0.0.1, clustering off, state in a temp dir; stopped by PID.
class Alertmanager {
 public:
  Alertmanager() {
    write_file(dir_.file("alertmanager.yml"), R"(
route:
  receiver: "null"
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
)");
    // Another process may take the port between free_port() and the bind: try a few.
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      pid_t pid = start_program(
          kAlertmanager,
          {"--config.file=" + dir_.file("alertmanager.yml"), "--storage.path=" + dir_.file("data"),
           fmt::format("--web.listen-address=127.0.0.1:{}", port_), "--cluster.listen-address=", "--log.level=debug"},
          dir_.file("out"), dir_.file("alertmanager.log"));
      bool ready = eventually(
          [&] {
            if (wait_program(pid, 0ms) != -1) return true;  // exited
            try {
              return http_get(port_, "/-/ready").status == 200;
            } catch (const std::exception&) {
              return false;
            }
          },
          30s);
      if (ready && wait_program(pid, 0ms) == -1)
        pid_ = pid;
      else
        stop_program(pid, 5s);
    }
    if (pid_ <= 0) throw std::runtime_error("Alertmanager did not start:\n" + log());
  }
  ~Alertmanager() { stop(); }

  int stop() {
    if (pid_ <= 0) return -1;
    int code = stop_program(pid_, 10s);
    pid_ = -1;
    return code;
  }
  unsigned short port() const { return port_; }
  std::string log() const { return read_file(dir_.file("alertmanager.log")); }

  // GET /api/v2/alerts: the alerts it holds as not yet ended.
  json::array alerts() const {
    auto reply = http_get(port_, "/api/v2/alerts");
    if (reply.status != 200) return {};
    return reply.json().as_array();
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

json::value find_alert(const json::array& alerts, const std::string& stage) {
  for (const auto& a : alerts) {
    const auto& labels = a.at("labels").as_object();
    if (labels.contains("alertname") && labels.at("alertname") == kRule && labels.contains("stage") &&
        labels.at("stage") == json::value(stage))
      return a;
  }
  return nullptr;
}

HttpReply submit_stage_up(unsigned short port, double value) {
  return http_post(port, "/api/v1/submissions",
                   fmt::format(R"({{"kpi": "g06.stage_up_rate", "period": "2025", "dims": {{"stage": "basic"}},
                                   "value": {}}})",
                               value),
                   kAdminToken);
}

TEST(Alertmanager, AnAlertArrivesInAlertmanagerAndItsResolutionEndsIt) {
  if (!std::filesystem::exists(kAlertmanager)) GTEST_SKIP() << kAlertmanager << " is not installed";
  Alertmanager am;
  Daemon daemon("", fmt::format(R"(
[alerting]
external_url = "{1}"
default_receiver = ""
retry_initial_ms = 50
retry_max_ms = 400

[[receivers]]
name = "alertmanager"
url = "http://127.0.0.1:{2}"
format = "alertmanager_api"
timeout_ms = 5000
resend_interval_ms = 1000

[[routes]]
match = {{ rule = "{0}", stage = "basic" }}
receivers = ["alertmanager"]

# Firing from the first start (33.1 → 26.8 in 2024): re-sent every second, a marker.
[[routes]]
match = {{ rule = "{0}", stage = "all" }}
receivers = ["alertmanager"]
)",
                                kRule, kExternalUrl, am.port()));
  daemon.start();

  // 24.1 (2024) → 10 (2025): firing.
  ASSERT_EQ(submit_stage_up(daemon.port(), 10).status, 201);
  json::value alert;
  ASSERT_TRUE(eventually([&] {
    alert = find_alert(am.alerts(), "basic");
    return !alert.is_null();
  })) << daemon.log()
      << am.log();
  std::string fp;
  const auto alerts = http_get(daemon.port(), std::string("/api/v1/alerts?rule=") + kRule).json();
  for (const auto& a : alerts.at("alerts").as_array())
    if (a.at("labels").at("stage") == "basic") fp = std::string(a.at("fingerprint").as_string());
  ASSERT_FALSE(fp.empty());

  const auto& labels = alert.at("labels").as_object();
  EXPECT_EQ(labels.at("rule"), kRule);
  EXPECT_EQ(labels.at("kpi"), "g06.stage_up_rate");
  EXPECT_EQ(labels.at("goal"), "6");
  EXPECT_EQ(labels.at("severity"), "warning");
  EXPECT_EQ(labels.at("stage"), "basic");
  const auto& annotations = alert.at("annotations").as_object();
  EXPECT_NE(std::string(annotations.at("summary_en").as_string()).find("from 24.1% to 10.0%"), std::string::npos)
      << annotations.at("summary_en");
  EXPECT_NE(std::string(annotations.at("summary_ja").as_string()).find("24.1%から10.0%"), std::string::npos)
      << annotations.at("summary_ja");
  EXPECT_EQ(alert.at("status").at("state"), "active");
  EXPECT_EQ(alert.at("generatorURL").as_string().subview().substr(0, std::string_view(kExternalUrl).size()),
            kExternalUrl);
  EXPECT_TRUE(alert.at("generatorURL").as_string().subview().ends_with(std::string_view(fp)))
      << alert.at("generatorURL");
  const auto ends_while_firing = parse_rfc3339(alert.at("endsAt").as_string());
  ASSERT_TRUE(ends_while_firing.has_value()) << alert.at("endsAt");

  // Back to 30: resolved; Alertmanager no longer holds it as active.
  ASSERT_EQ(submit_stage_up(daemon.port(), 30).status, 201);
  ASSERT_TRUE(eventually([&] {
    auto a = find_alert(am.alerts(), "basic");
    if (a.is_null()) return true;  // GET /api/v2/alerts leaves out ended alerts
    auto ends = parse_rfc3339(a.at("endsAt").as_string());
    return ends && *ends <= std::chrono::system_clock::now();
  })) << daemon.log()
      << am.log();

  // The outbox: both notifications delivered to Alertmanager (marked so just after the 2xx).
  std::set<std::string> events;
  EXPECT_TRUE(eventually([&] {
    auto reply = HttpClient(daemon.port())
                     .request("GET", "/api/v1/outbox?state=delivered", "",
                              {{"Authorization", std::string("Bearer ") + kAdminToken}});
    if (reply.status != 200) return false;
    const auto delivered = reply.json();
    events.clear();
    for (const auto& e : delivered.at("notifications").as_array())
      if (e.at("fingerprint") == json::value(fp) && e.at("receiver") == "alertmanager")
        events.insert(std::string(e.at("event").as_string()));
    return events.size() == 2;
  }));
  EXPECT_EQ(events, (std::set<std::string>{"firing", "resolved"}));

  // Firing alerts are re-sent (the overall one, twice more), the resolved one no longer: it stays ended.
  auto overall = find_alert(am.alerts(), "all");
  ASSERT_FALSE(overall.is_null()) << "routed too, firing since the start";
  const auto received = fmt::format("msg=\"Received alert\" alert={}[{}]", kRule,
                                    std::string(overall.at("fingerprint").as_string()).substr(0, 7));
  const auto before = count(am.log(), received);
  ASSERT_TRUE(eventually([&] { return count(am.log(), received) >= before + 2; })) << received << "\n" << am.log();
  auto again = find_alert(am.alerts(), "basic");
  if (!again.is_null()) {
    auto ends = parse_rfc3339(again.at("endsAt").as_string());
    EXPECT_TRUE(ends && *ends <= std::chrono::system_clock::now()) << again;
  }
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(am.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
