#include "http/api.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <set>

#include "http/errors.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/log.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

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

// The route template of a path, for request metrics.
std::string route_of(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  static const std::vector<std::pair<std::string, std::string>> prefixes = {
      {"/api/v1/kpis/", "/api/v1/kpis/{id}"},
      {"/api/v1/alerts/", "/api/v1/alerts/{fingerprint}"},
      {"/api/v1/silences/", "/api/v1/silences/{id}"},
      {"/api/v1/outbox/", "/api/v1/outbox/{id}/requeue"}};
  for (const auto& [prefix, route] : prefixes)
    if (path.starts_with(prefix)) {
      if (prefix == "/api/v1/kpis/" && path.ends_with("/series")) return route + "/series";
      if (prefix == "/api/v1/alerts/" && path.ends_with("/ack")) return route + "/ack";
      return route;
    }
  static const std::set<std::string> known = {
      "/healthz",       "/readyz",          "/metrics",       "/api/v1/submissions", "/api/v1/kpis",
      "/api/v1/alerts", "/api/v1/silences", "/api/v1/outbox", "/api/v1/reload"};
  return known.contains(path) ? path : "other";
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
                 {"active_since", format_rfc3339(a.active_since)},
                 {"updated_at", format_rfc3339(a.updated_at)}};
  o["value"] = a.value ? json::value(*a.value) : json::value(nullptr);
  if (a.firing_since) o["firing_since"] = format_rfc3339(a.firing_since);
  if (a.resolved_at) o["resolved_at"] = format_rfc3339(a.resolved_at);
  if (a.acknowledged_at)
    o["acknowledged"] =
        json::object{{"at", format_rfc3339(a.acknowledged_at)}, {"by", a.acknowledged_by}, {"comment", a.ack_comment}};
  return o;
}

Response bad_parameter(const std::string& key, const std::string& message) {
  return error_response(Error{ErrorCode::invalid_parameter, message, key, {}});
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
    auto res = error_response(ErrorCode::unauthorized, std::move(message));
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

void Api::post_reload(const Request& request, const Respond& respond) {
  const TokenConfig* token = authenticate(request, respond);
  if (!token) return;
  if (!token->admin) return respond(error_response(ErrorCode::forbidden, "reloading needs an admin token"));
  if (!reloader_) return respond(error_response(ErrorCode::not_ready, "reload is not available yet"));
  auto diags = reloader_();
  if (diags.empty()) return respond(json_response(http::status::ok, R"({"status":"reloaded"})"));
  json::array errors;
  for (const auto& d : diags) errors.emplace_back(d.str());
  json::object e{
      {"code", to_string(ErrorCode::reload_failed)},
      {"message", fmt::format("the new configuration has {} error(s); the previous one keeps running", diags.size())},
      {"field", ""},
      {"index", nullptr},
      {"diagnostics", std::move(errors)}};
  respond(json_response(http::status::unprocessable_entity, serialize_json(json::object{{"error", std::move(e)}})));
}

void Api::handle(Request&& request, Respond inner_respond) {
  spdlog::debug("request {} {} ({} bytes)", request.method_string(), request.target(), request.body().size());
  auto started = std::chrono::steady_clock::now();
  Respond respond = [inner = std::move(inner_respond), started, method = std::string(request.method_string()),
                     target = std::string(request.target()), metrics = metrics_](Response res) {
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    spdlog::debug("response {} {} {} in {:.1f} ms", res.result_int(), method, target, ms);
    if (metrics)
      metrics->add("kpiwatch_http_requests_total",
                   {{"route", route_of(target)}, {"status", std::to_string(res.result_int())}});
    inner(std::move(res));
  };
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) return respond(error_response(ErrorCode::bad_target, "malformed request target"));
  std::string path = target->encoded_path().decode();
  std::vector<std::pair<std::string, std::string>> query;
  for (auto param : target->params()) query.emplace_back(param.key, param.value);
  auto method = request.method();

  auto only = [&](http::verb allowed, std::string_view allow) -> bool {
    if (method == allowed || (allowed == http::verb::get && method == http::verb::head)) return true;
    auto res = error_response(ErrorCode::method_not_allowed,
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
    if (only(http::verb::post, "POST")) post_reload(request, respond);
    return;
  }
  if (path == "/metrics") {
    if (only(http::verb::get, "GET, HEAD")) respond(get_metrics());
    return;
  }
  if (path == "/api/v1/silences") {
    if (method == http::verb::post) return post_silence(request, std::move(respond));
    if (only(http::verb::get, "GET, HEAD, POST") && admin(request, respond)) respond(get_silences());
    return;
  }
  if (path.starts_with("/api/v1/silences/")) {
    if (only(http::verb::delete_, "DELETE"))
      delete_silence(request, path.substr(std::string_view("/api/v1/silences/").size()), std::move(respond));
    return;
  }
  if (path == "/api/v1/outbox") {
    if (only(http::verb::get, "GET, HEAD") && admin(request, respond)) respond(get_outbox(query));
    return;
  }
  if (path.starts_with("/api/v1/outbox/") && path.ends_with("/requeue")) {
    std::string id = path.substr(15, path.size() - 15 - 8);
    if (only(http::verb::post, "POST")) post_requeue(request, id, std::move(respond));
    return;
  }
  if (path.starts_with("/api/v1/alerts/") && path.ends_with("/ack")) {
    std::string fp = path.substr(15, path.size() - 15 - 4);
    if (only(http::verb::post, "POST")) post_ack(request, fp, std::move(respond));
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
    if (!kpi)
      return respond(
          json_response(http::status::not_found,
                        error_json({ErrorCode::unknown_kpi, fmt::format("unknown KPI \"{}\"", rest), "", {}})));
    if (!only(http::verb::get, "GET, HEAD")) return;
    return respond(series ? get_series(*kpi, query) : get_kpi(*kpi));
  }
  respond(error_response(ErrorCode::not_found, fmt::format("no such resource: {}", path)));
}

void Api::post_submissions(const Request& request, Respond respond) {
  // Held for the whole request, so that a reload does not pull them away.
  auto catalog = catalog_;
  auto auth = auth_;
  const TokenConfig* token = authenticate(request, respond);
  if (!token) return;

  auto content_type = request[http::field::content_type];
  if (!content_type.empty() && content_type.find("json") == std::string_view::npos)
    return respond(error_response(ErrorCode::unsupported_media_type, "submissions must be sent as application/json"));

  auto batch = parse_submissions(*catalog, request.body(), limits_);
  if (!batch) {
    if (metrics_) metrics_->add("kpiwatch_submissions_total", {{"result", "rejected"}});
    return respond(error_response(batch.error()));
  }

  for (std::size_t i = 0; i < batch->size(); ++i) {
    auto& s = (*batch)[i];
    const Kpi* kpi = catalog->find(s.kpi);
    if (!Auth::may_submit(*token, *kpi, s.body)) {
      Error e{ErrorCode::forbidden,
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
                   boost::asio::post(io_, [this, respond, stored = std::move(stored), count]() mutable {
                     if (metrics_)
                       metrics_->add("kpiwatch_submissions_total", {{"result", stored ? "accepted" : "failed"}},
                                     static_cast<double>(count));
                     if (!stored) return respond(error_response(stored.error()));
                     json::array revisions;
                     for (const auto& r : stored.value()) revisions.push_back(to_json(r));
                     respond(json_response(
                         http::status::created,
                         serialize_json(json::object{{"accepted", count}, {"revisions", std::move(revisions)}})));
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
                       serialize_json(json::object{{"goals", std::move(goals)}, {"kpis", std::move(kpis)}}));
}

Response Api::get_kpi(const Kpi& kpi) const { return json_response(http::status::ok, serialize_json(kpi_json(kpi))); }

Response Api::get_series(const Kpi& kpi, const QueryParams& params) {
  SeriesQuery query;
  query.kpi = kpi.id;
  for (const auto& [key, value] : params) {
    if (key == "revisions") {
      if (value != "true" && value != "false") return bad_parameter("revisions", "\"revisions\" must be true or false");
      query.revisions = value == "true";
    } else if (key.starts_with("dims.")) {
      std::string name = key.substr(5);
      const Dimension* dim = kpi.dimension(name);
      if (!dim || !dim->allows(value))
        return bad_parameter(key, fmt::format("KPI \"{}\" has no dimension value {}={}", kpi.id, name, value));
      query.dims[name] = value;
    } else {
      return bad_parameter(key, fmt::format("unknown parameter \"{}\" (revisions, dims.NAME)", key));
    }
  }
  auto rows = reader_.revisions().series(query);
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
  json::object out{{"kpi", kpi.id},
                   {"unit", to_string(kpi.unit)},
                   {"period", to_string(kpi.period)},
                   {"revisions", query.revisions},
                   {"series", std::move(series)}};
  return json_response(http::status::ok, serialize_json(out));
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
      int goal = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), goal);
      if (ec != std::errc{} || end != value.data() + value.size() || !catalog_->goal(goal))
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
  auto alerts = reader_.alerts().list(filter);
  if (!alerts) return error_response(alerts.error());
  json::array out;
  for (const auto& a : alerts.value()) out.push_back(alert_json(a));
  return json_response(http::status::ok, serialize_json(json::object{{"alerts", std::move(out)}}));
}

Response Api::get_alert(const std::string& fingerprint) {
  auto alert = reader_.alerts().one(fingerprint);
  std::optional<std::vector<Silence>> silences;
  if (clock_)
    if (auto active = reader_.silences().active_at(format_rfc3339(clock_->now())); active)
      silences = std::move(active.value());
  if (!alert) return error_response(alert.error());
  if (!alert.value()) return error_response(ErrorCode::unknown_alert, fmt::format("no alert \"{}\"", fingerprint));
  auto history = reader_.alerts().history(fingerprint);
  if (!history) return error_response(history.error());
  json::object o = alert_json(*alert.value());
  json::array transitions;
  for (const auto& t : history.value()) {
    json::object e{{"from", to_string(t.from)},
                   {"to", to_string(t.to)},
                   {"at", format_rfc3339(t.at)},
                   {"period", t.alert.period},
                   {"summary", json::object{{"ja", t.alert.summary_ja}, {"en", t.alert.summary_en}}}};
    e["value"] = t.alert.value ? json::value(*t.alert.value) : json::value(nullptr);
    transitions.push_back(std::move(e));
  }
  o["history"] = std::move(transitions);
  json::array silenced_by;
  if (silences)
    for (const auto& s : *silences)
      if (s.matches(alert.value()->labels)) silenced_by.emplace_back(s.id);
  o["silenced_by"] = std::move(silenced_by);
  return json_response(http::status::ok, serialize_json(o));
}

}  // namespace kpiwatch

namespace kpiwatch {

void Api::write(std::function<Response(Store&)> job, Respond respond) {
  ingest_.post([this, job = std::move(job), respond = std::move(respond)](Store& store) mutable {
    auto response = std::make_shared<Response>(job(store));
    boost::asio::post(io_, [respond = std::move(respond), response] { respond(std::move(*response)); });
  });
}

const TokenConfig* Api::admin(const Request& request, const Respond& respond) const {
  const TokenConfig* token = authenticate(request, respond);
  if (token && !token->admin) {
    respond(error_response(ErrorCode::forbidden, "this needs an admin token"));
    return nullptr;
  }
  return token;
}

namespace {

Result<std::int64_t> parse_id(const std::string& text) {
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || p != text.data() + text.size() || id <= 0)
    return Error{ErrorCode::not_found, fmt::format("no such id \"{}\"", text), "", {}};
  return id;
}

json::object silence_json(const Silence& s) {
  json::object matchers;
  for (const auto& [k, v] : s.matchers) matchers[k] = v;
  return json::object{{"id", s.id},
                      {"matchers", std::move(matchers)},
                      {"starts_at", s.starts_at},
                      {"ends_at", s.ends_at},
                      {"created_by", s.created_by},
                      {"comment", s.comment},
                      {"created_at", s.created_at}};
}

}  // namespace

void Api::post_silence(const Request& request, Respond respond) {
  const TokenConfig* token = admin(request, respond);
  if (!token) return;
  auto fail = [&](std::string field, std::string message) {
    respond(error_response(Error{ErrorCode::invalid_silence, std::move(message), std::move(field), {}}));
  };
  boost::system::error_code ec;
  auto body = json::parse(request.body(), ec);
  if (ec || !body.is_object()) return fail("", "a silence is a JSON object: {\"matchers\": {...}, \"ends_at\": ...}");
  const auto& o = body.get_object();
  for (const auto& member : o)
    if (member.key() != "matchers" && member.key() != "starts_at" && member.key() != "ends_at" &&
        member.key() != "comment")
      return fail(std::string(member.key()), fmt::format("unknown field \"{}\" (matchers, starts_at, ends_at, comment)",
                                                         std::string_view(member.key())));
  Silence silence;
  const auto* matchers = o.if_contains("matchers");
  if (!matchers || !matchers->is_object() || matchers->get_object().empty())
    return fail("matchers", "\"matchers\" must be a non-empty object of label = value");
  for (const auto& [k, v] : matchers->get_object()) {
    if (!v.is_string()) return fail("matchers." + std::string(k), "matcher values must be strings");
    silence.matchers[std::string(k)] = std::string(v.get_string());
  }
  auto now = clock_->now();
  auto time_field = [&](const char* name, std::optional<TimePoint> fallback) -> std::optional<TimePoint> {
    const auto* v = o.if_contains(name);
    if (!v) return fallback;
    if (!v->is_string()) return std::nullopt;
    return parse_rfc3339(v->get_string());
  };
  auto starts = time_field("starts_at", now);
  if (!starts) return fail("starts_at", "\"starts_at\" must be an RFC 3339 UTC time, e.g. 2025-07-01T00:00:00Z");
  auto ends = time_field("ends_at", std::nullopt);
  if (!ends) return fail("ends_at", "\"ends_at\" is required: an RFC 3339 UTC time, e.g. 2025-07-01T00:00:00Z");
  if (*ends <= *starts) return fail("ends_at", "\"ends_at\" must be after \"starts_at\"");
  if (const auto* c = o.if_contains("comment"); c && c->is_string()) silence.comment = std::string(c->get_string());
  silence.starts_at = format_rfc3339(*starts);
  silence.ends_at = format_rfc3339(*ends);
  silence.created_by = token->name;
  silence.created_at = format_rfc3339(now);
  write(
      [silence](Store& store) {
        auto id = store.silences().add(silence);
        if (!id) return error_response(id.error());
        log_event(LogLevel::info,
                  fmt::format("silence {} created by {} until {}: {}", id.value(), silence.created_by, silence.ends_at,
                              silence.comment),
                  {{"SILENCE", std::to_string(id.value())}});
        return json_response(http::status::created, serialize_json(json::object{{"id", id.value()}}));
      },
      std::move(respond));
}

void Api::delete_silence(const Request& request, const std::string& id_text, Respond respond) {
  const TokenConfig* token = admin(request, respond);
  if (!token) return;
  auto id = parse_id(id_text);
  if (!id) return respond(error_response(ErrorCode::unknown_silence, id.error().message));
  write(
      [id = id.value(), at = format_rfc3339(clock_->now()), by = token->name](Store& store) {
        auto deleted = store.silences().remove(id, at);
        if (!deleted) return error_response(deleted.error());
        if (!deleted.value()) return error_response(ErrorCode::unknown_silence, fmt::format("no silence {}", id));
        log_event(LogLevel::info, fmt::format("silence {} removed by {}", id, by), {{"SILENCE", std::to_string(id)}});
        return json_response(http::status::ok, R"({"status":"deleted"})");
      },
      std::move(respond));
}

Response Api::get_silences() {
  auto silences = reader_.silences().all();
  if (!silences) return error_response(silences.error());
  std::string now = format_rfc3339(clock_->now());
  json::array out;
  for (const auto& s : silences.value())
    if (s.ends_at > now) out.push_back(silence_json(s));
  return json_response(http::status::ok, serialize_json(json::object{{"silences", std::move(out)}}));
}

void Api::post_ack(const Request& request, const std::string& fingerprint, Respond respond) {
  const TokenConfig* token = admin(request, respond);
  if (!token) return;
  std::string comment;
  boost::system::error_code ec;
  if (!request.body().empty()) {
    auto body = json::parse(request.body(), ec);
    if (ec || !body.is_object())
      return respond(error_response(ErrorCode::invalid_ack, "an acknowledgement is {\"comment\": \"...\"}"));
    if (const auto* c = body.get_object().if_contains("comment"); c && c->is_string())
      comment = std::string(c->get_string());
  }
  write(
      [engine = engine_, fingerprint, by = token->name, comment, clock = clock_](Store& store) {
        auto done = engine->acknowledge(store, fingerprint, by, comment, clock->now());
        if (!done) return error_response(done.error());
        if (!done.value())
          return error_response(ErrorCode::unknown_alert,
                                fmt::format("no pending or firing alert \"{}\"", fingerprint));
        return json_response(http::status::ok, R"({"status":"acknowledged"})");
      },
      std::move(respond));
}

Response Api::get_outbox(const QueryParams& params) {
  std::optional<OutboxStatus> status;
  int limit = 100;
  for (const auto& [k, v] : params) {
    if (OutboxStatus parsed{}; k == "state" && parse_outbox_status(v, parsed))
      status = parsed;
    else if (k == "limit" && std::atoi(v.c_str()) > 0)
      limit = std::min(std::atoi(v.c_str()), 10000);
    else
      return bad_parameter(
          k, fmt::format("unknown parameter {}={} (state=pending|delivered|dead|suppressed, limit=N)", k, v));
  }
  auto entries = reader_.outbox().list(status, limit);
  if (!entries) return error_response(entries.error());
  json::array out;
  for (const auto& e : entries.value())
    out.push_back(json::object{{"id", e.id},
                               {"fingerprint", e.fingerprint},
                               {"receiver", e.receiver},
                               {"event", to_string(e.event)},
                               {"state", to_string(e.status)},
                               {"idempotency_key", e.idempotency_key},
                               {"created_at", e.created_at},
                               {"next_attempt_at", e.next_attempt_at},
                               {"attempts", e.attempts},
                               {"last_error", e.last_error},
                               {"delivered_at", e.delivered_at}});
  return json_response(http::status::ok, serialize_json(json::object{{"notifications", std::move(out)}}));
}

void Api::post_requeue(const Request& request, const std::string& id_text, Respond respond) {
  if (!admin(request, respond)) return;
  auto id = parse_id(id_text);
  if (!id) return respond(error_response(ErrorCode::unknown_notification, id.error().message));
  write(
      [this, id = id.value(), at = format_rfc3339(clock_->now())](Store& store) {
        auto n = store.outbox().requeue(id, at);
        if (!n) return error_response(n.error());
        if (n.value() == 0)
          return error_response(ErrorCode::unknown_notification, fmt::format("no dead notification {}", id));
        boost::asio::post(io_, [this] {
          if (delivery_) delivery_->wake();
        });
        return json_response(http::status::ok, R"({"status":"requeued"})");
      },
      std::move(respond));
}

Response Api::get_metrics() {
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

}  // namespace kpiwatch
