// For operators: /healthz, /readyz, /metrics and POST /api/v1/reload.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <map>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

Response Api::get_healthz(const Call& /*call*/) const { return json_response(http::status::ok, R"({"status":"ok"})"); }

Response Api::get_readyz(const Call& /*call*/) const {
  if (ready_) return json_response(http::status::ok, R"({"status":"ready"})");
  return json_response(http::status::service_unavailable, R"({"status":"not ready"})");
}

Response Api::get_metrics(const Call& /*call*/) const {
  if (!metrics_) return error_response(ErrorCode::not_ready, "metrics are not ready");
  std::map<std::string, int> states = {{"pending", 0}, {"firing", 0}, {"resolved", 0}, {"inactive", 0}};
  if (auto alerts = reader_.alerts().list(); alerts)
    for (const auto& a : alerts.value()) ++states[std::string(to_string(a.state))];
  for (const auto& [state, n] : states) metrics_->set("kpiwatch_alerts", {{"state", state}}, n);
  if (auto depth = reader_.outbox().depth(); depth) {
    metrics_->set("kpiwatch_outbox_depth", {}, static_cast<double>(depth->pending));
    double age = 0;
    if (auto oldest = parse_rfc3339(depth->oldest))
      age = std::chrono::duration<double>(clock_->now() - *oldest).count();
    metrics_->set("kpiwatch_outbox_oldest_age_seconds", {}, age);
  }
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = metrics_->render();
  return res;
}

Response Api::post_reload(const Call& /*call*/) const {
  if (!reloader_) return error_response(ErrorCode::not_ready, "reload is not available yet");
  auto diags = reloader_();
  if (diags.empty()) return json_response(http::status::ok, R"({"status":"reloaded"})");
  json::array errors;
  for (const auto& d : diags) errors.emplace_back(d.str());
  json::object e{
      {"code", to_string(ErrorCode::reload_failed)},
      {"message", fmt::format("the new configuration has {} error(s); the previous one keeps running", diags.size())},
      {"field", ""},
      {"index", nullptr},
      {"diagnostics", std::move(errors)}};
  return json_response(http::status::unprocessable_entity, serialize_json(json::object{{"error", std::move(e)}}));
}

}  // namespace kpiwatch
