// Opening the database: the file, the connection's settings, the migrations.
#include "kpiwatch/store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>

#include "migrations.hpp"
#include "statement.hpp"

namespace kpiwatch {
namespace {

Status create_parent_directory(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return Error{ErrorCode::storage_error, fmt::format("cannot create {}: {}", parent.string(), ec.message()), "", {}};
  return ok_status();
}

Status configure(Connection& db, const std::string& synchronous) {
  if (synchronous != "normal" && synchronous != "full" && synchronous != "extra")
    return Error{
        ErrorCode::storage_error, fmt::format("unknown synchronous setting \"{}\"", synchronous), "synchronous", {}};
  if (auto s = db.exec("PRAGMA journal_mode = WAL"); !s) return s;
  if (auto s = db.exec(fmt::format("PRAGMA synchronous = {}", synchronous)); !s) return s;
  return db.exec("PRAGMA foreign_keys = ON");
}

}  // namespace

int Store::current_schema_version() { return static_cast<int>(migrations::kSteps.size()); }

Store::Store(sqlite3* db)
    : connection_(db),
      revisions_(connection_),
      alerts_(connection_),
      outbox_(connection_),
      silences_(connection_),
      meta_(connection_) {}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (auto s = create_parent_directory(options.path); !s) return s.error();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<Store> store(new Store(db));  // closes `db` whatever happens next
  if (rc != SQLITE_OK) return sql::db_error(db, fmt::format("cannot open {}", options.path));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  if (auto s = configure(store->connection_, options.synchronous); !s) return s.error();
  if (auto s = store->migrate(); !s) return s.error();
  return store;
}

Status Store::migrate() {
  int version = schema_version();
  int target = current_schema_version();
  if (version > target)
    return Error{ErrorCode::storage_error,
                 fmt::format("the database has schema version {}, newer than this kpiwatch ({})", version, target),
                 "",
                 {}};
  for (; version < target; ++version) {
    Transaction tx(connection_);
    if (!tx.began()) return tx.began();
    auto step = connection_.exec(migrations::kSteps[static_cast<std::size_t>(version)]);
    if (step) step = connection_.exec(fmt::format("PRAGMA user_version = {}", version + 1));
    if (step) step = tx.commit();
    if (!step) {
      Error e = step.error();
      e.message = fmt::format("migration to schema version {} failed: {}", version + 1, e.message);
      return e;
    }
  }
  return ok_status();
}

int Store::schema_version() {
  auto stmt = connection_.statement("PRAGMA user_version");
  if (!stmt || !stmt->row("read the schema version")) return -1;
  return static_cast<int>(stmt->int64(0));
}

Result<std::optional<std::string>> MetaRepository::get(const std::string& key) {
  auto get = db_.statement("SELECT value FROM meta WHERE key = ?1");
  if (!get) return get.error();
  get->bind_all(key);
  int rc = get->step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(get->text(0));
  if (rc != SQLITE_DONE) return get->error("read meta");
  return std::optional<std::string>();
}

Status MetaRepository::set(const std::string& key, const std::string& value) {
  auto set = db_.statement(
      "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value");
  if (!set) return set.error();
  set->bind_all(key, value);
  return set->run("write meta");
}

Status Store::for_each_alert_state(const std::function<void(const std::string& fingerprint, AlertState state)>& f) {
  auto s = connection_.statement("SELECT fingerprint, state FROM alerts");
  if (!s) return s.error();
  return s->each_row("read alert states", [&](sql::Statement& row) {
    AlertState state = AlertState::inactive;
    parse_alert_state(row.text(1), state);
    f(row.text(0), state);
  });
}

}  // namespace kpiwatch
