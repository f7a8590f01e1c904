#include "kpiwatch/series.hpp"

#include <algorithm>

namespace kpiwatch {

const Point* Series::at(const Period& period) const {
  auto it = std::lower_bound(points.begin(), points.end(), period.ordinal(),
                             [](const Point& p, int ordinal) { return p.period.ordinal() < ordinal; });
  return it != points.end() && it->period.ordinal() == period.ordinal() ? &*it : nullptr;
}

const Point* Series::at_or_before(const Period& period) const {
  auto it = std::upper_bound(points.begin(), points.end(), period.ordinal(),
                             [](int ordinal, const Point& p) { return ordinal < p.period.ordinal(); });
  return it == points.begin() ? nullptr : &*std::prev(it);
}

void SeriesIndex::upsert(const std::string& kpi, const Dims& dims, Point point) {
  auto& of_kpi = by_kpi_[kpi];
  auto [it, inserted] = of_kpi.try_emplace(dims_key(dims));
  Series& series = it->second;
  if (inserted) {
    series.kpi = kpi;
    series.dims = dims;
    series.key = it->first;
    ++count_;
  }
  auto& points = series.points;
  int ordinal = point.period.ordinal();
  auto pos = std::lower_bound(points.begin(), points.end(), ordinal,
                              [](const Point& p, int o) { return p.period.ordinal() < o; });
  if (pos != points.end() && pos->period.ordinal() == ordinal)
    *pos = std::move(point);
  else
    points.insert(pos, std::move(point));
}

const Series* SeriesIndex::find(std::string_view kpi, const Dims& dims) const {
  auto it = by_kpi_.find(kpi);
  if (it == by_kpi_.end()) return nullptr;
  auto s = it->second.find(dims_key(dims));
  return s == it->second.end() ? nullptr : &s->second;
}

std::vector<const Series*> SeriesIndex::of_kpi(std::string_view kpi) const {
  std::vector<const Series*> out;
  if (auto it = by_kpi_.find(kpi); it != by_kpi_.end())
    for (const auto& [key, series] : it->second) out.push_back(&series);
  return out;
}

std::vector<const Series*> SeriesIndex::all() const {
  std::vector<const Series*> out;
  out.reserve(count_);
  for (const auto& [kpi, series] : by_kpi_)
    for (const auto& [key, s] : series) out.push_back(&s);
  return out;
}

}  // namespace kpiwatch
