#pragma once
// The dimensions of a series (stage=all, platform=...), and their canonical key.

#include <map>
#include <string>
#include <string_view>

namespace kpiwatch {

// Dimension name → value, every dimension of the KPI present (defaults filled in).
using Dims = std::map<std::string, std::string>;

// "phase=basic,stage=all": the canonical key of a series within its KPI (names sorted).
std::string dims_key(const Dims& dims);
// Reads what dims_key writes.
Dims parse_dims_key(std::string_view key);

}  // namespace kpiwatch
