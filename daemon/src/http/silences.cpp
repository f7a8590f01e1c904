// Silences (admin): GET and POST /api/v1/silences, DELETE /api/v1/silences/{id}.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/log.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

json::object silence_json(const Silence& s) {
  json::object matchers;
  for (const auto& [k, v] : s.matchers) matchers[k] = v;
  return json::object{{"id", s.id},
                      {"matchers", std::move(matchers)},
                      {"starts_at", s.starts_at},
                      {"ends_at", s.ends_at},
                      {"created_by", s.created_by},
                      {"comment", s.comment},
                      {"created_at", s.created_at}};
}

Error invalid_silence(std::string field, std::string message) {
  return Error{ErrorCode::invalid_silence, std::move(message), std::move(field), {}};
}

// The matchers and times of a silence; `now` is its default start.
Result<Silence> silence_from_json(std::string_view text, TimePoint now) {
  auto parsed = parse_json(text);
  if (!parsed) return parsed.error();
  const auto& body = parsed.value();
  if (!body.is_object())
    return invalid_silence("", "a silence is a JSON object: {\"matchers\": {...}, \"ends_at\": ...}");
  const auto& o = body.get_object();
  for (const auto& member : o)
    if (member.key() != "matchers" && member.key() != "starts_at" && member.key() != "ends_at" &&
        member.key() != "comment")
      return invalid_silence(
          std::string(member.key()),
          fmt::format("unknown field \"{}\" (matchers, starts_at, ends_at, comment)", std::string_view(member.key())));
  Silence silence;
  const auto* matchers = o.if_contains("matchers");
  if (!matchers || !matchers->is_object() || matchers->get_object().empty())
    return invalid_silence("matchers", "\"matchers\" must be a non-empty object of label = value");
  for (const auto& [k, v] : matchers->get_object()) {
    if (!v.is_string()) return invalid_silence("matchers." + std::string(k), "matcher values must be strings");
    silence.matchers[std::string(k)] = std::string(v.get_string());
  }
  auto time_field = [&](const char* name, std::optional<TimePoint> fallback) -> std::optional<TimePoint> {
    const auto* v = o.if_contains(name);
    if (!v) return fallback;
    if (!v->is_string()) return std::nullopt;
    return parse_rfc3339(v->get_string());
  };
  auto starts = time_field("starts_at", now);
  if (!starts)
    return invalid_silence("starts_at", "\"starts_at\" must be an RFC 3339 UTC time, e.g. 2025-07-01T00:00:00Z");
  auto ends = time_field("ends_at", std::nullopt);
  if (!ends)
    return invalid_silence("ends_at", "\"ends_at\" is required: an RFC 3339 UTC time, e.g. 2025-07-01T00:00:00Z");
  if (*ends <= *starts) return invalid_silence("ends_at", "\"ends_at\" must be after \"starts_at\"");
  if (const auto* c = o.if_contains("comment"); c && c->is_string()) silence.comment = std::string(c->get_string());
  silence.starts_at = format_rfc3339(*starts);
  silence.ends_at = format_rfc3339(*ends);
  return silence;
}

}  // namespace

void Api::post_silence(const Call& call, Respond respond) const {
  auto now = clock_->now();
  auto parsed = silence_from_json(call.request.body(), now);
  if (!parsed) return respond(error_response(parsed.error()));
  Silence silence = std::move(parsed.value());
  silence.created_by = call.token->name;
  silence.created_at = format_rfc3339(now);
  write(
      [silence, events = events_](Store& store) {
        auto id = store.silences().add(silence);
        if (!id) return error_response(id.error());
        if (events) events->publish("silence", serialize_json(json::object{{"id", id.value()}, {"action", "created"}}));
        log_event(LogLevel::info,
                  fmt::format("silence {} created by {} until {}: {}", id.value(), silence.created_by, silence.ends_at,
                              silence.comment),
                  {{"SILENCE", std::to_string(id.value())}});
        return json_response(http::status::created, serialize_json(json::object{{"id", id.value()}}));
      },
      std::move(respond));
}

void Api::delete_silence(const Call& call, Respond respond) const {
  auto id = parse_id(call.segment("id"));
  if (!id) return respond(error_response(ErrorCode::unknown_silence, id.error().message));
  write(
      [id = id.value(), at = format_rfc3339(clock_->now()), by = call.token->name, events = events_](Store& store) {
        auto deleted = store.silences().remove(id, at);
        if (!deleted) return error_response(deleted.error());
        if (!deleted.value()) return error_response(ErrorCode::unknown_silence, fmt::format("no silence {}", id));
        if (events) events->publish("silence", serialize_json(json::object{{"id", id}, {"action", "expired"}}));
        log_event(LogLevel::info, fmt::format("silence {} removed by {}", id, by), {{"SILENCE", std::to_string(id)}});
        return json_response(http::status::ok, R"({"status":"deleted"})");
      },
      std::move(respond));
}

Response Api::get_silences(const Call& /*call*/, Store& store) const {
  auto silences = store.silences().all();
  if (!silences) return error_response(silences.error());
  std::string now = format_rfc3339(clock_->now());
  json::array out;
  for (const auto& s : silences.value())
    if (s.ends_at > now) out.push_back(silence_json(s));
  return json_response(http::status::ok, serialize_json(json::object{{"silences", std::move(out)}}));
}

}  // namespace kpiwatch
