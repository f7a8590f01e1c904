#pragma once
// A cached prepared statement in use, for storage's own translation units.

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "kpiwatch/result.hpp"

namespace kpiwatch::sql {

// A full disk is told apart: nothing was written, and the same request succeeds once there is room.
inline ErrorCode error_code(sqlite3* db) {
  return db && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL ? ErrorCode::storage_full
                                                                    : ErrorCode::storage_error;
}

inline Error db_error(sqlite3* db, std::string_view what) {
  return {error_code(db), fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"), "", std::nullopt};
}

// A statement borrowed from the connection's cache; reset, its bindings
// cleared and handed back when the handle goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use) : db_(db), stmt_(stmt), in_use_(in_use) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), in_use_(std::exchange(other.in_use_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  }

  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }
  // Binds text without copying it. REQUIRES: `v` outlives the statement's next step.
  void bind_static(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind(int i, const char* v) { bind(i, std::string_view(v)); }
  void bind(int i, std::optional<double> v) {
    if (v)
      bind(i, *v);
    else
      sqlite3_bind_null(stmt_, i);
  }
  void bind(int i, const std::optional<std::string>& v) {
    if (v)
      bind(i, *v);
    else
      sqlite3_bind_null(stmt_, i);
  }
  void bind_null(int i) { sqlite3_bind_null(stmt_, i); }
  // Binds the parameters ?1, ?2, ... in order.
  template <class... Args>
  void bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
  }

  int step() { return sqlite3_step(stmt_); }
  // Steps a statement that returns no row.
  Status run(std::string_view what) {
    if (step() != SQLITE_DONE) return error(what);
    return ok_status();
  }
  // Steps to the one row a statement returns (an aggregate, a pragma).
  Status row(std::string_view what) {
    if (step() != SQLITE_ROW) return error(what);
    return ok_status();
  }
  // Calls `read` for every row; a `read` that returns a Status stops at its first error.
  template <class Read>
  Status each_row(std::string_view what, Read&& read) {
    int rc = 0;
    while ((rc = step()) == SQLITE_ROW) {
      if constexpr (std::is_void_v<std::invoke_result_t<Read&, Statement&>>) {
        read(*this);
      } else if (auto s = read(*this); !s) {
        return s;
      }
    }
    if (rc != SQLITE_DONE) return error(what);
    return ok_status();
  }
  Error error(std::string_view what) const { return db_error(db_, what); }

  std::int64_t int64(int col) { return sqlite3_column_int64(stmt_, col); }
  double real(int col) { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<double> optional_real(int col) { return is_null(col) ? std::nullopt : std::optional(real(col)); }
  std::string text(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

}  // namespace kpiwatch::sql
