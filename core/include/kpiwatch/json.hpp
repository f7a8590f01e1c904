#pragma once
// JSON text as people read it: every JSON that kpiwatch writes goes through serialize_json.

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

// The shortest decimal that reads back as the same double, in plain notation from 1e-6 up to 1e21
// (as JavaScript does): 33.1, 0.6, 2, -0.25; outside that range 1e+21, 1e-07.
// A whole number has no fraction ("2", not "2.0"); -0 is "0".
// REQUIRES: value is finite; throws std::invalid_argument otherwise.
std::string shortest_decimal(double value);

// Serializes like boost::json::serialize, except that doubles are written by shortest_decimal
// (Boost.JSON 1.81 writes 33.1 as "3.31E1"); a NaN or infinity is written as null.
std::string serialize_json(const boost::json::value& value);

// Parses one JSON text strictly, as kpiwatch reads what people send: a key written twice in one
// object, bytes that are not UTF-8, or anything Boost.JSON refuses is an invalid_json error
// naming the line and column (and, for a repeated key, the key and its JSON pointer).
Result<boost::json::value> parse_json(std::string_view text, const boost::json::parse_options& options = {});

}  // namespace kpiwatch
