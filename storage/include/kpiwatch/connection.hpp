#pragma once
// One SQLite connection, its prepared statements, and the transactions on it.
// Use a connection, and everything made from it, from one thread at a time.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kpiwatch {
namespace sql {
class Statement;
}

class Connection {
 public:
  // Takes `db` over; it is closed, after its statements, with the connection.
  explicit Connection(sqlite3* db);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL text that returns no rows (pragmas, migrations).
  Status exec(const std::string& sql);
  // The statement for `sql`, prepared on first use and kept for the
  // connection's life. For storage's own sources: SQL lives there only.
  // REQUIRES: the previous handle for the same `sql` has gone.
  Result<sql::Statement> statement(std::string_view sql);

  // SQLite's PRAGMA data_version: changes when another connection (kpiwatch import,
  // a second process) commits, never for this connection's own commits.
  Result<std::int64_t> data_version();
  bool in_transaction() const;
  // The rowid of the last INSERT and the rows changed by the last statement.
  std::int64_t last_insert_id() const;
  int changes() const;

  // What a transaction did, for state kept beside the database (caches).
  enum class Event { begun, committed, rolled_back };
  void on_transaction(std::function<void(Event)> listener);

 private:
  friend class Transaction;
  friend class Savepoint;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  Status control(const char* sql, std::string_view what);
  void notify(Event event);

  sqlite3* db_;
  std::map<std::string, Cached, std::less<>> statements_;
  std::vector<std::function<void(Event)>> listeners_;
};

// BEGIN IMMEDIATE when made; ROLLBACK when it goes out of scope uncommitted.
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Whether BEGIN succeeded. REQUIRES: ok before anything is written.
  const Status& began() const { return began_; }
  // COMMIT; on failure the transaction is rolled back. Either way it is over.
  Status commit();

 private:
  friend class Savepoint;
  void rollback();

  Connection& connection_;
  Status began_;
  bool open_ = false;
};

// A nested scope inside an open transaction (a batch of a group commit):
// released explicitly, or rolled back to when it goes out of scope.
class Savepoint {
 public:
  explicit Savepoint(Transaction& transaction);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;

  const Status& began() const { return began_; }
  // Keeps what was written inside, as part of the transaction.
  Status release();

 private:
  static Status start(Transaction& transaction);

  Connection& connection_;
  Status began_;
  bool open_ = false;
};

}  // namespace kpiwatch
