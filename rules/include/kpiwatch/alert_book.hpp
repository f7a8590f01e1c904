#pragma once
// Alert states across evaluations: inactive → pending → firing → resolved.
// Planning is separate from committing, so that a caller can store the
// transitions first and apply them in memory only once they are durable.
// Only active alerts are kept whole (their texts are needed to notify again);
// of the others only the state, so that the book does not grow with history.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/rules.hpp"

namespace kpiwatch {

class AlertBook {
 public:
  void load(std::vector<AlertRecord> records);
  // Adds one alert as storage holds it (active ones whole, the others by their state).
  void add(AlertRecord record);
  // Adds an alert that is not active by its state only.
  void add_state(const std::string& fingerprint, AlertState state);
  // What `evaluations` change, without changing the book.
  AlertChanges plan(const std::vector<Evaluation>& evaluations, TimePoint now) const;
  // Active alerts of rules that `rules` no longer has, or whose rule no longer
  // watches their series (another KPI or dims filter), are resolved.
  AlertChanges plan_retired(const RuleSet& rules, TimePoint now) const;
  void commit(const AlertChanges& changes);
  // Marks the current episode of an active alert acknowledged; false if none.
  bool acknowledge(const std::string& fingerprint, TimePoint at, const std::string& by, const std::string& comment);
  std::vector<const AlertRecord*> active() const;

  // An active alert; null if it is not active or not known.
  const AlertRecord* find(const std::string& fingerprint) const;
  // The state of any known alert; inactive if it is not known.
  AlertState state_of(const std::string& fingerprint) const;
  std::size_t active_count() const;
  // Known alerts in `state`.
  std::size_t count(AlertState state) const { return counts_[static_cast<std::size_t>(state)]; }

 private:
  void set_state(const std::string& fingerprint, std::optional<AlertState> before, AlertState after);

  std::map<std::string, AlertRecord> records_;                    // active alerts
  std::unordered_map<std::uint64_t, AlertState> dormant_;         // the others, by the hash of their fingerprint
  std::map<std::string, std::set<std::string>> active_by_group_;  // group → its active alerts
  std::array<std::size_t, 4> counts_{};                           // by AlertState
};

// A sample's rule, labels, figures, texts and receivers, copied into `r` (its
// fingerprint, state and times stay).
void take_figures(AlertRecord& r, const AlertSample& s);

}  // namespace kpiwatch
