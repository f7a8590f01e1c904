#pragma once
// The follow-up report as one self-contained HTML file: inline SVG charts, print
// CSS for A4 landscape, no script and nothing fetched.

#include <string>
#include <string_view>

#include "kpiwatch/report.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

std::string render_report_html(const views::Report& report, Lang lang);

// The text of the report's one <style> element, for a CSP hash of it.
std::string_view report_css();

}  // namespace kpiwatch
