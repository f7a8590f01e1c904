#pragma once
// The report as PDF: the HTML printed by headless Chromium (--print-to-pdf).

#include <chrono>
#include <string>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

// The browser to print with: $KPIWATCH_CHROMIUM, else chromium or chromium-browser on PATH;
// empty if there is none.
std::string find_chromium();

// Writes `html` to a private temporary directory and prints it to `pdf_path`
// with `chromium`, killing the browser's process group if it takes longer than `limit`.
Status print_pdf(const std::string& chromium, const std::string& html, const std::string& pdf_path,
                 std::chrono::seconds limit = std::chrono::seconds(90));

}  // namespace kpiwatch
