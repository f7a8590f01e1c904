#pragma once
// Figures as CSV: the columns that GET /api/v1/export.csv writes and
// `kpiwatch import` reads back. One table names each column in both languages.

#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/submission.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

struct FigureColumn {
  std::string_view id;  // the English header, and the importer's name of the column
  std::string_view ja;  // the Japanese header
  bool imported;        // read back by the importer; the others are for people and ignored
};

// In the order the export writes them.
const std::vector<FigureColumn>& figure_columns();
// The column a header cell names, in either language; null if none.
const FigureColumn* find_figure_column(std::string_view header);

// "stage=all;phase=basic": a series' dims as one cell; the importer's "dims" column.
std::string dims_cell(const Dims& dims);
// Reads what dims_cell writes; false if a pair has no "=".
bool parse_dims_cell(std::string_view cell, Dims& out);
// "全体 / 基礎": the labels of a series' dims in the catalog's order of dimensions.
std::string series_label(const Kpi& kpi, const Dims& dims, Lang lang);

// The header row, CRLF-terminated.
void append_figure_header(std::string& out, Lang lang);
// One revision as a row, CRLF-terminated. Items are joined by "|", as the importer splits them.
void append_figure_row(std::string& out, const Kpi& kpi, const Revision& revision, Lang lang);

}  // namespace kpiwatch
