#include "http/routes.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

#include "http/api.hpp"

namespace kpiwatch {

// Every endpoint. Routes of one path list GET before the others, as Allow does.
const std::vector<Route>& Api::routes() {
  using enum Access;
  constexpr auto get = http::verb::get;
  constexpr auto post = http::verb::post;
  static const std::vector<Route> table = {
      {"/healthz", get, open, &Api::get_healthz},
      {"/readyz", get, open, &Api::get_readyz},
      {"/metrics", get, open, &Api::get_metrics},
      {"/", get, open, &Api::get_overview_page},
      {"/goals/{number}", get, open, &Api::get_goal_page},
      {"/alerts", get, open, &Api::get_alerts_page},
      {"/alerts/{fingerprint}", get, open, &Api::get_alert_page},
      {"/assets/{name}", get, open, &Api::get_asset},
      {"/report", get, read, &Api::get_report},
      {"/api/v1/reload", post, admin, &Api::post_reload, "reloading needs an admin token"},
      {"/api/v1/submissions", post, token, &Api::post_submissions},
      {"/api/v1/kpis", get, read, &Api::get_kpis},
      {"/api/v1/kpis/{id}", get, read, &Api::get_kpi},
      {"/api/v1/kpis/{id}/series", get, read, &Api::get_series},
      {"/api/v1/export.csv", get, read, &Api::get_export_csv},
      {"/api/v1/goals", get, read, &Api::get_goals},
      {"/api/v1/goals/{number}", get, read, &Api::get_goal},
      {"/api/v1/alerts", get, read, &Api::get_alerts},
      {"/api/v1/alerts/groups", get, read, &Api::get_alert_groups},
      {"/api/v1/alerts/{fingerprint}", get, read, &Api::get_alert},
      {"/api/v1/alerts/{fingerprint}/ack", post, admin, &Api::post_ack},
      {"/api/v1/overdue", get, read, &Api::get_overdue},
      {"/api/v1/events", get, read, &Api::get_events},
      {"/api/v1/silences", get, admin, &Api::get_silences},
      {"/api/v1/silences", post, admin, &Api::post_silence},
      {"/api/v1/silences/{id}", http::verb::delete_, admin, &Api::delete_silence},
      {"/api/v1/outbox", get, admin, &Api::get_outbox},
      {"/api/v1/outbox/{id}/requeue", post, admin, &Api::post_requeue},
  };
  return table;
}

const std::string& Call::segment(std::string_view name) const {
  for (const auto& [key, value] : segments)
    if (key == name) return value;
  spdlog::critical("a handler asked for {{{}}}, which its route does not name", name);
  std::abort();
}

std::optional<PathSegments> match_pattern(std::string_view pattern, boost::urls::segments_view path) {
  PathSegments named;
  if (pattern == "/") return path.empty() ? std::optional(named) : std::nullopt;
  auto segment = path.begin();
  std::string_view rest = pattern.substr(1);  // after the leading '/'
  while (true) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (segment == path.end()) return std::nullopt;
    std::string value = *segment++;
    if (part.starts_with('{') && part.ends_with('}')) {
      if (value.empty()) return std::nullopt;
      named.emplace_back(part.substr(1, part.size() - 2), std::move(value));
    } else if (part != value) {
      return std::nullopt;
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (segment != path.end()) return std::nullopt;
  return named;
}

namespace {

bool answers(http::verb route, http::verb request) {
  return request == route || (route == http::verb::get && request == http::verb::head);
}

}  // namespace

RouteMatch match_route(const std::vector<Route>& table, boost::urls::segments_view path, http::verb method) {
  RouteMatch found;
  for (const Route& route : table) {
    auto segments = match_pattern(route.pattern, path);
    if (!segments) continue;
    if (found.allow.empty()) found.label = route.pattern;
    // A literal path such as /alerts/groups also matches /alerts/{fingerprint}: each method once.
    std::string method_name =
        route.method == http::verb::get ? "GET, HEAD" : std::string(http::to_string(route.method));
    if (found.allow.find(method_name) == std::string::npos)
      found.allow += (found.allow.empty() ? "" : ", ") + method_name;
    if (!found.route && answers(route.method, method)) {
      found.route = &route;
      found.segments = std::move(*segments);
      found.label = route.pattern;
    }
  }
  return found;
}

Result<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || p != text.data() + text.size() || id <= 0)
    return Error{ErrorCode::not_found, fmt::format("no such id \"{}\"", text), "", {}};
  return id;
}

}  // namespace kpiwatch
