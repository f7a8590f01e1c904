// The notification outbox, silences and acknowledgements.
#include <boost/json.hpp>

#include "kpiwatch/json.hpp"
#include "kpiwatch/store.hpp"
#include "statement.hpp"

namespace kpiwatch {
namespace json = boost::json;
using sql::db_error;
using sql::ResetGuard;
using sql::Stmt;

namespace {

constexpr const char* kOutboxColumns =
    "id, fingerprint, receiver, event, status, body, idempotency_key, created_at, next_attempt_at, attempts, "
    "last_error, delivered_at";

OutboxEntry read_entry(Stmt& s) {
  OutboxEntry e;
  e.id = s.int64(0);
  e.fingerprint = s.text(1);
  e.receiver = s.text(2);
  e.event = s.text(3);
  e.status = s.text(4);
  e.body = s.text(5);
  e.idempotency_key = s.text(6);
  e.created_at = s.text(7);
  e.next_attempt_at = s.text(8);
  e.attempts = static_cast<int>(s.int64(9));
  e.last_error = s.text(10);
  e.delivered_at = s.text(11);
  return e;
}

Result<std::vector<OutboxEntry>> read_entries(Stmt& s, sqlite3* db) {
  std::vector<OutboxEntry> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_entry(s));
  if (rc != SQLITE_DONE) return db_error(db, "read outbox");
  return out;
}

// Runs one statement in its own transaction.
Status exec_one(sqlite3* db, Stmt& s, std::string_view what) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return db_error(db, what);
  if (s.step() != SQLITE_DONE) {
    auto e = db_error(db, what);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return e;
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto e = db_error(db, what);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return e;
  }
  return ok_status();
}

}  // namespace

bool Silence::matches(const Labels& labels) const { return !matchers.empty() && labels_match(matchers, labels); }

Status Store::enqueue(const std::vector<OutboxEntry>& entries) {
  Stmt s;
  if (auto p = s.prepare(db_,
                         "INSERT INTO outbox (fingerprint, receiver, event, status, body, idempotency_key, created_at, "
                         "next_attempt_at, attempts, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)");
      !p)
    return p;
  for (const auto& e : entries) {
    ResetGuard guard{s};
    s.bind(1, std::string_view(e.fingerprint));
    s.bind(2, std::string_view(e.receiver));
    s.bind(3, std::string_view(e.event));
    s.bind(4, std::string_view(e.status));
    s.bind(5, std::string_view(e.body));
    s.bind(6, std::string_view(e.idempotency_key));
    s.bind(7, std::string_view(e.created_at));
    s.bind(8, std::string_view(e.next_attempt_at));
    s.bind(9, std::string_view(e.last_error));
    if (s.step() != SQLITE_DONE) return db_error(db_, "enqueue notification");
  }
  return ok_status();
}

Result<std::vector<OutboxEntry>> Store::due_notifications(const std::string& now, int limit) {
  Stmt s;
  // Only the oldest pending notification of each alert and receiver: a resolution
  // never overtakes the firing notification it follows.
  if (auto p = s.prepare(db_, fmt::format("SELECT {} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 "
                                          "AND id = (SELECT MIN(o2.id) FROM outbox o2 WHERE o2.status = 'pending' AND "
                                          "o2.fingerprint = outbox.fingerprint AND o2.receiver = outbox.receiver) "
                                          "ORDER BY next_attempt_at, id LIMIT ?2",
                                          kOutboxColumns)
                                  .c_str());
      !p)
    return p.error();
  s.bind(1, std::string_view(now));
  s.bind(2, static_cast<std::int64_t>(limit));
  return read_entries(s, db_);
}

Result<std::optional<std::string>> Store::next_due() {
  Stmt s;
  if (auto p = s.prepare(db_, "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'"); !p) return p.error();
  if (s.step() != SQLITE_ROW) return db_error(db_, "read outbox");
  if (s.is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(s.text(0));
}

Result<std::vector<OutboxEntry>> Store::outbox(const std::string& status, int limit) {
  Stmt s;
  std::string where = status.empty() ? "" : " WHERE status = ?1";
  if (auto p = s.prepare(
          db_, fmt::format("SELECT {} FROM outbox{} ORDER BY id DESC LIMIT ?2", kOutboxColumns, where).c_str());
      !p)
    return p.error();
  if (!status.empty()) s.bind(1, std::string_view(status));
  s.bind(2, static_cast<std::int64_t>(limit));
  return read_entries(s, db_);
}

Status Store::mark_delivered(std::int64_t id, const std::string& at) {
  Stmt s;
  if (auto p = s.prepare(db_,
                         "UPDATE outbox SET status = 'delivered', delivered_at = ?2, attempts = attempts + 1, "
                         "last_error = '' WHERE id = ?1");
      !p)
    return p;
  s.bind(1, id);
  s.bind(2, std::string_view(at));
  return exec_one(db_, s, "mark delivered");
}

Status Store::mark_retry(std::int64_t id, int attempts, const std::string& next_attempt_at, const std::string& error) {
  Stmt s;
  if (auto p = s.prepare(db_, "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1");
      !p)
    return p;
  s.bind(1, id);
  s.bind(2, static_cast<std::int64_t>(attempts));
  s.bind(3, std::string_view(next_attempt_at));
  s.bind(4, std::string_view(error));
  return exec_one(db_, s, "reschedule notification");
}

Status Store::mark_dead(std::int64_t id, int attempts, const std::string& error) {
  Stmt s;
  if (auto p = s.prepare(db_, "UPDATE outbox SET status = 'dead', attempts = ?2, last_error = ?3 WHERE id = ?1"); !p)
    return p;
  s.bind(1, id);
  s.bind(2, static_cast<std::int64_t>(attempts));
  s.bind(3, std::string_view(error));
  return exec_one(db_, s, "mark dead letter");
}

Result<int> Store::requeue(std::int64_t id, const std::string& now) {
  Stmt s;
  // A requeued notification starts a new life: its age counts from now.
  const char* sql = id ? "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, created_at = ?2 WHERE status = "
                         "'dead' AND id = ?1"
                       : "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, created_at = ?2 WHERE status = "
                         "'dead'";
  if (auto p = s.prepare(db_, sql); !p) return p.error();
  if (id) s.bind(1, id);
  s.bind(2, std::string_view(now));
  if (auto done = exec_one(db_, s, "requeue"); !done) return done.error();
  return sqlite3_changes(db_);
}

Result<std::pair<std::int64_t, std::string>> Store::outbox_depth() {
  Stmt s;
  if (auto p = s.prepare(db_, "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status = 'pending'"); !p)
    return p.error();
  if (s.step() != SQLITE_ROW) return db_error(db_, "read outbox");
  return std::make_pair(s.int64(0), s.is_null(1) ? std::string() : s.text(1));
}

Result<std::string> Store::last_queued(const std::string& fingerprint, const std::string& receiver) {
  Stmt s;
  if (auto p = s.prepare(db_, "SELECT MAX(created_at) FROM outbox WHERE fingerprint = ?1 AND receiver = ?2"); !p)
    return p.error();
  s.bind(1, std::string_view(fingerprint));
  s.bind(2, std::string_view(receiver));
  if (s.step() != SQLITE_ROW) return db_error(db_, "read outbox");
  return s.is_null(0) ? std::string() : s.text(0);
}

Result<std::int64_t> Store::add_silence(const Silence& silence) {
  json::object matchers;
  for (const auto& [k, v] : silence.matchers) matchers[k] = v;
  std::string text = serialize_json(matchers);
  Stmt s;
  if (auto p = s.prepare(db_,
                         "INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      !p)
    return p.error();
  s.bind(1, std::string_view(text));
  s.bind(2, std::string_view(silence.starts_at));
  s.bind(3, std::string_view(silence.ends_at));
  s.bind(4, std::string_view(silence.created_by));
  s.bind(5, std::string_view(silence.comment));
  s.bind(6, std::string_view(silence.created_at));
  if (auto done = exec_one(db_, s, "add silence"); !done) return done.error();
  return sqlite3_last_insert_rowid(db_);
}

Result<std::vector<Silence>> Store::silences(const std::string& now) {
  Stmt s;
  std::string sql =
      "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at FROM silences WHERE deleted_at = ''";
  if (!now.empty()) sql += " AND starts_at <= ?1 AND ends_at > ?1";
  sql += " ORDER BY id";
  if (auto p = s.prepare(db_, sql.c_str()); !p) return p.error();
  if (!now.empty()) s.bind(1, std::string_view(now));
  std::vector<Silence> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Silence x;
    x.id = s.int64(0);
    boost::system::error_code ec;
    auto m = json::parse(s.text(1), ec);
    if (!ec && m.is_object())
      for (const auto& [k, v] : m.get_object())
        if (v.is_string()) x.matchers[std::string(k)] = std::string(v.get_string());
    x.starts_at = s.text(2);
    x.ends_at = s.text(3);
    x.created_by = s.text(4);
    x.comment = s.text(5);
    x.created_at = s.text(6);
    out.push_back(std::move(x));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "read silences");
  return out;
}

Result<bool> Store::delete_silence(std::int64_t id, const std::string& at) {
  Stmt s;
  if (auto p = s.prepare(db_, "UPDATE silences SET deleted_at = ?2 WHERE id = ?1 AND deleted_at = ''"); !p)
    return p.error();
  s.bind(1, id);
  s.bind(2, std::string_view(at));
  if (auto done = exec_one(db_, s, "delete silence"); !done) return done.error();
  return sqlite3_changes(db_) > 0;
}

Result<bool> Store::acknowledge(const std::string& fingerprint, const std::string& by, const std::string& comment,
                                const std::string& at) {
  Stmt s;
  if (auto p = s.prepare(db_,
                         "UPDATE alerts SET acknowledged_at = ?2, acknowledged_by = ?3, ack_comment = ?4 WHERE "
                         "fingerprint = ?1 AND state IN ('pending', 'firing')");
      !p)
    return p.error();
  s.bind(1, std::string_view(fingerprint));
  s.bind(2, std::string_view(at));
  s.bind(3, std::string_view(by));
  s.bind(4, std::string_view(comment));
  if (s.step() != SQLITE_DONE) return db_error(db_, "acknowledge");
  return sqlite3_changes(db_) > 0;
}

}  // namespace kpiwatch
