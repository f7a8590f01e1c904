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

// Pending and firing alerts by KPI id, newest first.
Result<std::map<std::string, std::vector<AlertRecord>>> active_alerts(Store& store, std::optional<int> goal) {
  std::map<std::string, std::vector<AlertRecord>> by_kpi;
  for (AlertState state : {AlertState::firing, AlertState::pending}) {
    AlertFilter filter;
    filter.state = state;
    filter.goal = goal;
    auto alerts = store.alerts().list(filter);
    if (!alerts) return alerts.error();
    for (auto& a : alerts.value()) by_kpi[a.kpi].push_back(std::move(a));
  }
  for (auto& [kpi, alerts] : by_kpi)
    std::stable_sort(alerts.begin(), alerts.end(),
                     [](const AlertRecord& a, const AlertRecord& b) { return a.active_since > b.active_since; });
  return by_kpi;
}

Result<KpiOverview> kpi_overview(Store& store, const Catalog& catalog, const Kpi& kpi,
                                 std::map<std::string, std::vector<AlertRecord>>& alerts) {
  KpiOverview o{&kpi, {}, {}, {}};
  for (const auto& id : kpi.bodies)
    if (const Body* body = catalog.body(id)) o.bodies.push_back(body);
  auto rows = store.revisions().latest(kpi.id, 2);
  if (!rows) return rows.error();
  o.latest = latest_figures(group_series(std::move(rows.value())));
  if (auto it = alerts.find(kpi.id); it != alerts.end()) o.alerts = std::move(it->second);
  return o;
}

void count_firing(const std::vector<AlertRecord>& alerts, SeverityCounts& counts) {
  for (const auto& a : alerts)
    if (a.state == AlertState::firing) ++counts[static_cast<std::size_t>(a.severity)];
}

}  // namespace

Result<Overview> overview(Store& store, const Catalog& catalog, std::optional<int> goal) {
  auto alerts = active_alerts(store, goal);
  if (!alerts) return alerts.error();
  Overview out;
  for (const auto& g : catalog.goals()) {
    if (goal && g.number != *goal) continue;
    GoalOverview go{&g, {}, {}};
    for (const auto& kpi : catalog.kpis()) {
      if (kpi.goal != g.number) continue;
      auto k = kpi_overview(store, catalog, kpi, alerts.value());
      if (!k) return k.error();
      count_firing(k->alerts, go.firing);
      go.kpis.push_back(std::move(k.value()));
    }
    for (std::size_t i = 0; i < out.firing.size(); ++i) out.firing[i] += go.firing[i];
    out.goals.push_back(std::move(go));
  }
  return out;
}

}  // namespace kpiwatch::views
