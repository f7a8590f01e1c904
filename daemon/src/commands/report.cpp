// `kpiwatch report`: the follow-up report of a year from the state database, as HTML or PDF.
#include "kpiwatch/report.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "commands/setup.hpp"
#include "report/report_html.hpp"
#include "report/report_pdf.hpp"

namespace kpiwatch {
namespace {

// "" → none; otherwise a year 1900–2999, or false.
bool parse_year(const std::string& text, std::optional<int>& out) {
  if (text.empty()) return true;
  out = views::parse_year(text);
  return out.has_value();
}

struct ReportArgs {
  std::optional<int> year;
  Lang lang = Lang::ja;
  bool pdf = false;
};

// The options as given, or none after printing which flag is wrong.
std::optional<ReportArgs> check_args(const std::string& year, const std::string& lang, const std::string& format) {
  ReportArgs args;
  if (!parse_year(year, args.year)) {
    fmt::print(stderr, "--year must be a year such as 2024, not \"{}\"\n", year);
    return std::nullopt;
  }
  if (!parse_lang(lang, args.lang)) {
    fmt::print(stderr, "--lang must be ja or en, not \"{}\"\n", lang);
    return std::nullopt;
  }
  if (format != "html" && format != "pdf") {
    fmt::print(stderr, "--format must be html or pdf, not \"{}\"\n", format);
    return std::nullopt;
  }
  args.pdf = format == "pdf";
  return args;
}

// The report to stdout ("" or "-") or to `out`, which is replaced whole or left as it was.
int write_out(const std::string& bytes, const std::string& out) {
  if (out.empty() || out == "-") {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (auto written = replace_file(out, bytes); !written) {
    fmt::print(stderr, "{}\n", written.error().message);
    return 1;
  }
  return 0;
}

// The browser that prints the PDF, or empty after saying how to get one.
std::string chromium_or_print() {
  std::string chromium = find_chromium();
  if (chromium.empty())
    fmt::print(stderr,
               "the PDF is printed by Chromium, which is not installed: apt-get install chromium "
               "(or set KPIWATCH_CHROMIUM to the browser); --format html needs nothing\n");
  return chromium;
}

}  // namespace

int run_report(const CommonOptions& options, const std::string& year, const std::string& lang,
               const std::string& format, const std::string& out) {
  auto args = check_args(year, lang, format);
  if (!args) return 2;
  std::string chromium = args->pdf ? chromium_or_print() : "";
  if (args->pdf && chromium.empty()) return 2;
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  auto store = open_existing_store(setup->settings, "--config or --state-dir");
  if (!store) return 2;
  auto report = views::report(*store, *setup->catalog, *setup->rules, *setup->report_templates, args->year,
                              std::chrono::system_clock::now());
  if (!report) {
    fmt::print(stderr, "{}\n", report.error().message);
    return report.error().field == "year" ? 2 : 1;
  }
  std::string html = render_report_html(report.value(), args->lang);
  if (!args->pdf) return write_out(html, out);
  auto pdf = print_pdf(chromium, html);
  if (!pdf) {
    fmt::print(stderr, "{}\n", pdf.error().message);
    return 1;
  }
  return write_out(pdf.value(), out.empty() ? fmt::format("report-{}-{}.pdf", report.value().year, lang) : out);
}

}  // namespace kpiwatch
