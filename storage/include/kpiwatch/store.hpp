#pragma once
// The SQLite store: one connection, migrated and configured, and the
// repositories over it. Use a Store from one thread at a time; the daemon
// opens one for its writer thread and one for its readers.
//
//   auto store = Store::open({path});
//   Transaction tx(store.value()->connection());
//   store.value()->revisions().insert(batch, by, at);
//   tx.commit();

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kpiwatch/alert_repository.hpp"
#include "kpiwatch/connection.hpp"
#include "kpiwatch/outbox_repository.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/revision_repository.hpp"

namespace kpiwatch {

struct StoreOptions {
  std::string path;                  // the database file; created if missing
  std::string synchronous = "full";  // normal | full | extra
  int busy_timeout_ms = 5000;
};

// Small settings of the database itself (e.g. which bundled dataset is loaded).
class MetaRepository {
 public:
  explicit MetaRepository(Connection& connection) : db_(connection) {}
  Result<std::optional<std::string>> get(const std::string& key);
  // REQUIRES: an open transaction.
  Status set(const std::string& key, const std::string& value);

 private:
  Connection& db_;
};

class Store {
 public:
  // Opens (creating and migrating) the database; WAL mode. A new file is made
  // 0600 in directories made 0700. A file that is not a kpiwatch database
  // (not SQLite, truncated, or another program's) is refused and not written to.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The schema version this build writes (PRAGMA user_version).
  static int current_schema_version();
  int schema_version();

  Connection& connection() { return connection_; }
  RevisionRepository& revisions() { return revisions_; }
  AlertRepository& alerts() { return alerts_; }
  OutboxRepository& outbox() { return outbox_; }
  SilenceRepository& silences() { return silences_; }
  MetaRepository& meta() { return meta_; }
  // Every stored alert's fingerprint and state, without its texts: what the rule
  // engine keeps of alerts that are not active.
  Status for_each_alert_state(const std::function<void(const std::string& fingerprint, AlertState state)>& f);

 private:
  explicit Store(sqlite3* db);
  // Whether the file is ours to open: true if it still needs kpiwatch's application id.
  Result<bool> identify(const std::string& path);
  Status migrate();

  Connection connection_;  // first: the repositories hold it
  RevisionRepository revisions_;
  AlertRepository alerts_;
  OutboxRepository outbox_;
  SilenceRepository silences_;
  MetaRepository meta_;
};

}  // namespace kpiwatch
