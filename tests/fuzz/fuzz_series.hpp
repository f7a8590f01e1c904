#pragma once
// A small index of figures for every KPI of a catalog, so that what a harness
// parses is also evaluated: six periods up to 2025 of each KPI's kind, one
// series per KPI (each dimension at its first value), values that rise and fall.

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/series.hpp"

namespace kpiwatch::fuzz {

inline Period latest_period(PeriodKind kind) {
  switch (kind) {
    case PeriodKind::quarter:
      return {kind, 2025, 4};
    case PeriodKind::month:
      return {kind, 2025, 12};
    default:
      return {kind, 2025, 0};
  }
}

inline Dims first_dims(const Kpi& kpi) {
  Dims dims;
  for (const auto& dim : kpi.dims)
    if (!dim.values.empty()) dims[dim.name] = dim.values.front();
  return dims;
}

inline SeriesIndex sample_index(const Catalog& catalog) {
  SeriesIndex index;
  for (const auto& kpi : catalog.kpis()) {
    Period p = latest_period(kpi.period);
    for (int i = 0; i < 6; ++i, p = p.previous()) {
      Point point{p, std::nullopt, {}};
      if (kpi.is_items())
        point.items.assign(static_cast<std::size_t>(i % 3 + 1), "item" + std::to_string(i));
      else
        point.value = (i % 2 ? 20.0 : 30.0) + i;
      index.upsert(kpi.id, first_dims(kpi), point);
    }
  }
  return index;
}

}  // namespace kpiwatch::fuzz
