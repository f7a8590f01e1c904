// POST /api/v1/submissions: one submission or a batch, all or nothing.
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

// Refuses the batch if the token may not submit one of its figures; a token of
// one reporting body speaks for it, so its submissions get that body.
std::optional<Error> apply_token_scope(const TokenConfig& token, const Catalog& catalog,
                                       std::vector<Submission>& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& s = batch[i];
    const Kpi* kpi = catalog.find(s.kpi);
    if (!Auth::may_submit(token, *kpi, s.body))
      return Error{ErrorCode::forbidden,
                   fmt::format("token \"{}\" may not submit KPI \"{}\"{}", token.name, s.kpi,
                               s.body.empty() ? "" : fmt::format(" for reporting body \"{}\"", s.body)),
                   "kpi", batch.size() > 1 ? std::optional<std::size_t>(i) : std::nullopt};
    if (s.body.empty() && !token.admin && token.bodies.size() == 1 && kpi->submittable_by(token.bodies[0]))
      s.body = token.bodies[0];
  }
  return std::nullopt;
}

}  // namespace

void Api::post_submissions(const Call& call, Respond respond) const {
  const Request& request = call.request;
  auto content_type = request[http::field::content_type];
  if (!content_type.empty() && content_type.find("json") == std::string_view::npos)
    return respond(error_response(ErrorCode::unsupported_media_type, "submissions must be sent as application/json"));

  auto batch = parse_submissions(*call.catalog, request.body(), limits_);
  if (!batch) {
    if (metrics_) metrics_->add("kpiwatch_submissions_total", {{"result", "rejected"}});
    return respond(error_response(batch.error()));
  }
  if (auto refused = apply_token_scope(*call.token, *call.catalog, batch.value()))
    return respond(error_response(*refused));

  auto count = batch->size();
  ingest_.submit(std::move(batch.value()), call.token->name,
                 [this, respond = std::move(respond), count](Result<std::vector<Revision>> stored) {
                   boost::asio::post(io_, [this, respond, stored = std::move(stored), count]() mutable {
                     if (metrics_)
                       metrics_->add("kpiwatch_submissions_total", {{"result", stored ? "accepted" : "failed"}},
                                     static_cast<double>(count));
                     if (!stored) return respond(error_response(stored.error()));
                     json::array revisions;
                     for (const auto& r : stored.value()) revisions.push_back(to_json(r));
                     respond(json_response(
                         http::status::created,
                         serialize_json(json::object{{"accepted", count}, {"revisions", std::move(revisions)}})));
                   });
                 });
}

}  // namespace kpiwatch
