#pragma once
// Alerts: the current state per fingerprint, every transition, acknowledgements.

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

class AlertRepository {
 public:
  explicit AlertRepository(Connection& connection) : db_(connection) {}

  // Writes the changed alerts and their transitions. REQUIRES: an open transaction.
  // An alert that resolves (or goes inactive) loses its acknowledgement.
  Status save(const AlertChanges& changes);
  // Firing first, then pending, resolved, inactive; critical first within each.
  Result<std::vector<AlertRecord>> list(const AlertFilter& filter = {});
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
