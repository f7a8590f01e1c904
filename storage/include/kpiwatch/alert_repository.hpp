#pragma once
// Alerts: the current state per fingerprint, every transition, acknowledgements.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/connection.hpp"
#include "kpiwatch/result.hpp"

namespace kpiwatch {

struct AlertFilter {
  std::optional<AlertState> state;
  std::optional<int> goal;
  std::optional<Severity> severity;
  std::string rule_id;
  std::string kpi;
};

// Pending or firing alerts of one KPI in one state and severity.
struct ActiveAlertCount {
  std::string kpi;
  AlertState state = AlertState::firing;
  Severity severity = Severity::warning;
  int count = 0;
  double missing = 0;  // the values (missing series) of its missing-data alerts (label criterion = "missing_data")
};

// A place in the alert list's order: the values it is sorted by, in that order
// (state rank, missing data, severity rank, the goal label's number, KPI, fingerprint).
struct AlertListKey {
  int state = 0;          // firing 0, pending 1, resolved 2, inactive 3
  int missing = 0;        // 1 for missing-data alerts (label criterion = "missing_data")
  int severity = 0;       // critical 0, warning 1, info 2
  std::int64_t goal = 0;  // the label goal, 0 unless all digits (as SQLite casts it)
  std::string kpi;
  std::string fingerprint;
  auto operator<=>(const AlertListKey&) const = default;
};

class AlertRepository {
 public:
  explicit AlertRepository(Connection& connection) : db_(connection) {}

  // Writes the changed alerts and their transitions. REQUIRES: an open transaction.
  // An alert that resolves (or goes inactive) loses its acknowledgement.
  Status save(const AlertChanges& changes);
  // In list order (AlertListKey): firing, pending, resolved, inactive; the findings
  // before missing-data alerts; critical first; then goal, KPI, fingerprint.
  Result<std::vector<AlertRecord>> list(const AlertFilter& filter = {});
  // list() one alert at a time, from one cursor over an index in list order, from
  // the first alert after `after` (the start without it), until `visit` returns
  // false: a page reads the rows it shows, not the whole list.
  Status each_listed(const AlertFilter& filter, const std::optional<AlertListKey>& after,
                     const std::function<bool(AlertRecord& alert, const AlertListKey& key)>& visit);
  // Pending and firing alerts counted by KPI, state and severity (of one goal if given).
  Result<std::vector<ActiveAlertCount>> active_counts(std::optional<int> goal = std::nullopt);
  // The newest `per_kpi` pending or firing alerts of each KPI, by KPI then newest first.
  Result<std::vector<AlertRecord>> newest_active(std::optional<int> goal, int per_kpi);
  Result<std::optional<AlertRecord>> one(const std::string& fingerprint);
  // Transitions of `fingerprint`, oldest first.
  Result<std::vector<Transition>> history(const std::string& fingerprint);
  // Acknowledges a pending or firing alert; false if there is none such.
  // REQUIRES: an open transaction.
  Result<bool> acknowledge(const std::string& fingerprint, const std::string& by, const std::string& comment,
                           const std::string& at);

 private:
  Connection& db_;
};

}  // namespace kpiwatch
