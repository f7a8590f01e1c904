#include "kpiwatch/notifications.hpp"

#include <fmt/format.h>

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

std::string alertmanager_webhook(const ReceiverConfig& receiver, const AlertRecord& a, bool resolved,
                                 const std::string& external_url) {
  std::string status = resolved ? "resolved" : "firing";
  json::object alert{{"status", status},
                     {"labels", labels_json(a)},
                     {"annotations", annotations_json(a)},
                     {"startsAt", format_rfc3339(a.firing_since ? a.firing_since : a.active_since)},
                     {"endsAt", resolved ? format_rfc3339(a.resolved_at) : std::string(kZeroTime)},
                     {"generatorURL", generator_url(external_url, a)},
                     {"fingerprint", a.fingerprint}};
  json::object out{{"version", "4"},
                   {"groupKey", fmt::format("{{}}:{{alertname=\"{}\", fingerprint=\"{}\"}}", a.rule_id, a.fingerprint)},
                   {"truncatedAlerts", 0},
                   {"status", status},
                   {"receiver", receiver.name},
                   {"groupLabels", json::object{{"alertname", a.rule_id}}},
                   {"commonLabels", labels_json(a)},
                   {"commonAnnotations", annotations_json(a)},
                   {"externalURL", external_url},
                   {"alerts", json::array{std::move(alert)}}};
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

}  // namespace

const ReceiverConfig* NotifyConfig::receiver(std::string_view name) const {
  for (const auto& r : receivers)
    if (r.name == name) return &r;
  return nullptr;
}

std::vector<const ReceiverConfig*> NotifyConfig::route(const AlertRecord& alert) const {
  std::vector<const ReceiverConfig*> out;
  auto add = [&](const std::string& name) {
    const ReceiverConfig* r = receiver(name);
    if (r && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  };
  for (const auto& name : alert.receivers) add(name);
  for (const auto& r : routes) {
    if (!matches(r, alert)) continue;
    for (const auto& name : r.receivers) add(name);
    if (!r.continue_matching) break;
  }
  if (out.empty() && !alerting.default_receiver.empty()) add(alerting.default_receiver);
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
