#pragma once
// Rules wired to storage: keeps the current values in memory, re-evaluates
// the rules that read a changed series, and stores alert transitions.
// Every method runs on the writer thread (see Ingest).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/metrics.hpp"
#include "kpiwatch/notifications.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/series.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {

struct Notice;
class GroupPlanner;

class AlertEngine {
 public:
  AlertEngine(std::shared_ptr<const RuleSet> rules, std::shared_ptr<const NotifyConfig> notify, Metrics& metrics)
      : rules_(std::move(rules)), notify_(std::move(notify)), metrics_(metrics) {}

  // Called after notifications were queued (to wake the delivery worker).
  void on_enqueued(std::function<void()> callback) { on_enqueued_ = std::move(callback); }
  // Told every stored figure it evaluates, every stored transition and acknowledgement,
  // as a live event: its name (submission, alert, ack) and JSON text. Set before start().
  using EventSink = std::function<void(std::string event, std::string data)>;
  void on_event(EventSink sink) { on_event_ = std::move(sink); }

  // Loads current values and alert states. If the stored states were evaluated
  // with rules and catalog of the same digest (meta evaluation.rules_digest), only
  // the revisions after the last evaluated one (evaluation.through) are evaluated;
  // otherwise every rule on every series (a full pass).
  Status start(Store& store, TimePoint now);
  // After revisions were committed: the rules reading their series. Revisions that
  // another connection committed meanwhile are evaluated with them.
  void on_stored(Store& store, const std::vector<Revision>& stored, TimePoint now);
  // Evaluates the revisions that another connection (kpiwatch import) committed
  // since the last look, if any; cheap when there are none.
  void catch_up(Store& store, TimePoint now);
  // Missing-data rules against the clock, and repeat notifications.
  void on_tick(Store& store, TimePoint now);
  // Acknowledges the current episode of an active alert; false if none.
  Result<bool> acknowledge(Store& store, const std::string& fingerprint, const std::string& by,
                           const std::string& comment, TimePoint now);
  void swap_notify(std::shared_ptr<const NotifyConfig> notify) {
    std::lock_guard lock(shared_mutex_);
    notify_ = std::move(notify);
  }
  // The current rule set and notification config, for readers on other threads
  // (the API's alert page and alert groups); swapped on the writer thread.
  std::shared_ptr<const RuleSet> current_rules() const {
    std::lock_guard lock(shared_mutex_);
    return rules_;
  }
  std::shared_ptr<const NotifyConfig> current_notify() const {
    std::lock_guard lock(shared_mutex_);
    return notify_;
  }
  // A reloaded rule set: alerts of removed rules resolve, the rest keep their state.
  void swap_rules(Store& store, std::shared_ptr<const RuleSet> rules, TimePoint now);

  std::size_t series_count() const { return index_.size(); }
  // Whether the last start() did a full pass (the rules or catalog had changed).
  bool started_with_full_pass() const { return full_pass_at_start_; }

 private:
  // Stores and applies `changes`; false if storing them failed.
  bool apply(Store& store, AlertChanges changes, TimePoint now);
  // Which active alerts are inhibited once `changes` apply; alerts whose inhibition
  // changes join `changes`. Returns the firing alerts no longer inhibited.
  std::vector<std::string> inhibit(AlertChanges& changes);
  // "inhibited by ..." for `alert` among `active`.
  std::string inhibition(const AlertRecord& alert, const std::vector<const AlertRecord*>& active) const;
  std::vector<Notice> notices(Store& store, const AlertChanges& changes,
                              const std::vector<std::string>& released) const;
  OutboxEntry entry(const Notice& notice, const Routed& routed, GroupPlanner& groups, const std::string& at,
                    std::size_t index) const;
  void evaluate(Store& store, const std::vector<Revision>& revisions, TimePoint now);
  // Every revision after the last evaluated one, if another connection committed since
  // the last look; nullopt if none did (or the look failed, to be tried again).
  std::optional<std::vector<Revision>> external_revisions(Store& store);
  std::vector<OutboxEntry> notifications(Store& store, std::vector<Notice> notices, TimePoint now);
  void repeat(Store& store, TimePoint now);
  // Logs each overdue digest (per reporting body and period) that changed since
  // the last call; every one the first time.
  void log_overdue();
  void publish_submissions(const std::vector<Revision>& revisions) const;
  void publish_transitions(const AlertChanges& changes) const;
  // kpiwatch_alerts{state=...} from the book's counts.
  void publish_alert_counts() const;
  // Writes evaluation.rules_digest and evaluation.through. REQUIRES: an open transaction.
  Status save_evaluated(Store& store) const;
  // save_evaluated in its own transaction, if the revisions evaluated grew since it was last written.
  void persist_evaluated(Store& store);

  // Written on the writer thread under shared_mutex_, which other threads take to read them.
  mutable std::mutex shared_mutex_;
  std::shared_ptr<const RuleSet> rules_;
  std::shared_ptr<const NotifyConfig> notify_;
  Metrics& metrics_;
  std::function<void()> on_enqueued_;
  EventSink on_event_;
  SeriesIndex index_;
  AlertBook book_;
  std::int64_t evaluated_through_ = 0;   // the highest revision id evaluated
  std::int64_t persisted_through_ = -1;  // evaluation.through as last written
  bool states_current_ = false;
  // Stored or earlier rules' inhibitions may not hold for rules_: the next apply looks at every active alert.
  bool inhibitions_unchecked_ = true;  // the book holds what rules_ evaluate (false during a full pass)
  bool full_pass_at_start_ = false;
  std::int64_t data_version_ = -1;                     // of the writer's connection, at the last look
  std::map<std::string, std::string> overdue_logged_;  // body|period → the sentence logged
};

}  // namespace kpiwatch
