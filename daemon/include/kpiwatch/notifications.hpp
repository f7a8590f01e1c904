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

// A receiver an alert goes to, and how that route groups its notifications.
struct Routed {
  const ReceiverConfig* receiver = nullptr;
  const Grouping* grouping = nullptr;
  // Of an email receiver: the route's language and digest, else the receiver's.
  Lang language = Lang::ja;
  const DigestConfig* digest = nullptr;
  // Grouped: the route has group_by and the receiver is a webhook or email (alertmanager_api sends alone).
  bool grouped() const;
};

struct NotifyConfig {
  AlertingConfig alerting;
  std::vector<ReceiverConfig> receivers;
  std::vector<RouteConfig> routes;
  std::string external_url;  // resolved: never empty

  const ReceiverConfig* receiver(std::string_view name) const;
  // The rule's receivers, then the matching routes', else the default receiver.
  std::vector<const ReceiverConfig*> route(const AlertRecord& alert) const;
  // The same receivers, each with the grouping of the route that chose it first.
  std::vector<Routed> routes_for(const AlertRecord& alert) const;
};

// A group: its key, e.g. {goal="6"}, and its labels (the group_by labels the alert has).
struct GroupId {
  std::string key;
  Labels labels;
};
GroupId group_of(const Grouping& grouping, const AlertRecord& alert);

// When a new notification of a group is due: with the group's notifications not
// sent yet, if any; else group_interval after the group's last message if that
// is still ahead; else group_wait from now.
TimePoint group_due(std::optional<TimePoint> unsent_due, std::optional<TimePoint> last_sent, TimePoint now,
                    const Grouping& grouping);

// One alert of a grouped notification (an Alertmanager webhook alert object),
// kept in the outbox until the message is composed.
std::string notification_item(const AlertRecord& alert, bool resolved, const std::string& external_url);

// The request body of one message for the alerts of a group (`items` as
// notification_item made them; `group_labels` a JSON object).
std::string group_notification_body(const ReceiverConfig& receiver, const std::string& group_key,
                                    const std::string& group_labels, const std::vector<std::string>& items,
                                    const std::string& external_url);

std::shared_ptr<const NotifyConfig> make_notify_config(const Settings& settings, const std::string& listen);

// The request body for `receiver` about `alert`; `resolved` selects the event.
std::string notification_body(const ReceiverConfig& receiver, const AlertRecord& alert, bool resolved,
                              const std::string& external_url);

// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body);

}  // namespace kpiwatch
