// Alerts: current state per fingerprint, and every transition.
#include <boost/json.hpp>

#include "kpiwatch/json.hpp"
#include "kpiwatch/store.hpp"
#include "statement.hpp"

namespace kpiwatch {
namespace json = boost::json;
using sql::db_error;
using sql::ResetGuard;
using sql::Stmt;

namespace {

std::string labels_json(const Labels& labels) {
  json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return serialize_json(o);
}

Labels parse_labels(const std::string& text) {
  Labels out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (!ec && v.is_object())
    for (const auto& [k, val] : v.get_object())
      if (val.is_string()) out[std::string(k)] = std::string(val.get_string());
  return out;
}

std::string strings_json(const std::vector<std::string>& strings) {
  json::array a;
  for (const auto& s : strings) a.emplace_back(s);
  return serialize_json(a);
}

std::vector<std::string> parse_strings(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (!ec && v.is_array())
    for (const auto& s : v.get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

int goal_of(const std::string& kpi) { return kpi.size() > 3 ? std::atoi(kpi.substr(1, 2).c_str()) : 0; }

constexpr const char* kAlertColumns =
    "fingerprint, grp, rule_id, kpi, labels, severity, state, period, value, summary_ja, summary_en, "
    "description_ja, description_en, receivers, active_since, firing_since, resolved_at, updated_at, "
    "acknowledged_at, acknowledged_by, ack_comment";

AlertRecord read_alert(Stmt& s) {
  AlertRecord r;
  r.fingerprint = s.text(0);
  r.group = s.text(1);
  r.rule_id = s.text(2);
  r.kpi = s.text(3);
  r.labels = parse_labels(s.text(4));
  if (!parse_severity(s.text(5), r.severity)) r.severity = Severity::warning;
  parse_alert_state(s.text(6), r.state);
  r.period = s.text(7);
  if (!s.is_null(8)) r.value = s.real(8);
  r.summary_ja = s.text(9);
  r.summary_en = s.text(10);
  r.description_ja = s.text(11);
  r.description_en = s.text(12);
  r.receivers = parse_strings(s.text(13));
  r.active_since = parse_rfc3339(s.text(14));
  r.firing_since = parse_rfc3339(s.text(15));
  r.resolved_at = parse_rfc3339(s.text(16));
  r.updated_at = parse_rfc3339(s.text(17));
  r.acknowledged_at = parse_rfc3339(s.text(18));
  r.acknowledged_by = s.text(19);
  r.ack_comment = s.text(20);
  return r;
}

}  // namespace

Status Store::prepare_alert_statements() {
  auto& st = *alert_stmts_;
  if (auto s = st.upsert.prepare(
          db_,
          "INSERT INTO alerts (fingerprint, grp, rule_id, kpi, goal, labels, severity, state, period, value, "
          "summary_ja, summary_en, description_ja, description_en, receivers, active_since, firing_since, "
          "resolved_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
          "?17, ?18, ?19) ON CONFLICT (fingerprint) DO UPDATE SET grp = excluded.grp, rule_id = excluded.rule_id, "
          "kpi = excluded.kpi, goal = excluded.goal, labels = excluded.labels, severity = excluded.severity, "
          "state = excluded.state, period = excluded.period, value = excluded.value, summary_ja = "
          "excluded.summary_ja, summary_en = excluded.summary_en, description_ja = excluded.description_ja, "
          "description_en = excluded.description_en, receivers = excluded.receivers, active_since = "
          "excluded.active_since, firing_since = excluded.firing_since, resolved_at = excluded.resolved_at, "
          "updated_at = excluded.updated_at, "
          // An acknowledgement lasts for one episode.
          "acknowledged_at = CASE WHEN excluded.state IN ('resolved', 'inactive') THEN '' ELSE acknowledged_at END, "
          "acknowledged_by = CASE WHEN excluded.state IN ('resolved', 'inactive') THEN '' ELSE acknowledged_by END, "
          "ack_comment = CASE WHEN excluded.state IN ('resolved', 'inactive') THEN '' ELSE ack_comment END");
      !s)
    return s;
  return st.insert_transition.prepare(
      db_,
      "INSERT INTO alert_transitions (fingerprint, from_state, to_state, at, period, value, summary_ja, summary_en) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
}

Status Store::save_alert_changes(const AlertChanges& changes) {
  auto& st = *alert_stmts_;
  for (const auto& r : changes.updated) {
    auto& u = st.upsert;
    ResetGuard guard{u};
    std::string labels = labels_json(r.labels), receivers = strings_json(r.receivers);
    u.bind(1, std::string_view(r.fingerprint));
    u.bind(2, std::string_view(r.group));
    u.bind(3, std::string_view(r.rule_id));
    u.bind(4, std::string_view(r.kpi));
    u.bind(5, static_cast<std::int64_t>(goal_of(r.kpi)));
    u.bind(6, std::string_view(labels));
    u.bind(7, to_string(r.severity));
    u.bind(8, to_string(r.state));
    u.bind(9, std::string_view(r.period));
    if (r.value)
      u.bind(10, *r.value);
    else
      u.bind_null(10);
    u.bind(11, std::string_view(r.summary_ja));
    u.bind(12, std::string_view(r.summary_en));
    u.bind(13, std::string_view(r.description_ja));
    u.bind(14, std::string_view(r.description_en));
    u.bind(15, std::string_view(receivers));
    u.bind(16, format_rfc3339(r.active_since));
    u.bind(17, format_rfc3339(r.firing_since));
    u.bind(18, format_rfc3339(r.resolved_at));
    u.bind(19, format_rfc3339(r.updated_at));
    if (u.step() != SQLITE_DONE) return db_error(db_, "save alert");
  }
  for (const auto& t : changes.transitions) {
    auto& i = st.insert_transition;
    ResetGuard guard{i};
    i.bind(1, std::string_view(t.alert.fingerprint));
    i.bind(2, to_string(t.from));
    i.bind(3, to_string(t.to));
    i.bind(4, format_rfc3339(t.at));
    i.bind(5, std::string_view(t.alert.period));
    if (t.alert.value)
      i.bind(6, *t.alert.value);
    else
      i.bind_null(6);
    i.bind(7, std::string_view(t.alert.summary_ja));
    i.bind(8, std::string_view(t.alert.summary_en));
    if (i.step() != SQLITE_DONE) return db_error(db_, "save alert transition");
  }
  return ok_status();
}

Result<std::vector<AlertRecord>> Store::alerts(const AlertFilter& filter) {
  std::string query = fmt::format("SELECT {} FROM alerts WHERE 1 = 1", kAlertColumns);
  if (filter.state) query += " AND state = ?1";
  if (filter.goal) query += " AND goal = ?2";
  if (filter.severity) query += " AND severity = ?3";
  if (!filter.rule_id.empty()) query += " AND rule_id = ?4";
  if (!filter.kpi.empty()) query += " AND kpi = ?5";
  query +=
      " ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 WHEN 'resolved' THEN 2 ELSE 3 END, "
      "CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, kpi, fingerprint";
  Stmt s;
  if (auto p = s.prepare(db_, query.c_str()); !p) return p.error();
  if (filter.state) s.bind(1, to_string(*filter.state));
  if (filter.goal) s.bind(2, static_cast<std::int64_t>(*filter.goal));
  if (filter.severity) s.bind(3, to_string(*filter.severity));
  if (!filter.rule_id.empty()) s.bind(4, std::string_view(filter.rule_id));
  if (!filter.kpi.empty()) s.bind(5, std::string_view(filter.kpi));
  std::vector<AlertRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_alert(s));
  if (rc != SQLITE_DONE) return db_error(db_, "read alerts");
  return out;
}

Result<std::optional<AlertRecord>> Store::alert(const std::string& fingerprint) {
  Stmt s;
  if (auto p = s.prepare(db_, fmt::format("SELECT {} FROM alerts WHERE fingerprint = ?1", kAlertColumns).c_str()); !p)
    return p.error();
  s.bind(1, std::string_view(fingerprint));
  int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<AlertRecord>(read_alert(s));
  if (rc != SQLITE_DONE) return db_error(db_, "read alert");
  return std::optional<AlertRecord>();
}

Result<std::vector<Transition>> Store::alert_history(const std::string& fingerprint) {
  Stmt s;
  if (auto p = s.prepare(db_,
                         "SELECT from_state, to_state, at, period, value, summary_ja, summary_en FROM "
                         "alert_transitions WHERE fingerprint = ?1 ORDER BY id");
      !p)
    return p.error();
  s.bind(1, std::string_view(fingerprint));
  std::vector<Transition> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Transition t;
    t.alert.fingerprint = fingerprint;
    parse_alert_state(s.text(0), t.from);
    parse_alert_state(s.text(1), t.to);
    t.at = parse_rfc3339(s.text(2)).value_or(TimePoint{});
    t.alert.period = s.text(3);
    if (!s.is_null(4)) t.alert.value = s.real(4);
    t.alert.summary_ja = s.text(5);
    t.alert.summary_en = s.text(6);
    t.alert.state = t.to;
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "read alert history");
  return out;
}

}  // namespace kpiwatch
