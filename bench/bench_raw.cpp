#include "bench_raw.hpp"

#include <sqlite3.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "kpiwatch/store.hpp"

namespace kpiwatch::bench {
namespace {

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      throw std::runtime_error("cannot open " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* get() const { return db_; }
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(what + ": " + sqlite3_errmsg(db_)); }
  void exec(const std::string& sql) const {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(const Db& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      db.fail(std::string("prepare ") + sql);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& int64(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // Steps to SQLITE_DONE and resets.
  void run(const char* what) {
    int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) db_.fail(what);
  }
  std::int64_t single_int(const char* what) {
    if (sqlite3_step(stmt_) != SQLITE_ROW) db_.fail(what);
    auto v = sqlite3_column_int64(stmt_, 0);
    sqlite3_reset(stmt_);
    return v;
  }

 private:
  const Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

std::vector<RawRow> raw_rows(const std::vector<Submission>& submissions) {
  std::vector<RawRow> rows;
  rows.reserve(submissions.size());
  for (const auto& s : submissions) {
    if (!s.value) throw std::runtime_error("raw rows: item-list KPIs are not used by the benchmark");
    rows.push_back({s.kpi, dims_key(s.dims), std::string(to_string(s.period.kind)), s.period.str(), s.period.ordinal(),
                    *s.value, s.body, s.source, s.note});
  }
  return rows;
}

std::vector<RawRow> raw_rows_of(const Catalog& catalog, const std::vector<std::vector<std::string>>& bodies) {
  std::vector<Submission> all;
  for (const auto& connection : bodies)
    for (const auto& body : connection) {
      auto batch = parse_submissions(catalog, body, ValidationLimits{});
      if (!batch) throw std::runtime_error("benchmark body does not validate: " + batch.error().message);
      for (auto& s : batch.value()) all.push_back(std::move(s));
    }
  return raw_rows(all);
}

namespace {

// Creates the schema exactly as the daemon does (tables, UNIQUE indexes, triggers, WAL); returns `path`.
const std::string& with_schema(const std::string& path, const std::string& synchronous) {
  auto store = Store::open({path, synchronous, 5000});
  if (!store) throw std::runtime_error("kpiwatch::Store::open " + path + ": " + store.error().message);
  return path;
}

}  // namespace

struct RawInserter::Impl {
  Db db;
  std::size_t rows_per_tx;
  std::string submitted_by, received_at;
  std::optional<Stmt> begin, commit, insert_series, insert_revision;
  std::unordered_map<std::string, std::int64_t> series_ids;  // kpi + '\x1f' + dims, as the daemon caches them
  std::string key;
  RawResult result;

  Impl(const std::string& path, const std::string& synchronous, std::size_t per_tx, std::string by, std::string at)
      : db(with_schema(path, synchronous)),
        rows_per_tx(per_tx),
        submitted_by(std::move(by)),
        received_at(std::move(at)) {
    // The connection settings of kpiwatch::Store::open.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = " + synchronous);
    db.exec("PRAGMA foreign_keys = ON");
    begin.emplace(db, "BEGIN IMMEDIATE");
    commit.emplace(db, "COMMIT");
    insert_series.emplace(db, "INSERT INTO series (kpi, dims, period_kind) VALUES (?1, ?2, ?3)");
    insert_revision.emplace(db,
                            "INSERT INTO revisions (series_id, period, period_ord, revision, value, items, body, "
                            "source, note, submitted_by, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                            "?10, ?11)");
  }
};

RawInserter::RawInserter(const std::string& path, const std::string& synchronous, std::size_t rows_per_tx,
                         std::string submitted_by, std::string received_at)
    : impl_(std::make_unique<Impl>(path, synchronous, rows_per_tx, std::move(submitted_by), std::move(received_at))) {}

RawInserter::~RawInserter() = default;

const RawResult& RawInserter::result() const { return impl_->result; }

void RawInserter::insert(const std::vector<RawRow>& rows) {
  auto& m = *impl_;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < rows.size();) {
    m.begin->run("begin");
    std::size_t end = std::min(rows.size(), i + m.rows_per_tx);
    for (; i < end; ++i) {
      const auto& r = rows[i];
      m.key.assign(r.kpi).append(1, '\x1f').append(r.dims);
      auto it = m.series_ids.find(m.key);
      if (it == m.series_ids.end()) {
        m.insert_series->text(1, r.kpi).text(2, r.dims).text(3, r.period_kind).run("insert series");
        it = m.series_ids.emplace(m.key, sqlite3_last_insert_rowid(m.db.get())).first;
      }
      m.insert_revision->int64(1, it->second)
          .text(2, r.period)
          .int64(3, r.period_ord)
          .int64(4, 1)  // every benchmark row is the first revision of its (series, period)
          .real(5, r.value)
          .null(6)
          .text(7, r.body)
          .text(8, r.source)
          .text(9, r.note)
          .text(10, m.submitted_by)
          .text(11, m.received_at)
          .run("insert revision");
      ++m.result.rows;
    }
    m.commit->run("commit");
    ++m.result.transactions;
  }
  m.result.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

RawResult raw_insert(const std::string& path, const std::string& synchronous, const std::vector<RawRow>& rows,
                     std::size_t rows_per_tx, const std::string& submitted_by, const std::string& received_at) {
  RawInserter inserter(path, synchronous, rows_per_tx, submitted_by, received_at);
  inserter.insert(rows);
  return inserter.result();
}

std::int64_t count_revisions(const std::string& path) {
  Db db(path);
  Stmt count(db, "SELECT COUNT(*) FROM revisions");
  return count.single_int("count revisions");
}

std::int64_t count_received_at(const std::string& path) {
  Db db(path);
  Stmt count(db, "SELECT COUNT(DISTINCT received_at) FROM revisions");
  return count.single_int("count received_at");
}

}  // namespace kpiwatch::bench
