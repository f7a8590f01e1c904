// Alerts: GET /api/v1/alerts, /api/v1/alerts/{fingerprint} and
// POST /api/v1/alerts/{fingerprint}/ack.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/views_json.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

struct AlertListQuery {
  views::AlertListQuery list;
  bool nothing = false;  // two values asked of one label
};

// ?silenced=, ?acknowledged=, ?inhibited=: true or false.
Status boolean(const std::string& key, const std::string& value, bool& out) {
  if (value != "true" && value != "false") return bad_parameter(key, fmt::format("\"{}\" must be true or false", key));
  out = value == "true";
  return ok_status();
}

// label.NAME=VALUE: every one must match; the same name twice with two values matches nothing.
Status label_matcher(const std::string& key, const std::string& value, AlertListQuery& query) {
  std::string name = key.substr(std::string_view("label.").size());
  if (name.empty()) return bad_parameter(key, "\"label.NAME\" needs a label name, e.g. label.goal=6");
  auto [it, added] = query.list.labels.emplace(name, value);
  if (!added && it->second != value) query.nothing = true;
  return ok_status();
}

Status alert_flag(const std::string& key, const std::string& value, AlertListQuery& query) {
  if (key == "silenced") return boolean(key, value, query.list.silenced);
  if (key == "acknowledged") return boolean(key, value, query.list.acknowledged);
  if (key == "inhibited") return boolean(key, value, query.list.inhibited);
  if (key.starts_with("label.")) return label_matcher(key, value, query);
  return bad_parameter(key, fmt::format("unknown parameter \"{}\" (state, goal, severity, rule, kpi, label.NAME, "
                                        "silenced, acknowledged, inhibited)",
                                        key));
}

// ?state=&goal=&severity=&rule=&kpi=, and alert_flag's.
Status alert_filter(const Catalog& catalog, const std::string& key, const std::string& value, AlertFilter& filter) {
  if (key == "state") {
    AlertState state{};
    if (!parse_alert_state(value, state))
      return bad_parameter(key, "\"state\" must be inactive, pending, firing or resolved");
    filter.state = state;
  } else if (key == "goal") {
    int goal = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), goal);
    if (ec != std::errc{} || end != value.data() + value.size() || !catalog.goal(goal))
      return bad_parameter(key, fmt::format("no goal \"{}\"", value));
    filter.goal = goal;
  } else if (key == "severity") {
    Severity severity{};
    if (!parse_severity(value, severity)) return bad_parameter(key, "\"severity\" must be info, warning or critical");
    filter.severity = severity;
  } else if (key == "rule") {
    filter.rule_id = value;
  } else {
    filter.kpi = value;
  }
  return ok_status();
}

Result<AlertListQuery> alert_query(const Catalog& catalog, const QueryParams& params) {
  AlertListQuery query;
  for (const auto& [key, value] : params) {
    bool filter = key == "state" || key == "goal" || key == "severity" || key == "rule" || key == "kpi";
    Status s = filter ? alert_filter(catalog, key, value, query.list.filter) : alert_flag(key, value, query);
    if (!s) return s.error();
  }
  return query;
}

}  // namespace

Response Api::get_alerts(const Call& call) const {
  auto query = alert_query(*call.catalog, call.query);
  if (!query) return error_response(query.error());
  std::string now = clock_ ? format_rfc3339(clock_->now()) : std::string();
  auto alerts = views::alert_list(reader_, query.value().list, now);
  if (!alerts) return error_response(alerts.error());
  json::array out;
  if (!query.value().nothing)
    for (const auto& a : alerts.value()) out.push_back(alert_item_json(a));
  return json_response(http::status::ok, serialize_json(json::object{{"alerts", std::move(out)}}));
}

Response Api::get_alert(const Call& call) const {
  const std::string& fingerprint = call.segment("fingerprint");
  std::string now = clock_ ? format_rfc3339(clock_->now()) : std::string();
  auto view = views::alert_view(reader_, *call.catalog, fingerprint, now);
  if (!view) return error_response(view.error());
  if (!view.value()) return error_response(ErrorCode::unknown_alert, fmt::format("no alert \"{}\"", fingerprint));
  return json_response(http::status::ok, serialize_json(alert_view_json(*view.value())));
}

void Api::post_ack(const Call& call, Respond respond) const {
  std::string comment;
  boost::system::error_code ec;
  if (!call.request.body().empty()) {
    auto body = json::parse(call.request.body(), ec);
    if (ec || !body.is_object())
      return respond(error_response(ErrorCode::invalid_ack, "an acknowledgement is {\"comment\": \"...\"}"));
    if (const auto* c = body.get_object().if_contains("comment"); c && c->is_string())
      comment = std::string(c->get_string());
  }
  write(
      [engine = engine_, fingerprint = call.segment("fingerprint"), by = call.token->name, comment,
       clock = clock_](Store& store) {
        auto done = engine->acknowledge(store, fingerprint, by, comment, clock->now());
        if (!done) return error_response(done.error());
        if (!done.value())
          return error_response(ErrorCode::unknown_alert,
                                fmt::format("no pending or firing alert \"{}\"", fingerprint));
        return json_response(http::status::ok, R"({"status":"acknowledged"})");
      },
      std::move(respond));
}

}  // namespace kpiwatch
