#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

namespace {

// The alert's series: its KPI, narrowed by the labels that are dimensions of it.
Result<std::optional<SeriesView>> figures_of(Store& store, const Catalog& catalog, const AlertRecord& alert) {
  const Kpi* kpi = catalog.find(alert.kpi);
  if (!kpi) return std::optional<SeriesView>{};
  SeriesQuery query;
  query.kpi = kpi->id;
  for (const auto& dim : kpi->dims)
    if (auto it = alert.labels.find(dim.name); it != alert.labels.end() && dim.allows(it->second))
      query.dims[dim.name] = it->second;
  auto view = series_view(store, *kpi, query);
  if (!view) return view.error();
  return std::optional<SeriesView>{std::move(view.value())};
}

}  // namespace

Result<std::optional<AlertView>> alert_view(Store& store, const Catalog& catalog, const std::string& fingerprint,
                                            const std::string& now) {
  auto alert = store.alerts().one(fingerprint);
  if (!alert) return alert.error();
  if (!alert.value()) return std::optional<AlertView>{};
  AlertView view{std::move(*alert.value()), {}, {}, {}};
  auto history = store.alerts().history(fingerprint);
  if (!history) return history.error();
  view.history = std::move(history.value());
  auto silences = store.silences().active_at(now);
  if (!silences) return silences.error();
  for (const auto& s : silences.value())
    if (s.matches(view.alert.labels)) view.silenced_by.push_back(s.id);
  auto figures = figures_of(store, catalog, view.alert);
  if (!figures) return figures.error();
  view.figures = std::move(figures.value());
  return std::optional<AlertView>{std::move(view)};
}

}  // namespace kpiwatch::views
