// Conditions evaluated per series and period; alert states from hold_for.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <span>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/settings.hpp"
#include "rule.hpp"

namespace kpiwatch {
namespace {

// What a condition found at one period.
struct Finding {
  bool holds = false;
  bool known = true;  // false if a figure the condition needs is missing
  std::optional<double> value;
  std::optional<double> previous;
  std::optional<Period> previous_period;
  std::optional<double> baseline;  // the figure of the rule's baseline period
  std::optional<Period> baseline_period;
  std::vector<std::string> new_items;
  // Missing-data rules: the series without a figure, of `expected` that should have one.
  std::vector<Dims> missing;
  std::optional<std::size_t> expected;
};

std::optional<double> number_at(const Series& s, const Period& p) {
  const SeriesPoint* point = s.at(p);
  return point ? point->value() : std::nullopt;
}

// The values of the `n` periods ending at `p`, oldest first; empty if one is missing.
// In a buffer of the thread, valid until the next call: evaluating allocates nothing.
std::span<const double> window(const Series& s, const Period& p, int n) {
  thread_local std::vector<double> values;
  values.resize(static_cast<std::size_t>(n));
  Period q = p;
  for (int i = n - 1; i >= 0; --i, q = q.previous()) {
    auto v = number_at(s, q);
    if (!v) return {};
    values[static_cast<std::size_t>(i)] = *v;
  }
  return values;
}

struct Evaluator {
  const SeriesIndex& index;

  Finding check(const Rule& rule, const Series& s, const Period& p) const {
    Finding f;
    f.value = number_at(s, p);
    if (const SeriesPoint* prev = s.at(p.previous())) {
      f.previous = prev->value();
      f.previous_period = prev->period;
    }
    if (rule.baseline && *rule.baseline < p) {
      f.baseline_period = *rule.baseline;
      f.baseline = number_at(s, *rule.baseline);
    }
    std::visit([&](const auto& c) { apply(c, s, p, f); }, rule.condition);
    return f;
  }

  void apply(const Threshold& c, const Series&, const Period&, Finding& f) const {
    if (!f.value) {
      f.known = false;
      return;
    }
    double v = *f.value;
    switch (c.op) {
      case Threshold::Op::above:
        f.holds = v > c.bound;
        break;
      case Threshold::Op::at_or_above:
        f.holds = v >= c.bound;
        break;
      case Threshold::Op::below:
        f.holds = v < c.bound;
        break;
      case Threshold::Op::at_or_below:
        f.holds = v <= c.bound;
        break;
    }
  }

  void apply(const Change& c, const Series& s, const Period& p, Finding& f) const {
    if (c.against_baseline) {
      f.previous = f.baseline;
      f.previous_period = f.baseline_period;
    } else if (c.last_reported) {
      f.previous.reset();
      f.previous_period.reset();
      if (const SeriesPoint* prev = s.at_or_before(p.previous()); prev && prev->value()) {
        f.previous = prev->value();
        f.previous_period = prev->period;
      }
    }
    if (!f.value || !f.previous || (c.percent && *f.previous == 0)) {
      f.known = false;
      return;
    }
    double delta = *f.value - *f.previous;
    double amount = delta;
    if (c.percent) {
      amount = delta / std::fabs(*f.previous) * 100.0;
    }
    double signed_amount = c.falling ? -amount : amount;  // positive when moving in the watched direction
    f.holds = c.inclusive ? signed_amount >= c.amount && signed_amount > 0 : signed_amount > c.amount;
  }

  void apply(const Trend& c, const Series& s, const Period& p, Finding& f) const {
    if (c.kind == Trend::Kind::declines || c.kind == Trend::Kind::rises) {
      auto values = window(s, p, c.periods + 1);
      if (values.empty()) {
        f.known = false;
        return;
      }
      f.holds = true;
      for (std::size_t i = 1; i < values.size(); ++i) {
        bool step = c.kind == Trend::Kind::declines ? values[i] < values[i - 1] : values[i] > values[i - 1];
        f.holds = f.holds && step;
      }
      return;
    }
    auto values = window(s, p, c.periods);
    if (values.empty()) {
      f.known = false;
      return;
    }
    double n = static_cast<double>(values.size()), sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      double x = static_cast<double>(i);
      sx += x;
      sy += values[i];
      sxx += x * x;
      sxy += x * values[i];
    }
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    f.holds = c.kind == Trend::Kind::slope_below ? slope < c.bound : slope > c.bound;
  }

  void apply(const Stagnation& c, const Series& s, const Period& p, Finding& f) const {
    auto values = window(s, p, c.window);
    if (values.empty() || (c.tolerance_percent && !c.at_or_below && values.front() == 0)) {
      f.known = false;
      return;
    }
    if (c.at_or_below) {
      f.holds = std::all_of(values.begin(), values.end(), [&](double v) { return v <= *c.at_or_below; });
      return;
    }
    double growth = values.back() - values.front();
    if (c.tolerance_percent) {
      growth = growth / std::fabs(values.front()) * 100.0;
    }
    f.holds = growth <= c.tolerance;
  }

  void apply(const NewItem&, const Series& s, const Period& p, Finding& f) const {
    const SeriesPoint* now = s.at(p);
    if (!now) {
      f.known = false;
      return;
    }
    std::set<std::string_view> seen;
    for (const auto& point : s.points) {
      if (point.period.ordinal() >= p.ordinal()) break;
      for (const auto& item : point.items()) seen.insert(item);
    }
    for (const auto& item : now->items())
      if (!seen.contains(item)) f.new_items.push_back(item);
    f.holds = !f.new_items.empty();
  }

  void apply(const Missing&, const Series&, const Period&, Finding&) const {}

  void apply(const ExpressionCondition& c, const Series& s, const Period& p, Finding& f) const {
    ExprContext ctx{index, s};
    auto result = evaluate(*c.expr, ctx, p);
    f.known = result.has_value();
    f.holds = result && *result != 0;
    if (const Expr* lhs = comparison_lhs(*c.expr)) {
      f.value = evaluate(*lhs, ctx, p);
      f.previous = evaluate(*lhs, ctx, p.previous());
      f.previous_period = p.previous();
    }
  }
};

Labels series_labels(const Rule& rule, const Kpi& kpi, const Dims& dims) {
  Labels labels;
  for (const auto& [k, v] : dims) labels[k] = v;
  labels["kpi"] = kpi.id;
  (void)rule;
  return labels;
}

TemplateNumber figure(const Kpi& kpi, double v) { return {v, NumberFormat{false, true, kpi.precision()}}; }
TemplateNumber percent(double v) { return {v, NumberFormat{false, true, 1}}; }

TemplateLabel label_of(const Kpi& kpi, const std::string& dim, const std::string& value) {
  const Dimension* d = kpi.dimension(dim);
  if (!d) return {value, value, value};
  return {value, std::string(d->label(value, Lang::ja)), std::string(d->label(value, Lang::en))};
}

TemplateLabel items_label(const Kpi& kpi, const std::vector<std::string>& items) {
  TemplateLabel out;
  for (const auto& item : items) {
    bool first = out.id.empty();
    out.id += (first ? "" : ", ") + item;
    out.ja += (first ? "" : "、") + std::string(kpi.item_label(item, Lang::ja));
    out.en += (first ? "" : ", ") + std::string(kpi.item_label(item, Lang::en));
  }
  return out;
}

// A change from `from` to `to`, as the templates name it with `prefix` ("change", "baseline_change").
void add_change(TemplateValues& v, const Kpi& kpi, const std::string& prefix, double from, double to) {
  v[prefix] = figure(kpi, to - from);
  v[prefix + "_abs"] = figure(kpi, std::fabs(to - from));
  if (from == 0) return;
  double pct = (to - from) / std::fabs(from) * 100;
  v[prefix + "_percent"] = percent(pct);
  v[prefix + "_percent_abs"] = percent(std::fabs(pct));
}

TemplateValues names(const Rule& rule, const Kpi& kpi, const Catalog& catalog) {
  TemplateValues v;
  v["kpi"] = kpi.id;
  v["kpi_name_ja"] = kpi.name_ja;
  v["kpi_name_en"] = kpi.name_en;
  v["kpi_name"] = TemplateLabel{kpi.id, kpi.name_ja, kpi.name_en};
  v["goal"] = std::to_string(kpi.goal);
  if (const Goal* g = catalog.goal(kpi.goal)) {
    v["goal_name_ja"] = g->name_ja;
    v["goal_name_en"] = g->name_en;
    v["goal_name"] = TemplateLabel{std::to_string(kpi.goal), g->name_ja, g->name_en};
  }
  v["unit"] = TemplateLabel{std::string(to_string(kpi.unit)), std::string(kpi.unit_name(Lang::ja)),
                            std::string(kpi.unit_name(Lang::en))};
  v["rule"] = rule.id;
  v["title"] = rule.title;
  v["severity"] = std::string(to_string(rule.severity));
  return v;
}

TemplateValues figures(const Kpi& kpi, const Finding& f) {
  TemplateValues v;
  if (f.value) v["value"] = figure(kpi, *f.value);
  if (f.previous) v["previous"] = figure(kpi, *f.previous);
  if (f.previous_period) v["previous_period"] = *f.previous_period;
  if (f.value && f.previous) add_change(v, kpi, "change", *f.previous, *f.value);
  if (f.baseline) v["baseline"] = figure(kpi, *f.baseline);
  if (f.baseline_period) v["baseline_period"] = *f.baseline_period;
  if (f.value && f.baseline) add_change(v, kpi, "baseline_change", *f.baseline, *f.value);
  return v;
}

void append(TemplateLabel& to, const TemplateLabel& one, std::string_view sep_ja, std::string_view sep_en) {
  bool first = to.id.empty();
  to.id += (first ? "" : ", ") + one.id;
  to.ja += (first ? "" : std::string(sep_ja)) + one.ja;
  to.en += (first ? "" : std::string(sep_en)) + one.en;
}

// The missing series by their labels: 「応用研究、臨床研究」; a series without dims by its KPI's name.
TemplateLabel missing_label(const Kpi& kpi, std::vector<Dims> missing) {
  // In the catalog's order of values (basic, applied, ..., all), not the ids' alphabetical one.
  auto rank = [&](const Dims& dims) {
    std::vector<std::size_t> r;
    for (const auto& [k, v] : dims) {
      const Dimension* d = kpi.dimension(k);
      r.push_back(d ? static_cast<std::size_t>(std::find(d->values.begin(), d->values.end(), v) - d->values.begin())
                    : 0);
    }
    return r;
  };
  std::stable_sort(missing.begin(), missing.end(), [&](const Dims& a, const Dims& b) { return rank(a) < rank(b); });
  TemplateLabel out;
  for (const auto& dims : missing) {
    TemplateLabel one;
    for (const auto& [k, v] : dims) append(one, label_of(kpi, k, v), "・", " / ");
    if (dims.empty()) one = {kpi.id, kpi.name_ja, kpi.name_en};
    append(out, one, "、", ", ");
  }
  return out;
}

// The placeholders of missing-data rules.
void add_missing_values(TemplateValues& v, const Kpi& kpi, const Catalog& catalog, const Finding& f) {
  v["missing_count"] = TemplateNumber{static_cast<double>(f.missing.size()), NumberFormat{false, true, 0}};
  v["expected_count"] = TemplateNumber{static_cast<double>(*f.expected), NumberFormat{false, true, 0}};
  v["missing"] = missing_label(kpi, f.missing);
  if (const Body* body = kpi.bodies.empty() ? nullptr : catalog.body(kpi.bodies.front())) {
    v["body_name_ja"] = body->name_ja;
    v["body_name_en"] = body->name_en;
    v["body_name"] = TemplateLabel{body->id, body->name_ja, body->name_en};
  }
}

// names() and the labels.* of the rule's labels, rule, goal and severity.
TemplateValues prepared_names(const Rule& rule, const Kpi& kpi, const Catalog& catalog) {
  TemplateValues v = names(rule, kpi, catalog);
  for (const auto& [k, val] : rule.labels) v.try_emplace("labels." + k, val);
  v["labels.rule"] = rule.id;
  v["labels.goal"] = std::to_string(kpi.goal);
  v["labels.severity"] = std::string(to_string(rule.severity));
  return v;
}

AlertSample make_sample(const Rule& rule, const Kpi& kpi, const Catalog& catalog, const Labels& series,
                        AlertState state, const Period& p, const Finding& f, TemplateValues extra = {}) {
  AlertSample a;
  a.rule_id = rule.id;
  a.kpi = kpi.id;
  a.fingerprint = alert_fingerprint(rule.id, series);
  a.labels = rule.labels;
  for (const auto& [k, v] : series) a.labels[k] = v;
  a.labels["rule"] = rule.id;
  a.labels["goal"] = std::to_string(kpi.goal);
  a.labels["severity"] = std::string(to_string(rule.severity));
  a.severity = rule.severity;
  a.state = state;
  a.period = p;
  a.value = f.value;
  a.receivers = rule.receivers;

  TemplateValues v = figures(kpi, f);
  v["period"] = p;
  if (f.expected) add_missing_values(v, kpi, catalog, f);
  extra.merge(v);  // the caller's values win
  // The labels the series sets; the rule's own and its names are prepared (rule.names).
  for (const auto& [k, val] : series)
    if (k != "rule" && k != "goal" && k != "severity") extra.try_emplace("labels." + k, val);
  for (const auto& [k, val] : series) extra.try_emplace("dims." + k, label_of(kpi, k, val));
  auto prepared = rule.names.find(&kpi);
  TemplateValues made;
  const TemplateValues& base =
      prepared != rule.names.end() ? prepared->second : (made = prepared_names(rule, kpi, catalog));
  a.summary_ja = rule.summary_ja.render(extra, base, Lang::ja);
  a.summary_en = rule.summary_en.render(extra, base, Lang::en);
  a.description_ja = rule.description_ja.render(extra, base, Lang::ja);
  a.description_en = rule.description_en.render(extra, base, Lang::en);
  return a;
}

std::string group_key(const Rule& rule, const Kpi& kpi, std::string_view series_key) {
  std::string key;
  key.reserve(rule.id.size() + kpi.id.size() + series_key.size() + 2);
  key += rule.id;
  key += '|';
  key += kpi.id;
  key += '|';
  key += series_key;
  return key;
}

// The rule on one series at period p: its active alerts.
Evaluation evaluate_series(const Rule& rule, const Kpi& kpi, const Series& s, const Period& p, const Catalog& catalog,
                           const SeriesIndex& index) {
  Evaluation e;
  e.group = group_key(rule, kpi, s.key);
  e.rule_id = rule.id;
  e.period = p;
  Evaluator ev{index};
  Finding f = ev.check(rule, s, p);
  e.unknown = !f.known;
  if (!f.holds) return e;
  Labels series = series_labels(rule, kpi, s.dims());
  if (std::holds_alternative<NewItem>(rule.condition)) {
    for (const auto& item : f.new_items) {
      Labels labels = series;
      labels["item"] = item;
      e.active.push_back(
          make_sample(rule, kpi, catalog, labels, AlertState::firing, p, f, {{"items", items_label(kpi, {item})}}));
    }
    return e;
  }
  int streak = 1;
  for (Period q = p.previous(); streak < rule.hold_for && ev.check(rule, s, q).holds; q = q.previous()) ++streak;
  e.active.push_back(make_sample(rule, kpi, catalog, series,
                                 streak >= rule.hold_for ? AlertState::firing : AlertState::pending, p, f));
  return e;
}

// `p` moved by `n` periods (back if negative).
Period step(Period p, int n) {
  for (; n > 0; --n) p = p.next();
  for (; n < 0; ++n) p = p.previous();
  return p;
}

// What a missing-data rule finds on one KPI.
struct Overdue {
  Period period;
  std::vector<Dims> missing;
  std::size_t expected = 0;
};

// The latest period whose deadline has passed, on the KPI's cadence counted from
// its latest figure; none if it never had one.
std::optional<Period> due_period(const std::vector<const Series*>& series, const Kpi& kpi, const Deadline& deadline,
                                 std::chrono::sys_days today) {
  std::optional<Period> latest;
  for (const Series* s : series)
    if (!latest || s->points.back().period > *latest) latest = s->points.back().period;
  if (!latest) return std::nullopt;
  Period p = *latest;
  for (int guard = 0; guard < 400 && deadline.overdue_from(p) > today; ++guard) p = step(p, -kpi.every);
  for (int guard = 0; guard < 400 && deadline.overdue_from(step(p, kpi.every)) <= today; ++guard)
    p = step(p, kpi.every);
  return p;
}

// The series that reported before the due period but have no figure for it.
std::optional<Overdue> find_overdue(const Rule& rule, const Kpi& kpi, const SeriesIndex& index,
                                    std::chrono::sys_days today) {
  std::vector<const Series*> series;
  for (const Series* s : index.of_kpi(kpi.id))
    if (!s->points.empty() && key_matches(s->key, rule.dims)) series.push_back(s);
  auto period = due_period(series, kpi, std::get<Missing>(rule.condition).deadline(kpi), today);
  if (!period) return std::nullopt;
  Overdue o{*period, {}, 0};
  for (const Series* s : series) {
    if (s->points.front().period > *period) continue;  // its first figure came later
    ++o.expected;
    if (!s->at(*period)) o.missing.push_back(s->dims());
  }
  return o;
}

// One alert per KPI (fingerprint from rule and KPI), labelled with its criterion,
// reporting body and due date.
AlertSample overdue_sample(const Rule& rule, const Kpi& kpi, const Catalog& catalog, const Overdue& o) {
  Finding f;
  f.holds = true;
  f.value = static_cast<double>(o.missing.size());
  f.missing = o.missing;
  f.expected = o.expected;
  auto due = std::get<Missing>(rule.condition).deadline(kpi).due(o.period);
  Labels labels{{"kpi", kpi.id}, {"criterion", "missing_data"}, {"due", date_id(due)}};
  if (!kpi.bodies.empty()) labels["body"] = kpi.bodies.front();
  AlertSample a = make_sample(rule, kpi, catalog, labels, AlertState::firing, o.period, f, {{"due", due}});
  a.fingerprint = alert_fingerprint(rule.id, Labels{{"kpi", kpi.id}});
  return a;
}

}  // namespace

void prepare_names(Rule& rule, const Catalog& catalog) {
  for (const Kpi* kpi : rule.kpis) rule.names[kpi] = prepared_names(rule, *kpi, catalog);
}

bool Rule::watches(std::string_view kpi) const {
  return std::any_of(kpis.begin(), kpis.end(), [&](const Kpi* k) { return k->id == kpi; });
}

bool Rule::matches(const Dims& series_dims) const {
  for (const auto& [k, v] : dims) {
    auto it = series_dims.find(k);
    if (it == series_dims.end() || it->second != v) return false;
  }
  return true;
}

std::string alert_fingerprint(std::string_view rule_id, const Labels& series_labels) {
  std::string text(rule_id);
  for (const auto& [k, v] : series_labels) text += fmt::format("\n{}={}", k, v);
  return sha256_hex(text).substr(0, 16);
}

std::vector<Evaluation> RuleSet::evaluate_changed(const SeriesIndex& index, std::string_view kpi,
                                                  const Dims& dims) const {
  std::vector<Evaluation> out;
  auto it = readers_.find(kpi);
  if (it == readers_.end()) return out;
  for (const Rule* rule : it->second) {
    if (rule->is_missing()) continue;
    for (const Kpi* watched : rule->kpis) {
      if (watched->id == kpi) {
        if (!rule->matches(dims)) continue;
        if (const Series* s = index.find(kpi, dims); s && !s->points.empty())
          out.push_back(evaluate_series(*rule, *watched, *s, s->points.back().period, *catalog_, index));
      } else {
        // A KPI the expression reads changed: every watched series may be affected.
        for (const Series* s : index.of_kpi(watched->id))
          if (key_matches(s->key, rule->dims) && !s->points.empty())
            out.push_back(evaluate_series(*rule, *watched, *s, s->points.back().period, *catalog_, index));
      }
    }
  }
  return out;
}

std::vector<Evaluation> RuleSet::evaluate_all(const SeriesIndex& index) const {
  std::vector<Evaluation> out;
  for (const auto& rule : rules_) {
    if (rule->is_missing()) continue;
    for (const Kpi* kpi : rule->kpis)
      for (const Series* s : index.of_kpi(kpi->id))
        if (key_matches(s->key, rule->dims) && !s->points.empty())
          out.push_back(evaluate_series(*rule, *kpi, *s, s->points.back().period, *catalog_, index));
  }
  return out;
}

std::vector<Evaluation> RuleSet::evaluate_at(const SeriesIndex& index, const Period& at) const {
  std::vector<Evaluation> out;
  for (const auto& rule : rules_) {
    if (rule->is_missing()) continue;
    for (const Kpi* kpi : rule->kpis) {
      if (kpi->period != at.kind) continue;
      for (const Series* s : index.of_kpi(kpi->id))
        if (key_matches(s->key, rule->dims) && s->at(at))
          out.push_back(evaluate_series(*rule, *kpi, *s, at, *catalog_, index));
    }
  }
  return out;
}

std::vector<Evaluation> RuleSet::evaluate_deadlines(const SeriesIndex& index, TimePoint now,
                                                    std::string_view only_kpi) const {
  std::vector<Evaluation> out;
  auto today = std::chrono::floor<std::chrono::days>(now);
  for (const auto& rule : rules_) {
    if (!rule->is_missing()) continue;
    for (const Kpi* kpi : rule->kpis) {
      if (!only_kpi.empty() && kpi->id != only_kpi) continue;
      // Listed even when nothing is overdue, so that the KPI's alert resolves.
      Evaluation e;
      e.group = group_key(*rule, *kpi, std::string());
      e.rule_id = rule->id;
      auto overdue = find_overdue(*rule, *kpi, index, today);
      if (overdue) e.period = overdue->period;
      if (overdue && !overdue->missing.empty()) e.active.push_back(overdue_sample(*rule, *kpi, *catalog_, *overdue));
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace kpiwatch
