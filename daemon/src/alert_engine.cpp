#include "kpiwatch/alert_engine.hpp"

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kpiwatch/log.hpp"

namespace kpiwatch {
namespace {

void log_transition(const Transition& t) {
  const auto& a = t.alert;
  auto level = t.to == AlertState::firing && a.severity == Severity::critical ? LogLevel::error
               : t.to == AlertState::firing && a.severity == Severity::warning ? LogLevel::warn
                                                                                : LogLevel::info;
  std::string value = a.value ? fmt::format("{}", *a.value) : "";
  std::string dims;
  for (const auto& [k, v] : a.labels)
    if (k != "rule" && k != "kpi" && k != "goal" && k != "severity") dims += fmt::format("{}{}={}", dims.empty() ? "" : ",", k, v);
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

}  // namespace

void AlertEngine::apply(Store& store, const AlertChanges& changes) {
  if (changes.empty()) return;
  auto saved = store.begin();
  if (saved) saved = store.save_alert_changes(changes);
  if (saved) saved = store.commit();
  if (!saved) {
    store.rollback();
    spdlog::error("storing {} alert transition(s) failed: {}; they are evaluated again on the next change",
                  changes.transitions.size(), saved.error().message);
    return;
  }
  book_.commit(changes);
  for (const auto& t : changes.transitions) log_transition(t);
}

Status AlertEngine::start(Store& store, TimePoint now) {
  if (auto s = store.for_each_current([this](const std::string& kpi, const Dims& dims, Point p) {
        index_.upsert(kpi, dims, std::move(p));
      });
      !s)
    return s;
  auto alerts = store.alerts();
  if (!alerts) return alerts.error();
  book_.load(std::move(alerts.value()));
  swap_rules(store, rules_, now);
  return ok_status();
}

void AlertEngine::on_stored(Store& store, const std::vector<Revision>& stored, TimePoint now) {
  std::set<std::pair<std::string, std::string>> changed;
  std::vector<std::pair<std::string, Dims>> series;
  for (const auto& r : stored) {
    const auto& s = r.submission;
    index_.upsert(s.kpi, s.dims, Point{s.period, s.value, s.items});
    if (changed.emplace(s.kpi, dims_key(s.dims)).second) series.emplace_back(s.kpi, s.dims);
  }
  std::vector<Evaluation> evaluations;
  for (const auto& [kpi, dims] : series) {
    auto more = rules_->evaluate_changed(index_, kpi, dims);
    evaluations.insert(evaluations.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  apply(store, book_.plan(evaluations, now));
}

void AlertEngine::on_tick(Store& store, TimePoint now) {
  apply(store, book_.plan(rules_->evaluate_deadlines(index_, now), now));
}

void AlertEngine::swap_rules(Store& store, std::shared_ptr<const RuleSet> rules, TimePoint now) {
  rules_ = std::move(rules);
  apply(store, book_.plan_retired(*rules_, now));
  auto evaluations = rules_->evaluate_all(index_);
  auto deadlines = rules_->evaluate_deadlines(index_, now);
  evaluations.insert(evaluations.end(), std::make_move_iterator(deadlines.begin()),
                     std::make_move_iterator(deadlines.end()));
  apply(store, book_.plan(evaluations, now));
}

}  // namespace kpiwatch
