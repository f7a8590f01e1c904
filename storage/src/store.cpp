#include "kpiwatch/store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>

#include "kpiwatch/json.hpp"
#include "migrations.hpp"
#include "statement.hpp"

namespace kpiwatch {
using sql::db_error;
using sql::ResetGuard;
using sql::step_done;
using sql::Stmt;

namespace {

std::string series_cache_key(const Submission& s) { return s.kpi + '\x1f' + dims_key(s.dims); }

// The columns every revision read selects, in the order revision_from_row reads them.
constexpr const char* kRevisionColumns =
    "SELECT s.kpi, s.dims, s.period_kind, r.id, r.period, r.revision, r.value, r.items, r.body, r.source, r.note, "
    "r.submitted_by, r.received_at FROM revisions r JOIN series s ON s.id = r.series_id";

}  // namespace

struct Store::Statements {
  Stmt begin, commit, rollback, savepoint, release, rollback_to;
  Stmt find_series, insert_series, next_revision, insert_revision;
  Stmt get_meta, set_meta, count;
  Stmt revisions_after, last_revision_id, data_version;
};

int Store::current_schema_version() { return static_cast<int>(migrations::kSteps.size()); }

Store::Store(sqlite3* db)
    : db_(db), stmts_(std::make_unique<Statements>()), alert_stmts_(std::make_unique<AlertStatements>()) {}

Store::~Store() {
  stmts_.reset();  // finalize statements before closing
  alert_stmts_.reset();
  sqlite3_close_v2(db_);
}

Status Store::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    Error e{ErrorCode::storage_error, message ? message : sqlite3_errmsg(db_), "", std::nullopt};
    sqlite3_free(message);
    return e;
  }
  return ok_status();
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  std::error_code ec;
  auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return Error{ErrorCode::storage_error, fmt::format("cannot create {}: {}", parent.string(), ec.message()), "", {}};

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<Store> store(new Store(db));
  if (rc != SQLITE_OK) return db_error(db, fmt::format("cannot open {}", options.path));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);

  std::string sync = options.synchronous;
  if (sync != "normal" && sync != "full" && sync != "extra")
    return Error{ErrorCode::storage_error, fmt::format("unknown synchronous setting \"{}\"", sync), "synchronous", {}};
  if (auto s = store->exec("PRAGMA journal_mode = WAL"); !s) return s.error();
  if (auto s = store->exec(fmt::format("PRAGMA synchronous = {}", sync).c_str()); !s) return s.error();
  if (auto s = store->exec("PRAGMA foreign_keys = ON"); !s) return s.error();
  if (auto s = store->migrate(); !s) return s.error();

  auto& st = *store->stmts_;
  for (auto [stmt, sql] : std::initializer_list<std::pair<Stmt*, const char*>>{
           {&st.begin, "BEGIN IMMEDIATE"},
           {&st.commit, "COMMIT"},
           {&st.rollback, "ROLLBACK"},
           {&st.savepoint, "SAVEPOINT batch"},
           {&st.release, "RELEASE batch"},
           {&st.rollback_to, "ROLLBACK TO batch"},
           {&st.find_series, "SELECT id FROM series WHERE kpi = ?1 AND dims = ?2"},
           {&st.insert_series, "INSERT INTO series (kpi, dims, period_kind) VALUES (?1, ?2, ?3)"},
           {&st.next_revision,
            "SELECT COALESCE(MAX(revision), 0) + 1 FROM revisions WHERE series_id = ?1 AND period_ord = ?2"},
           {&st.insert_revision,
            "INSERT INTO revisions (series_id, period, period_ord, revision, value, items, body, source, note, "
            "submitted_by, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
           {&st.get_meta, "SELECT value FROM meta WHERE key = ?1"},
           {&st.set_meta,
            "INSERT INTO meta (key, value) VALUES (?1, ?2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
           {&st.count, "SELECT COUNT(*) FROM revisions"},
           {&st.last_revision_id, "SELECT COALESCE(MAX(id), 0) FROM revisions"},
           {&st.data_version, "PRAGMA data_version"},
       }) {
    if (auto s = stmt->prepare(db, sql); !s) return s.error();
  }
  std::string after = std::string(kRevisionColumns) + " WHERE r.id > ?1 ORDER BY r.id";
  if (auto s = st.revisions_after.prepare(db, after.c_str()); !s) return s.error();
  if (auto s = store->prepare_alert_statements(); !s) return s.error();
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
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return s;
    auto step = exec(migrations::kSteps[static_cast<std::size_t>(version)]);
    if (step) step = exec(fmt::format("PRAGMA user_version = {}", version + 1).c_str());
    if (step) step = exec("COMMIT");
    if (!step) {
      (void)exec("ROLLBACK");
      Error e = step.error();
      e.message = fmt::format("migration to schema version {} failed: {}", version + 1, e.message);
      return e;
    }
  }
  return ok_status();
}

int Store::schema_version() {
  sqlite3_stmt* stmt = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return version;
}

Status Store::begin() {
  pending_series_ids_.clear();
  return step_done(stmts_->begin, db_, "begin");
}

Status Store::commit() {
  auto s = step_done(stmts_->commit, db_, "commit");
  if (s) {
    series_ids_.merge(pending_series_ids_);
  } else {
    rollback();
  }
  pending_series_ids_.clear();
  return s;
}

void Store::rollback() {
  pending_series_ids_.clear();
  if (!sqlite3_get_autocommit(db_)) (void)step_done(stmts_->rollback, db_, "rollback");
}

Status Store::savepoint() { return step_done(stmts_->savepoint, db_, "savepoint"); }
Status Store::release() { return step_done(stmts_->release, db_, "release"); }
void Store::rollback_to() {
  pending_series_ids_.clear();  // ids created inside may be gone; they are looked up again
  (void)step_done(stmts_->rollback_to, db_, "rollback to savepoint");
  (void)step_done(stmts_->release, db_, "release");
}

Result<std::int64_t> Store::series_id(const Submission& s) {
  std::string key = series_cache_key(s);
  if (auto it = series_ids_.find(key); it != series_ids_.end()) return it->second;
  if (auto it = pending_series_ids_.find(key); it != pending_series_ids_.end()) return it->second;
  std::string dims = dims_key(s.dims);
  {
    auto& find = stmts_->find_series;
    ResetGuard guard{find};
    find.bind(1, std::string_view(s.kpi));
    find.bind(2, std::string_view(dims));
    int rc = find.step();
    if (rc == SQLITE_ROW) {
      auto id = find.int64(0);
      pending_series_ids_[key] = id;
      return id;
    }
    if (rc != SQLITE_DONE) return db_error(db_, "find series");
  }
  auto& insert = stmts_->insert_series;
  ResetGuard guard{insert};
  insert.bind(1, std::string_view(s.kpi));
  insert.bind(2, std::string_view(dims));
  insert.bind(3, to_string(s.period.kind));
  if (insert.step() != SQLITE_DONE) return db_error(db_, "insert series");
  auto id = sqlite3_last_insert_rowid(db_);
  pending_series_ids_[key] = id;
  return id;
}

Result<std::vector<Revision>> Store::insert(const std::vector<Submission>& batch, const std::string& submitted_by,
                                            const std::string& received_at) {
  std::vector<Revision> out;
  out.reserve(batch.size());
  for (const auto& s : batch) {
    auto sid = series_id(s);
    if (!sid) return sid.error();
    Revision r;
    r.submission = s;
    r.submitted_by = submitted_by;
    r.received_at = received_at;
    {
      auto& next = stmts_->next_revision;
      ResetGuard guard{next};
      next.bind(1, sid.value());
      next.bind(2, static_cast<std::int64_t>(s.period.ordinal()));
      if (next.step() != SQLITE_ROW) return db_error(db_, "next revision");
      r.revision = static_cast<int>(next.int64(0));
    }
    auto& ins = stmts_->insert_revision;
    ResetGuard guard{ins};
    ins.bind(1, sid.value());
    std::string period = s.period.str();
    ins.bind(2, std::string_view(period));
    ins.bind(3, static_cast<std::int64_t>(s.period.ordinal()));
    ins.bind(4, static_cast<std::int64_t>(r.revision));
    std::string items;
    if (s.value) {
      ins.bind(5, *s.value);
      ins.bind_null(6);
    } else {
      boost::json::array array;
      for (const auto& i : s.items) array.emplace_back(i);
      items = serialize_json(array);
      ins.bind_null(5);
      ins.bind(6, std::string_view(items));
    }
    ins.bind(7, std::string_view(s.body));
    ins.bind(8, std::string_view(s.source));
    ins.bind(9, std::string_view(s.note));
    ins.bind(10, std::string_view(submitted_by));
    ins.bind(11, std::string_view(received_at));
    if (ins.step() != SQLITE_DONE) return db_error(db_, "insert revision");
    r.id = sqlite3_last_insert_rowid(db_);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Revision>> Store::append(const std::vector<Submission>& batch, const std::string& submitted_by,
                                            const std::string& received_at) {
  if (auto s = begin(); !s) return s.error();
  auto result = insert(batch, submitted_by, received_at);
  if (!result) {
    rollback();
    return result;
  }
  if (auto s = commit(); !s) return s.error();
  return result;
}

namespace {

// The items column: a JSON array of strings, as insert() writes it.
std::vector<std::string> parse_items(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto items = boost::json::parse(text, ec);
  if (!ec && items.is_array())
    for (const auto& i : items.get_array())
      if (i.is_string()) out.emplace_back(i.get_string());
  return out;
}

Result<Revision> revision_from_row(Stmt& stmt) {
  Revision r;
  auto& s = r.submission;
  s.kpi = stmt.text(0);
  s.dims = parse_dims_key(stmt.text(1));
  PeriodKind kind{};
  parse_period_kind(stmt.text(2), kind);
  r.id = stmt.int64(3);
  auto period = parse_period(stmt.text(4), kind);
  if (!period) return Error{ErrorCode::storage_error, "stored period does not parse: " + stmt.text(4), "", {}};
  s.period = period.value();
  r.revision = static_cast<int>(stmt.int64(5));
  if (!stmt.is_null(6)) s.value = stmt.real(6);
  if (!stmt.is_null(7)) s.items = parse_items(stmt.text(7));
  s.body = stmt.text(8);
  s.source = stmt.text(9);
  s.note = stmt.text(10);
  r.submitted_by = stmt.text(11);
  r.received_at = stmt.text(12);
  return r;
}

Result<std::vector<Revision>> read_revisions(sqlite3* db, Stmt& stmt, const char* what) {
  std::vector<Revision> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    auto r = revision_from_row(stmt);
    if (!r) return r.error();
    out.push_back(std::move(r.value()));
  }
  if (rc != SQLITE_DONE) return db_error(db, what);
  return out;
}

}  // namespace

Result<std::vector<Revision>> Store::series(const SeriesQuery& query) {
  // Ad-hoc statement: the dims filter varies per query.
  std::string sql = std::string(kRevisionColumns) + " WHERE s.kpi = ?1";
  if (!query.revisions)
    sql +=
        " AND r.revision = (SELECT MAX(r2.revision) FROM revisions r2 WHERE r2.series_id = r.series_id AND "
        "r2.period_ord = r.period_ord)";
  int param = 2;
  for (std::size_t i = 0; i < query.dims.size(); ++i, ++param)
    sql += fmt::format(" AND instr(',' || s.dims || ',', ',' || ?{} || ',') > 0", param);
  sql += " ORDER BY s.dims, r.period_ord, r.revision";

  Stmt stmt;
  if (auto s = stmt.prepare(db_, sql.c_str()); !s) return s.error();
  stmt.bind(1, std::string_view(query.kpi));
  param = 2;
  std::vector<std::string> pairs;
  pairs.reserve(query.dims.size());
  for (const auto& [k, v] : query.dims) pairs.push_back(fmt::format("{}={}", k, v));
  for (const auto& p : pairs) stmt.bind(param++, std::string_view(p));
  return read_revisions(db_, stmt, "read series");
}

Result<std::vector<Revision>> Store::revisions_after(std::int64_t id) {
  auto& after = stmts_->revisions_after;
  ResetGuard guard{after};
  after.bind(1, id);
  return read_revisions(db_, after, "read new revisions");
}

Result<std::int64_t> Store::last_revision_id() {
  auto& last = stmts_->last_revision_id;
  ResetGuard guard{last};
  if (last.step() != SQLITE_ROW) return db_error(db_, "read the last revision id");
  return last.int64(0);
}

Result<std::int64_t> Store::data_version() {
  auto& version = stmts_->data_version;
  ResetGuard guard{version};
  if (version.step() != SQLITE_ROW) return db_error(db_, "read the data version");
  return version.int64(0);
}

Status Store::for_each_current(
    const std::function<void(const std::string& kpi, const Dims& dims, Point point)>& visit) {
  Stmt stmt;
  auto prepared = stmt.prepare(db_,
                               "SELECT s.kpi, s.dims, s.period_kind, r.period, r.value, r.items FROM revisions r "
                               "JOIN series s ON s.id = r.series_id WHERE r.revision = (SELECT MAX(r2.revision) FROM "
                               "revisions r2 WHERE r2.series_id = r.series_id AND r2.period_ord = r.period_ord) "
                               "ORDER BY r.series_id, r.period_ord");
  if (!prepared) return prepared;
  int rc;
  std::string last_dims_key;
  Dims dims;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    std::string key = stmt.text(1);
    if (key != last_dims_key) {
      dims = parse_dims_key(key);
      last_dims_key = key;
    }
    PeriodKind kind{};
    parse_period_kind(stmt.text(2), kind);
    auto period = parse_period(stmt.text(3), kind);
    if (!period) return Error{ErrorCode::storage_error, "stored period does not parse: " + stmt.text(3), "", {}};
    Point p;
    p.period = period.value();
    if (!stmt.is_null(4)) p.value = stmt.real(4);
    if (!stmt.is_null(5)) p.items = parse_items(stmt.text(5));
    visit(stmt.text(0), dims, std::move(p));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "read current values");
  return ok_status();
}

Result<std::int64_t> Store::revision_count() {
  auto& count = stmts_->count;
  ResetGuard guard{count};
  if (count.step() != SQLITE_ROW) return db_error(db_, "count");
  return count.int64(0);
}

Result<std::optional<std::string>> Store::meta(const std::string& key) {
  auto& get = stmts_->get_meta;
  ResetGuard guard{get};
  get.bind(1, std::string_view(key));
  int rc = get.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(get.text(0));
  if (rc != SQLITE_DONE) return db_error(db_, "read meta");
  return std::optional<std::string>();
}

Status Store::set_meta(const std::string& key, const std::string& value) {
  auto& set = stmts_->set_meta;
  set.bind(1, std::string_view(key));
  set.bind(2, std::string_view(value));
  return step_done(set, db_, "write meta");
}

}  // namespace kpiwatch
