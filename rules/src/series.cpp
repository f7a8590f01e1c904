#include "kpiwatch/series.hpp"

#include <algorithm>

namespace kpiwatch {
namespace {

const std::vector<std::string> kNoItems;

}  // namespace

SeriesPoint::SeriesPoint(Point point)
    : period(point.period), has_value_(point.value.has_value()), value_(point.value.value_or(0)) {
  if (!point.items.empty()) items_ = std::make_unique<std::vector<std::string>>(std::move(point.items));
}

SeriesPoint::SeriesPoint(const SeriesPoint& other)
    : period(other.period),
      has_value_(other.has_value_),
      value_(other.value_),
      items_(other.items_ ? std::make_unique<std::vector<std::string>>(*other.items_) : nullptr) {}

SeriesPoint& SeriesPoint::operator=(const SeriesPoint& other) {
  if (this != &other) *this = SeriesPoint(other);
  return *this;
}

const std::vector<std::string>& SeriesPoint::items() const { return items_ ? *items_ : kNoItems; }

const SeriesPoint* Series::at(const Period& period) const {
  int ordinal = period.ordinal();
  auto it = std::lower_bound(points.begin(), points.end(), ordinal,
                             [](const SeriesPoint& p, int o) { return p.period.ordinal() < o; });
  return it != points.end() && it->period.ordinal() == ordinal ? &*it : nullptr;
}

const SeriesPoint* Series::at_or_before(const Period& period) const {
  auto it = std::upper_bound(points.begin(), points.end(), period.ordinal(),
                             [](int ordinal, const SeriesPoint& p) { return ordinal < p.period.ordinal(); });
  return it == points.begin() ? nullptr : &*std::prev(it);
}

std::string_view key_value(std::string_view key, std::string_view name) {
  std::size_t start = 0;
  while (start < key.size()) {
    auto end = key.find(',', start);
    if (end == std::string_view::npos) end = key.size();
    auto pair = key.substr(start, end - start);
    if (pair.size() > name.size() && pair[name.size()] == '=' && pair.substr(0, name.size()) == name)
      return pair.substr(name.size() + 1);
    start = end + 1;
  }
  return {};
}

bool key_matches(std::string_view key, const Dims& filter) {
  for (const auto& [name, value] : filter) {
    auto found = key_value(key, name);
    if (found.data() == nullptr || found != value) return false;
  }
  return true;
}

void SeriesIndex::upsert(std::string_view kpi, const Dims& dims, Point point) {
  key_.clear();
  for (const auto& [name, value] : dims) {  // dims_key, into a buffer that keeps its capacity
    if (!key_.empty()) key_ += ',';
    key_ += name;
    key_ += '=';
    key_ += value;
  }
  upsert_key(kpi, key_, std::move(point));
}

void SeriesIndex::upsert_key(std::string_view kpi, std::string_view key, Point point) {
  Series* series = last_;
  if (!series || series->kpi != kpi || series->key != key) {
    auto of_kpi = by_kpi_.find(kpi);
    if (of_kpi == by_kpi_.end())
      of_kpi = by_kpi_.emplace(std::string(kpi), std::map<std::string, Series, std::less<>>{}).first;
    auto& series_of = of_kpi->second;
    auto it = series_of.find(key);
    if (it == series_of.end()) {
      it = series_of.emplace(std::string(key), Series{}).first;
      it->second.kpi = of_kpi->first;
      it->second.key = it->first;
      ++count_;
    }
    series = last_ = &it->second;
  }
  auto& points = series->points;
  int ordinal = point.period.ordinal();
  auto pos = std::lower_bound(points.begin(), points.end(), ordinal,
                              [](const SeriesPoint& p, int o) { return p.period.ordinal() < o; });
  if (pos != points.end() && pos->period.ordinal() == ordinal) {
    *pos = SeriesPoint(std::move(point));
    return;
  }
  // Grown one at a time while small: most series hold a few periods.
  if (points.size() == points.capacity() && points.size() < 16) {
    auto at = pos - points.begin();
    points.reserve(points.size() + 1);
    pos = points.begin() + at;
  }
  points.insert(pos, SeriesPoint(std::move(point)));
}

const Series* SeriesIndex::find(std::string_view kpi, const Dims& dims) const { return find_key(kpi, dims_key(dims)); }

const Series* SeriesIndex::find_key(std::string_view kpi, std::string_view key) const {
  auto it = by_kpi_.find(kpi);
  if (it == by_kpi_.end()) return nullptr;
  auto s = it->second.find(key);
  return s == it->second.end() ? nullptr : &s->second;
}

std::vector<const Series*> SeriesIndex::of_kpi(std::string_view kpi) const {
  std::vector<const Series*> out;
  if (auto it = by_kpi_.find(kpi); it != by_kpi_.end()) {
    out.reserve(it->second.size());
    for (const auto& [key, series] : it->second) out.push_back(&series);
  }
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
