// A rule's condition in words, as a policy officer reads it, for the alert page.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "kpiwatch/rules.hpp"
#include "rule.hpp"

namespace kpiwatch {

namespace {

struct Words {
  std::string ja, en;
};

// "33.1%", "4,086 trainees", "40人": a value of the KPI, as the report prints it.
std::string with_unit(double v, const Kpi& kpi, Lang lang, std::optional<int> decimals) {
  NumberFormat f;
  f.grouping = true;
  f.decimals = decimals;
  std::string number = format_number(v, f);
  std::string_view unit = kpi.unit_name(lang);
  if (unit.empty()) return number;
  bool tight = lang == Lang::ja || unit == "%";
  return fmt::format("{}{}{}", number, tight ? "" : " ", unit);
}

std::string value_text(double v, const Kpi& kpi, Lang lang) { return figure_with_unit(v, kpi, lang); }

// An amount of change: 「5ポイント」 of a percent KPI, else in the KPI's unit, without trailing zeros.
std::string amount_text(double v, const Kpi& kpi, Lang lang) {
  if (kpi.unit != Unit::percent) return with_unit(v, kpi, lang, std::nullopt);
  std::string number = format_number(v, NumberFormat{});
  return lang == Lang::ja ? number + "ポイント" : fmt::format("{} point{}", number, v == 1 ? "" : "s");
}

std::string percent_text(double v) { return format_number(v, NumberFormat{}) + "%"; }

// 「年」「年度」「四半期」「か月」 / "year", ...
Words period_unit(PeriodKind kind) {
  static constexpr std::string_view ja[] = {"年", "年度", "四半期", "か月"};
  static constexpr std::string_view en[] = {"year", "fiscal year", "quarter", "month"};
  auto k = static_cast<std::size_t>(kind);
  return {std::string(ja[k]), std::string(en[k])};
}

// 「3年」「3年度」「3四半期」「3か月」 / "3 years", ...
Words periods(int n, PeriodKind kind) {
  Words unit = period_unit(kind);
  return {fmt::format("{}{}", n, unit.ja), fmt::format("{} {}{}", n, unit.en, n == 1 ? "" : "s")};
}

Words previous_period(PeriodKind kind) {
  static constexpr std::string_view ja[] = {"前年", "前年度", "前四半期", "前月"};
  static constexpr std::string_view en[] = {"the previous year", "the previous fiscal year", "the previous quarter",
                                            "the previous month"};
  auto k = static_cast<std::size_t>(kind);
  return {std::string(ja[k]), std::string(en[k])};
}

// Counts grow and shrink (増加・減少); rates and levels rise and fall (上昇・低下).
std::string_view move_ja(const Kpi& kpi, bool falling) {
  bool count = kpi.unit == Unit::count || kpi.unit == Unit::items;
  return falling ? (count ? "減少" : "低下") : (count ? "増加" : "上昇");
}

Words threshold_words(const Threshold& t, const Kpi& kpi) {
  std::string ja = value_text(t.bound, kpi, Lang::ja), en = value_text(t.bound, kpi, Lang::en);
  switch (t.op) {
    case Threshold::Op::above:
      return {fmt::format("値が{}を上回る", ja), fmt::format("the figure is above {}", en)};
    case Threshold::Op::at_or_above:
      return {fmt::format("値が{}以上", ja), fmt::format("the figure is at or above {}", en)};
    case Threshold::Op::below:
      return {fmt::format("値が{}を下回る", ja), fmt::format("the figure is below {}", en)};
    case Threshold::Op::at_or_below:
      break;
  }
  return {fmt::format("値が{}以下", ja), fmt::format("the figure is at or below {}", en)};
}

// What a change is compared against: 「前年比で」 / "from the previous year".
Words against_words(const Change& c, const Rule& rule, const Kpi& kpi) {
  if (c.against_baseline && rule.baseline)
    return {fmt::format("{}比で", period_name(*rule.baseline, Lang::ja)),
            fmt::format("from {}", period_name(*rule.baseline, Lang::en))};
  if (c.last_reported) return {"前回の報告値から", "from the last reported figure"};
  auto prev = previous_period(kpi.period);
  return {prev.ja + "比で", "from " + prev.en};
}

Words change_words(const Change& c, const Rule& rule, const Kpi& kpi) {
  Words from = against_words(c, rule, kpi);
  std::string_view ja_move = move_ja(kpi, c.falling);
  std::string_view en_move = c.falling ? "falls" : "rises";
  if (c.amount == 0 && !c.inclusive)
    return {fmt::format("{}{}", from.ja, ja_move), fmt::format("{} {}", en_move, from.en)};
  std::string ja = c.percent ? percent_text(c.amount) : amount_text(c.amount, kpi, Lang::ja);
  std::string en = c.percent ? percent_text(c.amount) : amount_text(c.amount, kpi, Lang::en);
  if (c.inclusive)
    return {fmt::format("{}{}以上{}", from.ja, ja, ja_move), fmt::format("{} by {} or more {}", en_move, en, from.en)};
  return {fmt::format("{}{}を超えて{}", from.ja, ja, ja_move),
          fmt::format("{} by more than {} {}", en_move, en, from.en)};
}

Words trend_words(const Trend& t, const Kpi& kpi) {
  Words n = periods(t.periods, kpi.period);
  switch (t.kind) {
    case Trend::Kind::declines:
      return {fmt::format("{}連続で{}", n.ja, move_ja(kpi, true)), fmt::format("falls {} running", n.en)};
    case Trend::Kind::rises:
      return {fmt::format("{}連続で{}", n.ja, move_ja(kpi, false)), fmt::format("rises {} running", n.en)};
    case Trend::Kind::slope_below:
    case Trend::Kind::slope_above:
      break;
  }
  bool below = t.kind == Trend::Kind::slope_below;
  Words per = period_unit(kpi.period);
  return {fmt::format("直近{}の傾き（1{}あたり）が{}を{}", n.ja, per.ja, amount_text(t.bound, kpi, Lang::ja),
                      below ? "下回る" : "上回る"),
          fmt::format("the trend over the last {} is {} {} a {}", n.en, below ? "below" : "above",
                      amount_text(t.bound, kpi, Lang::en), per.en)};
}

Words stagnation_words(const Stagnation& s, const Kpi& kpi) {
  Words n = periods(s.window, kpi.period);
  if (s.at_or_below)
    return {fmt::format("{}にわたり{}以下にとどまる", n.ja, value_text(*s.at_or_below, kpi, Lang::ja)),
            fmt::format("stays at or below {} for {}", value_text(*s.at_or_below, kpi, Lang::en), n.en)};
  std::string ja = s.tolerance_percent ? percent_text(s.tolerance) : amount_text(s.tolerance, kpi, Lang::ja);
  std::string en = s.tolerance_percent ? percent_text(s.tolerance) : amount_text(s.tolerance, kpi, Lang::en);
  if (s.tolerance == 0)
    return {fmt::format("直近{}で伸びていない", n.ja), fmt::format("has not grown over the last {}", n.en)};
  return {fmt::format("直近{}の伸びが{}以下にとどまる", n.ja, ja),
          fmt::format("grows by no more than {} over the last {}", en, n.en)};
}

Words missing_words(const Missing& m, const Kpi& kpi) {
  if (!m.due && !kpi.due) return {"期限までに数値が提出されない", "no figure is submitted by the deadline"};
  const Deadline& d = m.deadline(kpi);
  Words after =
      d.months ? Words{fmt::format("{}か月", d.months), fmt::format("{} month{}", d.months, d.months == 1 ? "" : "s")}
               : Words{fmt::format("{}日", d.days), fmt::format("{} day{}", d.days, d.days == 1 ? "" : "s")};
  return {fmt::format("期末から{}の期限までに数値が提出されない", after.ja),
          fmt::format("no figure is submitted within {} after the period ends", after.en)};
}

// ------------------------------------------------------------------ expressions

std::string_view op_text(Expr::Op op, Lang lang) {
  bool ja = lang == Lang::ja;
  switch (op) {
    case Expr::Op::plus:
      return " + ";
    case Expr::Op::minus:
      return " − ";
    case Expr::Op::times:
      return " × ";
    case Expr::Op::divided_by:
      return " ÷ ";
    case Expr::Op::less:
      return " < ";
    case Expr::Op::less_or_equal:
      return " ≤ ";
    case Expr::Op::greater:
      return " > ";
    case Expr::Op::greater_or_equal:
      return " ≥ ";
    case Expr::Op::equal:
      return " = ";
    case Expr::Op::not_equal:
      return " ≠ ";
    case Expr::Op::and_:
      return ja ? " かつ " : " and ";
    case Expr::Op::or_:
      return ja ? " または " : " or ";
    default:
      return " ";
  }
}

std::string expr_text(const Expr& e, Lang lang);

// 「研修受講者数」, with the selected dims: 「回答企業数（ベンチャー）」.
std::string kpi_text(const Expr& e, Lang lang) {
  std::string name = lang == Lang::ja ? e.kpi->name_ja : e.kpi->name_en;
  if (e.selector.empty()) return name;
  std::string dims;
  for (const auto& [k, v] : e.selector) {
    const Dimension* d = e.kpi->dimension(k);
    if (!dims.empty()) dims += lang == Lang::ja ? "、" : ", ";
    dims += d ? std::string(d->label(v, lang)) : v;
  }
  return lang == Lang::ja ? fmt::format("{}（{}）", name, dims) : fmt::format("{} ({})", name, dims);
}

std::string call_text(const Expr& e, Lang lang) {
  std::string arg = e.args.empty() ? std::string() : expr_text(*e.args[0], lang);
  bool ja = lang == Lang::ja;
  const PeriodKind kind = e.args.empty() || !e.args[0]->kpi ? PeriodKind::year : e.args[0]->kpi->period;
  Words n = periods(e.window, kind);
  switch (e.op) {
    case Expr::Op::previous:
      return ja ? fmt::format("{}の{}", previous_period(kind).ja, arg)
                : fmt::format("{} in {}", arg, previous_period(kind).en);
    case Expr::Op::avg:
      return ja ? fmt::format("直近{}の{}の平均", n.ja, arg) : fmt::format("the average of {} over {}", arg, n.en);
    case Expr::Op::min:
      return ja ? fmt::format("直近{}の{}の最小値", n.ja, arg) : fmt::format("the lowest {} over {}", arg, n.en);
    case Expr::Op::max:
      return ja ? fmt::format("直近{}の{}の最大値", n.ja, arg) : fmt::format("the highest {} over {}", arg, n.en);
    default:
      break;
  }
  return ja ? fmt::format("{}の件数", arg) : fmt::format("the number of {}", arg);
}

std::string operand_text(const Expr& e, Lang lang) {
  std::string text = expr_text(e, lang);
  return e.kind == Expr::Kind::binary ? fmt::format("({})", text) : text;
}

std::string expr_text(const Expr& e, Lang lang) {
  switch (e.kind) {
    case Expr::Kind::number:
      return format_number(e.number, NumberFormat{});
    case Expr::Kind::kpi:
    case Expr::Kind::value:
      return kpi_text(e, lang);
    case Expr::Kind::neg:
      return "−" + operand_text(*e.args.at(0), lang);
    case Expr::Kind::not_:
      return lang == Lang::ja ? fmt::format("「{}」ではない", expr_text(*e.args.at(0), lang))
                              : fmt::format("not ({})", expr_text(*e.args.at(0), lang));
    case Expr::Kind::call:
      return call_text(e, lang);
    case Expr::Kind::binary:
      break;
  }
  return operand_text(*e.args.at(0), lang) + std::string(op_text(e.op, lang)) + operand_text(*e.args.at(1), lang);
}

// A comparison in words: 「研修受講者数 ÷ 研修コース数が40を下回る」 / "... is below 40".
std::string condition_text(const Expr& e, Lang lang) {
  static constexpr std::tuple<Expr::Op, std::string_view, std::string_view> kWords[] = {
      {Expr::Op::less, "{}が{}を下回る", "{} is below {}"},
      {Expr::Op::less_or_equal, "{}が{}以下", "{} is at or below {}"},
      {Expr::Op::greater, "{}が{}を上回る", "{} is above {}"},
      {Expr::Op::greater_or_equal, "{}が{}以上", "{} is at or above {}"},
      {Expr::Op::equal, "{}が{}に等しい", "{} equals {}"},
      {Expr::Op::not_equal, "{}が{}と異なる", "{} differs from {}"}};
  if (e.kind != Expr::Kind::binary) return expr_text(e, lang);
  if (e.op == Expr::Op::and_ || e.op == Expr::Op::or_)
    return condition_text(*e.args.at(0), lang) + std::string(op_text(e.op, lang)) + condition_text(*e.args.at(1), lang);
  for (const auto& [op, ja, en] : kWords)
    if (op == e.op)
      return fmt::format(fmt::runtime(lang == Lang::ja ? ja : en), expr_text(*e.args.at(0), lang),
                         expr_text(*e.args.at(1), lang));
  return expr_text(e, lang);
}

Words expression_words(const ExpressionCondition& c) {
  if (!c.expr) return {"式が成り立つ", "the expression holds"};
  return {condition_text(*c.expr, Lang::ja), condition_text(*c.expr, Lang::en)};
}

// ------------------------------------------------------------------ per kind

struct Describe {
  const Rule& rule;
  const Kpi& kpi;
  RuleCriterion& out;

  Words operator()(const Threshold& t) const {
    out.bound = RuleCriterion::Bound::fixed;
    out.fixed = t.bound;
    return threshold_words(t, kpi);
  }
  Words operator()(const Change& c) const {
    out.bound = RuleCriterion::Bound::change;
    out.amount = c.amount;
    out.percent = c.percent;
    out.falling = c.falling;
    out.against = c.against_baseline ? RuleCriterion::Against::baseline
                  : c.last_reported  ? RuleCriterion::Against::last_reported
                                     : RuleCriterion::Against::previous_period;
    out.baseline = rule.baseline;
    return change_words(c, rule, kpi);
  }
  Words operator()(const Trend& t) const { return trend_words(t, kpi); }
  Words operator()(const Stagnation& s) const {
    if (s.at_or_below) {
      out.bound = RuleCriterion::Bound::fixed;
      out.fixed = *s.at_or_below;
    }
    return stagnation_words(s, kpi);
  }
  Words operator()(const NewItem&) const { return {"新しい項目が加わる", "a new item appears"}; }
  Words operator()(const Missing& m) const { return missing_words(m, kpi); }
  Words operator()(const ExpressionCondition& e) const { return expression_words(e); }
};

}  // namespace

std::string figure_with_unit(double v, const Kpi& kpi, Lang lang) { return with_unit(v, kpi, lang, kpi.precision()); }

std::optional<double> RuleCriterion::bound_value(std::optional<double> reference) const {
  if (bound == Bound::fixed) return fixed;
  if (bound != Bound::change || !reference) return std::nullopt;
  double by = percent ? *reference * amount / 100.0 : amount;
  // Rounded at 1e-9, so that 33.1 - 5 is 28.1 as a person writes it.
  return std::round((falling ? *reference - by : *reference + by) * 1e9) / 1e9;
}

std::string RuleCriterion::bound_label(double value, const Kpi& kpi, Lang lang) const {
  bool ja = lang == Lang::ja;
  std::string v = value_text(value, kpi, lang);
  if (bound != Bound::change) return ja ? "基準値 " + v : "bound " + v;
  std::string by = percent ? percent_text(amount) : amount_text(amount, kpi, lang);
  if (ja) return fmt::format("基準値 {}（比較対象から{}{}）", v, by, move_ja(kpi, falling));
  return fmt::format("bound {} ({} {} the figure compared against)", v, by, falling ? "below" : "above");
}

RuleCriterion describe_rule(const Rule& rule, const Kpi& kpi) {
  RuleCriterion out;
  Words w = std::visit(Describe{rule, kpi, out}, rule.condition);
  out.ja = std::move(w.ja);
  out.en = std::move(w.en);
  if (rule.hold_for > 1 && !rule.is_missing()) {
    Words n = periods(rule.hold_for, kpi.period);
    out.ja += fmt::format("（{}連続）", n.ja);
    out.en += fmt::format(", for {} running", n.en);
  }
  return out;
}

std::optional<RuleCriterion> RuleSet::criterion(std::string_view id, const Kpi& kpi) const {
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r->id == id; });
  if (it == rules_.end()) return std::nullopt;
  return describe_rule(**it, kpi);
}

}  // namespace kpiwatch
