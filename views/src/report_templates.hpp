#pragma once
// The compiled headline and progress templates, and how report.cpp asks them.

#include <optional>
#include <vector>

#include "kpiwatch/report.hpp"
#include "kpiwatch/template.hpp"

namespace kpiwatch::views {

struct ReportTemplates::Entry {
  const Kpi* kpi = nullptr;
  std::optional<Dims> dims;         // the series it speaks of; none: the lead series
  std::vector<Direction> when;      // the directions it applies to; empty: any
  std::optional<Verdict> verdict;   // how the report reads the KPI when it applies
  bool against_previous = false;    // compare = "previous": direction of the last two figures
  std::optional<double> tolerance;  // of its direction; none: the file's
  Template ja, en;
};

// The series a template speaks of: `dims`, else the overall one, else the first.
const Series* report_series(const ReportKpi& kpi, const std::optional<Dims>& dims);
std::vector<ReportText> render_headlines(const ReportTemplates& templates, const ReportKpi& kpi);
std::vector<ReportText> render_progress(const ReportTemplates& templates, const ReportKpi& kpi);
// How the report reads the KPI: the first of its headlines that applies and states a
// verdict, with the direction it compared (compare = "previous": the last two figures).
struct TemplateReading {
  Verdict verdict;
  Direction direction;
};
std::optional<TemplateReading> template_reading(const ReportTemplates& templates, const ReportKpi& kpi);

}  // namespace kpiwatch::views
