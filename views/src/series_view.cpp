#include "kpiwatch/dims.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

Result<SeriesView> series_view(Store& store, const Kpi& kpi, const SeriesQuery& query) {
  auto rows = store.revisions().series(query);
  if (!rows) return rows.error();
  SeriesView view{&kpi, query.revisions, {}};
  // Rows come ordered by dims, period, revision: a new dims key starts a series.
  std::string current;
  for (auto& r : rows.value()) {
    std::string key = dims_key(r.submission.dims);
    if (view.series.empty() || key != current) {
      view.series.push_back({r.submission.dims, {}});
      current = std::move(key);
    }
    view.series.back().points.push_back(std::move(r));
  }
  return view;
}

}  // namespace kpiwatch::views
