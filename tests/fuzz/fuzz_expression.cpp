// The condition of a rule (`when = "..."`): the first line names the watched
// KPI (any other first line picks one by its length), the rest is the
// expression, parsed against the shipped catalog and evaluated on a small
// index of figures.
#include "expression.hpp"
#include "fuzz_series.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kpiwatch;
  static const auto catalog = Catalog::embedded();
  static const SeriesIndex index = fuzz::sample_index(*catalog);
  auto text = fuzz::as_text(data, size);
  auto newline = text.find('\n');
  auto first = text.substr(0, newline);
  auto expression = newline == std::string_view::npos ? text : text.substr(newline + 1);
  const Kpi* watched = catalog->find(first);
  if (!watched) watched = &catalog->kpis()[first.size() % catalog->kpis().size()];

  auto parsed = parse_expression(expression, *catalog, *watched);
  if (const auto* error = std::get_if<ExprError>(&parsed)) {
    if (error->message.empty()) fuzz::violated("an error without a message", expression);
    if (error->offset > expression.size()) fuzz::violated("an error past the end", expression);
    // Rule files are UTF-8 (TOML), and so must their errors be.
    if (fuzz::is_utf8(expression)) fuzz::check_text("error message is not UTF-8", error->message);
    return 0;
  }
  const Expr& expr = *std::get<0>(parsed);
  std::vector<const Kpi*> kpis;
  collect_kpis(expr, kpis);
  (void)comparison_lhs(expr);
  (void)expr.is_boolean();
  const Series* series = index.find(watched->id, fuzz::first_dims(*watched));
  if (!series) fuzz::violated("the sample index misses a KPI", watched->id);
  (void)evaluate(expr, {index, *series}, fuzz::latest_period(watched->period));
  return 0;
}
