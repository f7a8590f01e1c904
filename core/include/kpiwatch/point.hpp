#pragma once
// One period's current figure of a series.

#include <optional>
#include <string>
#include <vector>

#include "kpiwatch/period.hpp"

namespace kpiwatch {

struct Point {
  Period period;
  std::optional<double> value;     // number KPIs
  std::vector<std::string> items;  // item-list KPIs
};

}  // namespace kpiwatch
