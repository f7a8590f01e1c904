#pragma once
// The read side: what the JSON API, the status page and the report show, as
// read models over the catalog and the store. Nothing here writes.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch::views {

// One series of a KPI: its dims and its revisions in period order (with every
// revision of a period when asked), each with its provenance (source, note,
// who submitted it, when, revision number).
struct Series {
  Dims dims;
  std::vector<Revision> points;
};

struct SeriesView {
  const Kpi* kpi = nullptr;
  bool revisions = false;
  std::vector<Series> series;
  // How many series match the query, and with a page where the next one starts:
  // a cursor (none at the end) and, for a page asked by offset, its offset.
  std::int64_t series_count = 0;
  std::optional<std::int64_t> next_offset;
  std::optional<std::string> next_cursor;
};

// With a page, reads that page's series (and one more series' figures, to know
// whether there is a next page), not the KPI's other series.
Result<SeriesView> series_view(Store& store, const Kpi& kpi, const SeriesQuery& query,
                               std::optional<SeriesPage> page = std::nullopt);
// Opaque cursors for the API's next_cursor: where the page after a series
// starts; nullopt if `cursor` is not one series_cursor made.
std::string series_cursor(const Dims& last);
std::optional<std::string> parse_series_cursor(std::string_view cursor);  // the SeriesPage::after it stands for

// A series' dims as a person reads them: the value labels joined
// (「基礎」, "basic, AMED"); a KPI without dims: 「全体」 / "overall".
std::string series_label(const Kpi& kpi, const Dims& dims, Lang lang);
// The KPI's overall series: every dimension at its default value (or "all");
// none if a dimension has neither.
std::optional<Dims> overall_dims(const Kpi& kpi);
// Rows ordered by dims, then period → one Series per dims.
std::vector<Series> group_series(std::vector<Revision> rows);

// A series' newest figure and the one before it.
struct LatestFigure {
  Dims dims;
  Revision latest;
  std::optional<Revision> previous;
  // latest - previous, for number KPIs with both figures.
  std::optional<double> change() const;
};

// Firing alerts by severity (info, warning, critical).
using SeverityCounts = std::array<int, 3>;

// What the overview shows of each KPI at most, whatever the number of series or alerts.
inline constexpr int kOverviewSeries = 10;  // latest figures
inline constexpr int kTrendPeriods = 10;    // points of the lead series
inline constexpr int kOverviewAlerts = 10;  // newest pending and firing alerts

struct KpiOverview {
  const Kpi* kpi = nullptr;
  std::vector<const Body*> bodies;   // who reports it
  std::vector<LatestFigure> latest;  // the first kOverviewSeries series, in dims order
  std::int64_t series_count = 0;     // how many series it has
  // The lead series (overall_dims, else the first) with its last kTrendPeriods
  // figures; none for item KPIs and KPIs without figures.
  std::optional<Series> trend;
  std::vector<AlertRecord> alerts;  // pending and firing, newest first, at most kOverviewAlerts
  int active = 0;                   // pending and firing alerts, all of them
  SeverityCounts firing{};
  int overdue = 0;  // missing figures, from its firing missing-data alerts
};

struct GoalOverview {
  const Goal* goal = nullptr;
  std::vector<KpiOverview> kpis;
  SeverityCounts firing{};
  int overdue = 0;  // summed over its KPIs
};

struct Overview {
  std::vector<GoalOverview> goals;
  SeverityCounts firing{};
};

// The plan's goals → their KPIs → the latest figures → their alerts.
// `goal` keeps only that goal.
Result<Overview> overview(Store& store, const Catalog& catalog, std::optional<int> goal = std::nullopt);

// A firing alert that inhibits another ([[inhibit]] in the rule files).
struct InhibitingAlert {
  std::string fingerprint, rule, period, summary_ja, summary_en;
};

// One alert with what lies behind it: its transitions, the silences that hold it
// at `now`, the alerts that inhibit it, its notifications, and the figures of its
// series (its KPI and the dims among its labels).
struct AlertView {
  AlertRecord alert;
  std::vector<Transition> history;
  std::vector<std::int64_t> silenced_by;
  std::optional<SeriesView> figures;  // none if the KPI left the catalog
  Dims series_dims;                   // the alert's series: the labels that are dimensions of its KPI
  std::vector<InhibitingAlert> inhibited_by;
  std::vector<AlertNotification> notifications;  // oldest first
};

// The alert list (GET /api/v1/alerts): the filter, every label matcher, and
// whether silenced, acknowledged and inhibited alerts are listed too.
struct AlertListQuery {
  AlertFilter filter;
  Matchers labels;
  bool silenced = false;
  bool acknowledged = false;
  bool inhibited = false;
};

struct AlertItem {
  AlertRecord alert;
  std::vector<std::int64_t> silenced_by;
  std::vector<InhibitingAlert> inhibited_by;
};

// In the order a person reads them: firing, pending, resolved; critical, warning,
// info; missing-data alerts (label criterion = "missing_data") after the others;
// then goal number, then KPI.
Result<std::vector<AlertItem>> alert_list(Store& store, const AlertListQuery& query, const std::string& now);
// alert_list without inhibited_by filled in (one read per inhibited alert), for
// pages and groups that show only some of them: fill_inhibitors on those.
Result<std::vector<AlertItem>> listed_alerts(Store& store, const AlertListQuery& query, const std::string& now);
Status fill_inhibitors(Store& store, AlertItem& item);

// A page of the alert list: `limit` alerts after `after` (a cursor), else from
// `offset`. The rows are read in list order from the store's index and the read
// stops one listed alert past the page, unless `count` asks for the total
// (which reads every alert of the filter).
struct AlertPageRequest {
  std::size_t limit = 100;
  std::size_t offset = 0;
  std::optional<AlertListKey> after;
  bool count = false;
};
struct AlertPage {
  std::vector<AlertItem> alerts;
  std::size_t total = 0;                   // with count only
  std::optional<std::size_t> next_offset;  // none at the end, and none after a cursor
  std::optional<std::string> next_cursor;  // none at the end
};
Result<AlertPage> alert_page(Store& store, const AlertListQuery& query, const std::string& now,
                             const AlertPageRequest& request);
// A page from `offset`, with the total.
Result<AlertPage> alert_page(Store& store, const AlertListQuery& query, const std::string& now, std::size_t limit,
                             std::size_t offset);
// The opaque cursor of AlertPage::next_cursor, and back; nullopt if `cursor` is
// not one alert_cursor made.
std::string alert_cursor(const AlertListKey& last);
std::optional<AlertListKey> parse_alert_cursor(std::string_view cursor);
// The order of alert_list.
bool listed_before(const AlertRecord& a, const AlertRecord& b);

Result<std::optional<AlertView>> alert_view(Store& store, const Catalog& catalog, const std::string& fingerprint,
                                            const std::string& now);

// Overdue figures of one reporting body for one period, from the firing
// missing-data alerts (label criterion = "missing_data", body = the body's id;
// an alert's value is the number of its KPI's series without a figure).
struct OverdueKpi {
  const Kpi* kpi = nullptr;
  int missing = 0;
  std::chrono::year_month_day due;
  std::string fingerprint;
};

struct OverdueDigest {
  const Body* body = nullptr;
  Period period;
  int overdue = 0;                       // missing series, summed over the KPIs
  std::chrono::year_month_day due;       // the earliest deadline among them
  std::vector<OverdueKpi> kpis;          // in catalog order
  std::string sentence_ja, sentence_en;  // 「日本医療研究開発機構: 2025年の数値12件が…」
};

// Digests in the catalog's order of bodies, then by period. Alerts of KPIs or
// bodies the catalog no longer has are left out.
std::vector<OverdueDigest> overdue_digests(const std::vector<AlertRecord>& alerts, const Catalog& catalog);
Result<std::vector<OverdueDigest>> overdue(Store& store, const Catalog& catalog);

}  // namespace kpiwatch::views
