// The notification outbox: rows written with an alert's state change, then
// delivered, retried, or kept as dead letters.
#include "kpiwatch/outbox_repository.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "kpiwatch/digest.hpp"
#include "statement.hpp"

namespace kpiwatch {
using sql::Statement;

namespace {

// The names stored in the outbox's event and status columns.
constexpr std::array<std::pair<OutboxEvent, std::string_view>, 3> kEvents = {
    {{OutboxEvent::firing, "firing"}, {OutboxEvent::resolved, "resolved"}, {OutboxEvent::repeat, "repeat"}}};
constexpr std::array<std::pair<OutboxStatus, std::string_view>, 4> kStatuses = {
    {{OutboxStatus::pending, "pending"},
     {OutboxStatus::delivered, "delivered"},
     {OutboxStatus::dead, "dead"},
     {OutboxStatus::suppressed, "suppressed"}}};

template <class Table, class E>
std::string_view name_of(const Table& table, E value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return table[0].second;
}

template <class Table, class E>
bool parse_name(const Table& table, std::string_view text, E& out) {
  for (const auto& [e, name] : table)
    if (name == text) {
      out = e;
      return true;
    }
  return false;
}

constexpr std::string_view kOutboxColumns =
    "id, fingerprint, receiver, event, status, body, idempotency_key, created_at, next_attempt_at, attempts, "
    "last_error, delivered_at, group_key, group_labels, message_key";

Result<OutboxEntry> read_entry(Statement& s) {
  OutboxEntry e;
  e.id = s.int64(0);
  e.fingerprint = s.text(1);
  e.receiver = s.text(2);
  if (!parse_outbox_event(s.text(3), e.event))
    return Error{ErrorCode::storage_error, "stored outbox event does not parse: " + s.text(3), "", {}};
  if (!parse_outbox_status(s.text(4), e.status))
    return Error{ErrorCode::storage_error, "stored outbox status does not parse: " + s.text(4), "", {}};
  e.body = s.text(5);
  e.idempotency_key = s.text(6);
  e.created_at = s.text(7);
  e.next_attempt_at = s.text(8);
  e.attempts = static_cast<int>(s.int64(9));
  e.last_error = s.text(10);
  e.delivered_at = s.text(11);
  e.group_key = s.text(12);
  e.group_labels = s.text(13);
  e.message_key = s.text(14);
  return e;
}

Result<std::vector<OutboxEntry>> read_entries(Statement& s) {
  std::vector<OutboxEntry> out;
  auto read = s.each_row("read outbox", [&](Statement& row) -> Status {
    auto e = read_entry(row);
    if (!e) return e.error();
    out.push_back(std::move(e.value()));
    return ok_status();
  });
  if (!read) return read.error();
  return out;
}

// Runs one statement in a transaction of its own; returns the rows it changed.
template <class... Params>
Result<int> update_alone(Connection& db, std::string_view what, std::string_view sql, const Params&... params) {
  Transaction tx(db);
  if (!tx.began()) return tx.began().error();
  int changed = 0;
  {
    auto s = db.statement(sql);
    if (!s) return s.error();
    s->bind_all(params...);
    if (auto done = s->run(what); !done) return done.error();
    changed = db.changes();
  }
  if (auto committed = tx.commit(); !committed) return committed.error();
  return changed;
}

Status done(const Result<int>& changed) { return changed ? ok_status() : Status(changed.error()); }

}  // namespace

std::string_view to_string(OutboxEvent event) { return name_of(kEvents, event); }
bool parse_outbox_event(std::string_view text, OutboxEvent& out) { return parse_name(kEvents, text, out); }
std::string_view to_string(OutboxStatus status) { return name_of(kStatuses, status); }
bool parse_outbox_status(std::string_view text, OutboxStatus& out) { return parse_name(kStatuses, text, out); }

Status OutboxRepository::enqueue(const std::vector<OutboxEntry>& entries) {
  for (const auto& e : entries) {
    auto s = db_.statement(
        "INSERT INTO outbox (fingerprint, receiver, event, status, body, idempotency_key, created_at, "
        "next_attempt_at, attempts, last_error, group_key, group_labels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, "
        "?9, "
        "?10, ?11)");
    if (!s) return s.error();
    s->bind_all(e.fingerprint, e.receiver, to_string(e.event), to_string(e.status), e.body, e.idempotency_key,
                e.created_at, e.next_attempt_at, e.last_error, e.group_key, e.group_labels);
    if (auto inserted = s->run("enqueue notification"); !inserted) return inserted;
  }
  return ok_status();
}

Result<std::vector<OutboxEntry>> OutboxRepository::due(const std::string& now, int limit) {
  // Only the oldest pending notification of each alert and receiver: a resolution
  // never overtakes the firing notification it follows.
  auto s = db_.statement(fmt::format(
      "SELECT {} FROM outbox WHERE status = ?3 AND group_key = '' AND next_attempt_at <= ?1 AND id = (SELECT "
      "MIN(o2.id) "
      "FROM outbox o2 "
      "WHERE o2.status = ?3 AND o2.fingerprint = outbox.fingerprint AND o2.receiver = outbox.receiver) ORDER BY "
      "next_attempt_at, id LIMIT ?2",
      kOutboxColumns));
  if (!s) return s.error();
  s->bind_all(now, limit, to_string(OutboxStatus::pending));
  return read_entries(*s);
}

Result<std::optional<std::string>> OutboxRepository::next_due() {
  // A group's unsent notifications wait while its message is outstanding: not due.
  auto s = db_.statement(
      "SELECT MIN(next_attempt_at) FROM outbox WHERE status = ?1 AND NOT (group_key != '' AND message_key = '' AND "
      "EXISTS (SELECT 1 FROM outbox o2 WHERE o2.status = ?1 AND o2.receiver = outbox.receiver AND o2.group_key = "
      "outbox.group_key AND o2.message_key != ''))");
  if (!s) return s.error();
  s->bind(1, to_string(OutboxStatus::pending));
  if (auto row = s->row("read outbox"); !row) return row.error();
  if (s->is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(s->text(0));
}

Result<std::vector<OutboxEntry>> OutboxRepository::list(std::optional<OutboxStatus> status, int limit) {
  auto s = db_.statement(fmt::format("SELECT {} FROM outbox{} ORDER BY id DESC LIMIT ?2", kOutboxColumns,
                                     status ? " WHERE status = ?1" : ""));
  if (!s) return s.error();
  if (status) s->bind(1, to_string(*status));
  s->bind(2, limit);
  return read_entries(*s);
}

Status OutboxRepository::mark_delivered(std::int64_t id, const std::string& at) {
  return done(update_alone(db_, "mark delivered",
                           "UPDATE outbox SET status = ?3, delivered_at = ?2, attempts = attempts + 1, last_error = '' "
                           "WHERE id = ?1",
                           id, at, to_string(OutboxStatus::delivered)));
}

Status OutboxRepository::mark_retry(std::int64_t id, int attempts, const std::string& next_attempt_at,
                                    const std::string& error) {
  return done(update_alone(db_, "reschedule notification",
                           "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1", id,
                           attempts, next_attempt_at, error));
}

Status OutboxRepository::mark_dead(std::int64_t id, int attempts, const std::string& error) {
  return done(update_alone(db_, "mark dead letter",
                           "UPDATE outbox SET status = ?4, attempts = ?2, last_error = ?3 WHERE id = ?1", id, attempts,
                           error, to_string(OutboxStatus::dead)));
}

// A requeued notification starts a new life: its age counts from now.
Result<int> OutboxRepository::requeue(std::int64_t id, const std::string& now) {
  return update_alone(db_, "requeue",
                      "UPDATE outbox SET status = ?3, next_attempt_at = ?2, created_at = ?2 WHERE status = ?4 AND "
                      "id = ?1",
                      id, now, to_string(OutboxStatus::pending), to_string(OutboxStatus::dead));
}

Result<int> OutboxRepository::requeue_all(const std::string& now) {
  return update_alone(db_, "requeue",
                      "UPDATE outbox SET status = ?2, next_attempt_at = ?1, created_at = ?1 WHERE status = ?3", now,
                      to_string(OutboxStatus::pending), to_string(OutboxStatus::dead));
}

Result<OutboxDepth> OutboxRepository::depth() {
  // A notification held for a digest waits by design: it counts from the digest's time, not from when it was queued.
  auto s = db_.statement(
      "SELECT COUNT(*), MIN(CASE WHEN group_key LIKE 'digest:%' AND message_key = '' THEN next_attempt_at "
      "ELSE created_at END) FROM outbox WHERE status = ?1");
  if (!s) return s.error();
  s->bind(1, to_string(OutboxStatus::pending));
  if (auto row = s->row("read outbox"); !row) return row.error();
  return OutboxDepth{s->int64(0), s->is_null(1) ? std::string() : s->text(1)};
}

Result<std::string> OutboxRepository::last_queued(const std::string& fingerprint, const std::string& receiver) {
  auto s = db_.statement("SELECT MAX(created_at) FROM outbox WHERE fingerprint = ?1 AND receiver = ?2");
  if (!s) return s.error();
  s->bind_all(fingerprint, receiver);
  if (auto row = s->row("read outbox"); !row) return row.error();
  return s->is_null(0) ? std::string() : s->text(0);
}

// Groups ---------------------------------------------------------------------

Result<GroupTiming> OutboxRepository::group_timing(const std::string& receiver, const std::string& group_key) {
  GroupTiming out;
  {
    auto s = db_.statement(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE status = ?3 AND receiver = ?1 AND group_key = ?2 AND "
        "message_key = ''");
    if (!s) return s.error();
    s->bind_all(receiver, group_key, to_string(OutboxStatus::pending));
    if (auto row = s->row("read outbox group"); !row) return row.error();
    if (!s->is_null(0)) out.unsent_due = s->text(0);
  }
  auto s = db_.statement("SELECT last_sent_at FROM outbox_groups WHERE receiver = ?1 AND group_key = ?2");
  if (!s) return s.error();
  s->bind_all(receiver, group_key);
  auto found = s->each_row("read outbox group", [&](Statement& row) -> Status {
    out.last_sent = row.text(0);
    return ok_status();
  });
  if (!found) return found.error();
  return out;
}

Result<std::vector<DueGroup>> OutboxRepository::due_groups(const std::string& now, int limit) {
  auto s = db_.statement(
      "SELECT receiver, group_key, message_key, MIN(next_attempt_at) AS due FROM outbox WHERE status = ?2 AND "
      "group_key != '' AND next_attempt_at <= ?1 AND (message_key != '' OR NOT EXISTS (SELECT 1 FROM outbox o2 "
      "WHERE o2.status = ?2 AND o2.receiver = outbox.receiver AND o2.group_key = outbox.group_key AND "
      "o2.message_key != '')) GROUP BY receiver, group_key, message_key ORDER BY due LIMIT ?3");
  if (!s) return s.error();
  s->bind_all(now, to_string(OutboxStatus::pending), limit);
  std::vector<DueGroup> out;
  auto read = s->each_row("read outbox groups", [&](Statement& row) -> Status {
    out.push_back({row.text(0), row.text(1), row.text(2)});
    return ok_status();
  });
  if (!read) return read.error();
  return out;
}

Result<std::string> OutboxRepository::claim_group(const std::string& receiver, const std::string& group_key,
                                                  const std::string& now, bool every_due) {
  Transaction tx(db_);
  if (!tx.began()) return tx.began().error();
  std::string key;
  // The oldest unsent notification of each alert: a resolution follows its firing in the next message.
  // A digest takes every one due, in the order they were queued.
  const char* unsent = every_due ? "status = ?3 AND receiver = ?1 AND group_key = ?2 AND message_key = '' AND "
                                   "next_attempt_at <= ?5"
                                 : "status = ?3 AND receiver = ?1 AND group_key = ?2 AND message_key = ''";
  {
    auto first = db_.statement(fmt::format("SELECT MIN(id) FROM outbox WHERE {}", unsent));
    if (!first) return first.error();
    first->bind_all(receiver, group_key, to_string(OutboxStatus::pending));
    if (every_due) first->bind(5, now);
    if (auto row = first->row("claim outbox group"); !row) return row.error();
    if (first->is_null(0)) return std::string();
    key = sha256_hex(fmt::format("{}\n{}\n{}", receiver, group_key, first->int64(0))).substr(0, 32);
  }
  {
    auto s = db_.statement(
        every_due ? fmt::format("UPDATE outbox SET message_key = ?4, next_attempt_at = ?5 WHERE {}", unsent)
                  : fmt::format("UPDATE outbox SET message_key = ?4, next_attempt_at = ?5 WHERE id IN (SELECT "
                                "MIN(id) FROM outbox WHERE {} GROUP BY fingerprint)",
                                unsent));
    if (!s) return s.error();
    s->bind_all(receiver, group_key, to_string(OutboxStatus::pending), key, now);
    if (auto done = s->run("claim outbox group"); !done) return done.error();
  }
  {
    auto s = db_.statement(
        "INSERT INTO outbox_groups (receiver, group_key, last_sent_at) VALUES (?1, ?2, ?3) ON CONFLICT (receiver, "
        "group_key) DO UPDATE SET last_sent_at = excluded.last_sent_at");
    if (!s) return s.error();
    s->bind_all(receiver, group_key, now);
    if (auto done = s->run("record outbox group"); !done) return done.error();
  }
  if (auto committed = tx.commit(); !committed) return committed.error();
  return key;
}

Result<std::vector<OutboxEntry>> OutboxRepository::message(const std::string& message_key) {
  auto s = db_.statement(
      fmt::format("SELECT {} FROM outbox WHERE message_key = ?1 AND status = ?2 ORDER BY id", kOutboxColumns));
  if (!s) return s.error();
  s->bind_all(message_key, to_string(OutboxStatus::pending));
  return read_entries(*s);
}

Status OutboxRepository::mark_message_delivered(const std::string& message_key, const std::string& at) {
  return done(update_alone(db_, "mark delivered",
                           "UPDATE outbox SET status = ?3, delivered_at = ?2, attempts = attempts + 1, last_error = '' "
                           "WHERE message_key = ?1 AND status = ?4",
                           message_key, at, to_string(OutboxStatus::delivered), to_string(OutboxStatus::pending)));
}

Status OutboxRepository::mark_message_retry(const std::string& message_key, int attempts,
                                            const std::string& next_attempt_at, const std::string& error) {
  return done(update_alone(db_, "reschedule notification",
                           "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE message_key = "
                           "?1 AND status = ?5",
                           message_key, attempts, next_attempt_at, error, to_string(OutboxStatus::pending)));
}

Status OutboxRepository::mark_message_dead(const std::string& message_key, int attempts, const std::string& error) {
  return done(update_alone(db_, "mark dead letter",
                           "UPDATE outbox SET status = ?4, attempts = ?2, last_error = ?3 WHERE message_key = ?1 AND "
                           "status = ?5",
                           message_key, attempts, error, to_string(OutboxStatus::dead),
                           to_string(OutboxStatus::pending)));
}

Result<std::vector<AlertNotification>> OutboxRepository::of_alert(const std::string& fingerprint) {
  auto s = db_.statement(fmt::format(
      "SELECT {}, CASE WHEN message_key = '' THEN 1 ELSE (SELECT COUNT(*) FROM outbox o2 WHERE o2.message_key = "
      "outbox.message_key) END FROM outbox WHERE fingerprint = ?1 ORDER BY id",
      kOutboxColumns));
  if (!s) return s.error();
  s->bind(1, fingerprint);
  std::vector<AlertNotification> out;
  auto read = s->each_row("read outbox", [&](Statement& row) -> Status {
    auto e = read_entry(row);
    if (!e) return e.error();
    out.push_back({std::move(e.value()), static_cast<int>(row.int64(15))});
    return ok_status();
  });
  if (!read) return read.error();
  return out;
}

}  // namespace kpiwatch
