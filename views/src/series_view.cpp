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
  auto rows = store.revisions().series(query, page);
  if (!rows) return rows.error();
  SeriesView view{&kpi, query.revisions, group_series(std::move(rows.value())), 0, std::nullopt};
  if (!page) {
    view.series_count = static_cast<std::int64_t>(view.series.size());
    return view;
  }
  auto count = store.revisions().series_count(query);
  if (!count) return count.error();
  view.series_count = count.value();
  std::int64_t end = page->offset + static_cast<std::int64_t>(view.series.size());
  if (!view.series.empty() && end < view.series_count) view.next_offset = end;
  return view;
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
