#include "rule_compiler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace {

bool is_rule_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// A rule whose "kpi" ends in "*" watches every KPI it matches.
bool watches_pattern(const RuleSpec& spec) { return spec.kpi && spec.kpi->value.ends_with("*"); }

class RuleCompiler {
 public:
  RuleCompiler(const RuleSource& source, const Catalog& catalog, Diagnostics& diags)
      : source_(source), catalog_(catalog), diags_(diags) {}

  // Null if the rule has errors, its own or the reader's.
  std::unique_ptr<Rule> compile(const RuleSpec& spec) {
    std::size_t errors_before = diags_.size();
    auto rule = std::make_unique<Rule>();
    rule->file = source_.name;
    rule->line = spec.at.line;
    compile_names(spec, *rule);
    compile_kpis(spec, *rule);
    compile_dims(spec, *rule);
    compile_labels(spec, *rule);
    compile_templates(spec, *rule);
    if (spec.condition) compile_condition(spec, *spec.condition, *rule);
    compile_baseline(spec, *rule);
    if (const auto* ch = std::get_if<Change>(&rule->condition); ch && ch->against_baseline && !rule->baseline)
      error(spec.condition->position("against"), spec.where,
            "against = \"baseline\" needs a baseline period: add baseline = \"2022\" (for example) to the rule");
    collect_reads(*rule);
    if (!spec.well_formed || diags_.size() != errors_before) return nullptr;
    return rule;
  }

 private:
  void error(SourcePos at, std::string_view where, std::string_view message) {
    diags_.push_back({source_.name, at.line, at.column, fmt::format("{}: {}", where, message)});
  }
  void error(const ConditionSpec& c, std::string_view message) { error(c.at, c.where, message); }
  void error(const ConditionSpec& c, std::string_view key, std::string_view message) {
    error(c.position(key), c.where, message);
  }
  // At byte `offset` of the decoded text of the string value at `value_at`.
  void error_in_string(SourcePos value_at, std::size_t offset, std::string message) {
    SourcePos at = position_in_string(source_.text, value_at, offset);
    diags_.push_back({source_.name, at.line, at.column, std::move(message)});
  }

  void compile_names(const RuleSpec& spec, Rule& rule) {
    if (spec.id) rule.id = spec.id->value;
    if (!rule.id.empty() && !is_rule_id(rule.id))
      error(spec.id->at, spec.where, "rule id must use a-z, 0-9, \"-\", \"_\" and \".\" only");
    if (spec.title) rule.title = spec.title->value;
  }

  void compile_kpis(const RuleSpec& spec, Rule& rule) {
    if (!spec.kpi) return;
    const std::string& pattern = spec.kpi->value;
    if (watches_pattern(spec)) {
      std::string prefix = pattern.substr(0, pattern.size() - 1);
      for (const auto& k : catalog_.kpis())
        if (k.id.starts_with(prefix)) rule.kpis.push_back(&k);
      if (rule.kpis.empty()) error(spec.kpi->at, spec.where, fmt::format("no KPI matches \"{}\"", pattern));
    } else if (const Kpi* k = catalog_.find(pattern)) {
      rule.kpis.push_back(k);
    } else {
      error(spec.kpi->at, spec.where, fmt::format("unknown KPI \"{}\"", pattern));
    }
  }

  void compile_dims(const RuleSpec& spec, Rule& rule) {
    if (!spec.dims) return;
    for (const auto& entry : spec.dims->entries) {
      check_dimension(spec, rule, entry);
      rule.dims[entry.key] = entry.value;
    }
    if (watches_pattern(spec) && !rule.dims.empty())  // only KPIs that have every filtered dimension
      std::erase_if(rule.kpis, [&](const Kpi* k) {
        return std::any_of(rule.dims.begin(), rule.dims.end(), [&](auto& d) { return !k->dimension(d.first); });
      });
  }

  void check_dimension(const RuleSpec& spec, const Rule& rule, const StringEntry& entry) {
    bool known = false;
    for (const Kpi* k : rule.kpis) {
      const Dimension* d = k->dimension(entry.key);
      if (!d) continue;
      known = true;
      if (!d->allows(entry.value))
        error(entry.value_at, spec.where,
              fmt::format("\"{}\" is not a value of dimension \"{}\" of KPI \"{}\" (allowed: {})", entry.value,
                          entry.key, k->id, fmt::join(d->values, ", ")));
    }
    if (!known && !rule.kpis.empty())
      error(entry.key_at, spec.where, fmt::format("KPI \"{}\" has no dimension \"{}\"", spec.kpi->value, entry.key));
  }

  // Severity, labels, receivers and hold_for: what the alerts carry.
  void compile_labels(const RuleSpec& spec, Rule& rule) {
    if (spec.severity && !parse_severity(spec.severity->value, rule.severity))
      error(spec.severity->at, spec.where,
            fmt::format("severity must be info, warning or critical, not \"{}\"", spec.severity->value));
    if (spec.labels) {
      for (const auto& entry : spec.labels->entries) rule.labels[entry.key] = entry.value;
      for (const auto& [name, value] : rule.labels)
        if (!is_identifier(name))
          error(spec.labels->at, spec.where, fmt::format("label name \"{}\" must match [a-z][a-z0-9_]*", name));
    }
    rule.receivers = spec.receivers;
    rule.receivers_at = spec.receivers_at;
    if (spec.hold_for) {
      if (spec.hold_for->value < 1 || spec.hold_for->value > 120)
        error(spec.hold_for->at, spec.where, "\"hold_for\" must be 1–120 periods");
      else
        rule.hold_for = static_cast<int>(spec.hold_for->value);
    }
  }

  // baseline = "2022": a period of the kind of every watched KPI.
  void compile_baseline(const RuleSpec& spec, Rule& rule) {
    if (!spec.baseline) return;
    for (const Kpi* k : rule.kpis) {
      auto p = parse_period(spec.baseline->value, k->period);
      if (!p) {
        error(spec.baseline->at, spec.where,
              fmt::format("\"baseline\": {} (KPI \"{}\" has {} periods)", p.error().message, k->id,
                          to_string(k->period)));
        return;
      }
      rule.baseline = p.value();
    }
  }

  void compile_templates(const RuleSpec& spec, Rule& rule) {
    const std::array<std::tuple<std::string_view, const std::optional<Located<std::string>>*, Template Rule::*>, 4>
        templates = {{{"summary_ja", &spec.summary_ja, &Rule::summary_ja},
                      {"summary_en", &spec.summary_en, &Rule::summary_en},
                      {"description_ja", &spec.description_ja, &Rule::description_ja},
                      {"description_en", &spec.description_en, &Rule::description_en}}};
    for (const auto& [key, text, member] : templates)
      if (auto compiled = compile_template(spec, key, *text)) rule.*member = std::move(*compiled);
  }

  std::optional<Template> compile_template(const RuleSpec& spec, std::string_view key,
                                           const std::optional<Located<std::string>>& text) {
    if (!text) return std::nullopt;
    auto compiled = Template::compile(text->value);
    if (auto* e = std::get_if<Template::Error>(&compiled)) {
      error_in_string(text->at, e->offset, fmt::format("{}: \"{}\": {}", spec.where, key, e->message));
      return std::nullopt;
    }
    return std::get<Template>(std::move(compiled));
  }

  void compile_condition(const RuleSpec& spec, const ConditionSpec& c, Rule& rule) {
    fit_kpis_to(spec, c.kind, rule);
    switch (c.kind) {
      case ConditionKind::threshold:
        rule.condition = compile_threshold(c);
        break;
      case ConditionKind::change:
        rule.condition = compile_change(c);
        break;
      case ConditionKind::trend:
        rule.condition = compile_trend(c);
        break;
      case ConditionKind::stagnation:
        rule.condition = compile_stagnation(c);
        break;
      case ConditionKind::new_item:
        rule.condition = NewItem{};
        break;
      case ConditionKind::missing:
        rule.condition = compile_missing(spec, c, rule);
        break;
      case ConditionKind::expression:
        rule.condition = compile_expression(c, rule, watches_pattern(spec));
        break;
    }
  }

  // Number conditions need number KPIs and new_item an item list: a pattern
  // keeps the KPIs that fit, a single KPI that does not is an error.
  void fit_kpis_to(const RuleSpec& spec, ConditionKind kind, Rule& rule) {
    if (kind == ConditionKind::missing || kind == ConditionKind::expression) return;
    bool want_items = kind == ConditionKind::new_item;
    if (watches_pattern(spec)) {
      std::erase_if(rule.kpis, [&](const Kpi* k) { return k->is_items() != want_items; });
      if (rule.kpis.empty())
        error(spec.kpi->at, spec.where, fmt::format("no KPI matched by \"kpi\" fits [rule.{}]", to_string(kind)));
      return;
    }
    for (const Kpi* k : rule.kpis)
      if (k->is_items() != want_items)
        error(spec.kpi->at, spec.where,
              want_items
                  ? fmt::format("[rule.new_item] needs an item-list KPI; \"{}\" is a {} KPI", k->id, to_string(k->unit))
                  : fmt::format("[rule.{}] needs a number KPI; \"{}\" is an item list (use new_item "
                                "or count() in an expression)",
                                to_string(kind), k->id));
  }

  Threshold compile_threshold(const ConditionSpec& c) {
    static constexpr std::pair<std::string_view, Threshold::Op> bounds[] = {
        {"above", Threshold::Op::above},
        {"at_or_above", Threshold::Op::at_or_above},
        {"below", Threshold::Op::below},
        {"at_or_below", Threshold::Op::at_or_below}};
    Threshold th;
    int given = 0;
    for (auto [key, op] : bounds) {
      if (auto v = c.number(key)) {
        th.op = op;
        th.bound = *v;
      }
      if (c.has(key)) ++given;  // a bound of the wrong type is reported once, by the reader
    }
    if (given != 1) error(c, "give exactly one of above, at_or_above, below, at_or_below");
    return th;
  }

  Change compile_change(const ConditionSpec& c) {
    Change ch;
    auto direction = c.string("direction");
    if (direction && *direction != "falling" && *direction != "rising")
      error(c, "direction", "\"direction\" must be \"falling\" or \"rising\"");
    ch.falling = direction.value_or("falling") == "falling";
    auto by = c.string("by");
    if (by && *by != "points" && *by != "percent") error(c, "by", "\"by\" must be \"points\" or \"percent\"");
    ch.percent = by.value_or("points") == "percent";
    auto more = c.number("more_than");
    auto least = c.number("at_least");
    if (more && least) error(c, "give more_than or at_least, not both");
    ch.amount = more.value_or(least.value_or(0));
    ch.inclusive = least.has_value();
    if (ch.amount < 0) error(c, "the amount of change must not be negative; use direction");
    if (auto against = c.string("against")) {
      if (*against != "previous_period" && *against != "last_reported" && *against != "baseline")
        error(c, "against", "\"against\" must be \"previous_period\", \"last_reported\" or \"baseline\"");
      ch.last_reported = *against == "last_reported";
      ch.against_baseline = *against == "baseline";
    }
    return ch;
  }

  Trend compile_trend(const ConditionSpec& c) {
    Trend tr;
    auto declines = c.integer("declines");
    auto rises = c.integer("rises");
    auto window = c.integer("window");
    auto below = c.number("slope_below");
    auto above = c.number("slope_above");
    int forms = (declines ? 1 : 0) + (rises ? 1 : 0) + ((below || above) ? 1 : 0);
    if (forms != 1 || (below && above))
      error(c, "give declines = N, rises = N, or window = N with slope_below or slope_above");
    if (declines || rises) {
      tr.kind = declines ? Trend::Kind::declines : Trend::Kind::rises;
      tr.periods = static_cast<int>(declines.value_or(rises.value_or(0)));
      if (tr.periods < 1 || tr.periods > 120) error(c, "the number of steps must be 1–120");
      if (window) error(c, "\"window\" goes with slope_below or slope_above");
    } else if (below || above) {
      tr.kind = below ? Trend::Kind::slope_below : Trend::Kind::slope_above;
      tr.bound = below.value_or(above.value_or(0));
      tr.periods = static_cast<int>(window.value_or(0));
      if (tr.periods < 2 || tr.periods > 120) error(c, "a slope needs window = 2–120 periods");
    }
    return tr;
  }

  Stagnation compile_stagnation(const ConditionSpec& c) {
    Stagnation st;
    st.window = static_cast<int>(c.integer("window").value_or(0));
    if (st.window < 1 || st.window > 120) error(c, "\"window\" must be 1–120 periods");
    auto tolerance = c.number("tolerance");
    auto tolerance_percent = c.number("tolerance_percent");
    st.at_or_below = c.number("at_or_below");
    if ((tolerance ? 1 : 0) + (tolerance_percent ? 1 : 0) + (st.at_or_below ? 1 : 0) > 1)
      error(c, "give one of tolerance, tolerance_percent, at_or_below");
    if (!st.at_or_below && st.window < 2) error(c, "growth over a window needs window ≥ 2");
    st.tolerance = tolerance.value_or(tolerance_percent.value_or(0));
    st.tolerance_percent = tolerance_percent.has_value();
    return st;
  }

  // "due" overrides the catalog's deadlines; without it, a pattern keeps the
  // KPIs that have one and a single KPI without one is an error.
  Missing compile_missing(const RuleSpec& spec, const ConditionSpec& c, Rule& rule) {
    Missing m;
    if (auto due = c.string("due")) {
      Deadline d;
      if (Deadline::parse(*due, d))
        m.due = d;
      else
        error(c, "due", fmt::format("\"due\" must be like \"3 months\" or \"90 days\", not \"{}\"", *due));
    } else if (watches_pattern(spec)) {
      std::erase_if(rule.kpis, [](const Kpi* k) { return !k->due; });
      if (rule.kpis.empty()) error(spec.kpi->at, spec.where, "no KPI matched by \"kpi\" has a reporting deadline");
    } else {
      for (const Kpi* k : rule.kpis)
        if (!k->due) error(c, fmt::format("KPI \"{}\" has no reporting deadline in the catalog: give \"due\"", k->id));
    }
    if (rule.hold_for != 1) error(c, "hold_for does not apply to missing-data rules");
    return m;
  }

  ExpressionCondition compile_expression(const ConditionSpec& c, const Rule& rule, bool pattern) {
    ExpressionCondition ec;
    auto text = c.string("expr");
    if (!text || rule.kpis.empty()) return ec;
    if (pattern) {
      error(c, "an expression rule watches one KPI, not a pattern");
      return ec;
    }
    auto parsed = parse_expression(*text, catalog_, *rule.kpis[0]);
    if (auto* e = std::get_if<ExprError>(&parsed)) {
      error_in_string(c.position("expr"), e->offset, fmt::format("{}: {}", c.where, e->message));
      return ec;
    }
    auto expr = std::move(std::get<std::unique_ptr<Expr>>(parsed));
    if (!expr->is_boolean())
      error_in_string(c.position("expr"), 0,
                      fmt::format("{}: the expression must be a comparison (e.g. x < 50)", c.where));
    ec.expr = std::move(expr);
    return ec;
  }

  // The KPIs whose changes re-evaluate the rule.
  static void collect_reads(Rule& rule) {
    for (const Kpi* k : rule.kpis) rule.reads.insert(k->id);
    if (auto* e = std::get_if<ExpressionCondition>(&rule.condition); e && e->expr) {
      std::vector<const Kpi*> kpis;
      collect_kpis(*e->expr, kpis);
      for (const Kpi* k : kpis) rule.reads.insert(k->id);
    }
  }

  const RuleSource& source_;
  const Catalog& catalog_;
  Diagnostics& diags_;
};

}  // namespace

void compile_rules(const RuleFileSpec& file, const Catalog& catalog, Diagnostics& diags,
                   std::vector<std::unique_ptr<Rule>>& out) {
  RuleCompiler compiler(*file.source, catalog, diags);
  for (const auto& spec : file.rules)
    if (auto rule = compiler.compile(spec)) out.push_back(std::move(rule));
}

}  // namespace kpiwatch
