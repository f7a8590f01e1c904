#include "ingest/alert_engine.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <set>

#include "kpiwatch/digest.hpp"
#include "kpiwatch/log.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch {
namespace {

bool is_missing_data(const AlertRecord& a) {
  auto it = a.labels.find("criterion");
  return it != a.labels.end() && it->second == "missing_data";
}

std::string series_text(const Labels& labels) {
  std::string dims;
  for (const auto& [k, v] : labels)
    if (k != "rule" && k != "kpi" && k != "goal" && k != "severity")
      dims += fmt::format("{}{}={}", dims.empty() ? "" : ",", k, v);
  return dims;
}

void log_transition(const Transition& t) {
  const auto& a = t.alert;
  auto level = t.to == AlertState::firing && a.severity == Severity::critical  ? LogLevel::error
               : t.to == AlertState::firing && a.severity == Severity::warning ? LogLevel::warn
                                                                               : LogLevel::info;
  std::string value = a.value ? fmt::format("{}", *a.value) : "";
  std::string dims = series_text(a.labels);
  log_event(level, fmt::format("alert {}: {}", to_string(t.to), a.summary_en),
            {{kFieldRule, a.rule_id},
             {kFieldKpi, a.kpi},
             {kFieldFingerprint, a.fingerprint},
             {"ALERT_STATE", to_string(t.to)},
             {"ALERT_FROM", to_string(t.from)},
             {"SEVERITY", to_string(a.severity)},
             {"PERIOD", a.period},
             {"VALUE", value},
             {"LABELS", dims},
             {"SUMMARY_JA", a.summary_ja}});
}

// Stable across retries, unique per notification.
std::string idempotency_key(const std::string& fingerprint, const std::string& receiver, std::string_view event,
                            const std::string& at, std::size_t n) {
  return sha256_hex(fmt::format("{}\n{}\n{}\n{}\n{}", fingerprint, receiver, event, at, n)).substr(0, 32);
}

}  // namespace

std::vector<OutboxEntry> AlertEngine::notifications(Store& store, const AlertChanges& changes, TimePoint now) {
  std::vector<OutboxEntry> out;
  std::string at = format_rfc3339(now);
  std::optional<std::vector<Silence>> silences;
  for (const auto& t : changes.transitions) {
    bool firing = t.to == AlertState::firing && t.from != AlertState::firing;
    bool resolved = t.to == AlertState::resolved;
    if (!firing && !resolved) continue;
    for (const ReceiverConfig* receiver : notify_->route(t.alert)) {
      if (!silences) {
        auto read = store.silences().active_at(at);
        silences = read ? std::move(read.value()) : std::vector<Silence>{};
      }
      OutboxEntry e;
      e.fingerprint = t.alert.fingerprint;
      e.receiver = receiver->name;
      e.event = firing ? OutboxEvent::firing : OutboxEvent::resolved;
      e.status = OutboxStatus::pending;
      e.body = notification_body(*receiver, t.alert, resolved, notify_->external_url);
      e.idempotency_key = idempotency_key(e.fingerprint, e.receiver, to_string(e.event), at, out.size());
      e.created_at = at;
      e.next_attempt_at = at;
      for (const auto& s : *silences)
        if (s.matches(t.alert.labels)) {
          e.status = OutboxStatus::suppressed;
          e.last_error = fmt::format("silenced by silence {} ({})", s.id, s.comment);
          break;
        }
      if (e.status == OutboxStatus::pending && firing && t.alert.acknowledged_at.has_value()) {
        e.status = OutboxStatus::suppressed;
        e.last_error = fmt::format("acknowledged by {}", t.alert.acknowledged_by);
      }
      out.push_back(std::move(e));
    }
  }
  return out;
}

void AlertEngine::apply(Store& store, const AlertChanges& changes, TimePoint now) {
  if (changes.empty()) return;
  auto queued = notifications(store, changes, now);
  Status saved = ok_status();
  {
    Transaction tx(store.connection());
    saved = tx.began();
    if (saved) saved = store.alerts().save(changes);
    if (saved) saved = store.outbox().enqueue(queued);  // same transaction as the state change
    if (saved) saved = tx.commit();
  }
  if (!saved) {
    spdlog::error("storing {} alert transition(s) failed: {}; they are evaluated again on the next change",
                  changes.transitions.size(), saved.error().message);
    return;
  }
  book_.commit(changes);
  for (const auto& t : changes.transitions) log_transition(t);
  if (std::any_of(changes.updated.begin(), changes.updated.end(), is_missing_data)) log_overdue();
  bool wake = false;
  for (const auto& e : queued) {
    if (e.status == OutboxStatus::suppressed) {
      metrics_.add("kpiwatch_notifications_total", {{"receiver", e.receiver}, {"result", "suppressed"}});
      log_event(LogLevel::info, fmt::format("notification suppressed: {}", e.last_error),
                {{kFieldFingerprint, e.fingerprint}, {kFieldReceiver, e.receiver}, {"EVENT", to_string(e.event)}});
    } else {
      wake = true;
    }
  }
  if (wake && on_enqueued_) on_enqueued_();
}

Status AlertEngine::start(Store& store, TimePoint now) {
  // Read before the values, so that a commit by another connection during the read is looked at again.
  auto version = store.connection().data_version();
  if (!version) return version.error();
  data_version_ = version.value();
  auto last = store.revisions().last_id();
  if (!last) return last.error();
  evaluated_through_ = last.value();
  if (auto s = store.revisions().for_each_current(
          [this](const std::string& kpi, const Dims& dims, Point p) { index_.upsert(kpi, dims, std::move(p)); });
      !s)
    return s;
  auto alerts = store.alerts().list();
  if (!alerts) return alerts.error();
  book_.load(std::move(alerts.value()));
  swap_rules(store, rules_, now);
  log_overdue();                     // the digests as they stand, also when nothing changed
  if (on_enqueued_) on_enqueued_();  // deliveries left pending by a previous run
  return ok_status();
}

std::optional<std::vector<Revision>> AlertEngine::external_revisions(Store& store) {
  auto version = store.connection().data_version();
  if (!version) {
    spdlog::error("looking for revisions committed by other processes failed: {}", version.error().message);
    return std::nullopt;
  }
  if (version.value() == data_version_) return std::nullopt;
  auto revisions = store.revisions().after(evaluated_through_);
  if (!revisions) {
    spdlog::error("reading revisions committed by other processes failed: {}", revisions.error().message);
    return std::nullopt;
  }
  data_version_ = version.value();
  // Another process may also have requeued dead letters (kpiwatch outbox requeue): delivery looks now.
  if (on_enqueued_) on_enqueued_();
  return std::move(revisions.value());
}

void AlertEngine::on_stored(Store& store, const std::vector<Revision>& stored, TimePoint now) {
  // Unchanged data_version: every revision after the last evaluated one is in `stored`.
  if (auto all = external_revisions(store)) return evaluate(store, *all, now);
  evaluate(store, stored, now);
}

void AlertEngine::catch_up(Store& store, TimePoint now) {
  auto external = external_revisions(store);
  if (!external || external->empty()) return;
  std::set<std::string> by;
  for (const auto& r : *external) by.insert(r.submitted_by);
  spdlog::info("evaluating {} revision(s) committed by another process ({})", external->size(), fmt::join(by, ", "));
  evaluate(store, *external, now);
}

void AlertEngine::evaluate(Store& store, const std::vector<Revision>& stored, TimePoint now) {
  for (const auto& r : stored) evaluated_through_ = std::max(evaluated_through_, r.id);
  auto started = std::chrono::steady_clock::now();
  std::set<std::pair<std::string, std::string>> changed;
  std::vector<std::pair<std::string, Dims>> series;
  for (const auto& r : stored) {
    const auto& s = r.submission;
    index_.upsert(s.kpi, s.dims, Point{s.period, s.value, s.items});
    if (changed.emplace(s.kpi, dims_key(s.dims)).second) series.emplace_back(s.kpi, s.dims);
  }
  std::vector<Evaluation> evaluations;
  std::set<std::string> kpis;
  for (const auto& [kpi, dims] : series) {
    auto more = rules_->evaluate_changed(index_, kpi, dims);
    evaluations.insert(evaluations.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    kpis.insert(kpi);
  }
  // A figure that was overdue resolves its missing-data alert at once.
  for (const auto& kpi : kpis) {
    auto more = rules_->evaluate_deadlines(index_, now, kpi);
    evaluations.insert(evaluations.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  auto changes = book_.plan(evaluations, now);
  metrics_.add("kpiwatch_rule_evaluations_total", {}, static_cast<double>(evaluations.size()));
  metrics_.add("kpiwatch_rule_evaluation_seconds_sum", {},
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  metrics_.add("kpiwatch_rule_evaluation_seconds_count", {});
  apply(store, changes, now);
}

void AlertEngine::log_overdue() {
  std::vector<AlertRecord> firing;
  for (const AlertRecord* a : book_.active())
    if (a->state == AlertState::firing && is_missing_data(*a)) firing.push_back(*a);
  std::map<std::string, std::string> now_logged;
  for (const auto& d : views::overdue_digests(firing, rules_->catalog())) {
    std::string key = d.body->id + "|" + d.period.str();
    if (overdue_logged_[key] != d.sentence_en)
      log_event(LogLevel::info, fmt::format("overdue: {}", d.sentence_en),
                {{"BODY", d.body->id},
                 {"PERIOD", d.period.str()},
                 {"OVERDUE", std::to_string(d.overdue)},
                 {"SUMMARY_JA", d.sentence_ja}});
    now_logged[key] = d.sentence_en;
  }
  for (const auto& [key, sentence] : overdue_logged_)
    if (!sentence.empty() && !now_logged.contains(key)) {
      auto bar = key.find('|');
      log_event(LogLevel::info, fmt::format("overdue: none left for {} ({})", key.substr(bar + 1), key.substr(0, bar)),
                {{"BODY", key.substr(0, bar)}, {"PERIOD", key.substr(bar + 1)}, {"OVERDUE", "0"}});
    }
  overdue_logged_ = std::move(now_logged);
}

void AlertEngine::on_tick(Store& store, TimePoint now) {
  apply(store, book_.plan(rules_->evaluate_deadlines(index_, now), now), now);
  repeat(store, now);
}

void AlertEngine::repeat(Store& store, TimePoint now) {
  std::vector<OutboxEntry> queued;
  std::string at = format_rfc3339(now);
  std::optional<std::vector<Silence>> silences;
  for (const AlertRecord* a : book_.active()) {
    if (a->state != AlertState::firing || a->acknowledged_at.has_value()) continue;
    for (const ReceiverConfig* receiver : notify_->route(*a)) {
      if (receiver->repeat_interval.count() == 0 || receiver->format == ReceiverFormat::alertmanager_api) continue;
      auto last = store.outbox().last_queued(a->fingerprint, receiver->name);
      if (!last) continue;
      auto last_time = parse_rfc3339(last.value());
      if (last_time && *last_time + receiver->repeat_interval > now) continue;
      if (!silences) {
        auto read = store.silences().active_at(at);
        silences = read ? std::move(read.value()) : std::vector<Silence>{};
      }
      if (std::any_of(silences->begin(), silences->end(), [&](const Silence& s) { return s.matches(a->labels); }))
        continue;
      OutboxEntry e;
      e.fingerprint = a->fingerprint;
      e.receiver = receiver->name;
      e.event = OutboxEvent::repeat;
      e.status = OutboxStatus::pending;
      e.body = notification_body(*receiver, *a, false, notify_->external_url);
      e.idempotency_key = idempotency_key(e.fingerprint, e.receiver, to_string(e.event), at, queued.size());
      e.created_at = e.next_attempt_at = at;
      queued.push_back(std::move(e));
    }
  }
  if (queued.empty()) return;
  Status saved = ok_status();
  {
    Transaction tx(store.connection());
    saved = tx.began();
    if (saved) saved = store.outbox().enqueue(queued);
    if (saved) saved = tx.commit();
  }
  if (!saved) {
    spdlog::error("queueing {} repeat notification(s) failed: {}", queued.size(), saved.error().message);
    return;
  }
  if (on_enqueued_) on_enqueued_();
}

Result<bool> AlertEngine::acknowledge(Store& store, const std::string& fingerprint, const std::string& by,
                                      const std::string& comment, TimePoint now) {
  std::string at = format_rfc3339(now);
  {
    Transaction tx(store.connection());
    if (!tx.began()) return tx.began().error();
    auto done = store.alerts().acknowledge(fingerprint, by, comment, at);
    if (!done || !done.value()) return done;  // rolled back
    if (auto s = tx.commit(); !s) return s.error();
  }
  book_.acknowledge(fingerprint, now, by, comment);
  log_event(LogLevel::info, fmt::format("alert acknowledged by {}: {}", by, comment),
            {{kFieldFingerprint, fingerprint}});
  return true;
}

void AlertEngine::swap_rules(Store& store, std::shared_ptr<const RuleSet> rules, TimePoint now) {
  rules_ = std::move(rules);
  apply(store, book_.plan_retired(*rules_, now), now);
  auto evaluations = rules_->evaluate_all(index_);
  auto deadlines = rules_->evaluate_deadlines(index_, now);
  evaluations.insert(evaluations.end(), std::make_move_iterator(deadlines.begin()),
                     std::make_move_iterator(deadlines.end()));
  apply(store, book_.plan(evaluations, now), now);
}

}  // namespace kpiwatch
