#pragma once
// The report as PDF: the HTML printed by headless Chromium (--print-to-pdf).

#include <chrono>
#include <string>
#include <string_view>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

// The browser to print with: $KPIWATCH_CHROMIUM, else chromium or chromium-browser on PATH;
// empty if there is none.
std::string find_chromium();

// The PDF of `html`: written to a private temporary directory and printed there
// by `chromium`, whose process group is killed if it takes longer than `limit`.
Result<std::string> print_pdf(const std::string& chromium, const std::string& html,
                              std::chrono::seconds limit = std::chrono::seconds(90));

// Writes `bytes` to a new file beside `path` and renames it over `path`: a reader sees the old file or the new one.
Status replace_file(const std::string& path, std::string_view bytes);

}  // namespace kpiwatch
