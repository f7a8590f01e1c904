#pragma once
// Submissions of KPI figures, and their validation against the catalog.

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/dims.hpp"
#include "kpiwatch/period.hpp"
#include "kpiwatch/result.hpp"

namespace kpiwatch {

// A validated figure: numbers carry `value`, item-list KPIs carry `items`.
struct Submission {
  std::string kpi;
  Period period;
  Dims dims;
  std::optional<double> value;
  std::vector<std::string> items;
  std::string body;    // reporting body; empty if the client gave none
  std::string source;  // where the figure comes from
  std::string note;
};

// A submission as stored: one revision of (kpi, dims, period).
struct Revision {
  Submission submission;
  std::int64_t id = 0;
  int revision = 0;          // 1 for the first submission, then 2, 3, ...
  std::string submitted_by;  // token name, or "import:<file>"
  std::string received_at;   // RFC 3339 UTC
};

struct ValidationLimits {
  std::size_t max_batch = 10000;
  std::size_t max_items = 1000;
  std::size_t max_text = 4096;  // source, note, item and dim strings
};

// Validates one JSON submission object against the catalog.
// Errors name the field; `index` is set by the batch functions.
Result<Submission> parse_submission(const Catalog& catalog, const boost::json::value& json,
                                    const ValidationLimits& limits = {});

// Validates a body of the HTTP API or an import file: one object, or
// {"submissions": [...]}. All-or-nothing: the first error is returned with its
// index, and duplicate (kpi, dims, period) entries within the batch are rejected.
Result<std::vector<Submission>> parse_submissions(const Catalog& catalog, std::string_view json_text,
                                                  const ValidationLimits& limits = {});

// Rejects a second entry for the same (kpi, dims, period); sets `index`.
Status check_unique(const std::vector<Submission>& batch);

// The API's JSON form of a stored revision; without kpi and dims if !with_series.
boost::json::object to_json(const Revision& revision, bool with_series = true);

}  // namespace kpiwatch
