#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "kpiwatch/text.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

namespace {

std::string label(const AlertRecord& a, const std::string& name) {
  auto it = a.labels.find(name);
  return it == a.labels.end() ? std::string() : it->second;
}

// A firing missing-data alert as one KPI of a digest, with its body and period.
struct Entry {
  const Body* body = nullptr;
  Period period;
  OverdueKpi kpi;
};

std::optional<Entry> entry_of(const AlertRecord& a, const Catalog& catalog) {
  if (a.state != AlertState::firing || label(a, "criterion") != "missing_data") return std::nullopt;
  const Body* body = catalog.body(label(a, "body"));
  const Kpi* kpi = catalog.find(a.kpi);
  if (!body || !kpi) return std::nullopt;
  auto period = parse_period(a.period, kpi->period);
  auto due = parse_date_id(label(a, "due"));
  if (!period || !due) return std::nullopt;
  int missing = a.value ? static_cast<int>(*a.value) : 0;
  return Entry{body, period.value(), OverdueKpi{kpi, missing, *due, a.fingerprint}};
}

std::size_t index_of(const Catalog& catalog, const Body* body) {
  const auto& bodies = catalog.bodies();
  return static_cast<std::size_t>(
      std::find_if(bodies.begin(), bodies.end(), [&](const Body& b) { return &b == body; }) - bodies.begin());
}

std::size_t index_of(const Catalog& catalog, const Kpi* kpi) {
  return static_cast<std::size_t>(kpi - catalog.kpis().data());
}

void write_sentences(OverdueDigest& d) {
  d.sentence_ja = fmt::format("{}: {}の数値{}件が期限（{}）を過ぎても未提出です", d.body->name_ja,
                              period_name(d.period, Lang::ja), d.overdue, date_name(d.due, Lang::ja));
  d.sentence_en = fmt::format("{}: {} figure{} for {} not submitted by {}", d.body->short_en, d.overdue,
                              d.overdue == 1 ? "" : "s", period_name(d.period, Lang::en), date_name(d.due, Lang::en));
}

}  // namespace

std::vector<OverdueDigest> overdue_digests(const std::vector<AlertRecord>& alerts, const Catalog& catalog) {
  // (body order, period kind, period ordinal) → digest
  std::map<std::tuple<std::size_t, int, int>, OverdueDigest> by_key;
  for (const auto& a : alerts) {
    auto e = entry_of(a, catalog);
    if (!e) continue;
    auto& d = by_key[{index_of(catalog, e->body), static_cast<int>(e->period.kind), e->period.ordinal()}];
    if (d.kpis.empty() || e->kpi.due < d.due) d.due = e->kpi.due;
    d.body = e->body;
    d.period = e->period;
    d.overdue += e->kpi.missing;
    d.kpis.push_back(std::move(e->kpi));
  }
  std::vector<OverdueDigest> out;
  for (auto& [key, d] : by_key) {
    std::sort(d.kpis.begin(), d.kpis.end(), [&](const OverdueKpi& x, const OverdueKpi& y) {
      return index_of(catalog, x.kpi) < index_of(catalog, y.kpi);
    });
    write_sentences(d);
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<OverdueDigest>> overdue(Store& store, const Catalog& catalog) {
  AlertFilter filter;
  filter.state = AlertState::firing;
  auto alerts = store.alerts().list(filter);
  if (!alerts) return alerts.error();
  return overdue_digests(alerts.value(), catalog);
}

}  // namespace kpiwatch::views
