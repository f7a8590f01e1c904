#pragma once
// Append-only revisions of KPI figures, and the series they belong to.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kpiwatch/connection.hpp"
#include "kpiwatch/point.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch {

struct SeriesQuery {
  std::string kpi;
  Dims dims;               // only series whose dims include these pairs
  bool revisions = false;  // every revision, not only the current one
};

// A page of the series of a query, in dims order: at most `limit` of them from
// `offset`, counted from the first series whose dims key sorts after `after` (a
// cursor: the last series of the page before), else from the first.
struct SeriesPage {
  int limit = 50;
  int offset = 0;
  std::optional<std::string> after;
};

class RevisionRepository {
 public:
  explicit RevisionRepository(Connection& connection);

  // Appends one revision per submission. REQUIRES: an open transaction.
  // Revision numbers continue from the newest stored one of (kpi, dims, period).
  Result<std::vector<Revision>> insert(const std::vector<Submission>& batch, const std::string& submitted_by,
                                       const std::string& received_at);
  // insert() in its own transaction: all or nothing.
  Result<std::vector<Revision>> append(const std::vector<Submission>& batch, const std::string& submitted_by,
                                       const std::string& received_at);

  // Current values (newest revision per period) or the whole history,
  // ordered by dims, period, revision.
  Result<std::vector<Revision>> series(const SeriesQuery& query, const std::optional<SeriesPage>& page = std::nullopt);
  // The rows of series() one at a time, from one cursor, nothing gathered (exports
  // of every figure); stops at the first error `visit` returns.
  Status each_revision(const SeriesQuery& query, const std::function<Status(const Revision&)>& visit);
  // The current values of the newest `periods` periods of each series of `kpi`,
  // ordered by dims, period: what an overview shows, without the older history.
  // With `first_series`, only that many series, the first in dims order.
  Result<std::vector<Revision>> latest(const std::string& kpi, int periods,
                                       std::optional<int> first_series = std::nullopt);
  // The current values of the newest `periods` periods of one series, in period order.
  Result<std::vector<Revision>> tail(const std::string& kpi, const Dims& dims, int periods);
  // How many series match the query's KPI and dims: a counter without dims, else
  // the matches of the dims index (not the KPI's other series).
  Result<std::int64_t> series_count(const SeriesQuery& query);
  // Whether the series (kpi, dims) has a figure.
  Result<bool> has_series(const std::string& kpi, const Dims& dims);
  // Revisions with an id above `id`, in id (commit) order.
  Result<std::vector<Revision>> after(std::int64_t id);
  // The highest revision id, 0 if there is none.
  Result<std::int64_t> last_id();
  Result<std::int64_t> count();
  // Calls `visit` with the current value of every period of every series.
  Status for_each_current(const std::function<void(const std::string& kpi, const Dims& dims, Point point)>& visit);

 private:
  Result<std::int64_t> series_id(const Submission& s);
  Result<sql::Statement> series_statement(const SeriesQuery& query, const std::optional<SeriesPage>& page);
  Result<Revision> insert_one(const Submission& s, const std::string& submitted_by, const std::string& received_at);

  Connection& db_;
  std::map<std::string, std::int64_t> series_ids_;          // committed
  std::map<std::string, std::int64_t> pending_series_ids_;  // created in the open transaction
};

}  // namespace kpiwatch
