#include "ingest/alert_engine.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_set>

#include "ingest/fault_point.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/email.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/log.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch {
namespace json = boost::json;
namespace {

// What the stored alert states were evaluated with, and through which revision.
constexpr const char* kRulesDigestKey = "evaluation.rules_digest";
constexpr const char* kThroughKey = "evaluation.through";

std::optional<std::int64_t> parse_id(const std::string& text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

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
  // Overdue figures are told as one warning per reporting body (log_overdue): each KPI's is info.
  bool overdue = a.labels.contains("criterion") && a.labels.at("criterion") == "missing_data";
  auto level = t.to == AlertState::firing && a.severity == Severity::critical              ? LogLevel::error
               : t.to == AlertState::firing && a.severity == Severity::warning && !overdue ? LogLevel::warn
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

bool is_active(AlertState state) { return state == AlertState::pending || state == AlertState::firing; }

// The alerts active once `changes` are applied, in no particular order. It costs
// one look at each active alert, and copies no record.
std::vector<const AlertRecord*> active_after(const AlertBook& book, const AlertChanges& changes) {
  std::unordered_set<std::string_view> changed;
  for (const auto& r : changes.updated) changed.insert(r.fingerprint);
  std::vector<const AlertRecord*> out;
  out.reserve(book.active_count() + changes.updated.size());
  for (const AlertRecord* a : book.active())
    if (!changed.contains(a->fingerprint)) out.push_back(a);
  for (const auto& r : changes.updated)
    if (is_active(r.state)) out.push_back(&r);
  return out;
}

// Whether `a` matches the source (or the target) of any of `rules`.
bool matches_any(const std::vector<InhibitRule>& rules, const AlertRecord& a, Matchers InhibitRule::*side) {
  return std::any_of(rules.begin(), rules.end(), [&](const InhibitRule& r) { return labels_match(r.*side, a.labels); });
}

bool starts_firing(const AlertChanges& changes, const std::string& fingerprint) {
  return std::any_of(changes.transitions.begin(), changes.transitions.end(), [&](const Transition& t) {
    return t.alert.fingerprint == fingerprint && t.to == AlertState::firing;
  });
}

std::string silence_reason(const std::vector<Silence>& silences, const AlertRecord& a) {
  for (const auto& s : silences)
    if (s.matches(a.labels)) return fmt::format("silenced by silence {} ({})", s.id, s.comment);
  return {};
}

}  // namespace

// A notification to queue: an alert that starts firing (or is no longer inhibited), resolves, or repeats.
struct Notice {
  const AlertRecord* alert = nullptr;
  OutboxEvent event = OutboxEvent::firing;
  std::string suppressed;  // why it is not sent; empty: it is
};

// When a grouped notification is due; the groups of one batch are read once.
class GroupPlanner {
 public:
  GroupPlanner(Store& store, TimePoint now) : store_(store), now_(now) {}
  TimePoint now() const { return now_; }

  TimePoint due(const std::string& receiver, const GroupId& group, const Grouping& grouping) {
    auto [it, added] = due_.try_emplace({receiver, group.key}, now_);
    if (!added) return it->second;
    auto timing = store_.outbox().group_timing(receiver, group.key);
    if (!timing) {
      spdlog::error("reading the notification group {} of {} failed: {}", group.key, receiver, timing.error().message);
      return it->second = now_ + grouping.group_wait;
    }
    auto time = [](const std::optional<std::string>& text) {
      return text ? parse_rfc3339(*text) : std::optional<TimePoint>{};
    };
    return it->second = group_due(time(timing->unsent_due), time(timing->last_sent), now_, grouping);
  }

 private:
  Store& store_;
  TimePoint now_;
  std::map<std::pair<std::string, std::string>, TimePoint> due_;
};

std::vector<std::string> AlertEngine::inhibit(AlertChanges& changes) {
  const auto& rules = rules_->inhibit_rules();
  // Without [[inhibit]] no alert is inhibited: a batch costs nothing here, unless
  // inhibitions of earlier rules (or of the stored states) are still to be cleared.
  if (rules.empty() && !inhibitions_unchecked_) return {};
  inhibitions_unchecked_ = false;
  auto alerts = active_after(book_, changes);
  // Only firing alerts that match a source can inhibit: the others are not looked at per target.
  std::vector<const AlertRecord*> sources;
  for (const AlertRecord* a : alerts)
    if (a->state == AlertState::firing && matches_any(rules, *a, &InhibitRule::source)) sources.push_back(a);
  std::map<std::string, std::vector<std::string>> changed;
  std::vector<std::string> released;
  for (const AlertRecord* a : alerts) {
    std::vector<std::string> by;
    if (!sources.empty() && matches_any(rules, *a, &InhibitRule::target))
      for (const auto& i : inhibitors(rules, *a, sources)) by.push_back(i.alert->fingerprint);
    std::sort(by.begin(), by.end());  // the order of `alerts` is not stable from one batch to the next
    if (by == a->inhibited_by) continue;
    // As Alertmanager does: the firing notification goes out once the inhibition ends.
    if (by.empty() && a->state == AlertState::firing && !starts_firing(changes, a->fingerprint))
      released.push_back(a->fingerprint);
    changed[a->fingerprint] = std::move(by);
  }
  for (auto& r : changes.updated)
    if (!is_active(r.state)) r.inhibited_by.clear();
  for (const auto& entry : changed) {
    const std::string& fp = entry.first;
    const std::vector<std::string>& by = entry.second;
    auto it = std::find_if(changes.updated.begin(), changes.updated.end(),
                           [&](const AlertRecord& r) { return r.fingerprint == fp; });
    if (it == changes.updated.end()) {
      changes.updated.push_back(*book_.find(fp));
      it = std::prev(changes.updated.end());
    }
    it->inhibited_by = by;
    for (auto& t : changes.transitions)
      if (t.alert.fingerprint == fp) t.alert.inhibited_by = by;
  }
  return released;
}

std::string AlertEngine::inhibition(const AlertRecord& alert, const std::vector<const AlertRecord*>& active) const {
  auto by = inhibitors(rules_->inhibit_rules(), alert, active);
  return by.empty() ? std::string("inhibited") : inhibition_reason(by.front());
}

// Whether a firing notification of the alert's current episode went out (was not held back).
bool firing_told(Store& store, const AlertRecord& alert) {
  auto sent = store.outbox().of_alert(alert.fingerprint);
  if (!sent) return true;  // not known: tell rather than swallow a resolution
  std::string since = format_rfc3339(alert.firing_since);
  return std::any_of(sent.value().begin(), sent.value().end(), [&](const AlertNotification& n) {
    return n.entry.event == OutboxEvent::firing && n.entry.status != OutboxStatus::suppressed &&
           n.entry.created_at >= since;
  });
}

std::vector<Notice> AlertEngine::notices(Store& store, const AlertChanges& changes,
                                         const std::vector<std::string>& released) const {
  std::vector<Notice> out;
  // Needed only to say why a notification is held back: drawn once, when one is.
  std::optional<std::vector<const AlertRecord*>> active, before;
  for (const auto& t : changes.transitions) {
    bool firing = t.to == AlertState::firing && t.from != AlertState::firing;
    bool resolved = t.to == AlertState::resolved;
    if (!firing && !resolved) continue;
    Notice n{&t.alert, firing ? OutboxEvent::firing : OutboxEvent::resolved, {}};
    if (firing && !t.alert.inhibited_by.empty()) {
      if (!active) active = active_after(book_, changes);
      n.suppressed = inhibition(t.alert, *active);
    }
    // A resolution of an alert whose firing was held back is held back too; one whose
    // firing went out before the inhibition began is told.
    const AlertRecord* was = book_.find(t.alert.fingerprint);
    if (resolved && was && !was->inhibited_by.empty() && !firing_told(store, *was)) {
      if (!before) before = book_.active();
      n.suppressed = inhibition(*was, *before);
    }
    out.push_back(std::move(n));
  }
  for (const auto& fp : released)
    for (const auto& r : changes.updated)
      if (r.fingerprint == fp && !firing_told(store, r)) out.push_back({&r, OutboxEvent::firing, {}});
  return out;
}

OutboxEntry AlertEngine::entry(const Notice& n, const Routed& routed, GroupPlanner& groups, const std::string& at,
                               std::size_t index) const {
  const ReceiverConfig& receiver = *routed.receiver;
  bool resolved = n.event == OutboxEvent::resolved;
  OutboxEntry e;
  e.fingerprint = n.alert->fingerprint;
  e.receiver = receiver.name;
  e.event = n.event;
  e.status = n.suppressed.empty() ? OutboxStatus::pending : OutboxStatus::suppressed;
  e.last_error = n.suppressed;
  e.idempotency_key = idempotency_key(e.fingerprint, e.receiver, to_string(e.event), at, index);
  e.created_at = e.next_attempt_at = at;
  bool email = receiver.type == ReceiverType::email;
  // An email's body is the alert's item: the message is composed from its items when sent.
  if (email)
    e.body = email_item(*n.alert, to_string(e.event), routed.language, rules_.get(), index_, notify_->external_url);
  if (email && routed.digest) {
    // One email per digest: its notifications wait in their group until the next digest time.
    e.group_key = routed.digest->group_key();
    e.group_labels = "{}";
    if (e.status == OutboxStatus::pending)
      e.next_attempt_at = format_rfc3339(next_digest(*routed.digest, groups.now()));
    return e;
  }
  if (!routed.grouped()) {
    if (!email) e.body = notification_body(receiver, *n.alert, resolved, notify_->external_url);
    return e;
  }
  GroupId group = group_of(*routed.grouping, *n.alert);
  json::object labels;
  for (const auto& [k, v] : group.labels) labels[k] = v;
  e.group_key = group.key;
  e.group_labels = serialize_json(labels);
  if (!email) e.body = notification_item(*n.alert, resolved, notify_->external_url);
  if (e.status == OutboxStatus::pending)
    e.next_attempt_at = format_rfc3339(groups.due(receiver.name, group, *routed.grouping));
  return e;
}

std::vector<OutboxEntry> AlertEngine::notifications(Store& store, std::vector<Notice> notices, TimePoint now) {
  std::vector<OutboxEntry> out;
  if (notices.empty()) return out;
  std::string at = format_rfc3339(now);
  auto read = store.silences().active_at(at);
  auto silences = read ? std::move(read.value()) : std::vector<Silence>{};
  GroupPlanner groups(store, now);
  for (auto& n : notices) {
    // Silences first, then the acknowledgement of a firing alert, then inhibition.
    std::string silenced = silence_reason(silences, *n.alert);
    if (!silenced.empty())
      n.suppressed = silenced;
    else if (n.event != OutboxEvent::resolved && n.alert->acknowledged_at.has_value())
      n.suppressed = fmt::format("acknowledged by {}", n.alert->acknowledged_by);
    for (const Routed& routed : notify_->routes_for(*n.alert)) out.push_back(entry(n, routed, groups, at, out.size()));
  }
  return out;
}

bool AlertEngine::apply(Store& store, AlertChanges changes, TimePoint now) {
  auto released = inhibit(changes);
  if (changes.empty()) return true;
  auto queued = notifications(store, notices(store, changes, released), now);
  Status saved = ok_status();
  {
    Transaction tx(store.connection());
    saved = tx.began();
    if (saved) saved = store.alerts().save(changes);
    if (saved) saved = store.outbox().enqueue(queued);  // same transaction as the state change
    if (saved && states_current_) saved = save_evaluated(store);
    if (saved) saved = tx.commit();
  }
  if (!saved) {
    spdlog::error("storing {} alert transition(s) failed: {}; they are evaluated again on the next change",
                  changes.transitions.size(), saved.error().message);
    // What is stored no longer follows from the revisions evaluated: the stored mark
    // stays where it was, so that the next start evaluates them again.
    states_current_ = false;
    inhibitions_unchecked_ = true;  // the book kept what this apply would have cleared
    return false;
  }
  if (states_current_) persisted_through_ = evaluated_through_;
  book_.commit(changes);
  publish_alert_counts();
  for (const auto& t : changes.transitions) log_transition(t);
  publish_transitions(changes);
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
  return true;
}

Status AlertEngine::start(Store& store, TimePoint now) {
  auto started = std::chrono::steady_clock::now();
  // Read before the values, so that a commit by another connection during the read is looked at again.
  auto version = store.connection().data_version();
  if (!version) return version.error();
  data_version_ = version.value();
  auto last = store.revisions().last_id();
  if (!last) return last.error();
  auto digest = store.meta().get(kRulesDigestKey);
  if (!digest) return digest.error();
  auto through_text = store.meta().get(kThroughKey);
  if (!through_text) return through_text.error();
  std::optional<std::int64_t> through;
  if (digest.value() == rules_->digest() && through_text.value()) through = parse_id(*through_text.value());

  if (auto s = store.revisions().for_each_current(
          [this](const std::string& kpi, const Dims& dims, Point p) { index_.upsert(kpi, dims, std::move(p)); });
      !s)
    return s;
  // Active alerts whole; of the others only their state.
  std::vector<AlertRecord> active;
  for (AlertState state : {AlertState::firing, AlertState::pending}) {
    AlertFilter filter;
    filter.state = state;
    auto alerts = store.alerts().list(filter);
    if (!alerts) return alerts.error();
    std::move(alerts.value().begin(), alerts.value().end(), std::back_inserter(active));
  }
  book_.load(std::move(active));
  if (auto s = store.for_each_alert_state([this](const std::string& fingerprint, AlertState state) {
        if (state != AlertState::firing && state != AlertState::pending) book_.add_state(fingerprint, state);
      });
      !s)
    return s;
  double loaded_s = seconds_since(started);

  full_pass_at_start_ = !through || *through > last.value();
  if (full_pass_at_start_) {
    spdlog::info("rules changed: full pass over {} series (loaded in {:.3f} s)", index_.size(), loaded_s);
    evaluated_through_ = last.value();
    swap_rules(store, rules_, now);
  } else {
    // Revisions committed after the last evaluation (by another process while this one was down).
    auto after = store.revisions().after(*through);
    if (!after) return after.error();
    spdlog::info(
        "rules unchanged since the last run: no full pass ({} series loaded in {:.3f} s; {} revision(s) to "
        "evaluate since)",
        index_.size(), loaded_s, after.value().size());
    evaluated_through_ = *through;
    persisted_through_ = *through;
    states_current_ = true;
    evaluate(store, after.value(), now);
    apply(store, book_.plan(rules_->evaluate_deadlines(index_, now), now), now);
  }
  persist_evaluated(store);
  publish_alert_counts();
  malloc_trim(0);                    // the pass's evaluations are gone: give their memory back
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
  if (auto all = external_revisions(store))
    evaluate(store, *all, now);
  else
    evaluate(store, stored, now);
  fault_point("after-alert-commit");
}

void AlertEngine::catch_up(Store& store, TimePoint now) {
  auto external = external_revisions(store);
  if (!external || external->empty()) return;
  std::set<std::string> by;
  for (const auto& r : *external) by.insert(r.submitted_by);
  spdlog::info("evaluating {} revision(s) committed by another process ({})", external->size(), fmt::join(by, ", "));
  evaluate(store, *external, now);
}

namespace {

// Up to this many changes of one commit go out one event each; more (an import
// of 10^5 figures) go out as one event per KPI with their count, so that a
// stream's backlog stays small and an open page refreshes once.
constexpr std::size_t kEventsPerCommit = 20;

// {"kpi","goal","count"} per KPI, in id order.
template <class Sink>
void publish_counts(const Sink& sink, const std::string& event, const Catalog& catalog,
                    const std::map<std::string, std::int64_t>& counts) {
  for (const auto& [id, count] : counts) {
    const Kpi* kpi = catalog.find(id);
    sink(event, serialize_json(json::object{{"kpi", id}, {"goal", kpi ? kpi->goal : 0}, {"count", count}}));
  }
}

}  // namespace

void AlertEngine::publish_submissions(const std::vector<Revision>& revisions) const {
  if (!on_event_) return;
  const Catalog& catalog = rules_->catalog();
  if (revisions.size() > kEventsPerCommit) {
    std::map<std::string, std::int64_t> counts;
    for (const auto& r : revisions) ++counts[r.submission.kpi];
    return publish_counts(on_event_, "submission", catalog, counts);
  }
  for (const auto& r : revisions) {
    const auto& s = r.submission;
    json::object dims;
    for (const auto& [k, v] : s.dims) dims[k] = v;
    const Kpi* kpi = catalog.find(s.kpi);
    on_event_("submission", serialize_json(json::object{{"kpi", s.kpi},
                                                        {"goal", kpi ? kpi->goal : 0},
                                                        {"period", s.period.str()},
                                                        {"dims", std::move(dims)},
                                                        {"revision", r.revision}}));
  }
}

void AlertEngine::publish_transitions(const AlertChanges& changes) const {
  if (!on_event_) return;
  const Catalog& catalog = rules_->catalog();
  if (changes.transitions.size() > kEventsPerCommit) {
    std::map<std::string, std::int64_t> counts;
    for (const auto& t : changes.transitions) ++counts[t.alert.kpi];
    return publish_counts(on_event_, "alert", catalog, counts);
  }
  for (const auto& t : changes.transitions) {
    const auto& a = t.alert;
    const Kpi* kpi = catalog.find(a.kpi);
    on_event_("alert", serialize_json(json::object{{"fingerprint", a.fingerprint},
                                                   {"kpi", a.kpi},
                                                   {"goal", kpi ? kpi->goal : 0},
                                                   {"from", to_string(t.from)},
                                                   {"to", to_string(t.to)}}));
  }
}

void AlertEngine::evaluate(Store& store, const std::vector<Revision>& stored, TimePoint now) {
  for (const auto& r : stored) evaluated_through_ = std::max(evaluated_through_, r.id);
  publish_submissions(stored);
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
  apply(store, std::move(changes), now);
}

void AlertEngine::log_overdue() {
  std::vector<AlertRecord> firing;
  for (const AlertRecord* a : book_.active())
    if (a->state == AlertState::firing && is_missing_data(*a)) firing.push_back(*a);
  std::map<std::string, std::string> now_logged;
  for (const auto& d : views::overdue_digests(firing, rules_->catalog())) {
    std::string key = d.body->id + "|" + d.period.str();
    if (overdue_logged_[key] != d.sentence_en)
      log_event(LogLevel::warn, fmt::format("overdue: {}", d.sentence_en),
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
  persist_evaluated(store);  // evaluations that changed no alert wrote nothing
}

void AlertEngine::publish_alert_counts() const {
  for (AlertState state : {AlertState::inactive, AlertState::pending, AlertState::firing, AlertState::resolved})
    metrics_.set("kpiwatch_alerts", {{"state", std::string(to_string(state))}},
                 static_cast<double>(book_.count(state)));
}

Status AlertEngine::save_evaluated(Store& store) const {
  if (auto s = store.meta().set(kRulesDigestKey, rules_->digest()); !s) return s;
  return store.meta().set(kThroughKey, std::to_string(evaluated_through_));
}

void AlertEngine::persist_evaluated(Store& store) {
  if (!states_current_ || persisted_through_ == evaluated_through_) return;
  Status saved = ok_status();
  {
    Transaction tx(store.connection());
    saved = tx.began();
    if (saved) saved = save_evaluated(store);
    if (saved) saved = tx.commit();
  }
  if (!saved) {
    spdlog::error("storing which revisions were evaluated failed: {}", saved.error().message);
    return;
  }
  persisted_through_ = evaluated_through_;
}

void AlertEngine::repeat(Store& store, TimePoint now) {
  std::vector<OutboxEntry> queued;
  std::string at = format_rfc3339(now);
  std::optional<std::vector<Silence>> silences;
  GroupPlanner groups(store, now);
  for (const AlertRecord* a : book_.active()) {
    if (a->state != AlertState::firing || a->acknowledged_at.has_value() || !a->inhibited_by.empty()) continue;
    for (const Routed& routed : notify_->routes_for(*a)) {
      const ReceiverConfig* receiver = routed.receiver;
      if (receiver->repeat_interval.count() == 0 || receiver->format == ReceiverFormat::alertmanager_api) continue;
      if (routed.digest) continue;  // a digest is the reminder: it would list the alert once per interval
      auto last = store.outbox().last_queued(a->fingerprint, receiver->name);
      if (!last) continue;
      auto last_time = parse_rfc3339(last.value());
      if (last_time && *last_time + receiver->repeat_interval > now) continue;
      if (!silences) {
        auto read = store.silences().active_at(at);
        silences = read ? std::move(read.value()) : std::vector<Silence>{};
      }
      if (!silence_reason(*silences, *a).empty()) continue;
      queued.push_back(entry(Notice{a, OutboxEvent::repeat, {}}, routed, groups, at, queued.size()));
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
  if (on_event_) on_event_("ack", serialize_json(json::object{{"fingerprint", fingerprint}}));
  log_event(LogLevel::info, fmt::format("alert acknowledged by {}: {}", by, comment),
            {{kFieldFingerprint, fingerprint}});
  return true;
}

void AlertEngine::swap_rules(Store& store, std::shared_ptr<const RuleSet> rules, TimePoint now) {
  {
    std::lock_guard lock(shared_mutex_);
    rules_ = std::move(rules);
  }
  // Until the pass is stored, the stored states are not what the new digest stands for.
  states_current_ = false;
  inhibitions_unchecked_ = true;
  apply(store, book_.plan_retired(*rules_, now), now);
  bool stored = false;
  {
    auto evaluations = rules_->evaluate_all(index_);
    auto deadlines = rules_->evaluate_deadlines(index_, now);
    evaluations.insert(evaluations.end(), std::make_move_iterator(deadlines.begin()),
                       std::make_move_iterator(deadlines.end()));
    stored = apply(store, book_.plan(evaluations, now), now);
  }
  // A crash before this write makes the next start pass again, which is safe.
  states_current_ = stored;
  persisted_through_ = -1;
  persist_evaluated(store);
}

}  // namespace kpiwatch
