#pragma once
// Alerts as the rest of kpiwatch sees them: severity, state, the stored record
// and its transitions. The rule engine makes them; storage keeps them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/clock.hpp"
#include "kpiwatch/labels.hpp"

namespace kpiwatch {

enum class Severity { info, warning, critical };
std::string_view to_string(Severity severity);
// "info", "warning", "critical"; false (out untouched) for anything else.
bool parse_severity(std::string_view text, Severity& out);

// inactive → pending → firing → resolved.
enum class AlertState { inactive, pending, firing, resolved };
std::string_view to_string(AlertState state);
bool parse_alert_state(std::string_view text, AlertState& out);
// Where a state comes in the alert list: firing 0, pending 1, resolved 2, inactive 3
// (the alerts table's list_state column says the same).
int list_rank(AlertState state);

// An alert's current state and the figures behind it.
struct AlertRecord {
  std::string fingerprint;
  std::string group;
  std::string rule_id;
  std::string kpi;
  Labels labels;
  Severity severity = Severity::warning;
  AlertState state = AlertState::inactive;
  std::string period;
  std::optional<double> value;
  std::string summary_ja, summary_en, description_ja, description_en;
  std::vector<std::string> receivers;
  std::optional<TimePoint> active_since;  // start of the current episode
  std::optional<TimePoint> firing_since;
  std::optional<TimePoint> resolved_at;
  std::optional<TimePoint> updated_at;
  std::optional<TimePoint> acknowledged_at;  // set by an acknowledgement; cleared when the alert resolves
  std::string acknowledged_by;
  std::string ack_comment;
  // Firing alerts that inhibit this one ([[inhibit]] in the rule files); empty unless it is active.
  std::vector<std::string> inhibited_by;
};

struct Transition {
  AlertRecord alert;  // after the transition
  AlertState from = AlertState::inactive;
  AlertState to = AlertState::inactive;
  TimePoint at{};
};

// What one evaluation changes, planned before it is stored.
struct AlertChanges {
  std::vector<Transition> transitions;
  std::vector<AlertRecord> updated;  // every record whose row changes, transitions included
  bool empty() const { return updated.empty(); }
};

}  // namespace kpiwatch
