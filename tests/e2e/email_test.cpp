// Email receivers end to end: the real daemon on the bundled figures sends the
// alerts it raises through a real SMTP server on 127.0.0.1 (python3-aiosmtpd),
// which parses each message with Python's email package. Headers and both parts
// are checked by value; TLS with a test CA, AUTH, a relay that is down and then
// up, grouped emails, and the digest's schedule.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"
#include "receiver.hpp"
#include "smtp_server.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* kRule = "g06-stage-up-rate-falling";
constexpr const char* kExternalUrl = "http://kpiwatch.test:8080";

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }

// The Message-ID of a notification's idempotency key.
std::string message_id(const json::value& entry) {
  return fmt::format("<{}@example.go.jp>", str(entry.at("idempotency_key")));
}

// An email receiver `mail` for `smtp_url`, and a route of the g06 stage-up rule's
// "all" series (33.1% → 26.8% in 2024, which fires at start) to it.
std::string mail_config(
    const std::string& smtp_url, const std::string& receiver_extra = "",
    const std::string& route = "match = { rule = \"g06-stage-up-rate-falling\", stage = \"all\" }") {
  return fmt::format(R"(
[alerting]
external_url = "{}"
default_receiver = ""
retry_initial_ms = 50
retry_max_ms = 300
max_age_ms = 600000

[[receivers]]
name = "mail"
type = "email"
smtp_url = "{}"
from = "フォローアップ通知 <kpiwatch@example.go.jp>"
to = ["policy-unit@example.go.jp", "director@example.go.jp"]
cc = ["archive@example.go.jp"]
timeout_ms = 5000
{}

[[routes]]
{}
receivers = ["mail"]
)",
                     kExternalUrl, smtp_url, receiver_extra, route);
}

HttpReply admin_get(unsigned short port, const std::string& target) {
  return HttpClient(port).request("GET", target, "", {{"Authorization", std::string("Bearer ") + kAdminToken}});
}

// The notifications to send: those held back (an inhibited alert's) are left out.
json::array outbox(unsigned short port) {
  auto reply = admin_get(port, "/api/v1/outbox");
  EXPECT_EQ(reply.status, 200) << reply.body;
  json::array out;
  if (reply.status != 200) return out;
  const auto body = reply.json();
  for (const auto& e : body.at("notifications").as_array())
    if (str(e.at("state")) != "suppressed") out.push_back(e);
  return out;
}

json::object alert_detail(unsigned short port, const std::string& fingerprint) {
  auto reply = http_get(port, "/api/v1/alerts/" + fingerprint);
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.json().as_object();
}

// The firing alert of the stage-up rule on the "all" series.
json::object stage_up_alert(unsigned short port) {
  auto reply = http_get(port, std::string("/api/v1/alerts?rule=") + kRule);
  EXPECT_EQ(reply.status, 200) << reply.body;
  const auto body = reply.json();
  for (const auto& a : body.at("alerts").as_array())
    if (str(a.at("labels").at("stage")) == "all") return alert_detail(port, str(a.at("fingerprint")));
  return {};
}

TEST(Email, TheStageUpAlertArrivesInJapaneseWithItsFiguresCriterionAndLink) {
  TestSmtpServer smtp;
  smtp.start();
  Daemon daemon("", mail_config(smtp.url(), "tls = \"none\""));
  daemon.start();
  auto mails = smtp.wait_for(1);
  ASSERT_EQ(mails.size(), 1u) << daemon.log() << smtp.log();
  const auto& m = mails.front();
  auto alert = stage_up_alert(daemon.port());
  ASSERT_FALSE(alert.empty());

  // The envelope: From, and every To and Cc address.
  EXPECT_EQ(str(m.at("mail_from")), "kpiwatch@example.go.jp");
  EXPECT_EQ(json::serialize(m.at("rcpt_tos")),
            R"(["policy-unit@example.go.jp","director@example.go.jp","archive@example.go.jp"])");
  EXPECT_EQ(str(m.at("to")), "policy-unit@example.go.jp, director@example.go.jp");
  EXPECT_EQ(str(m.at("cc")), "archive@example.go.jp");
  EXPECT_EQ(str(m.at("from")), "フォローアップ通知 <kpiwatch@example.go.jp>");

  // The subject as Python decodes it, sent as RFC 2047 words on lines of at most 78 characters.
  EXPECT_EQ(str(m.at("subject")), "【kpiwatch】ゴール6: " + str(alert.at("summary").at("ja")));
  EXPECT_EQ(str(m.at("subject")),
            "【kpiwatch】ゴール6: 2024年の採択1年後のステージアップの割合（全体）は33.1%から26.8%に低下しました");
  const auto& lines = m.at("subject_lines").as_array();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_TRUE(str(lines[0]).starts_with("Subject: =?UTF-8?B?")) << str(lines[0]);
  for (const auto& line : lines) EXPECT_LE(str(line).size(), 78u) << str(line);
  EXPECT_EQ(str(m.at("content_language")), "ja");

  // Both parts, UTF-8.
  EXPECT_EQ(json::serialize(m.at("content_types")),
            R"(["multipart/mixed","multipart/alternative","text/plain","text/html"])");
  EXPECT_EQ(str(m.at("text_charset")), "utf-8");
  EXPECT_EQ(str(m.at("text_encoding")), "base64");
  EXPECT_EQ(str(m.at("text_line_ends")), "crlf") << "MIME's canonical form";
  std::string text = str(m.at("text")), html = str(m.at("html"));
  std::string link = std::string(kExternalUrl) + "/alerts/" + str(alert.at("fingerprint"));
  for (const std::string& want :
       {str(alert.at("summary").at("ja")), str(alert.at("description").at("ja")),
        str(alert.at("rule").at("criterion").at("ja")), std::string("    2023年  33.1%\n    2024年  26.8%  ← 今回\n"),
        std::string("目標: ゴール6 "), std::string("報告主体: 日本医療研究開発機構"), std::string("重大度: 警告"),
        link})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n---\n" << text;
  EXPECT_NE(html.find("<a href=\"" + link + "\">"), std::string::npos) << html;
  EXPECT_NE(html.find("<b>26.8%</b>"), std::string::npos) << html;

  // The Message-ID is the notification's idempotency key; the outbox shows it delivered.
  auto entries = outbox(daemon.port());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(str(m.at("message_id")), message_id(entries[0]));
  EXPECT_TRUE(eventually([&] { return str(outbox(daemon.port())[0].at("state")) == "delivered"; }));
}

TEST(Email, ARouteInEnglishWritesTheSubjectAndTextInEnglish) {
  TestSmtpServer smtp;
  smtp.start();
  Daemon daemon("", mail_config(smtp.url(), "tls = \"none\"",
                                "match = { rule = \"g06-stage-up-rate-falling\", stage = \"all\" }\n"
                                "language = \"en\""));
  daemon.start();
  auto mails = smtp.wait_for(1);
  ASSERT_EQ(mails.size(), 1u) << daemon.log();
  auto alert = stage_up_alert(daemon.port());
  EXPECT_EQ(str(mails[0].at("subject")), "[kpiwatch] Goal 6: " + str(alert.at("summary").at("en")));
  EXPECT_EQ(str(mails[0].at("content_language")), "en");
  std::string text = str(mails[0].at("text"));
  EXPECT_NE(text.find(str(alert.at("rule").at("criterion").at("en"))), std::string::npos) << text;
  EXPECT_NE(text.find("    2024  26.8%  <- this figure"), std::string::npos) << text;
}

TEST(Email, StartTlsWithTheTestCaAndAPasswordFromAFile) {
  TestCertificates certs;
  TestSmtpServer smtp({"starttls", certs.server_cert, certs.server_key, "kpiwatch:秘密-pass", 0});
  smtp.start();
  Daemon daemon("", "");
  write_file(daemon.dir() + "/smtp-password", "秘密-pass\n");
  daemon.write_config(
      test_config(daemon.state_dir(), "",
                  mail_config(smtp.url("localhost"),
                              fmt::format("ca_file = \"{}\"\nusername = \"kpiwatch\"\npassword_file = \"{}\"",
                                          certs.ca_file, daemon.dir() + "/smtp-password"))));
  daemon.start();
  auto mails = smtp.wait_for(1);
  ASSERT_EQ(mails.size(), 1u) << daemon.log() << smtp.log();
  EXPECT_EQ(mails[0].at("tls"), json::value(true));
  EXPECT_EQ(str(mails[0].at("login")), "kpiwatch");
}

TEST(Email, ImplicitTlsWithAPasswordFromTheEnvironment) {
  TestCertificates certs;
  TestSmtpServer smtp({"implicit", certs.server_cert, certs.server_key, "kpiwatch:env-pass", 0});
  smtp.start();
  Daemon daemon("", "");
  daemon.write_config(test_config(
      daemon.state_dir(), "",
      mail_config(smtp.url(), fmt::format("ca_file = \"{}\"\nusername = \"kpiwatch\"\npassword_env = \"KPW_SMTP_PW\"",
                                          certs.ca_file))));
  daemon.start({{"KPW_SMTP_PW", "env-pass"}});
  auto mails = smtp.wait_for(1);
  ASSERT_EQ(mails.size(), 1u) << daemon.log() << smtp.log();
  EXPECT_TRUE(smtp.url().starts_with("smtps://"));
  EXPECT_EQ(mails[0].at("tls"), json::value(true));
  EXPECT_EQ(str(mails[0].at("login")), "kpiwatch");
}

// The last error of the one notification of a daemon whose relay refuses it, once it was tried twice;
// the relay received nothing, and the notification waits.
std::string refused_twice(const TestSmtpServer& smtp, const std::string& url, const std::string& receiver_extra) {
  Daemon daemon("", mail_config(url, receiver_extra));
  daemon.start();
  EXPECT_TRUE(eventually([&] {
    auto entries = outbox(daemon.port());
    return entries.size() == 1 && entries[0].at("attempts").to_number<int>() >= 2;
  })) << daemon.log();
  auto entries = outbox(daemon.port());
  if (entries.size() != 1) return "";
  EXPECT_EQ(str(entries[0].at("state")), "pending");
  EXPECT_TRUE(smtp.messages().empty());
  return str(entries[0].at("last_error"));
}

TEST(Email, ACertificateForAnotherHostIsRefused) {
  TestCertificates certs;
  TestSmtpServer smtp({"starttls", certs.wrong_host_cert, certs.wrong_host_key, "", 0});
  smtp.start();
  // Signed by the CA kpiwatch trusts, but for wrong.example: the host name check refuses it.
  auto error = refused_twice(smtp, smtp.url("localhost"), fmt::format("ca_file = \"{}\"", certs.ca_file));
  EXPECT_NE(error.find("no alternative certificate subject name matches target host name 'localhost'"),
            std::string::npos)
      << error;
}

TEST(Email, ACertificateOfAnUnknownIssuerIsRefused) {
  TestCertificates certs;
  TestSmtpServer smtp({"starttls", certs.self_signed_cert, certs.self_signed_key, "", 0});
  smtp.start();
  auto error = refused_twice(smtp, smtp.url("localhost"), fmt::format("ca_file = \"{}\"", certs.ca_file));
  EXPECT_NE(error.find("SSL certificate problem"), std::string::npos) << error;
}

TEST(Email, ARelayWithoutStartTlsGetsNothing) {
  TestSmtpServer smtp;  // offers no STARTTLS
  smtp.start();
  auto error = refused_twice(smtp, smtp.url(), "");  // smtp:// requires STARTTLS
  EXPECT_NE(error.find("STARTTLS"), std::string::npos) << error;
}

TEST(Email, ARelayThatIsDownAndThenUpGetsEveryEmailOnce) {
  TestSmtpServer smtp({"none", "", "", "", 2});  // once up, it also refuses the first two with 451
  smtp.start();
  std::string url = smtp.url();
  smtp.stop();
  // Every alert of goal 6: the stage-up figures and the overdue 2025 ones.
  Daemon daemon("", mail_config(url, "tls = \"none\"", "match = { goal = \"6\" }"));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("notification failed")) << daemon.log();
  auto queued = outbox(daemon.port());
  ASSERT_GE(queued.size(), 3u);
  smtp.start();
  auto mails = smtp.wait_for(queued.size());
  ASSERT_EQ(mails.size(), queued.size()) << daemon.log();
  ASSERT_TRUE(eventually([&] {
    for (const auto& e : outbox(daemon.port()))
      if (str(e.at("state")) != "delivered") return false;
    return true;
  })) << daemon.log();
  std::set<std::string> ids, keys;
  for (const auto& m : mails) ids.insert(str(m.at("message_id")));
  for (const auto& e : outbox(daemon.port())) keys.insert(message_id(e));
  EXPECT_EQ(ids, keys) << "one email per notification, each under its own key";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(smtp.messages().size(), queued.size()) << "nothing sent twice";
}

TEST(Email, AGroupedRouteSendsOneEmailListingItsAlerts) {
  TestSmtpServer smtp;
  smtp.start();
  Daemon daemon("", mail_config(smtp.url(), "tls = \"none\"",
                                "match = { goal = \"6\" }\ngroup_by = [\"goal\"]\ngroup_wait_ms = 300"));
  daemon.start();
  auto mails = smtp.wait_for(1);
  ASSERT_EQ(mails.size(), 1u) << daemon.log();
  std::this_thread::sleep_for(600ms);
  ASSERT_EQ(smtp.messages().size(), 1u);
  auto entries = outbox(daemon.port());
  ASSERT_GE(entries.size(), 3u);
  EXPECT_EQ(str(mails[0].at("subject")),
            fmt::format("【kpiwatch】ゴール6: アラート{}件（", entries.size()) +
                str(mails[0].at("subject")).substr(str(mails[0].at("subject")).find("（") + 3))
      << "one goal named in the subject";
  std::string text = str(mails[0].at("text"));
  std::size_t listed = 0;
  for (std::size_t at = text.find("■ "); at != std::string::npos; at = text.find("■ ", at + 1)) ++listed;
  EXPECT_EQ(listed, entries.size()) << text;
  auto alert = stage_up_alert(daemon.port());
  EXPECT_NE(text.find(str(alert.at("summary").at("ja"))), std::string::npos) << text;
}

// Monday 09:00 in Tokyo is Monday 00:00 UTC: the next one after now.
std::string next_monday_tokyo(std::chrono::system_clock::time_point now) {
  auto day = std::chrono::floor<std::chrono::days>(now);
  auto monday = day + std::chrono::days((8 - std::chrono::weekday(day).c_encoding()) % 7);
  if (monday <= now) monday += std::chrono::days(7);
  std::chrono::year_month_day ymd(monday);
  return fmt::format("{:04}-{:02}-{:02}T00:00:00.000Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

TEST(Email, ADigestRouteHoldsItsEmailsUntilMondayMorningInTokyo) {
  TestSmtpServer smtp;
  smtp.start();
  auto before = std::chrono::system_clock::now();
  Daemon daemon("", mail_config(smtp.url(), "tls = \"none\"",
                                "match = { goal = \"6\" }\n"
                                "digest = { every = \"weekly\", weekday = \"monday\", at = \"09:00\", "
                                "time_zone = \"Asia/Tokyo\" }"));
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  auto entries = outbox(daemon.port());
  ASSERT_GE(entries.size(), 3u);
  for (const auto& e : entries) {
    EXPECT_EQ(str(e.at("state")), "pending");
    EXPECT_EQ(str(e.at("next_attempt_at")), next_monday_tokyo(before)) << json::serialize(e);
    EXPECT_EQ(str(e.at("group_key")), "digest:weekly:monday:09:00:Asia/Tokyo") << json::serialize(e);
  }
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(smtp.messages().empty()) << "held for the digest";
}

}  // namespace
}  // namespace kpiwatch::test
