#pragma once
// The read models as the JSON API writes them; the handlers only parse the
// request, ask views/, and serialize with these.

#include <boost/json/object.hpp>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch {

boost::json::object alert_json(const AlertRecord& alert);
boost::json::object series_view_json(const views::SeriesView& view);
boost::json::object overview_json(const views::Overview& overview);
boost::json::object goal_json(const views::GoalOverview& goal);
// With the alert's rule: its criterion in words and the bound (null without a criterion).
boost::json::object alert_view_json(const views::AlertView& view, const Catalog& catalog,
                                    const RuleCriterion* criterion);
// alert_json with silenced_by, inhibited_by and the names of its KPI, goal and period.
boost::json::object alert_item_json(const views::AlertItem& item, const Catalog& catalog);
boost::json::object overdue_json(const std::vector<views::OverdueDigest>& digests);

}  // namespace kpiwatch
