#pragma once
// The read models as the JSON API writes them; the handlers only parse the
// request, ask views/, and serialize with these.

#include <boost/json/object.hpp>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/views.hpp"

namespace kpiwatch {

boost::json::object alert_json(const AlertRecord& alert);
boost::json::object series_view_json(const views::SeriesView& view);
boost::json::object overview_json(const views::Overview& overview);
boost::json::object goal_json(const views::GoalOverview& goal);
boost::json::object alert_view_json(const views::AlertView& view);
// alert_json with silenced_by and inhibited_by.
boost::json::object alert_item_json(const views::AlertItem& item);

}  // namespace kpiwatch
