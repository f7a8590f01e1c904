// The HTTP server against hostile and careless clients (issue 14): slow and
// silent connections, smuggled requests, Host, media types, and tokens in URLs.
// Raw sockets over 127.0.0.1, so that a request can be as malformed as an attacker makes it.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;

// A plain TCP connection: sends what it is given, reads whatever comes back.
class RawConnection {
 public:
  explicit RawConnection(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect to 127.0.0.1");
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False once the server has closed the connection.
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }

  // Reads until the server closes the connection; false if it is still open at the deadline.
  bool closed_within(std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return true;
      received_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // What arrived so far (after closed_within).
  const std::string& received() const { return received_; }

 private:
  int fd_;
  std::string received_;
};

int status_of(const std::string& reply) {
  if (!reply.starts_with("HTTP/1.")) return 0;
  return std::stoi(reply.substr(9, 3));
}

// One figure of g01.trainees; each value makes a new revision.
std::string figure(int value) { return fmt::format(R"({{"kpi":"g01.trainees","period":"2031","value":{}}})", value); }

std::string submission(int value, const std::string& framing) {
  auto body = figure(value);
  return fmt::format(
      "POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n"
      "Content-Type: application/json\r\n{}\r\n{}",
      kAdminToken, fmt::format(fmt::runtime(framing), body.size()), body);
}

TEST(HardeningHttp, AHeadSentALineAtATimeIsCutAtTheReadTimeout) {
  Daemon daemon("read_timeout_ms = 1000\nidle_timeout_ms = 60000");
  daemon.start();
  RawConnection slow(daemon.port());
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\n"));
  // Forty header lines over eight seconds: far past the read timeout, far short of the idle one.
  bool closed = false;
  for (int line = 0; line < 40 && !closed; ++line) {
    closed = !slow.send(fmt::format("X-Line-{}: slow\r\n", line)) || slow.closed_within(200ms);
  }
  EXPECT_TRUE(closed) << "a client sending its head slowly kept its connection";
  EXPECT_EQ(http_get(daemon.port(), "/healthz").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningHttp, AConnectionThatSendsNothingIsClosedAtItsTimeout) {
  {
    // A new connection has the read timeout to start its first request, whatever the idle timeout.
    Daemon daemon("read_timeout_ms = 1000\nidle_timeout_ms = 60000");
    daemon.start();
    RawConnection silent(daemon.port());
    EXPECT_TRUE(silent.closed_within(15s));
    EXPECT_EQ(silent.received(), "");
    EXPECT_EQ(daemon.stop(), 0);
  }
  {
    // And no longer than the idle timeout.
    Daemon daemon("read_timeout_ms = 60000\nidle_timeout_ms = 500");
    daemon.start();
    RawConnection silent(daemon.port());
    EXPECT_TRUE(silent.closed_within(15s));
    EXPECT_EQ(daemon.stop(), 0);
  }
}

TEST(HardeningHttp, ABodyThatDoesNotArriveInTimeGets408AndTheConnectionCloses) {
  Daemon daemon("read_timeout_ms = 1000\nidle_timeout_ms = 60000");
  daemon.start();
  auto before = count_revisions(daemon.database());
  RawConnection late(daemon.port());
  ASSERT_TRUE(
      late.send(fmt::format("POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n"
                            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"kpi\"",
                            kAdminToken)));
  ASSERT_TRUE(late.closed_within(15s));
  EXPECT_EQ(status_of(late.received()), 408) << late.received();
  EXPECT_NE(late.received().find("Connection: close"), std::string::npos) << late.received();
  EXPECT_NE(late.received().find("request_timeout"), std::string::npos) << late.received();
  EXPECT_EQ(count_revisions(daemon.database()), before);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningHttp, SilentConnectionsCannotHoldTheConnectionCap) {
  Daemon daemon("max_connections = 4\nread_timeout_ms = 60000\nidle_timeout_ms = 60000");
  daemon.start();
  std::vector<std::unique_ptr<RawConnection>> silent;
  for (int i = 0; i < 4; ++i) silent.push_back(std::make_unique<RawConnection>(daemon.port()));
  // Each real client is admitted: the longest silent connection makes room.
  for (int i = 0; i < 3; ++i) {
    auto reply = http_get(daemon.port(), "/healthz");
    EXPECT_EQ(reply.status, 200) << reply.body;
  }
  EXPECT_TRUE(silent[0]->closed_within(10s));
  EXPECT_EQ(silent[0]->received(), "");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningHttp, AmbiguousFramingGets400AndTheBytesAfterItNeverRun) {
  Daemon daemon;
  daemon.start();
  struct Case {
    std::string name, framing;
  };
  // {} is the body's length; the body is followed by a second, smuggled submission.
  const std::vector<Case> cases = {
      {"xchunked and Content-Length", "Transfer-Encoding: xchunked\r\nContent-Length: {}\r\n"},
      {"chunked, identity and Content-Length", "Transfer-Encoding: chunked, identity\r\nContent-Length: {}\r\n"},
      {"quoted chunked and Content-Length", "Transfer-Encoding: \"chunked\"\r\nContent-Length: {}\r\n"},
      {"identity and Content-Length", "Transfer-Encoding: identity\r\nContent-Length: {}\r\n"},
      {"gzip and Content-Length", "Transfer-Encoding: gzip\r\nContent-Length: {}\r\n"},
      {"Content-Length before chunked", "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n"},
      {"chunked before Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: {}\r\n"},
      {"xchunked alone", "Transfer-Encoding: xchunked\r\nX-Length: {}\r\n"},
      {"two Transfer-Encoding fields", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nX-Length: {}\r\n"},
      {"two different Content-Lengths", "Content-Length: {}\r\nContent-Length: 1\r\n"},
  };
  auto before = count_revisions(daemon.database());
  int value = 1000;
  for (const auto& c : cases) {
    RawConnection client(daemon.port());
    auto first = submission(++value, c.framing);
    auto smuggled = submission(++value, "Content-Length: {}\r\n");
    ASSERT_TRUE(client.send(first + smuggled));
    ASSERT_TRUE(client.closed_within(10s)) << c.name;
    EXPECT_EQ(status_of(client.received()), 400) << c.name << "\n" << client.received();
    // Closed after the one answer: the smuggled request got none.
    EXPECT_EQ(client.received().find("HTTP/1.1", 1), std::string::npos) << c.name << "\n" << client.received();
    EXPECT_NE(client.received().find("Connection: close"), std::string::npos) << c.name;
  }
  EXPECT_EQ(count_revisions(daemon.database()), before);
  auto series = http_get(daemon.port(), "/api/v1/kpis/g01.trainees/series").body;
  EXPECT_EQ(series.find("\"2031\""), std::string::npos) << series;

  // Exactly "chunked" (in any case) frames a body, and a later request on the connection runs.
  RawConnection chunked(daemon.port());
  auto body = figure(7);
  ASSERT_TRUE(chunked.send(
      fmt::format("POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n"
                  "Content-Type: application/json\r\nTransfer-Encoding: Chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n"
                  "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                  kAdminToken, body.size(), body)));
  ASSERT_TRUE(chunked.closed_within(10s));
  EXPECT_EQ(status_of(chunked.received()), 201) << chunked.received();
  EXPECT_NE(chunked.received().find("HTTP/1.1 200"), std::string::npos) << chunked.received();
  EXPECT_EQ(count_revisions(daemon.database()), before + 1);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningHttp, AnHttp11RequestNeedsExactlyOneHost) {
  Daemon daemon;
  daemon.start();
  struct Case {
    std::string name, request;
    int status;
  };
  const std::vector<Case> cases = {
      {"no Host", "GET /healthz HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"one Host", "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200},
      {"HTTP/1.0 without Host", "GET /healthz HTTP/1.0\r\n\r\n", 200},
      {"HTTP/1.0 with two Hosts", "GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    RawConnection client(daemon.port());
    ASSERT_TRUE(client.send(c.request));
    ASSERT_TRUE(client.closed_within(10s)) << c.name;
    EXPECT_EQ(status_of(client.received()), c.status) << c.name << "\n" << client.received();
    if (c.status == 400) {
      EXPECT_NE(client.received().find("Host"), std::string::npos) << client.received();
    }
  }
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningHttp, ABodyMustBeUncompressedJsonInUtf8) {
  Daemon daemon;
  daemon.start();
  struct Case {
    std::string name;
    std::map<std::string, std::string> headers;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"application/jsonx", {{"Content-Type", "application/jsonx"}}, 415, "Content-Type"},
      {"an empty Content-Type", {{"Content-Type", ""}}, 415, "Content-Type"},
      {"no Content-Type", {}, 415, "Content-Type"},
      {"text/plain", {{"Content-Type", "text/plain"}}, 415, "Content-Type"},
      {"text/json", {{"Content-Type", "text/json"}}, 415, "Content-Type"},
      {"a Latin-1 charset", {{"Content-Type", "application/json; charset=iso-8859-1"}}, 415, "Content-Type"},
      {"gzip", {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, 415, "Content-Encoding"},
      {"deflate", {{"Content-Type", "application/json"}, {"Content-Encoding", "deflate"}}, 415, "Content-Encoding"},
      {"upper case, charset UTF-8", {{"Content-Type", "APPLICATION/JSON; charset=UTF-8"}}, 201, ""},
      {"a quoted charset", {{"Content-Type", "application/json;charset=\"utf-8\""}}, 201, ""},
      {"identity coding", {{"Content-Type", "application/json"}, {"Content-Encoding", "identity"}}, 201, ""},
  };
  int value = 2000;
  for (const auto& c : cases) {
    auto headers = c.headers;
    headers["Authorization"] = std::string("Bearer ") + kAdminToken;
    auto before = count_revisions(daemon.database());
    auto reply = HttpClient(daemon.port()).request("POST", "/api/v1/submissions", figure(++value), headers);
    EXPECT_EQ(reply.status, c.status) << c.name << "\n" << reply.body;
    EXPECT_EQ(count_revisions(daemon.database()), before + (c.status == 201 ? 1 : 0)) << c.name;
    if (c.status != 415) continue;
    EXPECT_EQ(reply.error_code(), "unsupported_media_type") << c.name;
    EXPECT_EQ(reply.json().at("error").at("field"), c.field.c_str()) << c.name;
  }
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningHttp, ATokenInTheUrlIsRefusedAndNoTokenIsLogged) {
  Daemon daemon;  // the test config logs at debug level
  daemon.start();
  const std::string secret = "kpw_url_secret_4d1f";
  for (std::string key : {"access_token", "token", "api_key", "Access_Token"}) {
    auto reply = http_get(daemon.port(), fmt::format("/api/v1/kpis?{}={}", key, secret));
    EXPECT_EQ(reply.status, 400) << key << "\n" << reply.body;
    EXPECT_EQ(reply.error_code(), "invalid_parameter") << key;
    EXPECT_NE(reply.body.find("Authorization"), std::string::npos) << reply.body;
  }
  // A real token in the URL of a write does not write.
  auto before = count_revisions(daemon.database());
  auto write = HttpClient(daemon.port())
                   .request("POST", fmt::format("/api/v1/submissions?access_token={}", kAdminToken), figure(3000),
                            {{"Content-Type", "application/json"}});
  EXPECT_EQ(write.status, 400) << write.body;
  EXPECT_EQ(count_revisions(daemon.database()), before);
  // Tokens in the header work, and are not logged either.
  EXPECT_EQ(http_post(daemon.port(), "/api/v1/submissions", figure(3001), kAdminToken).status, 201);
  http_get(daemon.port(), "/api/v1/kpis?limit=1&lang=ja");
  ASSERT_TRUE(daemon.wait_for_log("lang=ja"));
  EXPECT_EQ(daemon.stop(), 0);
  auto log = daemon.log();
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
  EXPECT_EQ(log.find(kAdminToken), std::string::npos) << log;
}

}  // namespace
}  // namespace kpiwatch::test
