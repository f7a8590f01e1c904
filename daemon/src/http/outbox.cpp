// The notification outbox (admin): GET /api/v1/outbox and
// POST /api/v1/outbox/{id}/requeue for dead letters.
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cstdlib>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

Response Api::get_outbox(const Call& call, Store& store) const {
  std::optional<OutboxStatus> status;
  int limit = 100;
  for (const auto& [k, v] : call.query) {
    if (OutboxStatus parsed{}; k == "state" && parse_outbox_status(v, parsed))
      status = parsed;
    else if (k == "limit" && std::atoi(v.c_str()) > 0)
      limit = std::min(std::atoi(v.c_str()), 10000);
    else
      return error_response(bad_parameter(
          k, fmt::format("unknown parameter {}={} (state=pending|delivered|dead|suppressed, limit=N)", k, v)));
  }
  auto entries = store.outbox().list(status, limit);
  if (!entries) return error_response(entries.error());
  json::array out;
  for (const auto& e : entries.value())
    out.push_back(json::object{{"id", e.id},
                               {"fingerprint", e.fingerprint},
                               {"receiver", e.receiver},
                               {"event", to_string(e.event)},
                               {"state", to_string(e.status)},
                               {"idempotency_key", e.idempotency_key},
                               {"created_at", e.created_at},
                               {"next_attempt_at", e.next_attempt_at},
                               {"attempts", e.attempts},
                               {"last_error", e.last_error},
                               {"delivered_at", e.delivered_at},
                               {"group_key", e.group_key},
                               {"message_key", e.message_key}});
  return json_response(http::status::ok, serialize_json(json::object{{"notifications", std::move(out)}}));
}

void Api::post_requeue(const Call& call, Respond respond) const {
  auto id = parse_id(call.segment("id"));
  if (!id) return respond(error_response(ErrorCode::unknown_notification, id.error().message));
  write(
      [this, id = id.value(), at = format_rfc3339(clock_->now())](Store& store) {
        auto n = store.outbox().requeue(id, at);
        if (!n) return error_response(n.error());
        if (n.value() == 0)
          return error_response(ErrorCode::unknown_notification, fmt::format("no dead notification {}", id));
        boost::asio::post(io_, [this] {
          if (delivery_) delivery_->wake();
        });
        return json_response(http::status::ok, R"({"status":"requeued"})");
      },
      std::move(respond));
}

}  // namespace kpiwatch
