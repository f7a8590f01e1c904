// The plan's goals with their KPIs, latest figures and alerts:
// GET /api/v1/goals and /api/v1/goals/{number}.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/views_json.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {

Response Api::get_goals(const Call& call, Store& store) const {
  auto overview = views::overview(store, *call.catalog);
  if (!overview) return error_response(overview.error());
  return json_response(http::status::ok, serialize_json(overview_json(overview.value())));
}

Response Api::get_goal(const Call& call, Store& store) const {
  const std::string& text = call.segment("number");
  int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end != text.data() + text.size() || !call.catalog->goal(number))
    return error_response(ErrorCode::not_found, fmt::format("no goal \"{}\"", text));
  auto overview = views::overview(store, *call.catalog, number);
  if (!overview) return error_response(overview.error());
  return json_response(http::status::ok, serialize_json(goal_json(overview->goals.at(0))));
}

}  // namespace kpiwatch
