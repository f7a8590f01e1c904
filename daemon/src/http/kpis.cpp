// The catalog and its figures: GET /api/v1/kpis, /api/v1/kpis/{id} and
// /api/v1/kpis/{id}/series.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/views_json.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

json::object kpi_json(const Kpi& k) {
  json::object o{{"id", k.id},
                 {"goal", k.goal},
                 {"name_ja", k.name_ja},
                 {"name_en", k.name_en},
                 {"unit", to_string(k.unit)},
                 {"period", to_string(k.period)}};
  if (!k.description_en.empty()) o["description_en"] = k.description_en;
  if (!k.description_ja.empty()) o["description_ja"] = k.description_ja;
  json::array bodies;
  for (const auto& b : k.bodies) bodies.emplace_back(b);
  o["bodies"] = std::move(bodies);
  if (k.min) o["min"] = *k.min;
  if (k.max) o["max"] = *k.max;
  json::object dims;
  for (const auto& d : k.dims) {
    json::array values;
    for (const auto& v : d.values) values.emplace_back(v);
    json::object dim{{"values", std::move(values)}};
    if (d.default_value) dim["default"] = *d.default_value;
    dims[d.name] = std::move(dim);
  }
  o["dims"] = std::move(dims);
  return o;
}

// An unknown KPI in the path is a missing resource (404), not a bad field (422).
Response unknown_kpi(const std::string& id) {
  return json_response(http::status::not_found,
                       error_json({ErrorCode::unknown_kpi, fmt::format("unknown KPI \"{}\"", id), "", {}}));
}

Status format_or_lang(const std::string& key, const std::string& value) {
  Lang lang{};
  if (key == "format" && value != "json" && value != "csv")
    return bad_parameter("format", "\"format\" must be json or csv");
  if (key == "lang" && !parse_lang(value, lang)) return bad_parameter("lang", "\"lang\" must be ja or en");
  return ok_status();
}

bool wants_csv(const QueryParams& params) {
  for (const auto& [key, value] : params)
    if (key == "format") return value == "csv";
  return false;
}

constexpr std::size_t kSeriesPage = 50;
constexpr std::size_t kMaxSeriesPage = 500;

// ?revisions=true|false&dims.NAME=VALUE&limit=&cursor= (or &offset=: a page of series, in dims order)
// &format=json|csv&lang=ja|en (lang: the CSV's headers and names; a CSV has every series)
Result<SeriesQuery> series_query(const Kpi& kpi, const QueryParams& params, SeriesPage& page) {
  SeriesQuery query;
  query.kpi = kpi.id;
  page.limit = static_cast<int>(kSeriesPage);
  for (const auto& [key, value] : params) {
    if (key == "limit" || key == "offset") {
      auto n = count_parameter(key, value, key == "limit" ? 1 : 0, key == "limit" ? kMaxSeriesPage : INT32_MAX);
      if (!n) return n.error();
      (key == "limit" ? page.limit : page.offset) = static_cast<int>(n.value());
    } else if (key == "cursor") {
      page.after = views::parse_series_cursor(value);
      if (!page.after) return bad_parameter(key, "\"cursor\" must be a next_cursor of this series listing");
    } else if (key == "revisions") {
      if (value != "true" && value != "false") return bad_parameter("revisions", "\"revisions\" must be true or false");
      query.revisions = value == "true";
    } else if (key.starts_with("dims.")) {
      std::string name = key.substr(5);
      const Dimension* dim = kpi.dimension(name);
      if (!dim || !dim->allows(value))
        return bad_parameter(key, fmt::format("KPI \"{}\" has no dimension value {}={}", kpi.id, name, value));
      query.dims[name] = value;
    } else if (key == "format" || key == "lang") {
      if (auto ok = format_or_lang(key, value); !ok) return ok.error();
    } else {
      return bad_parameter(
          key,
          fmt::format("unknown parameter \"{}\" (revisions, dims.NAME, limit, cursor, offset, format, lang)", key));
    }
  }
  if (page.after && page.offset > 0) return bad_parameter("cursor", "\"cursor\" and \"offset\" exclude each other");
  return query;
}

}  // namespace

Response Api::get_kpis(const Call& call) const {
  json::array goals;
  for (const auto& g : call.catalog->goals()) {
    json::array bodies;
    for (const auto& b : g.bodies) bodies.emplace_back(b);
    goals.push_back(json::object{
        {"number", g.number}, {"name_ja", g.name_ja}, {"name_en", g.name_en}, {"bodies", std::move(bodies)}});
  }
  json::array kpis;
  for (const auto& k : call.catalog->kpis()) kpis.push_back(kpi_json(k));
  return json_response(http::status::ok,
                       serialize_json(json::object{{"goals", std::move(goals)}, {"kpis", std::move(kpis)}}));
}

Response Api::get_kpi(const Call& call) const {
  const Kpi* kpi = call.catalog->find(call.segment("id"));
  if (!kpi) return unknown_kpi(call.segment("id"));
  return json_response(http::status::ok, serialize_json(kpi_json(*kpi)));
}

Response Api::get_series(const Call& call, Store& store) const {
  const Kpi* kpi = call.catalog->find(call.segment("id"));
  if (!kpi) return unknown_kpi(call.segment("id"));
  SeriesPage page;
  auto query = series_query(*kpi, call.query, page);
  if (!query) return error_response(query.error());
  if (wants_csv(call.query)) return series_csv(call, store, *kpi, query.value());
  auto view = views::series_view(store, *kpi, query.value(), page);
  if (!view) return error_response(view.error());
  return json_response(http::status::ok, serialize_json(series_view_json(view.value())));
}

}  // namespace kpiwatch
