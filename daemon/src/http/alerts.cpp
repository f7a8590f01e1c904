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
  auto alerts = reader_.alerts().list(filter.value());
  if (!alerts) return error_response(alerts.error());
  json::array out;
  for (const auto& a : alerts.value()) out.push_back(alert_json(a));
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
