// Alerts: GET /api/v1/alerts, /api/v1/alerts/{fingerprint} and
// POST /api/v1/alerts/{fingerprint}/ack.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

json::object alert_json(const AlertRecord& a) {
  json::object labels;
  for (const auto& [k, v] : a.labels) labels[k] = v;
  json::array receivers;
  for (const auto& r : a.receivers) receivers.emplace_back(r);
  json::object o{{"fingerprint", a.fingerprint},
                 {"rule", a.rule_id},
                 {"kpi", a.kpi},
                 {"state", to_string(a.state)},
                 {"severity", to_string(a.severity)},
                 {"labels", std::move(labels)},
                 {"period", a.period},
                 {"summary", json::object{{"ja", a.summary_ja}, {"en", a.summary_en}}},
                 {"description", json::object{{"ja", a.description_ja}, {"en", a.description_en}}},
                 {"receivers", std::move(receivers)},
                 {"active_since", a.active_since},
                 {"updated_at", a.updated_at}};
  o["value"] = a.value ? json::value(*a.value) : json::value(nullptr);
  if (!a.firing_since.empty()) o["firing_since"] = a.firing_since;
  if (!a.resolved_at.empty()) o["resolved_at"] = a.resolved_at;
  if (!a.acknowledged_at.empty())
    o["acknowledged"] = json::object{{"at", a.acknowledged_at}, {"by", a.acknowledged_by}, {"comment", a.ack_comment}};
  return o;
}

json::array history_json(const std::vector<Transition>& history) {
  json::array transitions;
  for (const auto& t : history) {
    json::object e{{"from", to_string(t.from)},
                   {"to", to_string(t.to)},
                   {"at", t.at},
                   {"period", t.alert.period},
                   {"summary", json::object{{"ja", t.alert.summary_ja}, {"en", t.alert.summary_en}}}};
    e["value"] = t.alert.value ? json::value(*t.alert.value) : json::value(nullptr);
    transitions.push_back(std::move(e));
  }
  return transitions;
}

// ?state=&goal=&severity=&rule=&kpi=
Result<AlertFilter> alert_filter(const Catalog& catalog, const QueryParams& params) {
  AlertFilter filter;
  for (const auto& [key, value] : params) {
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
    } else if (key == "kpi") {
      filter.kpi = value;
    } else {
      return bad_parameter(key, fmt::format("unknown parameter \"{}\" (state, goal, severity, rule, kpi)", key));
    }
  }
  return filter;
}

}  // namespace

Response Api::get_alerts(const Call& call) const {
  auto filter = alert_filter(*call.catalog, call.query);
  if (!filter) return error_response(filter.error());
  auto alerts = reader_.alerts(filter.value());
  if (!alerts) return error_response(alerts.error());
  json::array out;
  for (const auto& a : alerts.value()) out.push_back(alert_json(a));
  return json_response(http::status::ok, serialize_json(json::object{{"alerts", std::move(out)}}));
}

Response Api::get_alert(const Call& call) const {
  const std::string& fingerprint = call.segment("fingerprint");
  auto alert = reader_.alert(fingerprint);
  std::optional<std::vector<Silence>> silences;
  if (clock_)
    if (auto active = reader_.silences(format_rfc3339(clock_->now())); active) silences = std::move(active.value());
  if (!alert) return error_response(alert.error());
  if (!alert.value()) return error_response(ErrorCode::unknown_alert, fmt::format("no alert \"{}\"", fingerprint));
  auto history = reader_.alert_history(fingerprint);
  if (!history) return error_response(history.error());
  json::object o = alert_json(*alert.value());
  o["history"] = history_json(history.value());
  json::array silenced_by;
  if (silences)
    for (const auto& s : *silences)
      if (s.matches(alert.value()->labels)) silenced_by.emplace_back(s.id);
  o["silenced_by"] = std::move(silenced_by);
  return json_response(http::status::ok, serialize_json(o));
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
