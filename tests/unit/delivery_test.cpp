// Delivery against a fake clock and a fake transport: the backoff schedule, the
// dead-letter boundary, the order per alert and receiver, Alertmanager re-sends.
// The outbox is a real SQLite file, written through the real writer thread.

#include "kpiwatch/delivery.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "smtp_server.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(RetryDelay, DoublesFromTheInitialDelayUpToTheCap) {
  const milliseconds initial = 1000ms, max = 300000ms;
  std::vector<long long> longest, shortest;
  for (int attempts = 1; attempts <= 11; ++attempts) {
    longest.push_back(retry_delay(attempts, initial, max, 1.0).count());
    shortest.push_back(retry_delay(attempts, initial, max, 0.0).count());
  }
  EXPECT_EQ(longest,
            (std::vector<long long>{1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000}));
  EXPECT_EQ(shortest,
            (std::vector<long long>{500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 150000, 150000}));
}

TEST(RetryDelay, JitterPicksAPointBetweenHalfAndTheWholeDelay) {
  EXPECT_EQ(retry_delay(3, 1000ms, 300000ms, 0.5), 3000ms);
  EXPECT_EQ(retry_delay(3, 1000ms, 300000ms, 0.25), 2500ms);
  // Draws outside [0, 1] are clamped: never shorter than half, never longer than the delay.
  EXPECT_EQ(retry_delay(3, 1000ms, 300000ms, -7), 2000ms);
  EXPECT_EQ(retry_delay(3, 1000ms, 300000ms, 9), 4000ms);
}

TEST(RetryDelay, ManyAttemptsStayAtTheCapWithoutOverflow) {
  EXPECT_EQ(retry_delay(1000000, 1000ms, 300000ms, 1.0), 300000ms);
  EXPECT_EQ(retry_delay(0, 1000ms, 300000ms, 1.0), 1000ms) << "no failure yet counts as the first";
}

class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(milliseconds by) { now_ += by; }
  TimePoint now_ = std::chrono::sys_days(
      std::chrono::year_month_day(std::chrono::year(2026), std::chrono::month(7), std::chrono::day(1)));
};

// Answers every request on the io_context, as a real transport does, with the
// next scripted result (200 once the script runs out).
class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(boost::asio::io_context& io) : io_(io) {}
  struct Request {
    std::string url;
    Headers headers;
    std::string body;
    std::string header(const std::string& name) const {
      for (const auto& [k, v] : headers)
        if (k == name) return v;
      return "";
    }
  };
  void post(const std::string& url, const Headers& headers, std::string body, milliseconds, const std::string&,
            std::function<void(PostResult)> done) override {
    requests.push_back({url, headers, body});
    PostResult result{200, ""};
    if (!script.empty()) {
      result = script.front();
      script.erase(script.begin());
    }
    boost::asio::post(io_, [done = std::move(done), result] { done(result); });
  }
  std::vector<PostResult> script;
  std::vector<Request> requests;

 private:
  boost::asio::io_context& io_;
};

// Accepts every email on the io_context, as a real mailer answers, and keeps it.
class FakeMailer final : public Mailer {
 public:
  explicit FakeMailer(boost::asio::io_context& io) : io_(io) {}
  void send(const ReceiverConfig&, MailMessage message, std::function<void(PostResult)> done) override {
    sent.push_back(std::move(message));
    boost::asio::post(io_, [done = std::move(done)] { done(PostResult{250, ""}); });
  }
  std::vector<MailMessage> sent;

 private:
  boost::asio::io_context& io_;
};

const PostResult kRefused{0, "connection refused"};

class DeliveryTest : public ::testing::Test {
 protected:
  DeliveryTest() {
    auto writer = Store::open({dir_.file("k.db"), "normal", 5000});
    auto reader = Store::open({dir_.file("k.db"), "normal", 5000});
    if (!writer || !reader) throw std::runtime_error("cannot open the store");
    reader_ = std::move(reader.value());
    ingest_ = std::make_unique<Ingest>(std::move(writer.value()), clock_);
    ingest_->start();

    auto config = std::make_shared<NotifyConfig>();
    config->alerting.retry_initial = 1000ms;
    config->alerting.retry_max = 8000ms;
    config->alerting.max_age = 60000ms;
    config->external_url = "http://kpiwatch.test";
    ReceiverConfig hook;
    hook.name = "hook";
    hook.url = "http://127.0.0.1:9/hook";
    config->receivers.push_back(hook);
    ReceiverConfig am;
    am.name = "am";
    am.url = "http://127.0.0.1:9";
    am.format = ReceiverFormat::alertmanager_api;
    config->receivers.push_back(am);
    config_ = config;
    // The longest wait: with a draw of 1, retry_delay gives exactly the doubled delay.
    delivery_ =
        std::make_unique<Delivery>(io_, *ingest_, clock_, metrics_, config_, transport_, mailer_, [] { return 1.0; });
  }
  ~DeliveryTest() override {
    delivery_->stop();
    ingest_->stop();
  }

  // Runs `job` on the writer thread and waits for it.
  void on_writer(const std::function<void(Store&)>& job) {
    std::promise<void> done;
    ingest_->post([&](Store& store) {
      job(store);
      done.set_value();
    });
    done.get_future().wait();
  }

  void enqueue(const std::string& fingerprint, const std::string& event, const std::string& receiver = "hook") {
    OutboxEntry e;
    e.fingerprint = fingerprint;
    e.receiver = receiver;
    EXPECT_TRUE(parse_outbox_event(event, e.event)) << event;
    e.body = fingerprint + " " + event;
    e.idempotency_key = fingerprint + "-" + event + "-" + std::to_string(++queued_);
    e.created_at = e.next_attempt_at = format_rfc3339(clock_.now());
    committed([&](Store& store) { return store.outbox().enqueue({e}); });
  }

  // Runs `write` in its own transaction on the writer thread.
  void committed(const std::function<Status(Store&)>& write) {
    on_writer([&](Store& store) {
      Transaction tx(store.connection());
      ASSERT_TRUE(tx.began().ok());
      ASSERT_TRUE(write(store).ok());
      ASSERT_TRUE(tx.commit().ok());
    });
  }

  // Stores `alert` as having just moved from `from` to its state, at `at`.
  void save_transition(const AlertRecord& alert, AlertState from, TimePoint at) {
    committed([&](Store& store) { return store.alerts().save({{{alert, from, alert.state, at}}, {alert}}); });
  }

  // Wakes delivery and runs the loop until `done` holds or every answer and outbox update is in (bounded).
  void deliver_until(const std::function<bool()>& done) {
    delivery_->wake();
    auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until) {
      io_.restart();
      io_.run_for(5ms);
      if (done()) return;
    }
  }
  // Runs the loop long enough for the writer's updates to come back, when nothing is expected to change.
  void settle() {
    delivery_->wake();
    for (int i = 0; i < 20; ++i) {
      io_.restart();
      io_.run_for(5ms);
    }
  }

  std::vector<OutboxEntry> outbox(const std::string& status = "") {
    std::optional<OutboxStatus> wanted;
    if (OutboxStatus parsed{}; parse_outbox_status(status, parsed)) wanted = parsed;
    auto rows = reader_->outbox().list(wanted, 100);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows.value() : std::vector<OutboxEntry>{};
  }

  test::TempDir dir_;  // first: outlives the store
  FakeClock clock_;
  boost::asio::io_context io_;
  Metrics metrics_;
  FakeTransport transport_{io_};
  FakeMailer mailer_{io_};
  std::unique_ptr<Store> reader_;
  std::unique_ptr<Ingest> ingest_;
  std::shared_ptr<const NotifyConfig> config_;
  std::unique_ptr<Delivery> delivery_;
  int queued_ = 0;
};

TEST_F(DeliveryTest, RetriesOnTheBackoffScheduleOfTheFakeClock) {
  transport_.script = {kRefused, kRefused, kRefused};
  enqueue("a1", "firing");
  deliver_until([&] { return outbox("pending").size() == 1 && outbox("pending")[0].attempts == 1; });
  ASSERT_EQ(transport_.requests.size(), 1u);
  EXPECT_EQ(outbox("pending")[0].next_attempt_at, format_rfc3339(clock_.now() + 1000ms));

  // Not yet due: nothing is sent.
  clock_.advance(999ms);
  settle();
  EXPECT_EQ(transport_.requests.size(), 1u);
  clock_.advance(1ms);
  deliver_until([&] { return outbox("pending")[0].attempts == 2; });
  EXPECT_EQ(transport_.requests.size(), 2u);
  EXPECT_EQ(outbox("pending")[0].next_attempt_at, format_rfc3339(clock_.now() + 2000ms));

  clock_.advance(2000ms);
  deliver_until([&] { return outbox("pending")[0].attempts == 3; });
  EXPECT_EQ(outbox("pending")[0].next_attempt_at, format_rfc3339(clock_.now() + 4000ms));
  clock_.advance(4000ms);
  deliver_until([&] { return outbox("delivered").size() == 1; });
  ASSERT_EQ(transport_.requests.size(), 4u);
  for (const auto& r : transport_.requests) EXPECT_EQ(r.header("Idempotency-Key"), "a1-firing-1");
}

TEST_F(DeliveryTest, ANotificationBecomesADeadLetterAtExactlyItsMaximumAge) {
  transport_.script = std::vector<PostResult>(100, kRefused);
  enqueue("old", "firing");
  clock_.advance(1ms);
  enqueue("young", "firing");
  // max_age is 60 s: at this instant "old" is exactly 60 s old, "young" 1 ms less.
  clock_.advance(59999ms);
  deliver_until([&] {
    return outbox("dead").size() == 1 && outbox("pending").size() == 1 && outbox("pending")[0].attempts == 1;
  });
  ASSERT_EQ(outbox("dead").size(), 1u);
  EXPECT_EQ(outbox("dead")[0].fingerprint, "old");
  EXPECT_EQ(outbox("dead")[0].attempts, 1);
  EXPECT_EQ(outbox("dead")[0].last_error, "connection refused");
  ASSERT_EQ(outbox("pending").size(), 1u);
  EXPECT_EQ(outbox("pending")[0].fingerprint, "young") << "retried, not dead";

  // A dead letter is never sent again; the young one dies at its next failure.
  clock_.advance(3600000ms);
  deliver_until([&] { return outbox("dead").size() == 2; });
  int sent_old = 0;
  for (const auto& r : transport_.requests) sent_old += r.body == "old firing";
  EXPECT_EQ(sent_old, 1);
  EXPECT_EQ(outbox("dead").size(), 2u);
}

TEST_F(DeliveryTest, NotificationsOfOneAlertReachAReceiverInTheOrderQueued) {
  transport_.script = {kRefused};
  enqueue("a1", "firing");
  enqueue("a1", "resolved");
  enqueue("a1", "firing");
  enqueue("b2", "firing");  // another alert does not wait behind a1
  deliver_until([&] { return transport_.requests.size() >= 2 && outbox("delivered").size() == 1; });
  ASSERT_EQ(transport_.requests.size(), 2u) << "a1's first failed; its others wait behind it";
  EXPECT_EQ(transport_.requests[0].body, "a1 firing");
  EXPECT_EQ(transport_.requests[1].body, "b2 firing");

  clock_.advance(1000ms);
  deliver_until([&] { return outbox("delivered").size() == 4; });
  std::vector<std::string> bodies;
  for (const auto& r : transport_.requests) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"a1 firing", "b2 firing", "a1 firing", "a1 resolved", "a1 firing"}));
}

AlertRecord firing_alert(const std::string& fingerprint, const std::string& since) {
  AlertRecord a;
  a.fingerprint = fingerprint;
  a.group = "g06-stage-up-rate-falling|stage=all";
  a.rule_id = "g06-stage-up-rate-falling";
  a.kpi = "g06.stage_up_rate";
  a.labels = {{"rule", a.rule_id}, {"kpi", a.kpi}, {"goal", "6"}, {"severity", "warning"}, {"stage", "all"}};
  a.state = AlertState::firing;
  a.period = "2024";
  a.value = 26.8;
  a.summary_en = "fell from 33.1% to 26.8%";
  a.summary_ja = "33.1%から26.8%に低下";
  a.receivers = {"am"};
  a.active_since = a.firing_since = a.updated_at = *parse_rfc3339(since);
  return a;
}

TEST_F(DeliveryTest, AlertmanagerReceiversGetEveryFiringAlertAgainWithOneKeyPerEpisode) {
  auto since = format_rfc3339(clock_.now());
  auto alert = firing_alert("f1", since);
  save_transition(alert, AlertState::pending, *alert.firing_since);
  // The firing alerts are read on the writer thread, then sent from the loop.
  auto resend = [&](std::size_t requests) {
    delivery_->resend_to_alertmanagers();
    deliver_until([&] { return transport_.requests.size() >= requests; });
  };
  resend(1);
  clock_.advance(60000ms);
  resend(2);
  ASSERT_EQ(transport_.requests.size(), 2u);
  for (const auto& r : transport_.requests) {
    EXPECT_EQ(r.url, "http://127.0.0.1:9/api/v2/alerts");
    EXPECT_NE(r.body.find("/api/v1/alerts/f1"), std::string::npos) << r.body;
  }
  EXPECT_FALSE(transport_.requests[0].header("Idempotency-Key").empty());
  EXPECT_EQ(transport_.requests[0].header("Idempotency-Key"), transport_.requests[1].header("Idempotency-Key"));

  // Resolved: no more re-sends.
  alert.state = AlertState::resolved;
  alert.resolved_at = clock_.now();
  save_transition(alert, AlertState::firing, *alert.resolved_at);
  delivery_->resend_to_alertmanagers();
  settle();
  EXPECT_EQ(transport_.requests.size(), 2u);

  // A new episode of the same alert: another key.
  clock_.advance(1000ms);
  auto again = firing_alert("f1", format_rfc3339(clock_.now()));
  save_transition(again, AlertState::resolved, *again.firing_since);
  resend(3);
  ASSERT_EQ(transport_.requests.size(), 3u);
  EXPECT_NE(transport_.requests[2].header("Idempotency-Key"), transport_.requests[0].header("Idempotency-Key"));
}

// Digests: Delivery with the fake clock and the real mailer, against a real SMTP
// server on 127.0.0.1. The digest is due at Monday 09:00 in Tokyo (00:00 UTC);
// the clock starts on Wednesday 1 July 2026, 00:00 UTC.
class DigestTest : public DeliveryTest {
 protected:
  DigestTest() {
    smtp_.start();
    auto config = std::make_shared<NotifyConfig>(*config_);
    ReceiverConfig mail;
    mail.name = "mail";
    mail.type = ReceiverType::email;
    mail.email.smtp_url = smtp_.url();
    mail.email.tls = SmtpTls::none;
    mail.email.from_name = "kpiwatch";
    mail.email.from_address = "kpiwatch@example.go.jp";
    mail.email.to = {"policy-unit@example.go.jp"};
    digest_.every = DigestConfig::Every::weekly;
    digest_.weekday = 1;
    digest_.minute_of_day = 9 * 60;
    mail.email.digest = digest_;
    config->receivers.push_back(mail);
    config_ = config;
    delivery_->stop();
    delivery_ = std::make_unique<Delivery>(io_, *ingest_, clock_, metrics_, config_, transport_, smtp_mailer_,
                                           [] { return 1.0; });
  }
  ~DigestTest() override {
    delivery_->stop();
    smtp_mailer_.join();
  }

  // A notification held for the next digest, as the alert engine queues it.
  void hold(const std::string& fingerprint, const std::string& event, boost::json::object item) {
    OutboxEntry e;
    e.fingerprint = fingerprint;
    e.receiver = "mail";
    EXPECT_TRUE(parse_outbox_event(event, e.event)) << event;
    boost::json::object o{{"lang", "ja"}, {"event", event}, {"fingerprint", fingerprint}};  // "lang" first, as queued
    for (const auto& [k, v] : item) o[k] = v;
    e.body = boost::json::serialize(o);
    e.idempotency_key = fingerprint + "-" + event + "-" + std::to_string(++queued_);
    e.created_at = format_rfc3339(clock_.now());
    e.next_attempt_at = format_rfc3339(next_digest(digest_, clock_.now()));
    e.group_key = digest_.group_key();
    e.group_labels = "{}";
    committed([&](Store& store) { return store.outbox().enqueue({e}); });
  }

  // Runs the loop (the mailer answers on it) until `n` messages arrived, or a few seconds passed.
  std::vector<boost::json::object> mails_after(std::size_t n) {
    deliver_until([&] { return smtp_.messages().size() >= n && outbox("pending").empty(); });
    return smtp_.messages();
  }

  test::TestSmtpServer smtp_;
  SmtpMailer smtp_mailer_{io_};
  DigestConfig digest_;
};

TEST_F(DigestTest, OneEmailOnMondayMorningListsWhatFiredResolvedAndBecameOverdue) {
  hold("g6", "firing",
       {{"goal", 6},
        {"goal_name", "重点分野における研究開発の活性化"},
        {"summary", "2024年の採択1年後のステージアップの割合（全体）は33.1%から26.8%に低下しました"},
        {"url", "http://kpiwatch.test/alerts/g6"}});
  hold("g2", "resolved", {{"goal", 2}, {"summary", "異業種参入企業の割合が基準内に戻りました"}});
  hold("od", "firing",
       {{"goal", 6},
        {"overdue", true},
        {"body_name", "日本医療研究開発機構"},
        {"summary", "採択1年後のステージアップの割合の2025年の数値が未提出です"}});
  EXPECT_EQ(outbox("pending")[0].next_attempt_at, "2026-07-06T00:00:00.000Z");

  // Monday 08:59 in Tokyo: nothing yet, not even claimed for a message.
  clock_.advance(std::chrono::hours(24 * 5 - 1) + std::chrono::minutes(59));
  settle();
  for (const auto& e : outbox("pending")) EXPECT_EQ(e.message_key, "") << e.fingerprint;
  EXPECT_TRUE(smtp_.messages().empty());

  clock_.advance(1min);
  auto mails = mails_after(1);
  ASSERT_EQ(mails.size(), 1u) << smtp_.log();
  EXPECT_EQ(boost::json::value_to<std::string>(mails[0].at("subject")),
            "【kpiwatch】週次ダイジェスト（2026年7月6日）: 発生1件、解消1件、期限超過1件");
  auto text = boost::json::value_to<std::string>(mails[0].at("text"));
  auto at = [&](const std::string& what) { return text.find(what); };
  ASSERT_NE(at("◆ 目標別"), std::string::npos) << text;
  EXPECT_LT(at("【ゴール2】"), at("【ゴール6 重点分野における研究開発の活性化】")) << text;
  EXPECT_LT(at("【ゴール6 重点分野における研究開発の活性化】"), at("■ ［発生］2024年の採択1年後")) << text;
  EXPECT_LT(at("◆ 目標別"), at("◆ 報告主体別（報告期限）")) << text;
  EXPECT_LT(at("【日本医療研究開発機構】"), at("■ ［期限超過］採択1年後のステージアップの割合の2025年")) << text;
  EXPECT_LT(at("◆ 報告主体別（報告期限）"), at("【日本医療研究開発機構】")) << text;
  EXPECT_NE(at("■ ［解消］異業種参入企業の割合が基準内に戻りました"), std::string::npos) << text;
  EXPECT_EQ(outbox("delivered").size(), 3u);
  auto delivered = outbox("delivered");
  EXPECT_EQ(boost::json::value_to<std::string>(mails[0].at("message_id")),
            "<" + delivered[0].message_key + "@example.go.jp>");

  // A week with nothing new: no digest, nothing waiting.
  clock_.advance(std::chrono::hours(24 * 7));
  settle();
  EXPECT_TRUE(outbox("pending").empty());
  EXPECT_EQ(outbox("delivered").size(), 3u);
  EXPECT_EQ(smtp_.messages().size(), 1u);
}

TEST_F(DigestTest, WhatArrivesAfterTheDigestWaitsForTheNextOne) {
  hold("a", "firing", {{"goal", 1}, {"summary", "first"}});
  clock_.advance(std::chrono::hours(24 * 5));  // Monday 09:00 in Tokyo
  ASSERT_EQ(mails_after(1).size(), 1u);
  clock_.advance(30min);
  hold("b", "firing", {{"goal", 1}, {"summary", "second"}});
  EXPECT_EQ(outbox("pending")[0].next_attempt_at, "2026-07-13T00:00:00.000Z");
  settle();
  EXPECT_EQ(smtp_.messages().size(), 1u);
  clock_.advance(std::chrono::hours(24 * 7));
  auto mails = mails_after(2);
  ASSERT_EQ(mails.size(), 2u);
  auto text = boost::json::value_to<std::string>(mails[1].at("text"));
  EXPECT_NE(text.find("second"), std::string::npos) << text;
  EXPECT_EQ(text.find("first"), std::string::npos) << text;
}

TEST_F(DigestTest, ARelayThatRefusesTheDigestGetsItLaterUnderTheSameMessageId) {
  hold("a", "firing", {{"goal", 1}, {"summary", "first"}});
  smtp_.stop();
  clock_.advance(std::chrono::hours(24 * 5));
  deliver_until([&] { return !outbox("pending").empty() && outbox("pending")[0].attempts == 1; });
  auto pending = outbox("pending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_NE(pending[0].last_error.find("SMTP"), std::string::npos) << pending[0].last_error;
  std::string key = pending[0].message_key;
  smtp_.start();
  clock_.advance(1s);
  auto mails = mails_after(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(boost::json::value_to<std::string>(mails[0].at("message_id")), "<" + key + "@example.go.jp>");
}

}  // namespace
}  // namespace kpiwatch
