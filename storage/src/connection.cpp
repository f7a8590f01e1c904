#include "kpiwatch/connection.hpp"

#include <sqlite3.h>

#include "statement.hpp"

namespace kpiwatch {

Connection::Connection(sqlite3* db) : db_(db) {}

Connection::~Connection() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

Status Connection::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error e{sql::error_code(db_), message ? message : sqlite3_errmsg(db_), "", std::nullopt};
    sqlite3_free(message);
    return e;
  }
  return ok_status();
}

Result<sql::Statement> Connection::statement(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK)
      return sql::db_error(db_, "prepare");
    it = statements_.emplace(std::string(sql), Cached{stmt, false}).first;
  }
  // Two handles on one statement would reset each other's rows.
  if (it->second.in_use)
    return Error{ErrorCode::storage_error, fmt::format("statement already in use: {}", sql), "", std::nullopt};
  it->second.in_use = true;
  return sql::Statement(db_, it->second.stmt, &it->second.in_use);
}

Result<std::int64_t> Connection::data_version() {
  auto version = statement("PRAGMA data_version");
  if (!version) return version.error();
  if (auto s = version->row("read the data version"); !s) return s.error();
  return version->int64(0);
}

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
std::int64_t Connection::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }

void Connection::on_transaction(std::function<void(Event)> listener) { listeners_.push_back(std::move(listener)); }

void Connection::notify(Event event) {
  for (const auto& listener : listeners_) listener(event);
}

// The transaction statements are cached too: group commit runs them per batch.
Status Connection::control(const char* sql, std::string_view what) {
  auto stmt = statement(sql);
  if (!stmt) return stmt.error();
  return stmt->run(what);
}

namespace {
Error no_transaction(std::string_view what) {
  return {ErrorCode::storage_error, fmt::format("{}: no open transaction", what), "", std::nullopt};
}
}  // namespace

Transaction::Transaction(Connection& connection)
    : connection_(connection), began_(connection.control("BEGIN IMMEDIATE", "begin")) {
  open_ = began_.ok();
  if (open_) connection_.notify(Connection::Event::begun);
}

Transaction::~Transaction() { rollback(); }

void Transaction::rollback() {
  if (!open_) return;
  open_ = false;
  if (connection_.in_transaction()) (void)connection_.control("ROLLBACK", "rollback");
  connection_.notify(Connection::Event::rolled_back);
}

Status Transaction::commit() {
  if (!began_) return began_;
  if (!open_) return no_transaction("commit");
  if (!connection_.in_transaction()) {  // SQLite rolled it back on an error
    rollback();
    return no_transaction("commit");
  }
  auto committed = connection_.control("COMMIT", "commit");
  if (!committed) {
    rollback();
    return committed;
  }
  open_ = false;
  connection_.notify(Connection::Event::committed);
  return committed;
}

Status Savepoint::start(Transaction& transaction) {
  if (!transaction.began()) return transaction.began();
  // Outside a transaction (SQLite rolled it back), a savepoint would begin one of its own.
  if (!transaction.open_ || !transaction.connection_.in_transaction()) return no_transaction("savepoint");
  return transaction.connection_.control("SAVEPOINT batch", "savepoint");
}

Savepoint::Savepoint(Transaction& transaction) : connection_(transaction.connection_), began_(start(transaction)) {
  open_ = began_.ok();
}

Savepoint::~Savepoint() {
  if (!open_) return;
  connection_.notify(Connection::Event::rolled_back);
  (void)connection_.control("ROLLBACK TO batch", "rollback to savepoint");
  (void)connection_.control("RELEASE batch", "release");
}

Status Savepoint::release() {
  if (!open_) return began_.ok() ? Status(no_transaction("release")) : began_;
  open_ = false;
  return connection_.control("RELEASE batch", "release");
}

}  // namespace kpiwatch
