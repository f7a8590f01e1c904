#pragma once
// Errors as the API answers them: one status per code, one JSON shape.

#include <cstddef>
#include <string>

#include "http/server.hpp"
#include "kpiwatch/error.hpp"
#include "kpiwatch/result.hpp"

namespace kpiwatch {

http::status status_for(ErrorCode code);
// {"error": {"code", "message", "field", "index"}}
std::string error_json(const Error& error);
Response error_response(const Error& error, unsigned version = 11);
Response error_response(ErrorCode code, std::string message);
// An invalid_parameter error naming the query parameter `key`.
Error bad_parameter(std::string key, std::string message);
// ?limit= and ?offset=: a whole number in [min, max], else a bad_parameter naming `key`.
Result<std::size_t> count_parameter(const std::string& key, const std::string& value, std::size_t min, std::size_t max);

}  // namespace kpiwatch
