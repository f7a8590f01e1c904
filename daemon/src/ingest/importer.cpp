#include "kpiwatch/importer.hpp"

#include <csv.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "kpiwatch/csv.hpp"
#include "kpiwatch/figure_csv.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

std::string_view strip_bom(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

Error at_line(const std::string& file, std::size_t line, Error e) {
  std::string where = e.field.empty() ? "" : fmt::format(" (field \"{}\")", e.field);
  e.message = fmt::format("{}:{}: {}{}", file, line, e.message, where);
  e.index = line;
  return e;
}

// Rows of a CSV file as cells, with the line each row starts on.
struct CsvRows {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> lines;
  std::vector<std::string> current;
  std::size_t line = 1;
  std::size_t row_line = 0;
};

void on_field(void* data, std::size_t size, void* context) {
  auto* rows = static_cast<CsvRows*>(context);
  if (rows->current.empty()) rows->row_line = rows->line;
  rows->current.emplace_back(static_cast<const char*>(data), size);
}

void on_row(int, void* context) {
  auto* rows = static_cast<CsvRows*>(context);
  rows->rows.push_back(std::move(rows->current));
  rows->lines.push_back(rows->row_line ? rows->row_line : rows->line);
  rows->current.clear();
  rows->row_line = 0;
}

Result<CsvRows> parse_csv(std::string_view text, const std::string& file) {
  csv_parser parser;
  // CSV_STRICT_FINI: an unterminated quote at the end is an error, not a cell
  // that silently swallows every row after it.
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
    return Error{ErrorCode::import_error, "cannot initialise the CSV parser", "", {}};
  // Excel's "Unicode text" is tab-separated: a header line with tabs and no comma says so.
  auto first_line = text.substr(0, text.find('\n'));
  if (first_line.find('\t') != std::string_view::npos && first_line.find(',') == std::string_view::npos)
    csv_set_delim(&parser, '\t');
  CsvRows rows;
  // Fed line by line so that a row's line number is known.
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    std::size_t chunk = end - pos;
    if (csv_parse(&parser, text.data() + pos, chunk, on_field, on_row, &rows) != chunk) {
      Error e{ErrorCode::invalid_csv, fmt::format("malformed CSV: {}", csv_strerror(csv_error(&parser))), "", {}};
      csv_free(&parser);
      return at_line(file, rows.line, e);
    }
    ++rows.line;
    pos = end;
  }
  --rows.line;
  if (csv_fini(&parser, on_field, on_row, &rows) != 0) {
    Error e{ErrorCode::invalid_csv, "malformed CSV: a quoted cell is not closed", "", {}};
    csv_free(&parser);
    return at_line(file, rows.row_line ? rows.row_line : rows.line, e);
  }
  csv_free(&parser);
  return rows;
}

// A CSV cell as the JSON value the API would have received.
json::value number_cell(const std::string& cell) {
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), i);
  if (ec == std::errc{} && p == cell.data() + cell.size()) return i;
  double d = 0;
  auto [p2, ec2] = std::from_chars(cell.data(), cell.data() + cell.size(), d);
  if (ec2 == std::errc{} && p2 == cell.data() + cell.size()) return d;
  return json::string(cell);  // rejected by validation as "must be a number"
}

// The header's columns by the importer's name (the export's headers in either
// language are known too); each known, none twice.
Result<std::map<std::string, std::size_t>> csv_columns(const std::vector<std::string>& header, const std::string& file,
                                                       std::size_t line) {
  std::map<std::string, std::size_t> columns;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const FigureColumn* known = find_figure_column(header[c]);
    bool dims_column = header[c].starts_with("dims.") && header[c].size() > 5;
    if (!known && !dims_column)
      return at_line(file, line,
                     {ErrorCode::unknown_column,
                      fmt::format("unknown column \"{}\" (kpi, period, value, items, body, source, note, dims, "
                                  "dims.NAME, or a header of the export)",
                                  header[c]),
                      header[c],
                      {}});
    std::string name = known ? std::string(known->id) : header[c];
    if (!columns.emplace(name, c).second)
      return at_line(
          file, line,
          {ErrorCode::duplicate_column, fmt::format("column \"{}\" appears twice", header[c]), header[c], {}});
  }
  return columns;
}

json::array items_cell(const std::string& cell) {
  json::array items;
  std::size_t start = 0;
  while (start <= cell.size()) {
    auto bar = cell.find('|', start);
    if (bar == std::string::npos) bar = cell.size();
    items.emplace_back(cell.substr(start, bar - start));
    start = bar + 1;
  }
  return items;
}

bool imported(const std::string& name) {
  const FigureColumn* column = find_figure_column(name);
  return column ? column->imported : true;  // dims.NAME
}

// A CSV row as the JSON object the API would have received; empty cells are
// absent, and the export's columns for people (names, labels, who, when) are left out.
Result<json::object> row_object(const std::map<std::string, std::size_t>& columns,
                                const std::vector<std::string>& row) {
  json::object obj;
  json::object dims;
  for (const auto& [name, c] : columns) {
    const auto& cell = row[c];
    if (cell.empty() || !imported(name)) continue;
    if (name == "value") {
      obj["value"] = number_cell(cell);
    } else if (name == "items") {
      obj["items"] = items_cell(std::string(csv_unguarded(cell)));
    } else if (name == "dims") {
      Dims parsed;
      if (!parse_dims_cell(cell, parsed))
        return Error{ErrorCode::invalid_type,
                     fmt::format("\"{}\" is not NAME=VALUE pairs separated by \";\"", cell),
                     "dims",
                     {}};
      for (const auto& [k, v] : parsed) dims.emplace(k, v);  // a dims.NAME column wins
    } else if (name.starts_with("dims.")) {
      dims[name.substr(5)] = cell;
    } else {
      obj[name] = csv_unguarded(cell);  // source, note: as the export guarded them
    }
  }
  if (!dims.empty()) obj["dims"] = std::move(dims);
  return obj;
}

Result<std::vector<Submission>> read_csv(const Catalog& catalog, std::string_view text, const std::string& file,
                                         const ValidationLimits& limits) {
  auto parsed = parse_csv(text, file);
  if (!parsed) return parsed.error();
  auto& rows = parsed->rows;
  // Blank lines carry no figure.
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    bool blank = rows[i].size() == 1 && rows[i][0].empty();
    if (!blank) kept.push_back(i);
  }
  if (kept.empty()) return Error{ErrorCode::empty_batch, fmt::format("{}: the file has no header row", file), "", {}};

  const auto& header = rows[kept[0]];
  auto columns = csv_columns(header, file, parsed->lines[kept[0]]);
  if (!columns) return columns.error();
  if (kept.size() - 1 > limits.max_batch)
    return Error{
        ErrorCode::batch_too_large,
        fmt::format("{}: at most {} rows per import; this file has {}", file, limits.max_batch, kept.size() - 1),
        "",
        {}};

  std::vector<Submission> batch;
  std::vector<std::size_t> lines;
  for (std::size_t k = 1; k < kept.size(); ++k) {
    const auto& row = rows[kept[k]];
    std::size_t line = parsed->lines[kept[k]];
    if (row.size() != header.size())
      return at_line(file, line,
                     {ErrorCode::invalid_csv,
                      fmt::format("row has {} cells; the header has {}", row.size(), header.size()),
                      "",
                      {}});
    auto obj = row_object(columns.value(), row);
    if (!obj) return at_line(file, line, obj.error());
    auto s = parse_submission(catalog, obj.value(), limits);
    if (!s) return at_line(file, line, s.error());
    batch.push_back(std::move(s.value()));
    lines.push_back(line);
  }
  if (batch.empty()) return Error{ErrorCode::empty_batch, fmt::format("{}: the file has no rows", file), "", {}};
  if (auto unique = check_unique(batch); !unique) {
    Error e = unique.error();
    return at_line(file, lines[*e.index], e);
  }
  return batch;
}

}  // namespace

std::size_t json_entry_line(std::string_view text, std::size_t index) {
  // Walks the JSON text, counting elements of the first array found at depth 1
  // (a bare array) or depth 2 (inside {"submissions": [...]}).
  std::size_t line = 1;
  int depth = 0;
  int array_depth = -1;
  std::size_t element = 0;
  bool expect_element = false;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (expect_element && depth == array_depth) {
      if (element == index) return line;
      expect_element = false;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
        ++depth;
        if (array_depth < 0 && depth <= 2) {
          array_depth = depth;
          expect_element = true;
        }
        break;
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
        if (depth == array_depth) {
          ++element;
          expect_element = true;
        }
        break;
      default:
        break;
    }
  }
  return 1;
}

ImportFormat guess_format(const std::string& path, std::string_view text) {
  if (path.ends_with(".csv") || path.ends_with(".CSV")) return ImportFormat::csv;
  if (path.ends_with(".json") || path.ends_with(".JSON")) return ImportFormat::json;
  text = strip_bom(text);
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) text.remove_prefix(2);
  for (char c : text) {
    // '\0': the other half of an ASCII character in UTF-16.
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') continue;
    return c == '{' || c == '[' ? ImportFormat::json : ImportFormat::csv;
  }
  return ImportFormat::csv;
}

Result<std::vector<Submission>> read_import(const Catalog& catalog, std::string_view text, ImportFormat format,
                                            const std::string& file, const ValidationLimits& limits) {
  auto decoded = decode_text(text, file, TextEncoding::detect, format);
  if (!decoded) return decoded.error();
  return read_import_text(catalog, decoded->text, format, file, limits);
}

Result<std::vector<Submission>> read_import_text(const Catalog& catalog, std::string_view text, ImportFormat format,
                                                 const std::string& file, const ValidationLimits& limits) {
  // A last check for text that did not come through decode_text.
  if (auto bad = invalid_utf8_at(text)) {
    std::size_t line = line_column_of(text, *bad).first;
    return Error{ErrorCode::invalid_encoding,
                 fmt::format("{}:{}: byte 0x{:02X} at offset {} is not UTF-8 text", file, line,
                             static_cast<unsigned char>(text[*bad]), *bad),
                 "", line};
  }
  text = strip_bom(text);
  if (format == ImportFormat::csv) return read_csv(catalog, text, file, limits);

  // A bare array is accepted as well as {"submissions": [...]}.
  std::string wrapped;
  std::string_view body = text;
  auto first = text.find_first_not_of(" \t\r\n");
  bool bare_array = first != std::string_view::npos && text[first] == '[';
  if (bare_array) {
    wrapped = "{\"submissions\":" + std::string(text) + "}";
    body = wrapped;
  }
  auto batch = parse_submissions(catalog, body, limits);
  if (batch) return batch;
  Error e = batch.error();
  // Locate a syntax error in the file's own text, not in the wrapped one
  // (whose first line is longer).
  if (e.code == ErrorCode::invalid_json && bare_array)
    if (auto direct = parse_submissions(catalog, text, limits);
        !direct && direct.error().code == ErrorCode::invalid_json)
      e = direct.error();
  std::size_t line = 1;
  if (e.code == ErrorCode::invalid_json) {
    e.message = fmt::format("{}: {}", file, e.message);
    return e;
  }
  if (e.index) line = json_entry_line(text, *e.index);
  std::string entry = e.index ? fmt::format(" (entry {})", *e.index) : "";
  Error located = at_line(file, line, e);
  located.message += entry;
  return located;
}

}  // namespace kpiwatch
