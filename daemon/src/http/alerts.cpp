// Alerts: GET /api/v1/alerts, /api/v1/alerts/groups, /api/v1/alerts/{fingerprint}
// and POST /api/v1/alerts/{fingerprint}/ack.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/views_json.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/notifications.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

struct AlertListQuery {
  views::AlertListQuery list;
  bool nothing = false;  // two values asked of one label
  std::size_t limit = 100;
  std::size_t offset = 0;
  bool by_offset = false;  // ?offset= given: pages by number, with the total
  std::optional<AlertListKey> after;
};

constexpr std::size_t kMaxLimit = 500;
constexpr std::size_t kGroupAlerts = 20;  // alerts shown per group

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
  if (key == "limit" || key == "offset") {
    auto n = count_parameter(key, value, key == "limit" ? 1 : 0, key == "limit" ? kMaxLimit : SIZE_MAX);
    if (!n) return n.error();
    (key == "limit" ? query.limit : query.offset) = n.value();
    query.by_offset = query.by_offset || key == "offset";
    return ok_status();
  }
  if (key == "cursor") {
    query.after = views::parse_alert_cursor(value);
    if (!query.after) return bad_parameter(key, "\"cursor\" must be a next_cursor of this list");
    return ok_status();
  }
  return bad_parameter(key, fmt::format("unknown parameter \"{}\" (state, goal, severity, rule, kpi, label.NAME, "
                                        "silenced, acknowledged, inhibited, limit, cursor, offset)",
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
  if (query.after && query.by_offset) return bad_parameter("cursor", "\"cursor\" and \"offset\" exclude each other");
  return query;
}

json::value next_offset_json(std::optional<std::size_t> next) {
  return next ? json::value(*next) : json::value(nullptr);
}

// Alerts as the notifier groups them: per receiver, by its route's group_by
// (group_of, as the outbox keys them); a route without group_by sends each alert alone.
struct AlertGroup {
  std::string receiver, key;
  std::vector<std::string> group_by;
  Labels labels;
  std::vector<std::size_t> members;  // indexes into the list, in list order
};

// `by`: the ?group_by= a person asked for instead of the routes' (receivers left aside).
std::vector<AlertGroup> group_alerts(const std::vector<views::AlertItem>& items, const NotifyConfig* notify,
                                     const std::optional<Grouping>& by) {
  std::vector<AlertGroup> groups;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const AlertRecord& a = items[i].alert;
    auto routed = notify && !by ? notify->routes_for(a) : std::vector<Routed>{};
    if (routed.empty()) routed.push_back({nullptr, by ? &*by : nullptr});
    for (const auto& r : routed) {
      AlertGroup g;
      g.receiver = r.receiver ? r.receiver->name : std::string();
      if (r.grouped() || (by && r.grouping)) {
        GroupId id = group_of(*r.grouping, a);
        g.key = std::move(id.key);
        g.labels = std::move(id.labels);
        g.group_by = r.grouping->group_by;
      } else {
        g.key = "alert:" + a.fingerprint;
      }
      auto [it, added] = index.try_emplace({g.receiver, g.key}, groups.size());
      if (added) groups.push_back(std::move(g));
      groups[it->second].members.push_back(i);
    }
  }
  return groups;
}

Result<json::object> group_json(Store& store, const Catalog& catalog, std::vector<views::AlertItem>& items,
                                const AlertGroup& g) {
  json::array group_by, alerts;
  for (const auto& name : g.group_by) group_by.emplace_back(name);
  json::object labels;
  for (const auto& [k, v] : g.labels) labels[k] = v;
  for (std::size_t i = 0; i < g.members.size() && i < kGroupAlerts; ++i) {
    auto& item = items[g.members[i]];
    if (auto s = views::fill_inhibitors(store, item); !s) return s.error();
    alerts.push_back(alert_item_json(item, catalog));
  }
  return json::object{{"receiver", g.receiver},          {"key", g.key},
                      {"group_by", std::move(group_by)}, {"labels", std::move(labels)},
                      {"count", g.members.size()},       {"alerts", std::move(alerts)}};
}

}  // namespace

Response Api::get_alerts(const Call& call, Store& store) const {
  auto query = alert_query(*call.catalog, call.query);
  if (!query) return error_response(query.error());
  const auto& q = query.value();
  std::string now = clock_ ? format_rfc3339(clock_->now()) : std::string();
  auto page = views::alert_page(store, q.list, now, {q.nothing ? 0 : q.limit, q.offset, q.after, q.by_offset});
  if (!page) return error_response(page.error());
  json::array out;
  for (const auto& a : page->alerts) out.push_back(alert_item_json(a, *call.catalog));
  json::object body{{"alerts", std::move(out)},
                    {"next_cursor", page->next_cursor ? json::value(*page->next_cursor) : json::value(nullptr)},
                    {"next_offset", next_offset_json(page->next_offset)}};
  if (q.by_offset) body["total"] = page->total;
  return json_response(http::status::ok, serialize_json(body));
}

namespace {

// ?group_by=goal,severity: label names, or empty for one group of all.
std::optional<Grouping> asked_grouping(QueryParams& params) {
  std::optional<Grouping> by;
  for (auto it = params.begin(); it != params.end();) {
    if (it->first != "group_by") {
      ++it;
      continue;
    }
    by.emplace();
    for (std::string_view rest = it->second; !rest.empty();) {
      auto comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      if (!name.empty()) by->group_by.emplace_back(name);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    it = params.erase(it);
  }
  return by;
}

}  // namespace

Response Api::get_alert_groups(const Call& call, Store& store) const {
  QueryParams params = call.query;
  auto by = asked_grouping(params);
  auto query = alert_query(*call.catalog, params);
  if (!query) return error_response(query.error());
  const auto& q = query.value();
  std::string now = clock_ ? format_rfc3339(clock_->now()) : std::string();
  auto items = views::listed_alerts(store, q.list, now);
  if (!items) return error_response(items.error());
  if (q.nothing) items->clear();
  auto notify = engine_ ? engine_->current_notify() : nullptr;
  auto groups = group_alerts(items.value(), notify.get(), by);
  json::array out;
  std::size_t end = std::min(groups.size(), q.offset + std::min(q.limit, groups.size()));
  for (std::size_t i = std::min(q.offset, groups.size()); i < end; ++i) {
    auto g = group_json(store, *call.catalog, items.value(), groups[i]);
    if (!g) return error_response(g.error());
    out.push_back(std::move(g.value()));
  }
  std::optional<std::size_t> next;
  if (end < groups.size()) next = end;
  return json_response(http::status::ok, serialize_json(json::object{{"groups", std::move(out)},
                                                                     {"total", groups.size()},
                                                                     {"next_offset", next_offset_json(next)}}));
}

Response Api::get_alert(const Call& call, Store& store) const {
  const std::string& fingerprint = call.segment("fingerprint");
  std::string now = clock_ ? format_rfc3339(clock_->now()) : std::string();
  auto view = views::alert_view(store, *call.catalog, fingerprint, now);
  if (!view) return error_response(view.error());
  if (!view.value()) return error_response(ErrorCode::unknown_alert, fmt::format("no alert \"{}\"", fingerprint));
  std::optional<RuleCriterion> criterion;
  const Kpi* kpi = call.catalog->find(view.value()->alert.kpi);
  if (auto rules = engine_ ? engine_->current_rules() : nullptr; rules && kpi)
    criterion = rules->criterion(view.value()->alert.rule_id, *kpi);
  return json_response(http::status::ok, serialize_json(alert_view_json(*view.value(), *call.catalog,
                                                                        criterion ? &*criterion : nullptr)));
}

void Api::post_ack(const Call& call, Respond respond) const {
  std::string comment;
  if (!call.request.body().empty()) {
    auto body = parse_json(call.request.body());
    if (!body) return respond(error_response(body.error()));
    if (!body->is_object())
      return respond(error_response(ErrorCode::invalid_ack, "an acknowledgement is {\"comment\": \"...\"}"));
    if (const auto* c = body->get_object().if_contains("comment"); c && c->is_string())
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
