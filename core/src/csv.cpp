#include "kpiwatch/csv.hpp"

#include "kpiwatch/json.hpp"

namespace kpiwatch {

namespace {

bool needs_quotes(std::string_view cell) {
  if (cell.empty()) return false;
  // Leading or trailing spaces are kept only inside quotes by some readers.
  if (cell.front() == ' ' || cell.back() == ' ') return true;
  return cell.find_first_of(",\"\r\n") != std::string_view::npos;
}

bool starts_formula(std::string_view text) {
  return !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos;
}

}  // namespace

void append_csv_cell(std::string& out, std::string_view cell) {
  if (!needs_quotes(cell)) {
    out += cell;
    return;
  }
  out += '"';
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_csv_row(std::string& out, std::initializer_list<std::string_view> cells) {
  bool first = true;
  for (auto cell : cells) {
    if (!first) out += ',';
    first = false;
    append_csv_cell(out, cell);
  }
  out += "\r\n";
}

std::string csv_number(double value) { return shortest_decimal(value); }

std::string csv_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  if (starts_formula(text)) out += '\'';
  out += text;
  return out;
}

std::string_view csv_unguarded(std::string_view cell) {
  return cell.size() > 1 && cell.front() == '\'' && starts_formula(cell.substr(1)) ? cell.substr(1) : cell;
}

}  // namespace kpiwatch
