#include <algorithm>
#include <boost/algorithm/hex.hpp>
#include <boost/json.hpp>
#include <iterator>
#include <limits>
#include <string_view>
#include <tuple>

#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

namespace {

// The labels of an alert that are dimensions of its KPI.
Dims series_dims_of(const Kpi& kpi, const AlertRecord& alert) {
  Dims dims;
  for (const auto& dim : kpi.dims)
    if (auto it = alert.labels.find(dim.name); it != alert.labels.end() && dim.allows(it->second))
      dims[dim.name] = it->second;
  return dims;
}

// Series an alert page shows at most: a missing-data alert names no dims, and its
// KPI may have 10^4 series (series_count says how many there are).
constexpr int kAlertSeries = 20;

// The alert's series: its KPI, narrowed by the labels that are dimensions of it.
Result<std::optional<SeriesView>> figures_of(Store& store, const Catalog& catalog, const AlertRecord& alert) {
  const Kpi* kpi = catalog.find(alert.kpi);
  if (!kpi) return std::optional<SeriesView>{};
  SeriesQuery query;
  query.kpi = kpi->id;
  query.dims = series_dims_of(*kpi, alert);
  auto view = series_view(store, *kpi, query, SeriesPage{kAlertSeries, 0, std::nullopt});
  if (!view) return view.error();
  return std::optional<SeriesView>{std::move(view.value())};
}

// The alerts named by fingerprint, as the list shows them; those no longer stored are left out.
Result<std::vector<InhibitingAlert>> inhibiting(Store& store, const std::vector<std::string>& fingerprints) {
  std::vector<InhibitingAlert> out;
  for (const auto& fp : fingerprints) {
    auto a = store.alerts().one(fp);
    if (!a) return a.error();
    if (!a.value()) continue;
    const auto& r = *a.value();
    out.push_back({r.fingerprint, r.rule_id, r.period, r.summary_ja, r.summary_en});
  }
  return out;
}

std::vector<std::int64_t> silencing(const std::vector<Silence>& silences, const AlertRecord& alert) {
  std::vector<std::int64_t> out;
  for (const auto& s : silences)
    if (s.matches(alert.labels)) out.push_back(s.id);
  return out;
}

int severity_rank(Severity s) { return s == Severity::critical ? 0 : s == Severity::warning ? 1 : 2; }

std::string label(const AlertRecord& a, const std::string& name) {
  auto it = a.labels.find(name);
  return it == a.labels.end() ? std::string() : it->second;
}

// As the list_goal column computes it: SQLite's CAST saturates a number too large.
std::int64_t goal_number(const AlertRecord& a) {
  std::string goal = label(a, "goal");
  std::int64_t n = 0;
  for (char c : goal) {
    if (c < '0' || c > '9') return 0;
    int digit = c - '0';
    n = n > (std::numeric_limits<std::int64_t>::max() - digit) / 10 ? std::numeric_limits<std::int64_t>::max()
                                                                    : n * 10 + digit;
  }
  return n;
}

bool listed(const AlertListQuery& q, const AlertItem& item) {
  if (!labels_match(q.labels, item.alert.labels)) return false;
  if (!q.silenced && !item.silenced_by.empty()) return false;
  if (!q.acknowledged && item.alert.acknowledged_at.has_value()) return false;
  return q.inhibited || item.alert.inhibited_by.empty();
}

}  // namespace

bool listed_before(const AlertRecord& a, const AlertRecord& b) {
  auto key = [](const AlertRecord& r) {
    // The report's findings first, overdue figures after them.
    return std::tuple(list_rank(r.state), label(r, "criterion") == "missing_data", severity_rank(r.severity),
                      goal_number(r), std::string_view(r.kpi), std::string_view(r.fingerprint));
  };
  return key(a) < key(b);
}

Result<std::vector<AlertItem>> listed_alerts(Store& store, const AlertListQuery& query, const std::string& now) {
  auto alerts = store.alerts().list(query.filter);
  if (!alerts) return alerts.error();
  auto silences = store.silences().active_at(now);
  if (!silences) return silences.error();
  std::vector<AlertItem> out;
  for (auto& a : alerts.value()) {
    AlertItem item{std::move(a), {}, {}};
    item.silenced_by = silencing(silences.value(), item.alert);
    if (listed(query, item)) out.push_back(std::move(item));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const AlertItem& a, const AlertItem& b) { return listed_before(a.alert, b.alert); });
  return out;
}

Status fill_inhibitors(Store& store, AlertItem& item) {
  auto by = inhibiting(store, item.alert.inhibited_by);
  if (!by) return by.error();
  item.inhibited_by = std::move(by.value());
  return ok_status();
}

Result<std::vector<AlertItem>> alert_list(Store& store, const AlertListQuery& query, const std::string& now) {
  auto items = listed_alerts(store, query, now);
  if (!items) return items.error();
  for (auto& item : items.value())
    if (auto s = fill_inhibitors(store, item); !s) return s.error();
  return items;
}

Result<AlertPage> alert_page(Store& store, const AlertListQuery& query, const std::string& now,
                             const AlertPageRequest& request) {
  AlertPage page;
  if (request.limit == 0) return page;
  auto silences = store.silences().active_at(now);
  if (!silences) return silences.error();
  std::size_t skip = request.after ? 0 : request.offset;
  std::size_t seen = 0;  // listed alerts read
  std::optional<AlertListKey> last;
  bool more = false;
  auto read = store.alerts().each_listed(query.filter, request.after, [&](AlertRecord& alert, const AlertListKey& key) {
    AlertItem item{std::move(alert), {}, {}};
    item.silenced_by = silencing(silences.value(), item.alert);
    if (!listed(query, item)) return true;
    if (++seen <= skip) return true;
    if (page.alerts.size() < request.limit) {
      page.alerts.push_back(std::move(item));
      last = key;
      return true;
    }
    more = true;
    return request.count;  // the total needs the rest
  });
  if (!read) return read.error();
  for (auto& item : page.alerts)
    if (auto s = fill_inhibitors(store, item); !s) return s.error();
  if (request.count) page.total = seen;
  if (more && last) {
    page.next_cursor = alert_cursor(*last);
    if (!request.after) page.next_offset = skip + page.alerts.size();
  }
  return page;
}

Result<AlertPage> alert_page(Store& store, const AlertListQuery& query, const std::string& now, std::size_t limit,
                             std::size_t offset) {
  return alert_page(store, query, now, AlertPageRequest{limit, offset, std::nullopt, true});
}

// A cursor: "a" and the hex of the last alert's list key as a JSON array.
std::string alert_cursor(const AlertListKey& last) {
  boost::json::array key{last.state, last.missing, last.severity, last.goal, last.kpi, last.fingerprint};
  std::string cursor = "a";
  boost::algorithm::hex(boost::json::serialize(key), std::back_inserter(cursor));
  return cursor;
}

std::optional<AlertListKey> parse_alert_cursor(std::string_view cursor) {
  if (!cursor.starts_with('a')) return std::nullopt;
  std::string text;
  try {
    text = boost::algorithm::unhex(std::string(cursor.substr(1)));
  } catch (const boost::algorithm::hex_decode_error&) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_array() || value.get_array().size() != 6) return std::nullopt;
  const auto& a = value.get_array();
  for (std::size_t i = 0; i < 6; ++i)
    if (i < 4 ? !a[i].is_int64() : !a[i].is_string()) return std::nullopt;
  auto number = [&](std::size_t i) { return static_cast<int>(a[i].get_int64()); };
  return AlertListKey{number(0),
                      number(1),
                      number(2),
                      a[3].get_int64(),
                      std::string(a[4].get_string()),
                      std::string(a[5].get_string())};
}

Result<std::optional<AlertView>> alert_view(Store& store, const Catalog& catalog, const std::string& fingerprint,
                                            const std::string& now) {
  auto alert = store.alerts().one(fingerprint);
  if (!alert) return alert.error();
  if (!alert.value()) return std::optional<AlertView>{};
  AlertView view{std::move(*alert.value()), {}, {}, {}, {}, {}, {}};
  auto history = store.alerts().history(fingerprint);
  if (!history) return history.error();
  view.history = std::move(history.value());
  auto silences = store.silences().active_at(now);
  if (!silences) return silences.error();
  view.silenced_by = silencing(silences.value(), view.alert);
  auto by = inhibiting(store, view.alert.inhibited_by);
  if (!by) return by.error();
  view.inhibited_by = std::move(by.value());
  auto notifications = store.outbox().of_alert(fingerprint);
  if (!notifications) return notifications.error();
  view.notifications = std::move(notifications.value());
  if (const Kpi* kpi = catalog.find(view.alert.kpi)) view.series_dims = series_dims_of(*kpi, view.alert);
  auto figures = figures_of(store, catalog, view.alert);
  if (!figures) return figures.error();
  view.figures = std::move(figures.value());
  return std::optional<AlertView>{std::move(view)};
}

}  // namespace kpiwatch::views
