#pragma once
// The errors a client can act on: one code enum, its names, one shape.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kpiwatch {

// The codes the API and the commands report; to_string gives the stable name
// that clients see (`"code": "invalid_json"`). Each HTTP status is chosen once,
// in daemon/src/http/errors.cpp. One list makes both the enum and its names.
#define KPIWATCH_ERROR_CODES(X)                         \
  /* A request or a file that cannot be read at all. */ \
  X(bad_request)                                        \
  X(bad_target)                                         \
  X(invalid_parameter)                                  \
  X(invalid_json)                                       \
  X(invalid_csv)                                        \
  X(invalid_encoding)                                   \
  X(unknown_column)                                     \
  X(duplicate_column)                                   \
  X(body_too_large)                                     \
  X(headers_too_large)                                  \
  X(request_timeout)                                    \
  X(unsupported_media_type)                             \
  X(method_not_allowed)                                 \
  /* A submission that reads but is not valid. */       \
  X(invalid_type)                                       \
  X(invalid_period)                                     \
  X(missing_field)                                      \
  X(missing_dimension)                                  \
  X(unknown_field)                                      \
  X(unexpected_field)                                   \
  X(body_not_allowed)                                   \
  X(unknown_kpi)                                        \
  X(unknown_dimension)                                  \
  X(invalid_dimension_value)                            \
  X(invalid_item)                                       \
  X(duplicate_item)                                     \
  X(too_many_items)                                     \
  X(text_too_long)                                      \
  X(not_finite)                                         \
  X(not_integer)                                        \
  X(out_of_range)                                       \
  X(duplicate_entry)                                    \
  X(empty_batch)                                        \
  X(batch_too_large)                                    \
  /* Other resources. */                                \
  X(invalid_silence)                                    \
  X(invalid_ack)                                        \
  X(reload_failed)                                      \
  X(not_found)                                          \
  X(unknown_alert)                                      \
  X(unknown_silence)                                    \
  X(unknown_notification)                               \
  /* Who asks. */                                       \
  X(unauthorized)                                       \
  X(forbidden)                                          \
  /* The service itself. */                             \
  X(not_ready)                                          \
  X(shutting_down)                                      \
  X(too_many_connections)                               \
  X(storage_error)                                      \
  X(storage_full)                                       \
  X(config_error)                                       \
  X(rules_error)                                        \
  X(listen_failed)                                      \
  X(import_error)                                       \
  X(backup_failed)                                      \
  X(print_failed)

enum class ErrorCode {
#define KPIWATCH_ERROR_CODE(name) name,
  KPIWATCH_ERROR_CODES(KPIWATCH_ERROR_CODE)
#undef KPIWATCH_ERROR_CODE
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
