#pragma once
// CSV text as RFC 4180 writes it and Excel opens it: cells quoted only when
// they must be, rows ended by CRLF, numbers in plain decimals.

#include <initializer_list>
#include <string>
#include <string_view>

namespace kpiwatch {

// The UTF-8 byte order mark; Excel reads a CSV as UTF-8 only when it starts with one.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Appends one cell, in double quotes (each quote doubled) if it holds a comma,
// a quote, CR or LF, or starts or ends with a space; as it is otherwise.
void append_csv_cell(std::string& out, std::string_view cell);
// Appends the cells separated by commas, then CRLF.
void append_csv_row(std::string& out, std::initializer_list<std::string_view> cells);
// A number as a cell: 33.1, 49, -6.3 (shortest_decimal), never 3.31E1.
std::string csv_number(double value);
// A submitter's text as a cell Excel shows and never runs: one that starts with
// = + - @ TAB or CR (a formula to Excel) gets a leading apostrophe, Excel's text mark.
std::string csv_text(std::string_view text);
// What csv_text wrote, read back: the apostrophe before such a start is dropped.
std::string_view csv_unguarded(std::string_view cell);

}  // namespace kpiwatch
