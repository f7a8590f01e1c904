#pragma once
// Which receivers an alert goes to, and what they are sent
// (docs/NOTIFICATIONS.md): Alertmanager webhook v4, Slack, Teams, or the
// Alertmanager API. Bodies are built once, when a notification is queued, so
// that every retry sends the same bytes.

#include <memory>
#include <string>
#include <vector>

#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/settings.hpp"

namespace kpiwatch {

struct NotifyConfig {
  AlertingConfig alerting;
  std::vector<ReceiverConfig> receivers;
  std::vector<RouteConfig> routes;
  std::string external_url;  // resolved: never empty

  const ReceiverConfig* receiver(std::string_view name) const;
  // The rule's receivers, then the matching routes', else the default receiver.
  std::vector<const ReceiverConfig*> route(const AlertRecord& alert) const;
};

std::shared_ptr<const NotifyConfig> make_notify_config(const Settings& settings, const std::string& listen);

// The request body for `receiver` about `alert`; `resolved` selects the event.
std::string notification_body(const ReceiverConfig& receiver, const AlertRecord& alert, bool resolved,
                              const std::string& external_url);

// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body);

}  // namespace kpiwatch
