#pragma once
// The SQLite store: append-only revisions of KPI figures.
// One Store is one connection; use it from one thread at a time.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/labels.hpp"
#include "kpiwatch/point.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/submission.hpp"

struct sqlite3;

namespace kpiwatch {

struct StoreOptions {
  std::string path;                  // the database file; created if missing
  std::string synchronous = "full";  // normal | full | extra
  int busy_timeout_ms = 5000;
};

struct AlertFilter {
  std::optional<AlertState> state;
  std::optional<int> goal;
  std::optional<Severity> severity;
  std::string rule_id;
  std::string kpi;
};

// A notification waiting in, or done with, the outbox.
struct OutboxEntry {
  std::int64_t id = 0;
  std::string fingerprint;
  std::string receiver;
  std::string event;   // firing | resolved | repeat
  std::string status;  // pending | delivered | dead | suppressed
  std::string body;
  std::string idempotency_key;
  std::string created_at;
  std::string next_attempt_at;
  int attempts = 0;
  std::string last_error;
  std::string delivered_at;
};

struct Silence {
  std::int64_t id = 0;
  Matchers matchers;
  std::string starts_at, ends_at, created_by, comment, created_at;
  bool matches(const Labels& labels) const;
};

struct SeriesQuery {
  std::string kpi;
  Dims dims;               // only series whose dims include these pairs
  bool revisions = false;  // every revision, not only the current one
};

class Store {
 public:
  // Opens (creating and migrating) the database; WAL mode.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The schema version this build writes (PRAGMA user_version).
  static int current_schema_version();
  int schema_version();

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK. REQUIRES: no open transaction for begin().
  Status begin();
  Status commit();
  void rollback();
  // A nested scope inside the open transaction, for group commit.
  Status savepoint();
  Status release();
  void rollback_to();

  // Appends one revision per submission. REQUIRES: an open transaction.
  // Revision numbers continue from the newest stored one of (kpi, dims, period).
  Result<std::vector<Revision>> insert(const std::vector<Submission>& batch, const std::string& submitted_by,
                                       const std::string& received_at);
  // insert() in its own transaction: all or nothing.
  Result<std::vector<Revision>> append(const std::vector<Submission>& batch, const std::string& submitted_by,
                                       const std::string& received_at);

  // Current values (newest revision per period) or the whole history,
  // ordered by dims, period, revision.
  Result<std::vector<Revision>> series(const SeriesQuery& query);
  Result<std::int64_t> revision_count();
  // Revisions with an id above `id`, in id (commit) order.
  Result<std::vector<Revision>> revisions_after(std::int64_t id);
  // The highest revision id, 0 if there is none.
  Result<std::int64_t> last_revision_id();
  // SQLite's PRAGMA data_version: changes when another connection (kpiwatch import,
  // a second process) commits, never for this connection's own commits.
  Result<std::int64_t> data_version();

  // Calls `visit` with the current value of every period of every series.
  Status for_each_current(const std::function<void(const std::string& kpi, const Dims& dims, Point point)>& visit);

  // Alerts (storage/src/alerts.cpp).
  // REQUIRES: an open transaction. Writes the changed alerts and their transitions.
  Status save_alert_changes(const AlertChanges& changes);
  Result<std::vector<AlertRecord>> alerts(const AlertFilter& filter = {});
  Result<std::optional<AlertRecord>> alert(const std::string& fingerprint);
  Result<std::vector<Transition>> alert_history(const std::string& fingerprint);

  // Outbox, silences, acknowledgements (storage/src/outbox.cpp). Times are RFC 3339 UTC.
  // REQUIRES: an open transaction.
  Status enqueue(const std::vector<OutboxEntry>& entries);
  // Pending notifications due at `now`, oldest first; of each alert and receiver
  // only the oldest pending one, so that they arrive in order.
  Result<std::vector<OutboxEntry>> due_notifications(const std::string& now, int limit);
  // The earliest next_attempt_at of pending notifications, if any.
  Result<std::optional<std::string>> next_due();
  Result<std::vector<OutboxEntry>> outbox(const std::string& status, int limit);
  // Each in its own transaction.
  Status mark_delivered(std::int64_t id, const std::string& at);
  Status mark_retry(std::int64_t id, int attempts, const std::string& next_attempt_at, const std::string& error);
  Status mark_dead(std::int64_t id, int attempts, const std::string& error);
  // Puts dead letters back as pending, due now; `id` 0 requeues every dead letter.
  Result<int> requeue(std::int64_t id, const std::string& now);
  // Pending notifications and the creation time of the oldest.
  Result<std::pair<std::int64_t, std::string>> outbox_depth();
  // When `fingerprint` was last queued for `receiver` (empty if never).
  Result<std::string> last_queued(const std::string& fingerprint, const std::string& receiver);

  Result<std::int64_t> add_silence(const Silence& silence);
  // Silences not deleted, active at `now` (or all with ending after it if `now` is empty).
  Result<std::vector<Silence>> silences(const std::string& now);
  Result<bool> delete_silence(std::int64_t id, const std::string& at);
  // REQUIRES: an open transaction.
  Result<bool> acknowledge(const std::string& fingerprint, const std::string& by, const std::string& comment,
                           const std::string& at);

  Result<std::optional<std::string>> meta(const std::string& key);
  // REQUIRES: an open transaction.
  Status set_meta(const std::string& key, const std::string& value);

 private:
  struct Statements;
  struct AlertStatements;
  explicit Store(sqlite3* db);
  Status exec(const char* sql);
  Status migrate();
  Status prepare_alert_statements();
  Result<std::int64_t> series_id(const Submission& s);

  sqlite3* db_;
  std::unique_ptr<Statements> stmts_;
  std::unique_ptr<AlertStatements> alert_stmts_;
  std::map<std::string, std::int64_t> series_ids_;          // committed
  std::map<std::string, std::int64_t> pending_series_ids_;  // created in the open transaction
};

}  // namespace kpiwatch
