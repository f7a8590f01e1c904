// The test receiver itself (support/receiver_main.cpp): the delivery tests
// rely on it recording, failing, hanging, checking signatures and serving
// HTTPS exactly as told.
#include "receiver.hpp"

#include <gtest/gtest.h>

#include <future>

#include "http_client.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;

// The signature docs/NOTIFICATIONS.md specifies, computed with the openssl command.
std::string openssl_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  TempDir dir;
  write_file(dir.file("message"), timestamp + "." + body);
  auto r = run_program("openssl", {"dgst", "-sha256", "-hmac", secret, dir.file("message")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto hex = r.out.substr(r.out.rfind(' ') + 1);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  return "sha256=" + hex;
}

HttpReply post_hook(unsigned short port, const std::string& body,
                    const std::map<std::string, std::string>& headers = {}) {
  auto all = headers;
  all["Content-Type"] = "application/json";
  return HttpClient(port, 10s).request("POST", "/hook", body, all);
}

TEST(TestReceiver, RecordsEveryRequestWithItsHeadersAndBody) {
  TestReceiver receiver;
  receiver.start();
  ASSERT_NE(receiver.port(), 0);
  auto reply = post_hook(receiver.port(), R"({"text": "停滞 stagnating"})", {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(reply.status, 200);
  auto got = receiver.wait_for(1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/hook");
  EXPECT_EQ(got[0].header("idempotency-key"), "k-1");
  EXPECT_EQ(got[0].header("Content-Type"), "application/json");
  EXPECT_EQ(got[0].json().at("text").as_string(), "停滞 stagnating");
  EXPECT_EQ(got[0].signature, "unchecked");
  EXPECT_EQ(got[0].status, 200);
  EXPECT_FALSE(got[0].tls);
  EXPECT_EQ(receiver.stop(), 0);
}

TEST(TestReceiver, FailsTheFirstRequestsThenAnswersOk) {
  TestReceiver receiver({.mode = "fail", .fail_status = 500, .fail_count = 2});
  receiver.start();
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 500);
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 500);
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 200);
  auto got = receiver.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].mode, "fail");
  EXPECT_EQ(got[2].mode, "ok");
}

TEST(TestReceiver, SwitchesModeThroughTheControlEndpointWithoutRestarting) {
  TestReceiver receiver({.mode = "fail"});
  receiver.start();
  const auto pid = receiver.pid();
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 503);
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 503);
  receiver.set_mode("ok");
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 200);
  receiver.set_fail_status(500);
  receiver.set_mode("fail", 1);
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 500);
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 200);
  EXPECT_EQ(receiver.pid(), pid);
  EXPECT_EQ(receiver.requests().size(), 5u);  // control requests are not recorded
}

TEST(TestReceiver, HangsWithoutAnsweringButRecordsTheRequest) {
  TestReceiver receiver({.mode = "hang"});
  receiver.start();
  HttpClient client(receiver.port(), 300ms);
  EXPECT_THROW(client.post("/hook", "{}"), std::exception);
  auto got = receiver.wait_for(1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mode, "hang");
  EXPECT_EQ(got[0].status, 0);
  // Still serving: switched back, it answers.
  receiver.set_mode("ok");
  EXPECT_EQ(post_hook(receiver.port(), "{}").status, 200);
  EXPECT_EQ(receiver.stop(), 0);
}

TEST(TestReceiver, ComesBackOnTheSamePortAfterAStop) {
  TestReceiver receiver;
  receiver.start();
  const auto port = receiver.port();
  EXPECT_EQ(post_hook(port, "{}").status, 200);
  EXPECT_EQ(receiver.stop(), 0);
  EXPECT_THROW(post_hook(port, "{}"), std::exception);  // absent: connection refused
  receiver.start();
  EXPECT_EQ(receiver.port(), port);
  EXPECT_EQ(post_hook(port, "{}").status, 200);
  EXPECT_EQ(receiver.requests().size(), 2u);
}

TEST(TestReceiver, VerifiesSignaturesAsTheDocsSpecify) {
  TestReceiver receiver({.secret = "s3cr3t-鍵"});
  receiver.start();
  const std::string body = R"({"status": "firing", "summary_ja": "低下しました"})";
  const std::string ts = "1795475445";
  const auto signature = openssl_signature("s3cr3t-鍵", ts, body);
  ASSERT_EQ(signature.size(), 7u + 64u) << signature;

  post_hook(receiver.port(), body, {{"X-Kpiwatch-Timestamp", ts}, {"X-Kpiwatch-Signature", signature}});
  post_hook(receiver.port(), body + " ", {{"X-Kpiwatch-Timestamp", ts}, {"X-Kpiwatch-Signature", signature}});
  post_hook(receiver.port(), body, {{"X-Kpiwatch-Timestamp", "1795475446"}, {"X-Kpiwatch-Signature", signature}});
  post_hook(receiver.port(), body, {{"X-Kpiwatch-Timestamp", ts}});
  auto got = receiver.requests();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].signature, "valid");
  EXPECT_EQ(got[1].signature, "invalid");  // body changed
  EXPECT_EQ(got[2].signature, "invalid");  // timestamp changed
  EXPECT_EQ(got[3].signature, "missing");
}

TEST(TestReceiver, ServesHttpsWithACertificateOfTheTestCa) {
  TestCertificates certs;
  TestReceiver good({.cert_file = certs.server_cert, .key_file = certs.server_key});
  good.start();
  EXPECT_NE(good.control_port(), good.port());
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto r = run_program("curl", {"-sS", "--max-time", "10", "--cacert", certs.ca_file, "-H",
                                  "Content-Type: application/json", "-d", "{}", good.url("/hook", host)});
    EXPECT_EQ(r.exit_code, 0) << host << ": " << r.err;
  }
  auto r = run_program("curl", {"-sS", "--max-time", "10", "-d", "{}", good.url("/hook")});
  EXPECT_NE(r.exit_code, 0) << "the system CA bundle must not trust the test CA";
  auto got = good.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].tls);
  good.set_mode("fail");  // the control port speaks plain HTTP
  r = run_program("curl", {"-sS", "--max-time", "10", "--cacert", certs.ca_file, "-o", "/dev/null", "-w",
                           "%{http_code}", "-d", "{}", good.url("/hook")});
  EXPECT_EQ(r.out, "503");

  TestReceiver wrong({.cert_file = certs.wrong_host_cert, .key_file = certs.wrong_host_key});
  wrong.start();
  r = run_program("curl", {"-sS", "--max-time", "10", "--cacert", certs.ca_file, "-d", "{}", wrong.url("/hook")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(wrong.requests().empty());

  TestReceiver self_signed({.cert_file = certs.self_signed_cert, .key_file = certs.self_signed_key});
  self_signed.start();
  r = run_program("curl", {"-sS", "--max-time", "10", "--cacert", certs.ca_file, "-d", "{}", self_signed.url("/hook")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(self_signed.requests().empty());
}

}  // namespace
}  // namespace kpiwatch::test
