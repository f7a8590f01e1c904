#pragma once
// Reading submissions from CSV or JSON files (UTF-8, with or without a BOM),
// validated exactly as the HTTP API validates them.

#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch {

enum class ImportFormat { csv, json };

// The format by file extension (.csv, .json), else by the first character.
ImportFormat guess_format(const std::string& path, std::string_view text);

// Parses and validates the whole file; the error message names `file_name`
// and the line of the first bad row.
Result<std::vector<Submission>> read_import(const Catalog& catalog, std::string_view text, ImportFormat format,
                                            const std::string& file_name, const ValidationLimits& limits = {});

// Line (1-based) where the `index`-th submission of a JSON batch begins.
std::size_t json_entry_line(std::string_view text, std::size_t index);

}  // namespace kpiwatch
