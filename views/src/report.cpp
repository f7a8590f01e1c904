#include "kpiwatch/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/inhibit.hpp"
#include "kpiwatch/series.hpp"
#include "report_templates.hpp"

namespace kpiwatch::views {

std::string_view direction_id(Direction d) {
  switch (d) {
    case Direction::rising:
      return "rising";
    case Direction::falling:
      return "falling";
    case Direction::flat:
      return "flat";
    case Direction::none:
      break;
  }
  return "none";
}

std::string_view verdict_id(Verdict v) {
  switch (v) {
    case Verdict::on_track:
      return "on_track";
    case Verdict::concern:
      return "concern";
    case Verdict::overdue:
      return "overdue";
    case Verdict::no_data:
      break;
  }
  return "no_data";
}

std::string_view direction_name(Direction d, Lang lang) {
  bool ja = lang == Lang::ja;
  switch (d) {
    case Direction::rising:
      return ja ? "増加" : "increased";
    case Direction::falling:
      return ja ? "減少" : "decreased";
    case Direction::flat:
      return ja ? "横ばい" : "flat";
    case Direction::none:
      break;
  }
  return "—";
}

std::string_view verdict_name(Verdict v, Lang lang) {
  bool ja = lang == Lang::ja;
  switch (v) {
    case Verdict::on_track:
      return ja ? "順調" : "on track";
    case Verdict::concern:
      return ja ? "懸念" : "concern";
    case Verdict::overdue:
      return ja ? "未提出" : "overdue";
    case Verdict::no_data:
      break;
  }
  return ja ? "数値なし" : "no data";
}

Direction direction_of(const std::vector<double>& values, double tolerance) {
  if (values.size() < 2) return Direction::none;
  double first = values.front(), last = values.back();
  double change = last - first;
  if (std::abs(change) <= tolerance * std::abs(first)) return Direction::flat;
  return change > 0 ? Direction::rising : Direction::falling;
}

namespace {

// The figures of a KPI up to the report's year, from all of its figures (every series, current revisions).
SeriesView figures_of(SeriesView view, int year) {
  auto& all = view.series;
  for (auto& s : all) std::erase_if(s.points, [&](const Revision& r) { return r.submission.period.year > year; });
  std::erase_if(all, [](const Series& s) { return s.points.empty(); });
  view.series_count = static_cast<std::int64_t>(all.size());
  return view;
}

std::size_t add_source(ReportGoal& goal, const Revision& r) {
  ReportSource s{r.submission.source, r.submitted_by, r.received_at};
  auto same = [&](const ReportSource& o) { return o.source == s.source; };
  auto it = std::find_if(goal.sources.begin(), goal.sources.end(), same);
  if (it != goal.sources.end()) return static_cast<std::size_t>(it - goal.sources.begin());
  goal.sources.push_back(std::move(s));
  return goal.sources.size() - 1;
}

void note_sources(ReportGoal& goal, ReportKpi& rk) {
  for (const auto& s : rk.figures.series)
    for (const auto& r : s.points) {
      if (r.submission.source.empty()) continue;
      auto i = add_source(goal, r);
      if (std::find(rk.sources.begin(), rk.sources.end(), i) == rk.sources.end()) rk.sources.push_back(i);
    }
}

Direction lead_direction(const ReportKpi& rk, double tolerance) {
  const Series* s = report_series(rk, std::nullopt);
  if (!s || rk.kpi->is_items()) return Direction::none;
  std::vector<double> values;
  for (const auto& r : s->points)
    if (r.submission.value) values.push_back(*r.submission.value);
  return direction_of(values, tolerance);
}

struct Context {
  const Catalog& catalog;
  const std::vector<SeriesView>& all;  // every KPI's figures, in catalog order, read once
  const ReportTemplates& templates;
  int year;
  std::chrono::sys_days today;
  std::vector<AlertRecord> findings;  // the rules over the figures, as of the report's year
  std::vector<OverdueDigest> overdue;
};

bool has_finding(const ReportGoal& goal, const Kpi& kpi) {
  return std::any_of(goal.findings.begin(), goal.findings.end(), [&](const AlertRecord& a) {
    return a.kpi == kpi.id && a.state == AlertState::firing && a.severity != Severity::info;
  });
}

// The latest year of a period kind that the report of `year` asks for: a fiscal
// year ends in March of the next, so the 2024 report asks for FY2023.
int asked_year(PeriodKind kind, int year) { return kind == PeriodKind::fiscal_year ? year - 1 : year; }

// The figures of the report's year (or before, on the KPI's cadence) that are past
// their deadline: each series' next period after its last figure. The alerts only
// tell the latest due period, so the report's year is read from the figures.
std::vector<ReportOverdue> overdue_in_year(const ReportKpi& rk, int year, std::chrono::sys_days today) {
  std::vector<ReportOverdue> out;
  const Kpi& kpi = *rk.kpi;
  if (!kpi.due) return out;
  for (const auto& s : rk.figures.series) {
    Period next = s.points.back().submission.period;
    for (int i = 0; i < kpi.every; ++i) next = next.next();
    if (next.year > asked_year(next.kind, year) || kpi.due->overdue_from(next) > today) continue;
    auto same = std::find_if(out.begin(), out.end(), [&](const ReportOverdue& o) { return o.period == next; });
    if (same != out.end())
      ++same->figures.missing;
    else
      out.push_back(ReportOverdue{next, OverdueKpi{&kpi, 1, kpi.due->due(next), ""}});
  }
  return out;
}

// A concern (the report's reading, or a firing warning or critical finding it does
// not read otherwise) comes first, then missing figures, then the figures themselves.
Verdict verdict_of(const std::optional<TemplateReading>& reading, const ReportGoal& goal, const ReportKpi& rk,
                   bool overdue) {
  if (reading ? reading->verdict == Verdict::concern : has_finding(goal, *rk.kpi)) return Verdict::concern;
  if (overdue) return Verdict::overdue;
  return rk.figures.series.empty() ? Verdict::no_data : Verdict::on_track;
}

Result<ReportGoal> goal_section(Context& c, const Goal& goal) {
  ReportGoal out;
  out.goal = &goal;
  for (const auto& a : c.findings) {
    const Kpi* kpi = c.catalog.find(a.kpi);
    if (kpi && kpi->goal == goal.number) out.findings.push_back(a);
  }
  // Later periods' missing figures as the alerts tell them (the report's year's come from its figures).
  std::vector<ReportOverdue> later;
  for (const auto& d : c.overdue)
    for (const auto& k : d.kpis)
      if (k.kpi->goal == goal.number && d.period.year > asked_year(d.period.kind, c.year))
        later.push_back(ReportOverdue{d.period, k});
  for (const auto& kpi : c.catalog.kpis()) {
    if (kpi.goal != goal.number) continue;
    ReportKpi rk;
    rk.kpi = &kpi;
    rk.figures = figures_of(c.all[static_cast<std::size_t>(&kpi - c.catalog.kpis().data())], c.year);
    // The direction the report's reading compared, else the lead series' first figure against its last.
    auto reading = template_reading(c.templates, rk);
    rk.direction = reading ? reading->direction : lead_direction(rk, c.templates.tolerance());
    auto missing = overdue_in_year(rk, c.year, c.today);
    rk.verdict = verdict_of(reading, out, rk, !missing.empty());
    out.overdue.insert(out.overdue.end(), missing.begin(), missing.end());
    rk.headlines = render_headlines(c.templates, rk);
    note_sources(out, rk);
    out.kpis.push_back(std::move(rk));
  }
  out.overdue.insert(out.overdue.end(), later.begin(), later.end());
  for (const auto& rk : out.kpis) {
    auto more = render_progress(c.templates, rk);
    out.progress.insert(out.progress.end(), more.begin(), more.end());
  }
  return out;
}

// The newest year with figures, the first year, and the newest submission's time.
// A year asked for that holds no figure is an error naming `year`.
Status survey(const std::vector<SeriesView>& all, Report& r, bool set_year) {
  int newest = 0, first = 0;
  bool asked_has_figures = false;
  for (const auto& view : all)
    for (const auto& series : view.series)
      for (const auto& row : series.points) {
        int y = row.submission.period.year;
        newest = std::max(newest, y);
        if (first == 0 || y < first) first = y;
        asked_has_figures |= y == r.year;
        if (row.received_at > r.as_of) r.as_of = row.received_at;
      }
  if (newest == 0)
    return Error{ErrorCode::not_found, "no figures yet: the report is drawn from them", "year", std::nullopt};
  if (set_year) {
    r.year = newest;
  } else if (!asked_has_figures) {
    return Error{ErrorCode::not_found, fmt::format("no figures for {}: the figures cover {}–{}", r.year, first, newest),
                 "year", std::nullopt};
  }
  r.first_year = std::min(first, r.year);
  return ok_status();
}

AlertRecord finding_of(const AlertSample& a) {
  AlertRecord r;
  r.fingerprint = a.fingerprint;
  r.state = a.state;
  take_figures(r, a);
  return r;
}

// The rules' alerts of the report's year, as the rules would have raised them on
// the current figures up to it (so a past year keeps its findings after later
// figures resolved them): at the year, and at the newest fiscal year, quarter
// or month up to it. Inhibited ones are left out, as the alert list leaves them.
std::vector<AlertRecord> findings_of(const std::vector<SeriesView>& figures, const RuleSet& rules, int year) {
  SeriesIndex index;
  std::map<PeriodKind, Period> newest;
  for (const auto& view : figures)
    for (const auto& series : view.series)
      for (const auto& row : series.points) {
        const Submission& f = row.submission;
        if (f.period.year > year) continue;
        auto [it, added] = newest.emplace(f.period.kind, f.period);
        if (!added && it->second < f.period) it->second = f.period;
        index.upsert(f.kpi, f.dims, Point{f.period, f.value, f.items});
      }
  std::vector<AlertRecord> all;
  for (const auto& [kind, at] : newest) {
    if (kind == PeriodKind::year && at.year != year) continue;
    for (const auto& e : rules.evaluate_at(index, at))
      for (const auto& a : e.active)
        if (a.period == at) all.push_back(finding_of(a));
  }
  std::vector<const AlertRecord*> firing;
  for (const auto& a : all)
    if (a.state == AlertState::firing) firing.push_back(&a);
  std::vector<AlertRecord> out;
  for (const auto& a : all)
    if (inhibitors(rules.inhibit_rules(), a, firing).empty()) out.push_back(a);
  return out;
}

}  // namespace

std::optional<int> parse_year(std::string_view text) {
  int year = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), year);
  if (ec != std::errc{} || end != text.data() + text.size() || year < 1900 || year > 2999) return std::nullopt;
  return year;
}

Result<Report> report(Store& store, const Catalog& catalog, const RuleSet& rules, const ReportTemplates& templates,
                      std::optional<int> year, TimePoint now) {
  Report r;
  r.year = year.value_or(0);
  r.generated_at = format_rfc3339(now);
  r.tolerance = templates.tolerance();
  std::vector<SeriesView> all;
  all.reserve(catalog.kpis().size());
  for (const auto& kpi : catalog.kpis()) {
    auto view = series_view(store, kpi, SeriesQuery{kpi.id, {}, false});
    if (!view) return view.error();
    all.push_back(std::move(view.value()));
  }
  if (auto s = survey(all, r, !year); !s) return s.error();
  // The missing figures of later periods, as the alerts tell them now.
  AlertFilter filter;
  filter.state = AlertState::firing;
  auto alerts = store.alerts().list(filter);
  if (!alerts) return alerts.error();
  Context c{catalog,
            all,
            templates,
            r.year,
            std::chrono::floor<std::chrono::days>(now),
            findings_of(all, rules, r.year),
            overdue_digests(alerts.value(), catalog)};
  for (const auto& goal : catalog.goals()) {
    auto section = goal_section(c, goal);
    if (!section) return section.error();
    r.goals.push_back(std::move(section.value()));
  }
  return r;
}

}  // namespace kpiwatch::views
