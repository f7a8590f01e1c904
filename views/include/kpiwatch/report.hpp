#pragma once
// The follow-up report's read model: for the report's year, each goal with its
// KPIs (figures, direction, verdict, headline sentences), the rules' findings of
// that year, the progress the figures show, the overdue figures and the sources
// of every figure, as footnotes. The HTML and PDF are drawn from this.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/template.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch::views {

struct ReportText {
  std::string ja, en;  // a sentence in each language
};

// 増加 / 減少 / 横ばい (none: too few figures), as the templates' {direction} words it.
using Direction = TemplateDirection;
enum class Verdict { on_track, concern, overdue, no_data };

std::string_view direction_id(Direction d);               // "rising", "falling", "flat", "none"
std::string_view verdict_id(Verdict v);                   // "on_track", "concern", "overdue", "no_data"
std::string_view direction_name(Direction d, Lang lang);  // 増加 / increased
std::string_view verdict_name(Verdict v, Lang lang);      // 順調 / on track

struct ReportSource {
  std::string source, submitted_by, submitted_at;  // a footnote: the source (and survey), who sent it, when
};

struct ReportKpi {
  const Kpi* kpi = nullptr;
  SeriesView figures;                     // every series of the KPI, current revisions, years ≤ year
  Direction direction = Direction::none;  // as the report reads it (its template), else first against last
  Verdict verdict = Verdict::no_data;
  std::vector<ReportText> headlines;  // from the editable templates
  std::vector<std::size_t> sources;   // indexes into ReportGoal::sources
};

struct ReportOverdue {
  Period period;       // the period whose figures are missing
  OverdueKpi figures;  // the KPI, how many series, the deadline
};

struct ReportGoal {
  const Goal* goal = nullptr;
  std::vector<ReportKpi> kpis;
  std::vector<AlertRecord> findings;   // the rules' alerts for that year (firing/pending; not missing-data,
                                       // not inhibited)
  std::vector<ReportText> progress;    // good news (templates that state progress; not alerts)
  std::vector<ReportOverdue> overdue;  // figures past their deadline: the report's year's (and
                                       // before) from the figures, then later periods' from the alerts
  std::vector<ReportSource> sources;   // distinct, in order of first use
};

struct Report {
  int year = 0;                   // the report's year (default: the newest year with figures)
  int first_year = 0;             // the first year covered
  std::string as_of;              // the newest submission's time (RFC 3339)
  std::string generated_at;       // now (RFC 3339)
  double tolerance = 0.05;        // of 横ばい, from the templates
  std::vector<ReportGoal> goals;  // in catalog order, all 11
};

// The headline and progress sentence templates that policy staff edit
// (config/report/headlines.toml, embedded in the binary; docs/REPORT.md).
class ReportTemplates {
 public:
  struct Entry;  // one [[headline]] or [[progress]] table, compiled
  // Parses template TOML against the catalog; `file` names it in diagnostics.
  static Loaded<ReportTemplates> parse(std::string_view toml, const std::string& file, const Catalog& catalog);
  static Loaded<ReportTemplates> load_file(const std::string& path, const Catalog& catalog);
  // The shipped templates (config/report/headlines.toml), against the embedded catalog.
  static const ReportTemplates& embedded();
  // The text of the shipped file, to read against another catalog.
  static std::string_view shipped_toml();

  const std::vector<std::shared_ptr<const Entry>>& headlines() const { return headlines_; }
  const std::vector<std::shared_ptr<const Entry>>& progress() const { return progress_; }
  double tolerance() const { return tolerance_; }

 private:
  std::vector<std::shared_ptr<const Entry>> headlines_, progress_;
  double tolerance_ = 0.05;  // relative change at or below which a series is flat (横ばい)
};

// The direction of figures in period order: first against last, relative to the
// first; |last - first| ≤ tolerance · |first| is flat. Fewer than two figures: none.
Direction direction_of(const std::vector<double>& values, double tolerance);

// A year as --year and ?year= take it: 1900–2999, digits only; none otherwise.
std::optional<int> parse_year(std::string_view text);

// The report of `year` (default: the newest with figures); an error naming `year`
// if it holds no figure. Findings come from `rules` over the figures up to the year.
Result<Report> report(Store& store, const Catalog& catalog, const RuleSet& rules, const ReportTemplates& templates,
                      std::optional<int> year, TimePoint now);

}  // namespace kpiwatch::views
