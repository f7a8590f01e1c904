#include "kpiwatch/notifications.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "kpiwatch/digest.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;
namespace {

json::object labels_json(const AlertRecord& a) {
  json::object o{{"alertname", a.rule_id}};
  for (const auto& [k, v] : a.labels) o[k] = v;
  return o;
}

json::object annotations_json(const AlertRecord& a) {
  json::object o{{"summary", a.summary_en},
                 {"summary_en", a.summary_en},
                 {"summary_ja", a.summary_ja},
                 {"title", a.rule_id},
                 {"period", a.period}};
  if (!a.description_en.empty()) o["description"] = a.description_en;
  if (!a.description_en.empty()) o["description_en"] = a.description_en;
  if (!a.description_ja.empty()) o["description_ja"] = a.description_ja;
  if (a.value) o["value"] = shortest_decimal(*a.value);
  return o;
}

std::string generator_url(const std::string& external_url, const AlertRecord& a) {
  return external_url + "/api/v1/alerts/" + a.fingerprint;
}

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

json::object alert_object(const AlertRecord& a, bool resolved, const std::string& external_url) {
  return {{"status", resolved ? "resolved" : "firing"},
          {"labels", labels_json(a)},
          {"annotations", annotations_json(a)},
          {"startsAt", format_rfc3339(a.firing_since ? a.firing_since : a.active_since)},
          {"endsAt", resolved ? format_rfc3339(a.resolved_at) : std::string(kZeroTime)},
          {"generatorURL", generator_url(external_url, a)},
          {"fingerprint", a.fingerprint}};
}

std::string alertmanager_webhook(const ReceiverConfig& receiver, const AlertRecord& a, bool resolved,
                                 const std::string& external_url) {
  std::string status = resolved ? "resolved" : "firing";
  json::object out{{"version", "4"},
                   {"groupKey", fmt::format("{{}}:{{alertname=\"{}\", fingerprint=\"{}\"}}", a.rule_id, a.fingerprint)},
                   {"truncatedAlerts", 0},
                   {"status", status},
                   {"receiver", receiver.name},
                   {"groupLabels", json::object{{"alertname", a.rule_id}}},
                   {"commonLabels", labels_json(a)},
                   {"commonAnnotations", annotations_json(a)},
                   {"externalURL", external_url},
                   {"alerts", json::array{alert_object(a, resolved, external_url)}}};
  return serialize_json(out);
}

std::string headline(const AlertRecord& a, bool resolved) {
  return fmt::format("[{}] {} ({})", resolved ? "RESOLVED" : "FIRING", a.rule_id, to_string(a.severity));
}

std::string slack(const AlertRecord& a, bool resolved, const std::string& external_url) {
  std::string text = fmt::format("*{}*\n{}\n{}\n<{}|{}>", headline(a, resolved), a.summary_en, a.summary_ja,
                                 generator_url(external_url, a), a.fingerprint);
  return serialize_json(json::object{{"text", text}});
}

std::string teams(const AlertRecord& a, bool resolved, const std::string& external_url) {
  const char* color = resolved                           ? "2EB886"
                      : a.severity == Severity::critical ? "D00000"
                      : a.severity == Severity::warning  ? "FFA500"
                                                         : "439FE0";
  json::array facts;
  for (const auto& [k, v] : a.labels) facts.push_back(json::object{{"name", k}, {"value", v}});
  facts.push_back(json::object{{"name", "period"}, {"value", a.period}});
  if (a.value) facts.push_back(json::object{{"name", "value"}, {"value", shortest_decimal(*a.value)}});
  json::object card{
      {"@type", "MessageCard"},
      {"@context", "http://schema.org/extensions"},
      {"themeColor", color},
      {"summary", a.summary_en},
      {"title", headline(a, resolved)},
      {"text", a.summary_en + "\n\n" + a.summary_ja},
      {"sections", json::array{json::object{{"activityTitle", a.summary_ja}, {"facts", std::move(facts)}}}},
      {"potentialAction",
       json::array{json::object{
           {"@type", "OpenUri"},
           {"name", "Open in kpiwatch"},
           {"targets", json::array{json::object{{"os", "default"}, {"uri", generator_url(external_url, a)}}}}}}}};
  return serialize_json(card);
}

std::string alertmanager_api(const AlertRecord& a, bool resolved, const std::string& external_url) {
  json::object alert{{"labels", labels_json(a)},
                     {"annotations", annotations_json(a)},
                     {"startsAt", format_rfc3339(a.firing_since ? a.firing_since : a.active_since)},
                     {"generatorURL", generator_url(external_url, a)}};
  if (resolved) alert["endsAt"] = format_rfc3339(a.resolved_at);
  return serialize_json(json::array{std::move(alert)});
}

bool matches(const RouteConfig& route, const AlertRecord& a) { return labels_match(route.match, a.labels); }

// Grouped messages -----------------------------------------------------------

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object& object_of(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : empty;
}

// The entries of `key` that every alert has with the same value.
json::object common(const std::vector<json::object>& alerts, std::string_view key) {
  if (alerts.empty()) return {};
  json::object out = object_of(alerts.front(), key);
  for (const auto& a : alerts) {
    const auto& o = object_of(a, key);
    for (auto it = out.begin(); it != out.end();) {
      const auto* v = o.if_contains(it->key());
      it = v && *v == it->value() ? std::next(it) : out.erase(it);
    }
  }
  return out;
}

struct GroupMessage {
  std::vector<json::object> alerts;
  json::object group_labels;
  std::string status;  // firing if any alert fires
  std::string title;   // "[FIRING:3] goal=6"
};

GroupMessage read_group(const std::string& group_labels, const std::vector<std::string>& items) {
  GroupMessage m;
  boost::system::error_code ec;
  for (const auto& item : items)
    if (auto v = json::parse(item, ec); !ec && v.is_object()) m.alerts.push_back(std::move(v.get_object()));
  if (auto v = json::parse(group_labels, ec); !ec && v.is_object()) m.group_labels = std::move(v.get_object());
  bool firing = std::any_of(m.alerts.begin(), m.alerts.end(),
                            [](const json::object& a) { return text_of(a, "status") == "firing"; });
  m.status = firing ? "firing" : "resolved";
  std::string labels;
  for (const auto& [k, v] : m.group_labels)
    labels +=
        fmt::format("{}{}={}", labels.empty() ? "" : ", ", std::string_view(k), v.is_string() ? v.get_string() : "");
  m.title = fmt::format("[{}:{}] {}", firing ? "FIRING" : "RESOLVED", m.alerts.size(), labels);
  return m;
}

std::string item_headline(const json::object& a) {
  const auto& labels = object_of(a, "labels");
  return fmt::format("[{}] {} ({})", text_of(a, "status") == "firing" ? "FIRING" : "RESOLVED",
                     text_of(labels, "alertname"), text_of(labels, "severity"));
}

std::string group_webhook(const ReceiverConfig& receiver, const std::string& group_key, const GroupMessage& m,
                          const std::string& external_url) {
  json::array alerts;
  for (const auto& a : m.alerts) alerts.push_back(a);
  json::object out{{"version", "4"},
                   {"groupKey", "{}:" + group_key},
                   {"truncatedAlerts", 0},
                   {"status", m.status},
                   {"receiver", receiver.name},
                   {"groupLabels", m.group_labels},
                   {"commonLabels", common(m.alerts, "labels")},
                   {"commonAnnotations", common(m.alerts, "annotations")},
                   {"externalURL", external_url},
                   {"alerts", std::move(alerts)}};
  return serialize_json(out);
}

std::string group_slack(const GroupMessage& m) {
  std::string text = fmt::format("*{}*", m.title);
  for (const auto& a : m.alerts) {
    const auto& notes = object_of(a, "annotations");
    text += fmt::format("\n\n{}\n{}\n{}\n<{}|{}>", item_headline(a), text_of(notes, "summary_en"),
                        text_of(notes, "summary_ja"), text_of(a, "generatorURL"), text_of(a, "fingerprint"));
  }
  return serialize_json(json::object{{"text", text}});
}

std::string group_teams(const GroupMessage& m) {
  bool critical = std::any_of(m.alerts.begin(), m.alerts.end(), [](const json::object& a) {
    return text_of(object_of(a, "labels"), "severity") == "critical";
  });
  const char* color = m.status == "resolved" ? "2EB886" : critical ? "D00000" : "FFA500";
  json::array sections;
  std::string text;
  for (const auto& a : m.alerts) {
    const auto& notes = object_of(a, "annotations");
    text += fmt::format("{}{}: {}", text.empty() ? "" : "\n\n", item_headline(a), text_of(notes, "summary_en"));
    sections.push_back(
        json::object{{"activityTitle", text_of(notes, "summary_ja")},
                     {"activitySubtitle", text_of(notes, "summary_en")},
                     {"text", fmt::format("[{}]({})", text_of(a, "fingerprint"), text_of(a, "generatorURL"))}});
  }
  json::object card{{"@type", "MessageCard"},
                    {"@context", "http://schema.org/extensions"},
                    {"themeColor", color},
                    {"summary", m.title},
                    {"title", m.title},
                    {"text", text},
                    {"sections", std::move(sections)}};
  return serialize_json(card);
}

}  // namespace

bool Routed::grouped() const {
  return grouping && grouping->grouped() && receiver && receiver->format != ReceiverFormat::alertmanager_api;
}

GroupId group_of(const Grouping& grouping, const AlertRecord& alert) {
  GroupId g;
  std::string inner;
  for (const auto& name : grouping.group_by) {
    auto it = alert.labels.find(name);
    std::string value = it == alert.labels.end() ? std::string() : it->second;
    if (it != alert.labels.end()) g.labels[name] = value;
    inner += fmt::format("{}{}=\"{}\"", inner.empty() ? "" : ", ", name, value);
  }
  g.key = "{" + inner + "}";
  return g;
}

TimePoint group_due(std::optional<TimePoint> unsent_due, std::optional<TimePoint> last_sent, TimePoint now,
                    const Grouping& grouping) {
  if (unsent_due) return *unsent_due;  // joins the message being gathered
  if (last_sent && *last_sent + grouping.group_interval > now) return *last_sent + grouping.group_interval;
  return now + grouping.group_wait;
}

std::string notification_item(const AlertRecord& alert, bool resolved, const std::string& external_url) {
  return serialize_json(alert_object(alert, resolved, external_url));
}

std::string group_notification_body(const ReceiverConfig& receiver, const std::string& group_key,
                                    const std::string& group_labels, const std::vector<std::string>& items,
                                    const std::string& external_url) {
  GroupMessage m = read_group(group_labels, items);
  switch (receiver.format) {
    case ReceiverFormat::slack:
      return group_slack(m);
    case ReceiverFormat::teams:
      return group_teams(m);
    case ReceiverFormat::alertmanager:
    case ReceiverFormat::alertmanager_api:
      break;
  }
  return group_webhook(receiver, group_key, m, external_url);
}

const ReceiverConfig* NotifyConfig::receiver(std::string_view name) const {
  for (const auto& r : receivers)
    if (r.name == name) return &r;
  return nullptr;
}

std::vector<Routed> NotifyConfig::routes_for(const AlertRecord& alert) const {
  std::vector<Routed> out;
  auto add = [&](const std::string& name, const Grouping& grouping, const RouteConfig* route) {
    const ReceiverConfig* r = receiver(name);
    bool seen = std::any_of(out.begin(), out.end(), [&](const Routed& o) { return o.receiver == r; });
    if (!r || seen) return;
    Routed routed{r, &grouping, r->email.language, r->email.digest ? &*r->email.digest : nullptr};
    if (route && route->language) routed.language = *route->language;
    if (route && route->digest) routed.digest = &*route->digest;
    out.push_back(routed);
  };
  for (const auto& name : alert.receivers) add(name, alerting.grouping, nullptr);
  for (const auto& r : routes) {
    if (!matches(r, alert)) continue;
    for (const auto& name : r.receivers) add(name, r.grouping, &r);
    if (!r.continue_matching) break;
  }
  if (out.empty() && !alerting.default_receiver.empty()) add(alerting.default_receiver, alerting.grouping, nullptr);
  return out;
}

std::vector<const ReceiverConfig*> NotifyConfig::route(const AlertRecord& alert) const {
  std::vector<const ReceiverConfig*> out;
  for (const auto& r : routes_for(alert)) out.push_back(r.receiver);
  return out;
}

std::shared_ptr<const NotifyConfig> make_notify_config(const Settings& settings, const std::string& listen) {
  auto c = std::make_shared<NotifyConfig>();
  c->alerting = settings.alerting;
  c->receivers = settings.receivers;
  c->routes = settings.routes;
  c->external_url = settings.alerting.external_url.empty() ? "http://" + listen : settings.alerting.external_url;
  while (c->external_url.ends_with("/")) c->external_url.pop_back();
  return c;
}

std::string notification_body(const ReceiverConfig& receiver, const AlertRecord& alert, bool resolved,
                              const std::string& external_url) {
  switch (receiver.format) {
    case ReceiverFormat::slack:
      return slack(alert, resolved, external_url);
    case ReceiverFormat::teams:
      return teams(alert, resolved, external_url);
    case ReceiverFormat::alertmanager_api:
      return alertmanager_api(alert, resolved, external_url);
    case ReceiverFormat::alertmanager:
      break;
  }
  return alertmanager_webhook(receiver, alert, resolved, external_url);
}

std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  return "sha256=" + hmac_sha256_hex(secret, timestamp + "." + body);
}

}  // namespace kpiwatch
