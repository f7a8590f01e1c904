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

Result<SeriesView> series_view(Store& store, const Kpi& kpi, const SeriesQuery& query) {
  auto rows = store.revisions().series(query);
  if (!rows) return rows.error();
  return SeriesView{&kpi, query.revisions, group_series(std::move(rows.value()))};
}

}  // namespace kpiwatch::views
