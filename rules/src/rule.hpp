#pragma once
// A compiled rule: the TOML a person wrote, checked against the catalog.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "expression.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/source_position.hpp"
#include "kpiwatch/template.hpp"

namespace kpiwatch {

struct Threshold {
  enum class Op { above, at_or_above, below, at_or_below } op = Op::above;
  double bound = 0;
};

struct Change {
  bool falling = true;
  bool percent = false;
  double amount = 0;
  bool inclusive = false;         // at_least rather than more_than
  bool last_reported = false;     // compare with the latest earlier figure, not P-1
  bool against_baseline = false;  // compare with the rule's baseline period
};

struct Trend {
  enum class Kind { declines, rises, slope_below, slope_above } kind = Kind::declines;
  int periods = 0;  // steps, or the window of the slope
  double bound = 0;
};

struct Stagnation {
  int window = 0;
  double tolerance = 0;
  bool tolerance_percent = false;
  std::optional<double> at_or_below;
};

struct NewItem {};

struct Missing {
  std::optional<Deadline> due;  // overrides the catalog's deadline of each KPI

  const Deadline& deadline(const Kpi& kpi) const { return due ? *due : *kpi.due; }  // the compiler checked one exists
};

struct ExpressionCondition {
  std::shared_ptr<const Expr> expr;
};

using Condition = std::variant<Threshold, Change, Trend, Stagnation, NewItem, Missing, ExpressionCondition>;

struct Rule {
  std::string id;
  std::string title;
  std::string file;
  int line = 0;
  std::vector<const Kpi*> kpis;  // watched KPIs (one, or those a pattern matched)
  Dims dims;                     // filter
  Severity severity = Severity::warning;
  Labels labels;
  std::vector<std::string> receivers;
  std::vector<SourcePos> receivers_at;  // where each name is written
  int hold_for = 1;
  std::optional<Period> baseline;  // e.g. the plan's start year, for {baseline} and against = "baseline"
  Template summary_ja, summary_en, description_ja, description_en;
  Condition condition;
  std::set<std::string> reads;  // KPIs whose changes re-evaluate this rule
  // Per watched KPI, the placeholders that depend on neither the series nor the
  // period (names, the rule's labels): made once at load, not per alert.
  std::map<const Kpi*, TemplateValues> names;

  bool is_missing() const { return std::holds_alternative<Missing>(condition); }
  bool watches(std::string_view kpi) const;
  bool matches(const Dims& series_dims) const;
};

// Fills rule.names for each of its KPIs.
void prepare_names(Rule& rule, const Catalog& catalog);

}  // namespace kpiwatch
