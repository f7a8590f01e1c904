#pragma once
// The errors a client can act on: one code enum, its names, one shape.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kpiwatch {

// The codes the API and the commands report; to_string gives the stable name
// that clients see (`"code": "invalid_json"`). Each HTTP status is chosen once,
// in daemon/src/http/errors.cpp.
enum class ErrorCode {
  // A request or a file that cannot be read at all.
  bad_request,
  bad_target,
  invalid_parameter,
  invalid_json,
  invalid_csv,
  unknown_column,
  duplicate_column,
  body_too_large,
  headers_too_large,
  unsupported_media_type,
  method_not_allowed,
  // A submission that reads but is not valid.
  invalid_type,
  invalid_period,
  missing_field,
  missing_dimension,
  unknown_field,
  unexpected_field,
  body_not_allowed,
  unknown_kpi,
  unknown_dimension,
  invalid_dimension_value,
  invalid_item,
  duplicate_item,
  too_many_items,
  text_too_long,
  not_finite,
  not_integer,
  out_of_range,
  duplicate_entry,
  empty_batch,
  batch_too_large,
  // Other resources.
  invalid_silence,
  invalid_ack,
  reload_failed,
  not_found,
  unknown_alert,
  unknown_silence,
  unknown_notification,
  // Who asks.
  unauthorized,
  forbidden,
  // The service itself.
  not_ready,
  shutting_down,
  too_many_connections,
  storage_error,
  config_error,
  rules_error,
  listen_failed,
  import_error,
  backup_failed,
};

std::string_view to_string(ErrorCode code);

// An error a client can act on: a stable code, a readable message, and where.
struct Error {
  ErrorCode code = ErrorCode::bad_request;
  std::string message;               // one sentence for a person
  std::string field;                 // e.g. "value", "dims.stage"; empty if none
  std::optional<std::size_t> index;  // position in a batch; line for file imports
};

}  // namespace kpiwatch
