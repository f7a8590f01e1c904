#pragma once
// Reading submissions from CSV or JSON files, validated exactly as the HTTP API
// validates them. A CSV may be what GET /api/v1/export.csv writes (figure_csv.hpp).

#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch {

enum class ImportFormat { csv, json };

// The format by file extension (.csv, .json), else by the first character.
ImportFormat guess_format(const std::string& path, std::string_view text);

// The bytes of a file as UTF-8 text: UTF-8 (with or without a BOM), UTF-16 LE
// or BE with a BOM, and, when the bytes are not UTF-8 and have no BOM, CP932
// (Shift_JIS as Japanese Excel writes it). An undecodable byte is an error
// naming `file_name`, its line and its byte offset.
Result<std::string> decode_import_text(std::string_view bytes, const std::string& file_name);

// Decodes (decode_import_text), parses and validates the whole file; the error message names `file_name`
// and the line of the first bad row.
Result<std::vector<Submission>> read_import(const Catalog& catalog, std::string_view text, ImportFormat format,
                                            const std::string& file_name, const ValidationLimits& limits = {});

// Line (1-based) where the `index`-th submission of a JSON batch begins.
std::size_t json_entry_line(std::string_view text, std::size_t index);

}  // namespace kpiwatch
