#include "http/views_json.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "kpiwatch/rules.hpp"
#include "kpiwatch/submission.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

json::object dims_json(const Dims& dims) {
  json::object o;
  for (const auto& [k, v] : dims) o[k] = v;
  return o;
}

json::object severity_counts_json(const views::SeverityCounts& counts) {
  return {{"info", counts[0]}, {"warning", counts[1]}, {"critical", counts[2]}};
}

json::object text_json(std::string_view ja, std::string_view en) { return {{"ja", ja}, {"en", en}}; }

json::object period_name_json(const Period& p) { return text_json(period_name(p, Lang::ja), period_name(p, Lang::en)); }

// A figure with its period's name and its provenance (source and note always present).
json::object revision_json(const Revision& r) {
  json::object o = to_json(r, false);
  o["period_name"] = period_name_json(r.submission.period);
  if (!o.contains("source")) o["source"] = "";
  if (!o.contains("note")) o["note"] = "";
  o["submitted_at"] = r.received_at;
  return o;
}

json::object series_label_json(const Kpi& kpi, const Dims& dims) {
  return text_json(views::series_label(kpi, dims, Lang::ja), views::series_label(kpi, dims, Lang::en));
}

json::object series_json(const Kpi& kpi, const views::Series& s) {
  json::array points;
  for (const auto& r : s.points) points.push_back(revision_json(r));
  return {{"dims", dims_json(s.dims)}, {"label", series_label_json(kpi, s.dims)}, {"points", std::move(points)}};
}

// The texts and number format the page writes a KPI's figures with.
void kpi_names(json::object& o, const Kpi& kpi) {
  o["name"] = text_json(kpi.name_ja, kpi.name_en);
  o["unit_name"] = text_json(kpi.unit_name(Lang::ja), kpi.unit_name(Lang::en));
  o["decimals"] = kpi.precision();
}

json::object latest_json(const Kpi& kpi, const views::LatestFigure& f) {
  json::object o{{"dims", dims_json(f.dims)},
                 {"label", series_label_json(kpi, f.dims)},
                 {"period_name", period_name_json(f.latest.submission.period)},
                 {"latest", revision_json(f.latest)}};
  o["previous"] = f.previous ? json::value(revision_json(*f.previous)) : json::value(nullptr);
  o["change"] = f.change() ? json::value(*f.change()) : json::value(nullptr);
  return o;
}

json::object kpi_overview_json(const views::KpiOverview& k) {
  json::array bodies;
  for (const Body* b : k.bodies) bodies.push_back(json::object{{"id", b->id}, {"ja", b->name_ja}, {"en", b->name_en}});
  json::array latest;
  for (const auto& f : k.latest) latest.push_back(latest_json(*k.kpi, f));
  json::array alerts;
  for (const auto& a : k.alerts) alerts.push_back(alert_json(a));
  json::object o{{"id", k.kpi->id},
                 {"unit", to_string(k.kpi->unit)},
                 {"period", to_string(k.kpi->period)},
                 {"bodies", std::move(bodies)},
                 {"series_count", k.series_count},
                 {"latest", std::move(latest)},
                 {"alerts", std::move(alerts)},
                 {"active", k.active},
                 {"firing", severity_counts_json(k.firing)},
                 {"overdue", k.overdue}};
  kpi_names(o, *k.kpi);
  o["trend"] = k.trend ? json::value(series_json(*k.kpi, *k.trend)) : json::value(nullptr);
  return o;
}

json::object overdue_digest_json(const views::OverdueDigest& d) {
  json::array kpis;
  for (const auto& k : d.kpis)
    kpis.push_back(json::object{{"kpi", k.kpi->id},
                                {"name", json::object{{"ja", k.kpi->name_ja}, {"en", k.kpi->name_en}}},
                                {"missing", k.missing},
                                {"due", date_id(k.due)},
                                {"fingerprint", k.fingerprint}});
  return {
      {"body", d.body->id},
      {"body_name", json::object{{"ja", d.body->name_ja}, {"en", d.body->name_en}}},
      {"period", d.period.str()},
      {"period_name", json::object{{"ja", period_name(d.period, Lang::ja)}, {"en", period_name(d.period, Lang::en)}}},
      {"overdue", d.overdue},
      {"due", date_id(d.due)},
      {"kpis", std::move(kpis)},
      {"sentence", json::object{{"ja", d.sentence_ja}, {"en", d.sentence_en}}}};
}

}  // namespace

json::object overdue_json(const std::vector<views::OverdueDigest>& digests) {
  json::array out;
  for (const auto& d : digests) out.push_back(overdue_digest_json(d));
  return {{"overdue", std::move(out)}};
}

json::object alert_json(const AlertRecord& a) {
  json::object labels;
  for (const auto& [k, v] : a.labels) labels[k] = v;
  json::array receivers;
  for (const auto& r : a.receivers) receivers.emplace_back(r);
  json::object o{{"fingerprint", a.fingerprint},
                 {"rule", a.rule_id},
                 {"kpi", a.kpi},
                 {"state", to_string(a.state)},
                 {"severity", to_string(a.severity)},
                 {"labels", std::move(labels)},
                 {"period", a.period},
                 {"summary", json::object{{"ja", a.summary_ja}, {"en", a.summary_en}}},
                 {"description", json::object{{"ja", a.description_ja}, {"en", a.description_en}}},
                 {"receivers", std::move(receivers)},
                 {"active_since", format_rfc3339(a.active_since)},
                 {"updated_at", format_rfc3339(a.updated_at)}};
  o["value"] = a.value ? json::value(*a.value) : json::value(nullptr);
  if (a.firing_since) o["firing_since"] = format_rfc3339(a.firing_since);
  if (a.resolved_at) o["resolved_at"] = format_rfc3339(a.resolved_at);
  if (a.acknowledged_at)
    o["acknowledged"] =
        json::object{{"at", format_rfc3339(a.acknowledged_at)}, {"by", a.acknowledged_by}, {"comment", a.ack_comment}};
  return o;
}

json::object series_view_json(const views::SeriesView& view) {
  json::array series;
  for (const auto& s : view.series) series.push_back(series_json(*view.kpi, s));
  json::object o{
      {"kpi", view.kpi->id},         {"unit", to_string(view.kpi->unit)}, {"period", to_string(view.kpi->period)},
      {"revisions", view.revisions}, {"series_count", view.series_count}, {"series", std::move(series)}};
  o["next_offset"] = view.next_offset ? json::value(*view.next_offset) : json::value(nullptr);
  o["next_cursor"] = view.next_cursor ? json::value(*view.next_cursor) : json::value(nullptr);
  kpi_names(o, *view.kpi);
  return o;
}

json::object goal_json(const views::GoalOverview& g) {
  json::array kpis;
  for (const auto& k : g.kpis) kpis.push_back(kpi_overview_json(k));
  return {{"number", g.goal->number},
          {"name", json::object{{"ja", g.goal->name_ja}, {"en", g.goal->name_en}}},
          {"firing", severity_counts_json(g.firing)},
          {"overdue", g.overdue},
          {"kpis", std::move(kpis)}};
}

json::object overview_json(const views::Overview& overview) {
  json::array goals;
  for (const auto& g : overview.goals) goals.push_back(goal_json(g));
  return {{"firing", severity_counts_json(overview.firing)}, {"goals", std::move(goals)}};
}

namespace {

json::array inhibited_json(const std::vector<views::InhibitingAlert>& by) {
  json::array out;
  for (const auto& i : by)
    out.push_back(json::object{{"fingerprint", i.fingerprint},
                               {"rule", i.rule},
                               {"period", i.period},
                               {"summary", json::object{{"ja", i.summary_ja}, {"en", i.summary_en}}}});
  return out;
}

json::array ids_json(const std::vector<std::int64_t>& ids) {
  json::array out;
  for (auto id : ids) out.emplace_back(id);
  return out;
}

// "grouped by goal=6 with 4 alerts"
json::object group_json(const AlertNotification& n) {
  const auto& e = n.entry;
  boost::system::error_code ec;
  auto labels = json::parse(e.group_labels, ec);
  if (ec || !labels.is_object()) labels = json::object{};
  std::string by;
  for (const auto& [k, v] : labels.get_object())
    by += fmt::format("{}{}={}", by.empty() ? "" : ", ", std::string_view(k),
                      v.is_string() ? std::string_view(v.get_string()) : std::string_view());
  json::object o{{"key", e.group_key}, {"labels", labels}};
  if (e.message_key.empty()) {
    o["text"] = fmt::format("grouped by {}, not sent yet", by);
  } else {
    o["alerts"] = n.message_alerts;
    o["text"] = fmt::format("grouped by {} with {} alert{}", by, n.message_alerts, n.message_alerts == 1 ? "" : "s");
  }
  return o;
}

json::array notifications_json(const std::vector<AlertNotification>& notifications) {
  json::array out;
  for (const auto& n : notifications) {
    const auto& e = n.entry;
    json::object o{{"id", e.id},
                   {"receiver", e.receiver},
                   {"event", to_string(e.event)},
                   {"status", to_string(e.status)},
                   {"created_at", e.created_at},
                   {"attempts", e.attempts},
                   {"last_error", e.last_error},
                   {"delivered_at", e.delivered_at}};
    o["group"] = e.group_key.empty() ? json::value(nullptr) : json::value(group_json(n));
    out.push_back(std::move(o));
  }
  return out;
}

// The names the page shows with an alert; null where the catalog no longer has its KPI or goal.
void alert_names(json::object& o, const AlertRecord& a, const Catalog& catalog) {
  const Kpi* kpi = catalog.find(a.kpi);
  const Goal* goal = kpi ? catalog.goal(kpi->goal) : nullptr;
  o["kpi_name"] = kpi ? json::value(text_json(kpi->name_ja, kpi->name_en)) : json::value(nullptr);
  o["goal"] = kpi ? json::value(kpi->goal) : json::value(nullptr);
  o["goal_name"] = goal ? json::value(text_json(goal->name_ja, goal->name_en)) : json::value(nullptr);
  o["period_name"] = nullptr;
  if (kpi)
    if (auto period = parse_period(a.period, kpi->period)) o["period_name"] = period_name_json(period.value());
}

// The figure a change is compared against, from the alert's series.
std::optional<double> reference_figure(const views::AlertView& view, const RuleCriterion& c, const Period& at) {
  if (!view.figures) return std::nullopt;
  for (const auto& s : view.figures->series) {
    if (s.dims != view.series_dims) continue;
    const Revision* found = nullptr;
    for (const auto& r : s.points) {
      const Period& p = r.submission.period;
      bool hit = c.against == RuleCriterion::Against::baseline        ? c.baseline && p == *c.baseline
                 : c.against == RuleCriterion::Against::last_reported ? p < at
                                                                      : p == at.previous();
      if (hit) found = &r;
    }
    if (found) return found->submission.value;
  }
  return std::nullopt;
}

json::value rule_json(const views::AlertView& view, const Catalog& catalog, const RuleCriterion* c) {
  const Kpi* kpi = catalog.find(view.alert.kpi);
  if (!c || !kpi)  // the rule or the KPI is gone: the alert stays readable
    return json::object{
        {"id", view.alert.rule_id}, {"criterion", nullptr}, {"bound", nullptr}, {"bound_label", nullptr}};
  std::optional<double> bound;
  if (auto at = parse_period(view.alert.period, kpi->period))
    bound = c->bound_value(c->bound == RuleCriterion::Bound::change ? reference_figure(view, *c, at.value())
                                                                    : std::nullopt);
  json::object o{{"id", view.alert.rule_id}, {"criterion", text_json(c->ja, c->en)}};
  o["bound"] = bound ? json::value(*bound) : json::value(nullptr);
  o["bound_label"] =
      bound ? json::value(text_json(c->bound_label(*bound, *kpi, Lang::ja), c->bound_label(*bound, *kpi, Lang::en)))
            : json::value(nullptr);
  return o;
}

}  // namespace

json::object alert_item_json(const views::AlertItem& item, const Catalog& catalog) {
  json::object o = alert_json(item.alert);
  o["silenced_by"] = ids_json(item.silenced_by);
  o["inhibited_by"] = inhibited_json(item.inhibited_by);
  alert_names(o, item.alert, catalog);
  return o;
}

json::object alert_view_json(const views::AlertView& view, const Catalog& catalog, const RuleCriterion* criterion) {
  json::object o = alert_json(view.alert);
  alert_names(o, view.alert, catalog);
  o["series_dims"] = dims_json(view.series_dims);
  o["rule"] = rule_json(view, catalog, criterion);
  json::array transitions;
  for (const auto& t : view.history) {
    json::object e{{"from", to_string(t.from)},
                   {"to", to_string(t.to)},
                   {"at", format_rfc3339(t.at)},
                   {"period", t.alert.period},
                   {"summary", json::object{{"ja", t.alert.summary_ja}, {"en", t.alert.summary_en}}}};
    e["value"] = t.alert.value ? json::value(*t.alert.value) : json::value(nullptr);
    transitions.push_back(std::move(e));
  }
  o["history"] = std::move(transitions);
  o["silenced_by"] = ids_json(view.silenced_by);
  o["inhibited_by"] = inhibited_json(view.inhibited_by);
  o["notifications"] = notifications_json(view.notifications);
  o["figures"] = view.figures ? json::value(series_view_json(*view.figures)) : json::value(nullptr);
  return o;
}

}  // namespace kpiwatch
