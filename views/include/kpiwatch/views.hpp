#pragma once
// The read side: what the JSON API, the status page and the report show, as
// read models over the catalog and the store. Nothing here writes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
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
};

Result<SeriesView> series_view(Store& store, const Kpi& kpi, const SeriesQuery& query);
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

struct KpiOverview {
  const Kpi* kpi = nullptr;
  std::vector<const Body*> bodies;   // who reports it
  std::vector<LatestFigure> latest;  // one per series, in dims order
  std::vector<AlertRecord> alerts;   // pending and firing, newest first
};

struct GoalOverview {
  const Goal* goal = nullptr;
  std::vector<KpiOverview> kpis;
  SeverityCounts firing{};
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
// The order of alert_list.
bool listed_before(const AlertRecord& a, const AlertRecord& b);

Result<std::optional<AlertView>> alert_view(Store& store, const Catalog& catalog, const std::string& fingerprint,
                                            const std::string& now);

}  // namespace kpiwatch::views
