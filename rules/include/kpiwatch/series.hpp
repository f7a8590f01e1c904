#pragma once
// Current values of KPI series, in memory, for the rule engine. Compact,
// because a daemon keeps every series here (10^6 of them at hospital scale):
// the KPI id is interned, the dims are kept as their key only, and a point
// holds items only for item-list KPIs.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/dims.hpp"
#include "kpiwatch/period.hpp"
#include "kpiwatch/point.hpp"

namespace kpiwatch {

// One period's current figure, as the index keeps it (32 bytes).
class SeriesPoint {
 public:
  explicit SeriesPoint(Point point);
  SeriesPoint(const SeriesPoint& other);
  SeriesPoint(SeriesPoint&&) noexcept = default;
  SeriesPoint& operator=(const SeriesPoint& other);
  SeriesPoint& operator=(SeriesPoint&&) noexcept = default;
  ~SeriesPoint() = default;

  Period period;
  std::optional<double> value() const { return has_value_ ? std::optional<double>(value_) : std::nullopt; }
  // Empty for number KPIs.
  const std::vector<std::string>& items() const;

 private:
  bool has_value_ = false;
  double value_ = 0;
  std::unique_ptr<std::vector<std::string>> items_;  // null unless it has items
};

// One series: a KPI and its dims, one point per period (the current revision),
// in period order.
struct Series {
  std::string_view kpi;  // interned by the index
  std::string_view key;  // dims_key(dims), kept by the index
  std::vector<SeriesPoint> points;

  // The dims, parsed from the key.
  Dims dims() const { return parse_dims_key(key); }
  const SeriesPoint* at(const Period& period) const;
  // The latest point at or before `period`.
  const SeriesPoint* at_or_before(const Period& period) const;
};

// Whether the series of `key` (a dims_key) has every dimension value of `filter`.
bool key_matches(std::string_view key, const Dims& filter);
// The value of dimension `name` in `key`; empty if it has none.
std::string_view key_value(std::string_view key, std::string_view name);

class SeriesIndex {
 public:
  // Sets the point of `period` (replacing an earlier revision).
  void upsert(std::string_view kpi, const Dims& dims, Point point);
  // The same, for dims given by their key.
  void upsert_key(std::string_view kpi, std::string_view key, Point point);
  const Series* find(std::string_view kpi, const Dims& dims) const;
  const Series* find_key(std::string_view kpi, std::string_view key) const;
  std::vector<const Series*> of_kpi(std::string_view kpi) const;
  std::vector<const Series*> all() const;
  std::size_t size() const { return count_; }

 private:
  std::map<std::string, std::map<std::string, Series, std::less<>>, std::less<>> by_kpi_;  // kpi → dims key → series
  std::size_t count_ = 0;
  // Loading reads a series' periods one after another: its last upsert is looked up once.
  Series* last_ = nullptr;
  std::string key_;  // upsert's buffer for the dims key
};

}  // namespace kpiwatch
