// The HTTP server's defences and its graceful stop, against the real binary.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"
#include "sse_client.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  Daemon daemon;
  daemon.start();
  HttpClient client(daemon.port());
  for (int i = 0; i < 3; ++i) {
    auto reply = client.get("/healthz");
    EXPECT_EQ(reply.status, 200);
    EXPECT_TRUE(reply.keep_alive);
  }
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Server, ASlowClientIsCutOffAfterTheReadTimeout) {
  Daemon daemon("read_timeout_ms = 300\nidle_timeout_ms = 300");
  daemon.start();
  HttpClient slow(daemon.port());
  slow.send_raw("POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"kpi\"");
  EXPECT_EQ(slow.read_reply().status, 408);
  EXPECT_TRUE(slow.closed_by_server(10s));

  HttpClient idle(daemon.port());
  EXPECT_TRUE(idle.closed_by_server(10s));
  // The server still answers others.
  EXPECT_EQ(http_get(daemon.port(), "/healthz").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Server, ConnectionsBeyondTheCapAreAnswered503) {
  Daemon daemon("max_connections = 2");
  daemon.start();
  // Two event streams: busy, so neither can be closed to make room (as an idle connection would).
  SseClient first(daemon.port());
  SseClient second(daemon.port());
  ASSERT_EQ(first.status(), 200);
  ASSERT_EQ(second.status(), 200);
  HttpClient third(daemon.port());
  third.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = third.read_reply();
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.error_code(), "too_many_connections");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Server, MalformedHttpGets400) {
  Daemon daemon;
  daemon.start();
  HttpClient client(daemon.port());
  client.send_raw("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(client.read_reply().status, 400);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Server, AWrongMethodGets405WithTheMethodsOfItsRoute) {
  Daemon daemon;
  daemon.start();
  HttpClient client(daemon.port());
  struct Case {
    std::string method, target, allow;
  };
  const std::vector<Case> cases = {
      {"POST", "/healthz", "GET, HEAD"},
      {"GET", "/api/v1/submissions", "POST"},
      {"DELETE", "/api/v1/alerts", "GET, HEAD"},
      {"GET", "/api/v1/alerts/XYZ/ack", "POST"},
      {"PUT", "/api/v1/silences", "GET, HEAD, POST"},
      {"GET", "/api/v1/silences/7", "DELETE"},
      {"GET", "/api/v1/outbox/7/requeue", "POST"},
      {"POST", "/api/v1/kpis/g06.stage_up_rate/series", "GET, HEAD"},
  };
  for (const auto& c : cases) {
    // Refused before the token is looked at: none is sent.
    auto reply = client.request(c.method, c.target, "", {});
    EXPECT_EQ(reply.status, 405) << c.method << " " << c.target;
    EXPECT_EQ(reply.error_code(), "method_not_allowed") << c.method << " " << c.target;
    EXPECT_EQ(reply.headers["allow"], c.allow) << c.method << " " << c.target;
  }
  EXPECT_EQ(client.request("DELETE", "/api/v1/silences/7", "", {}).status, 401);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Server, RequestsAreCountedUnderTheirRouteNotTheirPath) {
  Daemon daemon;
  daemon.start();
  HttpClient client(daemon.port());
  ASSERT_EQ(client.get("/api/v1/alerts/XYZ").status, 404);
  ASSERT_EQ(client.get("/api/v1/alerts/ABC").status, 404);
  ASSERT_EQ(client.get("/api/v1/alerts/XYZ/ack").status, 405);
  ASSERT_EQ(client.get("/api/v1/nothing/here").status, 404);
  auto text = client.get("/metrics").body;
  auto count = [&](const std::string& route, int status) {
    return fmt::format("kpiwatch_http_requests_total{{route=\"{}\",status=\"{}\"}} ", route, status);
  };
  EXPECT_NE(text.find(count("/api/v1/alerts/{fingerprint}", 404) + "2\n"), std::string::npos) << text;
  EXPECT_NE(text.find(count("/api/v1/alerts/{fingerprint}/ack", 405) + "1\n"), std::string::npos) << text;
  EXPECT_NE(text.find(count("other", 404) + "1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("XYZ"), std::string::npos) << text;
  EXPECT_EQ(text.find("/api/v1/nothing"), std::string::npos) << text;
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Server, SigtermClosesIdleConnectionsAndTheDatabaseCleanly) {
  Daemon daemon;
  daemon.start();
  HttpClient idle(daemon.port());
  ASSERT_EQ(idle.get("/healthz").status, 200);
  daemon.signal(SIGTERM);
  EXPECT_TRUE(idle.closed_by_server(10s));
  EXPECT_EQ(daemon.wait_exit(20s), 0);
  EXPECT_NE(daemon.log().find("database closed"), std::string::npos);
  // The last connection to close checkpoints and removes the WAL.
  EXPECT_FALSE(std::filesystem::exists(daemon.database() + "-wal"));
}

}  // namespace
}  // namespace kpiwatch::test
