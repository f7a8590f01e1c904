// Alerts: current state per fingerprint, and every transition.
#include "kpiwatch/alert_repository.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <boost/json.hpp>

#include "kpiwatch/json.hpp"
#include "statement.hpp"

namespace kpiwatch {
namespace json = boost::json;
using sql::Statement;

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

std::int64_t goal_of(const std::string& kpi) { return kpi.size() > 3 ? std::atoi(kpi.substr(1, 2).c_str()) : 0; }

constexpr std::string_view kAlertColumns =
    "fingerprint, grp, rule_id, kpi, labels, severity, state, period, value, summary_ja, summary_en, "
    "description_ja, description_en, receivers, active_since, firing_since, resolved_at, updated_at, "
    "acknowledged_at, acknowledged_by, ack_comment, inhibited_by";

constexpr std::string_view kUpsert =
    "INSERT INTO alerts (fingerprint, grp, rule_id, kpi, goal, labels, severity, state, period, value, "
    "summary_ja, summary_en, description_ja, description_en, receivers, active_since, firing_since, "
    "resolved_at, updated_at, inhibited_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
    "?14, ?15, ?16, ?17, ?18, ?19, ?20) ON CONFLICT (fingerprint) DO UPDATE SET grp = excluded.grp, rule_id = "
    "excluded.rule_id, "
    "kpi = excluded.kpi, goal = excluded.goal, labels = excluded.labels, severity = excluded.severity, "
    "state = excluded.state, period = excluded.period, value = excluded.value, summary_ja = "
    "excluded.summary_ja, summary_en = excluded.summary_en, description_ja = excluded.description_ja, "
    "description_en = excluded.description_en, receivers = excluded.receivers, active_since = "
    "excluded.active_since, firing_since = excluded.firing_since, resolved_at = excluded.resolved_at, "
    "updated_at = excluded.updated_at, inhibited_by = excluded.inhibited_by, "
    // An acknowledgement lasts for one episode.
    "acknowledged_at = CASE WHEN excluded.state IN ('resolved', 'inactive') THEN '' ELSE acknowledged_at END, "
    "acknowledged_by = CASE WHEN excluded.state IN ('resolved', 'inactive') THEN '' ELSE acknowledged_by END, "
    "ack_comment = CASE WHEN excluded.state IN ('resolved', 'inactive') THEN '' ELSE ack_comment END";

constexpr std::string_view kInsertTransition =
    "INSERT INTO alert_transitions (fingerprint, from_state, to_state, at, period, value, summary_ja, summary_en) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

AlertRecord read_alert(Statement& s) {
  AlertRecord r;
  r.fingerprint = s.text(0);
  r.group = s.text(1);
  r.rule_id = s.text(2);
  r.kpi = s.text(3);
  r.labels = parse_labels(s.text(4));
  if (!parse_severity(s.text(5), r.severity)) r.severity = Severity::warning;
  parse_alert_state(s.text(6), r.state);
  r.period = s.text(7);
  r.value = s.optional_real(8);
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
  r.inhibited_by = parse_strings(s.text(21));
  return r;
}

Status save_record(Connection& db, const AlertRecord& r) {
  auto upsert = db.statement(kUpsert);
  if (!upsert) return upsert.error();
  upsert->bind_all(r.fingerprint, r.group, r.rule_id, r.kpi, goal_of(r.kpi), labels_json(r.labels),
                   to_string(r.severity), to_string(r.state), r.period, r.value, r.summary_ja, r.summary_en,
                   r.description_ja, r.description_en, strings_json(r.receivers), format_rfc3339(r.active_since),
                   format_rfc3339(r.firing_since), format_rfc3339(r.resolved_at), format_rfc3339(r.updated_at),
                   strings_json(r.inhibited_by));
  return upsert->run("save alert");
}

Status save_transition(Connection& db, const Transition& t) {
  auto insert = db.statement(kInsertTransition);
  if (!insert) return insert.error();
  insert->bind_all(t.alert.fingerprint, to_string(t.from), to_string(t.to), format_rfc3339(t.at), t.alert.period,
                   t.alert.value, t.alert.summary_ja, t.alert.summary_en);
  return insert->run("save alert transition");
}

// The list order's columns (migration 6), read after kAlertColumns.
constexpr std::array<std::string_view, 6> kListColumns = {"list_state", "list_missing", "list_severity",
                                                          "list_goal",  "kpi",          "fingerprint"};

// The filter's conditions; each keeps its parameter number, so that the SQL
// text (and its cached statement) depends only on which filters are set. The
// state and KPI filters are equalities on the list's indexes (alerts_listed,
// alerts_kpi_listed); `after` compares the other list columns as one row value
// (?6...), which the index reads as a range.
std::string list_sql(const AlertFilter& filter, bool after) {
  std::string columns = fmt::format("{}", fmt::join(kListColumns, ", "));
  std::string sql = fmt::format("SELECT {}, {} FROM alerts WHERE 1 = 1", kAlertColumns, columns);
  if (filter.state) sql += " AND list_state = ?1";
  if (filter.goal) sql += " AND goal = ?2";
  if (filter.severity) sql += " AND severity = ?3";
  if (!filter.rule_id.empty()) sql += " AND rule_id = ?4";
  if (!filter.kpi.empty()) sql += " AND kpi = ?5";
  if (after) {
    std::vector<std::string_view> open;
    for (auto c : kListColumns)
      if (!(c == "list_state" && filter.state) && !(c == "kpi" && !filter.kpi.empty())) open.push_back(c);
    std::vector<std::string> params;
    for (std::size_t i = 0; i < open.size(); ++i) params.push_back(fmt::format("?{}", i + 6));
    sql += fmt::format(" AND ({}) > ({})", fmt::join(open, ", "), fmt::join(params, ", "));
  }
  return sql + " ORDER BY " + columns;
}

}  // namespace

Status AlertRepository::save(const AlertChanges& changes) {
  for (const auto& r : changes.updated)
    if (auto s = save_record(db_, r); !s) return s;
  for (const auto& t : changes.transitions)
    if (auto s = save_transition(db_, t); !s) return s;
  return ok_status();
}

Result<std::vector<AlertRecord>> AlertRepository::list(const AlertFilter& filter) {
  std::vector<AlertRecord> out;
  auto read = each_listed(filter, std::nullopt, [&](AlertRecord& alert, const AlertListKey&) {
    out.push_back(std::move(alert));
    return true;
  });
  if (!read) return read.error();
  return out;
}

Status AlertRepository::each_listed(const AlertFilter& filter, const std::optional<AlertListKey>& after,
                                    const std::function<bool(AlertRecord& alert, const AlertListKey& key)>& visit) {
  auto s = db_.statement(list_sql(filter, after.has_value()));
  if (!s) return s.error();
  if (filter.state) s->bind(1, list_rank(*filter.state));
  if (filter.goal) s->bind(2, *filter.goal);
  if (filter.severity) s->bind(3, to_string(*filter.severity));
  if (!filter.rule_id.empty()) s->bind(4, filter.rule_id);
  if (!filter.kpi.empty()) s->bind(5, filter.kpi);
  if (after) {
    int param = 6;
    if (!filter.state) s->bind(param++, after->state);
    s->bind(param++, after->missing);
    s->bind(param++, after->severity);
    s->bind(param++, after->goal);
    if (filter.kpi.empty()) s->bind(param++, after->kpi);
    s->bind(param, after->fingerprint);
  }
  constexpr int key = 22;  // the first list column, after kAlertColumns
  int rc = 0;
  while ((rc = s->step()) == SQLITE_ROW) {
    AlertRecord alert = read_alert(*s);
    AlertListKey k{static_cast<int>(s->int64(key)),
                   static_cast<int>(s->int64(key + 1)),
                   static_cast<int>(s->int64(key + 2)),
                   s->int64(key + 3),
                   s->text(key + 4),
                   s->text(key + 5)};
    if (!visit(alert, k)) return ok_status();
  }
  if (rc != SQLITE_DONE) return s->error("read alerts");
  return ok_status();
}

Result<std::vector<ActiveAlertCount>> AlertRepository::active_counts(std::optional<int> goal) {
  auto s = db_.statement(fmt::format(
      "SELECT kpi, state, severity, COUNT(*), SUM(CASE WHEN json_extract(labels, '$.criterion') = 'missing_data' "
      "THEN COALESCE(value, 0) ELSE 0 END) FROM alerts WHERE state IN ('pending', 'firing'){} "
      "GROUP BY kpi, state, severity",
      goal ? " AND goal = ?1" : ""));
  if (!s) return s.error();
  if (goal) s->bind(1, *goal);
  std::vector<ActiveAlertCount> out;
  auto read = s->each_row("count active alerts", [&](Statement& row) {
    ActiveAlertCount c;
    c.kpi = row.text(0);
    parse_alert_state(row.text(1), c.state);
    parse_severity(row.text(2), c.severity);
    c.count = static_cast<int>(row.int64(3));
    c.missing = row.optional_real(4).value_or(0);
    out.push_back(std::move(c));
  });
  if (!read) return read.error();
  return out;
}

Result<std::vector<AlertRecord>> AlertRepository::newest_active(std::optional<int> goal, int per_kpi) {
  // Per KPI, down the (kpi, active_since) index until `per_kpi` active ones are found.
  auto kpis = db_.statement("SELECT DISTINCT kpi FROM alerts ORDER BY kpi");
  if (!kpis) return kpis.error();
  std::vector<std::string> ids;
  if (auto read = kpis->each_row("read alert KPIs", [&](Statement& row) { ids.push_back(row.text(0)); }); !read)
    return read.error();
  const std::string sql = fmt::format(
      "SELECT {} FROM alerts WHERE kpi = ?1 AND state IN ('pending', 'firing'){} "
      "ORDER BY active_since DESC, state = 'firing' DESC, fingerprint LIMIT ?3",  // firing first among equals
      kAlertColumns, goal ? " AND goal = ?2" : "");
  std::vector<AlertRecord> out;
  for (const auto& kpi : ids) {
    if (goal && goal_of(kpi) != *goal) continue;
    auto s = db_.statement(sql);  // cached; reset when it goes out of scope
    if (!s) return s.error();
    s->bind(1, kpi);
    if (goal) s->bind(2, *goal);
    s->bind(3, per_kpi);
    if (auto read = s->each_row("read newest alerts", [&](Statement& row) { out.push_back(read_alert(row)); }); !read)
      return read.error();
  }
  return out;
}

Result<std::optional<AlertRecord>> AlertRepository::one(const std::string& fingerprint) {
  auto s = db_.statement(fmt::format("SELECT {} FROM alerts WHERE fingerprint = ?1", kAlertColumns));
  if (!s) return s.error();
  s->bind(1, fingerprint);
  int rc = s->step();
  if (rc == SQLITE_ROW) return std::optional<AlertRecord>(read_alert(*s));
  if (rc != SQLITE_DONE) return s->error("read alert");
  return std::optional<AlertRecord>();
}

Result<std::vector<Transition>> AlertRepository::history(const std::string& fingerprint) {
  auto s = db_.statement(
      "SELECT from_state, to_state, at, period, value, summary_ja, summary_en FROM alert_transitions WHERE "
      "fingerprint = ?1 ORDER BY id");
  if (!s) return s.error();
  s->bind(1, fingerprint);
  std::vector<Transition> out;
  auto read = s->each_row("read alert history", [&](Statement& row) {
    Transition t;
    t.alert.fingerprint = fingerprint;
    parse_alert_state(row.text(0), t.from);
    parse_alert_state(row.text(1), t.to);
    t.at = parse_rfc3339(row.text(2)).value_or(TimePoint{});
    t.alert.period = row.text(3);
    t.alert.value = row.optional_real(4);
    t.alert.summary_ja = row.text(5);
    t.alert.summary_en = row.text(6);
    t.alert.state = t.to;
    out.push_back(std::move(t));
  });
  if (!read) return read.error();
  return out;
}

Result<bool> AlertRepository::acknowledge(const std::string& fingerprint, const std::string& by,
                                          const std::string& comment, const std::string& at) {
  auto s = db_.statement(
      "UPDATE alerts SET acknowledged_at = ?2, acknowledged_by = ?3, ack_comment = ?4 WHERE fingerprint = ?1 AND "
      "state IN ('pending', 'firing')");
  if (!s) return s.error();
  s->bind_all(fingerprint, at, by, comment);
  if (auto done = s->run("acknowledge"); !done) return done.error();
  return db_.changes() > 0;
}

}  // namespace kpiwatch
