// Overdue figures per reporting body and period: GET /api/v1/overdue.
#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/views_json.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {

Response Api::get_overdue(const Call& call, Store& store) const {
  auto digests = views::overdue(store, *call.catalog);
  if (!digests) return error_response(digests.error());
  return json_response(http::status::ok, serialize_json(overdue_json(digests.value())));
}

}  // namespace kpiwatch
