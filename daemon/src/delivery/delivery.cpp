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
constexpr auto kIdlePoll = 5s;                  // also picks up requeued dead letters
constexpr std::int64_t kCountEveryTime = 1000;  // pending rows below which counting them is cheap

bool is_digest(const std::string& group_key) { return group_key.starts_with("digest:"); }

// Why a notification queued for a receiver of the other kind is not sent: a reload changed it.
std::string type_changed(const ReceiverConfig& receiver) {
  return fmt::format("receiver \"{}\" is now {} receiver; this notification was queued for the other kind",
                     receiver.name, receiver.type == ReceiverType::email ? "an email" : "a webhook");
}
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

Delivery::Delivery(asio::io_context& io, Ingest& writer, const Clock& clock, Metrics& metrics,
                   std::shared_ptr<const NotifyConfig> config, Transport& transport, Mailer& mailer, Draw draw)
    : io_(io),
      writer_(writer),
      clock_(clock),
      metrics_(metrics),
      config_(std::move(config)),
      transport_(transport),
      mailer_(mailer),
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
  if (reading_) {
    poll_again_ = true;  // after the read in flight, which may predate what woke us
    return;
  }
  reading_ = true;
  auto now = clock_.now();
  // The outbox is read on the writer thread: the event loop never waits on SQLite.
  writer_.post([this, now](Store& store) {
    auto found = std::make_shared<Due>();
    std::string now_text = format_rfc3339(now);
    found->entries = store.outbox().due(now_text, kBatch);
    found->groups = store.outbox().due_groups(now_text, kBatch);
    found->next = store.outbox().next_due();
    count_outbox(store);
    asio::post(io_, [this, now, found] {
      reading_ = false;
      take(now, *found);
      if (std::exchange(poll_again_, false)) poll();
    });
  });
}

void Delivery::take(TimePoint now, const Due& found) {
  if (stopped_) return;
  if (!found.entries) {
    spdlog::error("reading the outbox failed: {}", found.entries.error().message);
    return arm(kIdlePoll);
  }
  for (const auto& entry : found.entries.value()) {
    if (in_flight_.size() >= kMaxInFlight) break;
    if (in_flight_.contains(entry.id)) continue;
    send(entry);
  }
  if (!found.groups) spdlog::error("reading the outbox failed: {}", found.groups.error().message);
  if (found.groups)
    for (const auto& group : found.groups.value()) {
      if (groups_in_flight_.size() >= kMaxInFlight) break;
      take_group(group);
    }
  // Sleep until the next retry is due (or a while, to pick up requeued ones).
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(kIdlePoll);
  if (found.next && found.next.value()) {
    if (auto at = parse_rfc3339(*found.next.value()))
      delay = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*at - now), 0ms, delay);
  }
  arm(std::max(delay, 10ms));
}

void Delivery::count_outbox(Store& store) {
  // Counting reads every pending row: with many waiting, at most once a second.
  auto now = std::chrono::steady_clock::now();
  if (counted_depth_ >= kCountEveryTime && now - counted_at_ < 1s) return;
  counted_at_ = now;
  auto depth = store.outbox().depth();
  if (!depth) return spdlog::error("counting the outbox failed: {}", depth.error().message);
  counted_depth_ = depth->pending;
  metrics_.set("kpiwatch_outbox_depth", {}, static_cast<double>(depth->pending));
  auto oldest = parse_rfc3339(depth->oldest);
  oldest_waiting_ = oldest ? std::chrono::duration<double>(oldest->time_since_epoch()).count() : 0.0;
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
  bool email = receiver->type == ReceiverType::email;
  if (email != is_email_item(entry.body)) {
    finished(entry, PostResult{0, type_changed(*receiver)});
    return;
  }
  if (email) {
    auto message = compose_email(*receiver, EmailKind::alone, {entry.body}, entry.idempotency_key,
                                 parse_rfc3339(entry.created_at).value_or(clock_.now()), config_->external_url);
    mailer_.send(*receiver, std::move(message), [this, entry](const PostResult& result) { finished(entry, result); });
    return;
  }
  auto headers = signed_headers(*receiver, entry.body);
  headers.emplace_back("Idempotency-Key", entry.idempotency_key);
  std::string url = receiver->url;
  if (receiver->format == ReceiverFormat::alertmanager_api)
    url = url.ends_with("/") ? url + "api/v2/alerts" : url + "/api/v2/alerts";
  transport_.post(url, headers, entry.body, receiver->timeout, receiver->ca_file,
                  [this, entry](const PostResult& result) { finished(entry, result); });
}

Delivery::Outcome Delivery::judge(const Attempt& a, const PostResult& result) {
  auto now = clock_.now();
  Outcome out;
  out.attempts = a.attempts + 1;
  out.at = format_rfc3339(now);
  std::vector<LogField> fields{{kFieldReceiver, a.receiver}};
  if (!a.fingerprint.empty()) fields.push_back({kFieldFingerprint, a.fingerprint});
  if (!a.group_key.empty()) fields.push_back({"GROUP_KEY", a.group_key});
  if (result.error.empty()) {
    metrics_.add("kpiwatch_notifications_total", {{"receiver", a.receiver}, {"result", "sent"}});
    log_event(LogLevel::info,
              fmt::format("notification delivered ({} {}, attempt {})", a.what, result.status, out.attempts), fields);
    return out;
  }
  out.error = result.error;
  metrics_.add("kpiwatch_notifications_total", {{"receiver", a.receiver}, {"result", "failed"}});
  auto created = parse_rfc3339(a.created_at).value_or(now);
  const auto& alerting = config_->alerting;
  if (now - created >= alerting.max_age) {
    out.fate = Fate::dead;
    metrics_.add("kpiwatch_notifications_total", {{"receiver", a.receiver}, {"result", "dead"}});
    log_event(LogLevel::error,
              fmt::format("notification dead after {} attempts over {} s: {}", out.attempts,
                          std::chrono::duration_cast<std::chrono::seconds>(now - created).count(), result.error),
              fields);
    return out;
  }
  out.fate = Fate::retry;
  metrics_.add("kpiwatch_notifications_total", {{"receiver", a.receiver}, {"result", "retried"}});
  auto delay = retry_delay(out.attempts, alerting.retry_initial, alerting.retry_max, draw_());
  out.next_at = format_rfc3339(now + delay);
  log_event(
      LogLevel::warn,
      fmt::format("notification failed (attempt {}), retrying in {} ms: {}", out.attempts, delay.count(), result.error),
      fields);
  return out;
}

void Delivery::finished(const OutboxEntry& entry, const PostResult& result) {
  Outcome o = judge(
      {entry.receiver, entry.fingerprint, "", std::string(to_string(entry.event)), entry.attempts, entry.created_at},
      result);
  auto job = [id = entry.id, o](Store& store) {
    Status s = o.fate == Fate::delivered ? store.outbox().mark_delivered(id, o.at)
               : o.fate == Fate::dead    ? store.outbox().mark_dead(id, o.attempts, o.error)
                                         : store.outbox().mark_retry(id, o.attempts, o.next_at, o.error);
    if (!s) spdlog::error("outbox: {}", s.error().message);
  };
  // The outbox row changes on the writer thread; the entry stays in flight until it has.
  writer_.post([this, job = std::move(job), id = entry.id](Store& store) {
    job(store);
    count_outbox(store);
    asio::post(io_, [this, id] {
      in_flight_.erase(id);
      wake();
    });
  });
}

// Groups ---------------------------------------------------------------------

void Delivery::take_group(const DueGroup& group) {
  std::string flight = group.receiver + "\n" + group.group_key;
  if (groups_in_flight_.contains(flight)) return;
  groups_in_flight_.insert(flight);
  // A new message: its alerts are fixed on the writer thread, so that an alert
  // queued meanwhile waits for the next one (group_interval). A message already
  // fixed (a retry) is read there too.
  writer_.post([this, group, flight](Store& store) {
    std::string key = group.message_key;
    if (key.empty()) {
      // A digest takes every notification due, a group the oldest of each alert.
      auto claimed = store.outbox().claim_group(group.receiver, group.group_key, format_rfc3339(clock_.now()),
                                                is_digest(group.group_key));
      if (!claimed) spdlog::error("outbox: {}", claimed.error().message);
      key = claimed ? claimed.value() : std::string();
    }
    auto entries = std::make_shared<Result<std::vector<OutboxEntry>>>(
        key.empty() ? Result<std::vector<OutboxEntry>>(std::vector<OutboxEntry>{}) : store.outbox().message(key));
    // A digest waits for its day by design: it ages from when it was first sent, not from its oldest alert.
    std::string aged_from;
    if (is_digest(group.group_key))
      if (auto timing = store.outbox().group_timing(group.receiver, group.group_key); timing && timing->last_sent)
        aged_from = *timing->last_sent;
    asio::post(io_, [this, flight, key, entries, aged_from] { send_group(flight, key, *entries, aged_from); });
  });
}

void Delivery::release_group(const std::string& flight) {
  groups_in_flight_.erase(flight);
  wake();
}

void Delivery::send_group(const std::string& flight, const std::string& message_key,
                          const Result<std::vector<OutboxEntry>>& entries, const std::string& aged_from) {
  if (stopped_) return;
  if (!entries || entries.value().empty()) {
    if (!entries) spdlog::error("reading the outbox failed: {}", entries.error().message);
    return release_group(flight);
  }
  const auto& first = entries.value().front();
  const ReceiverConfig* receiver = config_->receiver(first.receiver);
  GroupSend g{flight, message_key, first.receiver, first.group_key, 0, first.created_at, entries.value().size()};
  for (const auto& e : entries.value()) {
    g.attempts = std::max(g.attempts, e.attempts);
    g.created_at = std::min(g.created_at, e.created_at);
  }
  // A requeued digest ages from its requeue (its created_at), like any dead letter sent again.
  if (!aged_from.empty()) g.created_at = std::max(g.created_at, aged_from);
  if (!receiver)
    return finished_group(g, PostResult{0, fmt::format("receiver \"{}\" is no longer configured", g.receiver)});
  std::vector<std::string> items;
  for (const auto& e : entries.value()) items.push_back(e.body);
  bool email = receiver->type == ReceiverType::email;
  if (email != is_email_item(first.body)) return finished_group(g, PostResult{0, type_changed(*receiver)});
  if (email) {
    auto digest = parse_digest_key(first.group_key);
    auto kind = digest ? EmailKind::digest : EmailKind::group;
    // Dated when the digest was claimed, or when the group's first alert was queued: the same on every attempt.
    auto date = parse_rfc3339(aged_from.empty() ? g.created_at : aged_from).value_or(clock_.now());
    auto message =
        compose_email(*receiver, kind, items, message_key, date, config_->external_url, digest ? &*digest : nullptr);
    mailer_.send(*receiver, std::move(message), [this, g](const PostResult& result) { finished_group(g, result); });
    return;
  }
  std::string body =
      group_notification_body(*receiver, first.group_key, first.group_labels, items, config_->external_url);
  auto headers = signed_headers(*receiver, body);
  headers.emplace_back("Idempotency-Key", message_key);  // one per message, the same for every attempt
  transport_.post(receiver->url, headers, std::move(body), receiver->timeout, receiver->ca_file,
                  [this, g](const PostResult& result) { finished_group(g, result); });
}

void Delivery::finished_group(const GroupSend& g, const PostResult& result) {
  Outcome o = judge(
      {g.receiver, "", g.group_key, fmt::format("group of {} alerts", g.alerts), g.attempts, g.created_at}, result);
  writer_.post([this, g, o](Store& store) {
    auto& outbox = store.outbox();
    Status s = o.fate == Fate::delivered ? outbox.mark_message_delivered(g.message_key, o.at)
               : o.fate == Fate::dead    ? outbox.mark_message_dead(g.message_key, o.attempts, o.error)
                                         : outbox.mark_message_retry(g.message_key, o.attempts, o.next_at, o.error);
    if (!s) spdlog::error("outbox: {}", s.error().message);
    count_outbox(store);
    asio::post(io_, [this, flight = g.flight] { release_group(flight); });
  });
}

void Delivery::resend_to_alertmanagers() {
  if (stopped_) return;
  auto wanted = [this] {
    for (const auto& receiver : config_->receivers)
      if (receiver.format == ReceiverFormat::alertmanager_api) return true;
    return false;
  };
  if (!wanted()) return;
  writer_.post([this](Store& store) {
    AlertFilter firing;
    firing.state = AlertState::firing;
    auto alerts = store.alerts().list(firing);
    if (!alerts) return spdlog::error("reading the firing alerts failed: {}", alerts.error().message);
    asio::post(io_, [this, alerts = std::make_shared<std::vector<AlertRecord>>(std::move(alerts.value()))] {
      resend(*alerts);
    });
  });
}

void Delivery::resend(const std::vector<AlertRecord>& alerts) {
  if (stopped_) return;
  for (const auto& receiver : config_->receivers) {
    if (receiver.format != ReceiverFormat::alertmanager_api) continue;
    for (const auto& alert : alerts) {
      if (!alert.inhibited_by.empty()) continue;  // its firing notification was held back too
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
