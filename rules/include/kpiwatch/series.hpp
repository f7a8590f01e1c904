#pragma once
// Current values of KPI series, in memory, for the rule engine.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/dims.hpp"
#include "kpiwatch/period.hpp"
#include "kpiwatch/point.hpp"

namespace kpiwatch {

// One series: a KPI and its dims, one point per period (the current revision),
// in period order.
struct Series {
  std::string kpi;
  Dims dims;
  std::string key;  // dims_key(dims), kept because every evaluation names its series by it
  std::vector<Point> points;

  const Point* at(const Period& period) const;
  // The latest point at or before `period`.
  const Point* at_or_before(const Period& period) const;
};

class SeriesIndex {
 public:
  // Sets the point of `period` (replacing an earlier revision).
  void upsert(const std::string& kpi, const Dims& dims, Point point);
  const Series* find(std::string_view kpi, const Dims& dims) const;
  std::vector<const Series*> of_kpi(std::string_view kpi) const;
  std::vector<const Series*> all() const;
  std::size_t size() const { return count_; }

 private:
  std::map<std::string, std::map<std::string, Series>, std::less<>> by_kpi_;  // kpi → dims key → series
  std::size_t count_ = 0;
};

}  // namespace kpiwatch
