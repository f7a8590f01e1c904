#pragma once
// The notification outbox, and the silences that suppress notifications.
// Times are RFC 3339 UTC text, compared as text.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/connection.hpp"
#include "kpiwatch/labels.hpp"
#include "kpiwatch/result.hpp"

namespace kpiwatch {

enum class OutboxEvent { firing, resolved, repeat };
std::string_view to_string(OutboxEvent event);
// "firing", "resolved", "repeat"; false (out untouched) for anything else.
bool parse_outbox_event(std::string_view text, OutboxEvent& out);

enum class OutboxStatus { pending, delivered, dead, suppressed };
std::string_view to_string(OutboxStatus status);
// "pending", "delivered", "dead", "suppressed"; false (out untouched) for anything else.
bool parse_outbox_status(std::string_view text, OutboxStatus& out);

// A notification waiting in, or done with, the outbox.
struct OutboxEntry {
  std::int64_t id = 0;
  std::string fingerprint;
  std::string receiver;
  OutboxEvent event = OutboxEvent::firing;
  OutboxStatus status = OutboxStatus::pending;
  std::string body;
  std::string idempotency_key;
  std::string created_at;
  std::string next_attempt_at;
  int attempts = 0;
  std::string last_error;
  std::string delivered_at;
  // Grouped notifications (docs/NOTIFICATIONS.md): the body is one alert of a
  // message composed at send time; empty group_key: sent alone, as `body`.
  std::string group_key;     // the group_by labels' values, e.g. {goal="6"}
  std::string group_labels;  // JSON object of those labels
  std::string message_key;   // the group message it went in (also its Idempotency-Key)
};

// What a new notification of a group waits for.
struct GroupTiming {
  std::optional<std::string> unsent_due;  // next_attempt_at of the group's notifications not sent yet
  std::optional<std::string> last_sent;   // when the group's last message was first sent
};

// A group with a message to send: claimed (message_key set, e.g. a retry) or not yet.
struct DueGroup {
  std::string receiver;
  std::string group_key;
  std::string message_key;
};

// An alert's notification and how many alerts its message carried (1 if sent alone).
struct AlertNotification {
  OutboxEntry entry;
  int message_alerts = 1;
};

struct OutboxDepth {
  std::int64_t pending = 0;
  // created_at of the oldest pending notification (of one held for a digest: the digest's time); empty if none
  std::string oldest;
};

class OutboxRepository {
 public:
  explicit OutboxRepository(Connection& connection) : db_(connection) {}

  // REQUIRES: an open transaction (the one of the alert's state change).
  Status enqueue(const std::vector<OutboxEntry>& entries);
  // Pending notifications due at `now`, oldest first; of each alert and receiver
  // only the oldest pending one, so that they arrive in order.
  Result<std::vector<OutboxEntry>> due(const std::string& now, int limit);
  // The earliest next_attempt_at of pending notifications, if any.
  Result<std::optional<std::string>> next_due();
  // Newest first; every status if `status` is empty.
  Result<std::vector<OutboxEntry>> list(std::optional<OutboxStatus> status, int limit);

  // Each of these runs in its own transaction.
  Status mark_delivered(std::int64_t id, const std::string& at);
  Status mark_retry(std::int64_t id, int attempts, const std::string& next_attempt_at, const std::string& error);
  Status mark_dead(std::int64_t id, int attempts, const std::string& error);
  // Puts dead letters back as pending, due and aged from `now`; returns how many.
  Result<int> requeue(std::int64_t id, const std::string& now);
  Result<int> requeue_all(const std::string& now);

  Result<OutboxDepth> depth();
  // When `fingerprint` was last queued for `receiver` (empty if never).
  Result<std::string> last_queued(const std::string& fingerprint, const std::string& receiver);

  // Groups. `due` above lists only notifications sent alone.
  Result<GroupTiming> group_timing(const std::string& receiver, const std::string& group_key);
  // Groups with something due at `now`: messages being retried, and groups whose
  // unsent notifications are due and that have no message outstanding.
  Result<std::vector<DueGroup>> due_groups(const std::string& now, int limit);
  // In its own transaction: puts the group's unsent notifications (the oldest of
  // each alert; with `every_due`, all that are due at `now`, as a digest lists them)
  // into one message sent at `now`; its key, or "" if there were none.
  Result<std::string> claim_group(const std::string& receiver, const std::string& group_key, const std::string& now,
                                  bool every_due = false);
  // The pending notifications of a message, oldest first.
  Result<std::vector<OutboxEntry>> message(const std::string& message_key);
  // Each in its own transaction, for every pending notification of the message.
  Status mark_message_delivered(const std::string& message_key, const std::string& at);
  Status mark_message_retry(const std::string& message_key, int attempts, const std::string& next_attempt_at,
                            const std::string& error);
  Status mark_message_dead(const std::string& message_key, int attempts, const std::string& error);
  // Every notification of an alert, oldest first.
  Result<std::vector<AlertNotification>> of_alert(const std::string& fingerprint);

 private:
  Connection& db_;
};

struct Silence {
  std::int64_t id = 0;
  Matchers matchers;
  std::string starts_at, ends_at, created_by, comment, created_at;
  bool matches(const Labels& labels) const;
};

class SilenceRepository {
 public:
  explicit SilenceRepository(Connection& connection) : db_(connection) {}

  // In its own transaction; returns the new silence's id.
  Result<std::int64_t> add(const Silence& silence);
  // Silences not deleted, oldest first: active at `now`, or all of them.
  Result<std::vector<Silence>> active_at(const std::string& now);
  Result<std::vector<Silence>> all();
  // In its own transaction; false if there is no such silence (or it is deleted).
  Result<bool> remove(std::int64_t id, const std::string& at);

 private:
  Connection& db_;
};

}  // namespace kpiwatch
