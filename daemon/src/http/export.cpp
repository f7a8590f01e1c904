// Figures as CSV for Excel: GET /api/v1/export.csv (every figure, or one goal's
// or one KPI's) and GET /api/v1/kpis/{id}/series?format=csv.
//
// The body is written in one pass from one store cursor per KPI, a row at a
// time; it is held whole until the server can stream a response, so an export
// stops at kMaxExportRows with a 413 that says how to narrow it.
#include <fmt/format.h>

#include <charconv>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "kpiwatch/csv.hpp"
#include "kpiwatch/figure_csv.hpp"

namespace kpiwatch {

namespace {

// About 150 bytes a row: at most some 30 MB in memory.
constexpr std::size_t kMaxExportRows = 200'000;

struct ExportQuery {
  std::optional<int> goal;
  const Kpi* kpi = nullptr;
  bool revisions = false;
  Lang lang = Lang::ja;
};

Result<int> goal_parameter(const Catalog& catalog, const std::string& value) {
  int goal = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), goal);
  if (ec != std::errc{} || p != value.data() + value.size() || !catalog.goal(goal))
    return bad_parameter("goal", fmt::format("no goal \"{}\" (1 to {})", value, catalog.goals().size()));
  return goal;
}

Result<bool> revisions_parameter(const std::string& value) {
  if (value != "true" && value != "false") return bad_parameter("revisions", "\"revisions\" must be true or false");
  return value == "true";
}

Result<Lang> lang_parameter(const std::string& value) {
  Lang lang = Lang::ja;
  if (!parse_lang(value, lang)) return bad_parameter("lang", "\"lang\" must be ja or en");
  return lang;
}

Status read_export_parameter(const Catalog& catalog, const std::string& key, const std::string& value,
                             ExportQuery& query) {
  if (key == "goal") {
    auto goal = goal_parameter(catalog, value);
    if (!goal) return goal.error();
    query.goal = goal.value();
  } else if (key == "kpi") {
    query.kpi = catalog.find(value);
    if (!query.kpi) return bad_parameter("kpi", fmt::format("unknown KPI \"{}\"", value));
  } else if (key == "revisions") {
    auto revisions = revisions_parameter(value);
    if (!revisions) return revisions.error();
    query.revisions = revisions.value();
  } else if (key == "lang") {
    auto lang = lang_parameter(value);
    if (!lang) return lang.error();
    query.lang = lang.value();
  } else {
    return bad_parameter(key, fmt::format("unknown parameter \"{}\" (goal, kpi, revisions, lang)", key));
  }
  return ok_status();
}

Result<ExportQuery> export_query(const Catalog& catalog, const QueryParams& params) {
  ExportQuery query;
  for (const auto& [key, value] : params)
    if (auto read = read_export_parameter(catalog, key, value, query); !read) return read.error();
  if (query.goal && query.kpi && query.kpi->goal != *query.goal)
    return bad_parameter("kpi", fmt::format("KPI \"{}\" is not of goal {}", query.kpi->id, *query.goal));
  return query;
}

// Appends the rows of one KPI; refuses once the export would pass kMaxExportRows.
Status append_kpi_rows(Store& store, const Kpi& kpi, const SeriesQuery& query, Lang lang, std::string& out,
                       std::size_t& rows) {
  return store.revisions().each_revision(query, [&](const Revision& r) -> Status {
    if (++rows > kMaxExportRows)
      return Error{ErrorCode::batch_too_large,
                   fmt::format("the export holds more than {} figures; ask for fewer: one goal (?goal=), one KPI "
                               "(?kpi=), one series (?dims.NAME=, per KPI), or the current figures only",
                               kMaxExportRows),
                   "",
                   {}};
    append_figure_row(out, kpi, r, lang);
    return ok_status();
  });
}

Response csv_response(std::string body, const std::string& file_name) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/csv; charset=utf-8");
  res.set(http::field::content_disposition, fmt::format("attachment; filename=\"{}\"", file_name));
  res.set(http::field::server, "kpiwatch");
  res.body() = std::move(body);
  return res;
}

std::string today(const Clock* clock) {
  auto now = clock ? clock->now() : std::chrono::system_clock::now();
  return date_id(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)));
}

std::string csv_start(Lang lang) {
  std::string body(kUtf8Bom);
  append_figure_header(body, lang);
  return body;
}

}  // namespace

Response Api::get_export_csv(const Call& call, Store& store) const {
  auto query = export_query(*call.catalog, call.query);
  if (!query) return error_response(query.error());
  std::string body = csv_start(query->lang);
  std::size_t rows = 0;
  for (const auto& kpi : call.catalog->kpis()) {
    if (query->kpi ? query->kpi != &kpi : query->goal && kpi.goal != *query->goal) continue;
    SeriesQuery series{kpi.id, {}, query->revisions};
    if (auto s = append_kpi_rows(store, kpi, series, query->lang, body, rows); !s) return error_response(s.error());
  }
  std::string scope = query->kpi ? "-" + query->kpi->id : query->goal ? fmt::format("-goal{}", *query->goal) : "";
  return csv_response(std::move(body), fmt::format("kpiwatch-figures{}-{}.csv", scope, today(clock_)));
}

Response Api::series_csv(const Call& call, Store& store, const Kpi& kpi, const SeriesQuery& query) const {
  Lang lang = Lang::ja;
  for (const auto& [key, value] : call.query)
    if (key == "lang") parse_lang(value, lang);  // checked by the series query
  std::string body = csv_start(lang);
  std::size_t rows = 0;
  if (auto s = append_kpi_rows(store, kpi, query, lang, body, rows); !s) return error_response(s.error());
  return csv_response(std::move(body), fmt::format("kpiwatch-figures-{}-{}.csv", kpi.id, today(clock_)));
}

}  // namespace kpiwatch
