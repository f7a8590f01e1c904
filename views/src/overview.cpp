#include <algorithm>
#include <cmath>
#include <map>

#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

std::optional<double> LatestFigure::change() const {
  if (!previous || !latest.submission.value || !previous->submission.value) return std::nullopt;
  // Rounded at 1e-9, so that 26.8 - 33.1 is -6.3 as a person writes it, not -6.300000000000001.
  return std::round((*latest.submission.value - *previous->submission.value) * 1e9) / 1e9;
}

namespace {

std::vector<LatestFigure> latest_figures(const std::vector<Series>& series) {
  std::vector<LatestFigure> out;
  for (const auto& s : series) {
    if (s.points.empty()) continue;
    LatestFigure f{s.dims, s.points.back(), std::nullopt};
    if (s.points.size() > 1) f.previous = s.points[s.points.size() - 2];
    out.push_back(std::move(f));
  }
  return out;
}

// What the overview knows of each KPI's alerts: the newest few, and counts of all.
struct KpiAlerts {
  std::vector<AlertRecord> newest;
  int active = 0;
  SeverityCounts firing{};
  double missing = 0;
};

// Two queries whatever the number of alerts: counts grouped in SQL, and the newest few per KPI.
Result<std::map<std::string, KpiAlerts>> active_alerts(Store& store, std::optional<int> goal) {
  std::map<std::string, KpiAlerts> by_kpi;
  auto counts = store.alerts().active_counts(goal);
  if (!counts) return counts.error();
  for (const auto& c : counts.value()) {
    auto& k = by_kpi[c.kpi];
    k.active += c.count;
    if (c.state != AlertState::firing) continue;
    k.firing[static_cast<std::size_t>(c.severity)] += c.count;
    k.missing += c.missing;
  }
  auto newest = store.alerts().newest_active(goal, kOverviewAlerts);
  if (!newest) return newest.error();
  for (auto& a : newest.value()) by_kpi[a.kpi].newest.push_back(std::move(a));
  return by_kpi;
}

// The lead series' last figures: the overall series if it has figures, else the first.
Result<std::optional<Series>> trend_of(Store& store, const Kpi& kpi, const std::vector<LatestFigure>& latest) {
  if (kpi.is_items() || latest.empty()) return std::optional<Series>{};
  Dims lead = latest.front().dims;
  if (auto overall = overall_dims(kpi)) {
    auto has = store.revisions().has_series(kpi.id, *overall);
    if (!has) return has.error();
    if (has.value()) lead = std::move(*overall);
  }
  auto rows = store.revisions().tail(kpi.id, lead, kTrendPeriods);
  if (!rows) return rows.error();
  return std::optional<Series>{Series{std::move(lead), std::move(rows.value())}};
}

Result<KpiOverview> kpi_overview(Store& store, const Catalog& catalog, const Kpi& kpi,
                                 std::map<std::string, KpiAlerts>& alerts) {
  KpiOverview o;
  o.kpi = &kpi;
  for (const auto& id : kpi.bodies)
    if (const Body* body = catalog.body(id)) o.bodies.push_back(body);
  auto rows = store.revisions().latest(kpi.id, 2, kOverviewSeries);
  if (!rows) return rows.error();
  o.latest = latest_figures(group_series(std::move(rows.value())));
  SeriesQuery all;
  all.kpi = kpi.id;
  auto count = store.revisions().series_count(all);
  if (!count) return count.error();
  o.series_count = count.value();
  auto trend = trend_of(store, kpi, o.latest);
  if (!trend) return trend.error();
  o.trend = std::move(trend.value());
  if (auto it = alerts.find(kpi.id); it != alerts.end()) {
    o.alerts = std::move(it->second.newest);
    o.active = it->second.active;
    o.firing = it->second.firing;
    o.overdue = static_cast<int>(it->second.missing);
  }
  return o;
}

}  // namespace

Result<Overview> overview(Store& store, const Catalog& catalog, std::optional<int> goal) {
  auto alerts = active_alerts(store, goal);
  if (!alerts) return alerts.error();
  Overview out;
  for (const auto& g : catalog.goals()) {
    if (goal && g.number != *goal) continue;
    GoalOverview go{&g, {}, {}, 0};
    for (const auto& kpi : catalog.kpis()) {
      if (kpi.goal != g.number) continue;
      auto k = kpi_overview(store, catalog, kpi, alerts.value());
      if (!k) return k.error();
      for (std::size_t i = 0; i < go.firing.size(); ++i) go.firing[i] += k->firing[i];
      go.overdue += k->overdue;
      go.kpis.push_back(std::move(k.value()));
    }
    for (std::size_t i = 0; i < out.firing.size(); ++i) out.firing[i] += go.firing[i];
    out.goals.push_back(std::move(go));
  }
  return out;
}

}  // namespace kpiwatch::views
