#pragma once
// Prepared statements for the store's translation units.

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "kpiwatch/result.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch::sql {

inline Error db_error(sqlite3* db, std::string_view what) {
  return {ErrorCode::storage_error, fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"), "",
          std::nullopt};
}

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status prepare(sqlite3* db, const char* sql) {
    db_ = db;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      return db_error(db, "prepare");
    return ok_status();
  }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_null(int i) { sqlite3_bind_null(stmt_, i); }
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t int64(int col) { return sqlite3_column_int64(stmt_, col); }
  double real(int col) { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when the scope ends, whatever the outcome.
struct ResetGuard {
  Stmt& stmt;
  ~ResetGuard() { stmt.reset(); }
};

inline Status step_done(Stmt& stmt, sqlite3* db, std::string_view what) {
  ResetGuard guard{stmt};
  if (stmt.step() != SQLITE_DONE) return db_error(db, what);
  return ok_status();
}

}  // namespace kpiwatch::sql

namespace kpiwatch {

struct Store::AlertStatements {
  sql::Stmt upsert, insert_transition;
};

}  // namespace kpiwatch
