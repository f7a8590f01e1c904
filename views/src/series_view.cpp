#include <boost/algorithm/hex.hpp>
#include <iterator>

#include "kpiwatch/dims.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

std::vector<Series> group_series(std::vector<Revision> rows) {
  std::vector<Series> series;
  std::string current;
  for (auto& r : rows) {
    std::string key = dims_key(r.submission.dims);
    if (series.empty() || key != current) {
      series.push_back({r.submission.dims, {}});
      current = std::move(key);
    }
    series.back().points.push_back(std::move(r));
  }
  return series;
}

Result<SeriesView> series_view(Store& store, const Kpi& kpi, const SeriesQuery& query, std::optional<SeriesPage> page) {
  std::optional<SeriesPage> ask = page;
  if (ask) ++ask->limit;  // one series more: whether a next page exists
  auto rows = store.revisions().series(query, ask);
  if (!rows) return rows.error();
  SeriesView view{&kpi, query.revisions, group_series(std::move(rows.value())), 0, std::nullopt, std::nullopt};
  if (!page) {
    view.series_count = static_cast<std::int64_t>(view.series.size());
    return view;
  }
  bool more = view.series.size() > static_cast<std::size_t>(page->limit);
  if (more) view.series.pop_back();
  auto count = store.revisions().series_count(query);
  if (!count) return count.error();
  view.series_count = count.value();
  if (more && !view.series.empty()) {
    view.next_cursor = series_cursor(view.series.back().dims);
    if (!page->after) view.next_offset = page->offset + static_cast<std::int64_t>(view.series.size());
  }
  return view;
}

// A cursor: "s" and the hex of the last series' dims key.
std::string series_cursor(const Dims& last) {
  std::string cursor = "s";
  boost::algorithm::hex(dims_key(last), std::back_inserter(cursor));
  return cursor;
}

std::optional<std::string> parse_series_cursor(std::string_view cursor) {
  if (!cursor.starts_with('s')) return std::nullopt;
  try {
    return boost::algorithm::unhex(std::string(cursor.substr(1)));
  } catch (const boost::algorithm::hex_decode_error&) {
    return std::nullopt;
  }
}

std::string series_label(const Kpi& kpi, const Dims& dims, Lang lang) {
  if (dims.empty()) return lang == Lang::ja ? "全体" : "overall";
  std::string out;
  // In the catalog's order of dimensions, not the names' order.
  for (const auto& dim : kpi.dims) {
    auto it = dims.find(dim.name);
    if (it == dims.end()) continue;
    if (!out.empty()) out += lang == Lang::ja ? "、" : ", ";
    out += dim.label(it->second, lang);
  }
  return out;
}

std::optional<Dims> overall_dims(const Kpi& kpi) {
  Dims out;
  for (const auto& dim : kpi.dims) {
    if (dim.default_value)
      out[dim.name] = *dim.default_value;
    else if (dim.allows("all"))
      out[dim.name] = "all";
    else
      return std::nullopt;
  }
  return out;
}

}  // namespace kpiwatch::views
