// The HTTP server's defences and its graceful stop, against the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "http_client.hpp"
#include "process.hpp"

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
  HttpClient first(daemon.port());
  HttpClient second(daemon.port());
  ASSERT_EQ(first.get("/healthz").status, 200);
  ASSERT_EQ(second.get("/healthz").status, 200);
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
