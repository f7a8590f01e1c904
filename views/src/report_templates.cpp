#include "report_templates.hpp"

namespace kpiwatch::views {

Loaded<ReportTemplates> ReportTemplates::parse(std::string_view, const std::string&, const Catalog&) {
  return ReportTemplates{};
}

Loaded<ReportTemplates> ReportTemplates::load_file(const std::string&, const Catalog&) { return ReportTemplates{}; }

const ReportTemplates& ReportTemplates::embedded() {
  static const ReportTemplates t;
  return t;
}

std::vector<ReportText> render_headlines(const ReportTemplates&, const ReportKpi&, int) { return {}; }
std::vector<ReportText> render_progress(const ReportTemplates&, const ReportKpi&, int) { return {}; }
std::optional<Verdict> template_verdict(const ReportTemplates&, const ReportKpi&) { return std::nullopt; }

}  // namespace kpiwatch::views
