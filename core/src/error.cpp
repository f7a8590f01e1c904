#include "kpiwatch/error.hpp"

#include <cstddef>
#include <iterator>
#include <utility>

namespace kpiwatch {
namespace {

// Every code and the name clients see, in the order of the enum.
constexpr std::pair<ErrorCode, std::string_view> kNames[] = {
    {ErrorCode::bad_request, "bad_request"},
    {ErrorCode::bad_target, "bad_target"},
    {ErrorCode::invalid_parameter, "invalid_parameter"},
    {ErrorCode::invalid_json, "invalid_json"},
    {ErrorCode::invalid_csv, "invalid_csv"},
    {ErrorCode::unknown_column, "unknown_column"},
    {ErrorCode::duplicate_column, "duplicate_column"},
    {ErrorCode::body_too_large, "body_too_large"},
    {ErrorCode::headers_too_large, "headers_too_large"},
    {ErrorCode::unsupported_media_type, "unsupported_media_type"},
    {ErrorCode::method_not_allowed, "method_not_allowed"},
    {ErrorCode::invalid_type, "invalid_type"},
    {ErrorCode::invalid_period, "invalid_period"},
    {ErrorCode::missing_field, "missing_field"},
    {ErrorCode::missing_dimension, "missing_dimension"},
    {ErrorCode::unknown_field, "unknown_field"},
    {ErrorCode::unexpected_field, "unexpected_field"},
    {ErrorCode::body_not_allowed, "body_not_allowed"},
    {ErrorCode::unknown_kpi, "unknown_kpi"},
    {ErrorCode::unknown_dimension, "unknown_dimension"},
    {ErrorCode::invalid_dimension_value, "invalid_dimension_value"},
    {ErrorCode::invalid_item, "invalid_item"},
    {ErrorCode::duplicate_item, "duplicate_item"},
    {ErrorCode::too_many_items, "too_many_items"},
    {ErrorCode::text_too_long, "text_too_long"},
    {ErrorCode::not_finite, "not_finite"},
    {ErrorCode::not_integer, "not_integer"},
    {ErrorCode::out_of_range, "out_of_range"},
    {ErrorCode::duplicate_entry, "duplicate_entry"},
    {ErrorCode::empty_batch, "empty_batch"},
    {ErrorCode::batch_too_large, "batch_too_large"},
    {ErrorCode::invalid_silence, "invalid_silence"},
    {ErrorCode::invalid_ack, "invalid_ack"},
    {ErrorCode::reload_failed, "reload_failed"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::unknown_alert, "unknown_alert"},
    {ErrorCode::unknown_silence, "unknown_silence"},
    {ErrorCode::unknown_notification, "unknown_notification"},
    {ErrorCode::unauthorized, "unauthorized"},
    {ErrorCode::forbidden, "forbidden"},
    {ErrorCode::not_ready, "not_ready"},
    {ErrorCode::shutting_down, "shutting_down"},
    {ErrorCode::too_many_connections, "too_many_connections"},
    {ErrorCode::storage_error, "storage_error"},
    {ErrorCode::config_error, "config_error"},
    {ErrorCode::rules_error, "rules_error"},
    {ErrorCode::listen_failed, "listen_failed"},
    {ErrorCode::import_error, "import_error"},
    {ErrorCode::backup_failed, "backup_failed"},
};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i].first != static_cast<ErrorCode>(i)) return false;
  return std::size(kNames) == static_cast<std::size_t>(ErrorCode::backup_failed) + 1;
}
static_assert(in_enum_order(), "kNames names every ErrorCode, in order");

}  // namespace

std::string_view to_string(ErrorCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < std::size(kNames) ? kNames[i].second : "error";
}

}  // namespace kpiwatch
