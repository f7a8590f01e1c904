#include "kpiwatch/api.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <spdlog/spdlog.h>

namespace kpiwatch {
namespace json = boost::json;

http::status status_for(const Error& error) {
  if (error.code == "invalid_json") return http::status::bad_request;
  if (error.code == "batch_too_large" || error.code == "body_too_large") return http::status::payload_too_large;
  if (error.code == "unauthorized") return http::status::unauthorized;
  if (error.code == "forbidden") return http::status::forbidden;
  if (error.code == "not_found") return http::status::not_found;
  if (error.code == "shutting_down") return http::status::service_unavailable;
  if (error.code == "storage_error") return http::status::internal_server_error;
  return http::status::unprocessable_entity;
}

std::string error_json(const Error& error) {
  json::object e{{"code", error.code}, {"message", error.message}, {"field", error.field}};
  e["index"] = error.index ? json::value(*error.index) : json::value(nullptr);
  return json::serialize(json::object{{"error", std::move(e)}});
}

namespace {

Response error_response(const Error& error) { return json_response(status_for(error), error_json(error)); }

Response error_response(http::status status, std::string code, std::string message) {
  return json_response(status, error_json(Error{std::move(code), std::move(message), "", {}}));
}

json::object kpi_json(const Kpi& k) {
  json::object o{{"id", k.id},
                 {"goal", k.goal},
                 {"name_ja", k.name_ja},
                 {"name_en", k.name_en},
                 {"unit", to_string(k.unit)},
                 {"period", to_string(k.period)}};
  if (!k.description_en.empty()) o["description_en"] = k.description_en;
  if (!k.description_ja.empty()) o["description_ja"] = k.description_ja;
  json::array bodies;
  for (const auto& b : k.bodies) bodies.emplace_back(b);
  o["bodies"] = std::move(bodies);
  if (k.min) o["min"] = *k.min;
  if (k.max) o["max"] = *k.max;
  json::object dims;
  for (const auto& d : k.dims) {
    json::array values;
    for (const auto& v : d.values) values.emplace_back(v);
    json::object dim{{"values", std::move(values)}};
    if (d.default_value) dim["default"] = *d.default_value;
    dims[d.name] = std::move(dim);
  }
  o["dims"] = std::move(dims);
  return o;
}

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
  return o;
}

Response bad_parameter(const std::string& key, const std::string& message) {
  return json_response(http::status::bad_request, error_json({"invalid_parameter", message, key, {}}));
}

}  // namespace

Api::Api(boost::asio::io_context& io, std::shared_ptr<const Catalog> catalog, Store& reader, Ingest& ingest,
         std::shared_ptr<const Auth> auth, ValidationLimits limits)
    : io_(io),
      catalog_(std::move(catalog)),
      reader_(reader),
      ingest_(ingest),
      auth_(std::move(auth)),
      limits_(limits) {}

void Api::swap(std::shared_ptr<const Catalog> catalog, std::shared_ptr<const Auth> auth, ValidationLimits limits) {
  catalog_ = std::move(catalog);
  auth_ = std::move(auth);
  limits_ = limits;
}

const TokenConfig* Api::authenticate(const Request& request, const Respond& respond) const {
  auto unauthorized = [&](std::string message) {
    auto res = error_response(http::status::unauthorized, "unauthorized", std::move(message));
    res.set(http::field::www_authenticate, R"(Bearer realm="kpiwatch")");
    respond(std::move(res));
  };
  auto header = request[http::field::authorization];
  if (header.empty()) {
    unauthorized("writes need an \"Authorization: Bearer <token>\" header");
    return nullptr;
  }
  const TokenConfig* token = auth_->authenticate(header);
  if (!token) unauthorized("the bearer token is not valid");
  return token;
}

void Api::post_reload(const Request& request, Respond respond) {
  const TokenConfig* token = authenticate(request, respond);
  if (!token) return;
  if (!token->admin)
    return respond(error_response(http::status::forbidden, "forbidden", "reloading needs an admin token"));
  if (!reloader_)
    return respond(error_response(http::status::service_unavailable, "not_ready", "reload is not available yet"));
  auto diags = reloader_();
  if (diags.empty()) return respond(json_response(http::status::ok, R"({"status":"reloaded"})"));
  json::array errors;
  for (const auto& d : diags) errors.emplace_back(d.str());
  json::object e{{"code", "reload_failed"},
                 {"message", fmt::format("the new configuration has {} error(s); the previous one keeps running",
                                         diags.size())},
                 {"field", ""},
                 {"index", nullptr},
                 {"diagnostics", std::move(errors)}};
  respond(json_response(http::status::unprocessable_entity, json::serialize(json::object{{"error", std::move(e)}})));
}

void Api::handle(Request&& request, Respond inner_respond) {
  spdlog::debug("request {} {} ({} bytes)", request.method_string(), request.target(), request.body().size());
  auto started = std::chrono::steady_clock::now();
  Respond respond = [inner = std::move(inner_respond), started, method = std::string(request.method_string()),
                     target = std::string(request.target())](Response res) {
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    spdlog::debug("response {} {} {} in {:.1f} ms", res.result_int(), method, target, ms);
    inner(std::move(res));
  };
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) return respond(error_response(http::status::bad_request, "bad_target", "malformed request target"));
  std::string path = target->encoded_path().decode();
  std::vector<std::pair<std::string, std::string>> query;
  for (auto param : target->params()) query.emplace_back(param.key, param.value);
  auto method = request.method();

  auto only = [&](http::verb allowed, std::string_view allow) -> bool {
    if (method == allowed || (allowed == http::verb::get && method == http::verb::head)) return true;
    auto res = error_response(http::status::method_not_allowed, "method_not_allowed",
                              fmt::format("{} is not allowed on {}", request.method_string(), path));
    res.set(http::field::allow, allow);
    respond(std::move(res));
    return false;
  };

  if (path == "/healthz") {
    if (only(http::verb::get, "GET, HEAD")) respond(json_response(http::status::ok, R"({"status":"ok"})"));
    return;
  }
  if (path == "/readyz") {
    if (!only(http::verb::get, "GET, HEAD")) return;
    if (ready_)
      respond(json_response(http::status::ok, R"({"status":"ready"})"));
    else
      respond(json_response(http::status::service_unavailable, R"({"status":"not ready"})"));
    return;
  }
  if (path == "/api/v1/submissions") {
    if (only(http::verb::post, "POST")) post_submissions(request, std::move(respond));
    return;
  }
  if (path == "/api/v1/reload") {
    if (only(http::verb::post, "POST")) post_reload(request, std::move(respond));
    return;
  }
  if (path == "/api/v1/alerts") {
    if (only(http::verb::get, "GET, HEAD")) respond(get_alerts(query));
    return;
  }
  if (path.starts_with("/api/v1/alerts/")) {
    if (only(http::verb::get, "GET, HEAD")) respond(get_alert(path.substr(std::string_view("/api/v1/alerts/").size())));
    return;
  }
  if (path == "/api/v1/kpis") {
    if (only(http::verb::get, "GET, HEAD")) respond(get_kpis());
    return;
  }
  constexpr std::string_view kpis_prefix = "/api/v1/kpis/";
  if (path.starts_with(kpis_prefix)) {
    std::string_view rest = std::string_view(path).substr(kpis_prefix.size());
    bool series = false;
    if (rest.ends_with("/series")) {
      rest.remove_suffix(std::string_view("/series").size());
      series = true;
    }
    const Kpi* kpi = catalog_->find(rest);
    if (!kpi) return respond(error_response(http::status::not_found, "unknown_kpi", fmt::format("unknown KPI \"{}\"", rest)));
    if (!only(http::verb::get, "GET, HEAD")) return;
    return respond(series ? get_series(*kpi, query) : get_kpi(*kpi));
  }
  respond(error_response(http::status::not_found, "not_found", fmt::format("no such resource: {}", path)));
}

void Api::post_submissions(const Request& request, Respond respond) {
  // Held for the whole request, so that a reload does not pull them away.
  auto catalog = catalog_;
  auto auth = auth_;
  const TokenConfig* token = authenticate(request, respond);
  if (!token) return;

  auto content_type = request[http::field::content_type];
  if (!content_type.empty() && content_type.find("json") == std::string_view::npos)
    return respond(error_response(http::status::unsupported_media_type, "unsupported_media_type",
                                  "submissions must be sent as application/json"));

  auto batch = parse_submissions(*catalog, request.body(), limits_);
  if (!batch) return respond(error_response(batch.error()));

  for (std::size_t i = 0; i < batch->size(); ++i) {
    auto& s = (*batch)[i];
    const Kpi* kpi = catalog->find(s.kpi);
    if (!Auth::may_submit(*token, *kpi, s.body)) {
      Error e{"forbidden",
              fmt::format("token \"{}\" may not submit KPI \"{}\"{}", token->name, s.kpi,
                          s.body.empty() ? "" : fmt::format(" for reporting body \"{}\"", s.body)),
              "kpi", batch->size() > 1 ? std::optional<std::size_t>(i) : std::nullopt};
      return respond(error_response(e));
    }
    // A token of one reporting body speaks for it.
    if (s.body.empty() && !token->admin && token->bodies.size() == 1 && kpi->submittable_by(token->bodies[0]))
      s.body = token->bodies[0];
  }

  auto count = batch->size();
  ingest_.submit(std::move(batch.value()), token->name,
                 [this, respond = std::move(respond), count](Result<std::vector<Revision>> stored) {
                   boost::asio::post(io_, [respond, stored = std::move(stored), count]() mutable {
                     if (!stored) return respond(error_response(stored.error()));
                     json::array revisions;
                     for (const auto& r : stored.value()) revisions.push_back(to_json(r));
                     respond(json_response(http::status::created,
                                           json::serialize(json::object{{"accepted", count},
                                                                        {"revisions", std::move(revisions)}})));
                   });
                 });
}

Response Api::get_kpis() const {
  json::array goals;
  for (const auto& g : catalog_->goals()) {
    json::array bodies;
    for (const auto& b : g.bodies) bodies.emplace_back(b);
    goals.push_back(json::object{
        {"number", g.number}, {"name_ja", g.name_ja}, {"name_en", g.name_en}, {"bodies", std::move(bodies)}});
  }
  json::array kpis;
  for (const auto& k : catalog_->kpis()) kpis.push_back(kpi_json(k));
  return json_response(http::status::ok,
                       json::serialize(json::object{{"goals", std::move(goals)}, {"kpis", std::move(kpis)}}));
}

Response Api::get_kpi(const Kpi& kpi) const { return json_response(http::status::ok, json::serialize(kpi_json(kpi))); }

Response Api::get_series(const Kpi& kpi, const QueryParams& params) {
  SeriesQuery query;
  query.kpi = kpi.id;
  for (const auto& [key, value] : params) {
    if (key == "revisions") {
      if (value != "true" && value != "false")
        return json_response(http::status::bad_request,
                             error_json({"invalid_parameter", "\"revisions\" must be true or false", "revisions", {}}));
      query.revisions = value == "true";
    } else if (key.starts_with("dims.")) {
      std::string name = key.substr(5);
      const Dimension* dim = kpi.dimension(name);
      if (!dim || !dim->allows(value))
        return json_response(http::status::bad_request,
                             error_json({"invalid_parameter",
                                         fmt::format("KPI \"{}\" has no dimension value {}={}", kpi.id, name, value),
                                         key,
                                         {}}));
      query.dims[name] = value;
    } else {
      return json_response(http::status::bad_request,
                           error_json({"invalid_parameter",
                                       fmt::format("unknown parameter \"{}\" (revisions, dims.NAME)", key), key, {}}));
    }
  }
  auto rows = reader_.series(query);
  if (!rows) return error_response(rows.error());

  json::array series;
  std::string current_key;
  json::array* points = nullptr;
  for (const auto& r : rows.value()) {
    std::string key = dims_key(r.submission.dims);
    if (!points || key != current_key) {
      json::object dims;
      for (const auto& [k, v] : r.submission.dims) dims[k] = v;
      series.push_back(json::object{{"dims", std::move(dims)}, {"points", json::array{}}});
      points = &series.back().as_object()["points"].as_array();
      current_key = key;
    }
    points->push_back(to_json(r, false));
  }
  json::object out{{"kpi", kpi.id}, {"unit", to_string(kpi.unit)}, {"period", to_string(kpi.period)},
                   {"revisions", query.revisions}, {"series", std::move(series)}};
  return json_response(http::status::ok, json::serialize(out));
}

}  // namespace kpiwatch

namespace kpiwatch {

Response Api::get_alerts(const QueryParams& params) {
  AlertFilter filter;
  for (const auto& [key, value] : params) {
    if (key == "state") {
      AlertState state{};
      if (!parse_alert_state(value, state))
        return bad_parameter(key, "\"state\" must be inactive, pending, firing or resolved");
      filter.state = state;
    } else if (key == "goal") {
      int goal = std::atoi(value.c_str());
      if (!catalog_->goal(goal)) return bad_parameter(key, fmt::format("no goal \"{}\"", value));
      filter.goal = goal;
    } else if (key == "severity") {
      if (value == "info") filter.severity = Severity::info;
      else if (value == "warning") filter.severity = Severity::warning;
      else if (value == "critical") filter.severity = Severity::critical;
      else return bad_parameter(key, "\"severity\" must be info, warning or critical");
    } else if (key == "rule") {
      filter.rule_id = value;
    } else if (key == "kpi") {
      filter.kpi = value;
    } else {
      return bad_parameter(key, fmt::format("unknown parameter \"{}\" (state, goal, severity, rule, kpi)", key));
    }
  }
  auto alerts = reader_.alerts(filter);
  if (!alerts) return error_response(alerts.error());
  json::array out;
  for (const auto& a : alerts.value()) out.push_back(alert_json(a));
  return json_response(http::status::ok, json::serialize(json::object{{"alerts", std::move(out)}}));
}

Response Api::get_alert(const std::string& fingerprint) {
  auto alert = reader_.alert(fingerprint);
  if (!alert) return error_response(alert.error());
  if (!alert.value())
    return error_response(http::status::not_found, "unknown_alert", fmt::format("no alert \"{}\"", fingerprint));
  auto history = reader_.alert_history(fingerprint);
  if (!history) return error_response(history.error());
  json::object o = alert_json(*alert.value());
  json::array transitions;
  for (const auto& t : history.value()) {
    json::object e{{"from", to_string(t.from)}, {"to", to_string(t.to)}, {"at", t.at}, {"period", t.alert.period},
                   {"summary", json::object{{"ja", t.alert.summary_ja}, {"en", t.alert.summary_en}}}};
    e["value"] = t.alert.value ? json::value(*t.alert.value) : json::value(nullptr);
    transitions.push_back(std::move(e));
  }
  o["history"] = std::move(transitions);
  return json_response(http::status::ok, json::serialize(o));
}

}  // namespace kpiwatch
