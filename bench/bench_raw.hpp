#pragma once
// The limit the daemon is compared to: the same rows inserted straight into
// SQLite with prepared statements, on a database whose schema was created by
// kpiwatch::Store (so tables, indexes and triggers are identical), with the
// same journal mode (WAL) and `synchronous` setting.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch::bench {

// One revisions row (and its series), every text precomputed outside the timing.
struct RawRow {
  std::string kpi;
  std::string dims;         // dims_key()
  std::string period_kind;  // to_string(PeriodKind)
  std::string period;       // Period::str()
  std::int64_t period_ord = 0;
  double value = 0;
  std::string body, source, note;
};

std::vector<RawRow> raw_rows(const std::vector<Submission>& submissions);
// The rows of POST /api/v1/submissions bodies, validated exactly as the daemon
// does. Throws std::runtime_error if one does not validate.
std::vector<RawRow> raw_rows_of(const Catalog& catalog, const std::vector<std::vector<std::string>>& bodies);

struct RawResult {
  std::size_t rows = 0;
  std::size_t transactions = 0;
  double seconds = 0;
};

// raw_insert in parts, for more rows than fit in memory at once: the
// constructor creates the database and prepares the statements (not timed),
// each insert() adds its rows in transactions of up to `rows_per_tx` (timed).
class RawInserter {
 public:
  RawInserter(const std::string& path, const std::string& synchronous, std::size_t rows_per_tx,
              std::string submitted_by, std::string received_at);
  ~RawInserter();
  RawInserter(const RawInserter&) = delete;
  RawInserter& operator=(const RawInserter&) = delete;

  void insert(const std::vector<RawRow>& rows);
  const RawResult& result() const;  // the sum over every insert()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Creates a fresh database at `path` with kpiwatch::Store, closes it, then
// inserts `rows` with raw sqlite3 calls: BEGIN IMMEDIATE, up to `rows_per_tx`
// series/revisions INSERTs, COMMIT; repeated. Throws std::runtime_error on any
// SQLite error.
RawResult raw_insert(const std::string& path, const std::string& synchronous, const std::vector<RawRow>& rows,
                     std::size_t rows_per_tx, const std::string& submitted_by, const std::string& received_at);

// SELECT COUNT(*) FROM revisions of a database file (after its writer closed it).
std::int64_t count_revisions(const std::string& path);
// SELECT COUNT(DISTINCT received_at) FROM revisions: the daemon stamps every
// revision of one group commit with one time (millisecond precision), so this
// is a lower bound on the number of commits.
std::int64_t count_received_at(const std::string& path);

}  // namespace kpiwatch::bench
