#pragma once
// Reading submissions from CSV or JSON files, validated exactly as the HTTP API
// validates them. A CSV may be what GET /api/v1/export.csv writes (figure_csv.hpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch {

enum class ImportFormat { csv, json };

// The format by file extension (.csv, .json), else by the first character.
ImportFormat guess_format(const std::string& path, std::string_view text);

// What a file to import is written in: detected, or as `--encoding` says.
enum class TextEncoding { detect, utf8, utf16, cp932 };

// "utf-8", "utf-16", "cp932", "shift_jis" (Japanese Excel's Shift_JIS is CP932), "auto"; any case.
std::optional<TextEncoding> parse_text_encoding(std::string_view name);

struct DecodedText {
  std::string text;    // UTF-8; a UTF-8 BOM is kept
  std::string notice;  // what detection guessed, for the user to see; empty if it guessed nothing
};

// The bytes of a file as UTF-8 text. Detected: UTF-8 (with or without a BOM), UTF-16 LE or BE with
// a BOM, and, for a CSV whose bytes are not UTF-8 and have no BOM, CP932 (Shift_JIS as Japanese
// Excel writes it; `notice` says so). Chosen: that encoding only (UTF-16 without a BOM is
// little-endian). Bytes that are not text in it are an error naming `file_name`, the line and the
// byte offset of the first such sequence.
Result<DecodedText> decode_text(std::string_view bytes, const std::string& file_name, TextEncoding encoding,
                                ImportFormat format);
// decode_text of a CSV, detected, without the notice.
Result<std::string> decode_import_text(std::string_view bytes, const std::string& file_name);

// Decodes (decode_import_text), parses and validates the whole file; the error message names `file_name`
// and the line of the first bad row.
Result<std::vector<Submission>> read_import(const Catalog& catalog, std::string_view text, ImportFormat format,
                                            const std::string& file_name, const ValidationLimits& limits = {});
// As read_import, for text decode_text made.
Result<std::vector<Submission>> read_import_text(const Catalog& catalog, std::string_view utf8_text,
                                                 ImportFormat format, const std::string& file_name,
                                                 const ValidationLimits& limits = {});

// Line (1-based) where the `index`-th submission of a JSON batch begins.
std::size_t json_entry_line(std::string_view text, std::size_t index);

}  // namespace kpiwatch
