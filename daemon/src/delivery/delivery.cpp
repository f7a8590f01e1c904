#include "kpiwatch/delivery.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <random>

#include "kpiwatch/digest.hpp"
#include "kpiwatch/log.hpp"

namespace kpiwatch {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr int kBatch = 64;
constexpr std::size_t kMaxInFlight = 32;
constexpr auto kIdlePoll = 5s;  // also picks up requeued dead letters
}  // namespace

std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                      double draw) {
  double base = static_cast<double>(initial.count()) * std::pow(2.0, std::clamp(attempts - 1, 0, 30));
  double capped = std::min(base, static_cast<double>(max.count()));
  double delay = capped / 2 + std::clamp(draw, 0.0, 1.0) * (capped / 2);
  return std::chrono::milliseconds(std::llround(delay));
}

Delivery::Draw Delivery::random_draw() {
  return [random = std::make_shared<std::mt19937>(std::random_device{}())] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(*random);
  };
}

Delivery::Delivery(asio::io_context& io, Store& reader, Ingest& writer, const Clock& clock, Metrics& metrics,
                   std::shared_ptr<const NotifyConfig> config, Transport& transport, Draw draw)
    : io_(io),
      reader_(reader),
      writer_(writer),
      clock_(clock),
      metrics_(metrics),
      config_(std::move(config)),
      transport_(transport),
      draw_(std::move(draw)),
      timer_(io),
      resend_timer_(io) {}

void Delivery::start() {
  wake();
  resend_to_alertmanagers();
  arm_resend();
}

void Delivery::stop() {
  stopped_ = true;
  timer_.cancel();
  resend_timer_.cancel();
}

void Delivery::wake() {
  if (stopped_ || polling_) return;
  polling_ = true;
  asio::post(io_, [this] {
    polling_ = false;
    poll();
  });
}

void Delivery::arm(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll();
  });
}

void Delivery::poll() {
  if (stopped_) return;
  auto now = clock_.now();
  std::string now_text = format_rfc3339(now);
  auto due = reader_.outbox().due(now_text, kBatch);
  if (!due) {
    spdlog::error("reading the outbox failed: {}", due.error().message);
    return arm(kIdlePoll);
  }
  for (const auto& entry : due.value()) {
    if (in_flight_.size() >= kMaxInFlight) break;
    if (in_flight_.contains(entry.id)) continue;
    send(entry);
  }
  // Sleep until the next retry is due (or a while, to pick up requeued ones).
  auto next = reader_.outbox().next_due();
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(kIdlePoll);
  if (next && next.value()) {
    if (auto at = parse_rfc3339(*next.value()))
      delay = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*at - now), 0ms, delay);
  }
  arm(std::max(delay, 10ms));
}

std::vector<std::pair<std::string, std::string>> Delivery::signed_headers(const ReceiverConfig& receiver,
                                                                          const std::string& body) const {
  std::string timestamp =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count());
  auto headers = receiver.headers;
  headers.emplace_back("X-Kpiwatch-Timestamp", timestamp);
  if (!receiver.secret.empty())
    headers.emplace_back("X-Kpiwatch-Signature", signature(receiver.secret, timestamp, body));
  return headers;
}

void Delivery::send(const OutboxEntry& entry) {
  const ReceiverConfig* receiver = config_->receiver(entry.receiver);
  if (!receiver) {
    in_flight_.insert(entry.id);
    finished(entry, PostResult{0, fmt::format("receiver \"{}\" is no longer configured", entry.receiver)});
    return;
  }
  in_flight_.insert(entry.id);
  auto headers = signed_headers(*receiver, entry.body);
  headers.emplace_back("Idempotency-Key", entry.idempotency_key);
  std::string url = receiver->url;
  if (receiver->format == ReceiverFormat::alertmanager_api)
    url = url.ends_with("/") ? url + "api/v2/alerts" : url + "/api/v2/alerts";
  transport_.post(url, headers, entry.body, receiver->timeout, receiver->ca_file,
                  [this, entry](const PostResult& result) { finished(entry, result); });
}

void Delivery::finished(const OutboxEntry& entry, const PostResult& result) {
  auto now = clock_.now();
  std::string at = format_rfc3339(now);
  int attempts = entry.attempts + 1;
  std::function<void(Store&)> job;
  if (result.error.empty()) {
    metrics_.add("kpiwatch_notifications_total", {{"receiver", entry.receiver}, {"result", "sent"}});
    log_event(
        LogLevel::info,
        fmt::format("notification delivered ({} {}, attempt {})", to_string(entry.event), result.status, attempts),
        {{kFieldFingerprint, entry.fingerprint}, {kFieldReceiver, entry.receiver}});
    job = [id = entry.id, at](Store& store) {
      if (auto s = store.outbox().mark_delivered(id, at); !s) spdlog::error("outbox: {}", s.error().message);
    };
  } else {
    metrics_.add("kpiwatch_notifications_total", {{"receiver", entry.receiver}, {"result", "failed"}});
    auto created = parse_rfc3339(entry.created_at).value_or(now);
    const auto& a = config_->alerting;
    if (now - created >= a.max_age) {
      metrics_.add("kpiwatch_notifications_total", {{"receiver", entry.receiver}, {"result", "dead"}});
      log_event(LogLevel::error,
                fmt::format("notification dead after {} attempts over {} s: {}", attempts,
                            std::chrono::duration_cast<std::chrono::seconds>(now - created).count(), result.error),
                {{kFieldFingerprint, entry.fingerprint}, {kFieldReceiver, entry.receiver}});
      job = [id = entry.id, attempts, error = result.error](Store& store) {
        if (auto s = store.outbox().mark_dead(id, attempts, error); !s) spdlog::error("outbox: {}", s.error().message);
      };
    } else {
      metrics_.add("kpiwatch_notifications_total", {{"receiver", entry.receiver}, {"result", "retried"}});
      auto delay = retry_delay(attempts, a.retry_initial, a.retry_max, draw_());
      auto next = now + delay;
      log_event(
          LogLevel::warn,
          fmt::format("notification failed (attempt {}), retrying in {} ms: {}", attempts, delay.count(), result.error),
          {{kFieldFingerprint, entry.fingerprint}, {kFieldReceiver, entry.receiver}});
      job = [id = entry.id, attempts, next_at = format_rfc3339(next), error = result.error](Store& store) {
        if (auto s = store.outbox().mark_retry(id, attempts, next_at, error); !s)
          spdlog::error("outbox: {}", s.error().message);
      };
    }
  }
  // The outbox row changes on the writer thread; the entry stays in flight until it has.
  writer_.post([this, job = std::move(job), id = entry.id](Store& store) {
    job(store);
    asio::post(io_, [this, id] {
      in_flight_.erase(id);
      wake();
    });
  });
}

void Delivery::resend_to_alertmanagers() {
  if (stopped_) return;
  for (const auto& receiver : config_->receivers) {
    if (receiver.format != ReceiverFormat::alertmanager_api) continue;
    AlertFilter firing;
    firing.state = AlertState::firing;
    auto alerts = reader_.alerts().list(firing);
    if (!alerts) continue;
    for (const auto& alert : alerts.value()) {
      auto routed = config_->route(alert);
      if (std::find(routed.begin(), routed.end(), &receiver) == routed.end()) continue;
      std::string body = notification_body(receiver, alert, false, config_->external_url);
      std::string url = receiver.url.ends_with("/") ? receiver.url + "api/v2/alerts" : receiver.url + "/api/v2/alerts";
      auto headers = signed_headers(receiver, body);
      // One key per firing episode: every re-send says the same thing.
      headers.emplace_back("Idempotency-Key", sha256_hex(alert.fingerprint + "\n" + receiver.name + "\n" +
                                                         format_rfc3339(alert.firing_since))
                                                  .substr(0, 32));
      transport_.post(url, headers, std::move(body), receiver.timeout, receiver.ca_file,
                      [name = receiver.name](PostResult r) {
                        if (!r.error.empty()) spdlog::debug("re-sending to {} failed: {}", name, r.error);
                      });
    }
  }
}

void Delivery::arm_resend() {
  if (stopped_) return;
  std::chrono::milliseconds interval = 60s;
  for (const auto& receiver : config_->receivers)
    if (receiver.format == ReceiverFormat::alertmanager_api) interval = std::min(interval, receiver.resend_interval);
  resend_timer_.expires_after(interval);
  resend_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    resend_to_alertmanagers();
    arm_resend();
  });
}

}  // namespace kpiwatch
