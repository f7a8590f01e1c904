// POST /api/v1/submissions: one submission or a batch, all or nothing.
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/read_pool.hpp"
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

// Below these sizes parsing or answering takes microseconds: less than a trip to
// another thread and back.
constexpr std::size_t kSmallBody = std::size_t{16} * 1024;  // bytes, parsed on the event loop
constexpr std::size_t kSmallAnswer = 16;                    // revisions, answered from the writer

}  // namespace

void Api::post_submissions(const Call& call, Respond reply) const {
  const Respond respond = std::move(reply);  // copied into the jobs, which may outlive this call
  // A batch of thousands of figures takes milliseconds to parse and to answer:
  // both run on a reader thread, the commit on the writer, none on the event loop.
  // A small one is parsed on the loop and answered from the writer.
  // `respond` holds the request (Api::handle), and the call's auth holds the token.
  auto parse = [this, &request = call.request, catalog = call.catalog, auth = call.auth, token = call.token,
                limits = limits_, respond](Store* /*store*/, const Error* /*error*/) {
    auto batch = parse_submissions(*catalog, request.body(), limits);
    if (!batch) {
      if (metrics_) metrics_->add("kpiwatch_submissions_total", {{"result", "rejected"}});
      return on_loop(respond, error_response(batch.error()));
    }
    if (auto refused = apply_token_scope(*token, *catalog, batch.value()))
      return on_loop(respond, error_response(*refused));
    auto count = batch->size();
    ingest_.submit(
        std::move(batch.value()), token->name, [this, respond, count, auth](Result<std::vector<Revision>> stored) {
          if (metrics_)
            metrics_->add("kpiwatch_submissions_total", {{"result", stored ? "accepted" : "failed"}},
                          static_cast<double>(count));
          if (!stored) return on_loop(respond, error_response(stored.error()));
          auto answer = [this, respond, count,
                         stored = std::make_shared<std::vector<Revision>>(std::move(stored.value()))](
                            Store* /*store*/, const Error* /*error*/) {
            json::array revisions;
            for (const auto& r : *stored) revisions.push_back(to_json(r));
            on_loop(
                respond,
                json_response(http::status::created,
                              serialize_json(json::object{{"accepted", count}, {"revisions", std::move(revisions)}})));
          };
          // Committed: it is answered, on the writer if it is small or no reader can take it.
          if (count <= kSmallAnswer || !reads_->post(answer)) answer(nullptr, nullptr);
        });
  };
  if (call.request.body().size() <= kSmallBody) return parse(nullptr, nullptr);
  if (!reads_->post(std::move(parse)))
    respond(error_response(ErrorCode::too_many_connections, "too many requests are waiting; try again in a moment"));
}

}  // namespace kpiwatch
