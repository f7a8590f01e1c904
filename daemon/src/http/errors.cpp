#include "http/errors.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace json = boost::json;

// Every code is listed, so a new one does not compile until it has a status.
http::status status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request:
    case ErrorCode::bad_target:
    case ErrorCode::invalid_parameter:
    case ErrorCode::invalid_json:
    case ErrorCode::invalid_csv:
    case ErrorCode::invalid_encoding:
      return http::status::bad_request;
    case ErrorCode::body_too_large:
    case ErrorCode::batch_too_large:
      return http::status::payload_too_large;
    case ErrorCode::headers_too_large:
      return http::status::request_header_fields_too_large;
    case ErrorCode::request_timeout:
      return http::status::request_timeout;
    case ErrorCode::unsupported_media_type:
      return http::status::unsupported_media_type;
    case ErrorCode::method_not_allowed:
      return http::status::method_not_allowed;
    case ErrorCode::not_found:
    case ErrorCode::unknown_alert:
    case ErrorCode::unknown_silence:
    case ErrorCode::unknown_notification:
      return http::status::not_found;
    case ErrorCode::unauthorized:
      return http::status::unauthorized;
    case ErrorCode::forbidden:
      return http::status::forbidden;
    case ErrorCode::not_ready:
    case ErrorCode::shutting_down:
    case ErrorCode::too_many_connections:
    case ErrorCode::storage_full:
      return http::status::service_unavailable;
    case ErrorCode::storage_error:
    case ErrorCode::config_error:
    case ErrorCode::rules_error:
    case ErrorCode::listen_failed:
    case ErrorCode::import_error:
    case ErrorCode::backup_failed:
    case ErrorCode::print_failed:
      return http::status::internal_server_error;
    case ErrorCode::unknown_column:
    case ErrorCode::duplicate_column:
    case ErrorCode::invalid_type:
    case ErrorCode::invalid_period:
    case ErrorCode::missing_field:
    case ErrorCode::missing_dimension:
    case ErrorCode::unknown_field:
    case ErrorCode::unexpected_field:
    case ErrorCode::body_not_allowed:
    case ErrorCode::unknown_kpi:
    case ErrorCode::unknown_dimension:
    case ErrorCode::invalid_dimension_value:
    case ErrorCode::invalid_item:
    case ErrorCode::duplicate_item:
    case ErrorCode::too_many_items:
    case ErrorCode::text_too_long:
    case ErrorCode::not_finite:
    case ErrorCode::not_integer:
    case ErrorCode::out_of_range:
    case ErrorCode::duplicate_entry:
    case ErrorCode::empty_batch:
    case ErrorCode::invalid_silence:
    case ErrorCode::invalid_ack:
    case ErrorCode::reload_failed:
      return http::status::unprocessable_entity;
  }
  return http::status::internal_server_error;
}

std::string error_json(const Error& error) {
  json::object e{{"code", to_string(error.code)}, {"message", error.message}, {"field", error.field}};
  e["index"] = error.index ? json::value(*error.index) : json::value(nullptr);
  return serialize_json(json::object{{"error", std::move(e)}});
}

Response error_response(const Error& error, unsigned version) {
  return json_response(status_for(error.code), error_json(error), version);
}

Response error_response(ErrorCode code, std::string message) {
  return error_response(Error{code, std::move(message), "", {}});
}

Error bad_parameter(std::string key, std::string message) {
  return Error{ErrorCode::invalid_parameter, std::move(message), std::move(key), {}};
}

Result<std::size_t> count_parameter(const std::string& key, const std::string& value, std::size_t min,
                                    std::size_t max) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty() || n < min || n > max)
    return bad_parameter(key,
                         fmt::format("\"{}\" must be a whole number from {} to {}, not \"{}\"", key, min, max, value));
  return n;
}

}  // namespace kpiwatch
