#pragma once
// JSON text as people read it: every JSON that kpiwatch writes goes through serialize_json.

#include <boost/json/value.hpp>
#include <string>

namespace kpiwatch {

// The shortest decimal that reads back as the same double, in plain notation from 1e-6 up to 1e21
// (as JavaScript does): 33.1, 0.6, 2, -0.25; outside that range 1e+21, 1e-07.
// A whole number has no fraction ("2", not "2.0"); -0 is "0".
// REQUIRES: value is finite; throws std::invalid_argument otherwise.
std::string shortest_decimal(double value);

// Serializes like boost::json::serialize, except that doubles are written by shortest_decimal
// (Boost.JSON 1.81 writes 33.1 as "3.31E1"); a NaN or infinity is written as null.
std::string serialize_json(const boost::json::value& value);

}  // namespace kpiwatch
