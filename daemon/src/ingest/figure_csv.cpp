#include "kpiwatch/figure_csv.hpp"

#include <fmt/format.h>

#include "kpiwatch/csv.hpp"

namespace kpiwatch {

const std::vector<FigureColumn>& figure_columns() {
  static const std::vector<FigureColumn> columns = {
      {"goal", "目標", false},
      {"kpi", "KPI", true},
      {"kpi_name", "KPI名", false},
      {"period", "期間", true},
      {"period_name", "期間名", false},
      {"series", "系列", false},
      {"dims", "次元", true},
      {"value", "値", true},
      {"unit", "単位", false},
      {"items", "項目", true},
      {"body", "報告機関", true},
      {"source", "出典", true},
      {"note", "備考", true},
      {"submitted_by", "提出者", false},
      {"submitted_at", "提出日時", false},
      {"revision", "版", false},
  };
  return columns;
}

const FigureColumn* find_figure_column(std::string_view header) {
  for (const auto& c : figure_columns())
    if (header == c.id || header == c.ja) return &c;
  return nullptr;
}

std::string dims_cell(const Dims& dims) {
  std::string cell;
  for (const auto& [name, value] : dims) {
    if (!cell.empty()) cell += ';';
    cell += name;
    cell += '=';
    cell += value;
  }
  return cell;
}

bool parse_dims_cell(std::string_view cell, Dims& out) {
  std::size_t start = 0;
  while (start < cell.size()) {
    auto end = cell.find(';', start);
    if (end == std::string_view::npos) end = cell.size();
    auto pair = cell.substr(start, end - start);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return false;
    out[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    start = end + 1;
  }
  return true;
}

std::string series_label(const Kpi& kpi, const Dims& dims, Lang lang) {
  std::string label;
  for (const auto& d : kpi.dims) {
    auto it = dims.find(d.name);
    if (it == dims.end()) continue;
    if (!label.empty()) label += " / ";
    label += d.label(it->second, lang);
  }
  return label;
}

void append_figure_header(std::string& out, Lang lang) {
  bool first = true;
  for (const auto& c : figure_columns()) {
    if (!first) out += ',';
    first = false;
    append_csv_cell(out, lang == Lang::ja ? c.ja : c.id);
  }
  out += "\r\n";
}

namespace {

std::string joined_items(const std::vector<std::string>& items) {
  std::string cell;
  for (const auto& i : items) {
    if (!cell.empty()) cell += '|';
    cell += i;
  }
  return cell;
}

}  // namespace

void append_figure_row(std::string& out, const Kpi& kpi, const Revision& revision, Lang lang) {
  const Submission& s = revision.submission;
  std::string value = s.value ? csv_number(*s.value) : "";
  append_csv_row(
      out, {fmt::format("{}", kpi.goal), kpi.id, lang == Lang::ja ? kpi.name_ja : kpi.name_en, s.period.str(),
            period_name(s.period, lang), series_label(kpi, s.dims, lang), dims_cell(s.dims), value, kpi.unit_name(lang),
            csv_text(joined_items(s.items)), s.body, csv_text(s.source), csv_text(s.note),
            csv_text(revision.submitted_by), revision.received_at, fmt::format("{}", revision.revision)});
}

}  // namespace kpiwatch
