#pragma once
// Rules wired to storage: keeps the current values in memory, re-evaluates
// the rules that read a changed series, and stores alert transitions.
// Every method runs on the writer thread (see Ingest).

#include <memory>
#include <mutex>

#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/series.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {

class AlertEngine {
 public:
  explicit AlertEngine(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {}

  // Loads current values and alert states, then evaluates every rule.
  Status start(Store& store, TimePoint now);
  // After revisions were committed: the rules reading their series.
  void on_stored(Store& store, const std::vector<Revision>& stored, TimePoint now);
  // Missing-data rules against the clock.
  void on_tick(Store& store, TimePoint now);
  // A reloaded rule set: alerts of removed rules resolve, the rest keep their state.
  void swap_rules(Store& store, std::shared_ptr<const RuleSet> rules, TimePoint now);

  std::size_t series_count() const { return index_.size(); }

 private:
  void apply(Store& store, const AlertChanges& changes);

  std::shared_ptr<const RuleSet> rules_;
  SeriesIndex index_;
  AlertBook book_;
};

}  // namespace kpiwatch
