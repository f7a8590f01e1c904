#pragma once
// Expressions over KPIs: arithmetic, comparison, and/or/not, previous(),
// avg/min/max over a window, count() of items. Parsed once, evaluated per period.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/series.hpp"

namespace kpiwatch {

struct Expr {
  enum class Kind { number, kpi, value, neg, not_, binary, call } kind = Kind::number;
  double number = 0;
  const Kpi* kpi = nullptr;  // Kind::kpi
  Dims selector;             // explicit dims of a KPI reference
  // Kind::kpi: it has no selector and the dimensions (names and values) of the
  // watched KPI, so that it reads the series of the watched series' own key.
  bool same_dims = false;
  // Binary operators and functions; their names are in one table (expression.cpp).
  enum class Op {
    plus,
    minus,
    times,
    divided_by,
    less,
    less_or_equal,
    greater,
    greater_or_equal,
    equal,
    not_equal,
    and_,
    or_,
    previous,
    avg,
    min,
    max,
    count
  } op = Op::plus;  // Kind::binary and Kind::call
  std::vector<std::unique_ptr<Expr>> args;
  int window = 0;          // avg/min/max
  std::size_t offset = 0;  // in the source text, for errors

  bool is_boolean() const;
};

struct ExprError {
  std::size_t offset = 0;
  std::string message;
};

// Parses `text` for a rule watching `watched`; KPI references must share its
// period kind and be able to resolve their dims. Errors carry an offset.
std::variant<std::unique_ptr<Expr>, ExprError> parse_expression(std::string_view text, const Catalog& catalog,
                                                                const Kpi& watched);

// KPIs an expression reads.
void collect_kpis(const Expr& expr, std::vector<const Kpi*>& out);

struct ExprContext {
  const SeriesIndex& index;
  const Series& watched;
};

// The value at `period`; nullopt if a figure it needs is missing or a division by zero.
std::optional<double> evaluate(const Expr& expr, const ExprContext& context, const Period& period);

// The left-hand side of a top-level comparison, for the {value} placeholder.
const Expr* comparison_lhs(const Expr& expr);

}  // namespace kpiwatch
