#pragma once
// Log events with structured fields, for alerts and rule evaluation.
//
// Under systemd (stderr connected to the journal) an event is one journal
// entry with its PRIORITY= and one field per LogField, so that
//   journalctl -u kpiwatch RULE=g06.stage_up_low
// finds it. Elsewhere it is one readable line on stderr, fields last:
//   2025-06-01T09:00:00.000+0900 warning alert firing rule=g06.stage_up_low kpi=g06.stage_up_rate
// The sink is chosen once, by init_logging() at start-up.

#include <initializer_list>
#include <span>
#include <string_view>

namespace kpiwatch {

enum class LogLevel { trace, debug, info, warn, error, critical };

// Field names the daemon uses; others are allowed.
inline constexpr std::string_view kFieldRule = "RULE";                // a rule id
inline constexpr std::string_view kFieldKpi = "KPI";                  // a KPI id, e.g. g06.stage_up_rate
inline constexpr std::string_view kFieldFingerprint = "FINGERPRINT";  // an alert's fingerprint
inline constexpr std::string_view kFieldReceiver = "RECEIVER";        // a webhook receiver's name

// One structured field. `name` is made a valid journal field name: upper-cased,
// characters other than A-Z, 0-9 and _ become _, no leading _ or digit.
struct LogField {
  std::string_view name;
  std::string_view value;
};

// Logs `message` with `fields` at `level`, if the logger's level lets it through.
void log_event(LogLevel level, std::string_view message, std::span<const LogField> fields);
void log_event(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

// True if stderr is connected to the journal: $JOURNAL_STREAM holds the
// "device:inode" of stderr, as systemd sets it (systemd.exec(5)).
bool stderr_is_journal();

}  // namespace kpiwatch
