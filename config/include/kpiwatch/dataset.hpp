#pragma once
// Files shipped inside the binary.

#include <string>
#include <string_view>

namespace kpiwatch {

// The bundled dataset (config/dataset/bundled.json): every figure of the
// follow-up report, in the submissions format of the HTTP API.
std::string_view bundled_dataset_json();
// Identifies this version of the bundled dataset, so it is loaded once.
std::string bundled_dataset_version();

// The documented example configuration (config/kpiwatch.example.toml).
std::string_view example_config_toml();

}  // namespace kpiwatch
