#include "report/report_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace kpiwatch {
namespace {

using views::Report;
using views::ReportGoal;
using views::ReportKpi;
using views::ReportText;
using views::Verdict;

// One page per goal on A4 landscape; the screen shows the same pages on grey.
constexpr std::string_view kCss = R"(
@page { size: A4 landscape; margin: 12mm 14mm; }
* { box-sizing: border-box; }
body { margin: 0; color: #1a1a1a; background: #fff;
  font-family: "IPAPGothic", "IPAGothic", "Noto Sans CJK JP", sans-serif; font-size: 10pt; line-height: 1.5; }
.page { padding: 8mm 4mm; }
.page + .page { break-before: page; }
@media screen { body { background: #e6e6e6; } .page { background: #fff; max-width: 297mm; margin: 8mm auto; padding: 12mm 14mm; box-shadow: 0 1px 4px #0003; } }
h1 { font-size: 22pt; margin: 0 0 4mm; color: #0b3a6f; }
h2 { font-size: 14pt; margin: 0 0 3mm; padding: 1.5mm 3mm; color: #fff; background: #0b3a6f; }
h3 { font-size: 11pt; margin: 0 0 1mm; color: #0b3a6f; border-bottom: 1px solid #0b3a6f; display: flex; justify-content: space-between; gap: 4mm; }
h3 .reading { font-size: 8.5pt; font-weight: normal; color: #333; white-space: nowrap; align-self: flex-end; }
h4 { font-size: 10pt; margin: 3mm 0 1mm; }
.title { display: flex; flex-direction: column; justify-content: center; min-height: 170mm; }
.title .plan { font-size: 13pt; color: #444; margin: 0 0 2mm; }
.title dl { display: grid; grid-template-columns: max-content auto; gap: 1mm 6mm; margin: 8mm 0 0; font-size: 11pt; }
.title dt { color: #555; } .title dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; line-height: 1.3; }
th, td { border: 1px solid #9aa7b5; padding: 0.4mm 2mm; text-align: left; vertical-align: top; }
thead th { background: #dfe7f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr { break-inside: avoid; }
.verdict-concern { color: #a4000f; font-weight: bold; } .verdict-overdue { color: #8a4b00; font-weight: bold; }
.verdict-on_track { color: #00612e; } .verdict-no_data { color: #666; }
.kpis { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm 8mm; }
.kpi { break-inside: avoid; }
.kpi svg { width: 100%; height: auto; display: block; }
.kpi ul, .notes ul { margin: 0.5mm 0; padding-left: 5mm; }
.kpi ul { line-height: 1.4; }
.headlines li { margin: 0.5mm 0; }
.notes { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 0 6mm; margin-top: 2mm; break-inside: avoid; }
.notes h4 { margin-top: 1mm; }
.notes .overdue { font-size: 9pt; }
.sources { margin-top: 3mm; font-size: 8pt; color: #333; border-top: 1px solid #999; padding-top: 1mm; }
.sources ol { margin: 0; padding-left: 6mm; }
sup { font-size: 7pt; }
.none { color: #666; }
.legend { font-size: 8pt; color: #444; margin: 2mm 0 0; }
)";

struct Words {
  std::string_view title, plan, years, as_of, generated, summary, goal, kpi, direction, verdict, chart, figures, series,
      findings, progress, overdue, sources, source, submitted, none_findings, none_progress, none_overdue, no_figures,
      goal_prefix, list_sep;
};

const Words& words(Lang lang) {
  static const Words ja{"フォローアップ報告書",
                        "第2期医療機器基本計画",
                        "対象期間",
                        "データ時点",
                        "作成日時",
                        "KPIの状況（総括表）",
                        "ゴール",
                        "KPI",
                        "傾向",
                        "評価",
                        "の推移",
                        "数値",
                        "区分",
                        "指摘事項",
                        "進捗",
                        "未提出の数値",
                        "出所",
                        "出所：",
                        "提出",
                        "指摘事項はない。",
                        "特記すべき進捗はない。",
                        "期限を過ぎた未提出の数値はない。",
                        "数値の提出がない。",
                        "ゴール",
                        "、"};
  static const Words en{"Follow-up report",
                        "2nd Medical Device Basic Plan",
                        "Years covered",
                        "Data as of",
                        "Generated",
                        "KPIs at a glance",
                        "Goal",
                        "KPI",
                        "Direction",
                        "Verdict",
                        ", by period",
                        "Figures",
                        "Series",
                        "Findings",
                        "Progress",
                        "Overdue figures",
                        "Sources",
                        "Source: ",
                        "submitted by",
                        "No findings.",
                        "No progress to note.",
                        "No figures are overdue.",
                        "No figures have been submitted.",
                        "Goal ",
                        ", "};
  return lang == Lang::ja ? ja : en;
}

std::string escape(std::string_view text) { return html_escape(text); }

const std::string& pick(const ReportText& text, Lang lang) { return lang == Lang::ja ? text.ja : text.en; }
const std::string& pick(const std::string& ja, const std::string& en, Lang lang) { return lang == Lang::ja ? ja : en; }

// A Japanese reader reads Japan's time (UTC+9, no daylight saving); the English text keeps UTC.
std::string local(const std::string& rfc3339, Lang lang) {
  auto t = parse_rfc3339(rfc3339);
  if (!t || lang != Lang::ja) return rfc3339;
  return format_rfc3339(*t + std::chrono::hours(9));
}

// "2026-05-01T09:30:00Z" → 「2026年5月1日」 / "1 May 2026"; the text itself if it is no date.
std::string day_of(const std::string& rfc3339, Lang lang) {
  std::string at = local(rfc3339, lang);
  auto day = parse_date_id(std::string_view(at).substr(0, 10));
  return day ? date_name(*day, lang) : rfc3339;
}

// The day and the time of day: 「2026年12月2日 5:48（日本時間）」 / "1 December 2026, 20:48 UTC".
std::string time_of(const std::string& rfc3339, Lang lang) {
  if (rfc3339.size() < 16 || rfc3339[10] != 'T') return day_of(rfc3339, lang);
  std::string at = local(rfc3339, lang);
  return fmt::format(fmt::runtime(lang == Lang::ja ? "{} {}（日本時間）" : "{}, {} UTC"), day_of(rfc3339, lang),
                     at.substr(11, 5));
}

std::string goal_title(const Goal& goal, Lang lang) {
  const Words& w = words(lang);
  return fmt::format("{}{}. {}", w.goal_prefix, goal.number, pick(goal.name_ja, goal.name_en, lang));
}

// 「（人）」 / "(trainees)".
std::string unit_caption(const Kpi& kpi, Lang lang) {
  return fmt::format(fmt::runtime(lang == Lang::ja ? "（{}）" : "({})"), kpi.unit_name(lang));
}

std::string figure_text(const Kpi& kpi, double value) {
  NumberFormat format;
  format.grouping = true;
  format.decimals = kpi.precision();
  return format_number(value, format);
}

// ---- the charts ----

struct Axis {
  std::vector<Period> periods;
  double low = 0, high = 1, step = 1;
};

// A step of 1, 2 or 5 times a power of ten giving about four intervals.
double nice_step(double range) {
  double raw = range / 4;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * power) return m * power;
  return 10 * power;
}

Axis axis_of(const views::SeriesView& figures) {
  Axis axis;
  std::set<Period> periods;
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const auto& s : figures.series)
    for (const auto& r : s.points) {
      periods.insert(r.submission.period);
      if (!r.submission.value) continue;
      low = std::min(low, *r.submission.value);
      high = std::max(high, *r.submission.value);
    }
  axis.periods.assign(periods.begin(), periods.end());
  if (!std::isfinite(low)) return axis;
  low = std::min(low, 0.0);  // bars of policy figures read from zero
  if (high <= low) high = low + 1;
  axis.step = nice_step(high - low);
  axis.low = std::floor(low / axis.step) * axis.step;
  axis.high = std::ceil(high / axis.step) * axis.step;
  return axis;
}

constexpr std::string_view kColors[] = {"#0b3a6f", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a",
                                        "#1098ad", "#e67700", "#5c7cfa", "#495057", "#a61e4d"};
constexpr double kWidth = 600, kHeight = 180, kLeft = 58, kRight = 150, kTop = 18, kBottom = 28;

struct Plot {
  const Axis& axis;
  double x(std::size_t i) const {
    double inner = kWidth - kLeft - kRight;
    double n = static_cast<double>(axis.periods.size());
    return kLeft + inner * (static_cast<double>(i) + 0.5) / n;
  }
  double y(double v) const { return kTop + (kHeight - kTop - kBottom) * (1 - (v - axis.low) / (axis.high - axis.low)); }
  std::size_t index(const Period& p) const {
    return static_cast<std::size_t>(std::lower_bound(axis.periods.begin(), axis.periods.end(), p) -
                                    axis.periods.begin());
  }
};

std::string chart_grid(const Plot& plot, Lang lang) {
  std::string out;
  NumberFormat tick;
  tick.grouping = true;
  const Axis& a = plot.axis;
  for (double v = a.low; v <= a.high + a.step / 2; v += a.step) {
    double y = plot.y(v);
    out += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d0d7de\" stroke-width=\"0.8\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"12\" fill=\"#444\">{}</text>\n",
        kLeft, kWidth - kRight, y, y, kLeft - 6, y + 3.5, escape(format_number(v, tick)));
  }
  for (std::size_t i = 0; i < a.periods.size(); ++i)
    out +=
        fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#222\">{}</text>\n",
                    plot.x(i), kHeight - kBottom + 18, escape(period_name(a.periods[i], lang)));
  out += fmt::format("<line x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#555\"/>\n", kLeft,
                     kWidth - kRight, plot.y(a.low));
  return out;
}

std::string chart_series(const Plot& plot, const Kpi& kpi, const views::Series& s, std::size_t n, bool values,
                         Lang lang) {
  std::string_view color = kColors[n % std::size(kColors)];
  std::string points, marks;
  for (const auto& r : s.points) {
    if (!r.submission.value) continue;
    double x = plot.x(plot.index(r.submission.period)), y = plot.y(*r.submission.value);
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x, y);
    marks += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>", x, y, color);
    if (values)
      marks +=
          fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{}\">{}</text>",
                      x, y - 6, color, escape(figure_text(kpi, *r.submission.value)));
  }
  double ly = kTop + 4 + 17 * static_cast<double>(n);
  std::string legend = fmt::format(
      "<line x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" stroke-width=\"2.5\"/>"
      "<text x=\"{4:.1f}\" y=\"{5:.1f}\" font-size=\"12\" fill=\"#222\">{6}</text>",
      kWidth - kRight + 12, kWidth - kRight + 30, ly, color, kWidth - kRight + 35, ly + 3.5,
      escape(views::series_label(kpi, s.dims, lang)));
  return fmt::format("<g><polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>{}{}</g>\n", points,
                     color, marks, legend);
}

std::string chart(const ReportKpi& k, Lang lang) {
  const Kpi& kpi = *k.kpi;
  Axis axis = axis_of(k.figures);
  if (axis.periods.empty() || kpi.is_items()) return "";
  Plot plot{axis};
  std::string title = fmt::format("{}{}", pick(kpi.name_ja, kpi.name_en, lang), words(lang).chart);
  std::string out = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\"><title>{}</title>\n"
      "<text x=\"4\" y=\"12\" font-size=\"12\" fill=\"#555\">{}</text>\n",
      kWidth, kHeight, escape(title), escape(title), escape(unit_caption(kpi, lang)));
  out += chart_grid(plot, lang);
  // Values beside every point while they stay legible; with many lines the table carries them.
  bool values = k.figures.series.size() <= 4;
  for (std::size_t n = 0; n < k.figures.series.size(); ++n)
    out += chart_series(plot, kpi, k.figures.series[n], n, values, lang);
  return out + "</svg>\n";
}

// ---- the tables ----

std::string cell(const Kpi& kpi, const Revision& r, Lang lang) {
  if (r.submission.value)
    return fmt::format("<td class=\"num\">{}</td>", escape(figure_text(kpi, *r.submission.value)));
  std::string items;
  for (const auto& item : r.submission.items)
    items += fmt::format("{}{}", items.empty() ? "" : words(lang).list_sep, kpi.item_label(item, lang));
  return fmt::format("<td>{}</td>", escape(items));
}

std::string figures_table(const ReportKpi& k, Lang lang) {
  const Kpi& kpi = *k.kpi;
  const Words& w = words(lang);
  Axis axis = axis_of(k.figures);
  if (axis.periods.empty()) return fmt::format("<p class=\"none\">{}</p>\n", w.no_figures);
  std::string out =
      fmt::format("<table class=\"figures\"><thead><tr><th>{}{}</th>", w.series, escape(unit_caption(kpi, lang)));
  for (const auto& p : axis.periods) out += fmt::format("<th>{}</th>", escape(period_name(p, lang)));
  out += "</tr></thead><tbody>\n";
  for (const auto& s : k.figures.series) {
    out += fmt::format("<tr><th>{}</th>", escape(views::series_label(kpi, s.dims, lang)));
    std::size_t next = 0;
    for (const auto& r : s.points) {
      auto at = std::lower_bound(axis.periods.begin(), axis.periods.end(), r.submission.period) - axis.periods.begin();
      for (; next < static_cast<std::size_t>(at); ++next) out += "<td></td>";
      out += cell(kpi, r, lang);
      next = static_cast<std::size_t>(at) + 1;
    }
    for (; next < axis.periods.size(); ++next) out += "<td></td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string source_refs(const ReportKpi& k) {
  std::string out;
  for (std::size_t i : k.sources) out += fmt::format("{}{}", out.empty() ? "" : ",", i + 1);
  return out.empty() ? "" : fmt::format("<sup>[{}]</sup>", out);
}

std::string kpi_block(const ReportKpi& k, Lang lang) {
  const Kpi& kpi = *k.kpi;
  const Words& w = words(lang);
  std::string out = fmt::format(
      "<article class=\"kpi\" id=\"{}\"><h3><span>{}{}</span><span class=\"reading\">{}: {} · {}: <span "
      "class=\"verdict-{}\">{}</span></span></h3>\n",
      escape(kpi.id), escape(pick(kpi.name_ja, kpi.name_en, lang)), source_refs(k), w.direction,
      views::direction_name(k.direction, lang), w.verdict, views::verdict_id(k.verdict),
      views::verdict_name(k.verdict, lang));
  if (!k.headlines.empty()) {
    out += "<ul class=\"headlines\">";
    for (const auto& h : k.headlines) out += fmt::format("<li>{}</li>", escape(pick(h, lang)));
    out += "</ul>\n";
  }
  out += chart(k, lang);
  out += figures_table(k, lang);
  return out + "</article>\n";
}

// ---- the goal's notes: findings, progress, overdue, sources ----

// One of the goal's notes: its heading, then its items, or `none`.
std::string note(std::string_view kind, std::string_view heading, const std::vector<std::string>& items,
                 std::string_view none) {
  std::string out = fmt::format("<div class=\"note\"><h4>{}</h4>", heading);
  if (items.empty()) return out + fmt::format("<p class=\"none\">{}</p></div>\n", none);
  out += fmt::format("<ul class=\"{}\">", kind);
  for (const auto& item : items) out += fmt::format("<li>{}</li>", item);
  return out + "</ul></div>\n";
}

std::string findings(const ReportGoal& g, Lang lang) {
  std::vector<std::string> items;
  for (const auto& a : g.findings) items.push_back(escape(pick(a.summary_ja, a.summary_en, lang)));
  return note("findings", words(lang).findings, items, words(lang).none_findings);
}

std::string progress(const ReportGoal& g, Lang lang) {
  std::vector<std::string> items;
  for (const auto& p : g.progress) items.push_back(escape(pick(p, lang)));
  return note("progress", words(lang).progress, items, words(lang).none_progress);
}

// One line per period: its deadline, then the KPIs (with how many series when more than one).
std::string overdue(const ReportGoal& g, Lang lang) {
  bool ja = lang == Lang::ja;
  std::vector<std::pair<Period, std::string>> lines;
  for (const auto& o : g.overdue) {
    const views::OverdueKpi& k = o.figures;
    auto it = std::find_if(lines.begin(), lines.end(), [&](const auto& l) { return l.first == o.period; });
    if (it == lines.end()) {
      std::string head =
          ja ? fmt::format("{}の数値（提出期限 {}）：", period_name(o.period, lang), date_name(k.due, lang))
             : fmt::format("{} figures (due {}): ", period_name(o.period, lang), date_name(k.due, lang));
      it = lines.insert(lines.end(), {o.period, escape(head)});
    } else {
      it->second += ja ? "、" : "; ";
    }
    it->second += escape(pick(k.kpi->name_ja, k.kpi->name_en, lang));
    if (k.missing > 1) it->second += ja ? fmt::format("（{}件）", k.missing) : fmt::format(" ({} series)", k.missing);
  }
  std::vector<std::string> items;
  items.reserve(lines.size());
  for (auto& [period, line] : lines) items.push_back(std::move(line));
  return note("overdue", words(lang).overdue, items, words(lang).none_overdue);
}

std::string sources(const ReportGoal& g, Lang lang) {
  if (g.sources.empty()) return "";
  const Words& w = words(lang);
  std::string out = fmt::format("<footer class=\"sources\"><ol>");
  for (const auto& s : g.sources) {
    std::string line = fmt::format("{}{}", w.source, escape(s.source));
    line += fmt::format(fmt::runtime(lang == Lang::ja ? "　{}：{}、{}" : "; {} {}, {}"), w.submitted,
                        escape(s.submitted_by), escape(day_of(s.submitted_at, lang)));
    out += fmt::format("<li>{}</li>", line);
  }
  return out + "</ol></footer>\n";
}

std::string goal_section(const ReportGoal& g, Lang lang) {
  std::string out = fmt::format("<section class=\"page goal\" id=\"goal-{}\">\n<h2>{}</h2>\n<div class=\"kpis\">\n",
                                g.goal->number, escape(goal_title(*g.goal, lang)));
  for (const auto& k : g.kpis) out += kpi_block(k, lang);
  out += "</div>\n<div class=\"notes\">\n";
  out += findings(g, lang) + progress(g, lang) + overdue(g, lang);
  out += "</div>\n";
  return out + sources(g, lang) + "</section>\n";
}

// ---- the first two pages ----

std::string title_page(const Report& r, Lang lang) {
  const Words& w = words(lang);
  std::string years = r.first_year && r.first_year != r.year
                          ? fmt::format(fmt::runtime(lang == Lang::ja ? "{}年～{}年" : "{}–{}"), r.first_year, r.year)
                          : fmt::format(fmt::runtime(lang == Lang::ja ? "{}年" : "{}"), r.year);
  return fmt::format(
      "<section class=\"page title\">\n<p class=\"plan\">{}</p>\n<h1>{} {}</h1>\n<dl>"
      "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>\n</section>\n",
      w.plan, lang == Lang::ja ? fmt::format("{}年", r.year) : std::to_string(r.year), w.title, w.years, years, w.as_of,
      escape(time_of(r.as_of, lang)), w.generated, escape(time_of(r.generated_at, lang)));
}

// How the table reads: the tolerance of 横ばい, and what each verdict means.
std::string legend(const Report& r, Lang lang) {
  std::string percent = format_number(r.tolerance * 100, NumberFormat{false, false, std::nullopt});
  if (lang == Lang::ja)
    return fmt::format(
        "傾向：最初の数値と最新の数値を比べ（前年比で読むKPIは前年と比べ）、差が最初の数値の{}%以内なら横ばい。"
        "評価：報告書の読み方または警告以上のアラートが懸念を示せば懸念、{}年（年度の数値は{}年度）までの数値が"
        "期限を過ぎて未提出なら未提出、それ以外は順調。",
        percent, r.year, r.year - 1);
  return fmt::format(
      "Direction: the first figure against the latest (or the previous year's, where the report reads that), "
      "flat within {}% of the first. Verdict: a concern in the report's reading or a warning or critical alert; "
      "overdue if a figure up to {} (fiscal years up to FY{}) is missing; otherwise on track.",
      percent, r.year, r.year - 1);
}

std::string summary_table(const Report& r, Lang lang) {
  const Words& w = words(lang);
  std::string out = fmt::format(
      "<section class=\"page summary\">\n<h2>{}</h2>\n<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
      "</tr></thead><tbody>\n",
      w.summary, w.goal, w.kpi, w.direction, w.verdict);
  for (const auto& g : r.goals) {
    std::size_t rows = std::max<std::size_t>(g.kpis.size(), 1);
    out += fmt::format("<tr><th rowspan=\"{}\">{}</th>", rows, escape(goal_title(*g.goal, lang)));
    if (g.kpis.empty()) out += "<td></td><td></td><td></td></tr>\n";
    for (std::size_t i = 0; i < g.kpis.size(); ++i) {
      const ReportKpi& k = g.kpis[i];
      out += fmt::format("{}<td>{}</td><td>{}</td><td class=\"verdict-{}\">{}</td></tr>\n", i ? "<tr>" : "",
                         escape(pick(k.kpi->name_ja, k.kpi->name_en, lang)), views::direction_name(k.direction, lang),
                         views::verdict_id(k.verdict), views::verdict_name(k.verdict, lang));
    }
  }
  return out + fmt::format("</tbody></table>\n<p class=\"legend\">{}</p>\n</section>\n", legend(r, lang));
}

}  // namespace

std::string_view report_css() { return kCss; }

std::string render_report_html(const Report& report, Lang lang) {
  const Words& w = words(lang);
  std::string out = fmt::format(
      "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} {} {}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n",
      to_string(lang), w.plan, report.year, w.title, kCss);
  out += title_page(report, lang);
  out += summary_table(report, lang);
  for (const auto& g : report.goals) out += goal_section(g, lang);
  return out + "</body>\n</html>\n";
}

}  // namespace kpiwatch
