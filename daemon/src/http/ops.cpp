// For operators: /healthz, /readyz, /metrics and POST /api/v1/reload.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

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
  // Every gauge is kept by the writer and the delivery worker: a scrape reads no table.
  double age = 0;
  if (double oldest = delivery_ ? delivery_->oldest_waiting() : 0; oldest > 0)
    age = std::max(0.0, std::chrono::duration<double>(clock_->now().time_since_epoch()).count() - oldest);
  metrics_->set("kpiwatch_outbox_oldest_age_seconds", {}, age);
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = metrics_->render();
  return res;
}

namespace {

Response reload_response(const Diagnostics& diags) {
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

}  // namespace

void Api::post_reload(const Call& /*call*/, Respond respond) const {
  if (!reloader_) return respond(error_response(ErrorCode::not_ready, "reload is not available yet"));
  reloader_([respond = std::move(respond)](const Diagnostics& diags) { respond(reload_response(diags)); });
}

}  // namespace kpiwatch
