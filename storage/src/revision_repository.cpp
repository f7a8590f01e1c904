// Revisions: every submission appended, the newest per period current.
#include "kpiwatch/revision_repository.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "kpiwatch/json.hpp"
#include "kpiwatch/text.hpp"
#include "statement.hpp"

namespace kpiwatch {
using sql::Statement;

namespace {

std::string series_cache_key(const Submission& s) { return s.kpi + '\x1f' + dims_key(s.dims); }

// The columns every revision read selects, in the order revision_from_row reads them.
constexpr std::string_view kRevisionColumns =
    "SELECT s.kpi, s.dims, s.period_kind, r.id, r.period, r.revision, r.value, r.items, r.body, r.source, r.note, "
    "r.submitted_by, r.received_at FROM revisions r JOIN series s ON s.id = r.series_id";

// Keeps only the newest revision of each period.
constexpr std::string_view kCurrentOnly =
    "r.revision = (SELECT MAX(r2.revision) FROM revisions r2 WHERE r2.series_id = r.series_id AND "
    "r2.period_ord = r.period_ord)";

std::string items_json(const std::vector<std::string>& items) {
  boost::json::array array;
  for (const auto& i : items) array.emplace_back(i);
  return serialize_json(array);
}

// The items column: a JSON array of strings, as items_json writes it.
std::vector<std::string> parse_items(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto items = boost::json::parse(text, ec);
  if (!ec && items.is_array())
    for (const auto& i : items.get_array())
      if (i.is_string()) out.emplace_back(i.get_string());
  return out;
}

Result<Period> read_period(Statement& stmt, int kind_column, int period_column) {
  PeriodKind kind{};
  parse_period_kind(stmt.text(kind_column), kind);
  auto period = parse_period(stmt.text(period_column), kind);
  if (!period)
    return Error{ErrorCode::storage_error, "stored period does not parse: " + stmt.text(period_column), "", {}};
  return period.value();
}

Result<Revision> revision_from_row(Statement& stmt) {
  Revision r;
  auto& s = r.submission;
  s.kpi = stmt.text(0);
  s.dims = parse_dims_key(stmt.text(1));
  r.id = stmt.int64(3);
  auto period = read_period(stmt, 2, 4);
  if (!period) return period.error();
  s.period = period.value();
  r.revision = static_cast<int>(stmt.int64(5));
  s.value = stmt.optional_real(6);
  if (!stmt.is_null(7)) s.items = parse_items(stmt.text(7));
  s.body = stmt.text(8);
  s.source = stmt.text(9);
  s.note = stmt.text(10);
  r.submitted_by = stmt.text(11);
  r.received_at = stmt.text(12);
  return r;
}

Result<std::vector<Revision>> read_revisions(Statement& stmt, std::string_view what) {
  std::vector<Revision> out;
  auto read = stmt.each_row(what, [&](Statement& row) -> Status {
    auto r = revision_from_row(row);
    if (!r) return r.error();
    out.push_back(std::move(r.value()));
    return ok_status();
  });
  if (!read) return read.error();
  return out;
}

}  // namespace

RevisionRepository::RevisionRepository(Connection& connection) : db_(connection) {
  // Series created in a transaction that is rolled back are gone; look them up again.
  db_.on_transaction([this](Connection::Event event) {
    if (event == Connection::Event::committed) series_ids_.merge(pending_series_ids_);
    pending_series_ids_.clear();
  });
}

Result<std::int64_t> RevisionRepository::series_id(const Submission& s) {
  std::string key = series_cache_key(s);
  if (auto it = series_ids_.find(key); it != series_ids_.end()) return it->second;
  if (auto it = pending_series_ids_.find(key); it != pending_series_ids_.end()) return it->second;
  std::string dims = dims_key(s.dims);
  {
    auto find = db_.statement("SELECT id FROM series WHERE kpi = ?1 AND dims = ?2");
    if (!find) return find.error();
    find->bind_all(s.kpi, dims);
    int rc = find->step();
    if (rc == SQLITE_ROW) return pending_series_ids_[key] = find->int64(0);
    if (rc != SQLITE_DONE) return find->error("find series");
  }
  std::int64_t id = 0;
  {
    auto insert = db_.statement("INSERT INTO series (kpi, dims, period_kind) VALUES (?1, ?2, ?3)");
    if (!insert) return insert.error();
    insert->bind_all(s.kpi, dims, to_string(s.period.kind));
    if (auto done = insert->run("insert series"); !done) return done.error();
    id = db_.last_insert_id();
  }
  for (const auto& [name, value] : s.dims) {
    auto pair =
        db_.statement("INSERT INTO series_dims (kpi, name, value, dims, series_id) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!pair) return pair.error();
    pair->bind_all(s.kpi, name, value, dims, id);
    if (auto done = pair->run("index series dims"); !done) return done.error();
  }
  auto counted = db_.statement(
      "INSERT INTO kpi_series (kpi, series) VALUES (?1, 1) ON CONFLICT (kpi) DO UPDATE SET series = series + 1");
  if (!counted) return counted.error();
  counted->bind_all(s.kpi);
  if (auto done = counted->run("count series"); !done) return done.error();
  return pending_series_ids_[key] = id;
}

Result<Revision> RevisionRepository::insert_one(const Submission& s, const std::string& submitted_by,
                                                const std::string& received_at) {
  auto sid = series_id(s);
  if (!sid) return sid.error();
  Revision r;
  r.submission = s;
  r.submitted_by = submitted_by;
  r.received_at = received_at;
  auto ordinal = static_cast<std::int64_t>(s.period.ordinal());
  {
    auto next =
        db_.statement("SELECT COALESCE(MAX(revision), 0) + 1 FROM revisions WHERE series_id = ?1 AND period_ord = ?2");
    if (!next) return next.error();
    next->bind_all(sid.value(), ordinal);
    if (auto row = next->row("next revision"); !row) return row.error();
    r.revision = static_cast<int>(next->int64(0));
  }
  // Bound without copies below: every string outlives the statement's handle. (One
  // INSERT ... SELECT MAX(revision) ... RETURNING instead of two statements costs
  // SQLite several times more: it stages the row in ephemeral tables.)
  std::string period = s.period.str();
  auto items = s.value ? std::nullopt : std::optional(items_json(s.items));
  auto ins = db_.statement(
      "INSERT INTO revisions (series_id, period, period_ord, revision, value, items, body, source, note, "
      "submitted_by, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!ins) return ins.error();
  ins->bind(1, sid.value());
  ins->bind_static(2, period);
  ins->bind(3, ordinal);
  ins->bind(4, r.revision);
  ins->bind(5, s.value);
  if (items)
    ins->bind_static(6, *items);
  else
    ins->bind_null(6);
  ins->bind_static(7, s.body);
  ins->bind_static(8, s.source);
  ins->bind_static(9, s.note);
  ins->bind_static(10, submitted_by);
  ins->bind_static(11, received_at);
  if (auto done = ins->run("insert revision"); !done) return done.error();
  r.id = db_.last_insert_id();
  return r;
}

namespace {

// The last guard: every writer validates its texts, and none that is not UTF-8 is ever stored.
Status all_utf8(const Submission& s, std::size_t index, const std::string& submitted_by) {
  auto check = [&](std::string_view text, std::string_view field) -> Status {
    if (auto bad = invalid_utf8_at(text))
      return Error{ErrorCode::invalid_encoding,
                   fmt::format("\"{}\" is not UTF-8 text (byte 0x{:02X} at offset {}); nothing was stored", field,
                               static_cast<unsigned char>(text[*bad]), *bad),
                   std::string(field), index};
    return ok_status();
  };
  Status ok = check(s.kpi, "kpi");
  for (const auto& [name, value] : s.dims) {
    if (ok) ok = check(name, "dims");
    if (ok) ok = check(value, "dims." + name);
  }
  for (std::size_t i = 0; ok && i < s.items.size(); ++i) ok = check(s.items[i], fmt::format("items[{}]", i));
  if (ok) ok = check(s.body, "body");
  if (ok) ok = check(s.source, "source");
  if (ok) ok = check(s.note, "note");
  if (ok) ok = check(submitted_by, "submitted_by");
  return ok;
}

}  // namespace

Result<std::vector<Revision>> RevisionRepository::insert(const std::vector<Submission>& batch,
                                                         const std::string& submitted_by,
                                                         const std::string& received_at) {
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (auto utf8 = all_utf8(batch[i], i, submitted_by); !utf8) return utf8.error();
  std::vector<Revision> out;
  out.reserve(batch.size());
  for (const auto& s : batch) {
    auto r = insert_one(s, submitted_by, received_at);
    if (!r) return r.error();
    out.push_back(std::move(r.value()));
  }
  return out;
}

Result<std::vector<Revision>> RevisionRepository::append(const std::vector<Submission>& batch,
                                                         const std::string& submitted_by,
                                                         const std::string& received_at) {
  Transaction tx(db_);
  if (!tx.began()) return tx.began().error();
  auto result = insert(batch, submitted_by, received_at);
  if (!result) return result;
  if (auto s = tx.commit(); !s) return s.error();
  return result;
}

namespace {

// The ids of a query's series in dims order. Without dims, from the series
// table's (kpi, dims) index; with dims, from series_dims: the first pair's
// matches, already in dims order, each checked for the other pairs by key. A page
// reads its own series only; a count, the matches. Parameters: ?1 the KPI, then
// a name and a value per pair, then `after`, limit and offset for a page.
std::string series_ids_sql(const SeriesQuery& query, const std::optional<SeriesPage>& page) {
  std::string sql;
  std::string_view dims = "s.dims";
  if (query.dims.empty()) {
    sql = "SELECT s.id FROM series s WHERE s.kpi = ?1";
  } else {
    sql = "SELECT d0.series_id FROM series_dims d0 WHERE d0.kpi = ?1 AND d0.name = ?2 AND d0.value = ?3";
    for (std::size_t i = 1; i < query.dims.size(); ++i)
      sql += fmt::format(
          " AND EXISTS (SELECT 1 FROM series_dims d{0} WHERE d{0}.kpi = ?1 AND d{0}.name = ?{1} AND "
          "d{0}.value = ?{2} AND d{0}.dims = d0.dims)",
          i, 2 * i + 2, 2 * i + 3);
    dims = "d0.dims";
  }
  if (!page) return sql;
  int next = static_cast<int>(2 * query.dims.size() + 2);
  if (page->after) sql += fmt::format(" AND {} > ?{}", dims, next);
  return sql + fmt::format(" ORDER BY {} LIMIT ?{} OFFSET ?{}", dims, next + 1, next + 2);
}

void bind_series_ids(Statement& stmt, const SeriesQuery& query, const std::optional<SeriesPage>& page) {
  stmt.bind(1, query.kpi);
  int param = 2;
  for (const auto& [k, v] : query.dims) {
    stmt.bind(param++, k);
    stmt.bind(param++, v);
  }
  if (!page) return;
  if (page->after) stmt.bind(param, *page->after);
  stmt.bind(param + 1, static_cast<std::int64_t>(page->limit));
  stmt.bind(param + 2, static_cast<std::int64_t>(page->offset));
}

}  // namespace

Result<Statement> RevisionRepository::series_statement(const SeriesQuery& query,
                                                       const std::optional<SeriesPage>& page) {
  // One cached statement per shape: with or without history, a page (with a
  // cursor) or not, and per number of dims. The query's series first, then their revisions.
  std::string sql = fmt::format("{} WHERE r.series_id IN ({})", kRevisionColumns, series_ids_sql(query, page));
  if (!query.revisions) sql += fmt::format(" AND {}", kCurrentOnly);
  sql += " ORDER BY s.dims, r.period_ord, r.revision";
  auto stmt = db_.statement(sql);
  if (!stmt) return stmt.error();
  bind_series_ids(*stmt, query, page);
  return stmt;
}

Result<std::vector<Revision>> RevisionRepository::series(const SeriesQuery& query,
                                                         const std::optional<SeriesPage>& page) {
  auto stmt = series_statement(query, page);
  if (!stmt) return stmt.error();
  return read_revisions(stmt.value(), "read series");
}

Status RevisionRepository::each_revision(const SeriesQuery& query,
                                         const std::function<Status(const Revision&)>& visit) {
  auto stmt = series_statement(query, std::nullopt);
  if (!stmt) return stmt.error();
  return stmt->each_row("read series", [&](Statement& row) -> Status {
    auto r = revision_from_row(row);
    if (!r) return r.error();
    return visit(r.value());
  });
}

Result<std::int64_t> RevisionRepository::series_count(const SeriesQuery& query) {
  auto stmt = db_.statement(query.dims.empty() ? "SELECT COALESCE(MAX(series), 0) FROM kpi_series WHERE kpi = ?1"
                                               : fmt::format("SELECT COUNT(*) FROM ({})", series_ids_sql(query, {})));
  if (!stmt) return stmt.error();
  bind_series_ids(*stmt, query, {});
  if (auto row = stmt->row("count series"); !row) return row.error();
  return stmt->int64(0);
}

Result<bool> RevisionRepository::has_series(const std::string& kpi, const Dims& dims) {
  auto stmt = db_.statement("SELECT 1 FROM series WHERE kpi = ?1 AND dims = ?2");
  if (!stmt) return stmt.error();
  stmt->bind_all(kpi, dims_key(dims));
  int rc = stmt->step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return stmt->error("find series");
  return rc == SQLITE_ROW;
}

Result<std::vector<Revision>> RevisionRepository::latest(const std::string& kpi, int periods,
                                                         std::optional<int> first_series) {
  // Numbers each series' current values from the newest period down, then keeps the first few;
  // with first_series, only the first series (by the series index) are numbered.
  std::string_view series =
      first_series ? "r.series_id IN (SELECT id FROM series WHERE kpi = ?1 ORDER BY dims LIMIT ?3)" : "s.kpi = ?1";
  auto stmt = db_.statement(fmt::format(
      "{} JOIN (SELECT r.id AS id, ROW_NUMBER() OVER (PARTITION BY r.series_id ORDER BY r.period_ord DESC) AS k "
      "FROM revisions r JOIN series s ON s.id = r.series_id WHERE {} AND {}) newest ON newest.id = r.id "
      "WHERE newest.k <= ?2 ORDER BY s.dims, r.period_ord",
      kRevisionColumns, series, kCurrentOnly));
  if (!stmt) return stmt.error();
  stmt->bind(1, kpi);
  stmt->bind(2, static_cast<std::int64_t>(periods));
  if (first_series) stmt->bind(3, static_cast<std::int64_t>(*first_series));
  return read_revisions(*stmt, "read latest figures");
}

Result<std::vector<Revision>> RevisionRepository::tail(const std::string& kpi, const Dims& dims, int periods) {
  // Newest first for the LIMIT, then back to period order.
  auto stmt =
      db_.statement(fmt::format("{} WHERE r.id IN (SELECT r.id FROM revisions r JOIN series s ON s.id = "
                                "r.series_id WHERE s.kpi = ?1 AND s.dims = ?2 AND {} ORDER BY r.period_ord "
                                "DESC LIMIT ?3) ORDER BY r.period_ord",
                                kRevisionColumns, kCurrentOnly));
  if (!stmt) return stmt.error();
  stmt->bind(1, kpi);
  stmt->bind(2, dims_key(dims));
  stmt->bind(3, static_cast<std::int64_t>(periods));
  return read_revisions(*stmt, "read a series' newest figures");
}

Result<std::vector<Revision>> RevisionRepository::after(std::int64_t id) {
  auto after = db_.statement(fmt::format("{} WHERE r.id > ?1 ORDER BY r.id", kRevisionColumns));
  if (!after) return after.error();
  after->bind(1, id);
  return read_revisions(*after, "read new revisions");
}

Result<std::int64_t> RevisionRepository::last_id() {
  auto last = db_.statement("SELECT COALESCE(MAX(id), 0) FROM revisions");
  if (!last) return last.error();
  if (auto row = last->row("read the last revision id"); !row) return row.error();
  return last->int64(0);
}

Result<std::int64_t> RevisionRepository::count() {
  auto count = db_.statement("SELECT COUNT(*) FROM revisions");
  if (!count) return count.error();
  if (auto row = count->row("count"); !row) return row.error();
  return count->int64(0);
}

Status RevisionRepository::for_each_current(
    const std::function<void(const std::string& kpi, const Dims& dims, Point point)>& visit) {
  auto stmt = db_.statement(fmt::format(
      "SELECT s.kpi, s.dims, s.period_kind, r.period, r.value, r.items FROM revisions r JOIN series s ON s.id = "
      "r.series_id WHERE {} ORDER BY r.series_id, r.period_ord",
      kCurrentOnly));
  if (!stmt) return stmt.error();
  std::string last_dims_key;
  Dims dims;
  return stmt->each_row("read current values", [&](Statement& row) -> Status {
    if (std::string key = row.text(1); key != last_dims_key) {
      dims = parse_dims_key(key);
      last_dims_key = std::move(key);
    }
    auto period = read_period(row, 2, 3);
    if (!period) return period.error();
    Point p{period.value(), row.optional_real(4), {}};
    if (!row.is_null(5)) p.items = parse_items(row.text(5));
    visit(row.text(0), dims, std::move(p));
    return ok_status();
  });
}

}  // namespace kpiwatch
